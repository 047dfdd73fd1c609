/*
 * test_import.c - hcs_layer_import: archives made by libarchive and by the tar command (plain,
 * gzip, zstd) with the diff id sha256sum sees, what is kept (modes, owners, times, xattrs,
 * links, fifos, holes), OCI whiteouts in overlay's form, Hives/, folder sources, malicious
 * archives (each refused, naming the entry, with nothing written anywhere), limits, a killed
 * import and the sweep of its leftovers, progress.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "layer/layer.h"
#include "layer_fixture.h"

/* --- helpers ---------------------------------------------------------------------------------- */

/* Import source into layer; returns the diff id (caller frees). */
static char *import_ok(const char *layer, const char *source, const hcs_layer_import_opts *o)
{
    char digest[HCS_LAYER_DIGEST_LEN] = "";
    hcs_error *e = NULL;
    int rc = hcs_layer_import(layer, source, o, digest, &e);
    ck_assert_msg(rc == 0, "import %s: %s", source, e ? e->message : "");
    hcs_err_free(e);
    ck_assert_msg(strncmp(digest, "sha256:", 7) == 0 && strlen(digest) == 71, "diff id %s", digest);
    return lf_fmt("%s", digest);
}

/* Whether a temporary import folder is left in folder. */
static bool leftovers(const char *folder)
{
    DIR *d = opendir(folder);
    ck_assert_ptr_nonnull(d);
    bool found = false;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        found |= strncmp(de->d_name, ".hcs-import.", 12) == 0;
    closedir(d);
    return found;
}

/*
 * The import of source into lf.dir/L fails with hr and a message holding each of the needles
 * (NULL-terminated); L and every temporary folder are gone.
 */
static void import_fails(const char *source, const hcs_layer_import_opts *o, HRESULT hr, ...)
{
    char *layer = lf_fmt("%s/L", lf.dir);
    hcs_error *e = NULL;
    int rc = hcs_layer_import(layer, source, o, NULL, &e);
    ck_assert_msg(rc < 0, "import %s succeeded", source);
    ck_assert_ptr_nonnull(e);
    ck_assert_hr(e->hr, hr);
    va_list ap;
    va_start(ap, hr);
    for (const char *n = va_arg(ap, const char *); n != NULL; n = va_arg(ap, const char *))
        ck_assert_contains(e->message, n);
    va_end(ap);
    hcs_err_free(e);
    ck_assert_msg(!lf_exists(layer), "%s exists after a failed import", layer);
    ck_assert_msg(!leftovers(lf.dir), "a temporary folder is left in %s", lf.dir);
    free(layer);
}

/* Run a shell command and return the first word it printed (caller frees). */
static char *sh_word(const char *cmd)
{
    char *out = lf_fmt("%s/.sh_out", lf.dir);
    int st = lf_sh("( %s ) > '%s'", cmd, out);
    ck_assert_msg(st == 0, "`%s` exited with %d", cmd, st);
    char *text = lf_read(out);
    ck_assert_msg(text != NULL, "no output from `%s`", cmd);
    unlink(out);
    free(out);
    text[strcspn(text, " \n")] = '\0';
    return text;
}

static struct stat lstat_ok(const char *path)
{
    struct stat st;
    ck_assert_msg(lstat(path, &st) == 0, "lstat %s: %s", path, strerror(errno));
    return st;
}

static char *get_xattr(const char *path, const char *name)
{
    char buf[256];
    ssize_t n = lgetxattr(path, name, buf, sizeof(buf) - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return lf_fmt("%s", buf);
}

/* lf.dir/outside (an empty folder) and lf.dir/target ("original") that no archive may touch. */
static void make_outside(void)
{
    char *o = lf_fmt("%s/outside", lf.dir);
    ck_assert(mkdir(o, 0755) == 0 || errno == EEXIST);
    char *t = lf_fmt("%s/target", lf.dir);
    lf_write(t, "original", 0644);
    free(o), free(t);
}

static void outside_untouched(void)
{
    char *o = lf_fmt("%s/outside", lf.dir);
    DIR *d = opendir(o);
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        ck_assert_msg(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0,
                      "%s/%s was written outside the layer", o, de->d_name);
    closedir(d);
    char *t = lf_fmt("%s/target", lf.dir);
    char *c = lf_read(t);
    ck_assert_str_eq(c, "original");
    struct stat st = lstat_ok(t);
    ck_assert_int_eq(st.st_nlink, 1);
    ck_assert_int_eq(st.st_mode & 07777, 0644);
    free(o), free(t), free(c);
}

/* A tar of one ustar header with the given name (possibly empty) and a 2-byte file. */
static void raw_tar(const char *path, const char *name)
{
    unsigned char blk[512 * 4] = {0};
    snprintf((char *)blk, 100, "%s", name);
    memcpy(blk + 100, "0000644", 8);
    memcpy(blk + 108, "0000000", 8);
    memcpy(blk + 116, "0000000", 8);
    memcpy(blk + 124, "00000000002", 12);
    memcpy(blk + 136, "14531772400", 12);
    blk[156] = '0';
    memcpy(blk + 257, "ustar", 6);
    memcpy(blk + 263, "00", 2);
    memset(blk + 148, ' ', 8);
    unsigned sum = 0;
    for (int i = 0; i < 512; i++)
        sum += blk[i];
    snprintf((char *)blk + 148, 8, "%06o", sum);
    memcpy(blk + 512, "hi", 2);
    FILE *f = fopen(path, "we");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(blk, 1, sizeof(blk), f), sizeof(blk));
    fclose(f);
}

/* --- formats and the diff id ------------------------------------------------------------------ */

static const lf_entry basic[] = {
    {.path = "./", .type = 'd'},
    {.path = "./etc/", .type = 'd'},
    {.path = "./etc/hostname", .data = "box\n"},
    {.path = "./bin/sh", .data = "#!\n", .mode = 0755},
    {0},
};

