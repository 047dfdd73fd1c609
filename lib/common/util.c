/* util.c - string, file and time helpers. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "util.h"

char *hcs_vasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return NULL;
    return s;
}

char *hcs_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = hcs_vasprintf(fmt, ap);
    va_end(ap);
    return s;
}

size_t hcs_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            size_t best = diag + (same ? 0 : 1);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

int hcs_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
                     hcs_error **err)
{
    AUTOCLOSE int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return hcs_err_errno(err, errno, "open %s", path);
    size_t cap = 4096, n = 0;
    AUTOFREE char *buf = malloc(cap);
    if (buf == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory reading %s", path);
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > max)
                return hcs_err_set(err, E_INVALIDARG, "%s is larger than %zu bytes", path, max);
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL)
                return hcs_err_set(err, E_OUTOFMEMORY, "out of memory reading %s", path);
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return hcs_err_errno(err, errno, "read %s", path);
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    *out = steal_ptr(&buf);
    return 0;
}

int hcs_write_file_atomic(int dirfd, const char *name, const char *data, size_t len, int mode,
                          bool durable, hcs_error **err)
{
    char tmp[300];
    static unsigned long long counter;
    int n = snprintf(tmp, sizeof(tmp), ".%s.%ld.%llu.tmp", name, (long)getpid(),
                     __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return hcs_err_set(err, E_INVALIDARG, "file name %s is too long", name);
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return hcs_err_errno(err, errno, "create %s", tmp);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            unlinkat(dirfd, tmp, 0);
            return hcs_err_errno(err, e, "write %s", name);
        }
        off += (size_t)w;
    }
    if ((durable && fsync(fd) < 0) || close(fd) < 0) {
        int e = errno;
        unlinkat(dirfd, tmp, 0);
        return hcs_err_errno(err, e, "flush %s", name);
    }
    /*
     * Not durable: swap the two files (RENAME_EXCHANGE) and remove the old one, rather than
     * rename over it. Readers see the same thing: the old content, then the new. But ext4
     * (auto_da_alloc) starts writing back a file renamed over another one to save its content
     * from a crash, which costs a fraction of a millisecond per write and saves nothing we need.
     * No old file yet (ENOENT) or no exchange on this file system (EINVAL): a plain rename.
     */
    if (!durable && renameat2(dirfd, tmp, dirfd, name, RENAME_EXCHANGE) == 0) {
        if (unlinkat(dirfd, tmp, 0) == 0 || errno == ENOENT)
            return 0;
        /* Not a file that was there (a folder, say): put it back, as a rename would refuse. */
        int e = errno;
        if (renameat2(dirfd, tmp, dirfd, name, RENAME_EXCHANGE) == 0)
            unlinkat(dirfd, tmp, 0);
        return hcs_err_errno(err, e, "rename %s over %s", tmp, name);
    }
    if (renameat(dirfd, tmp, dirfd, name) < 0) {
        int e = errno;
        unlinkat(dirfd, tmp, 0);
        return hcs_err_errno(err, e, "rename %s over %s", tmp, name);
    }
    if (durable && fsync(dirfd) < 0 && errno != EINVAL)
        return hcs_err_errno(err, errno, "flush the folder of %s", name);
    return 0;
}

static int remove_children(int dfd, dev_t dev, hcs_error **err)
{
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        int e = errno;
        close(dfd);
        return hcs_err_errno(err, e, "list folder");
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                continue;
            rc = hcs_err_errno(err, errno, "stat %s", de->d_name);
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            if (st.st_dev != dev) {
                rc = hcs_err_set(err, E_ACCESSDENIED, "%s is a mount point; not removing it",
                                 de->d_name);
                break;
            }
            int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
            if (cfd < 0) {
                rc = hcs_err_errno(err, errno, "open %s", de->d_name);
                break;
            }
            if (remove_children(cfd, dev, err) < 0) {
                rc = hcs_err_wrap(err, "%s", de->d_name);
                break;
            }
            if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
                rc = hcs_err_errno(err, errno, "remove %s", de->d_name);
                break;
            }
        } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT) {
            rc = hcs_err_errno(err, errno, "remove %s", de->d_name);
            break;
        }
    }
    closedir(d);
    return rc;
}

int hcs_remove_tree_at(int dirfd, const char *name, hcs_error **err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return hcs_err_errno(err, errno, "stat %s", name);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
            return hcs_err_errno(err, errno, "remove %s", name);
        return 0;
    }
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return hcs_err_errno(err, errno, "open %s", name);
    if (remove_children(fd, st.st_dev, err) < 0)
        return hcs_err_wrap(err, "remove %s", name);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return hcs_err_errno(err, errno, "remove %s", name);
    return 0;
}

int hcs_mkdir_p(const char *path, int mode, hcs_error **err)
{
    if (path[0] != '/')
        return hcs_err_set(err, E_INVALIDARG, "%s is not an absolute path", path);
    AUTOFREE char *copy = strdup(path);
    if (copy == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    for (char *p = copy + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(copy, (mode_t)mode) < 0 && errno != EEXIST)
                return hcs_err_errno(err, errno, "create folder %s", copy);
            *p = c;
            if (c == '\0')
                break;
        }
    }
    struct stat st;
    if (stat(path, &st) < 0)
        return hcs_err_errno(err, errno, "stat %s", path);
    if (!S_ISDIR(st.st_mode))
        return hcs_err_set(err, E_INVALIDARG, "%s exists and is not a folder", path);
    return 0;
}

unsigned long long hcs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL;
}
