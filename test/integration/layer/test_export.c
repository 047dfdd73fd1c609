/*
 * test_export.c - hcs_layer_export and hcs_layer_digest_tree: what real tools (tar, gzip, zstd,
 * sha256sum) see in the archive, reproducible bytes, round trips through hcs_layer_import,
 * sparse files, refusals, and that a failed export leaves nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/util.h"
#include "layer/layer.h"
#include "layer_fixture.h"

/* --- helpers ---------------------------------------------------------------------------------- */

/* Run a shell command and return what it printed on stdout (caller frees). */
static char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sh_out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = hcs_vasprintf(fmt, ap);
    va_end(ap);
    ck_assert_ptr_nonnull(cmd);
    char *out = lf_fmt("%s/.sh_out", lf.dir);
    int st = lf_sh("( %s ) > '%s'", cmd, out);
    ck_assert_msg(st == 0, "`%s` exited with %d", cmd, st);
    char *text = lf_read(out);
    ck_assert_msg(text != NULL, "no output from `%s`", cmd);
    unlink(out);
    free(out);
    free(cmd);
    return text;
}

static void mk_dir(const char *path)
{
    ck_assert_int_eq(hcs_mkdir_p(path, 0755, NULL), 0);
}

static void mk_node(const char *path, mode_t mode, dev_t dev)
{
    ck_assert_msg(mknod(path, mode, dev) == 0, "mknod %s: %s", path, strerror(errno));
}

static void set_xattr(const char *path, const char *name, const void *value, size_t len)
{
    ck_assert_msg(lsetxattr(path, name, value, len, 0) == 0, "setxattr %s %s: %s", path, name,
                  strerror(errno));
}

static void set_mtime(const char *path, time_t t)
{
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* security.capability v2 for cap_net_raw (as setcap writes it). */
static const unsigned char cap_net_raw[20] = {0, 0, 0, 2, 0, 0x20, 0, 0, 0, 0,
                                              0, 0, 0, 0, 0, 0,    0, 0, 0, 0};

/*
 * A tree in the union's form under lf.dir/name: files, folders, a whiteout, an opaque folder,
 * a symlink to a folder outside, a fifo, a hard link, xattrs (trusted.overlay.* among them), a
 * setuid file with a capability, names that sort around ".wh.". Returns its path.
 */
static char *make_tree(const char *name)
{
    char *t = lf_fmt("%s/%s", lf.dir, name);
    char *p;
    mk_dir(t);
    lf_write((p = lf_fmt("%s/b", t)), "bee\n", 0644), free(p);
    lf_write((p = lf_fmt("%s/-dash", t)), "", 0600), free(p);
    lf_write((p = lf_fmt("%s/a/x", t)), "ex\n", 0644), free(p);
    mk_node((p = lf_fmt("%s/a/gone", t)), S_IFCHR | 0, makedev(0, 0)), free(p);
    lf_write((p = lf_fmt("%s/o/k", t)), "kay\n", 0644), free(p);
    lf_write((p = lf_fmt("%s/o/-m", t)), "em\n", 0644), free(p);
    set_xattr((p = lf_fmt("%s/o", t)), "trusted.overlay.opaque", "y", 1), free(p);
    ck_assert_int_eq(symlink("/etc", (p = lf_fmt("%s/link", t))), 0);
    free(p);
    mk_node((p = lf_fmt("%s/fifo", t)), S_IFIFO | 0640, 0), free(p);
    lf_write((p = lf_fmt("%s/bin/tool", t)), "#!/bin/sh\n", 04755), free(p);
    p = lf_fmt("%s/bin/tool", t);
    set_xattr(p, "security.capability", cap_net_raw, sizeof(cap_net_raw));
    set_xattr(p, "user.note", "hello", 5);
    set_xattr(p, "trusted.overlay.origin", "zz", 2);
    char *q = lf_fmt("%s/z-hardlink", t);
    ck_assert_int_eq(link(p, q), 0);
    free(q), free(p);
    ck_assert_int_eq(chown((p = lf_fmt("%s/b", t)), 1000, 2000), 0);
    free(p);
    return t;
}

static const char tree_listing[] = "-dash\n"
                                   "a/\n"
                                   "a/.wh.gone\n"
                                   "a/x\n"
                                   "b\n"
                                   "bin/\n"
                                   "bin/tool\n"
                                   "fifo\n"
                                   "link\n"
                                   "o/\n"
                                   "o/.wh..wh..opq\n"
                                   "o/-m\n"
                                   "o/k\n"
                                   "z-hardlink\n";

static char *export_to(const char *layer, const char *name, enum hcs_layer_compression c,
                       char diff_id[HCS_LAYER_DIGEST_LEN])
{
    char *out = lf_fmt("%s/%s", lf.dir, name);
    hcs_layer_export_opts o = {.compression = c};
    LF_OK(hcs_layer_export(layer, out, &o, diff_id, &e_));
    return out;
}

/* "sha256:" + the sha256sum of the file, decompressed by cat ("cat", "gzip -dc"...). */
static char *sha_of(const char *cat, const char *file)
{
    char *sum = sh_out("%s '%s' | sha256sum", cat, file);
    sum[64] = '\0';
    char *s = lf_fmt("sha256:%s", sum);
    free(sum);
    return s;
}

/* Whether two files hold the same bytes. */
static bool same_bytes(const char *a, const char *b)
{
    return lf_sh("cmp -s '%s' '%s'", a, b) == 0;
}

/* The names in a folder, sorted and space-separated. */
static char *list(const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    ck_assert_msg(n >= 0, "scandir %s: %s", dir, strerror(errno));
    char *s = lf_fmt("%s", "");
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
            char *t = lf_fmt("%s%s%s", s, s[0] ? " " : "", names[i]->d_name);
            free(s);
            s = t;
        }
        free(names[i]);
    }
    free(names);
    return s;
}