static void check_basic(const char *layer)
{
    char *f = lf_fmt("%s/Files/etc/hostname", layer);
    char *c = lf_read(f);
    ck_assert_str_eq(c, "box\n");
    char *sh = lf_fmt("%s/Files/bin/sh", layer);
    ck_assert_int_eq(lstat_ok(sh).st_mode & 07777, 0755);
    char *hives = lf_fmt("%s/Hives", layer);
    ck_assert_msg(!lf_exists(hives), "Hives/ made for an archive without it");
    free(f), free(c), free(sh), free(hives);
}

START_TEST(import__tar_gzip_and_zstd_give_the_diff_id_of_the_uncompressed_tar)
{
    const char *comp[] = {"none", "gzip", "zstd"};
    const char *cat[] = {"cat", "gzip -dc", "zstd -dc"};
    for (int i = 0; i < 3; i++) {
        /* A name that says nothing: the format is found from the content. */
        char *a = lf_fmt("%s/archive%d.bin", lf.dir, i);
        lf_tar(a, comp[i], basic);
        char *layer = lf_fmt("%s/L%d", lf.dir, i);
        char *cmd = lf_fmt("%s '%s' | sha256sum", cat[i], a);
        char *want = sh_word(cmd);
        char *got = import_ok(layer, a, NULL);
        ck_assert_str_eq(got + 7, want);
        check_basic(layer);
        hcs_layer_info info = {0};
        hcs_error *e = NULL;
        ck_assert_msg(hcs_layer_info_read(layer, &info, &e) == 0, "%s", e ? e->message : "");
        ck_assert_int_eq(info.kind, HCS_LAYER_KIND_READONLY);
        ck_assert_str_eq(info.diff_id, got);
        ck_assert_int_eq(info.entries, 4);
        ck_assert_int_eq(info.size, 7);
        ck_assert_int_eq(lstat_ok(layer).st_mode & 07777, 0755);
        hcs_layer_info_free(&info);
        free(a), free(layer), free(cmd), free(want), free(got);
    }
}
END_TEST

START_TEST(import__archives_made_by_the_tar_command)
{
    char *src = lf_fmt("%s/src", lf.dir);
    char *p = lf_fmt("%s/etc/hostname", src);
    lf_write(p, "box\n", 0644);
    free(p);
    p = lf_fmt("%s/bin/sh", src);
    lf_write(p, "#!\n", 0755);
    free(p);
    ck_assert_int_eq(lf_sh("tar -C '%s' -cf '%s/a.tar' . && tar -C '%s' -czf '%s/a.tgz' . && "
                           "tar -C '%s' --zstd -cf '%s/a.tzst' .",
                           src, lf.dir, src, lf.dir, src, lf.dir),
                     0);
    const char *names[] = {"a.tar", "a.tgz", "a.tzst"};
    const char *cat[] = {"cat", "gzip -dc", "zstd -dc"};
    for (int i = 0; i < 3; i++) {
        char *a = lf_fmt("%s/%s", lf.dir, names[i]);
        char *layer = lf_fmt("%s/L%d", lf.dir, i);
        char *cmd = lf_fmt("%s '%s' | sha256sum", cat[i], a);
        char *want = sh_word(cmd);
        char *got = import_ok(layer, a, NULL);
        ck_assert_str_eq(got + 7, want);
        check_basic(layer);
        free(a), free(layer), free(cmd), free(want), free(got);
    }
    free(src);
}
END_TEST

START_TEST(import__from_a_descriptor_reads_a_pipe)
{
    char *a = lf_fmt("%s/a.tar.zst", lf.dir);
    lf_tar(a, "zstd", basic);
    char *layer = lf_fmt("%s/L", lf.dir);
    char *cmd = lf_fmt("zstd -dc '%s' | sha256sum", a);
    char *want = sh_word(cmd);
    char *cat = lf_fmt("cat '%s'", a);
    FILE *f = popen(cat, "r");
    ck_assert_ptr_nonnull(f);
    char digest[HCS_LAYER_DIGEST_LEN];
    hcs_error *e = NULL;
    int rc = hcs_layer_import_fd(layer, fileno(f), "stdin", NULL, digest, &e);
    ck_assert_msg(rc == 0, "%s", e ? e->message : "");
    pclose(f);
    ck_assert_str_eq(digest + 7, want);
    check_basic(layer);
    free(a), free(layer), free(cmd), free(want), free(cat);
}
END_TEST

/* --- what is kept ----------------------------------------------------------------------------- */

