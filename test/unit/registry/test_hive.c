/* test_hive.c - hive files: write, open, look up, enumerate, and refuse corrupt files. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcs_test.h"
#include "registry/registry.h"

static int root_fd = -1;

static void setup(void)
{
    hcs_test_roots_setup();
    root_fd = open(hcs_test_root(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(root_fd, 0);
}

static void teardown(void)
{
    close(root_fd);
    root_fd = -1;
    hcs_test_roots_teardown();
}

#define SET(k, n, t, d, l)                                                                         \
    {                                                                                              \
        .op = HCS_REG_SET_VALUE, .hive = HCS_REG_HIVE_SOFTWARE, .key = (k), .name = (n),           \
        .type = (t), .data = (const uint8_t *)(d), .len = (l)                                      \
    }
#define SZ(k, n, s) SET(k, n, HCS_REG_SZ, s, strlen(s))
#define DELV(k, n)                                                                                 \
    {                                                                                              \
        .op = HCS_REG_DELETE_VALUE, .hive = HCS_REG_HIVE_SOFTWARE, .key = (k), .name = (n)         \
    }
#define MKKEY(k)                                                                                   \
    {                                                                                              \
        .op = HCS_REG_CREATE_KEY, .hive = HCS_REG_HIVE_SOFTWARE, .key = (k)                        \
    }
#define DELK(k)                                                                                    \
    {                                                                                              \
        .op = HCS_REG_DELETE_KEY, .hive = HCS_REG_HIVE_SOFTWARE, .key = (k)                        \
    }

/* Write changes to name and open it; verify must pass. */
static hcs_reg_hive_file *write_open(const char *name, const hcs_reg_change *c, size_t n)
{
    hcs_error *err = NULL;
    ck_assert_msg(hcs_reg_hive_write(root_fd, name, HCS_REG_HIVE_SOFTWARE, c, n, &err) == 0, "%s",
                  err ? err->message : "");
    hcs_reg_hive_file *f = NULL;
    ck_assert_msg(hcs_reg_hive_open(root_fd, name, &f, &err) == 0, "%s", err ? err->message : "");
    ck_assert_msg(hcs_reg_hive_verify(f, &err) == 0, "%s", err ? err->message : "");
    return f;
}

static unsigned key_bits(const hcs_reg_hive_file *f, const char *key, bool *below)
{
    hcs_reg_level l = hcs_reg_hive_level(f);
    return l.ops->key(l.self, HCS_REG_HIVE_SOFTWARE, key, below);
}

static int get(const hcs_reg_hive_file *f, const char *key, const char *name, hcs_reg_value *v)
{
    hcs_reg_level l = hcs_reg_hive_level(f);
    return l.ops->value(l.self, HCS_REG_HIVE_SOFTWARE, key, name, v);
}

/* A text listing of one level (keys with bits, values with type and data), walked via ops. */
struct dump {
    char *text;
    size_t len;
    FILE *out;
    const hcs_reg_level *l;
};

static int dump_value(void *ctx, const hcs_reg_value *v)
{
    struct dump *d = ctx;
    fprintf(d->out, "  \"%s\"", v->name);
    if (v->deleted) {
        fputs(" deleted\n", d->out);
        return 0;
    }
    fprintf(d->out, " %u:", v->type);
    for (size_t i = 0; i < v->len; i++)
        fprintf(d->out, "%02x", v->data[i]);
    fputc('\n', d->out);
    return 0;
}

struct children {
    char *names[64];
    unsigned bits[64];
    size_t n;
};

static int collect(void *ctx, const char *name, unsigned bits)
{
    struct children *c = ctx;
    ck_assert_uint_lt(c->n, 64);
    c->names[c->n] = strdup(name);
    c->bits[c->n++] = bits;
    return 0;
}

