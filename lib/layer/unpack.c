/*
 * unpack.c - writing the entries of a layer into the folder being imported (see unpack.h).
 *
 * Not archive_write_disk: it resolves paths from the working folder (a process-wide state a
 * library must not change), cannot turn OCI whiteouts into overlay's form nor split Hives/
 * from Files/, and its checks against symlinks are path-based. Here every entry's folder is
 * opened beneath the layer folder with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | ...), or
 * component by component with O_NOFOLLOW (to create missing folders, or where openat2 fails),
 * and the entry is made relative to that descriptor without following its last component: a
 * symlink planted by an earlier entry is never followed, so nothing lands outside the folder.
 *
 * Tar semantics: a later entry replaces an earlier one at the same path, except that a folder
 * over a folder only updates its metadata. OCI whiteouts become overlay's: ".wh.NAME" a 0/0
 * character device NAME, ".wh..wh..opq" the xattr trusted.overlay.opaque=y on its folder; a
 * folder made where a whiteout of the same layer stood is opaque (the whiteout still hides what
 * the lower layers had there). Folder times are applied at the end, deepest first, since
 * writing a child changes its folder's mtime.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "layer.h"
#include "unpack.h"

#define OPAQUE_XATTR "trusted.overlay.opaque"
#define WH_PREFIX ".wh."
#define WH_META_PREFIX ".wh..wh."
#define WH_OPAQUE ".wh..wh..opq"

typedef struct dir_time {
    char *rel; /* beneath the layer folder: "Files/a/b" */
    size_t depth, seq;
    struct timespec ts[2];
} dir_time;

struct hcs_unpack {
    int root_fd;
    dev_t dev;
    uint64_t max_bytes, max_entries;
    uint64_t seen, entries, written, size;
    /*
     * The folder of the last entry, kept open: archives list a folder's entries together.
     * cache_rel is NULL once a folder was removed (the cached one may be gone); cache_fd stays
     * open until replaced, as the current entry may still use it.
     */
    char *cache_rel;
    int cache_fd;
    dir_time *dirs;
    size_t n_dirs, cap_dirs;
};

