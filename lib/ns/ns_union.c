/*
 * ns_union.c - the union of a container's layers (overlayfs) at the root's mount point.
 *
 * Layers are opened first (which checks them and pins them) and handed to the kernel by
 * descriptor, never by path in an option string: so ':' and ',' in paths need no escaping and
 * a chain of any length fits, whatever the 4096-byte limit of mount(2) options or the 256-byte
 * limit of an fsconfig string. Three ways, newest first (HCS_NS_UNION_AUTO tries them in turn):
 *   FD      fsconfig(FSCONFIG_SET_FD, "lowerdir+", fd) per layer (Linux 6.13+);
 *   PLUS    fsconfig(FSCONFIG_SET_STRING, "lowerdir+", "/proc/self/fd/N") per layer (6.8+);
 *   LEGACY  mount(2) with "lowerdir=/proc/self/fd/N:...", about 200 layers in one page.
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

/* The open folders of a union: layers nearest first, upper and work (or -1). */
typedef struct union_fds {
    int *layers;
    size_t n;
    int upper, work;
} union_fds;

static void union_fds_close(union_fds *u)
{
    for (size_t i = 0; u->layers != NULL && i < u->n; i++)
        if (u->layers[i] >= 0)
            close(u->layers[i]);
    free(u->layers);
    if (u->upper >= 0)
        close(u->upper);
    if (u->work >= 0)
        close(u->work);
}

