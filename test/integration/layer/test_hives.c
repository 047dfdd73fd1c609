/*
 * test_hives.c - a layer's registry: Hives/ entries of an archive checked and converted at
 * import (hive files, .reg files), exported again (read-only layers as they are, writable layers
 * from their delta log), and read back by a system's registry (lib/registry).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "layer/layer.h"
#include "layer_fixture.h"
#include "registry/registry.h"

#define SYS HCS_REG_HIVE_SYSTEM
#define SW HCS_REG_HIVE_SOFTWARE
#define CTL "ControlSet001\\Control"

#define SET_SZ(h, k, n, s)                                                                         \
    {                                                                                              \
        .op = HCS_REG_SET_VALUE, .hive = (h), .key = (k), .name = (n), .type = HCS_REG_SZ,         \
        .data = (const uint8_t *)(s), .len = strlen(s)                                             \
    }

/* --- helpers ---------------------------------------------------------------------------------- */

/* The bytes of a hive file written by hcs_reg_hive_write (caller frees). */
static uint8_t *hive_bytes(enum hcs_reg_hive h, const hcs_reg_change *c, size_t n, size_t *len)
{
    AUTOCLOSE int dfd = open(lf.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(dfd, 0);
    LF_OK(hcs_reg_hive_write(dfd, "hive.tmp", h, c, n, &e_));
    AUTOCLOSE int fd = openat(dfd, "hive.tmp", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    uint8_t *b = malloc((size_t)st.st_size);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(read(fd, b, (size_t)st.st_size), st.st_size);
    ck_assert_int_eq(unlinkat(dfd, "hive.tmp", 0), 0);
    *len = (size_t)st.st_size;
    return b;
}

/* A regular file entry with binary content (lf_entry data is a C string). */
static void tar_add_bytes(struct archive *a, const char *path, const void *data, size_t len)
{
    struct archive_entry *ae = archive_entry_new();
    ck_assert_ptr_nonnull(ae);
    archive_entry_set_pathname(ae, path);
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_perm(ae, 0644);
    archive_entry_set_mtime(ae, 1700000000, 0);
    archive_entry_set_size(ae, (la_int64_t)len);
    ck_assert_int_eq(archive_write_header(a, ae), ARCHIVE_OK);
    ck_assert_int_eq(archive_write_data(a, data, len), (la_ssize_t)len);
    archive_entry_free(ae);
}

/* An archive of entries (text), then Hives/<hive_name> holding data. */
static void tar_with_hive(const char *path, const lf_entry *entries, const char *hive_name,
                          const void *data, size_t len)
{
    struct archive *a = lf_tar_open(path, "none");
    for (const lf_entry *e = entries; e->path != NULL; e++)
        lf_tar_add(a, e);
    AUTOFREE char *name = lf_fmt("Hives/%s", hive_name);
    tar_add_bytes(a, name, data, len);
    lf_tar_close(a);
}

/* Whether two files hold the same bytes. */
static bool same_bytes(const char *a, const char *b)
{
    return lf_sh("cmp -s '%s' '%s'", a, b) == 0;
}

/* What a shell command printed (caller frees). */
static char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sh_out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    AUTOFREE char *cmd = hcs_vasprintf(fmt, ap);
    va_end(ap);
    ck_assert_ptr_nonnull(cmd);
    AUTOFREE char *out = lf_fmt("%s/.sh_out", lf.dir);
    int st = lf_sh("( %s ) > '%s'", cmd, out);
    ck_assert_msg(st == 0, "`%s` exited with %d", cmd, st);
    char *text = lf_read(out);
    ck_assert_msg(text != NULL, "no output from `%s`", cmd);
    unlink(out);
    return text;
}

static hcs_reg_system *open_system(const char *const *layers, size_t n)
{
    hcs_reg_system *s = NULL;
    LF_OK(hcs_reg_system_open(layers, n, NULL, &s, &e_));
    return s;
}

/* The value (key, name) of hive h as "<type>:<text>" (DWORD as a number); NULL when missing. */
static char *value_of(const hcs_reg_system *s, enum hcs_reg_hive h, const char *key,
                      const char *name)
{
    hcs_reg_value v;
    int r = hcs_reg_view_get(hcs_reg_system_view(s), h, key, name, &v);
    ck_assert_int_ge(r, 0);
    if (r == 0)
        return NULL;
    if (v.type == HCS_REG_DWORD && v.len == 4)
        return lf_fmt("dword:%u", (unsigned)v.data[0] | (unsigned)v.data[1] << 8 |
                                      (unsigned)v.data[2] << 16 | (unsigned)v.data[3] << 24);
    return lf_fmt("%u:%.*s", v.type, (int)v.len, (const char *)v.data);
}

#define ck_assert_value(s, h, key, name, want)                                                     \
    do {                                                                                           \
        AUTOFREE char *got_ = value_of(s, h, key, name);                                           \
        ck_assert_msg(got_ != NULL, "%s\\%s is missing", key, name);                               \
        ck_assert_str_eq(got_, want);                                                              \
    } while (0)

/* No folder left by a failed import next to the layer path, and no layer. */
static void assert_nothing_left(const char *layer)
{
    ck_assert(!lf_exists(layer));
    AUTOFREE char *left = sh_out("ls -A '%s' | grep -c '^\\.hcs-import' || true", lf.dir);
    ck_assert_str_eq(left, "0\n");
}

static const lf_entry files[] = {
    {.path = "A", .data = "a\n"},
    {.path = "Z", .data = "z\n"},
    {.path = "etc/", .type = 'd', .mtime = 1600000000},
    {.path = "etc/hostname", .data = "box\n"},
    {.path = "Hives/", .type = 'd', .mtime = 1600000001},
    {.path = "Hives/notes.txt", .data = "kept as it is\n"},
    {0},
};

/* --- tests ------------------------------------------------------------------------------------ */

START_TEST(hives__hive_file_entry_is_imported_and_exported_again)
{
    const hcs_reg_change c[] = {SET_SZ(SYS, CTL, "Owner", "layer-1")};
    size_t len;
    AUTOFREE uint8_t *bytes = hive_bytes(SYS, c, 1, &len);
    AUTOFREE char *a = lf_fmt("%s/a.tar", lf.dir), *l1 = lf_fmt("%s/L1", lf.dir);
    tar_with_hive(a, files, "System_Delta", bytes, len);
    char diff[HCS_LAYER_DIGEST_LEN];
    LF_OK(hcs_layer_import(l1, a, NULL, diff, &e_));

    /* The diff id is that of the archive as given. */
    AUTOFREE char *sum = sh_out("printf 'sha256:%%s\\n' $(sha256sum < '%s' | cut -d' ' -f1)", a);
    AUTOFREE char *want = lf_fmt("%s\n", diff);
    ck_assert_str_eq(sum, want);
    /* The hive file as it was, other files of Hives/ kept, the rest under Files/. */
    AUTOFREE char *hive = lf_fmt("%s/Hives/System_Delta", l1), *src = lf_fmt("%s/src", lf.dir);
    AUTOCLOSE int fd = open(src, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
    ck_assert(same_bytes(hive, src));
    AUTOFREE char *notes = lf_fmt("%s/Hives/notes.txt", l1),
                  *host = lf_fmt("%s/Files/etc/hostname", l1),
                  *stray = lf_fmt("%s/Files/Hives", l1);
    ck_assert(lf_exists(notes));
    ck_assert(lf_exists(host));
    ck_assert(!lf_exists(stray));

    /* A system over the layer sees the value. */
    const char *layers[] = {l1};
    hcs_reg_system *s = open_system(layers, 1);
    ck_assert_value(s, SYS, CTL, "Owner", "1:layer-1");
    hcs_reg_system_close(s);

    /* The export holds Hives/ among the root entries, in byte order, and round-trips. */
    AUTOFREE char *t1 = lf_fmt("%s/t1.tar", lf.dir), *t2 = lf_fmt("%s/t2.tar", lf.dir),
                  *l2 = lf_fmt("%s/L2", lf.dir);
    LF_OK(hcs_layer_export(l1, t1, NULL, NULL, &e_));
    AUTOFREE char *names = sh_out("tar -tf '%s'", t1);
    ck_assert_str_eq(names,
                     "A\nHives/\nHives/System_Delta\nHives/notes.txt\nZ\netc/\netc/hostname\n");
    LF_OK(hcs_layer_import(l2, t1, NULL, NULL, &e_));
    LF_OK(hcs_layer_export(l2, t2, NULL, NULL, &e_));
    ck_assert_msg(same_bytes(t1, t2), "the export of the re-imported layer differs");
}
END_TEST

START_TEST(hives__corrupt_hive_file_entry_is_refused_naming_it)
{
    const hcs_reg_change c[] = {SET_SZ(SYS, CTL, "Owner", "layer-1")};
    size_t len;
    AUTOFREE uint8_t *bytes = hive_bytes(SYS, c, 1, &len);
    AUTOFREE char *a = lf_fmt("%s/a.tar", lf.dir), *l = lf_fmt("%s/L", lf.dir);

    /* A flipped byte in the body: the header opens, the check of the whole file fails. */
    bytes[len - 1] ^= 0x5a;
    tar_with_hive(a, files, "System_Delta", bytes, len);
    AUTOFREE char *m1 = LF_FAILS(hcs_layer_import(l, a, NULL, NULL, &e_), HCS_E_INVALID_LAYER);
    ck_assert_contains(m1, "Hives/System_Delta: ");
    assert_nothing_left(l);

    /* Not a hive file at all (any case of the name is a hive file's name). */
    static const char junk[] = "not a hive";
    tar_with_hive(a, files, "SOFTWARE_DELTA", junk, sizeof(junk) - 1);
    AUTOFREE char *m2 = LF_FAILS(hcs_layer_import(l, a, NULL, NULL, &e_), HCS_E_INVALID_LAYER);
    ck_assert_contains(m2, "Hives/SOFTWARE_DELTA: ");
    assert_nothing_left(l);

    /* A valid hive file of another hive than its name says. */
    bytes[len - 1] ^= 0x5a;
    tar_with_hive(a, files, "Software_Delta", bytes, len);
    AUTOFREE char *m3 = LF_FAILS(hcs_layer_import(l, a, NULL, NULL, &e_), HCS_E_INVALID_LAYER);
    ck_assert_contains(m3, "Hives/Software_Delta: holds the System hive");
    assert_nothing_left(l);
}
END_TEST

static const char reg_text[] = "Windows Registry Editor Version 5.00\r\n"
                               "\r\n"
                               "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso\\App]\r\n"
                               "\"Name\"=\"demo\"\r\n"
                               "\"Count\"=dword:0000002a\r\n"
                               "\r\n"
                               "[HKLM\\SYSTEM\\ControlSet001\\Services\\Demo]\r\n"
                               "\"Start\"=dword:00000002\r\n";

START_TEST(hives__reg_file_entry_becomes_hive_files)
{
    const lf_entry entries[] = {
        {.path = "etc/hostname", .data = "box\n"},
        {.path = "Hives/Software.reg", .data = reg_text},
        {0},
    };
    AUTOFREE char *a = lf_fmt("%s/a.tar", lf.dir), *l = lf_fmt("%s/L", lf.dir);
    lf_tar(a, "none", entries);
    LF_OK(hcs_layer_import(l, a, NULL, NULL, &e_));
    AUTOFREE char *listing = sh_out("ls '%s/Hives'", l);
    ck_assert_str_eq(listing, "Software_Delta\nSystem_Delta\n");

    const char *layers[] = {l};
    hcs_reg_system *s = open_system(layers, 1);
    ck_assert_value(s, SW, "Contoso\\App", "Name", "1:demo");
    ck_assert_value(s, SW, "contoso\\app", "Count", "dword:42");
    ck_assert_value(s, SYS, "ControlSet001\\Services\\Demo", "Start", "dword:2");
    hcs_reg_system_close(s);
}
END_TEST

START_TEST(hives__bad_reg_file_entries_are_refused_naming_them)
{
    AUTOFREE char *a = lf_fmt("%s/a.tar", lf.dir), *l = lf_fmt("%s/L", lf.dir);
    /* A syntax error: the entry and the line. */
    const lf_entry bad[] = {
        {.path = "Hives/system.reg",
         .data = "Windows Registry Editor Version 5.00\n\n[HKLM\\SYSTEM\\K]\n\"v\"=oops\n"},
        {0},
    };
    lf_tar(a, "none", bad);
    AUTOFREE char *m1 = LF_FAILS(hcs_layer_import(l, a, NULL, NULL, &e_), HCS_E_INVALID_LAYER);
    ck_assert_contains(m1, "Hives/system.reg:4");
    assert_nothing_left(l);

    /* A .reg file and a hive file for the same hive. */
    const hcs_reg_change c[] = {SET_SZ(SYS, CTL, "Owner", "x")};
    size_t len;
    AUTOFREE uint8_t *bytes = hive_bytes(SYS, c, 1, &len);
    const lf_entry reg[] = {{.path = "Hives/Software.reg", .data = reg_text}, {0}};
    tar_with_hive(a, reg, "System_Delta", bytes, len);
    AUTOFREE char *m2 = LF_FAILS(hcs_layer_import(l, a, NULL, NULL, &e_), HCS_E_INVALID_LAYER);
    ck_assert_contains(m2, "Hives/Software.reg and Hives/System_Delta");
    assert_nothing_left(l);
}
END_TEST

START_TEST(hives__writable_layer_delta_exports_as_hive_files_that_import_back)
{
    /* A base layer with Software values to keep and to delete, and a key to delete. */
    const lf_entry base[] = {
        {.path = "etc/hostname", .data = "base\n"},
        {.path = "Hives/Software.reg",
         .data = "Windows Registry Editor Version 5.00\n\n[HKLM\\SOFTWARE\\Contoso]\n"
                 "\"Keep\"=\"base\"\n\"Gone\"=\"base\"\n\n"
                 "[HKLM\\SOFTWARE\\Contoso\\Old]\n\"v\"=\"old\"\n"},
        {0},
    };
    AUTOFREE char *a = lf_fmt("%s/base.tar", lf.dir), *l0 = lf_fmt("%s/base", lf.dir),
                  *w = lf_fmt("%s/w", lf.dir), *delta = lf_fmt("%s/w/Hives", lf.dir);
    lf_tar(a, "none", base);
    LF_OK(hcs_layer_import(l0, a, NULL, NULL, &e_));
    const char *parents[] = {l0};
    LF_OK(hcs_layer_init_writable(w, parents, 1, &e_));
    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));
    AUTOFREE char *changed = lf_fmt("%s/rootfs/etc/hostname", w);
    lf_write(changed, "changed\n", 0644);
    LF_OK(hcs_layer_detach(w, &e_));

    /* The system's changes, in the writable layer's delta log. */
    hcs_reg_system *s = NULL;
    LF_OK(hcs_reg_system_open(parents, 1, delta, &s, &e_));
    const hcs_reg_change c[] = {
        SET_SZ(SYS, CTL, "X", "from-w"),
        SET_SZ(SW, "Contoso", "New", "from-w"),
        {.op = HCS_REG_DELETE_VALUE, .hive = SW, .key = "Contoso", .name = "Gone"},
        {.op = HCS_REG_DELETE_KEY, .hive = SW, .key = "Contoso\\Old"},
    };
    LF_OK(hcs_reg_delta_apply(hcs_reg_system_delta(s), c, HCS_ARRAY_SIZE(c), &e_));
    hcs_reg_system_close(s);

    AUTOFREE char *t = lf_fmt("%s/w.tar", lf.dir);
    LF_OK(hcs_layer_export(w, t, NULL, NULL, &e_));
    AUTOFREE char *names = sh_out("tar -tf '%s'", t);
    ck_assert_str_eq(names, "Hives/\nHives/Software_Delta\nHives/System_Delta\netc/\n"
                            "etc/hostname\n");
    /* The temporary folder of hive files is gone; the log is untouched. */
    AUTOFREE char *left = sh_out("ls -A '%s'", w);
    ck_assert_msg(strstr(left, ".export") == NULL, "%s holds %s", w, left);
    AUTOFREE char *wl = sh_out("ls -A '%s'", delta);
    ck_assert_str_eq(wl, "delta.log\n");

    /* Imported, the export is a layer whose hive files hold the changes. */
    AUTOFREE char *l1 = lf_fmt("%s/l1", lf.dir);
    LF_OK(hcs_layer_import(l1, t, NULL, NULL, &e_));
    const char *alone[] = {l1};
    s = open_system(alone, 1);
    ck_assert_value(s, SYS, CTL, "X", "1:from-w");
    ck_assert_value(s, SW, "Contoso", "New", "1:from-w");
    ck_assert_ptr_null(value_of(s, SW, "Contoso", "Keep"));
    hcs_reg_system_close(s);

    /* A third system over it and the base sees the union. */
    const char *chain[] = {l1, l0};
    s = open_system(chain, 2);
    ck_assert_value(s, SYS, CTL, "X", "1:from-w");
    ck_assert_value(s, SW, "Contoso", "Keep", "1:base");
    ck_assert_value(s, SW, "Contoso", "New", "1:from-w");
    ck_assert_ptr_null(value_of(s, SW, "Contoso", "Gone"));
    ck_assert(hcs_reg_view_key_exists(hcs_reg_system_view(s), SW, "Contoso"));
    ck_assert(!hcs_reg_view_key_exists(hcs_reg_system_view(s), SW, "Contoso\\Old"));
    hcs_reg_system_close(s);
}
END_TEST

