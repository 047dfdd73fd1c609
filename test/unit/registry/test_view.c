/* test_view.c - the registry union over several levels (memory deltas as levels). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "hcs_test.h"
#include "registry/registry.h"

#define SYS HCS_REG_HIVE_SYSTEM
#define MAX_LEVELS 4

static hcs_reg_delta *lv[MAX_LEVELS];
static hcs_reg_view *view;

static void setup(void)
{
    for (size_t i = 0; i < MAX_LEVELS; i++)
        ck_assert_int_eq(hcs_reg_delta_new_memory(&lv[i], NULL), 0);
}

static void teardown(void)
{
    hcs_reg_view_free(view);
    view = NULL;
    for (size_t i = 0; i < MAX_LEVELS; i++) {
        hcs_reg_delta_close(lv[i]);
        lv[i] = NULL;
    }
}

/* A view of levels first..first+n-1 (the lowest number nearest). */
static void make_view_from(size_t first, size_t n)
{
    hcs_reg_level levels[MAX_LEVELS];
    for (size_t i = 0; i < n; i++)
        levels[i] = hcs_reg_delta_level(lv[first + i]);
    hcs_reg_view_free(view);
    view = NULL;
    ck_assert_int_eq(hcs_reg_view_new(levels, n, &view, NULL), 0);
}

static void make_view(size_t n)
{
    make_view_from(0, n);
}

static void apply(size_t level, hcs_reg_change c)
{
    hcs_error *err = NULL;
    int r = hcs_reg_delta_apply(lv[level], &c, 1, &err);
    ck_assert_msg(r == 0, "apply: %s", err ? err->message : "?");
}

static void set(size_t level, const char *key, const char *name, const char *text)
{
    apply(level, (hcs_reg_change){.op = HCS_REG_SET_VALUE,
                                  .hive = SYS,
                                  .key = key,
                                  .name = name,
                                  .type = HCS_REG_SZ,
                                  .data = (const uint8_t *)text,
                                  .len = strlen(text)});
}

static void del_value(size_t level, const char *key, const char *name)
{
    apply(level,
          (hcs_reg_change){.op = HCS_REG_DELETE_VALUE, .hive = SYS, .key = key, .name = name});
}

static void mk_key(size_t level, const char *key)
{
    apply(level, (hcs_reg_change){.op = HCS_REG_CREATE_KEY, .hive = SYS, .key = key});
}

static void del_key(size_t level, const char *key)
{
    apply(level, (hcs_reg_change){.op = HCS_REG_DELETE_KEY, .hive = SYS, .key = key});
}

/* The SZ value (key, name) of the view as a string, or "-" when not found. */
static char *get(const char *key, const char *name)
{
    hcs_reg_value v;
    int r = hcs_reg_view_get(view, SYS, key, name, &v);
    ck_assert_int_ge(r, 0);
    if (r == 0)
        return strdup("-");
    ck_assert(!v.deleted);
    char *s = hcs_asprintf("%.*s", (int)v.len, (const char *)v.data);
    ck_assert_ptr_nonnull(s);
    return s;
}

struct list {
    char buf[4096];
    int calls;
    int stop_after; /* 0: never */
};

static void list_add(struct list *l, const char *s)
{
    size_t n = strlen(l->buf);
    snprintf(l->buf + n, sizeof(l->buf) - n, "%s%s", n ? "," : "", s);
}

static int on_subkey(void *ctx, const char *name)
{
    struct list *l = ctx;
    list_add(l, name);
    return ++l->calls == l->stop_after ? 7 : 0;
}

static int on_value(void *ctx, const hcs_reg_value *v)
{
    struct list *l = ctx;
    char item[512];
    snprintf(item, sizeof(item), "%s=%.*s", v->name[0] ? v->name : "@", (int)v->len,
             (const char *)v->data);
    list_add(l, item);
    ck_assert(!v->deleted);
    return ++l->calls == l->stop_after ? 7 : 0;
}

/* "a,b,c": the subkeys of key in the view. */
static char *subkeys(const char *key)
{
    struct list l = {{0}};
    ck_assert_int_eq(hcs_reg_view_subkeys(view, SYS, key, on_subkey, &l), 0);
    return strdup(l.buf);
}