static int open_folder(const char *what, const char *path, int *out, hcs_error **err)
{
    if (path == NULL || path[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "%s: %s: not an absolute path", what,
                           path ? path : "(null)");
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return hcs_err_errno(err, errno, "%s: %s", what, path);
    *out = fd;
    return 0;
}

/* Open (creating if missing) the subfolder name of the writable folder wfd. */
static int open_sub(int wfd, const char *writable, const char *name, int *out, hcs_error **err)
{
    if (mkdirat(wfd, name, 0755) < 0 && errno != EEXIST)
        return hcs_err_errno(err, errno, "Storage.Path: create %s/%s", writable, name);
    int fd = openat(wfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return hcs_err_errno(err, errno, "Storage.Path: %s/%s", writable, name);
    *out = fd;
    return 0;
}

static int open_union(const hcs_ns_root *root, union_fds *u, hcs_error **err)
{
    u->n = root->n_layers;
    u->upper = u->work = -1;
    u->layers = malloc(u->n * sizeof(*u->layers));
    if (u->layers == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    for (size_t i = 0; i < u->n; i++)
        u->layers[i] = -1;
    for (size_t i = 0; i < u->n; i++) {
        char what[48];
        snprintf(what, sizeof(what), "Storage.Layers[%zu]", i);
        if (open_folder(what, root->layers[i], &u->layers[i], err) < 0)
            return -1;
    }
    if (root->writable == NULL)
        return 0;
    AUTOCLOSE int wfd = -1;
    if (open_folder("Storage.Path", root->writable, &wfd, err) < 0)
        return -1;
    if (open_sub(wfd, root->writable, "upper", &u->upper, err) < 0 ||
        open_sub(wfd, root->writable, "work", &u->work, err) < 0)
        return -1;
    return 0;
}

/* Append piece to s (capacity cap, *used bytes used) as far as it fits. */
static void append(char *s, size_t cap, size_t *used, const char *piece)
{
    size_t n = strlen(piece);
    if (n > cap - 1 - *used)
        n = cap - 1 - *used;
    memcpy(s + *used, piece, n);
    *used += n;
    s[*used] = '\0';
}

/* "lowerdir=/a:/b, upperdir=..., workdir=..." for messages, shortened past a few hundred bytes. */
static char *describe(const hcs_ns_root *root)
{
    const size_t cap = 2048;
    size_t used = 0;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    s[0] = '\0';
    append(s, cap, &used, "lowerdir=");
    for (size_t i = 0; i < root->n_layers; i++) {
        if (used > 600) {
            char more[48];
            snprintf(more, sizeof(more), ":... (%zu layers)", root->n_layers);
            append(s, cap, &used, more);
            break;
        }
        if (i > 0)
            append(s, cap, &used, ":");
        append(s, cap, &used, root->layers[i]);
    }
    if (root->writable != NULL) {
        append(s, cap, &used, ", upperdir=");
        append(s, cap, &used, root->writable);
        append(s, cap, &used, "/upper, workdir=");
        append(s, cap, &used, root->writable);
        append(s, cap, &used, "/work");
    }
    return s;
}

/*
 * The error for a failed overlay mount, as "mount overlay at M: [step: ]cause (options; kernel:
 * log)": the options name the real paths (the kernel saw /proc/self/fd/N or descriptors).
 */
static int overlay_error(hcs_error **err, int errnum, const hcs_ns_root *root, const char *step,
                         const char *log)
{
    char buf[128];
    const char *cause = strerror_r(errnum, buf, sizeof(buf));
    AUTOFREE char *desc = describe(root);
    return hcs_err_set(err, hcs_hresult_from_errno(errnum), "mount overlay at %s: %s%s%s (%s%s%s)",
                       root->mountpoint, step, step[0] ? ": " : "", cause, desc ? desc : "",
                       log && log[0] ? "; kernel: " : "", log ? log : "");
}

/* Returns 0 and *mnt, -1 with *err, or 1 when this kernel does not support the method. */
static int overlay_fsconfig(const hcs_ns_root *root, const union_fds *u, bool by_fd, int *mnt,
                            hcs_error **err)
{
    AUTOCLOSE int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
    if (fsfd < 0)
        return overlay_error(err, errno, root, "fsopen", NULL);
    char log[1024];
    for (size_t i = 0; i < u->n; i++) {
        int rc;
        if (by_fd) {
            rc = fsconfig(fsfd, FSCONFIG_SET_FD, "lowerdir+", NULL, u->layers[i]);
        } else {
            char path[32];
            snprintf(path, sizeof(path), "/proc/self/fd/%d", u->layers[i]);
            rc = fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", path, 0);
        }
        if (rc < 0) {
            int e = errno;
            if (i == 0 && e == EINVAL)
                return 1; /* "lowerdir+" unknown, or no descriptor values: an older kernel */
            hcs_ns_fs_log(fsfd, log, sizeof(log));
            return hcs_err_errno(err, e, "mount overlay at %s: Storage.Layers[%zu]: %s%s%s",
                                 root->mountpoint, i, root->layers[i], log[0] ? ": " : "", log);
        }
    }
    if (u->upper >= 0) {
        static const char *const keys[] = {"upperdir", "workdir"};
        const int fds[] = {u->upper, u->work};
        for (size_t k = 0; k < 2; k++) {
            int rc;
            if (by_fd) {
                rc = fsconfig(fsfd, FSCONFIG_SET_FD, keys[k], NULL, fds[k]);
            } else {
                char path[32];
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[k]);
                rc = fsconfig(fsfd, FSCONFIG_SET_STRING, keys[k], path, 0);
            }
            if (rc < 0) {
                int e = errno;
                hcs_ns_fs_log(fsfd, log, sizeof(log));
                return hcs_err_errno(err, e, "mount overlay at %s: %s %s/%s%s%s", root->mountpoint,
                                     keys[k], root->writable, k == 0 ? "upper" : "work",
                                     log[0] ? ": " : "", log);
            }
        }
    }
    if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        int e = errno;
        hcs_ns_fs_log(fsfd, log, sizeof(log));
        return overlay_error(err, e, root, "", log);
    }
    int m = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
    if (m < 0)
        return overlay_error(err, errno, root, "fsmount", NULL);
    if (move_mount(m, "", AT_FDCWD, root->mountpoint, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
        int e = errno;
        close(m);
        return overlay_error(err, e, root, "move_mount", NULL);
    }
    *mnt = m;
    return 0;
}

static int overlay_legacy(const hcs_ns_root *root, const union_fds *u, int *mnt, hcs_error **err)
{
    /* mount(2) copies one page of options; the kernel's limit counts the final NUL. */
    char opts[4096];
    size_t used = 0;
    for (size_t i = 0; i < u->n; i++) {
        int w = snprintf(opts + used, sizeof(opts) - used, "%s/proc/self/fd/%d",
                         i ? ":" : "lowerdir=", u->layers[i]);
        if (w < 0 || (size_t)w >= sizeof(opts) - used)
            return hcs_err_set(err, HCS_E_NOT_SUPPORTED,
                               "mount overlay at %s: %zu layers do not fit the 4096-byte mount "
                               "options of this kernel (Linux 6.8 or later has no such limit)",
                               root->mountpoint, root->n_layers);
        used += (size_t)w;
    }
    if (u->upper >= 0) {
        int w = snprintf(opts + used, sizeof(opts) - used,
                         ",upperdir=/proc/self/fd/%d,workdir=/proc/self/fd/%d", u->upper, u->work);
        if (w < 0 || (size_t)w >= sizeof(opts) - used)
            return hcs_err_set(err, HCS_E_NOT_SUPPORTED,
                               "mount overlay at %s: %zu layers do not fit the 4096-byte mount "
                               "options of this kernel (Linux 6.8 or later has no such limit)",
                               root->mountpoint, root->n_layers);
    }
    if (mount("overlay", root->mountpoint, "overlay", 0, opts) < 0)
        return overlay_error(err, errno, root, "", NULL);
    int m = open(root->mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (m < 0)
        return hcs_err_errno(err, errno, "open the union at %s", root->mountpoint);
    *mnt = m;
    return 0;
}

static int bind_single(const hcs_ns_root *root, const union_fds *u, int *mnt, hcs_error **err)
{
    AUTOCLOSE int tree = -1;
    if (hcs_ns_clone_tree(u->layers[0], "", false, MOUNT_ATTR_RDONLY, &tree, err) < 0)
        return hcs_err_wrap(err, "bind Storage.Layers[0] %s read-only at %s", root->layers[0],
                            root->mountpoint);
    if (move_mount(tree, "", AT_FDCWD, root->mountpoint, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return hcs_err_errno(err, errno, "bind Storage.Layers[0] %s read-only at %s",
                             root->layers[0], root->mountpoint);
    *mnt = steal_fd(&tree);
    return 0;
}

int hcs_ns_mount_union(const hcs_ns_root *root, enum hcs_ns_union_method method, int *rootfd,
                       hcs_error **err)
{
    *rootfd = -1;
    if (root->layers == NULL || root->n_layers == 0)
        return hcs_err_set(err, E_INVALIDARG, "Storage.Layers: at least one layer is needed");
    if (root->n_layers > 500) /* overlayfs' own limit (OVL_MAX_STACK) */
        return hcs_err_set(err, E_INVALIDARG,
                           "Storage.Layers: %zu layers; overlayfs stacks at most 500",
                           root->n_layers);
    if (root->mountpoint == NULL || root->mountpoint[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "the root mount point must be an absolute path");
    struct stat st;
    if (stat(root->mountpoint, &st) < 0)
        return hcs_err_errno(err, errno, "root mount point %s", root->mountpoint);
    if (!S_ISDIR(st.st_mode))
        return hcs_err_set(err, E_INVALIDARG, "root mount point %s is not a folder",
                           root->mountpoint);

    union_fds u = {0};
    int rc = open_union(root, &u, err);
    if (rc == 0 && root->n_layers == 1 && root->writable == NULL) {
        rc = bind_single(root, &u, rootfd, err);
    } else if (rc == 0) {
        rc = 1;
        if (method == HCS_NS_UNION_AUTO || method == HCS_NS_UNION_FD)
            rc = overlay_fsconfig(root, &u, true, rootfd, err);
        if (rc == 1 && (method == HCS_NS_UNION_AUTO || method == HCS_NS_UNION_PLUS))
            rc = overlay_fsconfig(root, &u, false, rootfd, err);
        if (rc == 1 && (method == HCS_NS_UNION_AUTO || method == HCS_NS_UNION_LEGACY))
            rc = overlay_legacy(root, &u, rootfd, err);
        if (rc == 1)
            rc = hcs_err_set(err, HCS_E_NOT_SUPPORTED,
                             "mount overlay at %s: this kernel does not support the requested "
                             "way of passing layers",
                             root->mountpoint);
    }
    union_fds_close(&u);
    return rc < 0 ? -1 : 0;
}
