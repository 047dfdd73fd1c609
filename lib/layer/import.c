/*
 * import.c - hcs_layer_import: a layer archive (tar, tar+gzip, tar+zstd) or an unpacked folder
 * into a read-only layer folder, in one streaming pass.
 *
 * An archive is read by two libarchive readers: the outer one (format "raw", filters gzip and
 * zstd, detected by content) decompresses; the inner one (format tar: ustar, pax, GNU) reads
 * through a callback that pulls the outer one's blocks and hashes them, so the diff id (the
 * sha256 of the uncompressed tar) costs no second pass and no copy. A folder is walked with
 * archive_read_disk; both give libarchive entries to one writer (unpack.c).
 *
 * The layer is unpacked into a temporary sibling folder ".hcs-import.<name>.<random>", locked
 * (flock) for as long as the import runs, then made durable (syncfs) and renamed to the layer
 * path. A failed import removes it; a killed one leaves it unlocked, and hcs_layer_sweep (run by
 * every import into the same parent folder) removes it.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "layer.h"
#include "registry/registry.h"
#include "unpack.h"

#define TMP_PREFIX ".hcs-import."
#define READ_BLOCK (1 << 20)
#define PROGRESS_STEP (4ULL << 20)

/* --- sweeping dead imports ------------------------------------------------------------------ */

/* Whether fd is still the folder named name in pfd. */
static bool still_named(int pfd, const char *name, int fd)
{
    struct stat a, b;
    return fstatat(pfd, name, &a, AT_SYMLINK_NOFOLLOW) == 0 && fstat(fd, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

void hcs_layer_sweep(const char *parent_dir)
{
    if (parent_dir == NULL)
        return;
    AUTOCLOSE int pfd = open(parent_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0)
        return;
    int lfd = fcntl(pfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
    if (d == NULL) {
        if (lfd >= 0)
            close(lfd);
        return;
    }
    /* Names first: removing while listing may skip entries. */
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, TMP_PREFIX, sizeof(TMP_PREFIX) - 1) != 0)
            continue;
        char **nn = realloc(names, (n + 1) * sizeof(*nn));
        if (nn == NULL)
            break;
        names = nn;
        if ((names[n] = strdup(de->d_name)) != NULL)
            n++;
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        int fd = openat(pfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        /*
         * A live import holds the lock. Holding it, we are the only one who may touch the
         * folder; it must still be the one we locked (not removed and remade meanwhile).
         */
        if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && still_named(pfd, names[i], fd))
            hcs_remove_tree_at(pfd, names[i], NULL);
        if (fd >= 0)
            close(fd);
        free(names[i]);
    }
    free(names);
}

/* --- reading the source --------------------------------------------------------------------- */

/*
 * An archive's bytes go through two threads. The feeder reads the source, decompresses it (the
 * outer reader) and hashes it into a ring of SLOTS buffers; the caller's thread parses the tar
 * from them (the inner reader) and writes the files. Decompressing and hashing thus run beside
 * the writing, as with `tar -x` reading from a gzip or zstd process. Each libarchive reader is
 * used by one thread only.
 */
#define SLOTS 4
#define SLOT_SIZE (1 << 20)

typedef struct feeder {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned char *slot[SLOTS];
    size_t len[SLOTS];
    size_t head, count; /* the oldest filled slot, how many are filled */
    bool lent;          /* slot[head] is lent to the inner reader until its next read */
    bool done, stop;
    char *error; /* why the stream ended early (decompression, reading) */
    int stop_fd; /* eventfd: wakes a feeder waiting for input */
} feeder;

typedef struct src_state {
    const char *name; /* for messages */
    int fd;
    unsigned char *buf; /* the feeder's read buffer */
    uint64_t read;      /* source bytes read (atomic: written by the feeder) */
    uint64_t total, next_report;
    struct sha256_ctx sha; /* the feeder's until it is joined */
    const hcs_layer_import_opts *o;
    hcs_unpack *u;
    hcs_error *err; /* the feeder's until joined: an error reading the source itself */
    feeder f;
} src_state;

static void report(src_state *s)
{
    if (s->o->progress == NULL)
        return;
    hcs_layer_progress p = {
        .read = __atomic_load_n(&s->read, __ATOMIC_RELAXED),
        .total = s->total,
        .written = s->u != NULL ? hcs_unpack_written(s->u) : 0,
        .entries = s->u != NULL ? hcs_unpack_entries(s->u) : 0,
    };
    s->o->progress(&p, s->o->progress_ctx);
}

/* About every PROGRESS_STEP bytes read, from the caller's thread. */
static void maybe_report(src_state *s)
{
    uint64_t r = __atomic_load_n(&s->read, __ATOMIC_RELAXED);
    if (r >= s->next_report) {
        report(s);
        s->next_report = r + PROGRESS_STEP;
    }
}

