/*
 * source.c - image sources: a folder, or a tar unpacked into a temporary folder (libarchive's
 * archive_write_disk with its own checks on, plus ours on every name), read with openat2
 * RESOLVE_IN_ROOT so that no symlink of the source leads out of its folder.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcsdiag.h"
#include "source.h"

#define TMP_PREFIX ".hcsdiag-"
/* An image tar holds compressed layers: its unpacked size is about its own. */
#define MAX_UNPACKED (256ULL << 30)

/* Remove store/.hcsdiag-<pid>-* folders whose process is gone (a killed import). */
static void sweep(const char *store)
{
    DIR *d = opendir(store);
    if (d == NULL)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0)
            continue;
        char *end = NULL;
        long pid = strtol(e->d_name + strlen(TMP_PREFIX), &end, 10);
        if (pid <= 0 || end == NULL || *end != '-' || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        hcs_error *err = NULL;
        hcs_remove_tree_at(dirfd(d), e->d_name, &err);
        hcs_err_free(err);
    }
    closedir(d);
}

/*
 * The name of an outer-archive entry, checked: relative, no ".." component, leading "./"
 * dropped. NULL when it is refused; *skip when it names the top folder itself.
 */
static const char *clean_name(const char *name, bool *skip)
{
    *skip = false;
    if (name == NULL || name[0] == '/')
        return NULL;
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    if (name[0] == '\0' || strcmp(name, ".") == 0) {
        *skip = true;
        return name;
    }
    for (const char *p = name; *p != '\0';) {
        size_t len = strcspn(p, "/");
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return NULL;
        p += len;
        p += *p == '/';
    }
    return name;
}

static int archive_fail(hcs_error **err, struct archive *a, const char *source, const char *what)
{
    const char *msg = archive_error_string(a);
    return hcs_err_set(err, HCS_E_INVALID_LAYER, "%s: %s: %s", source, what,
                       msg != NULL ? msg : "unknown libarchive error");
}

static int unpack_entry(struct archive *in, struct archive *out, struct archive_entry *e,
                        const char *source, const char *dir, uint64_t *total, hcs_error **err)
{
    const char *raw = archive_entry_pathname(e);
    bool skip = false;
    const char *name = clean_name(raw, &skip);
    if (name == NULL)
        return hcs_err_set(err, HCS_E_INVALID_LAYER,
                           "%s: entry \"%s\": expected a relative name without \"..\"", source,
                           raw != NULL ? raw : "");
    if (skip)
        return 0;
    AUTOFREE char *full = hcs_asprintf("%s/%s", dir, name);
    AUTOFREE char *link_full = NULL;
    const char *hardlink = archive_entry_hardlink(e);
    mode_t type = archive_entry_filetype(e);
    if (hardlink != NULL) {
        bool link_skip = false;
        const char *target = clean_name(hardlink, &link_skip);
        if (target == NULL || link_skip)
            return hcs_err_set(err, HCS_E_INVALID_LAYER,
                               "%s: hard link \"%s\" to \"%s\": expected a target inside the "
                               "archive",
                               source, name, hardlink);
        link_full = hcs_asprintf("%s/%s", dir, target);
        if (link_full == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        archive_entry_set_hardlink(e, link_full);
    } else if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK) {
        return hcs_err_set(err, HCS_E_INVALID_LAYER,
                           "%s: entry \"%s\": expected a file, folder or symlink in an image "
                           "archive (type 0%o)",
                           source, name, (unsigned)type);
    }
    if (full == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    archive_entry_set_pathname(e, full);
    /* Owners and odd modes of the outer archive mean nothing here: we only read it back. */
    if (type == AE_IFDIR)
        archive_entry_set_perm(e, 0700);
    else if (type == AE_IFREG)
        archive_entry_set_perm(e, 0600);
    if (archive_entry_size_is_set(e) && type == AE_IFREG) {
        *total += (uint64_t)archive_entry_size(e);
        if (*total > MAX_UNPACKED)
            return hcs_err_set(err, HCS_E_INVALID_LAYER,
                               "%s: more than %llu GiB unpacked at entry \"%s\"", source,
                               MAX_UNPACKED >> 30, name);
    }
    if (archive_write_header(out, e) != ARCHIVE_OK)
        return archive_fail(err, out, source, name);
    if (hardlink == NULL && type == AE_IFREG) {
        const void *buf;
        size_t size;
        la_int64_t offset;
        int r;
        while ((r = archive_read_data_block(in, &buf, &size, &offset)) == ARCHIVE_OK)
            if (archive_write_data_block(out, buf, size, offset) != ARCHIVE_OK)
                return archive_fail(err, out, source, name);
        if (r != ARCHIVE_EOF)
            return archive_fail(err, in, source, name);
    }
    if (archive_write_finish_entry(out) != ARCHIVE_OK)
        return archive_fail(err, out, source, name);
    return 0;
}

static int unpack(const char *source, const char *dir, hcs_error **err)
{
    struct archive *in = archive_read_new();
    struct archive *out = archive_write_disk_new();
    int rc = -1;
    if (in == NULL || out == NULL) {
        hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
        goto done;
    }
    archive_read_support_filter_all(in);
    archive_read_support_format_tar(in);
    archive_write_disk_set_options(out, ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                            ARCHIVE_EXTRACT_SECURE_SYMLINKS);
    if (archive_read_open_filename(in, source, 1 << 20) != ARCHIVE_OK) {
        archive_fail(err, in, source, "expected an image folder or a tar archive");
        goto done;
    }
    uint64_t total = 0;
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(in, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            archive_fail(err, in, source, "reading the archive");
            goto done;
        }
        if (unpack_entry(in, out, e, source, dir, &total, err) < 0)
            goto done;
    }
    if (archive_write_close(out) != ARCHIVE_OK) {
        archive_fail(err, out, source, "finishing the unpack");
        goto done;
    }
    rc = 0;
done:
    archive_read_free(in);
    archive_write_free(out);
    return rc;
}

