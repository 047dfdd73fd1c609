/*
 * ns_root.c - hcs_ns_enter_root: the container's mount tree and the switch into it.
 *
 * Order: private propagation, the union, /proc, /dev, /sys, mapped directories, masked and
 * read-only paths (last, so nothing mounted later uncovers them), pivot_root.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "ns.h"
#include "ns_internal.h"

static const char *const default_masked[] = {
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
};

static const char *const default_readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

const char *const *hcs_ns_default_masked_paths(size_t *n)
{
    *n = HCS_ARRAY_SIZE(default_masked);
    return default_masked;
}

const char *const *hcs_ns_default_readonly_paths(size_t *n)
{
    *n = HCS_ARRAY_SIZE(default_readonly);
    return default_readonly;
}

static int mount_proc(int rootfd, const char *where, hcs_error **err)
{
    AUTOCLOSE int target = -1;
    if (hcs_ns_system_target(rootfd, where, "proc", &target, err) < 0)
        return -1;
    AUTOCLOSE int mnt = -1;
    if (hcs_ns_new_fs("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, &mnt,
                      err) < 0)
        return hcs_err_wrap(err, "mount proc at %s/proc", where);
    if (hcs_ns_attach(mnt, target) < 0)
        return hcs_err_errno(err, errno, "mount proc at %s/proc", where);
    return 0;
}

static int mount_sys(int rootfd, const char *where, hcs_error **err)
{
    const unsigned int attrs =
        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    AUTOCLOSE int target = -1;
    if (hcs_ns_system_target(rootfd, where, "sys", &target, err) < 0)
        return -1;
    AUTOCLOSE int mnt = -1;
    AUTOERR hcs_error *sys_err = NULL;
    if (hcs_ns_new_fs("sysfs", NULL, attrs, &mnt, &sys_err) < 0) {
        if (sys_err->hr != E_ACCESSDENIED) {
            hcs_err_move(err, &sys_err);
            return hcs_err_wrap(err, "mount sysfs at %s/sys", where);
        }
        /*
         * sysfs refuses (EPERM) when the network namespace is not owned by our user namespace:
         * a read-only recursive bind of the host's /sys is the next best view.
         */
        if (hcs_ns_clone_tree(AT_FDCWD, "/sys", true, attrs, &mnt, err) < 0)
            return hcs_err_wrap(err, "bind the host /sys read-only at %s/sys", where);
    }
    if (hcs_ns_attach(mnt, target) < 0)
        return hcs_err_errno(err, errno, "mount sysfs at %s/sys", where);
    return 0;
}

static int mount_mapped(int rootfd, const char *where, size_t i, const hcs_ns_mount *m,
                        hcs_error **err)
{
    if (m->host_path == NULL || m->host_path[0] != '/')
        return hcs_err_set(err, E_INVALIDARG,
                           "MappedDirectories[%zu]: host path %s is not absolute", i,
                           m->host_path ? m->host_path : "(null)");
    if (m->container_path == NULL || m->container_path[0] != '/')
        return hcs_err_set(err, E_INVALIDARG,
                           "MappedDirectories[%zu]: container path %s is not absolute", i,
                           m->container_path ? m->container_path : "(null)");
    AUTOCLOSE int src = open(m->host_path, O_PATH | O_CLOEXEC);
    if (src < 0)
        return hcs_err_errno(err, errno, "MappedDirectories[%zu]: host path %s", i, m->host_path);
    struct stat st;
    if (fstat(src, &st) < 0)
        return hcs_err_errno(err, errno, "MappedDirectories[%zu]: host path %s", i, m->host_path);
    AUTOCLOSE int tree = -1;
    if (hcs_ns_clone_tree(src, "", true, m->read_only ? MOUNT_ATTR_RDONLY : 0, &tree, err) < 0)
        return hcs_err_wrap(err, "MappedDirectories[%zu]: bind %s", i, m->host_path);
    AUTOCLOSE int target = -1;
    if (hcs_ns_make_target(rootfd, where, m->container_path, S_ISDIR(st.st_mode), &target, err) < 0)
        return hcs_err_wrap(err, "MappedDirectories[%zu]: mount point", i);
    if (hcs_ns_attach(tree, target) < 0)
        return hcs_err_errno(err, errno, "MappedDirectories[%zu]: bind %s at %s%s", i, m->host_path,
                             where, m->container_path);
    return 0;
}

