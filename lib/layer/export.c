/*
 * export.c - a layer written as an OCI layer archive (hcs_layer_export), and the diff id of a
 * tree (hcs_layer_digest_tree).
 *
 * One pass over the tree: libarchive's pax writer (uncompressed) hands its bytes to tar_write,
 * which hashes them (the diff id is the sha256 of the uncompressed tar) and passes them on to
 * the archive file, either as they are or through a second libarchive writer in "raw" format
 * that only compresses (gzip or zstd). So compression needs no library of its own.
 *
 * The same tree always gives the same bytes: entries in byte order of their archive paths (a
 * folder before its contents, its opaque marker first among them), only mtime in whole seconds
 * (no atime, ctime, owner names), xattrs sorted, hard links to the first path in that order,
 * the header charset fixed (names are read as UTF-8 whatever the caller's locale), gzip without
 * a timestamp, the archive padded to tar's 10240-byte record.
 *
 * The tree is walked with descriptors (openat, fstatat with AT_SYMLINK_NOFOLLOW, O_NOFOLLOW):
 * a symlink is archived, never followed. Overlay whiteouts (0/0 character devices) become
 * .wh.NAME files, opaque folders (trusted.overlay.opaque=y) a .wh..wh..opq file; trusted.overlay.*
 * is never exported. Holes of sparse files become pax sparse entries (GNU sparse format 1.0).
 *
 * A layer's registry goes with it as "Hives/..." entries among the tree's root entries (in the
 * same order): a read-only layer's Hives/ folder as it is; a writable layer's delta log
 * (W/Hives/delta.log) as one hive file <Hive>_Delta per hive it changes, written into a
 * temporary folder under W from a copy of the log (the live log is never opened for writing).
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "layer.h"
#include "registry/registry.h"

#define CHUNK ((size_t)256 << 10)     /* file data read and written at a time */
#define TAR_RECORD 10240              /* the archive ends padded to tar's record size */
#define WRITE_BLOCK (25 * TAR_RECORD) /* bytes handed to the sink at a time */
#define WHITEOUT ".wh."
#define OPAQUE ".wh..wh..opq"
#define OVERLAY_OPAQUE "trusted.overlay.opaque"

/* A regular file with more than one link, by the archive path it was first written at. */
typedef struct link_slot {
    dev_t dev;
    ino_t ino;
    char *path; /* NULL: free slot */
} link_slot;

/* Data ranges of a sparse file. */
typedef struct extent {
    off_t off, len;
} extent;

typedef struct exporter {
    const char *root; /* the tree, for messages */
    bool deterministic;
    int64_t timestamp;

    struct archive *tar; /* pax writer: its bytes go to tar_write */
    struct archive *z;   /* raw writer that compresses, or NULL */
    int out_fd;          /* the archive file, or -1 (hash only) */
    const char *out_name;
    bool skip_out; /* the archive file lies in the tree: leave it out */
    int hives_dfd; /* the folder holding a "Hives" folder exported at the root, or -1 */
    dev_t out_dev;
    ino_t out_ino;
    struct sha256_ctx sha;
    hcs_error *io_err; /* set by a callback that failed */
    bool failed;       /* the export failed: let libarchive's cleanup write nothing */

    struct archive_entry *ae;
    char *path; /* archive path of the current entry */
    size_t path_cap;
    char *buf;   /* CHUNK bytes of file data */
    char *zeros; /* CHUNK zero bytes for holes, allocated at the first sparse file */
    extent *ext;
    size_t n_ext, cap_ext;
    link_slot *links;
    size_t n_links, cap_links;
} exporter;

/* One entry of a folder, as listed before sorting. */
typedef struct child {
    char *name; /* on disk */
    char *out;  /* in the archive: name, or .wh.name for a whiteout */
    struct stat st;
} child;

/* --- the byte sink ----------------------------------------------------------------------- */