START_TEST(import__keeps_modes_owners_times_and_xattrs)
{
    /*
     * Written with libarchive directly: security.capability holds binary data, and restricted
     * pax (lf_tar) keeps no atime.
     */
    char *a = lf_fmt("%s/a.tar", lf.dir);
    struct archive *ar = archive_write_new();
    ck_assert_int_eq(archive_write_set_format_pax(ar), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_open_filename(ar, a), ARCHIVE_OK);
    const lf_entry head[] = {
        {.path = "d/", .type = 'd', .mode = 02750, .uid = 7, .gid = 8, .mtime = 1500000000},
        {.path = "d/suid",
         .data = "x",
         .mode = 04755,
         .uid = 1234,
         .gid = 5678,
         .mtime = 1400000000,
         .xattr_name = "user.x",
         .xattr_value = "hello"},
        {.path = "d/sticky/", .type = 'd', .mode = 01777, .mtime = 1300000000},
        {0},
    };
    for (const lf_entry *e = head; e->path != NULL; e++)
        lf_tar_add(ar, e);
    /* vfs_cap_data v2 with effective set: cap_net_raw (13) permitted. */
    const unsigned char cap[20] = {0x01, 0, 0, 0x02, 0, 0x20, 0, 0};
    struct archive_entry *ae = archive_entry_new();
    archive_entry_set_pathname(ae, "d/ping");
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, 0755);
    archive_entry_set_uid(ae, 100);
    archive_entry_set_gid(ae, 101);
    archive_entry_set_mtime(ae, 1200000000, 123456789);
    archive_entry_set_atime(ae, 1100000000, 987654321);
    archive_entry_set_size(ae, 2);
    archive_entry_xattr_add_entry(ae, "security.capability", cap, sizeof(cap));
    ck_assert_int_eq(archive_write_header(ar, ae), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_data(ar, "pp", 2), 2);
    archive_entry_free(ae);
    lf_tar_close(ar);

    char *layer = lf_fmt("%s/L", lf.dir);
    free(import_ok(layer, a, NULL));

    char *d = lf_fmt("%s/Files/d", layer);
    struct stat st = lstat_ok(d);
    ck_assert_int_eq(st.st_mode & 07777, 02750);
    ck_assert_int_eq(st.st_uid, 7);
    ck_assert_int_eq(st.st_gid, 8);
    ck_assert_int_eq(st.st_mtim.tv_sec, 1500000000); /* after its children were written */

    char *suid = lf_fmt("%s/Files/d/suid", layer);
    st = lstat_ok(suid);
    ck_assert_int_eq(st.st_mode & 07777, 04755); /* kept though the owner was set */
    ck_assert_int_eq(st.st_uid, 1234);
    ck_assert_int_eq(st.st_gid, 5678); /* not the setgid folder's group */
    ck_assert_int_eq(st.st_mtim.tv_sec, 1400000000);
    char *x = get_xattr(suid, "user.x");
    ck_assert_str_eq(x, "hello");

    char *sticky = lf_fmt("%s/Files/d/sticky", layer);
    ck_assert_int_eq(lstat_ok(sticky).st_mode & 07777, 01777);

    char *ping = lf_fmt("%s/Files/d/ping", layer);
    st = lstat_ok(ping);
    ck_assert_int_eq(st.st_uid, 100);
    ck_assert_int_eq(st.st_mtim.tv_sec, 1200000000);
    ck_assert_int_eq(st.st_mtim.tv_nsec, 123456789);
    ck_assert_int_eq(st.st_atim.tv_sec, 1100000000);
    ck_assert_int_eq(st.st_atim.tv_nsec, 987654321);
    unsigned char got[32];
    ssize_t n = lgetxattr(ping, "security.capability", got, sizeof(got));
    ck_assert_msg(n == (ssize_t)sizeof(cap), "security.capability: %zd bytes (%s)", n,
                  n < 0 ? strerror(errno) : "");
    ck_assert_int_eq(memcmp(got, cap, sizeof(cap)), 0);
    free(a), free(layer), free(d), free(suid), free(x), free(sticky), free(ping);
}
END_TEST

START_TEST(import__keeps_hardlinks_symlinks_fifos_and_holes)
{
    char *src = lf_fmt("%s/src", lf.dir);
    char *sparse = lf_fmt("%s/sparse", src);
    lf_write(sparse, "", 0644);
    ck_assert_int_eq(lf_sh("truncate -s 64M '%s' && printf end >> '%s'", sparse, sparse), 0);
    ck_assert_int_eq(lf_sh("cd '%s' && ln -s /etc/passwd abs && ln -s sparse rel && "
                           "ln sparse twin && mkfifo pipe && tar -S -cf '%s/a.tar' .",
                           src, lf.dir),
                     0);
    char *a = lf_fmt("%s/a.tar", lf.dir);
    char *layer = lf_fmt("%s/L", lf.dir);
    free(import_ok(layer, a, NULL));

    char *f = lf_fmt("%s/Files/sparse", layer);
    struct stat st = lstat_ok(f);
    ck_assert_int_eq(st.st_size, (64 << 20) + 3);
    ck_assert_msg(st.st_blocks < 1024, "the sparse file takes %lld blocks",
                  (long long)st.st_blocks);
    char *twin = lf_fmt("%s/Files/twin", layer);
    struct stat tst = lstat_ok(twin);
    ck_assert_int_eq(tst.st_ino, st.st_ino);
    ck_assert_int_eq(st.st_nlink, 2);

    char buf[64] = "";
    char *abs = lf_fmt("%s/Files/abs", layer);
    ck_assert_int_eq(readlink(abs, buf, sizeof(buf) - 1), 11);
    ck_assert_str_eq(buf, "/etc/passwd"); /* stored as it is, resolved in the container only */
    char *rel = lf_fmt("%s/Files/rel", layer);
    memset(buf, 0, sizeof(buf));
    ck_assert_int_eq(readlink(rel, buf, sizeof(buf) - 1), 6);
    ck_assert_str_eq(buf, "sparse");
    char *pipe = lf_fmt("%s/Files/pipe", layer);
    ck_assert(S_ISFIFO(lstat_ok(pipe).st_mode));
    free(src), free(sparse), free(a), free(layer), free(f), free(twin), free(abs), free(rel),
        free(pipe);
}
END_TEST

START_TEST(import__non_ascii_names_are_kept_byte_for_byte)
{
    /* Whatever the locale: GNU tar's raw bytes, and pax' UTF-8 names. */
    char *src = lf_fmt("%s/src", lf.dir);
    char *f = lf_fmt("%s/caf\xc3\xa9/\xc3\xbc.txt", src);
    lf_write(f, "u", 0644);
    ck_assert_int_eq(lf_sh("tar -C '%s' -cf '%s/gnu.tar' . && "
                           "tar -C '%s' --format=posix -cf '%s/pax.tar' .",
                           src, lf.dir, src, lf.dir),
                     0);
    const char *names[] = {"gnu.tar", "pax.tar"};
    for (int i = 0; i < 2; i++) {
        char *a = lf_fmt("%s/%s", lf.dir, names[i]);
        char *layer = lf_fmt("%s/L%d", lf.dir, i);
        free(import_ok(layer, a, NULL));
        char *in = lf_fmt("%s/Files/caf\xc3\xa9/\xc3\xbc.txt", layer);
        char *c = lf_read(in);
        ck_assert_msg(c != NULL && strcmp(c, "u") == 0, "%s: %s", names[i], in);
        free(a), free(layer), free(in), free(c);
    }
    free(src), free(f);
}
END_TEST

/* --- whiteouts, Hives ------------------------------------------------------------------------- */