/*
 * Every entry under dir (not dir itself): path, type, mode, owner, mtime, size, links, target.
 * A whiteout's mtime is when the import made it, so it is left out.
 */
static char *describe(const char *dir)
{
    return sh_out("cd '%s' && find . -mindepth 1 \\( -type c -printf '%%P %%y %%m %%U:%%G - "
                  "%%s %%n %%l\\n' \\) -o -printf '%%P %%y %%m %%U:%%G %%T@ %%s %%n %%l\\n' "
                  "| LC_ALL=C sort",
                  dir);
}

/* --- what tar sees --------------------------------------------------------------------------- */

START_TEST(export__writes_oci_whiteouts_and_opaque_markers_in_byte_order)
{
    char *tree = make_tree("tree");
    char diff[HCS_LAYER_DIGEST_LEN];
    char *tar = export_to(tree, "out.tar", HCS_LAYER_COMPRESS_NONE, diff);

    char *names = sh_out("tar -tf '%s'", tar);
    ck_assert_str_eq(names, tree_listing);
    free(names);

    /* The symlink is an entry, not followed; hard link to the first path; fifo; setuid. */
    char *verbose = sh_out("tar -tvf '%s'", tar);
    ck_assert_contains(verbose, "link -> /etc\n");
    ck_assert_contains(verbose, "z-hardlink link to bin/tool\n");
    ck_assert_contains(verbose, "prw-r----- 0/0");
    ck_assert_contains(verbose, "-rwsr-xr-x 0/0");
    ck_assert_contains(verbose, "-rw-r--r-- 1000/2000");
    free(verbose);

    /* Only mtime, numeric owners: no atime, ctime or owner names, no overlay xattrs. */
    ck_assert_int_ne(lf_sh("grep -a -q 'trusted.overlay' '%s'", tar), 0);
    ck_assert_int_ne(lf_sh("grep -a -q -e 'atime=' -e 'ctime=' '%s'", tar), 0);
    ck_assert_int_ne(lf_sh("grep -a -q root '%s'", tar), 0);

    /* The other xattrs as SCHILY.xattr records, which GNU tar restores. */
    ck_assert_int_eq(lf_sh("grep -a -q 'SCHILY.xattr.user.note=hello' '%s'", tar), 0);
    char *x = lf_fmt("%s/x", lf.dir);
    mk_dir(x);
    ck_assert_int_eq(
        lf_sh("tar --xattrs --xattrs-include='*' -xf '%s' -C '%s' 2>/dev/null", tar, x), 0);
    char *tool = lf_fmt("%s/bin/tool", x);
    unsigned char cap[64];
    ck_assert_int_eq(getxattr(tool, "security.capability", cap, sizeof(cap)),
                     (ssize_t)sizeof(cap_net_raw));
    ck_assert_mem_eq(cap, cap_net_raw, sizeof(cap_net_raw));
    char note[16] = "";
    ck_assert_int_eq(getxattr(tool, "user.note", note, sizeof(note)), 5);
    ck_assert_int_lt(getxattr(tool, "trusted.overlay.origin", note, sizeof(note)), 0);
    free(tool), free(x), free(tar), free(tree);
}
END_TEST