/* "a=1,b=2": the SZ values of key in the view ("@" for the default value). */
static char *values(const char *key)
{
    struct list l = {{0}};
    ck_assert_int_eq(hcs_reg_view_values(view, SYS, key, on_value, &l), 0);
    return strdup(l.buf);
}

#define ck_get(key, name, want)                                                                    \
    do {                                                                                           \
        AUTOFREE char *got_ = get(key, name);                                                      \
        ck_assert_str_eq(got_, want);                                                              \
    } while (0)
#define ck_subkeys(key, want)                                                                      \
    do {                                                                                           \
        AUTOFREE char *got_ = subkeys(key);                                                        \
        ck_assert_str_eq(got_, want);                                                              \
    } while (0)
#define ck_values(key, want)                                                                       \
    do {                                                                                           \
        AUTOFREE char *got_ = values(key);                                                         \
        ck_assert_str_eq(got_, want);                                                              \
    } while (0)

START_TEST(view__nearer_value_shadows_lower_one)
{
    set(1, "A", "x", "lower");
    set(1, "A", "y", "only-lower");
    set(0, "A", "x", "nearer");
    make_view(2);
    ck_get("A", "x", "nearer");
    ck_get("A", "y", "only-lower");
    ck_get("A", "z", "-");
    ck_values("A", "x=nearer,y=only-lower");
    /* The order of the levels is what decides. */
    hcs_reg_level swapped[] = {hcs_reg_delta_level(lv[1]), hcs_reg_delta_level(lv[0])};
    hcs_reg_view_free(view);
    ck_assert_int_eq(hcs_reg_view_new(swapped, 2, &view, NULL), 0);
    ck_get("A", "x", "lower");
}
END_TEST

START_TEST(view__value_tombstone_hides_the_lower_value_only)
{
    set(2, "A", "x", "bottom");
    set(1, "A", "x", "middle");
    set(1, "A", "y", "kept");
    del_value(0, "A", "x");
    make_view(3);
    ck_get("A", "x", "-");
    ck_get("A", "y", "kept");
    ck_values("A", "y=kept");
    ck_assert(hcs_reg_view_key_exists(view, SYS, "A"));
    /* Without the level holding the tombstone, the value is back. */
    make_view_from(1, 2);
    ck_get("A", "x", "middle");
    ck_values("A", "x=middle,y=kept");
}
END_TEST

START_TEST(view__key_tombstone_hides_the_whole_lower_subtree)
{
    set(1, "A", "x", "1");
    set(1, "A\\B\\C", "deep", "2");
    mk_key(1, "A\\B2");
    set(1, "Other", "o", "3");
    del_key(0, "A");
    make_view(2);
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "A"));
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "A\\B"));
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "A\\B\\C"));
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "a\\b2"));
    ck_get("A", "x", "-");
    ck_get("A\\B\\C", "deep", "-");
    ck_subkeys("", "Other");
    ck_subkeys("A", "");
    ck_subkeys("A\\B", "");
    ck_values("A", "");
    ck_values("A\\B\\C", "");
    ck_assert(hcs_reg_view_key_exists(view, SYS, "Other"));
    ck_assert(hcs_reg_view_key_exists(view, SYS, ""));
    /* The lower level itself still holds it. */
    make_view_from(1, 1);
    ck_get("A\\B\\C", "deep", "2");
    ck_subkeys("A", "B,B2");
}
END_TEST

START_TEST(view__recreated_key_shows_new_content_and_still_hides_the_old)
{
    set(1, "A", "x", "old");
    set(1, "A\\Old", "o", "old");
    del_key(0, "A");
    set(0, "A\\New", "n", "new");
    make_view(2);
    ck_assert(hcs_reg_view_key_exists(view, SYS, "A"));
    ck_assert(hcs_reg_view_key_exists(view, SYS, "A\\New"));
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "A\\Old"));
    ck_get("A", "x", "-");
    ck_get("A\\New", "n", "new");
    ck_get("A\\Old", "o", "-");
    ck_subkeys("A", "New");
    ck_values("A", "");
    ck_subkeys("", "A");
    /* The level records A as existing and hiding what is below it. */
    hcs_reg_level l0 = hcs_reg_delta_level(lv[0]);
    ck_assert_uint_eq(l0.ops->key(l0.self, SYS, "A", NULL),
                      HCS_REG_KEY_PRESENT | HCS_REG_KEY_OPAQUE);

    /* CREATE_KEY after a delete: an empty key. */
    del_key(0, "A");
    mk_key(0, "a");
    ck_assert(hcs_reg_view_key_exists(view, SYS, "A"));
    ck_subkeys("A", "");
    ck_values("A", "");
    ck_get("A", "x", "-");
    ck_subkeys("", "A");
}
END_TEST