static void assert_whiteout(const char *path)
{
    struct stat st = lstat_ok(path);
    ck_assert_msg(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0),
                  "%s is not a 0/0 character device", path);
    ck_assert_int_eq(st.st_uid, 0);
    ck_assert_int_eq(st.st_gid, 0);
}

START_TEST(import__oci_whiteouts_become_overlay_whiteouts)
{
    const lf_entry entries[] = {
        {.path = ".wh.gone", .data = "", .uid = 5},
        {.path = "d/", .type = 'd'},
        {.path = "d/.wh..wh..opq", .data = ""},
        {.path = "d/kept", .data = "k"},
        {.path = "e/.wh..wh..opq", .data = ""}, /* its folder is made */
        {.path = ".wh..wh.plnk/1234.5678", .data = "aufs"},
        {.path = ".wh..wh.aufs", .data = ""},
        /* The later entry wins: a whiteout over a file of the same archive... */
        {.path = "x", .data = "x"},
        {.path = ".wh.x", .data = ""},
        /* ...and a folder over a whiteout of the same archive hides the lower one. */
        {.path = "y/.wh.z", .data = ""},
        {.path = ".wh.y", .data = ""},
        {.path = "y/", .type = 'd'},
        {.path = "y/new", .data = "n"},
        {0},
    };
    char *a = lf_fmt("%s/a.tar.gz", lf.dir);
    lf_tar(a, "gzip", entries);
    char *layer = lf_fmt("%s/L", lf.dir);
    free(import_ok(layer, a, NULL));
    char *p = lf_fmt("%s/Files/gone", layer);
    assert_whiteout(p);
    free(p);
    p = lf_fmt("%s/Files/.wh.gone", layer);
    ck_assert(!lf_exists(p));
    free(p);
    p = lf_fmt("%s/Files/d", layer);
    char *v = get_xattr(p, "trusted.overlay.opaque");
    ck_assert_msg(v != NULL && strcmp(v, "y") == 0, "d is not opaque");
    free(p), free(v);
    p = lf_fmt("%s/Files/d/.wh..wh..opq", layer);
    ck_assert(!lf_exists(p));
    free(p);
    p = lf_fmt("%s/Files/e", layer);
    v = get_xattr(p, "trusted.overlay.opaque");
    ck_assert_msg(v != NULL && strcmp(v, "y") == 0, "e is not opaque");
    free(p), free(v);
    p = lf_fmt("%s/Files/.wh..wh.plnk", layer);
    ck_assert_msg(!lf_exists(p), "aufs' .wh..wh.plnk was unpacked");
    free(p);
    p = lf_fmt("%s/Files/.wh..wh.aufs", layer);
    ck_assert(!lf_exists(p));
    free(p);
    p = lf_fmt("%s/Files/x", layer);
    assert_whiteout(p);
    free(p);
    p = lf_fmt("%s/Files/y", layer);
    ck_assert(S_ISDIR(lstat_ok(p).st_mode));
    v = get_xattr(p, "trusted.overlay.opaque");
    ck_assert_msg(v != NULL && strcmp(v, "y") == 0, "y (after .wh.y) is not opaque");
    free(p), free(v);
    p = lf_fmt("%s/Files/y/new", layer);
    ck_assert(lf_exists(p));
    free(p), free(a), free(layer);
}
END_TEST

START_TEST(import__overlay_xattrs_from_the_archive_are_dropped)
{
    const lf_entry entries[] = {
        {.path = "d/", .type = 'd', .xattr_name = "trusted.overlay.opaque", .xattr_value = "y"},
        {.path = "f", .data = "f", .xattr_name = "trusted.overlay.redirect", .xattr_value = "/etc"},
        {.path = "g", .data = "g", .xattr_name = "user.kept", .xattr_value = "1"},
        {0},
    };
    char *a = lf_fmt("%s/a.tar", lf.dir);
    lf_tar(a, "none", entries);
    char *layer = lf_fmt("%s/L", lf.dir);
    free(import_ok(layer, a, NULL));
    char *d = lf_fmt("%s/Files/d", layer);
    char *f = lf_fmt("%s/Files/f", layer);
    char *g = lf_fmt("%s/Files/g", layer);
    ck_assert_msg(get_xattr(d, "trusted.overlay.opaque") == NULL, "forged opaque folder");
    ck_assert_msg(get_xattr(f, "trusted.overlay.redirect") == NULL, "forged redirect");
    char *v = get_xattr(g, "user.kept");
    ck_assert_str_eq(v, "1");
    free(a), free(layer), free(d), free(f), free(g), free(v);
}
END_TEST

START_TEST(import__hives_go_beside_files)
{
    const lf_entry entries[] = {
        {.path = "./Hives/", .type = 'd', .mode = 0700},
        {.path = "./Hives/Other.dat", .data = "regf"},
        {.path = "./etc/hosts", .data = "h"},
        {.path = "HivesNot/x", .data = "n"},
        {.path = "etc/Hives/y", .data = "y"},
        {0},
    };
    char *a = lf_fmt("%s/a.tar", lf.dir);
    lf_tar(a, "none", entries);
    char *layer = lf_fmt("%s/L", lf.dir);
    free(import_ok(layer, a, NULL));
    char *h = lf_fmt("%s/Hives/Other.dat", layer);
    char *c = lf_read(h);
    ck_assert_str_eq(c, "regf");
    char *hd = lf_fmt("%s/Hives", layer);
    ck_assert_int_eq(lstat_ok(hd).st_mode & 07777, 0700);
    const char *in_files[] = {"etc/hosts", "HivesNot/x", "etc/Hives/y"};
    for (int i = 0; i < 3; i++) {
        char *p = lf_fmt("%s/Files/%s", layer, in_files[i]);
        ck_assert_msg(lf_exists(p), "%s is missing", p);
        free(p);
    }
    char *fh = lf_fmt("%s/Files/Hives", layer);
    ck_assert(!lf_exists(fh));
    free(a), free(layer), free(h), free(c), free(hd), free(fh);
}
END_TEST

