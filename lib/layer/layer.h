/*
 * layer.h - the layer filesystem: OCI layers imported into layer folders, writable layers over a
 * parent chain, their union (overlayfs, or a copying fallback), export of changes as a layer.
 *
 * On disk (all paths are chosen by the caller, as with HCS' computestorage):
 *
 *   read-only layer L (HcsImportLayer)        writable layer W (HcsInitializeWritableLayer)
 *     L/layer.json   kind, diff id, size         W/layer.json   kind, parents, backend
 *     L/Files/       the filesystem, in the      W/Files/       changes (overlay upperdir)
 *                    union's form: whiteouts     W/Work/        overlay workdir
 *                    are 0/0 character devices,  W/rootfs/      the union view once attached
 *                    opaque folders carry the                   (copy backend: the whole tree)
 *                    xattr trusted.overlay.opaque=y
 *     L/Hives/       registry deltas from the archive's Hives/ (kept for lib/registry)
 *     L/.holders/    who uses the layer (writable layers, compute systems): destroy refuses
 *
 * A plain folder with no layer.json may still be used as a read-only layer (its content is the
 * filesystem itself); it is never modified or removed by this module.
 *
 * Every function returns 0, or -1 with *err set (HRESULT + message naming the path or archive
 * entry at fault). Nothing is left behind after a failure.
 */
#ifndef HCS_LAYER_LAYER_H
#define HCS_LAYER_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define HCS_LAYER_META "layer.json"
#define HCS_LAYER_FILES "Files"
#define HCS_LAYER_HIVES "Hives"
#define HCS_LAYER_WORK "Work"
#define HCS_LAYER_ROOTFS "rootfs"
#define HCS_LAYER_HOLDERS ".holders"

/* "sha256:" + 64 hex digits + NUL */
#define HCS_LAYER_DIGEST_LEN 72

/* "sha256:<hex>" of a 32-byte sha256 digest. */
void hcs_layer_digest_text(const uint8_t raw[32], char out[HCS_LAYER_DIGEST_LEN]);

/* Import limits (size bombs): 0 in the options means these defaults. */
#define HCS_LAYER_DEFAULT_MAX_BYTES (64ULL << 30) /* unpacked bytes (sum of file sizes) */
#define HCS_LAYER_DEFAULT_MAX_ENTRIES 10000000ULL

/* --- layer.json ------------------------------------------------------------------------------ */

enum hcs_layer_kind {
    HCS_LAYER_KIND_FOLDER = 0, /* a plain folder: no layer.json */
    HCS_LAYER_KIND_READONLY,   /* imported */
    HCS_LAYER_KIND_WRITABLE,   /* initialized by hcs_layer_init_writable */
};

enum hcs_layer_backend {
    HCS_LAYER_BACKEND_NONE = 0,
    HCS_LAYER_BACKEND_OVERLAY, /* overlayfs: upper = W/Files, work = W/Work, view at W/rootfs */
    HCS_LAYER_BACKEND_COPY,    /* the merged parents copied into W/rootfs; changes found by diff */
};

typedef struct hcs_layer_info {
    enum hcs_layer_kind kind;
    char *diff_id; /* read-only: "sha256:..." of the uncompressed layer tar */
    uint64_t size; /* read-only: unpacked bytes */
    uint64_t entries;
    char **parents; /* writable: the parent chain, nearest first (absolute paths) */
    size_t n_parents;
    enum hcs_layer_backend backend; /* writable: fixed at initialization */
    bool attached;                  /* writable: the view at W/rootfs is attached */
} hcs_layer_info;

/* Read path/layer.json (a folder without one gives kind FOLDER, the rest zero). */
int hcs_layer_info_read(const char *path, hcs_layer_info *out, hcs_error **err);
void hcs_layer_info_free(hcs_layer_info *info);

/* Write path/layer.json atomically and durably from info. */
int hcs_layer_info_write(const char *path, const hcs_layer_info *info, hcs_error **err);

/*
 * The same, atomically but not flushed to disk: for what a crash undoes anyway (Attached: no
 * mount survives a reboot, and attach and detach correct a stale flag).
 */
int hcs_layer_info_update(const char *path, const hcs_layer_info *info, hcs_error **err);

