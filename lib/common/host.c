/* host.c - host capability probing. */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cleanup.h"
#include "host.h"
#include "util.h"

static long fs_type(const char *root, const char *path)
{
    AUTOFREE char *p = hcs_asprintf("%s%s", root, path);
    struct statfs st;
    if (p == NULL || statfs(p, &st) < 0)
        return -1;
    return (long)st.f_type;
}

static enum hcs_cgroup_mode cgroup_mode(const char *root)
{
    long t = fs_type(root, "/sys/fs/cgroup");
    if (t == CGROUP2_SUPER_MAGIC)
        return HCS_CGROUP_V2;
    if (t != TMPFS_MAGIC)
        return HCS_CGROUP_UNKNOWN;
    /* v1 controllers on a tmpfs; a cgroup2 mount beside them makes it hybrid. */
    if (fs_type(root, "/sys/fs/cgroup/unified") == CGROUP2_SUPER_MAGIC)
        return HCS_CGROUP_HYBRID;
    return HCS_CGROUP_V1;
}

static bool file_has_word(const char *path, const char *word)
{
    AUTOFREE char *text = NULL;
    if (hcs_read_file_at(AT_FDCWD, path, 1 << 16, &text, NULL, NULL) < 0)
        return false;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char *tab = strrchr(line, '\t');
        const char *name = tab ? tab + 1 : line;
        if (strcmp(name, word) == 0)
            return true;
    }
    return false;
}

void hcs_host_probe(const char *mount_root, hcs_host_info *out)
{
    memset(out, 0, sizeof(*out));
    const char *root = strcmp(mount_root, "/") == 0 ? "" : mount_root;
    out->cgroup_mode = cgroup_mode(root);
    AUTOFREE char *fs = hcs_asprintf("%s/proc/filesystems", root);
    out->overlayfs = fs && file_has_word(fs, "overlay");
    AUTOFREE char *kvm = hcs_asprintf("%s/dev/kvm", root);
    int fd = kvm ? open(kvm, O_RDWR | O_CLOEXEC) : -1;
    out->kvm = fd >= 0;
    if (fd >= 0)
        close(fd);
    AUTOFREE char *userns = hcs_asprintf("%s/proc/sys/user/max_user_namespaces", root);
    AUTOFREE char *v = NULL;
    if (userns && hcs_read_file_at(AT_FDCWD, userns, 64, &v, NULL, NULL) == 0)
        out->user_namespaces = strtol(v, NULL, 10) > 0;
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(out->kernel_release, sizeof(out->kernel_release), "%s", u.release);
}

const char *hcs_cgroup_mode_name(enum hcs_cgroup_mode m)
{
    switch (m) {
    case HCS_CGROUP_V1:
        return "v1";
    case HCS_CGROUP_V2:
        return "v2";
    case HCS_CGROUP_HYBRID:
        return "hybrid";
    default:
        return "unknown";
    }
}