START_TEST(import__a_folder_source)
{
    char *src = lf_fmt("%s/src", lf.dir);
    char *p = lf_fmt("%s/etc/hosts", src);
    lf_write(p, "h", 0600);
    free(p);
    p = lf_fmt("%s/etc/.wh.passwd", src);
    lf_write(p, "", 0644);
    free(p);
    p = lf_fmt("%s/var/.wh..wh..opq", src);
    lf_write(p, "", 0644);
    free(p);
    p = lf_fmt("%s/var/log", src);
    lf_write(p, "l", 0644);
    free(p);
    ck_assert_int_eq(lf_sh("cd '%s' && ln etc/hosts hosts2 && ln -s /nowhere abs && "
                           "chown 12:34 etc/hosts && touch -d @1500000000 etc",
                           src),
                     0);
    p = lf_fmt("%s/etc/hosts", src);
    ck_assert_int_eq(lsetxattr(p, "user.t", "v", 1, 0), 0);
    free(p);
    char *layer = lf_fmt("%s/L", lf.dir);
    char *digest = import_ok(layer, src, NULL);

    p = lf_fmt("%s/Files/etc/passwd", layer);
    assert_whiteout(p);
    free(p);
    p = lf_fmt("%s/Files/var", layer);
    char *v = get_xattr(p, "trusted.overlay.opaque");
    ck_assert_msg(v != NULL && strcmp(v, "y") == 0, "var is not opaque");
    free(p), free(v);
    p = lf_fmt("%s/Files/etc/hosts", layer);
    struct stat st = lstat_ok(p);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(st.st_uid, 12);
    ck_assert_int_eq(st.st_gid, 34);
    v = get_xattr(p, "user.t");
    ck_assert_str_eq(v, "v");
    free(p), free(v);
    p = lf_fmt("%s/Files/hosts2", layer);
    ck_assert_int_eq(lstat_ok(p).st_ino, st.st_ino);
    free(p);
    p = lf_fmt("%s/Files/etc", layer);
    ck_assert_int_eq(lstat_ok(p).st_mtim.tv_sec, 1500000000);
    free(p);
    p = lf_fmt("%s/Files/abs", layer);
    ck_assert(S_ISLNK(lstat_ok(p).st_mode));
    free(p);

    /* The diff id is that of the layer's canonical export. */
    char want[HCS_LAYER_DIGEST_LEN];
    char *files = lf_fmt("%s/Files", layer);
    hcs_error *e = NULL;
    ck_assert_msg(hcs_layer_digest_tree(files, want, &e) == 0, "%s", e ? e->message : "");
    ck_assert_str_eq(digest, want);
    /* The source is untouched. */
    p = lf_fmt("%s/etc/.wh.passwd", src);
    ck_assert(S_ISREG(lstat_ok(p).st_mode));
    free(p), free(files), free(digest), free(layer), free(src);
}
END_TEST

/* --- malicious archives ------------------------------------------------------------------------
 */

/* Write entries as lf.dir/evil.tar, import into lf.dir/L, expect a refusal naming needle. */
static void refused(const lf_entry *entries, const char *needle, const char *reason)
{
    make_outside();
    char *a = lf_fmt("%s/evil.tar", lf.dir);
    lf_tar(a, "none", entries);
    char *quoted = lf_fmt("\"%s\"", needle);
    import_fails(a, NULL, HCS_E_INVALID_LAYER, quoted, reason, NULL);
    outside_untouched();
    free(a), free(quoted);
}

START_TEST(malicious__dotdot_paths_are_refused)
{
    const lf_entry entries[] = {
        {.path = "ok", .data = "fine"},
        {.path = "../../outside/evil", .data = "pwned"},
        {0},
    };
    refused(entries, "../../outside/evil", "the path leaves the layer");
    const lf_entry middle[] = {
        {.path = "a/", .type = 'd'},
        {.path = "a/../../../outside/evil", .data = "pwned"},
        {0},
    };
    refused(middle, "a/../../../outside/evil", "the path leaves the layer");
}
END_TEST

START_TEST(malicious__absolute_paths_are_refused)
{
    char *path = lf_fmt("%s/outside/evil", lf.dir);
    const lf_entry entries[] = {{.path = path, .data = "pwned"}, {0}};
    refused(entries, path, "the path is absolute");
    free(path);
}
END_TEST

START_TEST(malicious__hardlinks_out_of_the_layer_are_refused)
{
    char *target = lf_fmt("%s/target", lf.dir);
    const lf_entry absolute[] = {{.path = "h", .type = 'h', .data = target}, {0}};
    refused(absolute, "h", "is absolute");
    const lf_entry dotdot[] = {{.path = "h", .type = 'h', .data = "../../../target"}, {0}};
    refused(dotdot, "h", "leaves the layer");
    const lf_entry missing[] = {{.path = "h", .type = 'h', .data = "nothere"}, {0}};
    refused(missing, "h", "does not exist");
    /* A link through a symlink of the archive that points out: never followed. */
    char *out = lf_fmt("%s", lf.dir);
    const lf_entry through[] = {
        {.path = "evil", .type = 'l', .data = out},
        {.path = "h", .type = 'h', .data = "evil/target"},
        {0},
    };
    refused(through, "h", "symbolic link");
    free(target), free(out);
}
END_TEST

START_TEST(malicious__writes_through_a_planted_symlink_are_refused)
{
    char *out = lf_fmt("%s/outside", lf.dir);
    const lf_entry entries[] = {
        {.path = "evil", .type = 'l', .data = out},
        {.path = "evil/passwd", .data = "pwned"},
        {0},
    };
    refused(entries, "evil/passwd", "goes through the symbolic link \"evil\"");
    /* Also a relative one, and one replacing a folder, and a folder entry through one. */
    const lf_entry relative[] = {
        {.path = "a/", .type = 'd'},
        {.path = "a/b", .type = 'l', .data = ".."},
        {.path = "a/b/c/", .type = 'd'},
        {0},
    };
    refused(relative, "a/b/c/", "symbolic link");
    const lf_entry replaced[] = {
        {.path = "etc/", .type = 'd'},
        {.path = "etc", .type = 'l', .data = out},
        {.path = "etc/passwd", .data = "pwned"},
        {0},
    };
    refused(replaced, "etc/passwd", "symbolic link");
    free(out);
}
END_TEST