/* A delta whose only record is a value deletion still exports it (nothing else names the key). */
START_TEST(hives__a_lone_value_deletion_survives_export_and_import)
{
    const lf_entry base[] = {
        {.path = "Hives/Software.reg",
         .data = "Windows Registry Editor Version 5.00\n\n[HKLM\\SOFTWARE\\Contoso]\n"
                 "\"Keep\"=\"base\"\n\"Gone\"=\"base\"\n"},
        {0},
    };
    AUTOFREE char *a = lf_fmt("%s/base.tar", lf.dir), *l0 = lf_fmt("%s/base", lf.dir),
                  *w = lf_fmt("%s/w", lf.dir), *delta = lf_fmt("%s/w/Hives", lf.dir);
    lf_tar(a, "none", base);
    LF_OK(hcs_layer_import(l0, a, NULL, NULL, &e_));
    const char *parents[] = {l0};
    LF_OK(hcs_layer_init_writable(w, parents, 1, &e_));
    hcs_reg_system *s = NULL;
    LF_OK(hcs_reg_system_open(parents, 1, delta, &s, &e_));
    const hcs_reg_change c[] = {
        {.op = HCS_REG_DELETE_VALUE, .hive = SW, .key = "Contoso", .name = "Gone"},
    };
    LF_OK(hcs_reg_delta_apply(hcs_reg_system_delta(s), c, HCS_ARRAY_SIZE(c), &e_));
    hcs_reg_system_close(s);

    AUTOFREE char *t = lf_fmt("%s/w.tar", lf.dir);
    LF_OK(hcs_layer_export(w, t, NULL, NULL, &e_));
    AUTOFREE char *names = sh_out("tar -tf '%s'", t);
    ck_assert_str_eq(names, "Hives/\nHives/Software_Delta\n");
    AUTOFREE char *l1 = lf_fmt("%s/l1", lf.dir);
    LF_OK(hcs_layer_import(l1, t, NULL, NULL, &e_));
    const char *chain[] = {l1, l0};
    s = open_system(chain, 2);
    ck_assert_value(s, SW, "Contoso", "Keep", "1:base");
    ck_assert_ptr_null(value_of(s, SW, "Contoso", "Gone"));
    hcs_reg_system_close(s);
}
END_TEST

