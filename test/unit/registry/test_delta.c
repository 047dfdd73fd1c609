/* test_delta.c - the registry delta: its log on disk, replay, torn and corrupt records. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "common/util.h"
#include "hcs_test.h"
#include "registry/registry.h"

#define SYS HCS_REG_HIVE_SYSTEM
#define LOG "delta.log"

static int dirfd_of_root(void)
{
    int fd = open(hcs_test_root(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    return fd;
}

static hcs_reg_delta *open_log(void)
{
    AUTOCLOSE int dfd = dirfd_of_root();
    hcs_reg_delta *d = NULL;
    hcs_error *err = NULL;
    int r = hcs_reg_delta_open(dfd, LOG, &d, &err);
    ck_assert_msg(r == 0, "open: %s", err ? err->message : "?");
    return d;
}

static char *log_path(void)
{
    char *p = hcs_asprintf("%s/%s", hcs_test_root(), LOG);
    ck_assert_ptr_nonnull(p);
    return p;
}

static off_t log_size(void)
{
    AUTOFREE char *p = log_path();
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    return st.st_size;
}

/* The whole log file (caller frees). */
static uint8_t *log_read(size_t *len)
{
    AUTOFREE char *p = log_path();
    FILE *f = fopen(p, "rbe");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void log_write(const uint8_t *data, size_t len)
{
    AUTOFREE char *p = log_path();
    FILE *f = fopen(p, "wbe");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void apply_ok(hcs_reg_delta *d, const hcs_reg_change *c, size_t n)
{
    hcs_error *err = NULL;
    int r = hcs_reg_delta_apply(d, c, n, &err);
    ck_assert_msg(r == 0, "apply: %s", err ? err->message : "?");
}

#define SZ(k, n, text)                                                                             \
    {                                                                                              \
        .op = HCS_REG_SET_VALUE, .hive = SYS, .key = (k), .name = (n), .type = HCS_REG_SZ,         \
        .data = (const uint8_t *)(text), .len = sizeof(text) - 1                                   \
    }

/* Three batches, then a fourth applied after a crash in the tests below. */
static const hcs_reg_change batch1[] = {
    SZ("Setup", "CmdLine", "setup.exe"),
    SZ("ControlSet001\\Services\\Tcpip", "Start", "auto"),
    {.op = HCS_REG_CREATE_KEY, .hive = HCS_REG_HIVE_SOFTWARE, .key = "Microsoft\\Windows"},
    {.op = HCS_REG_SET_VALUE,
     .hive = HCS_REG_HIVE_SAM,
     .key = "Domains",
     .name = "",
     .type = HCS_REG_DWORD,
     .data = (const uint8_t *)"\x2a\0\0\0",
     .len = 4},
};
static const hcs_reg_change batch2[] = {
    {.op = HCS_REG_DELETE_KEY, .hive = SYS, .key = "ControlSet001\\Services"},
    SZ("ControlSet001\\Services\\Dhcp", "Start", "manual"),
    {.op = HCS_REG_DELETE_VALUE, .hive = SYS, .key = "Setup", .name = "Upgrade"},
    {.op = HCS_REG_SET_VALUE,
     .hive = SYS,
     .key = "Bin",
     .name = "Blob",
     .type = 0x1234,
     .data = (const uint8_t *)"\0\1\2\3\0",
     .len = 5},
};
static const hcs_reg_change batch3[] = {
    SZ("setup", "cmdline", "setup2.exe"),
    {.op = HCS_REG_DELETE_KEY, .hive = HCS_REG_HIVE_SOFTWARE, .key = "Microsoft"},
};
static const hcs_reg_change batch4[] = {
    SZ("After", "Crash", "yes"),
};

struct dump {
    char *text;
    size_t len;
    const hcs_reg_level *l;
    enum hcs_reg_hive h;
    const char *key;
};

static void dump_add(struct dump *d, const char *s)
{
    size_t n = strlen(s);
    char *t = realloc(d->text, d->len + n + 1);
    ck_assert_ptr_nonnull(t);
    memcpy(t + d->len, s, n + 1);
    d->text = t;
    d->len += n;
}

static int dump_value(void *ctx, const hcs_reg_value *v)
{
    struct dump *d = ctx;
    AUTOFREE char *line = hcs_asprintf("  %s%s type %u len %zu:", v->deleted ? "-" : "",
                                       v->name[0] ? v->name : "@", v->type, v->len);
    dump_add(d, line);
    for (size_t i = 0; i < v->len; i++) {
        char hex[4];
        snprintf(hex, sizeof(hex), " %02x", v->data[i]);
        dump_add(d, hex);
    }
    dump_add(d, "\n");
    return 0;
}

static void dump_key(struct dump *d, const char *key, unsigned bits);

static int dump_child(void *ctx, const char *name, unsigned bits)
{
    struct dump *d = ctx;
    AUTOFREE char *child = d->key[0] ? hcs_asprintf("%s\\%s", d->key, name) : strdup(name);
    ck_assert_ptr_nonnull(child);
    const char *saved = d->key;
    dump_key(d, child, bits);
    d->key = saved;
    return 0;
}

static void dump_key(struct dump *d, const char *key, unsigned bits)
{
    AUTOFREE char *line = hcs_asprintf("%s [%u]\n", key, bits);
    dump_add(d, line);
    d->key = key;
    ck_assert_int_eq(d->l->ops->values(d->l->self, d->h, key, dump_value, d), 0);
    ck_assert_int_eq(d->l->ops->subkeys(d->l->self, d->h, key, dump_child, d), 0);
}

static int count_child(void *ctx, const char *name, unsigned bits)
{
    (void)name;
    (void)bits;
    (*(int *)ctx)++;
    return 0;
}

/* Every record of every hive of a delta (tombstones included), as text. */
static char *dump(const hcs_reg_delta *delta)
{
    hcs_reg_level l = hcs_reg_delta_level(delta);
    struct dump d = {.l = &l};
    dump_add(&d, "");
    for (int h = 0; h < HCS_REG_N_HIVES; h++) {
        d.h = (enum hcs_reg_hive)h;
        AUTOFREE char *head = hcs_asprintf("hive %d\n", h);
        dump_add(&d, head);
        dump_key(&d, "", l.ops->key(l.self, d.h, "", NULL));
    }
    return d.text;
}

/* The dump of a memory delta given batches 1..n (and batch 4 when with4). */
static char *expected(int n, bool with4)
{
    hcs_reg_delta *m = NULL;
    ck_assert_int_eq(hcs_reg_delta_new_memory(&m, NULL), 0);
    if (n >= 1)
        apply_ok(m, batch1, HCS_ARRAY_SIZE(batch1));
    if (n >= 2)
        apply_ok(m, batch2, HCS_ARRAY_SIZE(batch2));
    if (n >= 3)
        apply_ok(m, batch3, HCS_ARRAY_SIZE(batch3));
    if (with4)
        apply_ok(m, batch4, HCS_ARRAY_SIZE(batch4));
    char *s = dump(m);
    hcs_reg_delta_close(m);
    return s;
}

/* Write batches 1..3 to a new log; sizes[i]: the file size after i batches. */
static void three_batches(off_t sizes[4])
{
    hcs_reg_delta *d = open_log();
    sizes[0] = log_size();
    apply_ok(d, batch1, HCS_ARRAY_SIZE(batch1));
    sizes[1] = log_size();
    apply_ok(d, batch2, HCS_ARRAY_SIZE(batch2));
    sizes[2] = log_size();
    apply_ok(d, batch3, HCS_ARRAY_SIZE(batch3));
    sizes[3] = log_size();
    hcs_reg_delta_close(d);
    ck_assert(sizes[0] < sizes[1] && sizes[1] < sizes[2] && sizes[2] < sizes[3]);
}

/* Reopen the log: its content must be batches 1..n; then batch 4 must land after them. */
static void ck_reopens_as(int n, off_t size)
{
    hcs_reg_delta *d = open_log();
    AUTOFREE char *got = dump(d);
    AUTOFREE char *want = expected(n, false);
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(log_size(), size); /* the bad tail is cut off */
    apply_ok(d, batch4, HCS_ARRAY_SIZE(batch4));
    hcs_reg_delta_close(d);
    d = open_log();
    AUTOFREE char *got4 = dump(d);
    AUTOFREE char *want4 = expected(n, true);
    ck_assert_str_eq(got4, want4);
    hcs_reg_delta_close(d);
}

START_TEST(delta__reopen_replays_what_was_applied)
{
    off_t sizes[4];
    three_batches(sizes);
    hcs_reg_delta *d = open_log();
    AUTOFREE char *got = dump(d);
    AUTOFREE char *want = expected(3, false);
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(log_size(), sizes[3]);
    /* What the batches made, seen through a view. */
    hcs_reg_level l = hcs_reg_delta_level(d);
    hcs_reg_view *v = NULL;
    ck_assert_int_eq(hcs_reg_view_new(&l, 1, &v, NULL), 0);
    hcs_reg_value val;
    ck_assert_int_eq(hcs_reg_view_get(v, SYS, "SETUP", "CmdLine", &val), 1);
    ck_assert_uint_eq(val.len, 10);
    ck_assert_int_eq(memcmp(val.data, "setup2.exe", 10), 0);
    ck_assert_int_eq(hcs_reg_view_get(v, SYS, "ControlSet001\\Services\\Tcpip", "Start", &val), 0);
    ck_assert_int_eq(hcs_reg_view_get(v, SYS, "ControlSet001\\Services\\Dhcp", "Start", &val), 1);
    ck_assert_int_eq(hcs_reg_view_get(v, SYS, "Bin", "Blob", &val), 1);
    ck_assert_uint_eq(val.type, 0x1234);
    ck_assert_int_eq(memcmp(val.data, "\0\1\2\3\0", 5), 0);
    ck_assert_int_eq(hcs_reg_view_get(v, HCS_REG_HIVE_SAM, "Domains", "", &val), 1);
    ck_assert(!hcs_reg_view_key_exists(v, HCS_REG_HIVE_SOFTWARE, "Microsoft\\Windows"));
    ck_assert_uint_eq(l.ops->key(l.self, SYS, "ControlSet001\\Services", NULL),
                      HCS_REG_KEY_PRESENT | HCS_REG_KEY_OPAQUE);
    ck_assert_uint_eq(l.ops->key(l.self, HCS_REG_HIVE_SOFTWARE, "microsoft", NULL),
                      HCS_REG_KEY_OPAQUE);
    hcs_reg_view_free(v);
    hcs_reg_delta_close(d);
}
END_TEST

START_TEST(delta__new_log_is_created_and_empty)
{
    hcs_reg_delta *d = open_log();
    AUTOFREE char *got = dump(d);
    AUTOFREE char *want = expected(0, false);
    ck_assert_str_eq(got, want);
    ck_assert_int_gt(log_size(), 0);
    ck_assert_int_eq(hcs_reg_delta_apply(d, NULL, 0, NULL), 0);
    hcs_reg_delta_close(d);
    AUTOFREE char *p = log_path();
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(delta__batch_with_a_bad_change_is_refused_whole_and_nothing_written)
{
    hcs_reg_delta *d = open_log();
    apply_ok(d, batch1, HCS_ARRAY_SIZE(batch1));
    off_t size = log_size();
    AUTOFREE char *before = dump(d);
    const hcs_reg_change bad_dword[] = {
        SZ("Fine", "v", "1"),
        {.op = HCS_REG_SET_VALUE,
         .hive = SYS,
         .key = "Bad\\Dword",
         .name = "n",
         .type = HCS_REG_DWORD,
         .data = (const uint8_t *)"abc",
         .len = 3},
    };
    const hcs_reg_change bad_key[] = {SZ("Fine", "v", "1"), SZ("Fine", "w", "2"),
                                      SZ("Double\\\\Sep", "v", "1")};
    const hcs_reg_change root_delete[] = {{.op = HCS_REG_DELETE_KEY, .hive = SYS, .key = ""}};
    const hcs_reg_change bad_hive[] = {
        {.op = HCS_REG_CREATE_KEY, .hive = HCS_REG_N_HIVES, .key = "K"}};
    struct {
        const hcs_reg_change *c;
        size_t n;
        const char *says[2];
    } cases[] = {
        {bad_dword, 2, {"change 1", "Bad\\Dword"}},
        {bad_key, 3, {"change 2", "Double\\\\Sep"}},
        {root_delete, 1, {"change 0", "root"}},
        {bad_hive, 1, {"change 0", "hive"}},
    };
    for (size_t i = 0; i < HCS_ARRAY_SIZE(cases); i++) {
        AUTOERR hcs_error *err = NULL;
        ck_assert_int_eq(hcs_reg_delta_apply(d, cases[i].c, cases[i].n, &err), -1);
        ck_assert_ptr_nonnull(err);
        ck_assert_hr(err->hr, E_INVALIDARG);
        ck_assert_contains(err->message, cases[i].says[0]);
        ck_assert_contains(err->message, cases[i].says[1]);
        ck_assert_int_eq(log_size(), size);
        AUTOFREE char *after = dump(d);
        ck_assert_str_eq(after, before);
    }
    hcs_reg_delta_close(d);
    d = open_log();
    AUTOFREE char *reopened = dump(d);
    ck_assert_str_eq(reopened, before);
    hcs_reg_delta_close(d);
}
END_TEST

START_TEST(delta__last_record_cut_at_every_offset_is_dropped_and_appends_follow)
{
    off_t sizes[4];
    three_batches(sizes);
    size_t len = 0;
    AUTOFREE uint8_t *full = log_read(&len);
    ck_assert_uint_eq(len, (size_t)sizes[3]);
    hcs_ctx_set_log_level(HCS_LOG_ERROR); /* a warning per reopen */
    for (off_t cut = sizes[2]; cut < sizes[3]; cut++) {
        log_write(full, (size_t)cut);
        ck_reopens_as(2, sizes[2]);
    }
    /* Cut inside the file header: an empty log again. */
    for (off_t cut = 1; cut < sizes[0]; cut++) {
        log_write(full, (size_t)cut);
        ck_reopens_as(0, sizes[0]);
    }
}
END_TEST

START_TEST(delta__flipped_byte_in_the_last_record_drops_it)
{
    off_t sizes[4];
    three_batches(sizes);
    size_t len = 0;
    AUTOFREE uint8_t *full = log_read(&len);
    hcs_ctx_set_log_level(HCS_LOG_ERROR); /* a warning per reopen */
    for (off_t at = sizes[2]; at < sizes[3]; at++) {
        full[at] ^= 0x40;
        log_write(full, len);
        full[at] ^= 0x40;
        ck_reopens_as(2, sizes[2]);
    }
}
END_TEST

START_TEST(delta__flipped_byte_in_an_earlier_record_drops_it_and_everything_after)
{
    off_t sizes[4];
    three_batches(sizes);
    size_t len = 0;
    AUTOFREE uint8_t *full = log_read(&len);
    off_t at = sizes[1] + (sizes[2] - sizes[1]) / 2; /* inside the second record's payload */
    full[at] ^= 0x01;
    log_write(full, len);
    /* The first open says what it dropped. */
    AUTOFREE char *out = hcs_asprintf("%s/stderr", hcs_test_root());
    fflush(stderr);
    int saved = dup(2);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ck_assert_int_ge(fd, 0);
    dup2(fd, 2);
    close(fd);
    hcs_reg_delta_close(open_log());
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    AUTOFREE char *said = NULL;
    size_t said_len = 0;
    ck_assert_int_eq(hcs_read_file_at(AT_FDCWD, out, 4096, &said, &said_len, NULL), 0);
    AUTOFREE char *want = hcs_asprintf("dropped %lld bytes", (long long)(sizes[3] - sizes[1]));
    ck_assert_contains(said, want);
    ck_assert_contains(said, LOG);
    ck_reopens_as(1, sizes[1]);
}
END_TEST

START_TEST(delta__file_that_is_not_a_log_is_refused)
{
    static const char text[] = "Windows Registry Editor Version 5.00\r\n";
    log_write((const uint8_t *)text, sizeof(text) - 1);
    AUTOCLOSE int dfd = dirfd_of_root();
    hcs_reg_delta *d = (hcs_reg_delta *)&d;
    AUTOERR hcs_error *err = NULL;
    ck_assert_int_eq(hcs_reg_delta_open(dfd, LOG, &d, &err), -1);
    ck_assert_ptr_null(d);
    ck_assert_hr(err->hr, HCS_E_INVALID_LAYER);
    ck_assert_contains(err->message, LOG);
    ck_assert_contains(err->message, "not a registry delta log");
    ck_assert_int_eq(log_size(), (off_t)sizeof(text) - 1); /* left as it was */

    /* A log of a newer format is refused too, not cut. */
    off_t sizes[4];
    AUTOFREE char *path = log_path();
    ck_assert_int_eq(unlink(path), 0);
    three_batches(sizes);
    size_t len = 0;
    AUTOFREE uint8_t *full = log_read(&len);
    full[8] = 99;
    log_write(full, len);
    AUTOERR hcs_error *err2 = NULL;
    ck_assert_int_eq(hcs_reg_delta_open(dfd, LOG, &d, &err2), -1);
    ck_assert_hr(err2->hr, HCS_E_INVALID_LAYER);
    ck_assert_contains(err2->message, "version 99");
    ck_assert_int_eq(log_size(), sizes[3]);
}
END_TEST

START_TEST(delta__100k_changes_apply_and_reopen)
{
    enum { N = 100000 };
    hcs_reg_change *c = calloc(N, sizeof(*c));
    char(*keys)[32] = calloc(N, sizeof(*keys));
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(keys);
    for (int i = 0; i < N; i++) {
        /* scattered over the key order */
        unsigned k = (unsigned)((uint64_t)i * 35761u % N);
        snprintf(keys[i], sizeof(keys[i]), "K%u\\Sub%u", k % 1000, k);
        c[i] = (hcs_reg_change){.op = HCS_REG_SET_VALUE,
                                .hive = SYS,
                                .key = keys[i],
                                .name = "Value",
                                .type = HCS_REG_DWORD,
                                .data = (const uint8_t *)&c[i].type,
                                .len = 4};
    }
    hcs_reg_delta *d = open_log();
    unsigned long long t0 = hcs_now_ms();
    apply_ok(d, c, N);
    unsigned long long t1 = hcs_now_ms();
    hcs_reg_delta_close(d);
    d = open_log();
    unsigned long long t2 = hcs_now_ms();
    fprintf(stderr, "# registry delta: %d changes applied in %llu ms, replayed in %llu ms\n", N,
            t1 - t0, t2 - t1);
    hcs_reg_level l = hcs_reg_delta_level(d);
    hcs_reg_value v;
    ck_assert_int_eq(l.ops->value(l.self, SYS, "k7\\sub7007", "value", &v), 1);
    ck_assert_uint_eq(v.type, HCS_REG_DWORD);
    ck_assert_int_eq(l.ops->value(l.self, SYS, "K7\\Sub7008", "Value", &v), 0);
    int children = 0;
    ck_assert_int_eq(l.ops->subkeys(l.self, SYS, "K7", count_child, &children), 0);
    ck_assert_int_eq(children, N / 1000);
    hcs_reg_delta_close(d);
    free(keys);
    free(c);
}
END_TEST

HCS_TEST_SUITE(registry_delta_suite)
{
    Suite *s = suite_create("registry_delta");
    TCase *tc = tcase_create("delta");
    tcase_add_checked_fixture(tc, hcs_test_roots_setup, hcs_test_roots_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, delta__reopen_replays_what_was_applied);
    tcase_add_test(tc, delta__new_log_is_created_and_empty);
    tcase_add_test(tc, delta__batch_with_a_bad_change_is_refused_whole_and_nothing_written);
    tcase_add_test(tc, delta__last_record_cut_at_every_offset_is_dropped_and_appends_follow);
    tcase_add_test(tc, delta__flipped_byte_in_the_last_record_drops_it);
    tcase_add_test(tc, delta__flipped_byte_in_an_earlier_record_drops_it_and_everything_after);
    tcase_add_test(tc, delta__file_that_is_not_a_log_is_refused);
    tcase_add_test(tc, delta__100k_changes_apply_and_reopen);
    suite_add_tcase(s, tc);
    return s;
}