START_TEST(malicious__entries_over_a_planted_symlink_replace_the_link)
{
    make_outside();
    char *target = lf_fmt("%s/target", lf.dir);
    char *out = lf_fmt("%s/outside", lf.dir);
    const lf_entry entries[] = {
        {.path = "f", .type = 'l', .data = target},
        {.path = "f", .data = "pwned", .mode = 0777},
        {.path = "d", .type = 'l', .data = out},
        {.path = "d/", .type = 'd', .mode = 0777},
        {.path = "h", .type = 'l', .data = target},
        {.path = "h2", .type = 'h', .data = "h"},
        {0},
    };
    char *a = lf_fmt("%s/a.tar", lf.dir);
    lf_tar(a, "none", entries);
    char *layer = lf_fmt("%s/L", lf.dir);
    free(import_ok(layer, a, NULL));
    outside_untouched();
    ck_assert_int_eq(lstat_ok(out).st_mode & 07777, 0755);
    char *f = lf_fmt("%s/Files/f", layer);
    char *c = lf_read(f);
    ck_assert_str_eq(c, "pwned");
    char *d = lf_fmt("%s/Files/d", layer);
    ck_assert(S_ISDIR(lstat_ok(d).st_mode));
    char *h2 = lf_fmt("%s/Files/h2", layer);
    ck_assert(S_ISLNK(lstat_ok(h2).st_mode)); /* the link itself, not its target */
    free(target), free(out), free(a), free(layer), free(f), free(c), free(d), free(h2);
}
END_TEST

START_TEST(malicious__symlinks_climbing_above_the_root_are_refused)
{
    const lf_entry entries[] = {
        {.path = "a/", .type = 'd'},
        {.path = "a/b", .type = 'l', .data = "../../x"},
        {0},
    };
    refused(entries, "a/b", "climbs above the layer's root");
    const lf_entry top[] = {{.path = "up", .type = 'l', .data = "./a/../.."}, {0}};
    refused(top, "up", "climbs above");
}
END_TEST

START_TEST(malicious__device_nodes_are_refused)
{
    const lf_entry chr[] = {{.path = "dev/null", .type = 'c', .rdev_major = 1, .rdev_minor = 3},
                            {0}};
    refused(chr, "dev/null", "device nodes are not allowed");
    const lf_entry blk[] = {{.path = "sda", .type = 'b', .rdev_major = 8, .rdev_minor = 0}, {0}};
    refused(blk, "sda", "block device 8:0");
    /* A 0/0 block device is not a whiteout either. */
    const lf_entry blk0[] = {{.path = "b0", .type = 'b'}, {0}};
    refused(blk0, "b0", "device nodes are not allowed");
}
END_TEST

START_TEST(malicious__empty_names_and_names_cut_at_a_nul)
{
    make_outside();
    char *a = lf_fmt("%s/empty.tar", lf.dir);
    raw_tar(a, "");
    import_fails(a, NULL, HCS_E_INVALID_LAYER, "layer archive entry \"\"", "the name is empty",
                 NULL);
    /* libarchive ends a name at a NUL: what follows it can never name a path. */
    char *pax = lf_fmt("%s/nul.tar", lf.dir);
    ck_assert_int_eq(lf_sh("cd '%s' && printf 'ok' > f && python3 -c \"import tarfile; "
                           "t=tarfile.open('nul.tar','w',format=tarfile.PAX_FORMAT); "
                           "i=t.gettarinfo('f'); i.pax_headers={'path':'a\\x00/../../outside/x'};"
                           " t.addfile(i, open('f','rb')); t.close()\" 2>/dev/null || "
                           "exit 77",
                           lf.dir) %
                         77,
                     0);
    if (lf_exists(pax)) {
        char *layer = lf_fmt("%s/L", lf.dir);
        free(import_ok(layer, pax, NULL));
        char *in = lf_fmt("%s/Files/a", layer);
        ck_assert(lf_exists(in));
        free(in), free(layer);
    }
    outside_untouched();
    free(a), free(pax);
}
END_TEST

START_TEST(malicious__size_and_entry_limits)
{
    make_outside();
    /* A header that declares 64 MiB: refused before anything is written. */
    const lf_entry bomb[] = {
        {.path = "small", .data = "12345"},
        {.path = "huge", .size = 64 << 20},
        {0},
    };
    char *a = lf_fmt("%s/bomb.tar.zst", lf.dir);
    struct archive *ar = lf_tar_open(a, "zstd");
    lf_tar_add(ar, &bomb[0]);
    lf_tar_add(ar, &bomb[1]);
    char *zeros = calloc(1, 1 << 20);
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(archive_write_data(ar, zeros, 1 << 20), 1 << 20);
    free(zeros);
    lf_tar_close(ar);
    hcs_layer_import_opts o = {.max_bytes = 1 << 20};
    import_fails(a, &o, E_INVALIDARG, "\"huge\"", "limit of 1048576 bytes", NULL);
    /* The default limit is far above; a lower one applies to the sum of sizes. */
    const lf_entry sum[] = {
        {.path = "a", .data = "123456"},
        {.path = "b", .data = "123456"},
        {0},
    };
    char *s = lf_fmt("%s/sum.tar", lf.dir);
    lf_tar(s, "none", sum);
    hcs_layer_import_opts ten = {.max_bytes = 10};
    import_fails(s, &ten, E_INVALIDARG, "\"b\"", "max_bytes", NULL);

    const lf_entry many[] = {
        {.path = "1", .data = ""}, {.path = "2", .data = ""}, {.path = "3", .data = ""},
        {.path = "4", .data = ""}, {.path = "5", .data = ""}, {0},
    };
    char *m = lf_fmt("%s/many.tar", lf.dir);
    lf_tar(m, "none", many);
    hcs_layer_import_opts three = {.max_entries = 3};
    import_fails(m, &three, E_INVALIDARG, "\"4\"", "more than 3 entries", NULL);
    hcs_layer_import_opts five = {.max_entries = 5};
    char *layer = lf_fmt("%s/L", lf.dir);
    free(import_ok(layer, m, &five));
    outside_untouched();
    free(a), free(s), free(m), free(layer);
}
END_TEST

