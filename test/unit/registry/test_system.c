/* test_system.c - a compute system's registry: the layers' hive files under a delta. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcs_test.h"
#include "registry/registry.h"

#define SYS HCS_REG_HIVE_SYSTEM
#define SW HCS_REG_HIVE_SOFTWARE
#define CTL "ControlSet001\\Control"

#define SET(h, k, n, s)                                                                            \
    {                                                                                              \
        .op = HCS_REG_SET_VALUE, .hive = (h), .key = (k), .name = (n), .type = HCS_REG_SZ,         \
        .data = (const uint8_t *)(s), .len = strlen(s)                                             \
    }
#define DELV(h, k, n)                                                                              \
    {                                                                                              \
        .op = HCS_REG_DELETE_VALUE, .hive = (h), .key = (k), .name = (n)                           \
    }

static hcs_reg_system *sys;

static void setup(void)
{
    hcs_test_roots_setup();
}

static void teardown(void)
{
    hcs_reg_system_close(sys);
    sys = NULL;
    hcs_test_roots_teardown();
}

static char *path(const char *rel)
{
    char *p = hcs_asprintf("%s/%s", hcs_test_root(), rel);
    ck_assert_ptr_nonnull(p);
    return p;
}

/* Write the hive file <root>/<layer>/Hives/<file> of hive h from changes. */
static void write_hive(const char *layer, const char *file, enum hcs_reg_hive h,
                       const hcs_reg_change *c, size_t n)
{
    AUTOFREE char *dir = hcs_asprintf("%s/%s/Hives", hcs_test_root(), layer);
    ck_assert_ptr_nonnull(dir);
    ck_assert_int_eq(hcs_mkdir_p(dir, 0755, NULL), 0);
    AUTOCLOSE int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    hcs_error *err = NULL;
    int r = hcs_reg_hive_write(fd, file, h, c, n, &err);
    ck_assert_msg(r == 0, "write %s: %s", file, err ? err->message : "");
}

/* Two layers: "low" (System and Software) under "high" (System only, a lower-case name). */
static void make_layers(void)
{
    const hcs_reg_change low_sys[] = {SET(SYS, CTL, "A", "low-a"), SET(SYS, CTL, "B", "low-b")};
    const hcs_reg_change low_sw[] = {SET(SW, "Microsoft\\Windows", "V", "sw")};
    const hcs_reg_change high_sys[] = {SET(SYS, CTL, "A", "high-a"), DELV(SYS, CTL, "B")};
    write_hive("low", "System_Delta", SYS, low_sys, 2);
    write_hive("low", "Software_Delta", SW, low_sw, 1);
    write_hive("high", "system_delta", SYS, high_sys, 2);
}

static void open_sys(const char *delta_dir)
{
    AUTOFREE char *high = path("high"), *low = path("low");
    const char *layers[] = {high, low};
    hcs_error *err = NULL;
    hcs_reg_system_close(sys);
    sys = NULL;
    int r = hcs_reg_system_open(layers, 2, delta_dir, &sys, &err);
    ck_assert_msg(r == 0, "open: %s", err ? err->message : "");
}

/* The REG_SZ value (key, name) of the view as a string (caller frees), NULL when missing. */
static char *get(enum hcs_reg_hive h, const char *key, const char *name)
{
    hcs_reg_value v;
    int r = hcs_reg_view_get(hcs_reg_system_view(sys), h, key, name, &v);
    ck_assert_int_ge(r, 0);
    if (r == 0)
        return NULL;
    ck_assert_uint_eq(v.type, HCS_REG_SZ);
    char *s = hcs_asprintf("%.*s", (int)v.len, (const char *)v.data);
    ck_assert_ptr_nonnull(s);
    return s;
}

#define ck_assert_value(h, key, name, want)                                                        \
    do {                                                                                           \
        AUTOFREE char *got_ = get(h, key, name);                                                   \
        ck_assert_msg(got_ != NULL, "%s\\%s is missing", key, name);                               \
        ck_assert_str_eq(got_, want);                                                              \
    } while (0)
#define ck_assert_no_value(h, key, name)                                                           \
    do {                                                                                           \
        AUTOFREE char *got_ = get(h, key, name);                                                   \
        ck_assert_msg(got_ == NULL, "%s\\%s is \"%s\"", key, name, got_);                          \
    } while (0)

static void apply(const hcs_reg_change *c, size_t n)
{
    hcs_error *err = NULL;
    int r = hcs_reg_delta_apply(hcs_reg_system_delta(sys), c, n, &err);
    ck_assert_msg(r == 0, "apply: %s", err ? err->message : "");
}

