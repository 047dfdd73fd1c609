/*
 * writable.c - writable layers: initialize over a parent chain, attach the union view at
 * W/rootfs (overlay, or the copy backend's merged copy), detach, and destroy a layer.
 *
 * layer.json is the commit point of every step: init writes it last (a failed init removes what
 * it made), attach records Attached before it mounts (so a parent's holder is live from the
 * start: a concurrent destroy of the parent sees it) and takes it back if the mount fails,
 * detach records it after the unmount. After a crash or a reboot a layer may say Attached with
 * nothing mounted: detach accepts that and puts it right.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "common/util.h"
#include "union.h"
#include "writable_internal.h"

#define OVERLAYFS_MAGIC 0x794c7630

void hcs_layer_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

/* Whether the folder fd has no entries (-1 with errno when it cannot be listed). */
static int folder_empty(int fd)
{
    int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup_fd < 0)
        return -1;
    DIR *d = fdopendir(dup_fd);
    if (d == NULL) {
        close(dup_fd);
        return -1;
    }
    int empty = 1;
    const struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            empty = 0;
            break;
        }
    closedir(d);
    return empty;
}

/* Check parents[i] (an imported layer or a plain folder) and resolve it to its real path. */
static int check_parent(const char *const *parents, size_t i, char **real, hcs_error **err)
{
    const char *p = parents[i];
    if (p == NULL || p[0] != '/')
        return hcs_err_set(err, E_INVALIDARG,
                           "LayerData.Layers[%zu]: \"%s\" is not an absolute "
                           "path",
                           i, p ? p : "(null)");
    if ((*real = realpath(p, NULL)) == NULL)
        return hcs_err_errno(err, errno, "LayerData.Layers[%zu]: %s", i, p);
    struct stat st;
    if (stat(*real, &st) < 0)
        return hcs_err_errno(err, errno, "LayerData.Layers[%zu]: %s", i, p);
    if (!S_ISDIR(st.st_mode))
        return hcs_err_set(err, HCS_E_INVALID_LAYER, "LayerData.Layers[%zu]: %s is not a folder", i,
                           p);
    hcs_layer_info info;
    if (hcs_layer_info_read(*real, &info, err) < 0)
        return hcs_err_wrap(err, "LayerData.Layers[%zu]", i);
    enum hcs_layer_kind kind = info.kind;
    hcs_layer_info_free(&info);
    if (kind == HCS_LAYER_KIND_WRITABLE)
        return hcs_err_set(err, HCS_E_INVALID_LAYER,
                           "LayerData.Layers[%zu]: %s is a writable layer; a parent must be an "
                           "imported (read-only) layer or a folder",
                           i, p);
    return 0;
}

/* Undo a failed init: what it created inside path, and path itself when it made it. */
static void init_undo(const char *path, bool made_path)
{
    static const char *const made[] = {HCS_LAYER_META, HCS_LAYER_FILES, HCS_LAYER_WORK,
                                       HCS_LAYER_ROOTFS};
    AUTOERR hcs_error *uerr = NULL;
    if (made_path) {
        if (hcs_remove_tree_at(AT_FDCWD, path, &uerr) < 0)
            hcs_log(HCS_LOG_WARNING, "undo the writable layer %s: %s", path, uerr->message);
        return;
    }
    AUTOCLOSE int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (size_t i = 0; fd >= 0 && i < HCS_ARRAY_SIZE(made); i++) {
        if (hcs_remove_tree_at(fd, made[i], &uerr) < 0) {
            hcs_log(HCS_LOG_WARNING, "undo the writable layer %s: %s", path, uerr->message);
            hcs_err_free(uerr);
            uerr = NULL;
        }
    }
}

/* Create path, or take it when it is an empty folder; *made tells which. */
static int claim_path(const char *path, bool *made, hcs_error **err)
{
    *made = false;
    if (mkdir(path, 0755) == 0) {
        *made = true;
        return 0;
    }
    if (errno != EEXIST)
        return hcs_err_errno(err, errno, "create the writable layer folder %s", path);
    AUTOCLOSE int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOTDIR)
        return hcs_err_set(err, HCS_E_ALREADY_EXISTS,
                           "%s already exists and is not a folder (a writable layer is made in a "
                           "new or empty folder)",
                           path);
    if (fd < 0)
        return hcs_err_errno(err, errno, "open %s", path);
    int empty = folder_empty(fd);
    if (empty < 0)
        return hcs_err_errno(err, errno, "list %s", path);
    if (!empty)
        return hcs_err_set(err, HCS_E_ALREADY_EXISTS,
                           "%s already exists and is not empty (a writable layer is made in a new "
                           "or empty folder)",
                           path);
    return 0;
}