START_TEST(export__diff_id_is_the_sha256_of_the_uncompressed_tar)
{
    char *tree = make_tree("tree");
    char want[HCS_LAYER_DIGEST_LEN];
    LF_OK(hcs_layer_digest_tree(tree, want, &e_));

    struct {
        enum hcs_layer_compression c;
        const char *name, *cat;
    } cases[] = {
        {HCS_LAYER_COMPRESS_NONE, "l.tar", "cat"},
        {HCS_LAYER_COMPRESS_GZIP, "l.tar.gz", "gzip -dc"},
        {HCS_LAYER_COMPRESS_ZSTD, "l.tar.zst", "zstd -q -dc"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char diff[HCS_LAYER_DIGEST_LEN];
        char *out = export_to(tree, cases[i].name, cases[i].c, diff);
        char *sum = sha_of(cases[i].cat, out);
        ck_assert_msg(strcmp(sum, diff) == 0, "%s: sha256 %s, diff id %s", cases[i].name, sum,
                      diff);
        ck_assert_str_eq(diff, want);
        free(sum);
        /* Real tools read it. */
        char *names = sh_out("%s '%s' | tar -tf -", cases[i].cat, out);
        ck_assert_str_eq(names, tree_listing);
        free(names), free(out);
    }
    /* Compressed for real, gzip without a name or time in its header. */
    char *gz = lf_fmt("%s/l.tar.gz", lf.dir), *plain = lf_fmt("%s/l.tar", lf.dir);
    struct stat a, b;
    ck_assert_int_eq(stat(gz, &a), 0);
    ck_assert_int_eq(stat(plain, &b), 0);
    ck_assert_int_lt(a.st_size, b.st_size / 4);
    char *hdr = sh_out("head -c 8 '%s' | od -An -tx1", gz);
    ck_assert_contains(hdr, "1f 8b 08 00 00 00 00 00");
    free(hdr), free(gz), free(plain), free(tree);
}
END_TEST

START_TEST(export__the_same_tree_gives_the_same_bytes)
{
    char *tree = make_tree("tree");
    char d0[HCS_LAYER_DIGEST_LEN], d1[HCS_LAYER_DIGEST_LEN], d2[HCS_LAYER_DIGEST_LEN],
        d3[HCS_LAYER_DIGEST_LEN];
    /* Unchanged tree, default options: identical archives. */
    char *z1 = export_to(tree, "1.tar.zst", HCS_LAYER_COMPRESS_ZSTD, d0);
    char *z2 = export_to(tree, "2.tar.zst", HCS_LAYER_COMPRESS_ZSTD, d1);
    ck_assert_msg(same_bytes(z1, z2), "two exports of the same tree differ");
    ck_assert_str_eq(d0, d1);

    /* Deterministic: times changed in between make no difference, every mtime is timestamp. */
    hcs_layer_export_opts o = {
        .compression = HCS_LAYER_COMPRESS_GZIP, .deterministic = true, .timestamp = 86400 * 365};
    char *g1 = lf_fmt("%s/1.tar.gz", lf.dir), *g2 = lf_fmt("%s/2.tar.gz", lf.dir);
    LF_OK(hcs_layer_export(tree, g1, &o, d1, &e_));
    char *p = lf_fmt("%s/a/x", tree);
    set_mtime(p, 1234567890);
    free(p);
    set_mtime(tree, 1234567890);
    LF_OK(hcs_layer_export(tree, g2, &o, d2, &e_));
    ck_assert_msg(same_bytes(g1, g2), "two deterministic exports differ");
    ck_assert_str_eq(d1, d2);
    char *others = sh_out(
        "TZ=UTC tar --full-time -tvzf '%s' | grep -v -c ' 1971-01-01 00:00:00 ' || true", g1);
    ck_assert_str_eq(others, "0\n");
    free(others);

    /* The changed mtime shows in a default export. */
    char *z3 = export_to(tree, "3.tar.zst", HCS_LAYER_COMPRESS_ZSTD, d3);
    ck_assert_str_ne(d0, d3);
    free(z1), free(z2), free(z3), free(g1), free(g2), free(tree);
}
END_TEST

START_TEST(export__bytes_do_not_depend_on_the_locale)
{
    char *tree = lf_fmt("%s/tree", lf.dir);
    char *p;
    lf_write((p = lf_fmt("%s/caf\xc3\xa9", tree)), "utf-8\n", 0644), free(p);
    lf_write((p = lf_fmt("%s/bad\xff", tree)), "not utf-8\n", 0644), free(p);
    char d1[HCS_LAYER_DIGEST_LEN], d2[HCS_LAYER_DIGEST_LEN];
    /* Check runs each test in its own process: the locale change stays here. */
    ck_assert_ptr_nonnull(setlocale(LC_ALL, "C"));
    LF_OK(hcs_layer_digest_tree(tree, d1, &e_));
    ck_assert_ptr_nonnull(setlocale(LC_ALL, "C.UTF-8"));
    LF_OK(hcs_layer_digest_tree(tree, d2, &e_));
    ck_assert_str_eq(d1, d2);
    /* And GNU tar reads both names back. */
    char *tar = export_to(tree, "n.tar", HCS_LAYER_COMPRESS_NONE, d1);
    char *x = lf_fmt("%s/x", lf.dir);
    mk_dir(x);
    /* (GNU tar 1.34 warns that it ignores hdrcharset, and takes the name's bytes.) */
    ck_assert_int_eq(lf_sh("tar -xf '%s' -C '%s' 2>/dev/null", tar, x), 0);
    ck_assert(lf_exists((p = lf_fmt("%s/caf\xc3\xa9", x))));
    free(p);
    ck_assert(lf_exists((p = lf_fmt("%s/bad\xff", x))));
    free(p);
    free(x), free(tar), free(tree);
}
END_TEST

/* --- round trips through import -------------------------------------------------------------- */

START_TEST(export__round_trip_through_import_is_byte_identical)
{
    const lf_entry entries[] = {
        {.path = "etc/", .type = 'd', .mode = 0755, .mtime = 1600000000},
        {.path = "etc/passwd", .data = "root:x:0:0::/root:/bin/sh\n", .mtime = 1600000001},
        {.path = "etc/shadow", .data = "root:*:1::::::\n", .mode = 0640, .gid = 42},
        {.path = "bin/", .type = 'd', .mtime = 1600000002},
        {.path = "bin/ping",
         .data = "\x7f"
                 "ELF",
         .mode = 04755,
         .xattr_name = "user.origin",
         .xattr_value = "pkg"},
        {.path = "bin/ping6", .type = 'h', .data = "bin/ping"},
        {.path = "bin/sh", .type = 'l', .data = "busybox"},
        {.path = "home/", .type = 'd', .uid = 1000, .gid = 1000, .mode = 0700},
        {.path = "home/u/", .type = 'd', .uid = 1000, .gid = 1000},
        {.path = "home/u/notes",
         .data = "hi\n",
         .uid = 1000,
         .gid = 1000,
         .xattr_name = "user.tag",
         .xattr_value = "blue"},
        {.path = "run/", .type = 'd'},
        {.path = "run/ctl", .type = 'p', .mode = 0600},
        {.path = "var/", .type = 'd'},
        {.path = "var/cache/", .type = 'd', .mtime = 1500000000},
        {.path = "var/cache/.wh..wh..opq", .data = ""},
        {.path = "var/cache/new", .data = "new\n"},
        {.path = "var/.wh.old", .data = ""},
        {.path = ".wh.gone", .data = ""},
        {0},
    };
    char *a = lf_fmt("%s/A.tar.gz", lf.dir);
    lf_tar(a, "gzip", entries);
    char *l1 = lf_fmt("%s/L1", lf.dir), *l2 = lf_fmt("%s/L2", lf.dir);
    char d1[HCS_LAYER_DIGEST_LEN], dt1[HCS_LAYER_DIGEST_LEN], d2[HCS_LAYER_DIGEST_LEN],
        dt2[HCS_LAYER_DIGEST_LEN];
    LF_OK(hcs_layer_import(l1, a, NULL, d1, &e_));
    char *t1 = export_to(l1, "T1.tar", HCS_LAYER_COMPRESS_NONE, dt1);
    LF_OK(hcs_layer_import(l2, t1, NULL, d2, &e_));
    char *sum = sha_of("cat", t1);
    ck_assert_str_eq(d2, sum);
    ck_assert_str_eq(d2, dt1);
    char *t2 = export_to(l2, "T2.tar.zst", HCS_LAYER_COMPRESS_ZSTD, dt2);
    ck_assert_str_eq(dt2, dt1);
    ck_assert_msg(lf_sh("zstd -q -dc '%s' | cmp -s - '%s'", t2, t1) == 0, "T1 and T2 differ");

    /* The trees are equal: types, modes, owners, mtimes, sizes, link counts, targets... */
    char *f1 = lf_fmt("%s/Files", l1), *f2 = lf_fmt("%s/Files", l2);
    char *desc1 = describe(f1), *desc2 = describe(f2);
    ck_assert_str_eq(desc1, desc2);
    ck_assert_contains(desc2, "bin/ping f 4755 0:0 ");
    ck_assert_contains(desc2, "etc/shadow f 640 0:42 1700000000.0000000000 15 1 \n");
    ck_assert_contains(desc2, "home/u/notes f 644 1000:1000 ");
    /* ... hard links, whiteouts, opaque folders, xattrs. */
    struct stat s1, s2;
    char *p = lf_fmt("%s/bin/ping", f2), *q = lf_fmt("%s/bin/ping6", f2);
    ck_assert_int_eq(stat(p, &s1), 0);
    ck_assert_int_eq(stat(q, &s2), 0);
    ck_assert(s1.st_ino == s2.st_ino);
    char v[16] = "";
    ck_assert_int_eq(getxattr(p, "user.origin", v, sizeof(v)), 3);
    ck_assert_mem_eq(v, "pkg", 3);
    free(p), free(q);
    p = lf_fmt("%s/home/u/notes", f2);
    ck_assert_int_eq(getxattr(p, "user.tag", v, sizeof(v)), 4);
    free(p);
    const char *whiteouts[] = {"gone", "var/old"};
    for (size_t i = 0; i < 2; i++) {
        p = lf_fmt("%s/%s", f2, whiteouts[i]);
        ck_assert_int_eq(lstat(p, &s1), 0);
        ck_assert_msg(S_ISCHR(s1.st_mode) && s1.st_rdev == makedev(0, 0), "%s: not a whiteout", p);
        free(p);
    }
    p = lf_fmt("%s/var/cache", f2);
    ck_assert_int_eq(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)), 1);
    free(p);
    char *names = sh_out("tar -tf '%s' | grep -e wh -e ^var/", t1);
    ck_assert_str_eq(names, ".wh.gone\nvar/\nvar/.wh.old\nvar/cache/\nvar/cache/.wh..wh..opq\n"
                            "var/cache/new\n");
    free(names);
    free(desc1), free(desc2), free(f1), free(f2), free(sum), free(t1), free(t2), free(l1), free(l2),
        free(a);
}
END_TEST

