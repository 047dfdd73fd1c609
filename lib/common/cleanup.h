/*
 * cleanup.h - scope-bound ownership (GCC/Clang cleanup attribute) and hand-over helpers.
 *
 *   AUTOFREE char *s = strdup(x);      freed with free() when s goes out of scope
 *   AUTOCLOSE int fd = open(...);      closed when fd goes out of scope (if >= 0)
 *   return steal_ptr(&s);              hand ownership out; the variable becomes NULL
 */
#ifndef HCS_COMMON_CLEANUP_H
#define HCS_COMMON_CLEANUP_H

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "error.h"

static inline void hcs_cleanup_free(void *p)
{
    free(*(void **)p);
}
static inline void hcs_cleanup_close(const int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}
static inline void hcs_cleanup_json(cJSON **j)
{
    cJSON_Delete(*j);
}
static inline void hcs_cleanup_err(hcs_error **e)
{
    hcs_err_free(*e);
}

#define AUTOFREE __attribute__((cleanup(hcs_cleanup_free)))
#define AUTOCLOSE __attribute__((cleanup(hcs_cleanup_close)))
#define AUTOJSON __attribute__((cleanup(hcs_cleanup_json)))
#define AUTOERR __attribute__((cleanup(hcs_cleanup_err)))

static inline void *hcs_steal_ptr(void *pp)
{
    void **p = (void **)pp;
    void *v = *p;
    *p = NULL;
    return v;
}
#define steal_ptr(pp) hcs_steal_ptr(pp)

static inline int steal_fd(int *fd)
{
    int v = *fd;
    *fd = -1;
    return v;
}

#define HCS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
