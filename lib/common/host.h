/* host.h - what this host offers (cgroup mode, overlayfs, KVM, user namespaces). */
#ifndef HCS_COMMON_HOST_H
#define HCS_COMMON_HOST_H

#include <stdbool.h>

enum hcs_cgroup_mode { HCS_CGROUP_UNKNOWN = 0, HCS_CGROUP_V1, HCS_CGROUP_V2, HCS_CGROUP_HYBRID };

typedef struct {
    enum hcs_cgroup_mode cgroup_mode;
    bool overlayfs;       /* "overlay" in /proc/filesystems */
    bool kvm;             /* /dev/kvm can be opened read-write */
    bool user_namespaces; /* /proc/sys/user/max_user_namespaces > 0 */
    char kernel_release[65];
} hcs_host_info;

/* Probe the host; mount_root is normally "/" (tests pass a fake tree). Never fails. */
void hcs_host_probe(const char *mount_root, hcs_host_info *out);

const char *hcs_cgroup_mode_name(enum hcs_cgroup_mode m);

#endif