START_TEST(view__lookups_ignore_case_and_names_keep_the_nearest_spelling)
{
    set(1, "Software\\MyApp", "Version", "1");
    set(1, "Software\\MyApp", "Path", "p");
    set(0, "SOFTWARE\\myapp", "VERSION", "2");
    make_view(2);
    ck_get("software\\MYAPP", "version", "2");
    ck_get("SoftWare\\MyApp", "PATH", "p");
    ck_assert(hcs_reg_view_key_exists(view, SYS, "sOfTwArE\\mYaPp"));
    ck_subkeys("", "SOFTWARE");
    ck_subkeys("software", "myapp");
    ck_values("Software\\MyApp", "Path=p,VERSION=2");

    /* Within one level, the case of the first creation stays. */
    set(2, "Foo", "Name", "1");
    set(2, "FOO\\Bar", "NAME", "2");
    set(2, "foo", "NAME", "3");
    make_view(3);
    ck_subkeys("", "Foo,SOFTWARE");
    ck_subkeys("foo", "Bar");
    ck_values("FOO", "Name=3");
    ck_values("foo\\bar", "NAME=2");
}
END_TEST

START_TEST(view__merges_subkeys_and_values_of_several_levels_with_tombstones)
{
    /* bottom */
    mk_key(3, "K\\a");
    mk_key(3, "K\\c");
    mk_key(3, "K\\e");
    mk_key(3, "K\\g");
    set(3, "K", "v1", "3");
    set(3, "K", "v3", "3");
    set(3, "K", "v5", "3");
    mk_key(2, "K\\f");
    set(2, "K", "v6", "2");
    /* K is not opaque at level 2: merge continues down to 3 */
    mk_key(1, "K\\b");
    del_key(1, "K\\c");
    del_value(1, "K", "v3");
    set(1, "K", "v2", "1");
    mk_key(0, "K\\C"); /* re-created nearer, in its own spelling */
    del_key(0, "K\\e");
    set(0, "K", "v5", "0");
    set(0, "K", "v4", "0");
    make_view(4);
    ck_subkeys("K", "a,b,C,f,g");
    ck_values("K", "v1=3,v2=1,v4=0,v5=0,v6=2");
    ck_assert(hcs_reg_view_key_exists(view, SYS, "K\\c"));
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "K\\E"));
    ck_assert(hcs_reg_view_key_exists(view, SYS, "K\\g"));

    /* K deleted and re-created at level 2: levels below 2 no longer count under K. */
    del_key(2, "K");
    set(2, "K\\f", "z", "2");
    make_view(4);
    ck_subkeys("K", "b,C,f");
    ck_values("K", "v2=1,v4=0,v5=0");
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "K\\a"));
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "K\\g"));
    ck_get("K", "v1", "-");
    ck_get("K", "v2", "1");
}
END_TEST

START_TEST(view__implied_keys_exist_and_enumerate)
{
    set(1, "A\\B\\C", "x", "1");
    make_view(2);
    ck_assert(hcs_reg_view_key_exists(view, SYS, "A"));
    ck_assert(hcs_reg_view_key_exists(view, SYS, "A\\B"));
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "A\\B\\C\\D"));
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "A\\C"));
    ck_subkeys("", "A");
    ck_subkeys("A", "B");
    ck_subkeys("A\\B", "C");
    ck_values("A", "");

    /* Deleting what does not exist creates nothing, not even its parent. */
    del_key(0, "X\\Y");
    del_value(0, "P\\Q", "v");
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "X"));
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "X\\Y"));
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "P\\Q"));
    ck_subkeys("", "A");

    /* A tombstone of the only child: the parent, implied at the lower level only, is kept. */
    del_key(0, "A\\B\\C");
    ck_assert(hcs_reg_view_key_exists(view, SYS, "A\\B"));
    ck_subkeys("A\\B", "");
}
END_TEST