static void dump_key(struct dump *d, const char *key)
{
    bool below = false;
    unsigned bits = d->l->ops->key(d->l->self, HCS_REG_HIVE_SOFTWARE, key, &below);
    fprintf(d->out, "[%s] %u%s\n", key, bits, below ? " +" : "");
    d->l->ops->values(d->l->self, HCS_REG_HIVE_SOFTWARE, key, dump_value, d);
    struct children c = {.n = 0};
    d->l->ops->subkeys(d->l->self, HCS_REG_HIVE_SOFTWARE, key, collect, &c);
    for (size_t i = 0; i < c.n; i++) {
        AUTOFREE char *child = key[0] ? hcs_asprintf("%s\\%s", key, c.names[i]) : c.names[i];
        if (child == c.names[i])
            c.names[i] = NULL; /* now owned by child */
        dump_key(d, child);
        free(c.names[i]);
    }
}

static char *dump(const hcs_reg_hive_file *f)
{
    hcs_reg_level l = hcs_reg_hive_level(f);
    struct dump d = {.l = &l};
    d.out = open_memstream(&d.text, &d.len);
    dump_key(&d, "");
    fclose(d.out);
    return d.text;
}

START_TEST(write_open__stores_every_type_and_looks_up_case_insensitively)
{
    uint8_t dword[4] = {0x78, 0x56, 0x34, 0x12}, qword[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    hcs_reg_change c[] = {
        SZ("Microsoft\\Windows NT\\CurrentVersion", "", "default"),
        SZ("Microsoft\\Windows NT\\CurrentVersion", "ProductName", "Windows Server"),
        SET("Microsoft\\Windows NT\\CurrentVersion", "CurrentBuildNumber", HCS_REG_DWORD, dword, 4),
        SET("Microsoft\\Windows NT\\CurrentVersion", "InstallTime", HCS_REG_QWORD, qword, 8),
        SET("Microsoft\\Windows NT\\CurrentVersion", "Paths", HCS_REG_MULTI_SZ, "a\0bc\0", 5),
        SET("Microsoft\\Windows NT\\CurrentVersion", "Blob", HCS_REG_BINARY, "\0\1\2", 3),
        SET("Microsoft\\Windows NT\\CurrentVersion", "Custom", 0x20001u, "\xff", 1),
        SET("Microsoft\\Windows NT\\CurrentVersion", "Path", HCS_REG_EXPAND_SZ, "%SystemRoot%", 12),
    };
    hcs_reg_hive_file *f = write_open("software.hive", c, HCS_ARRAY_SIZE(c));
    ck_assert_int_eq(hcs_reg_hive_of(f), HCS_REG_HIVE_SOFTWARE);
    ck_assert_uint_eq(hcs_reg_hive_records(f), 1 + 8);

    hcs_reg_value v;
    ck_assert_int_eq(get(f, "MICROSOFT\\windows nt\\currentversion", "productNAME", &v), 1);
    ck_assert_str_eq(v.name, "ProductName");
    ck_assert_uint_eq(v.type, HCS_REG_SZ);
    ck_assert_uint_eq(v.len, 14);
    ck_assert_mem_eq(v.data, "Windows Server", 14);
    ck_assert(!v.deleted);
    ck_assert_int_eq(get(f, "Microsoft\\Windows NT\\CurrentVersion", "", &v), 1);
    ck_assert_str_eq(v.name, "");
    ck_assert_mem_eq(v.data, "default", 7);
    ck_assert_int_eq(get(f, "Microsoft\\Windows NT\\CurrentVersion", "currentbuildnumber", &v), 1);
    ck_assert_uint_eq(v.type, HCS_REG_DWORD);
    ck_assert_mem_eq(v.data, dword, 4);
    ck_assert_int_eq(get(f, "Microsoft\\Windows NT\\CurrentVersion", "InstallTime", &v), 1);
    ck_assert_uint_eq(v.type, HCS_REG_QWORD);
    ck_assert_mem_eq(v.data, qword, 8);
    ck_assert_int_eq(get(f, "Microsoft\\Windows NT\\CurrentVersion", "Paths", &v), 1);
    ck_assert_uint_eq(v.type, HCS_REG_MULTI_SZ);
    ck_assert_uint_eq(v.len, 5);
    ck_assert_mem_eq(v.data, "a\0bc\0", 5);
    ck_assert_int_eq(get(f, "Microsoft\\Windows NT\\CurrentVersion", "Custom", &v), 1);
    ck_assert_uint_eq(v.type, 0x20001u);
    ck_assert_int_eq(get(f, "Microsoft\\Windows NT\\CurrentVersion", "Path", &v), 1);
    ck_assert_uint_eq(v.type, HCS_REG_EXPAND_SZ);

    ck_assert_int_eq(get(f, "Microsoft\\Windows NT\\CurrentVersion", "Missing", &v), 0);
    ck_assert_int_eq(get(f, "Microsoft\\Windows NT", "ProductName", &v), 0);
    ck_assert_int_eq(get(f, "Nope", "", &v), 0);
    /* Another hive's lookups find nothing in this file. */
    hcs_reg_level l = hcs_reg_hive_level(f);
    ck_assert_int_eq(
        l.ops->value(l.self, HCS_REG_HIVE_SYSTEM, "Microsoft\\Windows NT\\CurrentVersion", "", &v),
        0);
    bool below = true;
    ck_assert_uint_eq(l.ops->key(l.self, HCS_REG_HIVE_SYSTEM, "Microsoft", &below), 0);
    ck_assert(!below);
    hcs_reg_hive_close(f);
}
END_TEST

START_TEST(write_open__ancestors_are_implied_and_reported_below)
{
    hcs_reg_change c[] = {SZ("A\\B\\C", "v", "1"), MKKEY("X"), SZ("a\\b2", "w", "2")};
    hcs_reg_hive_file *f = write_open("h", c, HCS_ARRAY_SIZE(c));
    bool below = false;
    ck_assert_uint_eq(key_bits(f, "", &below), 0);
    ck_assert(below);
    ck_assert_uint_eq(key_bits(f, "a", &below), 0);
    ck_assert(below);
    ck_assert_uint_eq(key_bits(f, "A\\B", &below), 0);
    ck_assert(below);
    ck_assert_uint_eq(key_bits(f, "a\\b\\c", &below), HCS_REG_KEY_PRESENT);
    ck_assert(!below);
    ck_assert_uint_eq(key_bits(f, "X", &below), HCS_REG_KEY_PRESENT);
    ck_assert(!below);
    ck_assert_uint_eq(key_bits(f, "A\\C", &below), 0);
    ck_assert(!below);
    ck_assert_uint_eq(key_bits(f, "AB", &below), 0);
    ck_assert(!below);
    /* Implied keys are listed as subkeys, spelled as first written, with bits 0. */
    AUTOFREE char *text = dump(f);
    ck_assert_str_eq(text, "[] 0 +\n"
                           "[A] 0 +\n"
                           "[A\\B] 0 +\n"
                           "[A\\B\\C] 1\n"
                           "  \"v\" 1:31\n"
                           "[A\\b2] 1\n"
                           "  \"w\" 1:32\n"
                           "[X] 1\n");
    hcs_reg_hive_close(f);
}
END_TEST

/* Tombstones alone never make a key exist (the delta follows the same rule). */
START_TEST(write_open__tombstones_alone_imply_no_key)
{
    hcs_reg_change c[] = {DELV("X\\Y", "gone"), DELK("P\\Q"), SZ("Live\\K", "v", "1")};
    hcs_reg_hive_file *f = write_open("h", c, HCS_ARRAY_SIZE(c));
    bool below = true;
    ck_assert_uint_eq(key_bits(f, "X", &below), 0);
    ck_assert(!below);
    ck_assert_uint_eq(key_bits(f, "P", &below), 0);
    ck_assert(!below);
    ck_assert_uint_eq(key_bits(f, "P\\Q", &below), HCS_REG_KEY_OPAQUE);
    ck_assert_uint_eq(key_bits(f, "Live", &below), 0);
    ck_assert(below);
    /* The root's children: Live (implied), and P only as the path to a tombstone: not listed. */
    hcs_reg_level l = hcs_reg_hive_level(f);
    hcs_reg_view *v = NULL;
    ck_assert_int_eq(hcs_reg_view_new(&l, 1, &v, NULL), 0);
    ck_assert(hcs_reg_view_key_exists(v, HCS_REG_HIVE_SOFTWARE, "Live"));
    ck_assert(!hcs_reg_view_key_exists(v, HCS_REG_HIVE_SOFTWARE, "X"));
    ck_assert(!hcs_reg_view_key_exists(v, HCS_REG_HIVE_SOFTWARE, "P"));
    ck_assert(!hcs_reg_view_key_exists(v, HCS_REG_HIVE_SOFTWARE, "P\\Q"));
    hcs_reg_view_free(v);
    hcs_reg_hive_close(f);
}
END_TEST

START_TEST(write_open__delete_key_leaves_an_opaque_tombstone)
{
    hcs_reg_change c[] = {
        SZ("Old\\Sub", "v", "gone"), /* dropped by the DELETE_KEY below */
        DELK("Old"),
        DELK("Gone\\Deep"),
        DELV("Kept", "removed"),
        SZ("Kept", "stays", "x"),
        SZ("Re", "v", "1"),
        DELK("re"),
        MKKEY("RE\\New"), /* below the tombstone: "Re" (as first created) becomes PRESENT|OPAQUE */
        DELK("Val"),
        SZ("Val", "after", "y"), /* on the tombstone itself */
        DELV("Val", "nothing"),  /* kept, though below an opaque key it hides nothing */
        SZ("Twice", "n", "1"),
        SZ("TWICE", "N", "2"), /* the later change wins; the first spelling stays */
        DELK("Gone"),          /* drops the earlier Gone\\Deep tombstone */
    };
    hcs_reg_hive_file *f = write_open("h", c, HCS_ARRAY_SIZE(c));
    AUTOFREE char *text = dump(f);
    ck_assert_str_eq(text, "[] 0 +\n"
                           "[Gone] 2\n"
                           "[Kept] 1\n"
                           "  \"removed\" deleted\n"
                           "  \"stays\" 1:78\n"
                           "[Old] 2\n"
                           "[Re] 3 +\n"
                           "[Re\\New] 1\n"
                           "[Twice] 1\n"
                           "  \"n\" 1:32\n"
                           "[Val] 3\n"
                           "  \"after\" 1:79\n"
                           "  \"nothing\" deleted\n");
    hcs_reg_value v;
    ck_assert_int_eq(get(f, "kept", "REMOVED", &v), 1);
    ck_assert(v.deleted);
    ck_assert_int_eq(get(f, "Old\\Sub", "v", &v), 0);
    ck_assert_int_eq(get(f, "Re", "v", &v), 0);
    hcs_reg_hive_close(f);
}
END_TEST

START_TEST(write_open__delete_then_recreate_keeps_only_later_content)
{
    hcs_reg_change c[] = {
        SZ("K\\A", "x", "1"), MKKEY("K\\B"), DELK("K"),
        SZ("K\\A", "y", "2"), DELK("K\\A"),  MKKEY("k\\a"),
    };
    hcs_reg_hive_file *f = write_open("h", c, HCS_ARRAY_SIZE(c));
    AUTOFREE char *text = dump(f);
    /* K is deleted then re-created below; K\\A is deleted again then created (as "k\\a",
     * spelled as first created in this hive: "K\\A"). */
    ck_assert_str_eq(text, "[] 0 +\n"
                           "[K] 3 +\n"
                           "[K\\A] 3\n");
    hcs_reg_hive_close(f);
}
END_TEST

struct names {
    char buf[512];
};

/* Append "name," to the list. */
static void append(struct names *n, const char *name)
{
    size_t used = strlen(n->buf);
    snprintf(n->buf + used, sizeof(n->buf) - used, "%s,", name);
}

static int list_value(void *ctx, const hcs_reg_value *v)
{
    append(ctx, v->name[0] ? v->name : "@");
    return 0;
}

static int list_key(void *ctx, const char *name, unsigned bits)
{
    (void)bits;
    append(ctx, name);
    return 0;
}

static int stop_at_second(void *ctx, const char *name, unsigned bits)
{
    (void)name;
    (void)bits;
    return ++*(int *)ctx == 2 ? 42 : 0;
}

START_TEST(enumeration__subkeys_and_values_in_name_order)
{
    hcs_reg_change c[] = {
        MKKEY("P\\b"),          MKKEY("P\\A"),       MKKEY("P\\c\\d\\e"), MKKEY("P\\B\\x"),
        MKKEY("P\\_"),          MKKEY("P\\a!"),      SZ("P", "zeta", ""), SZ("P", "Alpha", ""),
        SZ("P", "", "default"), SZ("P", "beta", ""), MKKEY("Q"),
    };
    hcs_reg_hive_file *f = write_open("h", c, HCS_ARRAY_SIZE(c));
    hcs_reg_level l = hcs_reg_hive_level(f);
    struct names n = {.buf = ""};
    ck_assert_int_eq(l.ops->subkeys(l.self, HCS_REG_HIVE_SOFTWARE, "p", list_key, &n), 0);
    /* Letters fold to upper case: 'A' < 'B' < 'C' < '_' (0x5F); "a!" sorts before "B". */
    ck_assert_str_eq(n.buf, "A,a!,b,c,_,");
    n.buf[0] = '\0';
    ck_assert_int_eq(l.ops->values(l.self, HCS_REG_HIVE_SOFTWARE, "P", list_value, &n), 0);
    ck_assert_str_eq(n.buf, "@,Alpha,beta,zeta,");
    n.buf[0] = '\0';
    ck_assert_int_eq(l.ops->subkeys(l.self, HCS_REG_HIVE_SOFTWARE, "", list_key, &n), 0);
    ck_assert_str_eq(n.buf, "P,Q,");
    n.buf[0] = '\0';
    ck_assert_int_eq(l.ops->subkeys(l.self, HCS_REG_HIVE_SOFTWARE, "Q", list_key, &n), 0);
    ck_assert_str_eq(n.buf, "");
    int count = 0;
    ck_assert_int_eq(l.ops->subkeys(l.self, HCS_REG_HIVE_SOFTWARE, "P", stop_at_second, &count),
                     42);
    ck_assert_int_eq(count, 2);
    hcs_reg_hive_close(f);
}
END_TEST

START_TEST(write__rejects_invalid_changes_and_writes_nothing)
{
    hcs_reg_change c[] = {MKKEY("Good"), MKKEY("Bad\\\\Key")};
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_reg_hive_write(root_fd, "h", HCS_REG_HIVE_SOFTWARE, c, 2, &err), -1);
    ck_assert_hr(err->hr, E_INVALIDARG);
    ck_assert_contains(err->message, "change 2");
    ck_assert_contains(err->message, "Bad\\\\Key");
    hcs_err_free(err);
    err = NULL;
    hcs_reg_change d[] = {SET("K", "d", HCS_REG_DWORD, "abc", 3)};
    ck_assert_int_eq(hcs_reg_hive_write(root_fd, "h", HCS_REG_HIVE_SOFTWARE, d, 1, &err), -1);
    ck_assert_contains(err->message, "DWORD");
    hcs_err_free(err);
    ck_assert_int_eq(faccessat(root_fd, "h", F_OK, 0), -1);
}
END_TEST