START_TEST(import__corrupt_and_truncated_archives_are_invalid_layers)
{
    const lf_entry entries[] = {
        {.path = "a", .data = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        {.path = "b", .size = 300000},
        {0},
    };
    char *a = lf_fmt("%s/a.tar.gz", lf.dir);
    lf_tar(a, "gzip", entries);
    char *cut = lf_fmt("%s/cut.tar.gz", lf.dir);
    ck_assert_int_eq(lf_sh("head -c 200 '%s' > '%s'", a, cut), 0);
    import_fails(cut, NULL, HCS_E_INVALID_LAYER, cut, NULL);
    char *plain = lf_fmt("%s/a.tar", lf.dir);
    lf_tar(plain, "none", entries);
    char *cut2 = lf_fmt("%s/cut.tar", lf.dir);
    ck_assert_int_eq(lf_sh("head -c 5000 '%s' > '%s'", plain, cut2), 0);
    import_fails(cut2, NULL, HCS_E_INVALID_LAYER, cut2, "\"b\"", NULL);
    char *junk = lf_fmt("%s/junk", lf.dir);
    lf_write(junk, "this is not an archive at all, not even a little bit\n", 0644);
    import_fails(junk, NULL, HCS_E_INVALID_LAYER, junk, "not a tar archive", NULL);
    char *empty = lf_fmt("%s/empty", lf.dir);
    lf_write(empty, "", 0644);
    import_fails(empty, NULL, HCS_E_INVALID_LAYER, empty, NULL);
    free(a), free(cut), free(plain), free(cut2), free(junk), free(empty);
}
END_TEST

/* --- the layer folder ------------------------------------------------------------------------- */

START_TEST(import__refuses_a_non_empty_layer_path_and_fills_an_empty_one)
{
    char *a = lf_fmt("%s/a.tar", lf.dir);
    lf_tar(a, "none", basic);
    char *layer = lf_fmt("%s/L", lf.dir);
    char *keep = lf_fmt("%s/keep", layer);
    lf_write(keep, "mine", 0644);
    hcs_error *e = NULL;
    ck_assert_int_lt(hcs_layer_import(layer, a, NULL, NULL, &e), 0);
    ck_assert_hr(e->hr, HCS_E_ALREADY_EXISTS);
    ck_assert_contains(e->message, layer);
    hcs_err_free(e);
    e = NULL;
    char *c = lf_read(keep);
    ck_assert_str_eq(c, "mine");
    ck_assert(!leftovers(lf.dir));
    /* A file is refused as well. */
    char *file = lf_fmt("%s/F", lf.dir);
    lf_write(file, "f", 0644);
    ck_assert_int_lt(hcs_layer_import(file, a, NULL, NULL, &e), 0);
    ck_assert_hr(e->hr, HCS_E_ALREADY_EXISTS);
    hcs_err_free(e);
    /* An empty folder is taken, with its mode. */
    char *empty = lf_fmt("%s/E", lf.dir);
    ck_assert_int_eq(mkdir(empty, 0750), 0);
    ck_assert_int_eq(chmod(empty, 0750), 0);
    free(import_ok(empty, a, NULL));
    check_basic(empty);
    ck_assert_int_eq(lstat_ok(empty).st_mode & 07777, 0750);
    ck_assert(!leftovers(lf.dir));
    free(a), free(layer), free(keep), free(c), free(file), free(empty);
}
END_TEST

START_TEST(sweep__removes_unlocked_temporary_folders_only)
{
    char *dead = lf_fmt("%s/.hcs-import.L.dead", lf.dir);
    char *live = lf_fmt("%s/.hcs-import.M.live", lf.dir);
    char *other = lf_fmt("%s/.other", lf.dir);
    char *p = lf_fmt("%s/Files/x", dead);
    lf_write(p, "x", 0644);
    free(p);
    ck_assert_int_eq(mkdir(live, 0700), 0);
    ck_assert_int_eq(mkdir(other, 0700), 0);
    int fd = open(live, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX), 0);
    hcs_layer_sweep(lf.dir);
    ck_assert_msg(!lf_exists(dead), "%s was not swept", dead);
    ck_assert_msg(lf_exists(live), "%s was swept while locked", live);
    ck_assert(lf_exists(other));
    close(fd);
    hcs_layer_sweep(lf.dir);
    ck_assert(!lf_exists(live));
    free(dead), free(live), free(other);
}
END_TEST