START_TEST(export__round_trip_of_a_union_tree_keeps_capabilities_and_links)
{
    char *tree = make_tree("tree");
    char d0[HCS_LAYER_DIGEST_LEN], d1[HCS_LAYER_DIGEST_LEN];
    char *t0 = export_to(tree, "T0.tar.gz", HCS_LAYER_COMPRESS_GZIP, d0);
    char *l = lf_fmt("%s/L", lf.dir);
    LF_OK(hcs_layer_import(l, t0, NULL, d1, &e_));
    ck_assert_str_eq(d0, d1);
    char *t1 = export_to(l, "T1.tar.gz", HCS_LAYER_COMPRESS_GZIP, d1);
    ck_assert_str_eq(d0, d1);
    ck_assert_msg(same_bytes(t0, t1), "the tree and its imported layer export differently");
    char *tool = lf_fmt("%s/Files/bin/tool", l), *link2 = lf_fmt("%s/Files/z-hardlink", l);
    unsigned char cap[64];
    ck_assert_int_eq(getxattr(tool, "security.capability", cap, sizeof(cap)),
                     (ssize_t)sizeof(cap_net_raw));
    ck_assert_mem_eq(cap, cap_net_raw, sizeof(cap_net_raw));
    struct stat a, b;
    ck_assert_int_eq(stat(tool, &a), 0);
    ck_assert_int_eq(stat(link2, &b), 0);
    ck_assert(a.st_ino == b.st_ino);
    ck_assert_int_eq(a.st_mode & 07777, 04755);
    free(tool), free(link2), free(t0), free(t1), free(l), free(tree);
}
END_TEST

