/* test_model.c - the registry model: hive names, key and value checks, comparisons. */
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "hcs_test.h"
#include "registry/registry.h"

/* The message of a failed key check (must be E_INVALIDARG). */
static char *key_rejection(const char *key)
{
    hcs_error *err = NULL;
    ck_assert_msg(hcs_reg_key_check("Key.Name", key, &err) == -1, "accepted \"%s\"",
                  key ? key : "(null)");
    ck_assert_ptr_nonnull(err);
    ck_assert_hr(err->hr, E_INVALIDARG);
    char *msg = strdup(err->message);
    hcs_err_free(err);
    ck_assert_contains(msg, "Key.Name");
    return msg;
}

static char *value_rejection(const char *name, uint32_t type, const void *data, size_t len)
{
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_reg_value_check("Value", name, type, data, len, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_hr(err->hr, E_INVALIDARG);
    char *msg = strdup(err->message);
    hcs_err_free(err);
    return msg;
}

static void value_ok(const char *name, uint32_t type, const void *data, size_t len)
{
    hcs_error *err = NULL;
    ck_assert_msg(hcs_reg_value_check("Value", name, type, data, len, &err) == 0, "%s",
                  err ? err->message : "?");
}

START_TEST(hive_names__round_trip_case_insensitively)
{
    for (int h = 0; h < HCS_REG_N_HIVES; h++) {
        enum hcs_reg_hive got = HCS_REG_N_HIVES;
        ck_assert_int_eq(hcs_reg_hive_parse(hcs_reg_hive_name((enum hcs_reg_hive)h), &got, NULL),
                         0);
        ck_assert_int_eq(got, h);
    }
    ck_assert_str_eq(hcs_reg_hive_name(HCS_REG_HIVE_DEFAULTUSER), "DefaultUser");
    enum hcs_reg_hive got;
    ck_assert_int_eq(hcs_reg_hive_parse("sOFTWARE", &got, NULL), 0);
    ck_assert_int_eq(got, HCS_REG_HIVE_SOFTWARE);
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_reg_hive_parse("HKLM\\SOFTWARE", &got, &err), -1);
    ck_assert_hr(err->hr, E_INVALIDARG);
    ck_assert_contains(err->message, "HKLM\\SOFTWARE");
    hcs_err_free(err);
    ck_assert_int_eq(hcs_reg_hive_parse(NULL, &got, NULL), -1);
}
END_TEST

START_TEST(key_check__accepts_root_and_good_paths)
{
    char longest[HCS_REG_MAX_COMPONENT + 1];
    memset(longest, 'k', HCS_REG_MAX_COMPONENT);
    longest[HCS_REG_MAX_COMPONENT] = '\0';
    const char *good[] = {
        "", "A", "ControlSet001\\Services\\Tcpip", "a b\\{GUID-1}\\.x", "Ünïcode\\键", longest};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(good); i++) {
        hcs_error *err = NULL;
        ck_assert_msg(hcs_reg_key_check("k", good[i], &err) == 0, "%s", err ? err->message : "");
    }
    /* Exactly the maximum depth. */
    size_t n = (size_t)2 * HCS_REG_MAX_DEPTH;
    AUTOFREE char *deep = malloc(n);
    for (size_t i = 0; i < n; i += 2) {
        deep[i] = 'a';
        deep[i + 1] = '\\';
    }
    deep[n - 1] = '\0';
    ck_assert_int_eq(hcs_reg_key_check("k", deep, NULL), 0);
}
END_TEST

START_TEST(key_check__rejects_bad_separators_lengths_and_characters)
{
    const char *bad_sep[] = {"\\A", "A\\", "A\\\\B", "\\"};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(bad_sep); i++) {
        AUTOFREE char *msg = key_rejection(bad_sep[i]);
        ck_assert_contains(msg, "empty component");
    }
    char too_long[HCS_REG_MAX_COMPONENT + 4]; /* "A\\" and 256 bytes */
    memset(too_long, 'k', sizeof(too_long));
    too_long[0] = 'A';
    too_long[1] = '\\';
    too_long[sizeof(too_long) - 1] = '\0';
    AUTOFREE char *long_msg = key_rejection(too_long);
    ck_assert_contains(long_msg, "component 2 is 256 bytes (at most 255)");
    AUTOFREE char *ctl = key_rejection("A\\B\tC");
    ck_assert_contains(ctl, "control character (0x09)");
    AUTOFREE char *del = key_rejection("A\x7f");
    ck_assert_contains(del, "control character");
    AUTOFREE char *utf = key_rejection("A\\\xc3\x28");
    ck_assert_contains(utf, "not valid UTF-8");
    AUTOFREE char *null_msg = key_rejection(NULL);
    ck_assert_contains(null_msg, "no key");

    size_t n = (size_t)2 * (HCS_REG_MAX_DEPTH + 1);
    AUTOFREE char *deep = malloc(n);
    for (size_t i = 0; i < n; i += 2) {
        deep[i] = 'a';
        deep[i + 1] = '\\';
    }
    deep[n - 1] = '\0';
    AUTOFREE char *deep_msg = key_rejection(deep);
    ck_assert_contains(deep_msg, "deeper than 512");
}
END_TEST