/*
 * The folder holding a read-only layer's filesystem: path/Files for an imported layer, path
 * itself for a plain folder. A writable layer is refused (it is not a read-only layer). Caller
 * frees *out.
 */
int hcs_layer_files_path(const char *path, char **out, hcs_error **err);

/* --- backend --------------------------------------------------------------------------------- */

/*
 * The backend of this host, chosen once per process: HCS_LAYER_BACKEND=overlay|copy in the
 * environment forces one; otherwise overlay when a test mount of overlayfs (with whiteouts and
 * an upper folder) under the data root succeeds, else copy.
 */
enum hcs_layer_backend hcs_layer_backend(void);
const char *hcs_layer_backend_name(enum hcs_layer_backend b);

/* --- import (import.c, unpack.c) ------------------------------------------------------------- */

typedef struct hcs_layer_progress {
    uint64_t read;    /* source bytes read so far (compressed) */
    uint64_t total;   /* source size when known, else 0 */
    uint64_t written; /* unpacked bytes written */
    uint64_t entries; /* entries unpacked */
} hcs_layer_progress;

typedef void (*hcs_layer_progress_fn)(const hcs_layer_progress *p, void *ctx);

typedef struct hcs_layer_import_opts {
    uint64_t max_bytes;         /* 0: HCS_LAYER_DEFAULT_MAX_BYTES */
    uint64_t max_entries;       /* 0: HCS_LAYER_DEFAULT_MAX_ENTRIES */
    const char *const *parents; /* recorded in layer.json; may be NULL */
    size_t n_parents;
    hcs_layer_progress_fn progress; /* called about every 4 MiB read, and at the end; or NULL */
    void *progress_ctx;
} hcs_layer_import_opts;

/*
 * Import source into layer_path. source is a layer archive (tar, tar+gzip or tar+zstd, detected
 * by content) or a folder (an unpacked layer, OCI whiteouts allowed). layer_path must not exist
 * (or be an empty folder). The layer is unpacked into a temporary sibling folder, then renamed:
 * a failed or killed import leaves no layer_path (a killed one's temporary folder is removed by
 * the next import into the same parent folder). diff_id (may be NULL) receives the sha256 of the
 * uncompressed archive; for a folder, that of its canonical export (hcs_layer_digest_tree).
 */
int hcs_layer_import(const char *layer_path, const char *source, const hcs_layer_import_opts *o,
                     char diff_id[HCS_LAYER_DIGEST_LEN], hcs_error **err);

/* The same from an open archive descriptor (read to its end, not closed); name for messages. */
int hcs_layer_import_fd(const char *layer_path, int fd, const char *name,
                        const hcs_layer_import_opts *o, char diff_id[HCS_LAYER_DIGEST_LEN],
                        hcs_error **err);

/* Remove temporary folders of dead imports in parent_dir (folder of a layer path). */
void hcs_layer_sweep(const char *parent_dir);

/* --- export (export.c) ----------------------------------------------------------------------- */

enum hcs_layer_compression {
    HCS_LAYER_COMPRESS_NONE = 0,
    HCS_LAYER_COMPRESS_GZIP,
    HCS_LAYER_COMPRESS_ZSTD,
};

typedef struct hcs_layer_export_opts {
    enum hcs_layer_compression compression;
    int level; /* 0: the compressor's default */
    /* Every mtime set to timestamp, no owner names: the same tree gives the same bytes. */
    bool deterministic;
    int64_t timestamp;
} hcs_layer_export_opts;

/*
 * Write the layer at layer_path as an OCI layer archive at archive_path (a file, written to a
 * temporary name and renamed; or, when archive_path is an existing folder, archive_path/
 * layer.tar, layer.tar.gz or layer.tar.zst). A read-only layer exports its whole Files/; a
 * writable layer its changes (overlay: W/Files; copy backend: W/rootfs compared with the merged
 * parents). Whiteouts and opaque folders are written in OCI form (.wh.NAME, .wh..wh..opq).
 * Entries are always in byte order of their paths, hard links as tar links, xattrs as
 * SCHILY.xattr records (trusted.overlay.* never), holes of sparse files as sparse entries.
 * diff_id (may be NULL) receives the sha256 of the uncompressed tar.
 */
