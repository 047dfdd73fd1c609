/* monitor_path.c - locate hcsmon. */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "monitor_path.h"

#ifndef HCS_LIBEXECDIR
#define HCS_LIBEXECDIR "/usr/local/libexec/hcs"
#endif

static int usable(const char *p)
{
    return p != NULL && access(p, X_OK) == 0;
}

int hcs_monitor_path(char **out, hcs_error **err)
{
    const char *env = getenv("HCS_MONITOR_PATH");
    if (env != NULL && env[0] != '\0') {
        if (!usable(env))
            return hcs_err_set(err, HCS_E_SERVICE_NOT_AVAILABLE,
                               "HCS_MONITOR_PATH=%s is not an executable file", env);
        return (*out = strdup(env)) ? 0 : hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    }
    Dl_info info;
    char self[PATH_MAX] = "";
    if (dladdr((void *)hcs_monitor_path, &info) != 0 && info.dli_fname != NULL &&
        realpath(info.dli_fname, self) != NULL) {
        char *dir = dirname(self);
        const char *rel[] = {"hcsmon", "../hcsmon", "../libexec/hcs/hcsmon"};
        for (size_t i = 0; i < HCS_ARRAY_SIZE(rel); i++) {
            AUTOFREE char *c = hcs_asprintf("%s/%s", dir, rel[i]);
            if (usable(c)) {
                *out = steal_ptr(&c);
                return 0;
            }
        }
    }
    if (usable(HCS_LIBEXECDIR "/hcsmon"))
        return (*out = strdup(HCS_LIBEXECDIR "/hcsmon"))
                   ? 0
                   : hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    return hcs_err_set(err, HCS_E_SERVICE_NOT_AVAILABLE,
                       "the compute system monitor hcsmon was not found (looked beside %s and in "
                       "%s; set HCS_MONITOR_PATH)",
                       self[0] ? self : "the library", HCS_LIBEXECDIR);
}
