/*
 * root.c - what a compute system's root is made of, resolved on the host by its monitor before
 * the silo init is cloned: the files folders of Container.Storage.Layers, and the writable
 * layer at Container.Storage.Path (initialized over the layers when it is a missing or empty
 * folder). Every layer used is held ("system <runtime-root> <id>") so that it cannot be
 * destroyed under a running system; hcs_layer_root_release drops the holds at the system's end.
 *
 * The writable layer's view:
 *   overlay backend: lowers + upper W/Files + work W/Work, mounted by the init in the
 *                    container's mount namespace; when a caller attached W already
 *                    (W/rootfs is mounted), that union is bound instead, so that one overlay,
 *                    never two, writes into W/Files;
 *   copy backend:    W/rootfs bound read-write, filled with the merged layers the first time
 *                    (an attach and a detach: the system leaves W as it found it, detached).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "common/util.h"
#include "layer.h"
#include "writable_internal.h"

void hcs_layer_root_free(hcs_layer_root *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; r->lowers != NULL && i < r->n_lowers; i++)
        free(r->lowers[i]);
    free(r->lowers);
    free(r->upper);
    free(r->work);
    free(r->bind);
    memset(r, 0, sizeof(*r));
}

/* What resolve made of the writable folder, to undo on failure. */
enum made { MADE_NOTHING = 0, MADE_FOLDER, MADE_CONTENT };

/* The state of one resolution, undone by undo() when it fails. */
struct resolution {
    const char *const *layers;
    size_t n_layers;
    bool *held; /* held[i]: Storage.Layers[i] holds holder */
    const char *writable;
    const char *holder;
    bool writable_held;
    enum made made;
};

/* 1 if the folder path has no entry, 0 if it has, -1 with errno. */
static int folder_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL)
        return -1;
    int empty = 1;
    errno = 0;
    for (const struct dirent *de; (de = readdir(d)) != NULL;) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            empty = 0;
            break;
        }
    }
    int e = errno;
    closedir(d);
    if (empty && e != 0) {
        errno = e;
        return -1;
    }
    return empty;
}

/* Remove everything inside the folder path (what initializing it as a writable layer made). */
static void empty_folder(const char *path)
{
    AUTOCLOSE int dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return;
    DIR *d = fdopendir(dup(dfd));
    if (d == NULL)
        return;
    for (const struct dirent *de; (de = readdir(d)) != NULL;) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        AUTOERR hcs_error *rerr = NULL;
        if (hcs_remove_tree_at(dfd, de->d_name, &rerr) < 0)
            hcs_log(HCS_LOG_WARNING, "undo the writable layer %s: %s", path, rerr->message);
    }
    closedir(d);
}

static void undo(struct resolution *r)
{
    if (r->writable_held)
        hcs_layer_release(r->writable, r->holder);
    if (r->made == MADE_FOLDER) {
        AUTOERR hcs_error *rerr = NULL;
        if (hcs_remove_tree_at(AT_FDCWD, r->writable, &rerr) < 0)
            hcs_log(HCS_LOG_WARNING, "undo the writable layer %s: %s", r->writable, rerr->message);
    } else if (r->made == MADE_CONTENT) {
        empty_folder(r->writable);
    }
    for (size_t i = 0; r->held != NULL && i < r->n_layers; i++)
        if (r->held[i])
            hcs_layer_release(r->layers[i], r->holder);
}