int hcs_layer_export(const char *layer_path, const char *archive_path,
                     const hcs_layer_export_opts *o, char diff_id[HCS_LAYER_DIGEST_LEN],
                     hcs_error **err);

/* sha256 of the uncompressed, non-deterministic export of the tree at files_dir (a Files/). */
int hcs_layer_digest_tree(const char *files_dir, char diff_id[HCS_LAYER_DIGEST_LEN],
                          hcs_error **err);

/* --- writable layers, union, destroy (writable.c, union.c, holders.c) ------------------------ */

/*
 * Make path a writable layer over parents (nearest first; imported layers or plain folders):
 * creates path (or uses an empty folder), Files/, Work/, rootfs/, layer.json with the backend.
 */
int hcs_layer_init_writable(const char *path, const char *const *parents, size_t n_parents,
                            hcs_error **err);

/*
 * Attach the union view at path/rootfs in the caller's mount namespace. parents (may be NULL:
 * those recorded at initialization) must equal the recorded chain when given. Overlay: mounted
 * with descriptors, so any chain length overlayfs allows works; copy: the merged parents are
 * copied into rootfs the first time. Records each parent's holder. Attaching twice is refused.
 */
int hcs_layer_attach(const char *path, const char *const *parents, size_t n_parents,
                     hcs_error **err);

/* Unmount (overlay) or mark detached (copy; rootfs keeps the tree). Releases the holders. */
int hcs_layer_detach(const char *path, hcs_error **err);

/*
 * Remove a layer (read-only or writable). Refused while in use: a writable layer attached, or a
 * layer with a live holder (an attached writable layer over it, a compute system using it);
 * the message names the holder. Stale holders are dropped. A plain folder is refused.
 */
int hcs_layer_destroy(const char *path, hcs_error **err);

/*
 * Copy backend: write the changes of writable layer path (path/rootfs against its merged
 * parents) into the empty folder out_dir in the union's form (changed and added entries, 0/0
 * character devices for deletions), for hcs_layer_export. Unchanged files are not copied;
 * changed regular files are hard-linked from rootfs when possible.
 */
int hcs_layer_copy_changes(const char *path, const char *out_dir, hcs_error **err);

/* Holders: free-form strings, e.g. "writable /path" or "system <runtime-root> <id>". */
int hcs_layer_hold(const char *layer_path, const char *holder, hcs_error **err);
void hcs_layer_release(const char *layer_path, const char *holder);

/*
 * The overlay union of lowers (nearest first) with upper/work (both NULL for a read-only
 * union), mounted at target. Layers are handed to the kernel by descriptor (no option-length
 * limit on Linux 6.8+). what names the layers in messages (e.g. "Storage.Layers").
 * redirect_dir and metacopy are off, so upper holds a self-contained diff.
 */
typedef struct hcs_layer_union {
    const char *const *lowers;
    size_t n_lowers;
    const char *upper, *work;
    const char *target;
    const char *what;
} hcs_layer_union;
int hcs_layer_mount_union(const hcs_layer_union *u, hcs_error **err);

/* --- compute systems (root.c) ---------------------------------------------------------------- */

/*
 * What a compute system's root is made of, from Container.Storage: layers (imported layers or
 * plain folders) and the writable layer path (NULL: a read-only root). A writable folder that
 * is missing, empty, or an old-style folder without layer.json is initialized as a writable
 * layer over layers. holder is recorded on every layer and removed by hcs_layer_root_release.
 *   overlay backend: lowers = the layers' files folders, upper/work = W/Files, W/Work;
 *   copy backend:    bind = W/rootfs (the merged tree, copied at first use), lowers empty.
 */
typedef struct hcs_layer_root {
    char **lowers;
    size_t n_lowers;
    char *upper, *work;
    char *bind;
} hcs_layer_root;

int hcs_layer_root_resolve(const char *const *layers, size_t n_layers, const char *writable,
                           const char *holder, hcs_layer_root *out, hcs_error **err);
void hcs_layer_root_release(const char *const *layers, size_t n_layers, const char *writable,
                            const char *holder);
void hcs_layer_root_free(hcs_layer_root *r);

#endif