/* The outer reader's input (feeder thread). */
static la_ssize_t outer_read(struct archive *a, void *ctx, const void **buf)
{
    src_state *s = ctx;
    /* A pipe may never send more: wait for input or for the caller to stop us. */
    struct pollfd p[2] = {{.fd = s->fd, .events = POLLIN}, {.fd = s->f.stop_fd, .events = POLLIN}};
    while (poll(p, 2, -1) < 0 && errno == EINTR)
        ;
    if (p[1].revents != 0) {
        archive_set_error(a, ECANCELED, "stopped");
        return -1;
    }
    ssize_t n;
    do
        n = read(s->fd, s->buf, READ_BLOCK);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        int e = errno;
        hcs_err_errno(&s->err, e, "read %s", s->name);
        archive_set_error(a, e, "read error");
        return -1;
    }
    __atomic_add_fetch(&s->read, (uint64_t)n, __ATOMIC_RELAXED);
    *buf = s->buf;
    return n;
}

static void feeder_end(feeder *f, const char *error)
{
    pthread_mutex_lock(&f->mu);
    if (error != NULL && f->error == NULL)
        f->error = strdup(error);
    f->done = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

/* The next free slot, waiting for one; NULL when told to stop. */
static unsigned char *feeder_slot(feeder *f)
{
    pthread_mutex_lock(&f->mu);
    while (f->count == SLOTS && !f->stop)
        pthread_cond_wait(&f->cv, &f->mu);
    unsigned char *slot = f->stop ? NULL : f->slot[(f->head + f->count) % SLOTS];
    pthread_mutex_unlock(&f->mu);
    return slot;
}

static void feeder_publish(feeder *f, size_t len)
{
    pthread_mutex_lock(&f->mu);
    f->len[(f->head + f->count) % SLOTS] = len;
    f->count++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void *feed(void *arg)
{
    src_state *s = arg;
    feeder *f = &s->f;
    struct archive *outer = archive_read_new();
    struct archive_entry *e;
    if (outer == NULL) {
        feeder_end(f, "out of memory");
        return NULL;
    }
    archive_read_support_filter_gzip(outer);
    archive_read_support_filter_zstd(outer);
    archive_read_support_format_raw(outer);
    int r = archive_read_open2(outer, s, NULL, outer_read, NULL, NULL);
    if (r == ARCHIVE_OK)
        r = archive_read_next_header(outer, &e);
    if (r == ARCHIVE_EOF || r < ARCHIVE_WARN) {
        feeder_end(f, r == ARCHIVE_EOF ? "the archive is empty" : archive_error_string(outer));
        archive_read_free(outer);
        return NULL;
    }
    unsigned char *cur = NULL;
    size_t fill = 0;
    for (;;) {
        const void *buf;
        size_t len = 0;
        la_int64_t off;
        r = archive_read_data_block(outer, &buf, &len, &off);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            const char *why = archive_error_string(outer);
            feeder_end(f, why != NULL ? why : "cannot decompress");
            archive_read_free(outer);
            return NULL;
        }
        sha256_update(&s->sha, len, buf);
        for (const unsigned char *p = buf; len > 0;) {
            if (cur == NULL && (cur = feeder_slot(f)) == NULL) {
                archive_read_free(outer); /* stopped */
                return NULL;
            }
            size_t n = len < SLOT_SIZE - fill ? len : SLOT_SIZE - fill;
            memcpy(cur + fill, p, n);
            fill += n, p += n, len -= n;
            if (fill == SLOT_SIZE) {
                feeder_publish(f, fill);
                cur = NULL, fill = 0;
            }
        }
    }
    if (cur != NULL && fill > 0)
        feeder_publish(f, fill);
    feeder_end(f, NULL);
    archive_read_free(outer);
    return NULL;
}

/* The inner reader's input (caller's thread): the feeder's next slot. */
static la_ssize_t inner_read(struct archive *a, void *ctx, const void **buf)
{
    src_state *s = ctx;
    feeder *f = &s->f;
    la_ssize_t n = 0;
    pthread_mutex_lock(&f->mu);
    if (f->lent) {
        f->lent = false;
        f->head = (f->head + 1) % SLOTS;
        f->count--;
        pthread_cond_broadcast(&f->cv);
    }
    while (f->count == 0 && !f->done)
        pthread_cond_wait(&f->cv, &f->mu);
    if (f->count > 0) {
        *buf = f->slot[f->head];
        n = (la_ssize_t)f->len[f->head];
        f->lent = true;
    } else if (f->error != NULL) {
        archive_set_error(a, -1, "%s", f->error);
        n = -1;
    }
    pthread_mutex_unlock(&f->mu);
    maybe_report(s);
    return n;
}

static void feeder_stop(feeder *f)
{
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    uint64_t one = 1;
    if (write(f->stop_fd, &one, sizeof(one)) < 0) {
        /* A full eventfd counter: it is readable anyway. */
    }
    pthread_join(f->thread, NULL);
}

static int archive_fail(hcs_error **err, const src_state *s, struct archive *a, uint64_t entries,
                        const char *what)
{
    const char *why = archive_error_string(a);
    return hcs_err_set(err, HCS_E_INVALID_LAYER, "layer archive %s: %s %llu: %s", s->name, what,
                       (unsigned long long)entries + 1, why != NULL ? why : "unknown error");
}

static int unpack_entries(src_state *s, struct archive *inner, hcs_error **err)
{
    static const char *const not_tar = "not a tar archive (tar, tar+gzip or tar+zstd); entry";
    archive_read_support_format_tar(inner);
    if (archive_read_open2(inner, s, NULL, inner_read, NULL, NULL) != ARCHIVE_OK)
        return archive_fail(err, s, inner, 0, not_tar);
    for (uint64_t n = 0;; n++) {
        struct archive_entry *e;
        int r = archive_read_next_header(inner, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN)
            return archive_fail(err, s, inner, n, n == 0 ? not_tar : "entry");
        if (hcs_unpack_entry(s->u, inner, e, err) < 0)
            return -1;
    }
    /* The rest of the stream after the tar's end (its padding) is part of the diff id. */
    const void *buf;
    la_ssize_t n;
    while ((n = inner_read(inner, s, &buf)) > 0)
        ;
    if (n < 0)
        return archive_fail(err, s, inner, 0, "after the end, block");
    return 0;
}

static int unpack_archive(src_state *s, hcs_error **err)
{
    feeder *f = &s->f;
    f->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (f->stop_fd < 0)
        return hcs_err_errno(err, errno, "read %s: eventfd", s->name);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    int rc = -1;
    hcs_error *e = NULL;
    struct archive *inner = archive_read_new();
    s->buf = malloc(READ_BLOCK);
    bool ok = inner != NULL && s->buf != NULL;
    for (size_t i = 0; i < SLOTS; i++)
        ok &= (f->slot[i] = malloc(SLOT_SIZE)) != NULL;
    if (!ok) {
        hcs_err_set(err, E_OUTOFMEMORY, "out of memory reading %s", s->name);
    } else if ((errno = pthread_create(&f->thread, NULL, feed, s)) != 0) {
        hcs_err_errno(err, errno, "read %s: start a thread", s->name);
    } else {
        rc = unpack_entries(s, inner, &e);
        feeder_stop(f);
        /* Why the source could not be read comes first: the rest follows from it. */
        if (rc < 0 && s->err != NULL) {
            hcs_err_free(e);
            e = NULL;
            hcs_err_move(err, &s->err);
        }
        hcs_err_move(err, &e);
        hcs_err_free(s->err);
        s->err = NULL;
    }
    if (inner != NULL)
        archive_read_free(inner);
    for (size_t i = 0; i < SLOTS; i++)
        free(f->slot[i]);
    free(f->error);
    free(s->buf);
    s->buf = NULL;
    close(f->stop_fd);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
    return rc;
}

static int unpack_folder(src_state *s, const char *folder, hcs_error **err)
{
    struct archive *d = archive_read_disk_new();
    struct archive_entry *e = archive_entry_new();
    struct archive_entry_linkresolver *lr = archive_entry_linkresolver_new();
    int rc = -1;
    if (d == NULL || e == NULL || lr == NULL) {
        hcs_err_set(err, E_OUTOFMEMORY, "out of memory reading %s", folder);
        goto out;
    }
    /* Symlinks are entries, never followed (but for the folder itself); no owner names. */
    archive_read_disk_set_symlink_hybrid(d);
    archive_read_disk_set_behavior(d, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS |
                                          ARCHIVE_READDISK_NO_ACL | ARCHIVE_READDISK_NO_FFLAGS);
    /* Later links to a file become hard link entries to its first path. */
    archive_entry_linkresolver_set_strategy(lr, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    if (archive_read_disk_open(d, folder) != ARCHIVE_OK) {
        hcs_err_set(err, HCS_E_INVALID_LAYER, "layer folder %s: %s", folder,
                    archive_error_string(d));
        goto out;
    }
    size_t plen = strlen(folder);
    for (;;) {
        archive_entry_clear(e);
        int r = archive_read_next_header2(d, e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            hcs_err_set(err, HCS_E_INVALID_LAYER, "layer folder %s: %s", folder,
                        archive_error_string(d));
            goto out;
        }
        if (archive_entry_filetype(e) == AE_IFDIR)
            archive_read_disk_descend(d);
        /* The name inside the folder: "folder/a/b" -> "a/b", the folder itself -> ".". */
        const char *p = archive_entry_pathname(e);
        if (p == NULL || strncmp(p, folder, plen) != 0) {
            hcs_err_set(err, E_FAIL, "layer folder %s: unexpected entry %s", folder,
                        p != NULL ? p : "(no name)");
            goto out;
        }
        p += plen;
        while (*p == '/')
            p++;
        AUTOFREE char *name = strdup(*p != '\0' ? p : ".");
        if (name == NULL) {
            hcs_err_set(err, E_OUTOFMEMORY, "out of memory reading %s", folder);
            goto out;
        }
        archive_entry_copy_pathname(e, name);
        struct archive_entry *le = e, *spare = NULL;
        archive_entry_linkify(lr, &le, &spare);
        if (le != NULL && hcs_unpack_entry(s->u, d, le, err) < 0) {
            hcs_err_wrap(err, "layer folder %s", folder);
            goto out;
        }
        __atomic_store_n(&s->read, hcs_unpack_written(s->u), __ATOMIC_RELAXED);
        maybe_report(s);
    }
    rc = 0;
out:
    if (lr != NULL)
        archive_entry_linkresolver_free(lr);
    if (e != NULL)
        archive_entry_free(e);
    if (d != NULL)
        archive_read_free(d);
    return rc;
}

/* --- the layer folder ----------------------------------------------------------------------- */

/* layer_path may be missing or an empty folder (*replace: it is one); else it is refused. */
static int check_target(int pfd, const char *base, const char *layer_path, bool *replace,
                        struct stat *st, hcs_error **err)
{
    *replace = false;
    if (fstatat(pfd, base, st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return hcs_err_errno(err, errno, "layer path %s", layer_path);
    }
    bool empty = false;
    if (S_ISDIR(st->st_mode)) {
        int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (d == NULL) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            return hcs_err_errno(err, e, "layer path %s", layer_path);
        }
        struct dirent *de;
        empty = true;
        while ((de = readdir(d)) != NULL)
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                empty = false;
        closedir(d);
    }
    if (!empty)
        return hcs_err_set(err, HCS_E_ALREADY_EXISTS,
                           "layer path %s already exists (it must not exist, or be an empty "
                           "folder)",
                           layer_path);
    *replace = true;
    return 0;
}

/* Create and lock the temporary folder; its descriptor (holding the lock) in *out. */
static int make_temp(int pfd, const char *parent, const char *base, char *name, size_t size,
                     int *out, hcs_error **err)
{
    for (int tries = 0; tries < 32; tries++) {
        unsigned long long r = 0;
        if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
            r = hcs_now_ms() ^ ((unsigned long long)getpid() << 32) ^ (unsigned long long)tries;
        /* The layer's name, cut so that the whole stays under NAME_MAX. */
        snprintf(name, size, TMP_PREFIX "%.200s.%016llx", base, r);
        if (mkdirat(pfd, name, 0700) < 0) {
            if (errno == EEXIST)
                continue;
            return hcs_err_errno(err, errno, "create the temporary folder %s/%s", parent, name);
        }
        int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue; /* removed by a sweep between mkdir and open */
        /* A sweep may have locked it first (and removed it): then make another one. */
        if (flock(fd, LOCK_EX | LOCK_NB) == 0 && still_named(pfd, name, fd)) {
            *out = fd;
            return 0;
        }
        close(fd);
    }
    return hcs_err_set(err, E_FAIL, "cannot make a temporary folder in %s", parent);
}

/* --- registry hives --------------------------------------------------------------------------- */

/*
 * The archive's Hives/ entries, once unpacked: a <Hive>_Delta file (any case) must be a valid
 * hive file of that hive; the changes of <Hive>.reg files (any case; each change goes to its
 * own hive, whatever the file's name) are written as <Hive>_Delta files, and the .reg files
 * removed, so that the layer holds only what lib/registry reads and exports as it was imported.
 * Any other file in Hives/ is kept as it is. The diff id stays that of the archive as given.
 */
#define REG_TEXT_MAX (64u << 20)

/* The hive whose file name is "<Hive><suffix>" (any case), or -1. */
static int hive_named(const char *name, const char *suffix)
{
    for (int h = 0; h < HCS_REG_N_HIVES; h++) {
        const char *hn = hcs_reg_hive_name((enum hcs_reg_hive)h);
        size_t l = strlen(hn);
        if (strncasecmp(name, hn, l) == 0 && strcasecmp(name + l, suffix) == 0)
            return h;
    }
    return -1;
}

/* The failure *inner about archive entry Hives/name, as an invalid layer (out of memory stays). */
static int hive_entry_fail(hcs_error **err, hcs_error **inner, const char *name)
{
    HRESULT hr =
        *inner != NULL && (*inner)->hr == E_OUTOFMEMORY ? E_OUTOFMEMORY : HCS_E_INVALID_LAYER;
    hcs_err_set(err, hr, "%s/%s: %s", HCS_LAYER_HIVES, name,
                *inner != NULL ? (*inner)->message : "invalid");
    hcs_err_free(*inner);
    *inner = NULL;
    return -1;
}

/* Hives/name is a valid hive file of hive h. */
static int check_hive_file(int hfd, const char *name, enum hcs_reg_hive h, hcs_error **err)
{
    hcs_error *e = NULL;
    hcs_reg_hive_file *f = NULL;
    if (hcs_reg_hive_open(hfd, name, &f, &e) < 0 || hcs_reg_hive_verify(f, &e) < 0) {
        hcs_reg_hive_close(f);
        return hive_entry_fail(err, &e, name);
    }
    enum hcs_reg_hive got = hcs_reg_hive_of(f);
    hcs_reg_hive_close(f);
    if (got != h)
        return hcs_err_set(err, HCS_E_INVALID_LAYER, "%s/%s: holds the %s hive, not %s",
                           HCS_LAYER_HIVES, name, hcs_reg_hive_name(got), hcs_reg_hive_name(h));
    return 0;
}

typedef struct reg_file {
    char *name;
    hcs_reg_change *changes;
    size_t n;
} reg_file;

typedef struct hives_scan {
    char **names; /* every entry of Hives/, sorted */
    size_t n_names;
    const char *delta[HCS_REG_N_HIVES]; /* the <Hive>_Delta file of each hive */
    reg_file *regs;                     /* the <Hive>.reg files, in name order */
    size_t n_regs;
} hives_scan;

static void hives_scan_free(hives_scan *s)
{
    for (size_t i = 0; i < s->n_regs; i++)
        hcs_reg_changes_free(s->regs[i].changes, s->regs[i].n);
    free(s->regs);
    for (size_t i = 0; i < s->n_names; i++)
        free(s->names[i]);
    free(s->names);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_hives(int hfd, hives_scan *s, hcs_error **err)
{
    int fd = fcntl(hfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return hcs_err_errno(err, e, "list %s", HCS_LAYER_HIVES);
    }
    int rc = 0;
    size_t cap = 0;
    for (;;) {
        errno = 0;
        const struct dirent *de = readdir(d);
        if (de == NULL) {
            if (errno != 0)
                rc = hcs_err_errno(err, errno, "list %s", HCS_LAYER_HIVES);
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (s->n_names == cap) {
            cap = cap ? cap * 2 : 8;
            char **nn = realloc(s->names, cap * sizeof(*nn));
            if (nn == NULL) {
                rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
                break;
            }
            s->names = nn;
        }
        if ((s->names[s->n_names] = strdup(de->d_name)) == NULL) {
            rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            break;
        }
        s->n_names++;
    }
    closedir(d);
    if (rc == 0 && s->n_names > 1)
        qsort(s->names, s->n_names, sizeof(*s->names), str_cmp);
    return rc;
}

/* Hives/name is a regular file (archives may hold links or folders of any name). */
static int regular_entry(int hfd, const char *name, hcs_error **err)
{
    struct stat st;
    if (fstatat(hfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return hcs_err_errno(err, errno, "%s/%s", HCS_LAYER_HIVES, name);
    if (!S_ISREG(st.st_mode))
        return hcs_err_set(err, HCS_E_INVALID_LAYER,
                           "%s/%s: a registry file must be a regular file", HCS_LAYER_HIVES, name);
    return 0;
}

/* Sort the entries of Hives/: check the hive files, parse the .reg files. */
static int scan_hives(int hfd, hives_scan *s, hcs_error **err)
{
    if (list_hives(hfd, s, err) < 0)
        return -1;
    for (size_t i = 0; i < s->n_names; i++) {
        const char *name = s->names[i];
        int h = hive_named(name, HCS_REG_DELTA_SUFFIX);
        if (h >= 0) {
            if (s->delta[h] != NULL)
                return hcs_err_set(err, HCS_E_INVALID_LAYER,
                                   "%s/%s and %s/%s are both the %s hive (names are "
                                   "case-insensitive)",
                                   HCS_LAYER_HIVES, s->delta[h], HCS_LAYER_HIVES, name,
                                   hcs_reg_hive_name((enum hcs_reg_hive)h));
            if (regular_entry(hfd, name, err) < 0 ||
                check_hive_file(hfd, name, (enum hcs_reg_hive)h, err) < 0)
                return -1;
            s->delta[h] = name;
            continue;
        }
        if (hive_named(name, ".reg") < 0)
            continue; /* not ours: kept as it is */
        if (regular_entry(hfd, name, err) < 0)
            return -1;
        AUTOFREE char *text = NULL;
        size_t len = 0;
        AUTOFREE char *what = hcs_asprintf("%s/%s", HCS_LAYER_HIVES, name);
        hcs_error *e = NULL;
        if (what == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        if (hcs_read_file_at(hfd, name, REG_TEXT_MAX, &text, &len, &e) < 0)
            return hive_entry_fail(err, &e, name);
        reg_file *r = realloc(s->regs, (s->n_regs + 1) * sizeof(*r));
        if (r == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        s->regs = r;
        r = &s->regs[s->n_regs];
        *r = (reg_file){.name = s->names[i]};
        int rc = hcs_reg_parse(text, len, what, &r->changes, &r->n, &e);
        s->n_regs++; /* freed by hives_scan_free either way */
        if (rc < 0) {
            /* The parser's message already names the entry and the line. */
            HRESULT hr = e != NULL && e->hr == E_OUTOFMEMORY ? E_OUTOFMEMORY : HCS_E_INVALID_LAYER;
            hcs_err_set(err, hr, "%s", e != NULL ? e->message : what);
            hcs_err_free(e);
            return -1;
        }
    }
    return 0;
}

/* Write the changes of the .reg files as hive files, then remove the .reg files. */
static int convert_regs(int hfd, hives_scan *s, hcs_error **err)
{
    size_t total = 0;
    for (size_t i = 0; i < s->n_regs; i++)
        total += s->regs[i].n;
    AUTOFREE hcs_reg_change *all = calloc(total ? total : 1, sizeof(*all));
    if (all == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    const char *first[HCS_REG_N_HIVES] = {NULL}; /* the first .reg file touching each hive */
    size_t k = 0;
    for (size_t i = 0; i < s->n_regs; i++) {
        for (size_t j = 0; j < s->regs[i].n; j++) {
            const hcs_reg_change *c = &s->regs[i].changes[j];
            if ((unsigned)c->hive < HCS_REG_N_HIVES && first[c->hive] == NULL)
                first[c->hive] = s->regs[i].name;
            all[k++] = *c;
        }
    }
    for (int h = 0; h < HCS_REG_N_HIVES; h++) {
        if (first[h] == NULL)
            continue;
        const char *hn = hcs_reg_hive_name((enum hcs_reg_hive)h);
        if (s->delta[h] != NULL)
            return hcs_err_set(err, HCS_E_INVALID_LAYER,
                               "%s/%s and %s/%s both give the %s hive: an archive holds "
                               "either a hive file or .reg files for a hive, not both",
                               HCS_LAYER_HIVES, first[h], HCS_LAYER_HIVES, s->delta[h], hn);
        AUTOFREE char *out = hcs_asprintf("%s%s", hn, HCS_REG_DELTA_SUFFIX);
        if (out == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        if (hcs_reg_hive_write(hfd, out, (enum hcs_reg_hive)h, all, total, err) < 0)
            return hcs_err_wrap(err, "%s/%s", HCS_LAYER_HIVES, first[h]);
    }
    for (size_t i = 0; i < s->n_regs; i++)
        if (unlinkat(hfd, s->regs[i].name, 0) < 0)
            return hcs_err_errno(err, errno, "remove %s/%s", HCS_LAYER_HIVES, s->regs[i].name);
    return 0;
}

static int import_hives(int tfd, hcs_error **err)
{
    AUTOCLOSE int hfd =
        openat(tfd, HCS_LAYER_HIVES, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (hfd < 0) {
        if (errno == ENOENT)
            return 0;
        return hcs_err_errno(err, errno, "open %s", HCS_LAYER_HIVES);
    }
    struct stat st;
    if (fstat(hfd, &st) < 0)
        return hcs_err_errno(err, errno, "stat %s", HCS_LAYER_HIVES);
    hives_scan s = {0};
    int rc = scan_hives(hfd, &s, err);
    if (rc == 0 && s.n_regs > 0) {
        rc = convert_regs(hfd, &s, err);
        /* The folder keeps the times the archive gave it (as unpack.c applied them). */
        const struct timespec ts[2] = {st.st_atim, st.st_mtim};
        if (rc == 0 && futimens(hfd, ts) < 0)
            rc = hcs_err_errno(err, errno, "set the times of %s", HCS_LAYER_HIVES);
    }
    hives_scan_free(&s);
    return rc;
}

static void hex_digest(struct sha256_ctx *sha, char out[HCS_LAYER_DIGEST_LEN])
{
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(sha, sizeof(d), d);
    hcs_layer_digest_text(d, out);
}

/* Fill the locked temporary folder tfd (at tmp_path): unpack, layer.json, durable. */
static int fill(int tfd, const char *tmp_path, int fd, const char *folder, const char *name,
                const hcs_layer_import_opts *o, char digest[HCS_LAYER_DIGEST_LEN], hcs_error **err)
{
    src_state s = {.name = name, .fd = fd, .o = o, .next_report = PROGRESS_STEP};
    sha256_init(&s.sha);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        off_t pos = lseek(fd, 0, SEEK_CUR);
        s.total = (uint64_t)st.st_size - (pos > 0 && pos <= st.st_size ? (uint64_t)pos : 0);
    }
    if (hcs_unpack_new(tfd, o->max_bytes, o->max_entries, &s.u, err) < 0)
        return -1;
    int rc = folder != NULL ? unpack_folder(&s, folder, err) : unpack_archive(&s, err);
    if (rc == 0)
        rc = hcs_unpack_finish(s.u, err);
    if (rc == 0)
        rc = import_hives(tfd, err);
    if (rc == 0 && folder != NULL) {
        AUTOFREE char *files = hcs_asprintf("%s/%s", tmp_path, HCS_LAYER_FILES);
        rc = files != NULL ? hcs_layer_digest_tree(files, digest, err)
                           : hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    } else if (rc == 0) {
        hex_digest(&s.sha, digest);
    }
    if (rc == 0) {
        report(&s);
        hcs_layer_info info = {
            .kind = HCS_LAYER_KIND_READONLY,
            .diff_id = digest,
            .size = hcs_unpack_size(s.u),
            .entries = hcs_unpack_entries(s.u),
            .n_parents = o->parents != NULL ? o->n_parents : 0,
        };
        char **parents = NULL;
        if (info.n_parents > 0) {
            /* layer.h's struct holds mutable pointers; the strings are only read. */
            parents = calloc(info.n_parents, sizeof(*parents));
            if (parents == NULL)
                rc = hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
            for (size_t i = 0; parents != NULL && i < info.n_parents; i++)
                memcpy(&parents[i], &o->parents[i], sizeof(parents[i]));
            info.parents = parents;
        }
        if (rc == 0)
            rc = hcs_layer_info_write(tmp_path, &info, err);
        free(parents);
    }
    hcs_unpack_free(s.u);
    /* Everything written so far reaches the disk before the rename publishes it. */
    if (rc == 0 && syncfs(tfd) < 0)
        rc = hcs_err_errno(err, errno, "flush %s to disk", tmp_path);
    return rc;
}

/* Rename the temporary folder tmp to base in pfd (an empty folder there is replaced). */
static int publish(int pfd, const char *tmp, const char *base, bool replace, const char *layer_path,
                   hcs_error **err)
{
    if (!replace) {
        if (renameat2(pfd, tmp, pfd, base, RENAME_NOREPLACE) == 0)
            return 0;
        if (errno == EEXIST || errno == ENOTEMPTY)
            return hcs_err_set(err, HCS_E_ALREADY_EXISTS,
                               "layer path %s was created while importing", layer_path);
        if (errno != EINVAL || renameat(pfd, tmp, pfd, base) < 0)
            return hcs_err_errno(err, errno, "rename %s to %s", tmp, layer_path);
        return 0;
    }
    if (renameat2(pfd, tmp, pfd, base, RENAME_EXCHANGE) == 0) {
        /* The empty folder is now at tmp: it must still be empty. */
        if (unlinkat(pfd, tmp, AT_REMOVEDIR) == 0)
            return 0;
        int e = errno;
        renameat2(pfd, tmp, pfd, base, RENAME_EXCHANGE);
        if (e == ENOTEMPTY || e == EEXIST)
            return hcs_err_set(err, HCS_E_ALREADY_EXISTS,
                               "layer path %s was filled while importing", layer_path);
        return hcs_err_errno(err, e, "remove the empty folder %s", layer_path);
    }
    if (errno != EINVAL)
        return hcs_err_errno(err, errno, "rename %s over %s", tmp, layer_path);
    if (unlinkat(pfd, base, AT_REMOVEDIR) < 0) {
        if (errno == ENOTEMPTY || errno == EEXIST)
            return hcs_err_set(err, HCS_E_ALREADY_EXISTS,
                               "layer path %s was filled while importing", layer_path);
        return hcs_err_errno(err, errno, "remove the empty folder %s", layer_path);
    }
    if (renameat(pfd, tmp, pfd, base) < 0)
        return hcs_err_errno(err, errno, "rename %s to %s", tmp, layer_path);
    return 0;
}

static int do_import(const char *layer_path, int fd, const char *folder, const char *name,
                     const hcs_layer_import_opts *o, char diff_id[HCS_LAYER_DIGEST_LEN],
                     hcs_error **err)
{
    static const hcs_layer_import_opts defaults;
    if (o == NULL)
        o = &defaults;
    AUTOFREE char *path = strdup(layer_path);
    if (path == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';
    char *slash = strrchr(path, '/');
    const char *parent = ".", *base = path;
    if (slash != NULL) {
        *slash = '\0';
        parent = slash == path ? "/" : path;
        base = slash + 1;
    }
    if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return hcs_err_set(err, E_INVALIDARG, "layer path %s does not name a folder", layer_path);
    AUTOCLOSE int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0)
        return hcs_err_errno(err, errno, "the folder %s of layer path %s", parent, layer_path);
    bool replace;
    struct stat old;
    if (check_target(pfd, base, layer_path, &replace, &old, err) < 0)
        return -1;

    hcs_layer_sweep(parent);
    char tmp[NAME_MAX + 1];
    AUTOCLOSE int tfd = -1;
    if (make_temp(pfd, parent, base, tmp, sizeof(tmp), &tfd, err) < 0)
        return -1;
    AUTOFREE char *tmp_path = hcs_asprintf("%s/%s", parent, tmp);
    char digest[HCS_LAYER_DIGEST_LEN] = "";
    int rc = tmp_path != NULL ? 0 : hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (rc == 0)
        rc = fill(tfd, tmp_path, fd, folder, name, o, digest, err);
    /* The layer folder gets the mode and owner of the empty folder it replaces. */
    if (rc == 0 && fchmod(tfd, replace ? old.st_mode & 07777 : 0755) < 0)
        rc = hcs_err_errno(err, errno, "set the mode of %s", tmp_path);
    if (rc == 0 && replace && fchown(tfd, old.st_uid, old.st_gid) < 0)
        rc = hcs_err_errno(err, errno, "set the owner of %s", tmp_path);
    if (rc == 0)
        rc = publish(pfd, tmp, base, replace, layer_path, err);
    if (rc < 0) {
        hcs_remove_tree_at(pfd, tmp, NULL);
        return -1;
    }
    if (fsync(pfd) < 0 && errno != EINVAL)
        return hcs_err_errno(err, errno, "flush the folder %s", parent);
    if (diff_id != NULL)
        memcpy(diff_id, digest, HCS_LAYER_DIGEST_LEN);
    return 0;
}

int hcs_layer_import_fd(const char *layer_path, int fd, const char *name,
                        const hcs_layer_import_opts *o, char diff_id[HCS_LAYER_DIGEST_LEN],
                        hcs_error **err)
{
    if (layer_path == NULL || layer_path[0] == '\0')
        return hcs_err_set(err, E_INVALIDARG, "no layer path");
    if (fd < 0)
        return hcs_err_set(err, E_HANDLE, "import into %s: no archive descriptor", layer_path);
    if (name == NULL)
        name = "(descriptor)";
    if (do_import(layer_path, fd, NULL, name, o, diff_id, err) < 0)
        return hcs_err_wrap(err, "import %s into %s", name, layer_path);
    return 0;
}

int hcs_layer_import(const char *layer_path, const char *source, const hcs_layer_import_opts *o,
                     char diff_id[HCS_LAYER_DIGEST_LEN], hcs_error **err)
{
    if (layer_path == NULL || layer_path[0] == '\0')
        return hcs_err_set(err, E_INVALIDARG, "no layer path");
    if (source == NULL || source[0] == '\0')
        return hcs_err_set(err, E_INVALIDARG, "import into %s: no source", layer_path);
    struct stat st;
    if (stat(source, &st) < 0)
        return hcs_err_errno(err, errno, "import into %s: the source %s", layer_path, source);
    if (S_ISDIR(st.st_mode)) {
        /* Without trailing slashes, so that its entries' names start with "source/". */
        AUTOFREE char *folder = strdup(source);
        if (folder == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        size_t len = strlen(folder);
        while (len > 1 && folder[len - 1] == '/')
            folder[--len] = '\0';
        if (do_import(layer_path, -1, folder, source, o, diff_id, err) < 0)
            return hcs_err_wrap(err, "import %s into %s", source, layer_path);
        return 0;
    }
    AUTOCLOSE int fd = open(source, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hcs_err_errno(err, errno, "import into %s: open the source %s", layer_path, source);
    if (do_import(layer_path, fd, NULL, source, o, diff_id, err) < 0)
        return hcs_err_wrap(err, "import %s into %s", source, layer_path);
    return 0;
}