START_TEST(write__keeps_only_its_hive_and_an_empty_file_opens)
{
    hcs_reg_change c[] = {MKKEY("Soft"),
                          {.op = HCS_REG_CREATE_KEY, .hive = HCS_REG_HIVE_SYSTEM, .key = "Sys"}};
    hcs_reg_hive_file *f = write_open("h", c, 2);
    AUTOFREE char *text = dump(f);
    ck_assert_str_eq(text, "[] 0 +\n[Soft] 1\n");
    hcs_reg_hive_close(f);
    f = write_open("empty", NULL, 0);
    ck_assert_uint_eq(hcs_reg_hive_records(f), 0);
    AUTOFREE char *empty = dump(f);
    ck_assert_str_eq(empty, "[] 0\n");
    hcs_reg_hive_close(f);
}
END_TEST

/* HcsExportLayer's path: a delta's records (hcs_reg_delta_changes) written as a hive file. */
START_TEST(write__a_delta_exported_gives_the_same_level_as_its_changes)
{
    hcs_reg_change c[] = {
        SZ("A\\B\\C", "v", "1"),
        DELK("Dead"),
        DELV("Keep", "gone"),
        SZ("keep", "n", "x"),
        DELK("Z"),
        MKKEY("z\\again"),
        SET("", "root", HCS_REG_BINARY, "\1", 1),
    };
    hcs_reg_hive_file *f = write_open("h", c, HCS_ARRAY_SIZE(c));
    hcs_error *err = NULL;
    hcs_reg_delta *d = NULL;
    ck_assert_int_eq(hcs_reg_delta_new_memory(&d, &err), 0);
    ck_assert_int_eq(hcs_reg_delta_apply(d, c, HCS_ARRAY_SIZE(c), &err), 0);
    hcs_reg_change *records = NULL;
    size_t n = 0;
    ck_assert_int_eq(hcs_reg_delta_changes(d, HCS_REG_HIVE_SOFTWARE, &records, &n, &err), 0);
    ck_assert_msg(hcs_reg_hive_write(root_fd, "copy", HCS_REG_HIVE_SOFTWARE, records, n, &err) == 0,
                  "%s", err ? err->message : "");
    free(records);
    hcs_reg_delta_close(d);
    hcs_reg_hive_file *g = NULL;
    ck_assert_int_eq(hcs_reg_hive_open(root_fd, "copy", &g, &err), 0);
    ck_assert_int_eq(hcs_reg_hive_verify(g, &err), 0);
    AUTOFREE char *a = dump(f);
    AUTOFREE char *b = dump(g);
    ck_assert_str_eq(a, b);
    ck_assert_contains(a, "[Z] 3 +\n[Z\\again] 1\n");
    ck_assert_contains(a, "[] 1 +\n  \"root\" 3:01\n");
    ck_assert_uint_eq(hcs_reg_hive_records(f), hcs_reg_hive_records(g));
    hcs_reg_hive_close(g);
    hcs_reg_hive_close(f);
}
END_TEST