/* The read-only layers: their files folders into out->lowers, each imported one held. */
static int resolve_layers(struct resolution *r, hcs_layer_root *out, hcs_error **err)
{
    out->lowers = calloc(r->n_layers, sizeof(*out->lowers));
    r->held = calloc(r->n_layers, sizeof(*r->held));
    if (out->lowers == NULL || r->held == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    out->n_lowers = r->n_layers;
    for (size_t i = 0; i < r->n_layers; i++)
        if (hcs_layer_files_path(r->layers[i], &out->lowers[i], err) < 0)
            return hcs_err_wrap(err, "Storage.Layers[%zu]", i);
    /*
     * Held only once all are known good: a refused list holds nothing. Holding a plain folder
     * records nothing (it is never written to), and releasing it does nothing.
     */
    for (size_t i = 0; i < r->n_layers; i++) {
        if (hcs_layer_hold(r->layers[i], r->holder, err) < 0)
            return hcs_err_wrap(err, "Storage.Layers[%zu]", i);
        r->held[i] = true;
    }
    return 0;
}

/* The real path of path, or a copy of path itself when it cannot be resolved. */
static char *canonical(const char *path)
{
    char *real = realpath(path, NULL);
    return real != NULL ? real : strdup(path);
}

static bool same_layer(const char *a, const char *b)
{
    AUTOFREE char *ra = canonical(a);
    AUTOFREE char *rb = canonical(b);
    return ra != NULL && rb != NULL && strcmp(ra, rb) == 0;
}

/* "[a, b, c]" for messages (NULL when out of memory). */
static char *join(const char *const *paths, size_t n)
{
    char *s = strdup("[");
    for (size_t i = 0; s != NULL && i < n; i++) {
        char *t = hcs_asprintf("%s%s%s", s, i ? ", " : "", paths[i]);
        free(s);
        s = t;
    }
    char *t = s ? hcs_asprintf("%s]", s) : NULL;
    free(s);
    return t;
}

/* The writable layer's parents must be Storage.Layers. */
static int check_parents(const struct resolution *r, const hcs_layer_info *info, hcs_error **err)
{
    bool same = info->n_parents == r->n_layers;
    for (size_t i = 0; same && i < r->n_layers; i++)
        same = same_layer(info->parents[i], r->layers[i]);
    if (same)
        return 0;
    AUTOFREE char *recorded = join((const char *const *)info->parents, info->n_parents);
    AUTOFREE char *given = join(r->layers, r->n_layers);
    return hcs_err_set(err, HCS_E_INVALID_LAYER,
                       "Storage.Path: the writable layer %s was initialized over the layers %s, "
                       "but Storage.Layers names %s",
                       r->writable, recorded ? recorded : "(out of memory)",
                       given ? given : "(out of memory)");
}

/*
 * Make the writable folder a writable layer over the layers when it is missing or empty; refuse
 * anything else that is not a writable layer already. info receives its layer.json.
 */
static int prepare_writable(struct resolution *r, hcs_layer_info *info, hcs_error **err)
{
    const char *w = r->writable;
    if (w[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "Storage.Path: %s is not an absolute path", w);
    struct stat st;
    bool missing = false;
    if (lstat(w, &st) < 0) {
        if (errno != ENOENT)
            return hcs_err_errno(err, errno, "Storage.Path: %s", w);
        missing = true;
    }
    if (!missing) {
        if (!S_ISDIR(st.st_mode))
            return hcs_err_set(err, E_INVALIDARG,
                               "Storage.Path: %s is not a folder (Storage.Path must be an empty "
                               "folder or a writable layer)",
                               w);
        if (hcs_layer_info_read(w, info, err) < 0)
            return hcs_err_wrap(err, "Storage.Path");
        if (info->kind == HCS_LAYER_KIND_WRITABLE)
            return check_parents(r, info, err);
        if (info->kind == HCS_LAYER_KIND_READONLY)
            return hcs_err_set(err, HCS_E_INVALID_LAYER,
                               "Storage.Path: %s is a read-only layer (Storage.Path must be an "
                               "empty folder or a writable layer)",
                               w);
        int empty = folder_is_empty(w);
        if (empty < 0)
            return hcs_err_errno(err, errno, "Storage.Path: read %s", w);
        if (!empty)
            return hcs_err_set(err, HCS_E_INVALID_LAYER,
                               "Storage.Path: %s is neither empty nor a writable layer (no %s): "
                               "Storage.Path must be an empty folder or a writable layer",
                               w, HCS_LAYER_META);
    }
    if (hcs_layer_init_writable(w, r->layers, r->n_layers, err) < 0)
        return hcs_err_wrap(err, "Storage.Path");
    r->made = missing ? MADE_FOLDER : MADE_CONTENT;
    hcs_layer_info_free(info);
    if (hcs_layer_info_read(w, info, err) < 0)
        return hcs_err_wrap(err, "Storage.Path");
    return 0;
}

/* Whether W/rootfs is a mount point here (a union a caller attached), not the plain folder. */
static bool rootfs_mounted(const char *w)
{
    AUTOFREE char *rootfs = hcs_asprintf("%s/%s", w, HCS_LAYER_ROOTFS);
    struct statx stx;
    if (rootfs == NULL || statx(AT_FDCWD, rootfs, 0, STATX_BASIC_STATS, &stx) < 0)
        return false;
    return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 &&
           (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

static void drop_lowers(hcs_layer_root *out)
{
    for (size_t i = 0; i < out->n_lowers; i++)
        free(out->lowers[i]);
    out->n_lowers = 0;
}

/* The root's writable part, per the backend W was initialized with. */
static int resolve_view(const struct resolution *r, const hcs_layer_info *info, hcs_layer_root *out,
                        hcs_error **err)
{
    const char *w = r->writable;
    if (info->backend == HCS_LAYER_BACKEND_OVERLAY && !(info->attached && rootfs_mounted(w))) {
        out->upper = hcs_asprintf("%s/%s", w, HCS_LAYER_FILES);
        out->work = hcs_asprintf("%s/%s", w, HCS_LAYER_WORK);
        if (out->upper == NULL || out->work == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        return 0;
    }
    if (info->backend == HCS_LAYER_BACKEND_COPY && !info->attached) {
        AUTOFREE char *copied = hcs_asprintf("%s/%s", w, HCS_LAYER_COPIED);
        if (copied == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        if (access(copied, F_OK) < 0) {
            /* The first attach copies the merged layers into W/rootfs. */
            if (hcs_layer_attach(w, NULL, 0, err) < 0 || hcs_layer_detach(w, err) < 0)
                return hcs_err_wrap(err, "Storage.Path");
        }
    }
    out->bind = hcs_asprintf("%s/%s", w, HCS_LAYER_ROOTFS);
    if (out->bind == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    drop_lowers(out);
    return 0;
}

static int resolve_writable(struct resolution *r, hcs_layer_root *out, hcs_error **err)
{
    hcs_layer_info info = {0};
    int rc = prepare_writable(r, &info, err);
    if (rc == 0) {
        /* One system at a time writes into a writable layer. */
        AUTOFREE char *real = canonical(r->writable);
        rc = real == NULL ? hcs_err_set(err, E_OUTOFMEMORY, "out of memory")
                          : hcs_layer_holders_check(r->writable, real, err);
        if (rc < 0)
            hcs_err_wrap(err, "Storage.Path");
    }
    if (rc == 0)
        rc = resolve_view(r, &info, out, err);
    if (rc == 0) {
        rc = hcs_layer_hold(r->writable, r->holder, err);
        if (rc < 0)
            hcs_err_wrap(err, "Storage.Path");
        else
            r->writable_held = true;
    }
    hcs_layer_info_free(&info);
    return rc;
}

int hcs_layer_root_resolve(const char *const *layers, size_t n_layers, const char *writable,
                           const char *holder, hcs_layer_root *out, hcs_error **err)
{
    memset(out, 0, sizeof(*out));
    if (layers == NULL || n_layers == 0)
        return hcs_err_set(err, E_INVALIDARG, "Storage.Layers: at least one layer is needed");
    if (holder == NULL || holder[0] == '\0')
        return hcs_err_set(err, E_INVALIDARG, "no holder given for the system's layers");
    struct resolution r = {
        .layers = layers,
        .n_layers = n_layers,
        .writable = writable,
        .holder = holder,
    };
    int rc = resolve_layers(&r, out, err);
    if (rc == 0 && writable != NULL)
        rc = resolve_writable(&r, out, err);
    if (rc < 0) {
        undo(&r);
        hcs_layer_root_free(out);
    }
    free(r.held);
    return rc < 0 ? -1 : 0;
}

void hcs_layer_root_release(const char *const *layers, size_t n_layers, const char *writable,
                            const char *holder)
{
    for (size_t i = 0; layers != NULL && i < n_layers; i++) {
        hcs_layer_info info;
        AUTOERR hcs_error *rerr = NULL;
        if (hcs_layer_info_read(layers[i], &info, &rerr) == 0) {
            enum hcs_layer_kind kind = info.kind;
            hcs_layer_info_free(&info);
            if (kind != HCS_LAYER_KIND_READONLY)
                continue; /* a plain folder (never held), or a refused writable layer */
        }
        hcs_layer_release(layers[i], holder);
    }
    if (writable != NULL)
        hcs_layer_release(writable, holder);
}