static int refuse(hcs_error **err, const char *entry, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(hcs_error **err, const char *entry, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *why = hcs_vasprintf(fmt, ap);
    va_end(ap);
    hcs_err_set(err, HCS_E_INVALID_LAYER, "layer archive entry \"%s\": %s", entry,
                why != NULL ? why : "refused");
    free(why);
    return -1;
}

static int oom(hcs_error **err, const char *entry)
{
    return hcs_err_set(err, E_OUTOFMEMORY, "layer archive entry \"%s\": out of memory", entry);
}

/* A path beneath the layer folder as the archive names it: "Files/a" is "a". */
static const char *show(const char *rel)
{
    if (strcmp(rel, HCS_LAYER_FILES) == 0)
        return ".";
    if (strncmp(rel, HCS_LAYER_FILES "/", sizeof(HCS_LAYER_FILES)) == 0)
        return rel + sizeof(HCS_LAYER_FILES);
    return rel;
}

static bool is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/*
 * Where entry name goes beneath the layer folder: "Files/a/b", "Hives/x", or "Files" /
 * "Hives" for a root. "./" prefixes, empty and "." components are dropped. *depth receives the
 * number of components below the root. NULL with *why set when the name is refused (*why NULL:
 * out of memory).
 */
static char *layer_rel(const char *name, size_t *depth, const char **why)
{
    *why = NULL;
    if (name == NULL || name[0] == '\0') {
        *why = "the name is empty";
        return NULL;
    }
    if (name[0] == '/') {
        *why = "the path is absolute";
        return NULL;
    }
    size_t len = strlen(name);
    char *out = malloc(len + sizeof(HCS_LAYER_FILES) + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, HCS_LAYER_FILES, sizeof(HCS_LAYER_FILES) - 1);
    size_t o = sizeof(HCS_LAYER_FILES) - 1, n = 0;
    bool first = true;
    for (const char *p = name; *p != '\0';) {
        size_t l = strcspn(p, "/");
        if (l == 2 && p[0] == '.' && p[1] == '.') {
            free(out);
            *why = "the path leaves the layer (a \"..\" component)";
            return NULL;
        }
        if (l > 0 && !(l == 1 && p[0] == '.')) {
            if (first && l == sizeof(HCS_LAYER_HIVES) - 1 && memcmp(p, HCS_LAYER_HIVES, l) == 0) {
                memcpy(out, HCS_LAYER_HIVES, sizeof(HCS_LAYER_HIVES) - 1);
                o = sizeof(HCS_LAYER_HIVES) - 1;
            } else {
                out[o++] = '/';
                memcpy(out + o, p, l);
                o += l;
                n++;
            }
            first = false;
        }
        p += l;
        if (*p == '/')
            p++;
    }
    out[o] = '\0';
    *depth = n;
    return out;
}

/* One step of a walk: open (creating if asked) the folder c in dfd. 0 or an errno. */
static int step(const hcs_unpack *u, int dfd, const char *c, bool create, int *out)
{
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(dfd, c, flags);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkdirat(dfd, c, 0755) < 0 && errno != EEXIST)
            return errno;
        fd = openat(dfd, c, flags);
    } else if (fd < 0 && (errno == ENOTDIR || errno == ELOOP)) {
        /* O_DIRECTORY | O_NOFOLLOW fails on a symlink with ENOTDIR or ELOOP: say which. */
        int e = errno;
        struct stat st;
        if (fstatat(dfd, c, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return e;
        if (S_ISLNK(st.st_mode))
            return ELOOP;
        if (!create || !is_whiteout(&st))
            return ENOTDIR;
        /* A folder where a whiteout of this layer stood: the folder, opaque (see above). */
        if (unlinkat(dfd, c, 0) < 0 || mkdirat(dfd, c, 0755) < 0)
            return errno;
        fd = openat(dfd, c, flags);
        if (fd >= 0 && fsetxattr(fd, OPAQUE_XATTR, "y", 1, 0) < 0) {
            e = errno;
            close(fd);
            return e;
        }
    }
    if (fd < 0)
        return errno;
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_dev != u->dev) {
        close(fd);
        return EXDEV;
    }
    *out = fd;
    return 0;
}

/*
 * Open the folder rel beneath the layer folder, never following a symlink nor leaving it.
 * 0 or an errno; *bad (may be NULL) receives the part of rel that failed (caller frees).
 */
static int open_beneath(const hcs_unpack *u, const char *rel, bool create, int *out, char **bad)
{
    struct open_how how = {
        .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
    };
    long fd = syscall(SYS_openat2, u->root_fd, rel, &how, sizeof(how));
    if (fd >= 0) {
        *out = (int)fd;
        return 0;
    }
    /* Missing folders, or to find which component is at fault: walk it. */
    int dfd = fcntl(u->root_fd, F_DUPFD_CLOEXEC, 0);
    if (dfd < 0)
        return errno;
    for (const char *p = rel; *p != '\0';) {
        size_t l = strcspn(p, "/");
        char comp[NAME_MAX + 1];
        int e = ENAMETOOLONG;
        int nfd = -1;
        if (l <= NAME_MAX) {
            memcpy(comp, p, l);
            comp[l] = '\0';
            e = step(u, dfd, comp, create, &nfd);
        }
        if (e != 0) {
            if (bad != NULL)
                *bad = strndup(rel, (size_t)(p - rel) + l);
            close(dfd);
            return e;
        }
        close(dfd);
        dfd = nfd;
        p += l;
        if (*p == '/')
            p++;
    }
    *out = dfd;
    return 0;
}