#define MANY 100000

START_TEST(many_keys__are_written_and_looked_up_fast)
{
    hcs_reg_change *c = calloc(MANY, sizeof(*c));
    char **keys = calloc(MANY, sizeof(*keys));
    uint32_t *data = calloc(MANY, sizeof(*data));
    for (size_t i = 0; i < MANY; i++) {
        /* Written in an order unlike the sorted one. */
        size_t k = (i * 7919) % MANY;
        keys[i] = hcs_asprintf("ControlSet001\\Services\\Svc%03zu\\Parameters\\P%zu", k % 997, k);
        data[i] = (uint32_t)k;
        c[i] = (hcs_reg_change)SET(keys[i], "Value", HCS_REG_DWORD, &data[i], 4);
    }
    hcs_reg_hive_file *f = write_open("big", c, MANY);
    ck_assert_uint_eq(hcs_reg_hive_records(f), (size_t)2 * MANY);
    /* Looked up spelled in another case, in the order written (not the sorted one). */
    char **lower = calloc(MANY, sizeof(*lower));
    for (size_t i = 0; i < MANY; i++) {
        lower[i] = strdup(keys[i]);
        for (char *p = lower[i]; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t found = 0;
    for (int round = 0; round < 5; round++) {
        for (size_t i = 0; i < MANY; i++) {
            hcs_reg_value v;
            if (get(f, lower[i], "value", &v) == 1 && v.len == 4 &&
                memcmp(v.data, &data[i], 4) == 0)
                found++;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    for (size_t i = 0; i < MANY; i++)
        free(lower[i]);
    free(lower);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ck_assert_uint_eq(found, (size_t)5 * MANY);
    fprintf(stderr, "# registry hive: %.0f lookups/s on %d keys\n", 5 * MANY / s, MANY);
    /* Generous even for a sanitizer build: a regression to a linear scan fails it. */
    ck_assert_msg(5 * MANY / s > 20000, "only %.0f lookups/s", 5 * MANY / s);

    struct names n = {.buf = ""};
    hcs_reg_level l = hcs_reg_hive_level(f);
    l.ops->subkeys(l.self, HCS_REG_HIVE_SOFTWARE, "ControlSet001", list_key, &n);
    ck_assert_str_eq(n.buf, "Services,");
    int count = 0;
    ck_assert_int_eq(l.ops->subkeys(l.self, HCS_REG_HIVE_SOFTWARE, "ControlSet001\\Services",
                                    stop_at_second, &count),
                     42);
    hcs_reg_hive_close(f);
    for (size_t i = 0; i < MANY; i++)
        free(keys[i]);
    free(keys);
    free(data);
    free(c);
}
END_TEST

/* The bytes of a small valid hive file (caller frees). */
static uint8_t *sample(size_t *len)
{
    uint8_t dword[4] = {1, 0, 0, 0};
    hcs_reg_change c[] = {
        SZ("A\\B", "", "default"),
        SET("A\\B", "d", HCS_REG_DWORD, dword, 4),
        SET("A\\B", "m", HCS_REG_MULTI_SZ, "x\0", 2),
        DELK("C"),
        DELV("D", "x"),
        MKKEY("E\\F"),
    };
    hcs_error *err = NULL;
    ck_assert_int_eq(
        hcs_reg_hive_write(root_fd, "sample", HCS_REG_HIVE_SOFTWARE, c, HCS_ARRAY_SIZE(c), &err),
        0);
    char *data = NULL;
    ck_assert_int_eq(hcs_read_file_at(root_fd, "sample", 1 << 20, &data, len, &err), 0);
    return (uint8_t *)data;
}

static void assert_refused(hcs_error *err, const char *name)
{
    ck_assert_ptr_nonnull(err);
    ck_assert_hr(err->hr, HCS_E_INVALID_LAYER);
    ck_assert_contains(err->message, name);
    hcs_err_free(err);
}

START_TEST(corrupt__truncated_files_are_refused)
{
    size_t len;
    AUTOFREE uint8_t *data = sample(&len);
    for (size_t cut = 0; cut < len; cut++) {
        /* A copy of exactly cut bytes, so that a read past it is a sanitizer report. */
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, data, cut);
        hcs_reg_hive_file *f = NULL;
        hcs_error *err = NULL;
        ck_assert_msg(hcs_reg_hive_open_mem(copy, cut, "cut.hive", &f, &err) == -1,
                      "opened at %zu of %zu bytes", cut, len);
        ck_assert_ptr_null(f);
        assert_refused(err, "cut.hive");
        free(copy);
    }
    /* On disk, too. */
    ck_assert_int_eq(
        hcs_write_file_atomic(root_fd, "short", (const char *)data, len - 1, 0644, false, NULL), 0);
    hcs_reg_hive_file *f = NULL;
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_reg_hive_open(root_fd, "short", &f, &err), -1);
    assert_refused(err, "short");
    err = NULL;
    ck_assert_int_eq(hcs_write_file_atomic(root_fd, "zero", "", 0, 0644, false, NULL), 0);
    ck_assert_int_eq(hcs_reg_hive_open(root_fd, "zero", &f, &err), -1);
    assert_refused(err, "zero");
    err = NULL;
    ck_assert_int_eq(hcs_reg_hive_open(root_fd, "missing", &f, &err), -1);
    ck_assert_hr(err->hr, HCS_E_FILE_NOT_FOUND);
    hcs_err_free(err);
}
END_TEST

START_TEST(corrupt__flipped_bytes_are_refused_and_never_crash)
{
    size_t len;
    AUTOFREE uint8_t *data = sample(&len);
    AUTOFREE uint8_t *copy = malloc(len);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(copy, data, len);
            copy[i] ^= (uint8_t)(1u << bit);
            hcs_reg_hive_file *f = NULL;
            hcs_error *err = NULL;
            if (hcs_reg_hive_open_mem(copy, len, "flip.hive", &f, &err) == 0) {
                /* Only the body changed: the accessors must cope, verify must refuse. */
                ck_assert_uint_ge(i, 104);
                AUTOFREE char *text = dump(f);
                ck_assert_ptr_nonnull(text);
                ck_assert_msg(hcs_reg_hive_verify(f, &err) == -1, "byte %zu bit %d accepted", i,
                              bit);
                hcs_reg_hive_close(f);
            }
            assert_refused(err, "flip.hive");
        }
    }
}
END_TEST

