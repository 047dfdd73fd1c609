/*
 * copy.c - the copy backend: the merged parents of a writable layer copied into W/rootfs, and
 * the changes of W/rootfs found again by comparing it with the merged parents.
 *
 * The merged view of read-only trees (nearest first) is computed folder by folder, without
 * copying: a name's first hit, from the nearest layer down, is what the view shows; a 0/0
 * character device there hides it; a folder collects the same folder of the layers below it
 * until one of them is opaque (trusted.overlay.opaque=y) or holds something other than a folder
 * under that name. That is overlayfs' lookup, so both backends show the same tree.
 *
 * Layer folders are opened from their root with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS):
 * a symlink in a layer is copied as a symlink, never followed. Only the roots of the layers stay
 * open (at most one per layer), so a deep tree over hundreds of layers needs few descriptors.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "common/util.h"
#include "writable_internal.h"

#define OVERLAY_XATTR_PREFIX "trusted.overlay."
#define OPAQUE_XATTR "trusted.overlay.opaque"

/* --- small helpers ---------------------------------------------------------------------------- */

static bool is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* "/proc/self/fd/<dirfd>/<name>": the l*xattr calls have no *at() form. */
static void proc_path(char *buf, size_t size, int dirfd, const char *name)
{
    snprintf(buf, size, "/proc/self/fd/%d/%s", dirfd, name);
}

/* rel joined with name ("" + name = name); NULL when out of memory. */
static char *join(const char *rel, const char *name)
{
    return rel[0] != '\0' ? hcs_asprintf("%s/%s", rel, name) : strdup(name);
}

/* The folder rel ("" for the root) beneath root, no symlink followed. -1 with errno. */
static int open_beneath(int root, const char *rel)
{
    struct open_how how = {
        .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    long fd;
    do
        fd = syscall(SYS_openat2, root, rel[0] != '\0' ? rel : ".", &how, sizeof(how));
    while (fd < 0 && errno == EAGAIN);
    return (int)fd;
}

/* One entry of a folder listing. */
typedef struct dentry {
    char *name;
    struct stat st;
    size_t layer; /* position in the merged folder's layer list (listing of a layer) */
    bool opaque;  /* a folder marked opaque */
} dentry;

static void dentries_free(dentry *v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i].name);
    free(v);
}

static int dentry_cmp(const void *a, const void *b)
{
    const dentry *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return x->layer < y->layer ? -1 : x->layer > y->layer;
}

static int opaque_of(int dirfd, const char *name, bool *opaque)
{
    char path[PATH_MAX], value[4];
    proc_path(path, sizeof(path), dirfd, name);
    ssize_t n = lgetxattr(path, OPAQUE_XATTR, value, sizeof(value));
    if (n < 0 && errno != ENODATA && errno != ENOTSUP && errno != ERANGE)
        return -1;
    *opaque = n == 1 && value[0] == 'y';
    return 0;
}

/*
 * Append the entries of the folder fd (not taken) to *v (*n used, *cap allocated), each marked
 * with layer; opaque is looked up for folders when want_opaque. what names the folder.
 */
static int list_into(int fd, size_t layer, bool want_opaque, const char *what, dentry **v,
                     size_t *n, size_t *cap, hcs_error **err)
{
    int dup_fd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup_fd < 0)
        return hcs_err_errno(err, errno, "open folder %s", what);
    DIR *d = fdopendir(dup_fd);
    if (d == NULL) {
        int e = errno;
        close(dup_fd);
        return hcs_err_errno(err, e, "list folder %s", what);
    }
    int rc = 0;
    for (;;) {
        errno = 0;
        const struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                rc = hcs_err_errno(err, errno, "list folder %s", what);
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 32;
            dentry *nv = realloc(*v, nc * sizeof(*nv));
            if (nv == NULL) {
                rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory listing %s", what);
                break;
            }
            *v = nv;
            *cap = nc;
        }
        dentry *e = &(*v)[*n];
        memset(e, 0, sizeof(*e));
        e->layer = layer;
        if (fstatat(dirfd(d), de->d_name, &e->st, AT_SYMLINK_NOFOLLOW) < 0) {
            rc = hcs_err_errno(err, errno, "stat %s/%s", what, de->d_name);
            break;
        }
        if (want_opaque && S_ISDIR(e->st.st_mode) &&
            opaque_of(dirfd(d), de->d_name, &e->opaque) < 0) {
            rc = hcs_err_errno(err, errno, "read " OPAQUE_XATTR " of %s/%s", what, de->d_name);
            break;
        }
        if ((e->name = strdup(de->d_name)) == NULL) {
            rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory listing %s", what);
            break;
        }
        (*n)++;
    }
    closedir(d);
    return rc;
}