/* The error of open_beneath for entry: what = "the path", "the hard link target \"x\"". */
static int walk_error(int e, const char *entry, const char *rel, const char *bad, const char *what,
                      hcs_error **err)
{
    const char *at = show(bad != NULL ? bad : rel);
    switch (e) {
    case ELOOP:
        return refuse(err, entry,
                      "%s goes through the symbolic link \"%s\" (an earlier entry); symbolic "
                      "links are never followed while unpacking",
                      what, at);
    case ENOTDIR:
        return refuse(err, entry, "%s needs \"%s\" to be a folder, and an earlier entry is not one",
                      what, at);
    case EXDEV:
        return refuse(err, entry, "%s crosses a mount point at \"%s\"", what, at);
    case ENOENT:
        return refuse(err, entry, "%s: \"%s\" does not exist (earlier in the archive)", what, at);
    default:
        return hcs_err_errno(err, e, "layer archive entry \"%s\": open the folder \"%s\"", entry,
                             at);
    }
}

/* The folder rel (created as needed) of an entry, from the cache when it is the last one. */
static int parent_fd(hcs_unpack *u, const char *rel, const char *entry, int *out, hcs_error **err)
{
    if (u->cache_rel != NULL && strcmp(u->cache_rel, rel) == 0) {
        *out = u->cache_fd;
        return 0;
    }
    int fd = -1;
    AUTOFREE char *bad = NULL;
    int e = open_beneath(u, rel, true, &fd, &bad);
    if (e != 0)
        return walk_error(e, entry, rel, bad, "the path", err);
    char *copy = strdup(rel);
    if (copy == NULL) {
        close(fd);
        return oom(err, entry);
    }
    if (u->cache_fd >= 0)
        close(u->cache_fd);
    free(u->cache_rel);
    u->cache_fd = fd;
    u->cache_rel = copy;
    *out = fd;
    return 0;
}

/* Remove what an earlier entry left at name in pfd (tar: the later entry wins). */
static int make_room(hcs_unpack *u, int pfd, const char *name, const char *entry, hcs_error **err)
{
    struct stat st;
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : hcs_err_errno(err, errno, "layer archive entry \"%s\"", entry);
    if (S_ISDIR(st.st_mode)) {
        free(u->cache_rel);
        u->cache_rel = NULL;
        if (hcs_remove_tree_at(pfd, name, err) < 0)
            return hcs_err_wrap(err, "layer archive entry \"%s\": replace the earlier folder",
                                entry);
        return 0;
    }
    if (unlinkat(pfd, name, 0) < 0 && errno != ENOENT)
        return hcs_err_errno(err, errno, "layer archive entry \"%s\": replace the earlier entry",
                             entry);
    return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
    ts[0].tv_sec = 0;
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1] = ts[0];
    if (archive_entry_mtime_is_set(e)) {
        ts[1].tv_sec = archive_entry_mtime(e);
        ts[1].tv_nsec = archive_entry_mtime_nsec(e);
    }
    if (archive_entry_atime_is_set(e)) {
        ts[0].tv_sec = archive_entry_atime(e);
        ts[0].tv_nsec = archive_entry_atime_nsec(e);
    }
}

/*
 * overlay's own attributes (trusted.overlay.*, or user.overlay.* with the userxattr option)
 * would let an archive forge whiteouts, opaque folders, redirects or metacopy files in the
 * union: they are made by this importer from OCI whiteouts only, never taken from the source.
 */
static bool skip_xattr(const char *name)
{
    return strncmp(name, "trusted.overlay.", 16) == 0 || strncmp(name, "user.overlay.", 13) == 0;
}

/* Owner, then mode (chown clears setuid), then xattrs (chown drops security.capability). */
static int set_meta_fd(int fd, struct archive_entry *e, bool times, const char *entry,
                       hcs_error **err)
{
    uid_t uid = (uid_t)archive_entry_uid(e);
    gid_t gid = (gid_t)archive_entry_gid(e);
    if (fchown(fd, uid, gid) < 0)
        return hcs_err_errno(err, errno, "layer archive entry \"%s\": set the owner %u:%u", entry,
                             (unsigned)uid, (unsigned)gid);
    mode_t mode = archive_entry_perm(e) & 07777;
    if (fchmod(fd, mode) < 0)
        return hcs_err_errno(err, errno, "layer archive entry \"%s\": set the mode %04o", entry,
                             (unsigned)mode);
    const char *name;
    const void *value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        if (name == NULL || skip_xattr(name))
            continue;
        if (fsetxattr(fd, name, value, size, 0) < 0)
            return hcs_err_errno(err, errno,
                                 "layer archive entry \"%s\": set the extended attribute %s", entry,
                                 name);
    }
    if (times) {
        struct timespec ts[2];
        entry_times(e, ts);
        if (futimens(fd, ts) < 0)
            return hcs_err_errno(err, errno, "layer archive entry \"%s\": set the times", entry);
    }
    return 0;
}