static int full_write(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Compressed bytes, from the raw writer. */
static la_ssize_t z_write(struct archive *a, void *ctx, const void *data, size_t len)
{
    (void)a;
    exporter *x = ctx;
    if (x->failed)
        return -1;
    if (full_write(x->out_fd, data, len) < 0) {
        hcs_err_errno(&x->io_err, errno, "write %s", x->out_name);
        return -1;
    }
    return (la_ssize_t)len;
}

/* Uncompressed tar bytes: hashed, then written or compressed. */
static la_ssize_t tar_write(struct archive *a, void *ctx, const void *data, size_t len)
{
    (void)a;
    exporter *x = ctx;
    if (x->failed)
        return -1;
    sha256_update(&x->sha, len, data);
    if (x->z != NULL) {
        la_ssize_t w = archive_write_data(x->z, data, len);
        if (w != (la_ssize_t)len) {
            if (x->io_err == NULL)
                hcs_err_set(&x->io_err, E_FAIL, "compress %s: %s", x->out_name,
                            archive_error_string(x->z));
            return -1;
        }
    } else if (x->out_fd >= 0 && full_write(x->out_fd, data, len) < 0) {
        hcs_err_errno(&x->io_err, errno, "write %s", x->out_name);
        return -1;
    }
    return (la_ssize_t)len;
}

/* The error of a failed libarchive call on a: the callback's own, or libarchive's message. */
static int archive_fail(exporter *x, struct archive *a, hcs_error **err, const char *what)
{
    if (x->io_err != NULL) {
        hcs_err_move(err, &x->io_err);
        return hcs_err_wrap(err, "%s", what);
    }
    const char *msg = archive_error_string(a);
    return hcs_err_set(err, E_FAIL, "%s: %s", what, msg ? msg : "libarchive failed");
}

static int set_filter_option(exporter *x, const char *filter, const char *key, const char *value,
                             hcs_error **err)
{
    if (archive_write_set_filter_option(x->z, filter, key, value) == ARCHIVE_OK)
        return 0;
    const char *msg = archive_error_string(x->z);
    return hcs_err_set(err, E_INVALIDARG, "%s option %s=%s: %s", filter, key,
                       value ? value : "(off)", msg ? msg : "refused");
}

/* The compressing writer: raw format (a single stream, no headers of its own) plus a filter. */
static int open_compressor(exporter *x, const hcs_layer_export_opts *o, hcs_error **err)
{
    const char *filter = o->compression == HCS_LAYER_COMPRESS_GZIP ? "gzip" : "zstd";
    x->z = archive_write_new();
    if (x->z == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    int r = archive_write_set_format_raw(x->z);
    if (r == ARCHIVE_OK)
        r = o->compression == HCS_LAYER_COMPRESS_GZIP ? archive_write_add_filter_gzip(x->z)
                                                      : archive_write_add_filter_zstd(x->z);
    if (r != ARCHIVE_OK)
        return archive_fail(x, x->z, err, filter);
    char level[16];
    snprintf(level, sizeof(level), "%d", o->level);
    if (o->level != 0 && set_filter_option(x, filter, "compression-level", level, err) < 0)
        return -1;
    if (o->compression == HCS_LAYER_COMPRESS_GZIP) {
        /* No mtime in the gzip header: the same tar gives the same bytes. */
        if (set_filter_option(x, filter, "timestamp", NULL, err) < 0)
            return -1;
    } else {
        /*
         * Worker threads: zstd compresses while this thread reads and hashes. Its output is the
         * same whatever the number of workers (from one up), so the archive stays reproducible.
         */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        char threads[16];
        snprintf(threads, sizeof(threads), "%ld", cpus < 1 ? 1 : cpus > 4 ? 4 : cpus);
        if (set_filter_option(x, filter, "threads", threads, err) < 0)
            return -1;
    }
    /* bytes_in_last_block 1: the compressed stream is not padded. */
    if (archive_write_set_bytes_per_block(x->z, WRITE_BLOCK) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(x->z, 1) != ARCHIVE_OK ||
        archive_write_open(x->z, x, NULL, z_write, NULL) != ARCHIVE_OK)
        return archive_fail(x, x->z, err, filter);
    struct archive_entry *e = archive_entry_new();
    if (e == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    archive_entry_set_pathname(e, "layer.tar");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    r = archive_write_header(x->z, e);
    archive_entry_free(e);
    return r == ARCHIVE_OK ? 0 : archive_fail(x, x->z, err, filter);
}

static int open_pipeline(exporter *x, const hcs_layer_export_opts *o, hcs_error **err)
{
    if (o->compression != HCS_LAYER_COMPRESS_NONE && open_compressor(x, o, err) < 0)
        return -1;
    x->tar = archive_write_new();
    if (x->tar == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    /*
     * xattrs as SCHILY.xattr only (libarchive also writes LIBARCHIVE.xattr by default); the
     * whole archive in blocks of WRITE_BLOCK, the last one padded to a whole tar record.
     */
    if (archive_write_set_format_pax_restricted(x->tar) != ARCHIVE_OK ||
        archive_write_set_format_option(x->tar, "pax", "xattrheader", "SCHILY") != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(x->tar, WRITE_BLOCK) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(x->tar, TAR_RECORD) != ARCHIVE_OK ||
        archive_write_open(x->tar, x, NULL, tar_write, NULL) != ARCHIVE_OK)
        return archive_fail(x, x->tar, err, "start the tar stream");
    return 0;
}

/* End the tar stream (its padding flows through tar_write) and then the compressed one. */
static int close_pipeline(exporter *x, hcs_error **err)
{
    if (archive_write_close(x->tar) != ARCHIVE_OK)
        return archive_fail(x, x->tar, err, "end the tar stream");
    if (x->z != NULL && archive_write_close(x->z) != ARCHIVE_OK)
        return archive_fail(x, x->z, err, "end the compressed stream");
    return 0;
}

static void exporter_free(exporter *x)
{
    /*
     * Freeing a writer that was not closed closes it: on failure, its callbacks refuse the
     * bytes, or libarchive would pad the current entry to its size (gigabytes, maybe) first.
     * The tar writer first: freeing it may still flush bytes into the compressor.
     */
    if (x->tar != NULL)
        archive_write_free(x->tar);
    if (x->z != NULL)
        archive_write_free(x->z);
    if (x->ae != NULL)
        archive_entry_free(x->ae);
    for (size_t i = 0; i < x->cap_links; i++)
        free(x->links[i].path);
    free(x->links);
    free(x->ext);
    free(x->zeros);
    free(x->buf);
    free(x->path);
    hcs_err_free(x->io_err);
}

/* --- paths and hard links ---------------------------------------------------------------- */

/* x->path := x->path[0..plen) + name + suffix. */
static int path_set(exporter *x, size_t plen, const char *name, const char *suffix)
{
    size_t n = strlen(name), s = strlen(suffix);
    if (plen + n + s + 1 > x->path_cap) {
        size_t cap = (plen + n + s + 1) * 2;
        char *p = realloc(x->path, cap);
        if (p == NULL)
            return -1;
        x->path = p;
        x->path_cap = cap;
    }
    memcpy(x->path + plen, name, n);
    memcpy(x->path + plen + n, suffix, s + 1);
    return 0;
}

static size_t link_hash(dev_t dev, ino_t ino, size_t cap)
{
    uint64_t h = ((uint64_t)ino * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)dev * 0xC2B2AE3D27D4EB4FULL);
    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/*
 * The archive path a file with several links was first written at, or NULL when this is the
 * first time (then path is recorded). -1 on out of memory.
 */
static int link_lookup(exporter *x, const struct stat *st, const char *path, const char **first)
{
    *first = NULL;
    if (2 * (x->n_links + 1) > x->cap_links) {
        size_t cap = x->cap_links ? x->cap_links * 2 : 256;
        link_slot *t = calloc(cap, sizeof(*t));
        if (t == NULL)
            return -1;
        for (size_t i = 0; i < x->cap_links; i++) {
            if (x->links[i].path == NULL)
                continue;
            size_t j = link_hash(x->links[i].dev, x->links[i].ino, cap);
            while (t[j].path != NULL)
                j = (j + 1) & (cap - 1);
            t[j] = x->links[i];
        }
        free(x->links);
        x->links = t;
        x->cap_links = cap;
    }
    size_t j = link_hash(st->st_dev, st->st_ino, x->cap_links);
    for (; x->links[j].path != NULL; j = (j + 1) & (x->cap_links - 1)) {
        if (x->links[j].dev == st->st_dev && x->links[j].ino == st->st_ino) {
            *first = x->links[j].path;
            return 0;
        }
    }
    if ((x->links[j].path = strdup(path)) == NULL)
        return -1;
    x->links[j].dev = st->st_dev;
    x->links[j].ino = st->st_ino;
    x->n_links++;
    return 0;
}

/* --- entries ----------------------------------------------------------------------------- */

static int oom(hcs_error **err)
{
    hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    return -1;
}

/* Start an entry at x->path with the metadata we export: type, permissions, owner, mtime. */
static void entry_start(exporter *x, const struct stat *st, unsigned type)
{
    archive_entry_clear(x->ae);
    archive_entry_set_pathname(x->ae, x->path);
    archive_entry_set_filetype(x->ae, type);
    archive_entry_set_perm(x->ae, st->st_mode & 07777);
    archive_entry_set_uid(x->ae, st->st_uid);
    archive_entry_set_gid(x->ae, st->st_gid);
    archive_entry_set_mtime(x->ae, x->deterministic ? x->timestamp : st->st_mtim.tv_sec, 0);
}

static int put_header(exporter *x, hcs_error **err)
{
    /* ARCHIVE_WARN: a name that is not UTF-8, written as bytes (hdrcharset=BINARY). */
    if (archive_write_header(x->tar, x->ae) >= ARCHIVE_WARN)
        return 0;
    archive_fail(x, x->tar, err, "write the archive header");
    return hcs_err_wrap(err, "%s/%s", x->root, x->path);
}

static int put_data(exporter *x, const void *data, size_t len, hcs_error **err)
{
    if (archive_write_data(x->tar, data, len) >= 0)
        return 0;
    archive_fail(x, x->tar, err, "write to the archive");
    return hcs_err_wrap(err, "%s/%s", x->root, x->path);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Never exported: overlayfs' own attributes (trusted.overlay.*, and user.overlay.* of a
 * userxattr mount) describe the union, not the files; whiteouts and opaque folders are written
 * in OCI form instead. security.selinux is the labeling of this host, which the host that
 * imports the layer does itself.
 */
static bool xattr_skipped(const char *name)
{
    return strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.overlay.", 13) == 0 ||
           strcmp(name, "security.selinux") == 0;
}

/* Add the xattrs of fd (or, when fd < 0, of lpath, not followed) to the entry, sorted. */
static int add_xattrs(exporter *x, int fd, const char *lpath, hcs_error **err)
{
    AUTOFREE char *names = NULL;
    ssize_t n;
    for (;;) {
        n = fd >= 0 ? flistxattr(fd, NULL, 0) : llistxattr(lpath, NULL, 0);
        if (n <= 0)
            break;
        free(names);
        if ((names = malloc((size_t)n)) == NULL)
            return oom(err);
        n = fd >= 0 ? flistxattr(fd, names, (size_t)n) : llistxattr(lpath, names, (size_t)n);
        if (n >= 0 || errno != ERANGE)
            break;
    }
    if (n < 0) {
        if (errno == ENOTSUP)
            return 0;
        return hcs_err_errno(err, errno, "%s/%s: list extended attributes", x->root, x->path);
    }
    size_t count = 0;
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1)
        count++;
    if (count == 0)
        return 0;
    AUTOFREE char **sorted = calloc(count, sizeof(*sorted));
    if (sorted == NULL)
        return oom(err);
    count = 0;
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1)
        sorted[count++] = names + i;
    qsort(sorted, count, sizeof(*sorted), name_cmp);
    AUTOFREE char *value = NULL;
    for (size_t i = 0; i < count; i++) {
        if (xattr_skipped(sorted[i]))
            continue;
        ssize_t v;
        for (;;) {
            v = fd >= 0 ? fgetxattr(fd, sorted[i], NULL, 0) : lgetxattr(lpath, sorted[i], NULL, 0);
            if (v < 0)
                break;
            free(value);
            if ((value = malloc((size_t)v + 1)) == NULL)
                return oom(err);
            v = fd >= 0 ? fgetxattr(fd, sorted[i], value, (size_t)v)
                        : lgetxattr(lpath, sorted[i], value, (size_t)v);
            if (v >= 0 || errno != ERANGE)
                break;
        }
        if (v < 0) {
            if (errno == ENODATA) /* removed meanwhile */
                continue;
            return hcs_err_errno(err, errno, "%s/%s: read extended attribute %s", x->root, x->path,
                                 sorted[i]);
        }
        archive_entry_xattr_add_entry(x->ae, sorted[i], value, (size_t)v);
    }
    return 0;
}

/* xattrs of dfd/name without opening it (a symlink, a fifo): through /proc/self/fd. */
static int add_xattrs_at(exporter *x, int dfd, const char *name, hcs_error **err)
{
    AUTOFREE char *lpath = hcs_asprintf("/proc/self/fd/%d/%s", dfd, name);
    if (lpath == NULL)
        return oom(err);
    return add_xattrs(x, -1, lpath, err);
}

static int ext_push(exporter *x, off_t off, off_t len)
{
    if (x->n_ext == x->cap_ext) {
        size_t cap = x->cap_ext ? x->cap_ext * 2 : 16;
        extent *e = realloc(x->ext, cap * sizeof(*e));
        if (e == NULL)
            return -1;
        x->ext = e;
        x->cap_ext = cap;
    }
    x->ext[x->n_ext++] = (extent){off, len};
    return 0;
}

/*
 * The data ranges of fd when it has holes (SEEK_DATA/SEEK_HOLE), in x->ext; n_ext = 0 when it
 * has none or the file system cannot tell (the file is then written whole). -1: out of memory.
 */
static int find_extents(exporter *x, int fd, off_t size)
{
    x->n_ext = 0;
    off_t data = 0, off = 0;
    while (off < size) {
        off_t d = lseek(fd, off, SEEK_DATA);
        if (d < 0 && errno == ENXIO)
            break; /* a hole up to the end */
        off_t h = d < 0 ? -1 : lseek(fd, d, SEEK_HOLE);
        if (h < 0) {
            x->n_ext = 0;
            return 0;
        }
        if (d >= size)
            break;
        if (h > size)
            h = size;
        if (ext_push(x, d, h - d) < 0)
            return -1;
        data += h - d;
        off = h;
    }
    if (data == size)
        x->n_ext = 0;                                   /* no hole after all */
    else if (x->n_ext == 0 && ext_push(x, size, 0) < 0) /* all hole: an empty range at the end */
        return -1;
    return 0;
}

/* Copy len bytes at off of fd into the archive. A file that shrank is padded with zeros. */
static int copy_range(exporter *x, int fd, off_t off, off_t len, hcs_error **err)
{
    while (len > 0) {
        size_t want = len < (off_t)CHUNK ? (size_t)len : CHUNK;
        ssize_t r = pread(fd, x->buf, want, off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return hcs_err_errno(err, errno, "%s/%s: read", x->root, x->path);
        }
        if (r == 0) {
            memset(x->buf, 0, want);
            r = (ssize_t)want;
        }
        if (put_data(x, x->buf, (size_t)r, err) < 0)
            return -1;
        off += r;
        len -= r;
    }
    return 0;
}

/* A hole: the sparse writer expects its bytes passed through and skips them. */
static int skip_hole(exporter *x, off_t len, hcs_error **err)
{
    while (len > 0) {
        size_t n = len < (off_t)CHUNK ? (size_t)len : CHUNK;
        if (put_data(x, x->zeros, n, err) < 0)
            return -1;
        len -= (off_t)n;
    }
    return 0;
}

static int emit_file(exporter *x, int dfd, const child *k, hcs_error **err)
{
    AUTOCLOSE int fd = openat(dfd, k->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
    if (fd < 0 && errno == EPERM) /* O_NOATIME on a file we do not own without CAP_FOWNER */
        fd = openat(dfd, k->name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return hcs_err_errno(err, errno, "%s/%s: open", x->root, x->path);
    if (!S_ISREG(st.st_mode))
        return hcs_err_set(err, HRESULT_FROM_ERRNO(EAGAIN),
                           "%s/%s: changed from a file to something else while being exported",
                           x->root, x->path);
    entry_start(x, &st, AE_IFREG);
    if (st.st_nlink > 1) {
        const char *first = NULL;
        if (link_lookup(x, &st, x->path, &first) < 0)
            return oom(err);
        if (first != NULL) {
            /* A link entry carries no data; the file's xattrs are on its first entry. */
            archive_entry_set_hardlink(x->ae, first);
            return put_header(x, err);
        }
    }
    archive_entry_set_size(x->ae, st.st_size);
    if (add_xattrs(x, fd, NULL, err) < 0)
        return -1;
    /* Fewer blocks than bytes: maybe holes (a file in a compressed or inline form also). */
    x->n_ext = 0;
    if (st.st_size > 0 && (off_t)st.st_blocks * 512 < st.st_size &&
        find_extents(x, fd, st.st_size) < 0)
        return oom(err);
    for (size_t i = 0; i < x->n_ext; i++)
        archive_entry_sparse_add_entry(x->ae, x->ext[i].off, x->ext[i].len);
    if (put_header(x, err) < 0)
        return -1;
    if (x->n_ext == 0)
        return copy_range(x, fd, 0, st.st_size, err);
    if (x->zeros == NULL && (x->zeros = calloc(1, CHUNK)) == NULL)
        return oom(err);
    off_t pos = 0;
    for (size_t i = 0; i < x->n_ext; i++) {
        if (skip_hole(x, x->ext[i].off - pos, err) < 0 ||
            copy_range(x, fd, x->ext[i].off, x->ext[i].len, err) < 0)
            return -1;
        pos = x->ext[i].off + x->ext[i].len;
    }
    return skip_hole(x, st.st_size - pos, err);
}

static int emit_symlink(exporter *x, int dfd, const child *k, hcs_error **err)
{
    size_t cap = k->st.st_size > 0 ? (size_t)k->st.st_size + 1 : 256;
    AUTOFREE char *target = NULL;
    for (;;) {
        free(target);
        if ((target = malloc(cap)) == NULL)
            return oom(err);
        ssize_t n = readlinkat(dfd, k->name, target, cap);
        if (n < 0)
            return hcs_err_errno(err, errno, "%s/%s: read the symlink", x->root, x->path);
        if ((size_t)n < cap) {
            target[n] = '\0';
            break;
        }
        cap *= 2;
    }
    entry_start(x, &k->st, AE_IFLNK);
    archive_entry_set_symlink(x->ae, target);
    if (add_xattrs_at(x, dfd, k->name, err) < 0)
        return -1;
    return put_header(x, err);
}

/*
 * An empty regular file standing for a whiteout or an opaque folder. Its metadata is fixed
 * (mode 0, owner 0:0, mtime 0 or the deterministic timestamp): a whiteout's own is only when
 * and by whom it was made (the kernel, an import), and a folder's is on its own entry. So a
 * layer exported, imported and exported again gives the same bytes.
 */
static int emit_marker(exporter *x, hcs_error **err)
{
    static const struct stat fixed = {.st_mode = S_IFREG};
    entry_start(x, &fixed, AE_IFREG);
    archive_entry_set_size(x->ae, 0);
    return put_header(x, err);
}

static void children_free(child *kids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (kids[i].out != kids[i].name)
            free(kids[i].out);
        free(kids[i].name);
    }
    free(kids);
}

static bool is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* The opaque marker first, then byte order of archive names (ties: of names on disk). */
static int child_cmp(const void *a, const void *b)
{
    const child *p = a, *q = b;
    bool po = strcmp(p->out, OPAQUE) == 0, qo = strcmp(q->out, OPAQUE) == 0;
    if (po != qo)
        return po ? -1 : 1;
    int c = strcmp(p->out, q->out);
    return c != 0 ? c : strcmp(p->name, q->name);
}

/* The entries of folder dfd (x->path, plen bytes), stat'ed and sorted. */
static int list_children(exporter *x, int dfd, child **out, size_t *n_out, hcs_error **err)
{
    *out = NULL;
    *n_out = 0;
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (d == NULL) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return hcs_err_errno(err, e, "%s/%s: list the folder", x->root, x->path);
    }
    child *kids = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (;;) {
        errno = 0;
        const struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                rc = hcs_err_errno(err, errno, "%s/%s: list the folder", x->root, x->path);
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            child *k = realloc(kids, cap * sizeof(*k));
            if (k == NULL) {
                rc = oom(err);
                break;
            }
            kids = k;
        }
        child *k = &kids[n];
        if (fstatat(dfd, de->d_name, &k->st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT) /* removed since listed */
                continue;
            rc = hcs_err_errno(err, errno, "%s/%s%s: stat", x->root, x->path, de->d_name);
            break;
        }
        if (x->skip_out && k->st.st_dev == x->out_dev && k->st.st_ino == x->out_ino)
            continue; /* the archive being written */
        if ((k->name = strdup(de->d_name)) == NULL) {
            rc = oom(err);
            break;
        }
        k->out = is_whiteout(&k->st) ? hcs_asprintf(WHITEOUT "%s", k->name) : k->name;
        n++;
        if (k->out == NULL) {
            rc = oom(err);
            break;
        }
    }
    closedir(d);
    if (rc < 0) {
        children_free(kids, n);
        return -1;
    }
    if (n > 1)
        qsort(kids, n, sizeof(*kids), child_cmp);
    *out = kids;
    *n_out = n;
    return 0;
}

static bool is_opaque(int dfd)
{
    char v[2];
    ssize_t n = fgetxattr(dfd, OVERLAY_OPAQUE, v, sizeof(v));
    return n == 1 && v[0] == 'y';
}

static int walk(exporter *x, int dfd, size_t plen, hcs_error **err);

static int emit_child(exporter *x, int dfd, size_t plen, const child *k, hcs_error **err)
{
    const char *suffix = S_ISDIR(k->st.st_mode) ? "/" : "";
    if (path_set(x, plen, k->out, suffix) < 0)
        return oom(err);
    switch (k->st.st_mode & S_IFMT) {
    case S_IFDIR: {
        AUTOCLOSE int fd = openat(dfd, k->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
            return hcs_err_errno(err, errno, "%s/%s: open the folder", x->root, x->path);
        entry_start(x, &st, AE_IFDIR);
        if (add_xattrs(x, fd, NULL, err) < 0 || put_header(x, err) < 0)
            return -1;
        return walk(x, fd, plen + strlen(k->out) + 1, err);
    }
    case S_IFREG:
        /* A whiteout already in OCI form (a plain folder): the same entry as from the union. */
        if (k->st.st_size == 0 && strncmp(k->name, WHITEOUT, strlen(WHITEOUT)) == 0)
            return emit_marker(x, err);
        return emit_file(x, dfd, k, err);
    case S_IFLNK:
        return emit_symlink(x, dfd, k, err);
    case S_IFIFO:
        entry_start(x, &k->st, AE_IFIFO);
        if (add_xattrs_at(x, dfd, k->name, err) < 0)
            return -1;
        return put_header(x, err);
    case S_IFSOCK:
        return 0; /* a socket is a live endpoint of a process, not content: tar skips them too */
    case S_IFCHR:
        if (is_whiteout(&k->st))
            return emit_marker(x, err);
        /* fall through */
    default:
        if (path_set(x, plen, k->name, "") < 0)
            return oom(err);
        return hcs_err_set(err, HCS_E_INVALID_LAYER,
                           "%s/%s: a %s device (%u:%u): a layer holds no device nodes other "
                           "than whiteouts (0/0 character devices)",
                           x->root, x->path, S_ISBLK(k->st.st_mode) ? "block" : "character",
                           major(k->st.st_rdev), minor(k->st.st_rdev));
    }
}

/* The contents of folder dfd, whose archive path (with its '/') is x->path[0..plen). */
static int walk(exporter *x, int dfd, size_t plen, hcs_error **err)
{
    child *kids = NULL;
    size_t n = 0;
    if (list_children(x, dfd, &kids, &n, err) < 0)
        return -1;
    int rc = 0;
    size_t i = 0;
    if (is_opaque(dfd)) {
        /* The union's form; a marker file in OCI form as well (a plain folder) repeats it. */
        if (n > 0 && strcmp(kids[0].out, OPAQUE) == 0)
            i = 1;
        if (path_set(x, plen, OPAQUE, "") < 0)
            rc = oom(err);
        else
            rc = emit_marker(x, err);
    }
    /* The registry's "Hives" folder takes its place among the root's entries. */
    child hives = {.name = (char *)HCS_LAYER_HIVES, .out = (char *)HCS_LAYER_HIVES};
    bool hives_due = plen == 0 && x->hives_dfd >= 0;
    if (rc == 0 && hives_due &&
        fstatat(x->hives_dfd, HCS_LAYER_HIVES, &hives.st, AT_SYMLINK_NOFOLLOW) < 0)
        rc = hcs_err_errno(err, errno, "the registry folder %s", HCS_LAYER_HIVES);
    for (; rc == 0 && i < n; i++) {
        int c = hives_due ? strcmp(kids[i].out, HCS_LAYER_HIVES) : -1;
        if (c == 0) {
            rc = hcs_err_set(err, HCS_E_INVALID_LAYER,
                             "%s/%s: the layer's files hold a root entry named %s, which the "
                             "archive entries of the layer's registry use",
                             x->root, kids[i].name, HCS_LAYER_HIVES);
            break;
        }
        if (c > 0) {
            hives_due = false;
            rc = emit_child(x, x->hives_dfd, plen, &hives, err);
            if (rc < 0)
                break;
        }
        rc = emit_child(x, dfd, plen, &kids[i], err);
    }
    if (rc == 0 && hives_due)
        rc = emit_child(x, x->hives_dfd, plen, &hives, err);
    children_free(kids, n);
    return rc;
}

/*
 * Write the tree at root to out_fd (-1: hash only), compressed as o says, and give the sha256
 * of the uncompressed tar in digest.
 */
static int export_tree(const char *root, const char *hives_parent, int out_fd, const char *out_name,
                       const hcs_layer_export_opts *o, uint8_t digest[SHA256_DIGEST_SIZE],
                       hcs_error **err)
{
    AUTOCLOSE int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rfd < 0) {
        hcs_err_errno(err, errno, "layer files %s", root);
        return -1;
    }
    AUTOCLOSE int hfd = -1;
    if (hives_parent != NULL &&
        (hfd = open(hives_parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        hcs_err_errno(err, errno, "the folder %s", hives_parent);
        return -1;
    }
    exporter x = {
        .root = root,
        .deterministic = o->deterministic,
        .timestamp = o->timestamp,
        .out_fd = out_fd,
        .out_name = out_name,
        .hives_dfd = hfd,
    };
    struct stat ost;
    if (out_fd >= 0 && fstat(out_fd, &ost) == 0) {
        x.skip_out = true;
        x.out_dev = ost.st_dev;
        x.out_ino = ost.st_ino;
    }
    sha256_init(&x.sha);
    /*
     * Names are converted to the pax header's UTF-8 from the locale's charset: read them as
     * UTF-8 whatever the caller's locale, so that the same tree always gives the same bytes
     * (a name that is not UTF-8 is written as bytes, hdrcharset=BINARY). uselocale changes
     * this thread only.
     */
    locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t old = utf8 != (locale_t)0 ? uselocale(utf8) : (locale_t)0;
    int rc = -1;
    x.ae = archive_entry_new();
    x.buf = malloc(CHUNK);
    x.path_cap = 256;
    x.path = calloc(1, x.path_cap);
    if (x.ae == NULL || x.buf == NULL || x.path == NULL)
        oom(err);
    else if (open_pipeline(&x, o, err) == 0 && walk(&x, rfd, 0, err) == 0 &&
             close_pipeline(&x, err) == 0)
        rc = 0;
    x.failed = rc < 0;
    exporter_free(&x);
    if (old != (locale_t)0)
        uselocale(old);
    if (utf8 != (locale_t)0)
        freelocale(utf8);
    if (rc == 0)
        sha256_digest(&x.sha, SHA256_DIGEST_SIZE, digest);
    return rc;
}

int hcs_layer_digest_tree(const char *files_dir, char diff_id[HCS_LAYER_DIGEST_LEN],
                          hcs_error **err)
{
    static const hcs_layer_export_opts plain = {.compression = HCS_LAYER_COMPRESS_NONE};
    uint8_t d[SHA256_DIGEST_SIZE];
    if (files_dir == NULL)
        return hcs_err_set(err, E_INVALIDARG, "no folder to digest");
    if (export_tree(files_dir, NULL, -1, NULL, &plain, d, err) < 0)
        return -1;
    hcs_layer_digest_text(d, diff_id);
    return 0;
}

/* --- hcs_layer_export -------------------------------------------------------------------- */

/* Copy the file from_dfd/name to to_dfd/name (mode 0600). */
static int copy_file(int from_dfd, int to_dfd, const char *name, const char *what, hcs_error **err)
{
    AUTOCLOSE int in = openat(from_dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return hcs_err_errno(err, errno, "open %s", what);
    AUTOCLOSE int out = openat(to_dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0)
        return hcs_err_errno(err, errno, "copy %s", what);
    AUTOFREE char *buf = malloc(CHUNK);
    if (buf == NULL)
        return oom(err);
    for (;;) {
        ssize_t n = read(in, buf, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return hcs_err_errno(err, errno, "read %s", what);
        if (n == 0)
            return 0;
        if (full_write(out, buf, (size_t)n) < 0)
            return hcs_err_errno(err, errno, "copy %s", what);
    }
}

/*
 * Writable layer path with a delta log: its changes as hive files in tmp/Hives (tmp a new
 * folder under path). *any tells whether some hive has changes.
 */
static int delta_hives(const char *path, const char *tmp, bool *any, hcs_error **err)
{
    *any = false;
    AUTOFREE char *log = hcs_asprintf("%s/%s/%s", path, HCS_REG_HIVES_DIR, HCS_REG_DELTA_LOG);
    AUTOFREE char *src = hcs_asprintf("%s/%s", path, HCS_REG_HIVES_DIR);
    if (log == NULL || src == NULL)
        return oom(err);
    AUTOCLOSE int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    AUTOCLOSE int tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sfd < 0 || tfd < 0)
        return hcs_err_errno(err, errno, "open %s", sfd < 0 ? src : tmp);
    /* A copy: opening a log may truncate a torn last record, which a running system may be
     * writing right now. */
    if (copy_file(sfd, tfd, HCS_REG_DELTA_LOG, log, err) < 0)
        return -1;
    if (mkdirat(tfd, HCS_REG_HIVES_DIR, 0755) < 0)
        return hcs_err_errno(err, errno, "create %s/%s", tmp, HCS_REG_HIVES_DIR);
    AUTOCLOSE int hfd = openat(tfd, HCS_REG_HIVES_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (hfd < 0)
        return hcs_err_errno(err, errno, "open %s/%s", tmp, HCS_REG_HIVES_DIR);
    hcs_reg_delta *d = NULL;
    if (hcs_reg_delta_open(tfd, HCS_REG_DELTA_LOG, &d, err) < 0)
        return hcs_err_wrap(err, "registry delta %s", log);
    int rc = 0;
    for (int h = 0; rc == 0 && h < HCS_REG_N_HIVES; h++) {
        AUTOFREE char *name =
            hcs_asprintf("%s%s", hcs_reg_hive_name((enum hcs_reg_hive)h), HCS_REG_DELTA_SUFFIX);
        if (name == NULL) {
            rc = oom(err);
            break;
        }
        /* The delta's records as changes (value tombstones included), written as a level. */
        hcs_reg_change *changes = NULL;
        size_t n = 0;
        rc = hcs_reg_delta_changes(d, (enum hcs_reg_hive)h, &changes, &n, err);
        if (rc == 0 && n > 0) /* a hive the delta does not change has no file */
            rc = hcs_reg_hive_write(hfd, name, (enum hcs_reg_hive)h, changes, n, err);
        free(changes);
        if (rc < 0) {
            hcs_err_wrap(err, "registry delta %s", log);
            break;
        }
        *any |= n > 0;
    }
    hcs_reg_delta_close(d);
    return rc;
}

/*
 * The registry path exports: *hives_parent, a folder holding the "Hives" folder to export (or
 * NULL), and *tmp, a folder to remove afterwards (or NULL).
 */
static int export_hives(const char *path, enum hcs_layer_kind kind, char **hives_parent, char **tmp,
                        hcs_error **err)
{
    *hives_parent = *tmp = NULL;
    struct stat st;
    AUTOFREE char *hives = hcs_asprintf("%s/%s", path, HCS_REG_HIVES_DIR);
    AUTOFREE char *log = hcs_asprintf("%s/%s/%s", path, HCS_REG_HIVES_DIR, HCS_REG_DELTA_LOG);
    if (hives == NULL || log == NULL)
        return oom(err);
    if (kind == HCS_LAYER_KIND_READONLY) {
        if (lstat(hives, &st) < 0)
            return errno == ENOENT ? 0 : hcs_err_errno(err, errno, "layer %s", hives);
        if (!S_ISDIR(st.st_mode))
            return hcs_err_set(err, HCS_E_INVALID_LAYER, "layer %s is not a folder", hives);
        *hives_parent = strdup(path);
        return *hives_parent == NULL ? oom(err) : 0;
    }
    if (kind != HCS_LAYER_KIND_WRITABLE)
        return 0; /* a plain folder: its Hives/, if any, is part of its files */
    if (lstat(log, &st) < 0)
        return errno == ENOENT ? 0 : hcs_err_errno(err, errno, "layer %s", log);
    AUTOFREE char *dir = hcs_asprintf("%s/.export-hives.XXXXXX", path);
    if (dir == NULL)
        return oom(err);
    if (mkdtemp(dir) == NULL)
        return hcs_err_errno(err, errno, "layer %s: create a folder for its registry", path);
    *tmp = steal_ptr(&dir);
    bool any = false;
    if (delta_hives(path, *tmp, &any, err) < 0)
        return -1;
    if (any && (*hives_parent = strdup(*tmp)) == NULL)
        return oom(err);
    return 0;
}

/* What the layer at path exports: *tree, and *tmp (a folder to remove after) for copy. */
static int export_source(const char *path, char **tree, char **tmp, char **hives_parent,
                         char **hives_tmp, hcs_error **err)
{
    *tree = *tmp = *hives_parent = *hives_tmp = NULL;
    hcs_layer_info info;
    if (hcs_layer_info_read(path, &info, err) < 0)
        return -1;
    enum hcs_layer_kind kind = info.kind;
    enum hcs_layer_backend backend = info.backend;
    hcs_layer_info_free(&info);
    if (export_hives(path, kind, hives_parent, hives_tmp, err) < 0)
        return -1;
    if (kind == HCS_LAYER_KIND_FOLDER)
        *tree = strdup(path);
    else if (kind == HCS_LAYER_KIND_READONLY || backend == HCS_LAYER_BACKEND_OVERLAY)
        *tree = hcs_asprintf("%s/%s", path, HCS_LAYER_FILES); /* the overlay upper folder */
    else {
        /* Copy backend: the changes are found by comparing rootfs with the parents. */
        AUTOFREE char *dir = hcs_asprintf("%s/.export.XXXXXX", path);
        if (dir == NULL)
            return oom(err);
        if (mkdtemp(dir) == NULL) {
            hcs_err_errno(err, errno, "layer %s: create a folder for its changes", path);
            return -1;
        }
        *tmp = steal_ptr(&dir);
        if (hcs_layer_copy_changes(path, *tmp, err) < 0) {
            hcs_err_wrap(err, "layer %s: find its changes", path);
            return -1;
        }
        *tree = strdup(*tmp);
    }
    return *tree == NULL ? oom(err) : 0;
}

static const char *const suffixes[] = {".tar", ".tar.gz", ".tar.zst"};

int hcs_layer_export(const char *layer_path, const char *archive_path,
                     const hcs_layer_export_opts *o, char diff_id[HCS_LAYER_DIGEST_LEN],
                     hcs_error **err)
{
    static const hcs_layer_export_opts defaults = {.compression = HCS_LAYER_COMPRESS_NONE};
    if (o == NULL)
        o = &defaults;
    if (layer_path == NULL || archive_path == NULL || archive_path[0] == '\0')
        return hcs_err_set(err, E_INVALIDARG,
                           "export: a layer path and an archive path are needed");
    if ((unsigned)o->compression >= HCS_ARRAY_SIZE(suffixes))
        return hcs_err_set(err, E_INVALIDARG, "export %s: unknown compression %d", layer_path,
                           (int)o->compression);

    /* The archive file: archive_path, or layer.tar[.gz|.zst] in it when it is a folder. */
    AUTOFREE char *final = NULL, *dir = NULL;
    struct stat st;
    if (stat(archive_path, &st) == 0 && S_ISDIR(st.st_mode)) {
        final = hcs_asprintf("%s/layer%s", archive_path, suffixes[o->compression]);
        dir = strdup(archive_path);
    } else {
        final = strdup(archive_path);
        const char *slash = strrchr(archive_path, '/');
        dir = slash == NULL ? strdup(".")
              : slash == archive_path
                  ? strdup("/")
                  : hcs_asprintf("%.*s", (int)(slash - archive_path), archive_path);
    }
    if (final == NULL || dir == NULL)
        return oom(err);
    const char *base = strrchr(final, '/') ? strrchr(final, '/') + 1 : final;
    if (base[0] == '\0')
        return hcs_err_set(err, E_INVALIDARG, "export %s: archive path %s names no file",
                           layer_path, archive_path);

    AUTOFREE char *tree = NULL, *copy_dir = NULL, *hives_parent = NULL, *hives_dir = NULL;
    if (export_source(layer_path, &tree, &copy_dir, &hives_parent, &hives_dir, err) < 0) {
        if (copy_dir != NULL)
            hcs_remove_tree_at(AT_FDCWD, copy_dir, NULL);
        if (hives_dir != NULL)
            hcs_remove_tree_at(AT_FDCWD, hives_dir, NULL);
        return hcs_err_wrap(err, "export %s", layer_path);
    }

    AUTOFREE char *tmp = hcs_asprintf("%s/.%s.XXXXXX", dir, base);
    AUTOCLOSE int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    AUTOCLOSE int fd = -1;
    int rc = -1;
    uint8_t d[SHA256_DIGEST_SIZE];
    if (tmp == NULL)
        oom(err);
    else if (dfd < 0 || (fd = mkostemp(tmp, O_CLOEXEC)) < 0)
        hcs_err_errno(err, errno, "export %s: create the archive in %s", layer_path, dir);
    else if (fchmod(fd, 0644) < 0)
        hcs_err_errno(err, errno, "export %s: chmod %s", layer_path, tmp);
    else if (export_tree(tree, hives_parent, fd, final, o, d, err) < 0)
        hcs_err_wrap(err, "export %s", layer_path);
    else if (fsync(fd) < 0)
        hcs_err_errno(err, errno, "export %s: flush %s", layer_path, final);
    else if (rename(tmp, final) < 0)
        hcs_err_errno(err, errno, "export %s: rename %s to %s", layer_path, tmp, final);
    else
        rc = 0;
    if (rc < 0 && fd >= 0)
        unlink(tmp);
    if (rc == 0 && fsync(dfd) < 0 && errno != EINVAL)
        rc = hcs_err_errno(err, errno, "export %s: flush the folder %s", layer_path, dir);
    if (copy_dir != NULL)
        hcs_remove_tree_at(AT_FDCWD, copy_dir, NULL);
    if (hives_dir != NULL)
        hcs_remove_tree_at(AT_FDCWD, hives_dir, NULL);
    if (rc == 0 && diff_id != NULL)
        hcs_layer_digest_text(d, diff_id);
    return rc;
}
