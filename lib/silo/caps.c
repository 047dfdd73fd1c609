/* caps.c - Docker's default capability set for container processes (libcap). */
#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "silo.h"

static const cap_value_t default_caps[] = {
    CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
    CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
    CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
    CAP_KILL,    CAP_AUDIT_WRITE,
};

static bool in_default(cap_value_t c)
{
    for (size_t i = 0; i < sizeof(default_caps) / sizeof(default_caps[0]); i++)
        if (default_caps[i] == c)
            return true;
    return false;
}

int hcs_caps_apply_default(hcs_error **err)
{
    /*
     * Bounding set first (needs CAP_SETPCAP, which we still have). A capability this kernel
     * does not know is EINVAL: no need to ask first (a system call per capability saved).
     */
    for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
        if (!in_default(c) && cap_drop_bound(c) < 0 && errno != EINVAL)
            return hcs_err_errno(err, errno, "drop capability %d from the bounding set", (int)c);
    cap_t caps = cap_init();
    if (caps == NULL)
        return hcs_err_errno(err, errno, "allocate capabilities");
    int n = (int)(sizeof(default_caps) / sizeof(default_caps[0]));
    int rc = 0;
    if (cap_set_flag(caps, CAP_EFFECTIVE, n, default_caps, CAP_SET) < 0 ||
        cap_set_flag(caps, CAP_PERMITTED, n, default_caps, CAP_SET) < 0 ||
        cap_set_flag(caps, CAP_INHERITABLE, n, default_caps, CAP_SET) < 0 || cap_set_proc(caps) < 0)
        rc = hcs_err_errno(err, errno, "set the default capabilities");
    cap_free(caps);
    /* No ambient capabilities: a non-root user keeps none after exec, as with Docker. */
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    return rc;
}