static int close_checked(int *fd, const char *entry, hcs_error **err)
{
    if (close(steal_fd(fd)) < 0)
        return hcs_err_errno(err, errno, "layer archive entry \"%s\": write", entry);
    return 0;
}

static int limit_bytes(const hcs_unpack *u, const char *entry, hcs_error **err)
{
    return hcs_err_set(err, E_INVALIDARG,
                       "layer archive entry \"%s\": the layer's unpacked size passes the limit of "
                       "%llu bytes (max_bytes)",
                       entry, (unsigned long long)u->max_bytes);
}

static int write_file(hcs_unpack *u, struct archive *a, struct archive_entry *e, int pfd,
                      const char *name, const char *entry, hcs_error **err)
{
    int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
    if (declared < 0)
        return refuse(err, entry, "the size %lld is negative", (long long)declared);
    /* u->size <= max_bytes always holds, so this cannot wrap. */
    if ((uint64_t)declared > u->max_bytes - u->size)
        return limit_bytes(u, entry, err);
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    AUTOCLOSE int fd = openat(pfd, name, flags, 0600);
    if (fd < 0 && errno == EEXIST) {
        if (make_room(u, pfd, name, entry, err) < 0)
            return -1;
        fd = openat(pfd, name, flags, 0600);
    }
    if (fd < 0)
        return hcs_err_errno(err, errno, "layer archive entry \"%s\": create the file", entry);
    uint64_t end = 0;
    for (;;) {
        const void *buf;
        size_t len;
        la_int64_t off;
        int r = archive_read_data_block(a, &buf, &len, &off);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return hcs_err_set(err, HCS_E_INVALID_LAYER, "layer archive entry \"%s\": %s", entry,
                               archive_error_string(a) ? archive_error_string(a) : "read error");
        if (len == 0)
            continue;
        if (off < 0)
            return refuse(err, entry, "data at the negative offset %lld", (long long)off);
        if (len > u->max_bytes - u->written)
            return limit_bytes(u, entry, err);
        for (size_t done = 0; done < len;) {
            ssize_t w = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return hcs_err_errno(err, w < 0 ? errno : EIO,
                                     "layer archive entry \"%s\": write the file", entry);
            done += (size_t)w;
        }
        u->written += len;
        if ((uint64_t)off + len > end)
            end = (uint64_t)off + len;
    }
    /* A sparse file's trailing hole: the size without writing zeros. */
    if ((uint64_t)declared > end && ftruncate(fd, declared) < 0)
        return hcs_err_errno(err, errno, "layer archive entry \"%s\": set the size %lld", entry,
                             (long long)declared);
    if (set_meta_fd(fd, e, true, entry, err) < 0)
        return -1;
    u->size += (uint64_t)declared;
    return close_checked(&fd, entry, err);
}

static int add_dir_time(hcs_unpack *u, const char *rel, struct archive_entry *e, const char *entry,
                        hcs_error **err)
{
    if (!archive_entry_mtime_is_set(e) && !archive_entry_atime_is_set(e))
        return 0;
    if (u->n_dirs == u->cap_dirs) {
        size_t cap = u->cap_dirs ? u->cap_dirs * 2 : 256;
        dir_time *d = realloc(u->dirs, cap * sizeof(*d));
        if (d == NULL)
            return oom(err, entry);
        u->dirs = d;
        u->cap_dirs = cap;
    }
    dir_time *d = &u->dirs[u->n_dirs];
    d->rel = strdup(rel);
    if (d->rel == NULL)
        return oom(err, entry);
    d->depth = 0;
    for (const char *p = rel; *p != '\0'; p++)
        d->depth += *p == '/';
    d->seq = u->n_dirs;
    entry_times(e, d->ts);
    u->n_dirs++;
    return 0;
}