START_TEST(export__sparse_files_stay_sparse)
{
    char *tree = lf_fmt("%s/tree", lf.dir);
    char *p = lf_fmt("%s/disk.img", tree);
    lf_write(p, "", 0644);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 256 << 20), 0);
    ck_assert_int_eq(pwrite(fd, "middle", 6, 100 << 20), 6);
    close(fd);
    char *hole = lf_fmt("%s/hole", tree);
    lf_write(hole, "", 0600);
    ck_assert_int_eq(truncate(hole, 1 << 20), 0);

    char diff[HCS_LAYER_DIGEST_LEN];
    char *tar = export_to(tree, "s.tar", HCS_LAYER_COMPRESS_NONE, diff);
    struct stat st;
    ck_assert_int_eq(stat(tar, &st), 0);
    ck_assert_int_lt(st.st_size, 1 << 20);
    char *listing = sh_out("tar -tvf '%s'", tar);
    ck_assert_contains(listing, " 268435456 ");
    ck_assert_contains(listing, " disk.img\n");
    ck_assert_contains(listing, " 1048576 ");
    free(listing);

    /* GNU tar rebuilds the same bytes; the importer keeps the holes. */
    char *x = lf_fmt("%s/x", lf.dir);
    mk_dir(x);
    ck_assert_int_eq(lf_sh("tar -xf '%s' -C '%s'", tar, x), 0);
    ck_assert_int_eq(lf_sh("cmp '%s' '%s/disk.img'", p, x), 0);
    char *layer = lf_fmt("%s/L", lf.dir);
    LF_OK(hcs_layer_import(layer, tar, NULL, NULL, &e_));
    char *img = lf_fmt("%s/Files/disk.img", layer);
    ck_assert_int_eq(stat(img, &st), 0);
    ck_assert_int_eq(st.st_size, 256 << 20);
    ck_assert_int_lt(st.st_blocks * 512, 1 << 20);
    ck_assert_int_eq(lf_sh("cmp '%s' '%s'", p, img), 0);
    char *h2 = lf_fmt("%s/Files/hole", layer);
    ck_assert_int_eq(stat(h2, &st), 0);
    ck_assert_int_eq(st.st_size, 1 << 20);
    ck_assert_int_eq(st.st_blocks, 0);
    /* And exports again to the same bytes. */
    char diff2[HCS_LAYER_DIGEST_LEN];
    char *tar2 = export_to(layer, "s2.tar", HCS_LAYER_COMPRESS_NONE, diff2);
    ck_assert_str_eq(diff, diff2);
    free(h2), free(img), free(layer), free(x), free(tar), free(tar2), free(hole), free(p),
        free(tree);
}
END_TEST

