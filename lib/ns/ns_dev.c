/*
 * ns_dev.c - the container's /dev: a small tmpfs with the standard device nodes of the host
 * (made with mknod, or bound from the host where mknod is refused), a private devpts instance,
 * shm and mqueue, and the usual symlinks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "ns_internal.h"

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};

static const struct {
    const char *name, *target;
} dev_links[] = {
    {"ptmx", "pts/ptmx"},          {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
};

/*
 * The host's /dev/<name> in the new /dev (devfd): a node of the same device made with mknod
 * (what runc does outside a user namespace), or where mknod is not allowed, the host's node
 * bound onto an empty file of that name. A node costs a fraction of a bind mount, here and
 * again when the silo's mount namespace is torn down.
 */
static int bind_node(int devfd, const char *where, const char *name, hcs_error **err)
{
    char host[64];
    snprintf(host, sizeof(host), "/dev/%s", name);
    struct stat st;
    if (stat(host, &st) < 0)
        return hcs_err_errno(err, errno, "host device %s", host);
    if (!S_ISCHR(st.st_mode))
        return hcs_err_set(err, E_INVALIDARG, "host %s is not a character device", host);
    if (mknodat(devfd, name, S_IFCHR | 0666, st.st_rdev) == 0) {
        /* The mode without the umask, as the host's standard nodes have it. */
        if (fchmodat(devfd, name, 0666, 0) < 0)
            return hcs_err_errno(err, errno, "set the mode of %s/dev/%s", where, name);
        return 0;
    }
    if (errno != EPERM)
        return hcs_err_errno(err, errno, "create %s/dev/%s", where, name);
    AUTOCLOSE int f =
        openat(devfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (f < 0)
        return hcs_err_errno(err, errno, "create %s/dev/%s", where, name);
    AUTOCLOSE int target = openat(devfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (target < 0)
        return hcs_err_errno(err, errno, "open %s/dev/%s", where, name);
    AUTOCLOSE int tree = -1;
    if (hcs_ns_clone_tree(AT_FDCWD, host, false, 0, &tree, err) < 0)
        return hcs_err_wrap(err, "bind %s at %s/dev/%s", host, where, name);
    if (hcs_ns_attach(tree, target) < 0)
        return hcs_err_errno(err, errno, "bind %s at %s/dev/%s", host, where, name);
    return 0;
}

/* Mount a new fstype at devfd/name (a folder created here). */
static int mount_sub(int devfd, const char *where, const char *name, const char *fstype,
                     const char *const *options, unsigned int attrs, hcs_error **err)
{
    if (mkdirat(devfd, name, 0755) < 0)
        return hcs_err_errno(err, errno, "create %s/dev/%s", where, name);
    AUTOCLOSE int target = openat(devfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (target < 0)
        return hcs_err_errno(err, errno, "open %s/dev/%s", where, name);
    AUTOCLOSE int mnt = -1;
    if (hcs_ns_new_fs(fstype, options, attrs, &mnt, err) < 0)
        return hcs_err_wrap(err, "mount %s at %s/dev/%s", fstype, where, name);
    if (hcs_ns_attach(mnt, target) < 0)
        return hcs_err_errno(err, errno, "mount %s at %s/dev/%s", fstype, where, name);
    return 0;
}

/*
 * Whether the image has a group with id 5 (tty, by convention): then pty slaves are created
 * with that group, as Docker does. The file is read inside the root.
 */
static bool image_has_gid5(int rootfd)
{
    AUTOCLOSE int fd = hcs_ns_open_in_root(rootfd, "/etc/group", O_RDONLY);
    if (fd < 0)
        return false;
    FILE *f = fdopen(fd, "r");
    if (f == NULL)
        return false;
    steal_fd(&fd);
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        /* name:password:gid:members */
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        found = c2 != NULL && strncmp(c2 + 1, "5:", 2) == 0;
    }
    fclose(f);
    return found;
}

/* The host socket at path bound onto devfd/name (an empty file made here). */
static int bind_socket(int devfd, const char *where, const char *name, const char *path,
                       hcs_error **err)
{
    AUTOCLOSE int f =
        openat(devfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (f < 0)
        return hcs_err_errno(err, errno, "create %s/dev/%s", where, name);
    AUTOCLOSE int target = openat(devfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (target < 0)
        return hcs_err_errno(err, errno, "open %s/dev/%s", where, name);
    AUTOCLOSE int tree = -1;
    if (hcs_ns_clone_tree(AT_FDCWD, path, false, 0, &tree, err) < 0)
        return hcs_err_wrap(err, "bind %s at %s/dev/%s", path, where, name);
    if (hcs_ns_attach(tree, target) < 0)
        return hcs_err_errno(err, errno, "bind %s at %s/dev/%s", path, where, name);
    return 0;
}

int hcs_ns_mount_dev(int rootfd, const char *where, const char *registry_socket, hcs_error **err)
{
    AUTOCLOSE int target = -1;
    if (hcs_ns_system_target(rootfd, where, "dev", &target, err) < 0)
        return -1;
    static const char *const tmpfs_opts[] = {"mode", "755", "size", "64k", NULL};
    AUTOCLOSE int devfd = -1;
    if (hcs_ns_new_fs("tmpfs", tmpfs_opts, MOUNT_ATTR_NOSUID, &devfd, err) < 0)
        return hcs_err_wrap(err, "mount tmpfs at %s/dev", where);
    if (hcs_ns_attach(devfd, target) < 0)
        return hcs_err_errno(err, errno, "mount tmpfs at %s/dev", where);

    for (size_t i = 0; i < HCS_ARRAY_SIZE(dev_nodes); i++)
        if (bind_node(devfd, where, dev_nodes[i], err) < 0)
            return -1;

    const char *pts_opts[] = {"newinstance", NULL, "ptmxmode", "0666", "mode",
                              "0620",        NULL, NULL,       NULL};
    if (image_has_gid5(rootfd)) {
        pts_opts[6] = "gid";
        pts_opts[7] = "5";
    }
    if (mount_sub(devfd, where, "pts", "devpts", pts_opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
                  err) < 0)
        return -1;
    /* Docker's size for /dev/shm; without one tmpfs allows half of the host's memory. */
    static const char *const shm_opts[] = {"mode", "1777", "size", "65536k", NULL};
    if (mount_sub(devfd, where, "shm", "tmpfs", shm_opts,
                  MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err) < 0)
        return -1;
    if (mount_sub(devfd, where, "mqueue", "mqueue", NULL,
                  MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err) < 0)
        return -1;
    for (size_t i = 0; i < HCS_ARRAY_SIZE(dev_links); i++)
        if (symlinkat(dev_links[i].target, devfd, dev_links[i].name) < 0)
            return hcs_err_errno(err, errno, "create the symlink %s/dev/%s", where,
                                 dev_links[i].name);
    if (registry_socket != NULL &&
        bind_socket(devfd, where, "hcs-registry", registry_socket, err) < 0)
        return -1;
    return 0;
}