/* A folder entry: pfd < 0 for a root (rel "Files" or "Hives"). */
static int write_dir(hcs_unpack *u, struct archive_entry *e, int pfd, const char *name,
                     const char *rel, const char *entry, hcs_error **err)
{
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    AUTOCLOSE int fd = -1;
    if (pfd < 0) {
        if (mkdirat(u->root_fd, rel, 0755) < 0 && errno != EEXIST)
            return hcs_err_errno(err, errno, "layer archive entry \"%s\": create the folder %s",
                                 entry, rel);
        fd = openat(u->root_fd, rel, flags);
    } else {
        bool opaque = false;
        if (mkdirat(pfd, name, 0700) < 0) {
            if (errno != EEXIST)
                return hcs_err_errno(err, errno, "layer archive entry \"%s\": create the folder",
                                     entry);
            struct stat st;
            if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return hcs_err_errno(err, errno, "layer archive entry \"%s\"", entry);
            if (!S_ISDIR(st.st_mode)) {
                opaque = is_whiteout(&st);
                if (make_room(u, pfd, name, entry, err) < 0)
                    return -1;
                if (mkdirat(pfd, name, 0700) < 0)
                    return hcs_err_errno(err, errno,
                                         "layer archive entry \"%s\": create the folder", entry);
            }
        }
        fd = openat(pfd, name, flags);
        if (fd >= 0 && opaque && fsetxattr(fd, OPAQUE_XATTR, "y", 1, 0) < 0)
            return hcs_err_errno(err, errno, "layer archive entry \"%s\": set %s", entry,
                                 OPAQUE_XATTR);
    }
    if (fd < 0)
        return hcs_err_errno(err, errno, "layer archive entry \"%s\": open the folder", entry);
    if (set_meta_fd(fd, e, false, entry, err) < 0)
        return -1;
    return add_dir_time(u, rel, e, entry, err);
}

/* Whether a relative symlink target, from a folder depth components below the root, climbs
 * above the root. */
static bool climbs(const char *target, size_t depth)
{
    for (const char *p = target; *p != '\0';) {
        size_t l = strcspn(p, "/");
        if (l == 2 && p[0] == '.' && p[1] == '.') {
            if (depth == 0)
                return true;
            depth--;
        } else if (l > 0 && !(l == 1 && p[0] == '.')) {
            depth++;
        }
        p += l;
        if (*p == '/')
            p++;
    }
    return false;
}

static int write_symlink(hcs_unpack *u, struct archive_entry *e, int pfd, const char *name,
                         const char *target, const char *entry, hcs_error **err)
{
    if (symlinkat(target, pfd, name) < 0 &&
        (errno != EEXIST || make_room(u, pfd, name, entry, err) < 0 ||
         symlinkat(target, pfd, name) < 0))
        return hcs_err_errno(err, errno, "layer archive entry \"%s\": create the symbolic link",
                             entry);
    uid_t uid = (uid_t)archive_entry_uid(e);
    gid_t gid = (gid_t)archive_entry_gid(e);
    if (fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return hcs_err_errno(err, errno, "layer archive entry \"%s\": set the owner %u:%u", entry,
                             (unsigned)uid, (unsigned)gid);
    const char *xname;
    const void *value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &xname, &value, &size) == ARCHIVE_OK) {
        if (xname == NULL || skip_xattr(xname))
            continue;
        /* No fsetxattr on a symlink: through the folder's descriptor, the link not followed. */
        char path[64 + NAME_MAX];
        snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", pfd, name);
        if (lsetxattr(path, xname, value, size, 0) < 0)
            return hcs_err_errno(err, errno,
                                 "layer archive entry \"%s\": set the extended attribute %s", entry,
                                 xname);
    }
    struct timespec ts[2];
    entry_times(e, ts);
    if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return hcs_err_errno(err, errno, "layer archive entry \"%s\": set the times", entry);
    return 0;
}