/* --- what is exported ------------------------------------------------------------------------- */

START_TEST(export__writable_overlay_layer_exports_its_changes)
{
    char *w = lf_fmt("%s/W", lf.dir);
    char *p;
    lf_write((p = lf_fmt("%s/Files/etc/hostname", w)), "box\n", 0644), free(p);
    mk_node((p = lf_fmt("%s/Files/etc/motd", w)), S_IFCHR | 0, makedev(0, 0)), free(p);
    mk_dir((p = lf_fmt("%s/Work/work", w))), free(p);
    mk_dir((p = lf_fmt("%s/rootfs", w))), free(p);
    hcs_layer_info info = {.kind = HCS_LAYER_KIND_WRITABLE, .backend = HCS_LAYER_BACKEND_OVERLAY};
    LF_OK(hcs_layer_info_write(w, &info, &e_));

    char diff[HCS_LAYER_DIGEST_LEN];
    char *tar = export_to(w, "w.tar", HCS_LAYER_COMPRESS_NONE, diff);
    char *names = sh_out("tar -tf '%s'", tar);
    ck_assert_str_eq(names, "etc/\netc/.wh.motd\netc/hostname\n");
    free(names), free(tar);

    /* A read-only layer exports its Files/, not layer.json. */
    char *ro = lf_fmt("%s/R", lf.dir);
    lf_write((p = lf_fmt("%s/Files/f", ro)), "f\n", 0644), free(p);
    info.kind = HCS_LAYER_KIND_READONLY;
    info.backend = HCS_LAYER_BACKEND_NONE;
    LF_OK(hcs_layer_info_write(ro, &info, &e_));
    tar = export_to(ro, "r.tar", HCS_LAYER_COMPRESS_NONE, diff);
    names = sh_out("tar -tf '%s'", tar);
    ck_assert_str_eq(names, "f\n");
    free(names), free(tar), free(ro), free(w);
}
END_TEST