/* Open path inside the root for masking; 1 when it does not exist. */
static int open_existing(int rootfd, const char *where, const char *path, int *out, hcs_error **err)
{
    if (path == NULL || path[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "%s is not an absolute path", path ? path : "(null)");
    *out = hcs_ns_open_in_root(rootfd, path, O_PATH);
    if (*out >= 0)
        return 0;
    if (errno == ENOENT || errno == ENOTDIR)
        return 1;
    return hcs_err_errno(err, errno, "open %s%s", where, path);
}

static int mask_path(int rootfd, const char *where, const char *path, hcs_error **err)
{
    AUTOCLOSE int target = -1;
    int rc = open_existing(rootfd, where, path, &target, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    struct stat st;
    if (fstat(target, &st) < 0)
        return hcs_err_errno(err, errno, "mask %s%s", where, path);
    AUTOCLOSE int mnt = -1;
    if (S_ISDIR(st.st_mode)) {
        if (hcs_ns_new_fs("tmpfs", NULL,
                          MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                              MOUNT_ATTR_NOEXEC,
                          &mnt, err) < 0)
            return hcs_err_wrap(err, "mask %s%s", where, path);
    } else if (hcs_ns_clone_tree(AT_FDCWD, "/dev/null", false, 0, &mnt, err) < 0) {
        return hcs_err_wrap(err, "mask %s%s with /dev/null", where, path);
    }
    if (hcs_ns_attach(mnt, target) < 0)
        return hcs_err_errno(err, errno, "mask %s%s", where, path);
    return 0;
}

static int readonly_path(int rootfd, const char *where, const char *path, hcs_error **err)
{
    AUTOCLOSE int target = -1;
    int rc = open_existing(rootfd, where, path, &target, err);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    AUTOCLOSE int mnt = -1;
    if (hcs_ns_clone_tree(target, "", true, MOUNT_ATTR_RDONLY, &mnt, err) < 0)
        return hcs_err_wrap(err, "make %s%s read-only", where, path);
    if (hcs_ns_attach(mnt, target) < 0)
        return hcs_err_errno(err, errno, "make %s%s read-only", where, path);
    return 0;
}

/* Make the root (open as rootfd) "/" and drop every host mount from view. */
static int switch_root(int rootfd, const char *where, hcs_error **err)
{
    if (fchdir(rootfd) < 0)
        return hcs_err_errno(err, errno, "change into %s", where);
    if (syscall(SYS_pivot_root, ".", ".") == 0) {
        /* The old root is now stacked on "."; detach it (private, so the host keeps it). */
        if (umount2(".", MNT_DETACH) < 0)
            return hcs_err_errno(err, errno, "detach the old root after pivot_root into %s", where);
    } else {
        int e = errno;
        struct statfs sfs;
        /*
         * pivot_root cannot leave an initramfs root (rootfs): the guest agent of a utility VM
         * runs there. Move the new root over "/" and chroot, as runc --no-pivot does.
         */
        if (e != EINVAL || statfs("/", &sfs) < 0 ||
            (sfs.f_type != RAMFS_MAGIC && sfs.f_type != TMPFS_MAGIC))
            return hcs_err_errno(err, e, "pivot_root into %s", where);
        if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
            return hcs_err_errno(err, errno, "move %s over the initramfs root", where);
        if (chroot(".") < 0)
            return hcs_err_errno(err, errno, "chroot into %s", where);
    }
    if (chdir("/") < 0)
        return hcs_err_errno(err, errno, "change into the new root");
    return 0;
}

int hcs_ns_enter_root(const hcs_ns_root *root, hcs_error **err)
{
    if (root == NULL)
        return hcs_err_set(err, E_INVALIDARG, "no root given");
    const char *where = root->mountpoint;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return hcs_err_errno(err, errno, "make every mount private (mount --make-rprivate /)");

    AUTOCLOSE int rootpath = -1;
    if (hcs_ns_mount_union(root, HCS_LAYER_UNION_AUTO, &rootpath, err) < 0)
        return -1;
    /* A regular descriptor of the root's top (fchdir and *at calls on it). */
    AUTOCLOSE int rootfd = openat(rootpath, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return hcs_err_errno(err, errno, "open the root %s", where);

    if (mount_proc(rootfd, where, err) < 0 ||
        hcs_ns_mount_dev(rootfd, where, root->registry_socket, err) < 0 ||
        mount_sys(rootfd, where, err) < 0)
        return -1;
    for (size_t i = 0; i < root->n_mounts; i++)
        if (mount_mapped(rootfd, where, i, &root->mounts[i], err) < 0)
            return -1;

    size_t n_masked = root->n_masked_paths, n_ro = root->n_readonly_paths;
    const char *const *masked = root->masked_paths;
    const char *const *ro = root->readonly_paths;
    if (masked == NULL)
        masked = hcs_ns_default_masked_paths(&n_masked);
    if (ro == NULL)
        ro = hcs_ns_default_readonly_paths(&n_ro);
    for (size_t i = 0; i < n_masked; i++)
        if (mask_path(rootfd, where, masked[i], err) < 0)
            return -1;
    for (size_t i = 0; i < n_ro; i++)
        if (readonly_path(rootfd, where, ro[i], err) < 0)
            return -1;
    return switch_root(rootfd, where, err);
}