START_TEST(view__default_value_has_the_empty_name)
{
    set(1, "K", "", "default");
    set(1, "K", "a", "1");
    make_view(2);
    ck_get("K", "", "default");
    ck_values("K", "@=default,a=1");
    del_value(0, "K", "");
    ck_get("K", "", "-");
    ck_values("K", "a=1");
    set(0, "K", "", "new");
    ck_get("K", "", "new");
}
END_TEST

START_TEST(view__hives_are_separate_trees)
{
    set(0, "A", "x", "sys");
    apply(0, (hcs_reg_change){.op = HCS_REG_SET_VALUE,
                              .hive = HCS_REG_HIVE_SOFTWARE,
                              .key = "B",
                              .name = "y",
                              .type = HCS_REG_DWORD,
                              .data = (const uint8_t *)"\1\0\0\0",
                              .len = 4});
    make_view(1);
    ck_assert(hcs_reg_view_key_exists(view, SYS, "A"));
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "B"));
    ck_assert(hcs_reg_view_key_exists(view, HCS_REG_HIVE_SOFTWARE, "B"));
    ck_assert(!hcs_reg_view_key_exists(view, HCS_REG_HIVE_SOFTWARE, "A"));
    hcs_reg_value v;
    ck_assert_int_eq(hcs_reg_view_get(view, HCS_REG_HIVE_SOFTWARE, "b", "Y", &v), 1);
    ck_assert_uint_eq(v.type, HCS_REG_DWORD);
    ck_assert_uint_eq(v.len, 4);
    ck_assert_int_eq(memcmp(v.data, "\1\0\0\0", 4), 0);
    ck_assert_int_eq(hcs_reg_view_get(view, HCS_REG_HIVE_SAM, "B", "y", &v), 0);
}
END_TEST

START_TEST(view__enumeration_stops_when_the_callback_says_so)
{
    mk_key(1, "K\\a");
    mk_key(0, "K\\b");
    mk_key(1, "K\\c");
    set(0, "K", "1", "1");
    set(1, "K", "2", "2");
    make_view(2);
    struct list l = {.stop_after = 2};
    ck_assert_int_eq(hcs_reg_view_subkeys(view, SYS, "K", on_subkey, &l), 7);
    ck_assert_str_eq(l.buf, "a,b");
    struct list m = {.stop_after = 1};
    ck_assert_int_eq(hcs_reg_view_values(view, SYS, "K", on_value, &m), 7);
    ck_assert_str_eq(m.buf, "1=1");
}
END_TEST

START_TEST(view__of_no_levels_is_empty)
{
    make_view(0);
    ck_assert(hcs_reg_view_key_exists(view, SYS, ""));
    ck_assert(!hcs_reg_view_key_exists(view, SYS, "A"));
    ck_get("", "", "-");
    ck_subkeys("", "");
    ck_values("", "");
}
END_TEST

HCS_TEST_SUITE(registry_view_suite)
{
    Suite *s = suite_create("registry_view");
    TCase *tc = tcase_create("view");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, view__nearer_value_shadows_lower_one);
    tcase_add_test(tc, view__value_tombstone_hides_the_lower_value_only);
    tcase_add_test(tc, view__key_tombstone_hides_the_whole_lower_subtree);
    tcase_add_test(tc, view__recreated_key_shows_new_content_and_still_hides_the_old);
    tcase_add_test(tc, view__lookups_ignore_case_and_names_keep_the_nearest_spelling);
    tcase_add_test(tc, view__merges_subkeys_and_values_of_several_levels_with_tombstones);
    tcase_add_test(tc, view__implied_keys_exist_and_enumerate);
    tcase_add_test(tc, view__default_value_has_the_empty_name);
    tcase_add_test(tc, view__hives_are_separate_trees);
    tcase_add_test(tc, view__enumeration_stops_when_the_callback_says_so);
    tcase_add_test(tc, view__of_no_levels_is_empty);
    suite_add_tcase(s, tc);
    return s;
}