/* mknodat, replacing what an earlier entry left there. */
static int make_node(hcs_unpack *u, int pfd, const char *name, mode_t mode, dev_t dev,
                     const char *entry, hcs_error **err)
{
    if (mknodat(pfd, name, mode, dev) == 0)
        return 0;
    if (errno != EEXIST || make_room(u, pfd, name, entry, err) < 0 ||
        mknodat(pfd, name, mode, dev) < 0)
        return hcs_err_errno(err, errno, "layer archive entry \"%s\": create the %s", entry,
                             S_ISFIFO(mode) ? "fifo" : "whiteout");
    return 0;
}

static int write_fifo(hcs_unpack *u, struct archive_entry *e, int pfd, const char *name,
                      const char *entry, hcs_error **err)
{
    if (make_node(u, pfd, name, S_IFIFO | 0600, 0, entry, err) < 0)
        return -1;
    /* Opening a fifo for reading without a writer returns at once with O_NONBLOCK. */
    AUTOCLOSE int fd = openat(pfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return hcs_err_errno(err, errno, "layer archive entry \"%s\": open the fifo", entry);
    return set_meta_fd(fd, e, true, entry, err);
}

/* overlay's whiteout: a 0/0 character device, owned by root. */
static int write_whiteout(hcs_unpack *u, int pfd, const char *name, const char *entry,
                          hcs_error **err)
{
    if (make_node(u, pfd, name, S_IFCHR, makedev(0, 0), entry, err) < 0)
        return -1;
    if (fchownat(pfd, name, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
        return hcs_err_errno(err, errno, "layer archive entry \"%s\": set the whiteout's owner",
                             entry);
    return 0;
}

static int write_hardlink(hcs_unpack *u, int pfd, const char *name, const char *target,
                          const char *entry, hcs_error **err)
{
    size_t depth;
    const char *why;
    AUTOFREE char *trel = layer_rel(target, &depth, &why);
    if (trel == NULL)
        return why != NULL ? refuse(err, entry, "the hard link target \"%s\": %s",
                                    target ? target : "", why)
                           : oom(err, entry);
    char *slash = strrchr(trel, '/');
    if (slash == NULL)
        return refuse(err, entry, "the hard link target \"%s\" is the layer's root folder", target);
    *slash = '\0';
    const char *tname = slash + 1;
    AUTOFREE char *what = hcs_asprintf("the hard link target \"%s\"", target);
    if (what == NULL)
        return oom(err, entry);
    AUTOCLOSE int tpfd = -1;
    AUTOFREE char *bad = NULL;
    int e = open_beneath(u, trel, false, &tpfd, &bad);
    if (e != 0)
        return walk_error(e, entry, trel, bad, what, err);
    struct stat tst;
    if (fstatat(tpfd, tname, &tst, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return refuse(err, entry, "%s does not exist (earlier in the archive)", what);
        return hcs_err_errno(err, errno, "layer archive entry \"%s\": %s", entry, what);
    }
    if (S_ISDIR(tst.st_mode))
        return refuse(err, entry, "%s is a folder", what);
    if (linkat(tpfd, tname, pfd, name, 0) == 0)
        return 0;
    if (errno == EEXIST) {
        struct stat st;
        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == tst.st_dev &&
            st.st_ino == tst.st_ino)
            return 0;
        if (make_room(u, pfd, name, entry, err) < 0)
            return -1;
        if (linkat(tpfd, tname, pfd, name, 0) == 0)
            return 0;
    }
    return hcs_err_errno(err, errno, "layer archive entry \"%s\": link to %s", entry, target);
}

/* A whiteout entry (last component ".wh.*") in the folder prel. */
static int write_oci_whiteout(hcs_unpack *u, const char *prel, const char *last, const char *entry,
                              hcs_error **err)
{
    if (strncmp(last, WH_META_PREFIX, sizeof(WH_META_PREFIX) - 1) == 0 &&
        strcmp(last, WH_OPAQUE) != 0)
        return 0; /* aufs' own files (.wh..wh.plnk, .wh..wh.aufs): not part of the layer */
    const char *target = last + sizeof(WH_PREFIX) - 1;
    bool opaque = strcmp(last, WH_OPAQUE) == 0;
    if (!opaque && (target[0] == '\0' || strcmp(target, ".") == 0 || strcmp(target, "..") == 0))
        return refuse(err, entry, "a whiteout of the invalid name \"%s\"", target);
    int pfd = -1;
    if (parent_fd(u, prel, entry, &pfd, err) < 0)
        return -1;
    if (opaque) {
        if (fsetxattr(pfd, OPAQUE_XATTR, "y", 1, 0) < 0)
            return hcs_err_errno(err, errno, "layer archive entry \"%s\": set %s on %s", entry,
                                 OPAQUE_XATTR, show(prel));
    } else if (write_whiteout(u, pfd, target, entry, err) < 0) {
        return -1;
    }
    u->entries++;
    return 0;
}

static const char *entry_string(const char *mbs, const char *utf8)
{
    return mbs != NULL ? mbs : utf8;
}

int hcs_unpack_entry(hcs_unpack *u, struct archive *a, struct archive_entry *e, hcs_error **err)
{
    const char *entry = entry_string(archive_entry_pathname(e), archive_entry_pathname_utf8(e));
    const char *hardlink = entry_string(archive_entry_hardlink(e), archive_entry_hardlink_utf8(e));
    const char *symlink = entry_string(archive_entry_symlink(e), archive_entry_symlink_utf8(e));
    if (++u->seen > u->max_entries)
        return hcs_err_set(err, E_INVALIDARG,
                           "layer archive entry \"%s\": the layer has more than %llu entries "
                           "(max_entries)",
                           entry ? entry : "", (unsigned long long)u->max_entries);
    size_t depth = 0;
    const char *why;
    AUTOFREE char *rel = layer_rel(entry, &depth, &why);
    if (entry == NULL)
        entry = "";
    if (rel == NULL)
        return why != NULL ? refuse(err, entry, "%s", why) : oom(err, entry);
    mode_t type = archive_entry_filetype(e);

    char *slash = strrchr(rel, '/');
    if (slash == NULL) {
        if (type != AE_IFDIR || hardlink != NULL)
            return refuse(err, entry, "the root of the layer can only be a folder");
        if (write_dir(u, e, -1, NULL, rel, entry, err) < 0)
            return -1;
        u->entries++;
        return 0;
    }
    AUTOFREE char *prel = strndup(rel, (size_t)(slash - rel));
    if (prel == NULL)
        return oom(err, entry);
    const char *last = slash + 1;
    if (strstr(prel, "/" WH_META_PREFIX) != NULL)
        return 0; /* inside aufs' own folders (.wh..wh.plnk/...): not part of the layer */
    if (strncmp(last, WH_PREFIX, sizeof(WH_PREFIX) - 1) == 0)
        return write_oci_whiteout(u, prel, last, entry, err);

    /* What can be refused before anything is created. */
    bool whiteout = false;
    if (hardlink == NULL) {
        switch (type) {
        case AE_IFREG:
        case AE_IFDIR:
        case AE_IFIFO:
            break;
        case AE_IFLNK:
            if (symlink == NULL || symlink[0] == '\0')
                return refuse(err, entry, "the symbolic link has no target");
            if (symlink[0] != '/' && climbs(symlink, depth - 1))
                return refuse(err, entry,
                              "the symbolic link target \"%s\" climbs above the layer's root",
                              symlink);
            break;
        case AE_IFCHR:
        case AE_IFBLK:
            whiteout = type == AE_IFCHR && archive_entry_rdevmajor(e) == 0 &&
                       archive_entry_rdevminor(e) == 0;
            if (!whiteout)
                return refuse(
                    err, entry, "%s device %u:%u: device nodes are not allowed in a layer",
                    type == AE_IFCHR ? "character" : "block", (unsigned)archive_entry_rdevmajor(e),
                    (unsigned)archive_entry_rdevminor(e));
            break;
        case AE_IFSOCK:
            return 0; /* a folder source's socket: meaningless in a layer, skipped like tar */
        default:
            return refuse(err, entry, "unsupported entry type 0%o", (unsigned)type);
        }
    }

    int pfd = -1;
    if (parent_fd(u, prel, entry, &pfd, err) < 0)
        return -1;
    int rc;
    if (hardlink != NULL)
        rc = write_hardlink(u, pfd, last, hardlink, entry, err);
    else if (whiteout)
        rc = write_whiteout(u, pfd, last, entry, err);
    else if (type == AE_IFREG)
        rc = write_file(u, a, e, pfd, last, entry, err);
    else if (type == AE_IFDIR)
        rc = write_dir(u, e, pfd, last, rel, entry, err);
    else if (type == AE_IFLNK)
        rc = write_symlink(u, e, pfd, last, symlink, entry, err);
    else
        rc = write_fifo(u, e, pfd, last, entry, err);
    if (rc < 0)
        return -1;
    u->entries++;
    return 0;
}

static int dir_time_cmp(const void *pa, const void *pb)
{
    const dir_time *a = pa, *b = pb;
    if (a->depth != b->depth)
        return a->depth > b->depth ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

int hcs_unpack_finish(hcs_unpack *u, hcs_error **err)
{
    if (u->n_dirs > 1)
        qsort(u->dirs, u->n_dirs, sizeof(*u->dirs), dir_time_cmp);
    for (size_t i = 0; i < u->n_dirs; i++) {
        int fd = -1;
        /* A folder replaced or whited out by a later entry is not there any more. */
        if (open_beneath(u, u->dirs[i].rel, false, &fd, NULL) != 0)
            continue;
        int rc = futimens(fd, u->dirs[i].ts);
        int e = errno;
        close(fd);
        if (rc < 0)
            return hcs_err_errno(err, e, "layer archive entry \"%s\": set the folder's times",
                                 show(u->dirs[i].rel));
    }
    return 0;
}

int hcs_unpack_new(int root_fd, uint64_t max_bytes, uint64_t max_entries, hcs_unpack **out,
                   hcs_error **err)
{
    struct stat st;
    if (fstat(root_fd, &st) < 0)
        return hcs_err_errno(err, errno, "stat the layer folder");
    if (mkdirat(root_fd, HCS_LAYER_FILES, 0755) < 0 && errno != EEXIST)
        return hcs_err_errno(err, errno, "create the folder %s", HCS_LAYER_FILES);
    hcs_unpack *u = calloc(1, sizeof(*u));
    if (u == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    u->root_fd = root_fd;
    u->dev = st.st_dev;
    u->max_bytes = max_bytes ? max_bytes : HCS_LAYER_DEFAULT_MAX_BYTES;
    u->max_entries = max_entries ? max_entries : HCS_LAYER_DEFAULT_MAX_ENTRIES;
    u->cache_fd = -1;
    *out = u;
    return 0;
}

uint64_t hcs_unpack_written(const hcs_unpack *u)
{
    return u->written;
}

uint64_t hcs_unpack_entries(const hcs_unpack *u)
{
    return u->entries;
}

uint64_t hcs_unpack_size(const hcs_unpack *u)
{
    return u->size;
}

void hcs_unpack_free(hcs_unpack *u)
{
    if (u == NULL)
        return;
    if (u->cache_fd >= 0)
        close(u->cache_fd);
    free(u->cache_rel);
    for (size_t i = 0; i < u->n_dirs; i++)
        free(u->dirs[i].rel);
    free(u->dirs);
    free(u);
}
