/* layer_fixture.c - see layer_fixture.h. */
#include "layer_fixture.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

struct lf_state lf;

char *lf_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = hcs_vasprintf(fmt, ap);
    va_end(ap);
    ck_assert_ptr_nonnull(s);
    return s;
}

void lf_setup(void)
{
    hcs_test_roots_setup();
    snprintf(lf.dir, sizeof(lf.dir), "%s/lf", hcs_test_root());
    ck_assert_int_eq(mkdir(lf.dir, 0755), 0);
}

/* Unmount every mount point under lf.dir, deepest (latest) first. */
static void unmount_under(const char *dir)
{
    size_t dlen = strlen(dir);
    for (int round = 0; round < 64; round++) {
        FILE *f = fopen("/proc/self/mountinfo", "re");
        if (f == NULL)
            return;
        char line[8192], last[PATH_MAX] = "";
        while (fgets(line, sizeof(line), f) != NULL) {
            char mp[PATH_MAX];
            if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) == 1 && strncmp(mp, dir, dlen) == 0 &&
                (mp[dlen] == '/' || mp[dlen] == '\0'))
                snprintf(last, sizeof(last), "%s", mp);
        }
        fclose(f);
        if (last[0] == '\0')
            return;
        if (umount2(last, MNT_DETACH) < 0)
            return;
    }
}

void lf_teardown(void)
{
    if (lf.dir[0] != '\0')
        unmount_under(hcs_test_root());
    lf.dir[0] = '\0';
    hcs_test_roots_teardown();
}

void lf_write(const char *path, const char *content, mode_t mode)
{
    char *dir = lf_fmt("%s", path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        ck_assert_int_eq(hcs_mkdir_p(dir, 0755, NULL), 0);
    }
    free(dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    ck_assert_msg(fd >= 0, "create %s: %s", path, strerror(errno));
    size_t n = strlen(content);
    ck_assert_int_eq(write(fd, content, n), (ssize_t)n);
    ck_assert_int_eq(fchmod(fd, mode), 0);
    close(fd);
}

char *lf_read(const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    if (hcs_read_file_at(AT_FDCWD, path, 1 << 24, &buf, &len, NULL) < 0)
        return NULL;
    return buf;
}

bool lf_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int lf_sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = hcs_vasprintf(fmt, ap);
    va_end(ap);
    ck_assert_ptr_nonnull(cmd);
    int st = system(cmd);
    free(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

struct archive *lf_tar_open(const char *path, const char *compression)
{
    struct archive *a = archive_write_new();
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
    if (strcmp(compression, "gzip") == 0)
        ck_assert_int_eq(archive_write_add_filter_gzip(a), ARCHIVE_OK);
    else if (strcmp(compression, "zstd") == 0)
        ck_assert_int_eq(archive_write_add_filter_zstd(a), ARCHIVE_OK);
    else
        ck_assert_str_eq(compression, "none");
    ck_assert_msg(archive_write_open_filename(a, path) == ARCHIVE_OK, "%s: %s", path,
                  archive_error_string(a));
    return a;
}

void lf_tar_add(struct archive *a, const lf_entry *e)
{
    struct archive_entry *ae = archive_entry_new();
    archive_entry_set_pathname(ae, e->path);
    archive_entry_set_uid(ae, e->uid);
    archive_entry_set_gid(ae, e->gid);
    archive_entry_set_mtime(ae, e->mtime ? e->mtime : 1700000000, 0);
    mode_t perm = e->mode;
    size_t len = 0;
    switch (e->type) {
    case 'd':
        archive_entry_set_filetype(ae, AE_IFDIR);
        perm = perm ? perm : 0755;
        break;
    case 'l':
        archive_entry_set_filetype(ae, AE_IFLNK);
        archive_entry_set_symlink(ae, e->data);
        perm = perm ? perm : 0777;
        break;
    case 'h':
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_hardlink(ae, e->data);
        perm = perm ? perm : 0644;
        break;
    case 'c':
    case 'b':
        archive_entry_set_filetype(ae, e->type == 'c' ? AE_IFCHR : AE_IFBLK);
        archive_entry_set_rdevmajor(ae, e->rdev_major);
        archive_entry_set_rdevminor(ae, e->rdev_minor);
        perm = perm ? perm : 0600;
        break;
    case 'p':
        archive_entry_set_filetype(ae, AE_IFIFO);
        perm = perm ? perm : 0644;
        break;
    default:
        archive_entry_set_filetype(ae, AE_IFREG);
        perm = perm ? perm : 0644;
        len = e->data ? strlen(e->data) : 0;
        archive_entry_set_size(ae, e->data ? (la_int64_t)len : e->size);
        break;
    }
    archive_entry_set_perm(ae, perm);
    if (e->xattr_name != NULL)
        archive_entry_xattr_add_entry(ae, e->xattr_name, e->xattr_value, strlen(e->xattr_value));
    ck_assert_msg(archive_write_header(a, ae) == ARCHIVE_OK, "%s: %s", e->path,
                  archive_error_string(a));
    if (len > 0)
        ck_assert_int_eq(archive_write_data(a, e->data, len), (la_ssize_t)len);
    archive_entry_free(ae);
}

void lf_tar_close(struct archive *a)
{
    ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

void lf_tar(const char *path, const char *compression, const lf_entry *entries)
{
    struct archive *a = lf_tar_open(path, compression);
    for (const lf_entry *e = entries; e->path != NULL; e++)
        lf_tar_add(a, e);
    lf_tar_close(a);
}

char *lf_last_error(void)
{
    char *doc = NULL;
    if (HcsGetErrorInfo(&doc) != S_OK || doc == NULL)
        return lf_fmt("%s", "");
    return doc;
}

char *lf_layer_data(const char *const *paths)
{
    size_t cap = 256;
    for (size_t i = 0; paths != NULL && paths[i] != NULL; i++)
        cap += strlen(paths[i]) + 96;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    size_t used =
        (size_t)snprintf(s, cap, "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Layers\":[");
    for (size_t i = 0; paths != NULL && paths[i] != NULL; i++)
        used += (size_t)snprintf(s + used, cap - used,
                                 "%s{\"Id\":\"00000000-0000-0000-0000-%012zx\",\"Path\":\"%s\"}",
                                 i ? "," : "", i + 1, paths[i]);
    snprintf(s + used, cap - used, "]}");
    return s;
}