START_TEST(killed__a_killed_import_leaves_no_layer_and_the_next_one_sweeps)
{
    /* A big archive, fed through a pipe half-way: the import is surely in the middle. */
    char *a = lf_fmt("%s/big.tar", lf.dir);
    struct archive *ar = lf_tar_open(a, "none");
    char *zeros = calloc(1, 1 << 20);
    for (int i = 0; i < 16; i++) {
        char name[32];
        snprintf(name, sizeof(name), "f%02d", i);
        lf_entry e = {.path = name, .size = 1 << 20};
        lf_tar_add(ar, &e);
        ck_assert_int_eq(archive_write_data(ar, zeros, 1 << 20), 1 << 20);
    }
    lf_tar_close(ar);
    free(zeros);
    char *parent = lf_fmt("%s/layers", lf.dir);
    ck_assert_int_eq(mkdir(parent, 0755), 0);
    char *layer = lf_fmt("%s/L", parent);
    int p[2];
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[1]);
        hcs_error *e = NULL;
        hcs_layer_import_fd(layer, p[0], "pipe", NULL, NULL, &e);
        _exit(3); /* never reached: killed while waiting for the rest */
    }
    close(p[0]);
    int fd = open(a, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    char *buf = malloc(8 << 20);
    ck_assert_int_eq(read(fd, buf, 8 << 20), 8 << 20);
    close(fd);
    ck_assert_int_eq(write(p[1], buf, 8 << 20), 8 << 20);
    free(buf);
    /* Wait for the temporary folder and the first files in it. */
    bool seen = false;
    for (int i = 0; i < 1000 && !seen; i++) {
        seen = lf_sh("test -s %s/.hcs-import.L.*/Files/f05", parent) == 0;
        if (!seen)
            usleep(10000);
    }
    ck_assert_msg(seen, "the import did not start");
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFSIGNALED(st));
    close(p[1]);
    ck_assert_msg(!lf_exists(layer), "%s exists after a killed import", layer);
    ck_assert_msg(leftovers(parent), "no temporary folder to sweep");

    /* The next import into the same folder removes it. */
    char *small = lf_fmt("%s/small.tar", lf.dir);
    lf_tar(small, "none", basic);
    char *other = lf_fmt("%s/M", parent);
    free(import_ok(other, small, NULL));
    ck_assert_msg(!leftovers(parent), "the dead import's folder was not swept");
    ck_assert(!lf_exists(layer));
    /* And the layer can be imported again. */
    free(import_ok(layer, small, NULL));
    free(a), free(parent), free(layer), free(small), free(other);
}
END_TEST

/* --- progress --------------------------------------------------------------------------------- */

struct progress_log {
    int calls;
    hcs_layer_progress last;
    bool monotonic;
};

static void on_progress(const hcs_layer_progress *p, void *ctx)
{
    struct progress_log *l = ctx;
    if (p->read < l->last.read || p->written < l->last.written)
        l->monotonic = false;
    l->last = *p;
    l->calls++;
}

START_TEST(import__reports_progress)
{
    char *a = lf_fmt("%s/a.tar", lf.dir);
    struct archive *ar = lf_tar_open(a, "none");
    char *data = malloc(1 << 20);
    memset(data, 'z', 1 << 20);
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof(name), "f%02d", i);
        lf_entry e = {.path = name, .size = 1 << 20};
        lf_tar_add(ar, &e);
        ck_assert_int_eq(archive_write_data(ar, data, 1 << 20), 1 << 20);
    }
    lf_tar_close(ar);
    free(data);
    struct stat st = lstat_ok(a);
    struct progress_log log = {.monotonic = true};
    hcs_layer_import_opts o = {.progress = on_progress, .progress_ctx = &log};
    char *layer = lf_fmt("%s/L", lf.dir);
    free(import_ok(layer, a, &o));
    ck_assert_msg(log.calls >= 5, "progress called %d times for 20 MiB", log.calls);
    ck_assert(log.monotonic);
    ck_assert_int_eq(log.last.read, st.st_size);
    ck_assert_int_eq(log.last.total, st.st_size);
    ck_assert_int_eq(log.last.written, 20 << 20);
    ck_assert_int_eq(log.last.entries, 20);
    free(a), free(layer);
}
END_TEST

HCS_TEST_SUITE(import_suite)
{
    Suite *s = suite_create("layer_import");
    TCase *tc = tcase_create("import");
    tcase_add_checked_fixture(tc, lf_setup, lf_teardown);
    tcase_set_timeout(tc, 120);
    HCS_ADD_ROOT_TEST(tc, import__tar_gzip_and_zstd_give_the_diff_id_of_the_uncompressed_tar);
    HCS_ADD_ROOT_TEST(tc, import__archives_made_by_the_tar_command);
    HCS_ADD_ROOT_TEST(tc, import__from_a_descriptor_reads_a_pipe);
    HCS_ADD_ROOT_TEST(tc, import__keeps_modes_owners_times_and_xattrs);
    HCS_ADD_ROOT_TEST(tc, import__keeps_hardlinks_symlinks_fifos_and_holes);
    HCS_ADD_ROOT_TEST(tc, import__non_ascii_names_are_kept_byte_for_byte);
    HCS_ADD_ROOT_TEST(tc, import__oci_whiteouts_become_overlay_whiteouts);
    HCS_ADD_ROOT_TEST(tc, import__overlay_xattrs_from_the_archive_are_dropped);
    HCS_ADD_ROOT_TEST(tc, import__hives_go_beside_files);
    HCS_ADD_ROOT_TEST(tc, import__a_folder_source);
    HCS_ADD_ROOT_TEST(tc, malicious__dotdot_paths_are_refused);
    HCS_ADD_ROOT_TEST(tc, malicious__absolute_paths_are_refused);
    HCS_ADD_ROOT_TEST(tc, malicious__hardlinks_out_of_the_layer_are_refused);
    HCS_ADD_ROOT_TEST(tc, malicious__writes_through_a_planted_symlink_are_refused);
    HCS_ADD_ROOT_TEST(tc, malicious__entries_over_a_planted_symlink_replace_the_link);
    HCS_ADD_ROOT_TEST(tc, malicious__symlinks_climbing_above_the_root_are_refused);
    HCS_ADD_ROOT_TEST(tc, malicious__device_nodes_are_refused);
    HCS_ADD_ROOT_TEST(tc, malicious__empty_names_and_names_cut_at_a_nul);
    HCS_ADD_ROOT_TEST(tc, malicious__size_and_entry_limits);
    HCS_ADD_ROOT_TEST(tc, import__corrupt_and_truncated_archives_are_invalid_layers);
    HCS_ADD_ROOT_TEST(tc, import__refuses_a_non_empty_layer_path_and_fills_an_empty_one);
    HCS_ADD_ROOT_TEST(tc, sweep__removes_unlocked_temporary_folders_only);
    HCS_ADD_ROOT_TEST(tc, killed__a_killed_import_leaves_no_layer_and_the_next_one_sweeps);
    HCS_ADD_ROOT_TEST(tc, import__reports_progress);
    suite_add_tcase(s, tc);
    return s;
}