int hd_source_open(const char *source, const char *store, hd_source *out, hcs_error **err)
{
    *out = (hd_source){.name = source, .dirfd = -1};
    struct stat st;
    if (stat(source, &st) != 0)
        return hcs_err_errno(err, errno, "%s: expected an image folder or archive", source);
    if (S_ISDIR(st.st_mode)) {
        out->dirfd = open(source, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (out->dirfd < 0)
            return hcs_err_errno(err, errno, "%s: open", source);
        return 0;
    }
    if (!S_ISREG(st.st_mode))
        return hcs_err_set(err, E_INVALIDARG,
                           "%s: expected an image folder or archive file, got neither", source);
    if (hcs_mkdir_p(store, 0755, err) < 0)
        return hcs_err_wrap(err, "layer store");
    /* archive_write_disk's symlink check walks the whole path: give it one without symlinks. */
    char real[PATH_MAX];
    if (realpath(store, real) == NULL)
        return hcs_err_errno(err, errno, "%s: resolve the layer store", store);
    sweep(real);
    AUTOFREE char *tmp = hcs_asprintf("%s/" TMP_PREFIX "%ld-XXXXXX", real, (long)getpid());
    if (tmp == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (mkdtemp(tmp) == NULL)
        return hcs_err_errno(err, errno, "%s: create a temporary folder", tmp);
    out->tmpdir = steal_ptr(&tmp);
    if (unpack(source, out->tmpdir, err) < 0) {
        hd_source_close(out);
        return -1;
    }
    out->dirfd = open(out->tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (out->dirfd < 0) {
        hcs_err_errno(err, errno, "%s: open", out->tmpdir);
        hd_source_close(out);
        return -1;
    }
    return 0;
}

void hd_source_close(hd_source *s)
{
    if (s->dirfd >= 0)
        close(s->dirfd);
    s->dirfd = -1;
    if (s->tmpdir != NULL) {
        hcs_error *err = NULL;
        if (hcs_remove_tree_at(AT_FDCWD, s->tmpdir, &err) < 0)
            fprintf(stderr, "hcsdiag: warning: %s\n", err->message);
        hcs_err_free(err);
        free(s->tmpdir);
        s->tmpdir = NULL;
    }
}

static int open_in(const hd_source *s, const char *path, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    return (int)syscall(SYS_openat2, s->dirfd, path, &how, sizeof(how));
}

bool hd_source_exists(const hd_source *s, const char *path)
{
    int fd = open_in(s, path, O_PATH);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

int hd_source_open_file(const hd_source *s, const char *path, int *fd, char **final,
                        hcs_error **err)
{
    AUTOCLOSE int f = open_in(s, path, O_RDONLY | O_NOCTTY);
    if (f < 0)
        return hcs_err_errno(err, errno, "%s: %s", s->name, path);
    struct stat st;
    if (fstat(f, &st) != 0)
        return hcs_err_errno(err, errno, "%s: %s: stat", s->name, path);
    if (!S_ISREG(st.st_mode))
        return hcs_err_set(err, HCS_E_INVALID_LAYER, "%s: %s: expected a regular file", s->name,
                           path);
    if (final != NULL) {
        char proc[64], target[PATH_MAX];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f);
        ssize_t n = readlink(proc, target, sizeof(target) - 1);
        target[n > 0 ? n : 0] = '\0';
        const char *base = strrchr(target, '/');
        *final = strdup(base != NULL ? base + 1 : path);
        if (*final == NULL)
            return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    }
    *fd = steal_fd(&f);
    return 0;
}

int hd_source_read(const hd_source *s, const char *path, const char *digest, uint64_t size,
                   size_t max, char **out, size_t *out_len, hcs_error **err)
{
    AUTOCLOSE int fd = -1;
    if (hd_source_open_file(s, path, &fd, NULL, err) < 0)
        return -1;
    AUTOFREE char *buf = malloc(max + 1);
    if (buf == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, max + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return hcs_err_errno(err, errno, "%s: %s: read", s->name, path);
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max)
            return hcs_err_set(err, HCS_E_INVALID_LAYER,
                               "%s: %s: expected at most %zu bytes (a JSON document)", s->name,
                               path, max);
    }
    buf[len] = '\0';
    if (size != 0 && len != size)
        return hcs_err_set(err, HCS_E_INVALID_LAYER,
                           "%s: blob %s: size mismatch: expected %llu bytes, got %zu", s->name,
                           path, (unsigned long long)size, len);
    if (digest != NULL) {
        char got[HD_DIGEST_LEN];
        hd_sha256_text(buf, len, got);
        if (strcmp(got, digest) != 0)
            return hcs_err_set(err, HCS_E_INVALID_LAYER,
                               "%s: blob %s: digest mismatch: expected %s, got %s", s->name, path,
                               digest, got);
    }
    *out = steal_ptr(&buf);
    if (out_len != NULL)
        *out_len = len;
    return 0;
}