START_TEST(corrupt__wrong_magic_and_newer_version_are_named)
{
    size_t len;
    AUTOFREE uint8_t *data = sample(&len);
    hcs_reg_hive_file *f = NULL;
    hcs_error *err = NULL;
    data[0] = 'X';
    ck_assert_int_eq(hcs_reg_hive_open_mem(data, len, "magic.hive", &f, &err), -1);
    ck_assert_contains(err->message, "wrong magic");
    assert_refused(err, "magic.hive");
    data[0] = 'H';
    data[8] = 3; /* version 3, little-endian */
    err = NULL;
    ck_assert_int_eq(hcs_reg_hive_open_mem(data, len, "new.hive", &f, &err), -1);
    ck_assert_contains(err->message, "newer libhcs (format version 3");
    assert_refused(err, "new.hive");
    data[8] = 1; /* the development format without an index */
    err = NULL;
    ck_assert_int_eq(hcs_reg_hive_open_mem(data, len, "old.hive", &f, &err), -1);
    ck_assert_contains(err->message, "format version 1");
    ck_assert_contains(err->message, "import the layer again");
    assert_refused(err, "old.hive");
    data[8] = 2;
    ck_assert_int_eq(hcs_reg_hive_open_mem(data, len, "ok.hive", &f, &err), 0);
    ck_assert_int_eq(hcs_reg_hive_verify(f, &err), 0);
    hcs_reg_hive_close(f);
}
END_TEST

