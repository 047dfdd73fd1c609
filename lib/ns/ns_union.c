/*
 * ns_union.c - the container's root at its mount point: the overlay union of its layers (the
 * code writable layers use too, lib/layer/union.c), a read-only bind mount when there is one
 * layer and nothing writable, or a read-write bind mount of one folder (the copy backend's
 * merged tree, or a union the caller attached already).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "ns_internal.h"

/* Bind the folder path (what names it in messages) at the mount point, read-only or not. */
static int bind_root(const hcs_ns_root *root, const char *what, const char *path, bool read_only,
                     int *mnt, hcs_error **err)
{
    if (path == NULL || path[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "%s: %s: not an absolute path", what,
                           path ? path : "(null)");
    AUTOCLOSE int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return hcs_err_errno(err, errno, "%s: %s", what, path);
    AUTOCLOSE int tree = -1;
    if (hcs_ns_clone_tree(dir, "", false, read_only ? MOUNT_ATTR_RDONLY : 0, &tree, err) < 0)
        return hcs_err_wrap(err, "bind %s %s%s at %s", what, path, read_only ? " read-only" : "",
                            root->mountpoint);
    if (move_mount(tree, "", AT_FDCWD, root->mountpoint, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return hcs_err_errno(err, errno, "bind %s %s%s at %s", what, path,
                             read_only ? " read-only" : "", root->mountpoint);
    *mnt = steal_fd(&tree);
    return 0;
}

int hcs_ns_mount_union(const hcs_ns_root *root, enum hcs_layer_union_method method, int *rootfd,
                       hcs_error **err)
{
    *rootfd = -1;
    if (root->mountpoint == NULL || root->mountpoint[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "the root mount point must be an absolute path");
    struct stat st;
    if (stat(root->mountpoint, &st) < 0)
        return hcs_err_errno(err, errno, "root mount point %s", root->mountpoint);
    if (!S_ISDIR(st.st_mode))
        return hcs_err_set(err, E_INVALIDARG, "root mount point %s is not a folder",
                           root->mountpoint);

    if (root->bind != NULL) {
        if (root->n_layers != 0 || root->upper != NULL || root->work != NULL)
            return hcs_err_set(err, E_INVALIDARG,
                               "the root is either a bound folder (%s) or layers, not both",
                               root->bind);
        return bind_root(root, "Storage.Path", root->bind, false, rootfd, err);
    }
    if (root->layers == NULL || root->n_layers == 0)
        return hcs_err_set(err, E_INVALIDARG, "Storage.Layers: at least one layer is needed");
    if ((root->upper == NULL) != (root->work == NULL))
        return hcs_err_set(err, E_INVALIDARG,
                           "Storage.Path: the upper folder (%s) and the work folder (%s) go "
                           "together",
                           root->upper ? root->upper : "none", root->work ? root->work : "none");
    if (root->n_layers == 1 && root->upper == NULL)
        return bind_root(root, "Storage.Layers[0]", root->layers[0], true, rootfd, err);
    hcs_layer_union u = {
        .lowers = root->layers,
        .n_lowers = root->n_layers,
        .upper = root->upper,
        .work = root->work,
        .target = root->mountpoint,
        .what = "Storage.Layers",
    };
    return hcs_layer_union_mount(&u, method, rootfd, err);
}