START_TEST(value_check__enforces_encodings_and_sizes)
{
    uint8_t four[4] = {1, 2, 3, 4}, eight[8] = {0};
    value_ok("", HCS_REG_DWORD, four, 4);
    value_ok("q", HCS_REG_QWORD, eight, 8);
    value_ok("s", HCS_REG_SZ, "hello", 5);
    value_ok("s", HCS_REG_SZ, NULL, 0);
    value_ok("m", HCS_REG_MULTI_SZ, "a\0b\0", 4);
    value_ok("m", HCS_REG_MULTI_SZ, "", 0);
    value_ok("b", HCS_REG_BINARY, "\0\xff", 2);
    value_ok("custom", 0x12345u, "\xff", 1);

    AUTOFREE char *dword = value_rejection("d", HCS_REG_DWORD, eight, 3);
    ck_assert_contains(dword, "DWORD value \"d\" is 3 bytes, not 4");
    AUTOFREE char *qword = value_rejection("", HCS_REG_QWORD, four, 4);
    ck_assert_contains(qword, "QWORD value \"@\" is 4 bytes, not 8");
    AUTOFREE char *multi = value_rejection("m", HCS_REG_MULTI_SZ, "a\0b", 3);
    ck_assert_contains(multi, "does not end with a NUL");
    AUTOFREE char *nul = value_rejection("s", HCS_REG_EXPAND_SZ, "a\0b", 3);
    ck_assert_contains(nul, "not UTF-8 without NUL");
    AUTOFREE char *nodata = value_rejection("s", HCS_REG_BINARY, NULL, 3);
    ck_assert_contains(nodata, "no data");

    AUTOFREE uint8_t *big = calloc(1, HCS_REG_MAX_DATA + 1);
    value_ok("big", HCS_REG_BINARY, big, HCS_REG_MAX_DATA);
    AUTOFREE char *too_big = value_rejection("big", HCS_REG_BINARY, big, HCS_REG_MAX_DATA + 1);
    ck_assert_contains(too_big, "at most 1048576");

    AUTOFREE char *name = malloc(HCS_REG_MAX_NAME + 2);
    memset(name, 'n', HCS_REG_MAX_NAME + 1);
    name[HCS_REG_MAX_NAME + 1] = '\0';
    AUTOFREE char *long_name = value_rejection(name, HCS_REG_NONE, NULL, 0);
    ck_assert_contains(long_name, "at most 16383");
    name[HCS_REG_MAX_NAME] = '\0';
    value_ok(name, HCS_REG_NONE, NULL, 0);
}
END_TEST

START_TEST(name_cmp__folds_ascii_letters_only)
{
    ck_assert_int_eq(hcs_reg_name_cmp("Tcpip", "TCPIP"), 0);
    ck_assert_int_eq(hcs_reg_name_cmp("", ""), 0);
    ck_assert_int_lt(hcs_reg_name_cmp("a", "B"), 0);
    ck_assert_int_gt(hcs_reg_name_cmp("b", "A"), 0);
    ck_assert_int_lt(hcs_reg_name_cmp("ab", "ABC"), 0);
    ck_assert_int_lt(hcs_reg_name_cmp("", "a"), 0);
    /* Non-ASCII bytes are compared as they are: "É" and "é" differ. */
    ck_assert_int_ne(hcs_reg_name_cmp("\xc3\x89", "\xc3\xa9"), 0);
}
END_TEST

static int key_cmp_qsort(const void *a, const void *b)
{
    return hcs_reg_key_cmp(*(const char *const *)a, *(const char *const *)b);
}

START_TEST(key_cmp__orders_components_and_keeps_descendants_together)
{
    ck_assert_int_lt(hcs_reg_key_cmp("A", "A\\B"), 0);
    ck_assert_int_lt(hcs_reg_key_cmp("A\\B", "A\\C"), 0);
    ck_assert_int_lt(hcs_reg_key_cmp("A\\C", "AB"), 0);
    ck_assert_int_lt(hcs_reg_key_cmp("", "A"), 0);
    ck_assert_int_eq(hcs_reg_key_cmp("a\\b", "A\\B"), 0);
    /* '!' (0x21) sorts below letters byte-wise, but a separator ends the component first. */
    ck_assert_int_lt(hcs_reg_key_cmp("A\\Z", "A!"), 0);

    const char *keys[] = {"b", "A!", "a\\z", "A\\B\\C", "a\\b", "AB", "a", "A\\B!", "", "a\\B\\a"};
    qsort(keys, HCS_ARRAY_SIZE(keys), sizeof(keys[0]), key_cmp_qsort);
    const char *want[] = {"", "a", "a\\b", "a\\B\\a", "A\\B\\C", "A\\B!", "a\\z", "A!", "AB", "b"};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(want); i++)
        ck_assert_str_eq(keys[i], want[i]);
}
END_TEST

HCS_TEST_SUITE(model_suite)
{
    Suite *s = suite_create("registry_model");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, hive_names__round_trip_case_insensitively);
    tcase_add_test(tc, key_check__accepts_root_and_good_paths);
    tcase_add_test(tc, key_check__rejects_bad_separators_lengths_and_characters);
    tcase_add_test(tc, value_check__enforces_encodings_and_sizes);
    tcase_add_test(tc, name_cmp__folds_ascii_letters_only);
    tcase_add_test(tc, key_cmp__orders_components_and_keeps_descendants_together);
    suite_add_tcase(s, tc);
    return s;
}