START_TEST(system__view_is_the_union_of_the_layers_nearest_first)
{
    make_layers();
    AUTOFREE char *delta = path("w/Hives");
    open_sys(delta);
    ck_assert_value(SYS, CTL, "A", "high-a");
    ck_assert_no_value(SYS, CTL, "B"); /* deleted by the upper layer */
    ck_assert_value(SW, "Microsoft\\Windows", "V", "sw");
    ck_assert(hcs_reg_view_key_exists(hcs_reg_system_view(sys), SW, "microsoft"));
    ck_assert(!hcs_reg_view_key_exists(hcs_reg_system_view(sys), HCS_REG_HIVE_SAM, "Microsoft"));
    /* The delta folder was created, with its log. */
    AUTOFREE char *log = path("w/Hives/delta.log");
    struct stat st;
    ck_assert_int_eq(stat(log, &st), 0);
}
END_TEST

START_TEST(system__delta_changes_persist_across_close_and_open)
{
    make_layers();
    AUTOFREE char *delta = path("w/Hives");
    open_sys(delta);
    const hcs_reg_change c[] = {SET(SYS, CTL, "C", "delta-c"), SET(SYS, CTL, "A", "delta-a"),
                                DELV(SW, "Microsoft\\Windows", "V")};
    apply(c, 3);
    ck_assert_value(SYS, CTL, "A", "delta-a");
    open_sys(delta); /* closes, then opens again */
    ck_assert_value(SYS, CTL, "C", "delta-c");
    ck_assert_value(SYS, CTL, "A", "delta-a");
    ck_assert_no_value(SW, "Microsoft\\Windows", "V");
    ck_assert_no_value(SYS, CTL, "B");
}
END_TEST

START_TEST(system__null_delta_dir_keeps_changes_in_memory)
{
    make_layers();
    open_sys(NULL);
    const hcs_reg_change c[] = {SET(SYS, CTL, "A", "mem-a")};
    apply(c, 1);
    ck_assert_value(SYS, CTL, "A", "mem-a");
    open_sys(NULL);
    ck_assert_value(SYS, CTL, "A", "high-a");
    /* Nothing was written next to the layers. */
    AUTOFREE char *hives = path("high/Hives");
    AUTOFREE char *cmd = hcs_asprintf("test $(ls -A '%s' | wc -l) -eq 1", hives);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(system__layers_without_hives_contribute_nothing)
{
    AUTOFREE char *empty = path("empty"), *files_only = path("files/Files"), *files = path("files");
    ck_assert_int_eq(hcs_mkdir_p(empty, 0755, NULL), 0);
    ck_assert_int_eq(hcs_mkdir_p(files_only, 0755, NULL), 0);
    const char *layers[] = {empty, files};
    hcs_error *err = NULL;
    int r = hcs_reg_system_open(layers, 2, NULL, &sys, &err);
    ck_assert_msg(r == 0, "open: %s", err ? err->message : "");
    ck_assert(!hcs_reg_view_key_exists(hcs_reg_system_view(sys), SYS, CTL));
    ck_assert(hcs_reg_view_key_exists(hcs_reg_system_view(sys), SYS, ""));
}
END_TEST

START_TEST(system__corrupt_hive_file_is_refused_naming_it)
{
    make_layers();
    AUTOFREE char *bad = path("high/Hives/Software_Delta");
    FILE *f = fopen(bad, "w");
    ck_assert_ptr_nonnull(f);
    fputs("this is not a hive file, but long enough to hold a header of one: "
          "0123456789012345678901234567890123456789012345678901234567890123456789",
          f);
    fclose(f);
    AUTOFREE char *high = path("high"), *low = path("low");
    const char *layers[] = {high, low};
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_reg_system_open(layers, 2, NULL, &sys, &err), -1);
    ck_assert_ptr_null(sys);
    ck_assert_ptr_nonnull(err);
    ck_assert_hr(err->hr, HCS_E_INVALID_LAYER);
    ck_assert_contains(err->message, high);
    ck_assert_contains(err->message, "Hives/Software_Delta");
    hcs_err_free(err);
}
END_TEST

START_TEST(system__hive_file_of_another_hive_is_refused_naming_it)
{
    const hcs_reg_change sw[] = {SET(SW, "Microsoft", "V", "sw")};
    write_hive("low", "System_Delta", SW, sw, 1);
    AUTOFREE char *low = path("low");
    const char *layers[] = {low};
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_reg_system_open(layers, 1, NULL, &sys, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_hr(err->hr, HCS_E_INVALID_LAYER);
    ck_assert_contains(err->message, "Hives/System_Delta");
    ck_assert_contains(err->message, "Software");
    hcs_err_free(err);
}
END_TEST

HCS_TEST_SUITE(registry_system_suite)
{
    Suite *s = suite_create("registry_system");
    TCase *tc = tcase_create("system");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, system__view_is_the_union_of_the_layers_nearest_first);
    tcase_add_test(tc, system__delta_changes_persist_across_close_and_open);
    tcase_add_test(tc, system__null_delta_dir_keeps_changes_in_memory);
    tcase_add_test(tc, system__layers_without_hives_contribute_nothing);
    tcase_add_test(tc, system__corrupt_hive_file_is_refused_naming_it);
    tcase_add_test(tc, system__hive_file_of_another_hive_is_refused_naming_it);
    suite_add_tcase(s, tc);
    return s;
}