START_TEST(export__writable_layer_exports_what_changed_with_either_backend)
{
    const lf_entry base[] = {
        {.path = "changed", .data = "before"},   {.path = "same", .data = "same"},
        {.path = "deleted", .data = "bye"},      {.path = "tree/", .type = 'd'},
        {.path = "tree/untouched", .data = "u"}, {0},
    };
    char *a = lf_fmt("%s/base.tar", lf.dir), *l0 = lf_fmt("%s/base", lf.dir);
    lf_tar(a, "none", base);
    LF_OK(hcs_layer_import(l0, a, NULL, NULL, &e_));
    char *w = lf_fmt("%s/w", lf.dir);
    const char *parents[] = {l0};
    LF_OK(hcs_layer_init_writable(w, parents, 1, &e_));
    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));
    char *p;
    lf_write((p = lf_fmt("%s/rootfs/changed", w)), "after", 0644);
    free(p);
    lf_write((p = lf_fmt("%s/rootfs/tree/sub/new", w)), "new", 0600);
    free(p);
    ck_assert_int_eq(unlink((p = lf_fmt("%s/rootfs/deleted", w))), 0);
    free(p);
    LF_OK(hcs_layer_detach(w, &e_));

    char diff[HCS_LAYER_DIGEST_LEN];
    char *tar = export_to(w, "w.tar.zst", HCS_LAYER_COMPRESS_ZSTD, diff);
    char *names = sh_out("zstd -q -dc '%s' | tar -tf -", tar);
    ck_assert_str_eq(names, ".wh.deleted\nchanged\ntree/\ntree/sub/\ntree/sub/new\n");
    free(names);
    /* The copy backend's temporary folder of changes is gone. */
    char *left = list(w);
    ck_assert_msg(strstr(left, ".export") == NULL, "%s holds %s", w, left);
    /* The archive imports as a layer with the same diff id. */
    char *l1 = lf_fmt("%s/l1", lf.dir);
    char d1[HCS_LAYER_DIGEST_LEN];
    LF_OK(hcs_layer_import(l1, tar, NULL, d1, &e_));
    ck_assert_str_eq(d1, diff);
    free(l1), free(left), free(tar), free(w), free(l0), free(a);
}
END_TEST

START_TEST(export__into_a_folder_writes_layer_tar_zst_there)
{
    char *tree = make_tree("tree");
    char *dest = lf_fmt("%s/dest", lf.dir);
    mk_dir(dest);
    char diff[HCS_LAYER_DIGEST_LEN];
    hcs_layer_export_opts o = {.compression = HCS_LAYER_COMPRESS_ZSTD, .level = 19};
    LF_OK(hcs_layer_export(tree, dest, &o, diff, &e_));
    char *names = list(dest);
    ck_assert_str_eq(names, "layer.tar.zst");
    free(names);
    o.compression = HCS_LAYER_COMPRESS_GZIP;
    o.level = 1;
    LF_OK(hcs_layer_export(tree, dest, &o, NULL, &e_));
    o.compression = HCS_LAYER_COMPRESS_NONE;
    LF_OK(hcs_layer_export(tree, dest, &o, NULL, &e_));
    names = list(dest);
    ck_assert_str_eq(names, "layer.tar layer.tar.gz layer.tar.zst");
    free(names);
    char *zst = lf_fmt("%s/layer.tar.zst", dest);
    char *sum = sha_of("zstd -q -dc", zst);
    ck_assert_str_eq(sum, diff);
    free(sum), free(zst);

    /* Exporting a folder into itself leaves the archive being written out of it. */
    LF_OK(hcs_layer_export(tree, tree, &o, NULL, &e_));
    char *listing = sh_out("tar -tf '%s/layer.tar'", tree);
    ck_assert_str_eq(listing, tree_listing);
    free(listing), free(dest), free(tree);
}
END_TEST

/* --- refusals and failures -------------------------------------------------------------------- */

