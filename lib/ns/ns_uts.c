/* ns_uts.c - the host name of a silo (uts namespace). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ns.h"

/* HOST_NAME_MAX on Linux: the kernel's __NEW_UTS_LEN. */
#define HCS_NS_HOSTNAME_MAX 64

int hcs_ns_set_hostname(const char *hostname, hcs_error **err)
{
    if (hostname == NULL || hostname[0] == '\0')
        return 0;
    size_t len = strlen(hostname);
    if (len > HCS_NS_HOSTNAME_MAX)
        return hcs_err_set(err, E_INVALIDARG,
                           "host name \"%.16s...\" is %zu bytes long; at most %d", hostname, len,
                           HCS_NS_HOSTNAME_MAX);
    if (sethostname(hostname, len) < 0)
        return hcs_err_errno(err, errno, "set the host name to %s", hostname);
    return 0;
}
