/*
 * ns_mount.c - descriptor-based mount helpers: resolving and creating targets inside a root,
 * new file systems through fsopen/fsmount, clones through open_tree, attaching with move_mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "layer/union.h"
#include "ns_internal.h"

int hcs_ns_open_in_root(int rootfd, const char *path, int flags)
{
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    while (*path == '/')
        path++;
    if (*path == '\0')
        path = ".";
    long fd;
    do
        fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
    while (fd < 0 && errno == EAGAIN);
    return (int)fd;
}

/* Create one missing component name in the folder parentfd; EEXIST is not an error. */
static int create_component(int parentfd, const char *name, bool folder)
{
    if (folder)
        return mkdirat(parentfd, name, 0755) < 0 && errno != EEXIST ? -1 : 0;
    int fd = openat(parentfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == EEXIST ? 0 : -1;
    close(fd);
    return 0;
}

/*
 * Replace the walk's path *walk, whose component name (inside *walk, ending at end or the end of
 * the string) is a symlink in parentfd to something missing, by the symlink's target joined with
 * the rest: "/a/link/rest" with link -> "x/y" becomes "/a/x/y/rest", with link -> "/x" "/x/rest".
 */
static int follow_dangling(int parentfd, char **walk, char *name, const char *end, hcs_error **err)
{
    char target[4096];
    ssize_t n = readlinkat(parentfd, name, target, sizeof(target) - 1);
    if (n < 0)
        return hcs_err_errno(err, errno, "read the symlink %s", *walk);
    target[n] = '\0';
    const char *rest = end != NULL ? end + 1 : "";
    char *next;
    if (target[0] == '/')
        next = hcs_asprintf("%s/%s", target, rest);
    else
        next = hcs_asprintf("%.*s%s/%s", (int)(name - *walk), *walk, target, rest);
    if (next == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    free(*walk);
    *walk = next;
    return 0;
}

int hcs_ns_make_target(int rootfd, const char *where, const char *path, bool folder, int *out,
                       hcs_error **err)
{
    *out = -1;
    if (path == NULL || path[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "%s is not an absolute path", path ? path : "(null)");
    AUTOFREE char *walk = strdup(path);
    if (walk == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");

    /*
     * Walk the prefixes from the top. Each is resolved from the root by openat2 with
     * RESOLVE_IN_ROOT, so a symlink anywhere in the image (absolute, relative, "..") stays in
     * the root; a missing component is created in the folder its parent resolved to. A symlink
     * to something missing is followed by rewriting the walk with its target (which is then
     * resolved inside the root as well), as securejoin's MkdirAll does for runc.
     */
    AUTOCLOSE int parent = -1;
    int links = 0;
restart:
    if (parent >= 0)
        close(parent);
    parent = hcs_ns_open_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
    if (parent < 0)
        return hcs_err_errno(err, errno, "open the root %s", where);
    char *p = walk;
    while (*p == '/')
        p++;
    if (*p == '\0')
        return hcs_err_set(err, E_INVALIDARG, "%s: refusing to mount over the root itself", path);
    for (;;) {
        char *name = p;
        char *end = strchr(name, '/');
        if (end != NULL)
            *end = '\0';
        bool last = end == NULL || end[strspn(end + 1, "/") + 1] == '\0';
        int kind = O_PATH | (!last || folder ? O_DIRECTORY : 0);
        int fd = hcs_ns_open_in_root(rootfd, walk, kind);
        if (fd < 0 && errno == ENOENT) {
            if (create_component(parent, name, !last || folder) < 0)
                return hcs_err_errno(err, errno, "create %s %s in the root %s",
                                     !last || folder ? "folder" : "file", walk, where);
            fd = hcs_ns_open_in_root(rootfd, walk, kind);
            if (fd < 0 && errno == ENOENT) {
                if (++links > 40)
                    return hcs_err_errno(err, ELOOP, "%s in the root %s", path, where);
                if (follow_dangling(parent, &walk, name, end, err) < 0)
                    return hcs_err_wrap(err, "mount point %s in the root %s", path, where);
                goto restart;
            }
        }
        if (fd < 0) {
            if (errno == ENOTDIR)
                return hcs_err_set(err, E_INVALIDARG, "%s in the root %s is not a folder", walk,
                                   where);
            return hcs_err_errno(err, errno, "open %s in the root %s", walk, where);
        }
        close(parent);
        parent = fd;
        if (last)
            break;
        *end = '/';
        p = end;
        while (*p == '/')
            p++;
    }
    struct stat st;
    if (fstat(parent, &st) < 0)
        return hcs_err_errno(err, errno, "stat %s in the root %s", path, where);
    if (!folder && S_ISDIR(st.st_mode))
        return hcs_err_set(err, E_INVALIDARG,
                           "%s in the root %s is a folder; a file cannot be mounted on it", path,
                           where);
    struct stat rst;
    if (fstat(rootfd, &rst) == 0 && rst.st_dev == st.st_dev && rst.st_ino == st.st_ino)
        return hcs_err_set(err, E_INVALIDARG, "%s: refusing to mount over the root itself", path);
    *out = steal_fd(&parent);
    return 0;
}

int hcs_ns_system_target(int rootfd, const char *where, const char *name, int *out, hcs_error **err)
{
    *out = -1;
    struct stat st;
    if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno != ENOENT)
            return hcs_err_errno(err, errno, "stat %s/%s", where, name);
        if (mkdirat(rootfd, name, 0755) < 0 && errno != EEXIST)
            return hcs_err_errno(err, errno, "create the mount point %s/%s%s", where, name,
                                 errno == EROFS ? " (a read-only root needs it in its layers)"
                                                : "");
        if (fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return hcs_err_errno(err, errno, "stat %s/%s", where, name);
    }
    if (S_ISLNK(st.st_mode))
        return hcs_err_set(err, E_ACCESSDENIED,
                           "%s/%s is a symlink; refusing to mount /%s through it (the image "
                           "must have a folder there)",
                           where, name, name);
    if (!S_ISDIR(st.st_mode))
        return hcs_err_set(err, E_INVALIDARG, "%s/%s is not a folder", where, name);
    int fd = openat(rootfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return hcs_err_errno(err, errno, "open %s/%s", where, name);
    *out = fd;
    return 0;
}

int hcs_ns_new_fs(const char *fstype, const char *const *options, unsigned int attrs, int *out,
                  hcs_error **err)
{
    *out = -1;
    AUTOCLOSE int fsfd = fsopen(fstype, FSOPEN_CLOEXEC);
    if (fsfd < 0)
        return hcs_err_errno(err, errno, "create a %s file system", fstype);
    char log[512];
    for (size_t i = 0; options != NULL && options[i] != NULL; i += 2) {
        const char *key = options[i], *value = options[i + 1];
        int rc = value == NULL ? fsconfig(fsfd, FSCONFIG_SET_FLAG, key, NULL, 0)
                               : fsconfig(fsfd, FSCONFIG_SET_STRING, key, value, 0);
        if (rc < 0) {
            int e = errno;
            hcs_layer_fs_log(fsfd, log, sizeof(log));
            return hcs_err_errno(err, e, "%s option %s%s%s%s%s%s", fstype, key, value ? "=" : "",
                                 value ? value : "", log[0] ? " (" : "", log, log[0] ? ")" : "");
        }
    }
    if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        int e = errno;
        hcs_layer_fs_log(fsfd, log, sizeof(log));
        return hcs_err_errno(err, e, "create a %s file system%s%s%s", fstype, log[0] ? " (" : "",
                             log, log[0] ? ")" : "");
    }
    int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, attrs);
    if (mfd < 0)
        return hcs_err_errno(err, errno, "mount a %s file system", fstype);
    *out = mfd;
    return 0;
}

int hcs_ns_clone_tree(int dirfd, const char *path, bool recursive, unsigned int attrs, int *out,
                      hcs_error **err)
{
    *out = -1;
    unsigned int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
    if (path[0] == '\0')
        flags |= AT_EMPTY_PATH;
    AUTOCLOSE int tree = open_tree(dirfd, path, flags);
    if (tree < 0)
        return hcs_err_errno(err, errno, "clone the mount");
    if (attrs != 0) {
        struct mount_attr attr = {.attr_set = attrs};
        /*
         * mount_setattr changes only the attributes named, so nosuid/nodev/noexec of the source
         * are kept (what a MS_REMOUNT|MS_BIND needs statvfs flags for with mount(2)).
         */
        if (mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
                          sizeof(attr)) < 0)
            return hcs_err_errno(err, errno, "set the attributes of the mount");
    }
    *out = steal_fd(&tree);
    return 0;
}

int hcs_ns_attach(int mntfd, int targetfd)
{
    return move_mount(mntfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}