START_TEST(hives__writable_layer_without_registry_changes_exports_no_hives)
{
    const lf_entry base[] = {{.path = "f", .data = "f\n"}, {0}};
    AUTOFREE char *a = lf_fmt("%s/base.tar", lf.dir), *l0 = lf_fmt("%s/base", lf.dir),
                  *w = lf_fmt("%s/w", lf.dir), *delta = lf_fmt("%s/w/Hives", lf.dir);
    lf_tar(a, "none", base);
    LF_OK(hcs_layer_import(l0, a, NULL, NULL, &e_));
    const char *parents[] = {l0};
    LF_OK(hcs_layer_init_writable(w, parents, 1, &e_));
    LF_OK(hcs_layer_attach(w, NULL, 0, &e_));
    AUTOFREE char *g = lf_fmt("%s/rootfs/g", w);
    lf_write(g, "g\n", 0644);
    LF_OK(hcs_layer_detach(w, &e_));
    /* An empty log: the system changed nothing. */
    hcs_reg_system *s = NULL;
    LF_OK(hcs_reg_system_open(parents, 1, delta, &s, &e_));
    hcs_reg_system_close(s);
    AUTOFREE char *t = lf_fmt("%s/w.tar", lf.dir);
    LF_OK(hcs_layer_export(w, t, NULL, NULL, &e_));
    AUTOFREE char *names = sh_out("tar -tf '%s'", t);
    ck_assert_str_eq(names, "g\n");
}
END_TEST

HCS_TEST_SUITE(hives_suite)
{
    Suite *s = suite_create("layer_hives");
    TCase *tc = tcase_create("hives");
    tcase_add_checked_fixture(tc, lf_setup, lf_teardown);
    tcase_set_timeout(tc, 120);
    HCS_ADD_ROOT_TEST(tc, hives__hive_file_entry_is_imported_and_exported_again);
    HCS_ADD_ROOT_TEST(tc, hives__corrupt_hive_file_entry_is_refused_naming_it);
    HCS_ADD_ROOT_TEST(tc, hives__reg_file_entry_becomes_hive_files);
    HCS_ADD_ROOT_TEST(tc, hives__bad_reg_file_entries_are_refused_naming_them);
    HCS_ADD_ROOT_TEST(tc, hives__writable_layer_delta_exports_as_hive_files_that_import_back);
    HCS_ADD_ROOT_TEST(tc, hives__a_lone_value_deletion_survives_export_and_import);
    HCS_ADD_ROOT_TEST(tc, hives__writable_layer_without_registry_changes_exports_no_hives);
    suite_add_tcase(s, tc);
    return s;
}