static int init_in(const char *path, hcs_layer_info *info, hcs_error **err)
{
    AUTOCLOSE int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return hcs_err_errno(err, errno, "open %s", path);
    static const struct {
        const char *name;
        mode_t mode;
    } subs[] = {{HCS_LAYER_FILES, 0755}, {HCS_LAYER_WORK, 0700}, {HCS_LAYER_ROOTFS, 0755}};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(subs); i++)
        if (mkdirat(fd, subs[i].name, subs[i].mode) < 0)
            return hcs_err_errno(err, errno, "create %s/%s", path, subs[i].name);
    /*
     * overlayfs shows the upper folder's own attributes at the root of the view: give it those
     * of the nearest parent's root, as the copy backend's view has.
     */
    AUTOFREE char *top = NULL;
    if (hcs_layer_files_path(info->parents[0], &top, err) < 0)
        return hcs_err_wrap(err, "LayerData.Layers[0]");
    struct stat st;
    if (stat(top, &st) < 0)
        return hcs_err_errno(err, errno, "LayerData.Layers[0]: %s", top);
    if (fchownat(fd, HCS_LAYER_FILES, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
        fchmodat(fd, HCS_LAYER_FILES, st.st_mode & 07777, 0) < 0)
        return hcs_err_errno(err, errno, "set the owner and mode of %s/%s", path, HCS_LAYER_FILES);
    return hcs_layer_info_write(path, info, err);
}

