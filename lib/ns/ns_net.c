/* ns_net.c - the network namespace of a silo: loopback up, or join an existing namespace. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "ns.h"

int hcs_ns_loopback_up(hcs_error **err)
{
    AUTOCLOSE int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return hcs_err_errno(err, errno, "bring up lo: socket");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strncpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name) - 1);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return hcs_err_errno(err, errno, "bring up lo: read its flags");
    if (ifr.ifr_flags & IFF_UP)
        return 0;
    ifr.ifr_flags = (short)(ifr.ifr_flags | IFF_UP);
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        return hcs_err_errno(err, errno, "bring up lo");
    return 0;
}

static const char *ns_type_name(int type)
{
    switch (type) {
    case CLONE_NEWNS:
        return "a mount";
    case CLONE_NEWUTS:
        return "a uts";
    case CLONE_NEWIPC:
        return "an ipc";
    case CLONE_NEWPID:
        return "a pid";
    case CLONE_NEWUSER:
        return "a user";
    case CLONE_NEWCGROUP:
        return "a cgroup";
    default:
        return "another";
    }
}

int hcs_ns_join_net(const char *path, hcs_error **err)
{
    if (path == NULL || path[0] == '\0')
        return hcs_err_set(err, E_INVALIDARG, "Networking.Namespace: no path given");
    AUTOCLOSE int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hcs_err_errno(err, errno, "Networking.Namespace: %s", path);
    struct statfs sfs;
    if (fstatfs(fd, &sfs) < 0)
        return hcs_err_errno(err, errno, "Networking.Namespace: %s", path);
    if (sfs.f_type != NSFS_MAGIC)
        return hcs_err_set(err, E_INVALIDARG,
                           "Networking.Namespace: %s is not a namespace file (expected a "
                           "/run/netns/NAME or /proc/PID/ns/net file)",
                           path);
    int type = ioctl(fd, NS_GET_NSTYPE);
    if (type >= 0 && type != CLONE_NEWNET)
        return hcs_err_set(err, E_INVALIDARG,
                           "Networking.Namespace: %s is %s namespace, not a network namespace",
                           path, ns_type_name(type));
    if (setns(fd, CLONE_NEWNET) < 0)
        return hcs_err_errno(err, errno, "Networking.Namespace: join %s", path);
    return 0;
}