HCS_TEST_SUITE(hive_suite)
{
    Suite *s = suite_create("registry_hive");
    TCase *tc = tcase_create("hive");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, write_open__stores_every_type_and_looks_up_case_insensitively);
    tcase_add_test(tc, write_open__ancestors_are_implied_and_reported_below);
    tcase_add_test(tc, write_open__tombstones_alone_imply_no_key);
    tcase_add_test(tc, write_open__delete_key_leaves_an_opaque_tombstone);
    tcase_add_test(tc, write_open__delete_then_recreate_keeps_only_later_content);
    tcase_add_test(tc, enumeration__subkeys_and_values_in_name_order);
    tcase_add_test(tc, write__rejects_invalid_changes_and_writes_nothing);
    tcase_add_test(tc, write__keeps_only_its_hive_and_an_empty_file_opens);
    tcase_add_test(tc, write__a_delta_exported_gives_the_same_level_as_its_changes);
    tcase_add_test(tc, many_keys__are_written_and_looked_up_fast);
    tcase_add_test(tc, corrupt__truncated_files_are_refused);
    tcase_add_test(tc, corrupt__flipped_bytes_are_refused_and_never_crash);
    tcase_add_test(tc, corrupt__wrong_magic_and_newer_version_are_named);
    suite_add_tcase(s, tc);
    return s;
}