int hcs_layer_init_writable(const char *path, const char *const *parents, size_t n_parents,
                            hcs_error **err)
{
    if (path == NULL || path[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "writable layer path \"%s\" is not absolute",
                           path ? path : "(null)");
    if (parents == NULL || n_parents == 0)
        return hcs_err_set(err, E_INVALIDARG,
                           "initialize %s: LayerData.Layers is empty; a writable layer needs at "
                           "least one parent layer",
                           path);
    enum hcs_layer_backend backend = hcs_layer_backend();
    if (backend == HCS_LAYER_BACKEND_OVERLAY && n_parents > HCS_LAYER_MAX_LOWERS)
        return hcs_err_set(err, E_INVALIDARG,
                           "initialize %s: LayerData.Layers holds %zu layers; overlayfs stacks at "
                           "most %d",
                           path, n_parents, HCS_LAYER_MAX_LOWERS);
    hcs_layer_info info = {.kind = HCS_LAYER_KIND_WRITABLE, .backend = backend};
    info.parents = calloc(n_parents, sizeof(*info.parents));
    if (info.parents == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    info.n_parents = n_parents;
    int rc = 0;
    for (size_t i = 0; i < n_parents; i++) {
        if (check_parent(parents, i, &info.parents[i], err) < 0) {
            rc = -1;
            break;
        }
    }
    bool made = false;
    if (rc == 0 && (rc = claim_path(path, &made, err)) == 0) {
        /* The layer cannot be its own parent (an empty folder given as both). */
        AUTOFREE char *real = realpath(path, NULL);
        for (size_t i = 0; rc == 0 && real != NULL && i < n_parents; i++)
            if (info.parents[i] != NULL && strcmp(real, info.parents[i]) == 0)
                rc = hcs_err_set(err, E_INVALIDARG,
                                 "LayerData.Layers[%zu]: %s is the writable layer itself", i,
                                 parents[i]);
        if (rc == 0)
            rc = init_in(path, &info, err);
        if (rc < 0)
            init_undo(path, made);
    }
    hcs_layer_info_free(&info);
    if (rc < 0)
        return hcs_err_wrap(err, "initialize the writable layer %s", path);
    return 0;
}

/* Read the writable layer at path; anything else is refused. */
static int read_writable(const char *path, hcs_layer_info *info, hcs_error **err)
{
    if (hcs_layer_info_read(path, info, err) < 0)
        return -1;
    if (info->kind == HCS_LAYER_KIND_WRITABLE)
        return 0;
    enum hcs_layer_kind kind = info->kind;
    hcs_layer_info_free(info);
    return hcs_err_set(err, HCS_E_INVALID_LAYER, "%s is not a writable layer (%s)", path,
                       kind == HCS_LAYER_KIND_READONLY ? "it is an imported, read-only layer"
                                                       : "no " HCS_LAYER_META
                                                         ": initialize it with "
                                                         "HcsInitializeWritableLayer first");
}

static bool mount_root(const char *path);

bool hcs_layer_writable_holds(const char *real_w, const char *parent_real)
{
    struct stat st;
    if (lstat(real_w, &st) < 0 && (errno == ENOENT || errno == ENOTDIR))
        return false; /* the writable layer is gone */
    hcs_layer_info info;
    AUTOERR hcs_error *rerr = NULL;
    if (hcs_layer_info_read(real_w, &info, &rerr) < 0)
        return true; /* unreadable: keep the holder rather than lose the layer */
    bool live = info.kind == HCS_LAYER_KIND_WRITABLE && info.attached;
    if (live && info.backend == HCS_LAYER_BACKEND_OVERLAY) {
        /* An overlay attach that a reboot or a crash undid holds nothing. */
        AUTOFREE char *rootfs = hcs_asprintf("%s/%s", real_w, HCS_LAYER_ROOTFS);
        live = rootfs == NULL || mount_root(rootfs);
    }
    bool listed = false;
    for (size_t i = 0; live && !listed && i < info.n_parents; i++) {
        AUTOFREE char *real = realpath(info.parents[i], NULL);
        listed = strcmp(real ? real : info.parents[i], parent_real) == 0;
    }
    hcs_layer_info_free(&info);
    return live && listed;
}

/* parents[0..n) must be the chain recorded in info. */
static int check_chain(const char *path, const hcs_layer_info *info, const char *const *parents,
                       size_t n, hcs_error **err)
{
    for (size_t i = 0; i < n || i < info->n_parents; i++) {
        if (i >= n)
            return hcs_err_set(err, E_INVALIDARG,
                               "LayerData.Layers[%zu]: missing; %s was initialized over %zu "
                               "layers (next: %s)",
                               i, path, info->n_parents, info->parents[i]);
        if (i >= info->n_parents)
            return hcs_err_set(err, E_INVALIDARG,
                               "LayerData.Layers[%zu]: %s is one layer too many; %s was "
                               "initialized over %zu layers",
                               i, parents[i] ? parents[i] : "(null)", path, info->n_parents);
        AUTOFREE char *real = parents[i] ? realpath(parents[i], NULL) : NULL;
        const char *given = real ? real : parents[i] ? parents[i] : "(null)";
        if (strcmp(given, info->parents[i]) != 0)
            return hcs_err_set(err, E_INVALIDARG,
                               "LayerData.Layers[%zu]: %s is not the parent %s was initialized "
                               "with (%s)",
                               i, parents[i] ? parents[i] : "(null)", path, info->parents[i]);
    }
    return 0;
}

static char *holder_of(const char *path)
{
    AUTOFREE char *real = realpath(path, NULL);
    return hcs_asprintf("writable %s", real ? real : path);
}

static void release_parents(const hcs_layer_info *info, size_t n, const char *holder)
{
    for (size_t i = 0; i < n && i < info->n_parents; i++)
        hcs_layer_release(info->parents[i], holder);
}

/* Copy backend: fill rootfs with the merged parents, once. */
static int attach_copy(const char *path, const hcs_layer_info *info, char **files, hcs_error **err)
{
    AUTOCLOSE int wfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (wfd < 0)
        return hcs_err_errno(err, errno, "open %s", path);
    struct stat st;
    if (fstatat(wfd, HCS_LAYER_COPIED, &st, AT_SYMLINK_NOFOLLOW) == 0)
        return 0; /* copied at an earlier attach: rootfs holds the tree and its changes */
    AUTOFREE char *rootfs = hcs_asprintf("%s/%s", path, HCS_LAYER_ROOTFS);
    if (rootfs == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    /* A copy cut short (a crash) is started again from an empty rootfs. */
    if (hcs_remove_tree_at(wfd, HCS_LAYER_ROOTFS, err) < 0)
        return hcs_err_wrap(err, "clear %s", rootfs);
    if (mkdirat(wfd, HCS_LAYER_ROOTFS, 0755) < 0)
        return hcs_err_errno(err, errno, "create %s", rootfs);
    if (hcs_layer_copy_merge((const char *const *)files, info->n_parents, rootfs, err) < 0) {
        AUTOERR hcs_error *cerr = NULL;
        if (hcs_remove_tree_at(wfd, HCS_LAYER_ROOTFS, &cerr) < 0 ||
            mkdirat(wfd, HCS_LAYER_ROOTFS, 0755) < 0)
            hcs_log(HCS_LOG_WARNING, "clear %s after a failed copy: %s", rootfs,
                    cerr ? cerr->message : strerror(errno));
        return hcs_err_wrap(err, "copy the parent layers into %s", rootfs);
    }
    return hcs_write_file_atomic(wfd, HCS_LAYER_COPIED, "", 0, 0644, true, err);
}

static int attach_overlay(const char *path, const hcs_layer_info *info, char **files,
                          hcs_error **err)
{
    AUTOFREE char *upper = hcs_asprintf("%s/%s", path, HCS_LAYER_FILES);
    AUTOFREE char *work = hcs_asprintf("%s/%s", path, HCS_LAYER_WORK);
    AUTOFREE char *target = hcs_asprintf("%s/%s", path, HCS_LAYER_ROOTFS);
    if (upper == NULL || work == NULL || target == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    hcs_layer_union u = {
        .lowers = (const char *const *)files,
        .n_lowers = info->n_parents,
        .upper = upper,
        .work = work,
        .target = target,
        .what = "LayerData.Layers",
    };
    return hcs_layer_mount_union(&u, err);
}

int hcs_layer_parent_files(const hcs_layer_info *info, char ***out, hcs_error **err)
{
    char **files = calloc(info->n_parents ? info->n_parents : 1, sizeof(*files));
    if (files == NULL) {
        hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < info->n_parents; i++) {
        if (hcs_layer_files_path(info->parents[i], &files[i], err) < 0) {
            hcs_layer_strv_free(files, i);
            hcs_err_wrap(err, "LayerData.Layers[%zu]", i);
            return -1;
        }
    }
    *out = files;
    return 0;
}

static int attach_view(const char *path, const hcs_layer_info *info, hcs_error **err)
{
    char **files = NULL;
    if (hcs_layer_parent_files(info, &files, err) < 0)
        return -1;
    int rc = info->backend == HCS_LAYER_BACKEND_OVERLAY ? attach_overlay(path, info, files, err)
                                                        : attach_copy(path, info, files, err);
    hcs_layer_strv_free(files, info->n_parents);
    return rc;
}

static int attach(const char *path, hcs_layer_info *info, const char *const *parents, size_t n,
                  hcs_error **err)
{
    if (parents != NULL && n > 0 && check_chain(path, info, parents, n, err) < 0)
        return -1;
    if (info->attached && info->backend == HCS_LAYER_BACKEND_OVERLAY) {
        /* Marked attached with nothing mounted: a reboot or a crash undid the attach. */
        AUTOFREE char *rootfs = hcs_asprintf("%s/%s", path, HCS_LAYER_ROOTFS);
        if (rootfs != NULL && !mount_root(rootfs))
            info->attached = false;
    }
    if (info->attached)
        return hcs_err_set(err, HCS_E_INVALID_STATE,
                           "writable layer %s is already attached (at %s/%s)", path, path,
                           HCS_LAYER_ROOTFS);
    AUTOFREE char *holder = holder_of(path);
    if (holder == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    size_t held = 0;
    int rc = 0;
    for (; rc == 0 && held < info->n_parents; held++)
        if (hcs_layer_hold(info->parents[held], holder, err) < 0)
            rc = hcs_err_wrap(err, "LayerData.Layers[%zu]", held);
    if (rc == 0) {
        info->attached = true;
        rc = hcs_layer_info_update(path, info, err);
        if (rc == 0 && attach_view(path, info, err) < 0) {
            rc = -1;
            info->attached = false;
            AUTOERR hcs_error *werr = NULL;
            if (hcs_layer_info_update(path, info, &werr) < 0)
                hcs_log(HCS_LOG_WARNING, "attach %s failed and it stays marked attached: %s", path,
                        werr->message);
        }
    }
    if (rc < 0)
        release_parents(info, held, holder);
    return rc;
}

/*
 * Lock the layer folder path (flock, exclusive, waiting for the holder): attach, detach and
 * destroy of one layer run one at a time, in any number of threads and processes.
 */
static int lock_layer(const char *path, int *out, hcs_error **err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return hcs_err_errno(err, errno, "layer %s", path);
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            int e = errno;
            close(fd);
            return hcs_err_errno(err, e, "lock the layer %s", path);
        }
    }
    *out = fd;
    return 0;
}

int hcs_layer_attach(const char *path, const char *const *parents, size_t n_parents,
                     hcs_error **err)
{
    AUTOCLOSE int lock = -1;
    if (lock_layer(path, &lock, err) < 0)
        return hcs_err_wrap(err, "attach");
    hcs_layer_info info;
    if (read_writable(path, &info, err) < 0)
        return hcs_err_wrap(err, "attach");
    int rc = attach(path, &info, parents, n_parents, err);
    hcs_layer_info_free(&info);
    if (rc < 0)
        return hcs_err_wrap(err, "attach %s", path);
    return 0;
}

/* Whether something is mounted at path (it is the root of a mount). */
static bool mount_root(const char *path)
{
    struct statx stx;
    return statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
           (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
           (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

/* Unmount the overlay at rootfs; nothing mounted there (a reboot, a crash) is fine. */
static int unmount_view(const char *rootfs, hcs_error **err)
{
    struct stat st;
    if (lstat(rootfs, &st) < 0)
        return hcs_err_errno(err, errno, "stat %s", rootfs);
    if (!mount_root(rootfs)) {
        hcs_log(HCS_LOG_INFO, "detach: nothing is mounted at %s any more", rootfs);
        return 0;
    }
    struct statfs sfs;
    if (statfs(rootfs, &sfs) < 0)
        return hcs_err_errno(err, errno, "stat the file system at %s", rootfs);
    if (sfs.f_type != OVERLAYFS_MAGIC)
        return hcs_err_set(err, HCS_E_INVALID_STATE,
                           "something other than the layer's overlay is mounted at %s; unmount "
                           "it first",
                           rootfs);
    if (umount2(rootfs, UMOUNT_NOFOLLOW) < 0) {
        if (errno == EBUSY)
            return hcs_err_errno(err, errno,
                                 "unmount %s: something still uses it (a process working in it "
                                 "or holding a file open there, or a mount below it)",
                                 rootfs);
        if (errno != EINVAL)
            return hcs_err_errno(err, errno, "unmount %s", rootfs);
    }
    return 0;
}

int hcs_layer_detach(const char *path, hcs_error **err)
{
    AUTOCLOSE int lock = -1;
    if (lock_layer(path, &lock, err) < 0)
        return hcs_err_wrap(err, "detach");
    hcs_layer_info info;
    if (read_writable(path, &info, err) < 0)
        return hcs_err_wrap(err, "detach");
    int rc = 0;
    if (!info.attached)
        rc = hcs_err_set(err, HCS_E_INVALID_STATE, "detach %s: the writable layer is not attached",
                         path);
    if (rc == 0 && info.backend == HCS_LAYER_BACKEND_OVERLAY) {
        AUTOFREE char *rootfs = hcs_asprintf("%s/%s", path, HCS_LAYER_ROOTFS);
        if (rootfs == NULL)
            rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        else if (unmount_view(rootfs, err) < 0)
            rc = hcs_err_wrap(err, "detach %s", path);
    }
    if (rc == 0) {
        info.attached = false;
        if (hcs_layer_info_update(path, &info, err) < 0)
            rc = hcs_err_wrap(err, "detach %s", path);
    }
    if (rc == 0) {
        AUTOFREE char *holder = holder_of(path);
        if (holder != NULL)
            release_parents(&info, info.n_parents, holder);
    }
    hcs_layer_info_free(&info);
    return rc;
}

/* --- destroy ---------------------------------------------------------------------------------- */

static int destroy_checks(const char *path, const char *real, hcs_error **err)
{
    hcs_layer_info info;
    if (hcs_layer_info_read(path, &info, err) < 0)
        return -1;
    enum hcs_layer_kind kind = info.kind;
    bool attached = info.attached;
    hcs_layer_info_free(&info);
    if (kind == HCS_LAYER_KIND_FOLDER)
        return hcs_err_set(err, HCS_E_INVALID_LAYER,
                           "%s is not a layer created by libhcs (no %s); a plain folder is never "
                           "removed",
                           path, HCS_LAYER_META);
    if (kind == HCS_LAYER_KIND_WRITABLE && attached)
        return hcs_err_set(err, HCS_E_INVALID_STATE,
                           "writable layer %s is attached; detach it first", path);
    return hcs_layer_holders_check(path, real, err);
}

int hcs_layer_destroy(const char *path, hcs_error **err)
{
    if (path == NULL || path[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "destroy: layer path \"%s\" is not absolute",
                           path ? path : "(null)");
    AUTOFREE char *real = realpath(path, NULL);
    if (real == NULL)
        return hcs_err_errno(err, errno, "destroy layer %s", path);
    if (strcmp(real, "/") == 0)
        return hcs_err_set(err, E_INVALIDARG, "destroy: %s is not a layer", path);
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", real); /* realpath gives at most PATH_MAX bytes */
    char *slash = strrchr(dir, '/');
    const char *base = slash + 1;
    *slash = '\0';
    AUTOCLOSE int dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return hcs_err_errno(err, errno, "destroy layer %s: open %s", path, dir);
    AUTOCLOSE int lock = -1;
    if (lock_layer(real, &lock, err) < 0)
        return hcs_err_wrap(err, "destroy");
    struct stat a, b;
    if (fstatat(dfd, base, &a, AT_SYMLINK_NOFOLLOW) < 0 || fstat(lock, &b) < 0 ||
        a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return hcs_err_set(err, HCS_E_FILE_NOT_FOUND,
                           "destroy layer %s: it was removed or replaced meanwhile", path);
    if (destroy_checks(real, real, err) < 0)
        return hcs_err_wrap(err, "destroy layer %s", path);

    /*
     * Out of its name first, so a crash never leaves a half-removed layer under it; then check
     * again: a hold that raced with the checks above is now inside the renamed folder. The
     * temporary name is that of an import's temporary folder, and it stays locked while we
     * work: what a killed destroy leaves is removed by hcs_layer_sweep, as a killed import's is.
     */
    static unsigned long counter;
    char tmp[96];
    int renamed = -1;
    for (int attempt = 0; renamed < 0 && attempt < 8; attempt++) {
        snprintf(tmp, sizeof(tmp), ".hcs-import.destroyed.%ld.%lu", (long)getpid(),
                 __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
        renamed = renameat2(dfd, base, dfd, tmp, RENAME_NOREPLACE);
        if (renamed < 0 && errno != EEXIST)
            break;
    }
    if (renamed < 0)
        return hcs_err_errno(err, errno, "destroy layer %s: rename it to %s/%s", path, dir, tmp);
    AUTOFREE char *moved = hcs_asprintf("%s/%s", dir, tmp);
    if (moved == NULL || hcs_layer_holders_check(moved, real, err) < 0) {
        if (moved == NULL)
            hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        if (renameat2(dfd, tmp, dfd, base, RENAME_NOREPLACE) < 0)
            hcs_log(HCS_LOG_ERROR, "destroy layer %s: cannot put it back from %s/%s: %s", path, dir,
                    tmp, strerror(errno));
        return hcs_err_wrap(err, "destroy layer %s", path);
    }
    if (hcs_remove_tree_at(dfd, tmp, err) < 0)
        return hcs_err_wrap(err, "destroy layer %s (what is left is %s)", path, moved);
    if (fsync(dfd) < 0 && errno != EINVAL)
        return hcs_err_errno(err, errno, "destroy layer %s: flush %s", path, dir);
    return 0;
}