START_TEST(export__refuses_a_device_node_and_leaves_nothing)
{
    char *tree = lf_fmt("%s/tree", lf.dir);
    char *p;
    lf_write((p = lf_fmt("%s/a", tree)), "a\n", 0644), free(p);
    mk_dir((p = lf_fmt("%s/dev", tree))), free(p);
    mk_node((p = lf_fmt("%s/dev/sda", tree)), S_IFBLK | 0600, makedev(8, 0)), free(p);
    char *dest = lf_fmt("%s/dest", lf.dir);
    mk_dir(dest);
    hcs_layer_export_opts o = {.compression = HCS_LAYER_COMPRESS_ZSTD};
    char *msg = LF_FAILS(hcs_layer_export(tree, dest, &o, NULL, &e_), HCS_E_INVALID_LAYER);
    char *want = lf_fmt("%s/dev/sda", tree);
    ck_assert_contains(msg, want);
    ck_assert_contains(msg, "block device (8:0)");
    char *names = list(dest);
    ck_assert_str_eq(names, "");
    free(names), free(msg), free(want);

    /* A character device other than a whiteout, likewise. */
    ck_assert_int_eq(unlink((p = lf_fmt("%s/dev/sda", tree))), 0);
    free(p);
    mk_node((p = lf_fmt("%s/dev/null", tree)), S_IFCHR | 0666, makedev(1, 3)), free(p);
    char *out = lf_fmt("%s/x.tar", dest);
    msg = LF_FAILS(hcs_layer_export(tree, out, &o, NULL, &e_), HCS_E_INVALID_LAYER);
    ck_assert_contains(msg, "dev/null: a character device (1:3)");
    names = list(dest);
    ck_assert_str_eq(names, "");
    free(names), free(msg), free(out), free(dest), free(tree);
}
END_TEST

START_TEST(export__failures_name_the_path_and_leave_nothing)
{
    char *tree = make_tree("tree");
    /* A destination folder that does not exist. */
    char *out = lf_fmt("%s/missing/l.tar", lf.dir);
    char *msg =
        LF_FAILS(hcs_layer_export(tree, out, NULL, NULL, &e_), hcs_hresult_from_errno(ENOENT));
    char *missing = lf_fmt("%s/missing", lf.dir);
    ck_assert_contains(msg, missing);
    ck_assert(!lf_exists(missing));
    free(msg), free(out);

    /* A layer that does not exist. */
    char *nolayer = lf_fmt("%s/nolayer", lf.dir);
    out = lf_fmt("%s/l.tar", lf.dir);
    msg = LF_FAILS(hcs_layer_export(nolayer, out, NULL, NULL, &e_), hcs_hresult_from_errno(ENOENT));
    ck_assert_contains(msg, nolayer);
    ck_assert(!lf_exists(out));
    free(msg);
    msg = LF_FAILS(hcs_layer_digest_tree(nolayer, (char[HCS_LAYER_DIGEST_LEN]){0}, &e_),
                   hcs_hresult_from_errno(ENOENT));
    ck_assert_contains(msg, nolayer);
    free(msg);

    /* A compression level gzip does not have. */
    hcs_layer_export_opts o = {.compression = HCS_LAYER_COMPRESS_GZIP, .level = 42};
    msg = LF_FAILS(hcs_layer_export(tree, out, &o, NULL, &e_), E_INVALIDARG);
    ck_assert_contains(msg, "compression-level");
    free(msg);
    char *names = list(lf.dir);
    ck_assert_str_eq(names, "tree");
    free(names), free(out), free(nolayer), free(missing), free(tree);
}
END_TEST

HCS_TEST_SUITE(export_suite)
{
    Suite *s = suite_create("layer_export");
    TCase *tc = tcase_create("export");
    tcase_add_checked_fixture(tc, lf_setup, lf_teardown);
    tcase_set_timeout(tc, 120);
    HCS_ADD_ROOT_TEST(tc, export__writes_oci_whiteouts_and_opaque_markers_in_byte_order);
    HCS_ADD_ROOT_TEST(tc, export__diff_id_is_the_sha256_of_the_uncompressed_tar);
    HCS_ADD_ROOT_TEST(tc, export__the_same_tree_gives_the_same_bytes);
    HCS_ADD_ROOT_TEST(tc, export__bytes_do_not_depend_on_the_locale);
    HCS_ADD_ROOT_TEST(tc, export__round_trip_through_import_is_byte_identical);
    HCS_ADD_ROOT_TEST(tc, export__round_trip_of_a_union_tree_keeps_capabilities_and_links);
    HCS_ADD_ROOT_TEST(tc, export__sparse_files_stay_sparse);
    HCS_ADD_ROOT_TEST(tc, export__writable_overlay_layer_exports_its_changes);
    HCS_ADD_ROOT_TEST(tc, export__writable_layer_exports_what_changed_with_either_backend);
    HCS_ADD_ROOT_TEST(tc, export__into_a_folder_writes_layer_tar_zst_there);
    HCS_ADD_ROOT_TEST(tc, export__refuses_a_device_node_and_leaves_nothing);
    HCS_ADD_ROOT_TEST(tc, export__failures_name_the_path_and_leave_nothing);
    suite_add_tcase(s, tc);
    return s;
}