/* The entries of one folder, sorted by name. */
static int list_sorted(int fd, const char *what, dentry **out, size_t *n, hcs_error **err)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (list_into(fd, 0, false, what, out, n, &cap, err) < 0) {
        dentries_free(*out, *n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    if (*n > 1)
        qsort(*out, *n, sizeof(**out), dentry_cmp);
    return 0;
}

/* --- the merged view -------------------------------------------------------------------------- */

typedef struct layer_set {
    const char *const *paths; /* files folders, nearest first */
    int *roots;
    size_t n;
} layer_set;

static void layer_set_close(layer_set *ls)
{
    for (size_t i = 0; ls->roots != NULL && i < ls->n; i++)
        if (ls->roots[i] >= 0)
            close(ls->roots[i]);
    free(ls->roots);
    ls->roots = NULL;
}

static int layer_set_open(layer_set *ls, const char *const *paths, size_t n, hcs_error **err)
{
    ls->paths = paths;
    ls->n = n;
    ls->roots = malloc((n ? n : 1) * sizeof(*ls->roots));
    if (ls->roots == NULL) {
        hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        ls->roots[i] = -1;
    for (size_t i = 0; i < n; i++) {
        ls->roots[i] = open(paths[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ls->roots[i] < 0) {
            int e = errno;
            layer_set_close(ls);
            hcs_err_errno(err, e, "LayerData.Layers[%zu]: open %s", i, paths[i]);
            return -1;
        }
    }
    return 0;
}

/* One name of a merged folder. */
typedef struct mnode {
    char *name;
    struct stat st;
    size_t top;   /* the layer it comes from */
    size_t *dirs; /* a folder: the layers whose folder of that name it merges, nearest first */
    size_t n_dirs;
} mnode;

static void mnodes_free(mnode *v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++) {
        free(v[i].name);
        free(v[i].dirs);
    }
    free(v);
}

/*
 * The merged folder rel, made of the folders rel of the layers in[0..nin) (nearest first), as
 * nodes sorted by name, whiteouts applied.
 */
static int merged_list(const layer_set *ls, const char *rel, const size_t *in, size_t nin,
                       mnode **out, size_t *nout, hcs_error **err)
{
    *out = NULL;
    *nout = 0;
    dentry *raw = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (size_t k = 0; k < nin && rc == 0; k++) {
        AUTOFREE char *what = rel[0] != '\0' ? hcs_asprintf("%s/%s", ls->paths[in[k]], rel)
                                             : strdup(ls->paths[in[k]]);
        if (what == NULL) {
            rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            break;
        }
        AUTOCLOSE int fd = open_beneath(ls->roots[in[k]], rel);
        if (fd < 0)
            rc = hcs_err_errno(err, errno, "open folder %s", what);
        else
            rc = list_into(fd, k, true, what, &raw, &n, &cap, err);
    }
    if (rc == 0 && n > 1)
        qsort(raw, n, sizeof(*raw), dentry_cmp);
    mnode *nodes = rc == 0 && n > 0 ? calloc(n, sizeof(*nodes)) : NULL;
    if (rc == 0 && n > 0 && nodes == NULL) {
        hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        rc = -1;
    }
    size_t used = 0;
    for (size_t i = 0; rc == 0 && i < n;) {
        size_t j = i + 1;
        while (j < n && strcmp(raw[j].name, raw[i].name) == 0)
            j++;
        if (!is_whiteout(&raw[i].st)) {
            mnode *m = &nodes[used++];
            m->name = steal_ptr(&raw[i].name);
            m->st = raw[i].st;
            m->top = in[raw[i].layer];
            if (S_ISDIR(raw[i].st.st_mode)) {
                if ((m->dirs = malloc((j - i) * sizeof(*m->dirs))) == NULL) {
                    rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
                    break;
                }
                m->dirs[m->n_dirs++] = m->top;
                /* The folders below, until an opaque one or something that is not a folder. */
                for (size_t k = i + 1; k < j && !raw[k - 1].opaque; k++) {
                    if (!S_ISDIR(raw[k].st.st_mode))
                        break;
                    m->dirs[m->n_dirs++] = in[raw[k].layer];
                }
            }
        }
        i = j;
    }
    dentries_free(raw, n);
    if (rc < 0) {
        mnodes_free(nodes, used);
        return -1;
    }
    *out = nodes;
    *nout = used;
    return 0;
}

/* The folder rel of layer l, kept open while a merged folder's entries from l are handled. */
typedef struct src_cache {
    size_t layer;
    int fd;
} src_cache;

static int src_dir(const layer_set *ls, const char *rel, size_t layer, src_cache *c,
                   hcs_error **err)
{
    if (c->fd >= 0 && c->layer == layer)
        return c->fd;
    if (c->fd >= 0)
        close(c->fd);
    c->layer = layer;
    c->fd = open_beneath(ls->roots[layer], rel);
    if (c->fd < 0)
        return hcs_err_errno(err, errno, "open folder %s/%s", ls->paths[layer], rel);
    return c->fd;
}

/* --- copying one entry ------------------------------------------------------------------------ */

typedef struct link_rec {
    dev_t dev;
    ino_t ino;
    char *rel; /* where the first copy went, relative to the destination root */
} link_rec;

static int link_cmp(const void *a, const void *b)
{
    const link_rec *x = a, *y = b;
    if (x->dev != y->dev)
        return x->dev < y->dev ? -1 : 1;
    return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static void link_free(void *p)
{
    link_rec *r = p;
    free(r->rel);
    free(r);
}

typedef struct copier {
    int dest_root;      /* destination root folder */
    const char *dest;   /* its path, for messages */
    bool link_from_src; /* hard-link non-folders from the source when the file system allows */
    void *links;        /* tsearch tree of link_rec: files with several links copied so far */
} copier;

static bool skip_xattr(const char *name)
{
    return strncmp(name, OVERLAY_XATTR_PREFIX, strlen(OVERLAY_XATTR_PREFIX)) == 0;
}

/* The extended attributes of path as a list of NUL-terminated names; *len 0 when none. */
static int xattr_names(const char *path, char **out, ssize_t *len)
{
    *out = NULL;
    *len = 0;
    for (;;) {
        ssize_t n = llistxattr(path, NULL, 0);
        if (n < 0)
            return errno == ENOTSUP ? 0 : -1;
        if (n == 0)
            return 0;
        char *buf = malloc((size_t)n);
        if (buf == NULL) {
            errno = ENOMEM;
            return -1;
        }
        ssize_t got = llistxattr(path, buf, (size_t)n);
        if (got >= 0) {
            *out = buf;
            *len = got;
            return 0;
        }
        free(buf);
        if (errno != ERANGE)
            return -1;
    }
}

/* The value of xattr name of path (caller frees *out). */
static int xattr_value(const char *path, const char *name, char **out, ssize_t *len)
{
    *out = NULL;
    for (;;) {
        ssize_t n = lgetxattr(path, name, NULL, 0);
        if (n < 0)
            return -1;
        char *buf = malloc(n > 0 ? (size_t)n : 1);
        if (buf == NULL) {
            errno = ENOMEM;
            return -1;
        }
        ssize_t got = lgetxattr(path, name, buf, (size_t)n);
        if (got >= 0) {
            *out = buf;
            *len = got;
            return 0;
        }
        free(buf);
        if (errno != ERANGE)
            return -1;
    }
}

/* Copy the xattrs of sdir/sname to ddir/dname (trusted.overlay.* excepted). */
static int copy_xattrs(int sdir, const char *sname, int ddir, const char *dname, const char *what,
                       hcs_error **err)
{
    char spath[PATH_MAX], dpath[PATH_MAX];
    proc_path(spath, sizeof(spath), sdir, sname);
    proc_path(dpath, sizeof(dpath), ddir, dname);
    AUTOFREE char *names = NULL;
    ssize_t len = 0;
    if (xattr_names(spath, &names, &len) < 0)
        return hcs_err_errno(err, errno, "list the xattrs of %s", what);
    for (ssize_t off = 0; off < len; off += (ssize_t)strlen(names + off) + 1) {
        const char *name = names + off;
        if (skip_xattr(name))
            continue;
        AUTOFREE char *value = NULL;
        ssize_t vlen = 0;
        if (xattr_value(spath, name, &value, &vlen) < 0) {
            if (errno == ENODATA)
                continue;
            return hcs_err_errno(err, errno, "read xattr %s of %s", name, what);
        }
        if (lsetxattr(dpath, name, value, (size_t)vlen, 0) < 0) {
            if (errno == ENOTSUP) {
                hcs_log(HCS_LOG_WARNING, "copy %s: xattr %s not supported by the destination", what,
                        name);
                continue;
            }
            return hcs_err_errno(err, errno, "copy xattr %s of %s", name, what);
        }
    }
    return 0;
}

/* Owner, mode, xattrs and times of sdir/sname (whose stat is st) onto ddir/dname. */
static int copy_meta(int sdir, const char *sname, const struct stat *st, int ddir,
                     const char *dname, const char *what, hcs_error **err)
{
    if (fchownat(ddir, dname, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return hcs_err_errno(err, errno, "set the owner of the copy of %s", what);
    /* After chown, which clears set-user-ID bits. */
    if (!S_ISLNK(st->st_mode) && fchmodat(ddir, dname, st->st_mode & 07777, 0) < 0)
        return hcs_err_errno(err, errno, "set the mode of the copy of %s", what);
    if (copy_xattrs(sdir, sname, ddir, dname, what, err) < 0)
        return -1;
    const struct timespec times[2] = {st->st_atim, st->st_mtim};
    if (utimensat(ddir, dname, times, AT_SYMLINK_NOFOLLOW) < 0)
        return hcs_err_errno(err, errno, "set the times of the copy of %s", what);
    return 0;
}

/* Copy len bytes at off from sfd to dfd: copy_file_range, or read and write where it cannot. */
static int copy_range(int sfd, int dfd, off_t off, off_t len)
{
    off_t in = off, out = off;
    bool plain = false;
    while (len > 0) {
        size_t chunk = len > (off_t)(1 << 30) ? (size_t)1 << 30 : (size_t)len;
        ssize_t n;
        if (!plain) {
            n = copy_file_range(sfd, &in, dfd, &out, chunk, 0);
            if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                          errno == EOPNOTSUPP || errno == EBADF)) {
                plain = true;
                continue;
            }
        } else {
            char buf[65536];
            n = pread(sfd, buf, chunk < sizeof(buf) ? chunk : sizeof(buf), in);
            if (n > 0) {
                for (ssize_t done = 0; done < n;) {
                    ssize_t w = pwrite(dfd, buf + done, (size_t)(n - done), out + done);
                    if (w < 0 && errno == EINTR)
                        continue;
                    if (w < 0)
                        return -1;
                    done += w;
                }
                in += n;
                out += n;
            }
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break; /* the file shrank: the rest stays a hole */
        len -= n;
    }
    return 0;
}

/* The data of sfd (size bytes) into the empty file dfd, holes kept as holes. */
static int copy_data(int sfd, int dfd, off_t size)
{
    off_t pos = 0;
    while (pos < size) {
        off_t data = lseek(sfd, pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO)
            break; /* only a hole is left */
        off_t hole = size;
        if (data < 0) {
            data = pos; /* no SEEK_DATA here: everything is data */
        } else {
            hole = lseek(sfd, data, SEEK_HOLE);
            if (hole < 0 || hole > size)
                hole = size;
        }
        if (copy_range(sfd, dfd, data, hole - data) < 0)
            return -1;
        pos = hole;
    }
    return ftruncate(dfd, size);
}

/* Record a file with several links, copied to rel, for its other names. */
static int remember_link(copier *c, const struct stat *st, const char *rel)
{
    link_rec *r = calloc(1, sizeof(*r));
    if (r == NULL || (r->rel = strdup(rel)) == NULL) {
        free(r);
        return -1;
    }
    r->dev = st->st_dev;
    r->ino = st->st_ino;
    link_rec **slot = tsearch(r, &c->links, link_cmp);
    if (slot == NULL || *slot != r)
        link_free(r);
    return slot == NULL ? -1 : 0;
}

/*
 * Copy the non-folder sdir/name (stat st) to ddir/name; rel is its path below the destination
 * root, what its source path for messages.
 */
static int copy_node(copier *c, int sdir, const char *name, const struct stat *st, int ddir,
                     const char *rel, const char *what, hcs_error **err)
{
    if (c->link_from_src) {
        if (linkat(sdir, name, ddir, name, 0) == 0)
            return 0;
        if (errno != EXDEV && errno != EPERM && errno != EMLINK)
            return hcs_err_errno(err, errno, "link %s into %s/%s", what, c->dest, rel);
    }
    if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
        link_rec key = {.dev = st->st_dev, .ino = st->st_ino};
        link_rec *const *hit = tfind(&key, &c->links, link_cmp);
        if (hit != NULL && linkat(c->dest_root, (*hit)->rel, ddir, name, 0) == 0)
            return 0;
    }
    if (S_ISREG(st->st_mode)) {
        AUTOCLOSE int sfd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0)
            return hcs_err_errno(err, errno, "open %s", what);
        AUTOCLOSE int dfd =
            openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (dfd < 0)
            return hcs_err_errno(err, errno, "create %s/%s", c->dest, rel);
        if (copy_data(sfd, dfd, st->st_size) < 0)
            return hcs_err_errno(err, errno, "copy %s to %s/%s", what, c->dest, rel);
    } else if (S_ISLNK(st->st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
        if (n < 0)
            return hcs_err_errno(err, errno, "read the symlink %s", what);
        target[n] = '\0';
        if (symlinkat(target, ddir, name) < 0)
            return hcs_err_errno(err, errno, "create the symlink %s/%s", c->dest, rel);
    } else if (mknodat(ddir, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0) {
        return hcs_err_errno(err, errno, "create %s/%s (a copy of the special file %s)", c->dest,
                             rel, what);
    }
    if (copy_meta(sdir, name, st, ddir, name, what, err) < 0)
        return -1;
    if (S_ISREG(st->st_mode) && st->st_nlink > 1 && remember_link(c, st, rel) < 0)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    return 0;
}

/* Create the folder name in ddir (filled later, attributes set last) and open it. */
static int make_folder(int ddir, const char *name, const char *where, int *out, hcs_error **err)
{
    if (mkdirat(ddir, name, 0700) < 0)
        return hcs_err_errno(err, errno, "create folder %s", where);
    *out = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*out < 0)
        return hcs_err_errno(err, errno, "open folder %s", where);
    return 0;
}

/* Copy the tree sdir/name (stat st), one source, to ddir/name. */
static int copy_tree(copier *c, int sdir, const char *name, const struct stat *st, int ddir,
                     const char *rel, const char *src, hcs_error **err)
{
    AUTOFREE char *what = hcs_asprintf("%s/%s", src, rel);
    if (what == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (!S_ISDIR(st->st_mode))
        return copy_node(c, sdir, name, st, ddir, rel, what, err);
    AUTOFREE char *where = hcs_asprintf("%s/%s", c->dest, rel);
    if (where == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    AUTOCLOSE int dfd = -1;
    if (make_folder(ddir, name, where, &dfd, err) < 0)
        return -1;
    AUTOCLOSE int sfd = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sfd < 0)
        return hcs_err_errno(err, errno, "open folder %s", what);
    dentry *kids = NULL;
    size_t n = 0;
    if (list_sorted(sfd, what, &kids, &n, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        AUTOFREE char *krel = join(rel, kids[i].name);
        if (krel == NULL)
            rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        else
            rc = copy_tree(c, sfd, kids[i].name, &kids[i].st, dfd, krel, src, err);
    }
    dentries_free(kids, n);
    if (rc < 0)
        return -1;
    return copy_meta(sdir, name, st, ddir, name, what, err);
}

/* --- the merge: first attach of a copy-backend writable layer --------------------------------- */

static int merge_dir(copier *c, const layer_set *ls, const char *rel, const size_t *in, size_t nin,
                     int ddir, hcs_error **err)
{
    mnode *kids = NULL;
    size_t n = 0;
    if (merged_list(ls, rel, in, nin, &kids, &n, err) < 0)
        return -1;
    src_cache cache = {.fd = -1};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const mnode *k = &kids[i];
        AUTOFREE char *krel = join(rel, k->name);
        AUTOFREE char *what = krel ? hcs_asprintf("%s/%s", ls->paths[k->top], krel) : NULL;
        if (krel == NULL || what == NULL) {
            rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            break;
        }
        if (S_ISDIR(k->st.st_mode)) {
            AUTOFREE char *where = hcs_asprintf("%s/%s", c->dest, krel);
            AUTOCLOSE int dfd = -1;
            if (where == NULL)
                rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            else
                rc = make_folder(ddir, k->name, where, &dfd, err);
            if (rc == 0)
                rc = merge_dir(c, ls, krel, k->dirs, k->n_dirs, dfd, err);
        }
        int sdir = rc == 0 ? src_dir(ls, rel, k->top, &cache, err) : -1;
        if (sdir < 0)
            rc = -1;
        else if (S_ISDIR(k->st.st_mode)) /* attributes last: the children changed its times */
            rc = copy_meta(sdir, k->name, &k->st, ddir, k->name, what, err);
        else
            rc = copy_node(c, sdir, k->name, &k->st, ddir, krel, what, err);
    }
    if (cache.fd >= 0)
        close(cache.fd);
    mnodes_free(kids, n);
    return rc;
}

static void copier_free(copier *c)
{
    tdestroy(c->links, link_free);
    c->links = NULL;
}

/* 0, 1, ... n-1: every layer of a set (caller frees); NULL when out of memory. */
static size_t *all_layers(size_t n)
{
    size_t *all = calloc(n ? n : 1, sizeof(*all));
    for (size_t i = 0; all != NULL && i < n; i++)
        all[i] = i;
    return all;
}

static int merge_into(const layer_set *ls, const char *dest, int dfd, hcs_error **err)
{
    AUTOFREE size_t *all = all_layers(ls->n);
    if (all == NULL) {
        hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        return -1;
    }
    copier c = {.dest_root = dfd, .dest = dest};
    int rc = merge_dir(&c, ls, "", all, ls->n, dfd, err);
    copier_free(&c);
    if (rc < 0 || ls->n == 0)
        return rc;
    struct stat st;
    if (fstat(ls->roots[0], &st) < 0)
        return hcs_err_errno(err, errno, "stat %s", ls->paths[0]);
    return copy_meta(ls->roots[0], ".", &st, dfd, ".", ls->paths[0], err);
}

int hcs_layer_copy_merge(const char *const *files, size_t n, const char *dest, hcs_error **err)
{
    AUTOCLOSE int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return hcs_err_errno(err, errno, "open folder %s", dest);
    layer_set ls = {0};
    if (layer_set_open(&ls, files, n, err) < 0)
        return -1;
    int rc = merge_into(&ls, dest, dfd, err);
    layer_set_close(&ls);
    /* Durable before the caller records the copy as made. */
    if (rc == 0 && syncfs(dfd) < 0)
        return hcs_err_errno(err, errno, "flush %s", dest);
    return rc;
}

/* --- the changes: rootfs against the merged parents ------------------------------------------- */

static bool xattrs_differ(int adir, const char *aname, int bdir, const char *bname)
{
    char apath[PATH_MAX], bpath[PATH_MAX];
    proc_path(apath, sizeof(apath), adir, aname);
    proc_path(bpath, sizeof(bpath), bdir, bname);
    AUTOFREE char *an = NULL;
    AUTOFREE char *bn = NULL;
    ssize_t alen = 0, blen = 0;
    if (xattr_names(apath, &an, &alen) < 0 || xattr_names(bpath, &bn, &blen) < 0)
        return true;
    size_t acount = 0, bcount = 0;
    for (ssize_t off = 0; off < blen; off += (ssize_t)strlen(bn + off) + 1)
        bcount += !skip_xattr(bn + off);
    for (ssize_t off = 0; off < alen; off += (ssize_t)strlen(an + off) + 1) {
        const char *name = an + off;
        if (skip_xattr(name))
            continue;
        acount++;
        AUTOFREE char *av = NULL;
        AUTOFREE char *bv = NULL;
        ssize_t avl = 0, bvl = 0;
        if (xattr_value(apath, name, &av, &avl) < 0 || xattr_value(bpath, name, &bv, &bvl) < 0)
            return true;
        if (avl != bvl || memcmp(av, bv, (size_t)avl) != 0)
            return true;
    }
    return acount != bcount;
}

/* Whether the entry of rootfs differs from the merged view's (both not folders, or both). */
static bool entry_differs(int rdir, const char *name, const struct stat *r, int mdir,
                          const struct stat *m)
{
    if ((r->st_mode & S_IFMT) != (m->st_mode & S_IFMT) ||
        (r->st_mode & 07777) != (m->st_mode & 07777) || r->st_uid != m->st_uid ||
        r->st_gid != m->st_gid || r->st_mtim.tv_sec != m->st_mtim.tv_sec ||
        r->st_mtim.tv_nsec != m->st_mtim.tv_nsec)
        return true;
    if (!S_ISDIR(r->st_mode) && r->st_size != m->st_size)
        return true;
    if ((S_ISCHR(r->st_mode) || S_ISBLK(r->st_mode)) && r->st_rdev != m->st_rdev)
        return true;
    if (S_ISLNK(r->st_mode)) {
        char a[PATH_MAX], b[PATH_MAX];
        ssize_t al = readlinkat(rdir, name, a, sizeof(a));
        ssize_t bl = readlinkat(mdir, name, b, sizeof(b));
        if (al < 0 || bl < 0 || al != bl || memcmp(a, b, (size_t)al) != 0)
            return true;
    }
    return xattrs_differ(rdir, name, mdir, name);
}

/* A folder of rootfs being compared; its copy in out_dir is made only when something needs it. */
typedef struct frame {
    struct frame *parent;
    const char *name; /* in the parent; NULL for the root */
    const char *rel;  /* below rootfs and out_dir ("" for the root) */
    int src;          /* the folder in rootfs */
    int out;          /* its copy in out_dir, or -1 until needed */
} frame;

typedef struct differ {
    copier c;
    const layer_set *ls;
    const char *rootfs;
} differ;

static int need_out(const differ *d, frame *f, hcs_error **err)
{
    if (f->out >= 0)
        return 0;
    if (f->parent == NULL) /* the root frame is out_dir itself, always open */
        return hcs_err_set(err, E_FAIL, "%s: no output folder", d->c.dest);
    if (need_out(d, f->parent, err) < 0)
        return -1;
    AUTOFREE char *where = hcs_asprintf("%s/%s", d->c.dest, f->rel);
    if (where == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    return make_folder(f->parent->out, f->name, where, &f->out, err);
}

static int whiteout(const differ *d, frame *f, const char *name, const char *rel, hcs_error **err)
{
    if (need_out(d, f, err) < 0)
        return -1;
    if (mknodat(f->out, name, S_IFCHR, makedev(0, 0)) < 0)
        return hcs_err_errno(err, errno, "create the whiteout %s/%s", d->c.dest, rel);
    return 0;
}

static int diff_dir(differ *d, frame *f, const size_t *in, size_t nin, hcs_error **err);

/* rootfs/rel/name and the merged view's node m both exist. */
static int diff_both(differ *d, frame *f, const dentry *r, const mnode *m, const char *rel,
                     src_cache *cache, hcs_error **err)
{
    int mdir = src_dir(d->ls, f->rel, m->top, cache, err);
    if (mdir < 0)
        return -1;
    bool r_dir = S_ISDIR(r->st.st_mode), m_dir = S_ISDIR(m->st.st_mode);
    if (r_dir && m_dir) {
        frame child = {.parent = f, .name = r->name, .rel = rel, .out = -1};
        child.src = openat(f->src, r->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child.src < 0)
            return hcs_err_errno(err, errno, "open folder %s/%s", d->rootfs, rel);
        int rc = 0;
        if (entry_differs(f->src, r->name, &r->st, mdir, &m->st))
            rc = need_out(d, &child, err);
        if (rc == 0)
            rc = diff_dir(d, &child, m->dirs, m->n_dirs, err);
        if (rc == 0 && child.out >= 0) {
            AUTOFREE char *what = hcs_asprintf("%s/%s", d->rootfs, rel);
            rc = what ? copy_meta(f->src, r->name, &r->st, f->out, r->name, what, err)
                      : hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        }
        close(child.src);
        if (child.out >= 0)
            close(child.out);
        return rc;
    }
    /* A folder over a non-folder hides everything below it: no opaque mark is needed. */
    if (r_dir || m_dir || entry_differs(f->src, r->name, &r->st, mdir, &m->st)) {
        if (need_out(d, f, err) < 0)
            return -1;
        return copy_tree(&d->c, f->src, r->name, &r->st, f->out, rel, d->rootfs, err);
    }
    return 0;
}

static int diff_dir(differ *d, frame *f, const size_t *in, size_t nin, hcs_error **err)
{
    AUTOFREE char *what = hcs_asprintf("%s/%s", d->rootfs, f->rel);
    if (what == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    dentry *rs = NULL;
    size_t nr = 0;
    mnode *ms = NULL;
    size_t nm = 0;
    if (list_sorted(f->src, what, &rs, &nr, err) < 0)
        return -1;
    if (merged_list(d->ls, f->rel, in, nin, &ms, &nm, err) < 0) {
        dentries_free(rs, nr);
        return -1;
    }
    src_cache cache = {.fd = -1};
    int rc = 0;
    size_t i = 0, j = 0;
    while (rc == 0 && (i < nr || j < nm)) {
        int c = i == nr ? 1 : j == nm ? -1 : strcmp(rs[i].name, ms[j].name);
        const char *name = c <= 0 ? rs[i].name : ms[j].name;
        AUTOFREE char *rel = join(f->rel, name);
        if (rel == NULL) {
            rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            break;
        }
        if (c < 0) { /* added */
            rc = need_out(d, f, err);
            if (rc == 0)
                rc = copy_tree(&d->c, f->src, name, &rs[i].st, f->out, rel, d->rootfs, err);
            i++;
        } else if (c > 0) { /* deleted */
            rc = whiteout(d, f, name, rel, err);
            j++;
        } else {
            rc = diff_both(d, f, &rs[i], &ms[j], rel, &cache, err);
            i++;
            j++;
        }
    }
    if (cache.fd >= 0)
        close(cache.fd);
    dentries_free(rs, nr);
    mnodes_free(ms, nm);
    return rc;
}

/* Whether the folder path exists and is empty; an error otherwise. */
static int check_empty_folder(int fd, const char *path, hcs_error **err)
{
    dentry *v = NULL;
    size_t n = 0;
    if (list_sorted(fd, path, &v, &n, err) < 0)
        return -1;
    dentries_free(v, n);
    if (n > 0)
        return hcs_err_set(err, HCS_E_ALREADY_EXISTS,
                           "%s is not empty (the changes are written into an empty folder)", path);
    return 0;
}

static int diff_into(const layer_set *ls, const char *rootfs, int src, const char *out_dir, int ofd,
                     hcs_error **err)
{
    AUTOFREE size_t *all = all_layers(ls->n);
    if (all == NULL) {
        hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        return -1;
    }
    differ d = {.c = {.dest_root = ofd, .dest = out_dir, .link_from_src = true},
                .ls = ls,
                .rootfs = rootfs};
    frame root = {.rel = "", .src = src, .out = ofd};
    int rc = diff_dir(&d, &root, all, ls->n, err);
    copier_free(&d.c);
    if (rc < 0)
        return -1;
    /* out_dir stands for the view's root: it takes rootfs' attributes. */
    struct stat st;
    if (fstat(src, &st) < 0)
        return hcs_err_errno(err, errno, "stat %s", rootfs);
    return copy_meta(src, ".", &st, ofd, ".", rootfs, err);
}

static int changes(const char *path, const hcs_layer_info *info, const char *out_dir, int ofd,
                   hcs_error **err)
{
    AUTOFREE char *rootfs = hcs_asprintf("%s/%s", path, HCS_LAYER_ROOTFS);
    if (rootfs == NULL) {
        hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        return -1;
    }
    AUTOCLOSE int wfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (wfd < 0)
        return hcs_err_errno(err, errno, "open %s", path);
    struct stat st;
    if (fstatat(wfd, HCS_LAYER_COPIED, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0; /* never attached: no tree was copied, so nothing can have changed */
        return hcs_err_errno(err, errno, "stat %s/%s", path, HCS_LAYER_COPIED);
    }
    AUTOCLOSE int src = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (src < 0)
        return hcs_err_errno(err, errno, "open folder %s", rootfs);
    char **files = NULL;
    if (hcs_layer_parent_files(info, &files, err) < 0)
        return -1;
    layer_set ls = {0};
    int rc = layer_set_open(&ls, (const char *const *)files, info->n_parents, err);
    if (rc == 0) {
        rc = diff_into(&ls, rootfs, src, out_dir, ofd, err);
        layer_set_close(&ls);
    }
    hcs_layer_strv_free(files, info->n_parents);
    return rc;
}

int hcs_layer_copy_changes(const char *path, const char *out_dir, hcs_error **err)
{
    hcs_layer_info info;
    if (hcs_layer_info_read(path, &info, err) < 0)
        return hcs_err_wrap(err, "changes of %s", path);
    int rc = 0;
    if (info.kind != HCS_LAYER_KIND_WRITABLE)
        rc = hcs_err_set(err, HCS_E_INVALID_LAYER, "changes of %s: not a writable layer", path);
    else if (info.backend != HCS_LAYER_BACKEND_COPY)
        rc = hcs_err_set(err, E_INVALIDARG,
                         "changes of %s: the layer uses the %s backend; its changes are %s/%s",
                         path, hcs_layer_backend_name(info.backend), path, HCS_LAYER_FILES);
    AUTOCLOSE int ofd = -1;
    if (rc == 0) {
        ofd = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ofd < 0)
            rc = hcs_err_errno(err, errno, "changes of %s: output folder %s", path, out_dir);
    }
    if (rc == 0)
        rc = check_empty_folder(ofd, out_dir, err);
    if (rc == 0 && changes(path, &info, out_dir, ofd, err) < 0)
        rc = hcs_err_wrap(err, "changes of %s", path);
    hcs_layer_info_free(&info);
    return rc;
}
