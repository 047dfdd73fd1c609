/* store_id_test.c - compute system id validation and its messages. */
#include <string.h>

#include "common/cleanup.h"
#include "hcs_test.h"
#include "store/store.h"

#define RULES                                                                                      \
    "(ids are 1-128 characters: letters, digits, '-', '_', '.', '@', '+'; not starting with '.' "  \
    "or '-')"

/* The message of validating id, which must fail with E_INVALIDARG (caller frees). */
static char *rejection(const char *id)
{
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_store_validate_id(id, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_hr(err->hr, E_INVALIDARG);
    char *msg = strdup(err->message);
    hcs_err_free(err);
    return msg;
}

START_TEST(validate_id__accepts_every_allowed_character)
{
    char longest[HCS_STORE_ID_MAX + 1];
    memset(longest, 'x', HCS_STORE_ID_MAX);
    longest[HCS_STORE_ID_MAX] = '\0';
    const char *good[] = {"a",
                          "Z",
                          "0",
                          "abcXYZ019",
                          "a-b_c.d@e+f",
                          "9f1c2d3e-0000-4a4a-8b8b-123456789abc",
                          "_leading_underscore",
                          "@at",
                          "+plus",
                          "a..b",
                          "trailing.",
                          "trailing-",
                          longest};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(good); i++) {
        hcs_error *err = NULL;
        ck_assert_msg(hcs_store_validate_id(good[i], &err) == 0, "%s: %s", good[i],
                      err ? err->message : "?");
        ck_assert_ptr_null(err);
    }
}
END_TEST

START_TEST(validate_id__rejects_null_and_empty)
{
    AUTOFREE char *null_msg = rejection(NULL);
    ck_assert_str_eq(null_msg, "no id given " RULES);
    AUTOFREE char *empty_msg = rejection("");
    ck_assert_str_eq(empty_msg, "id \"\" is empty " RULES);
    /* A caller that does not want the message passes NULL. */
    ck_assert_int_eq(hcs_store_validate_id("", NULL), -1);
    ck_assert_int_eq(hcs_store_validate_id("ok", NULL), 0);
}
END_TEST

START_TEST(validate_id__rejects_more_than_128_bytes)
{
    char id[HCS_STORE_ID_MAX + 2];
    memset(id, 'a', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    AUTOFREE char *msg = rejection(id);
    ck_assert_contains(msg, ": 129 bytes long, more than 128 " RULES);
    /* The id is quoted, cut after 64 bytes. */
    ck_assert_contains(
        msg, "id \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\": ");
}
END_TEST

START_TEST(validate_id__rejects_leading_dot_and_dash)
{
    AUTOFREE char *dot = rejection(".hidden");
    ck_assert_str_eq(dot, "id \".hidden\": must not start with '.' " RULES);
    AUTOFREE char *dash = rejection("-rf");
    ck_assert_str_eq(dash, "id \"-rf\": must not start with '-' " RULES);
    AUTOFREE char *self = rejection(".");
    ck_assert_contains(self, "must not start with '.'");
    AUTOFREE char *parent = rejection("..");
    ck_assert_contains(parent, "must not start with '.'");
}
END_TEST

START_TEST(validate_id__names_offending_character_and_offset)
{
    AUTOFREE char *slash = rejection("a/b");
    ck_assert_str_eq(slash, "id \"a/b\": character '/' at offset 1 is not allowed " RULES);
    AUTOFREE char *space = rejection("my box");
    ck_assert_contains(space, "character ' ' at offset 2 is not allowed");
    AUTOFREE char *colon = rejection("abc:");
    ck_assert_contains(colon, "character ':' at offset 3 is not allowed");
    AUTOFREE char *first = rejection("/etc");
    ck_assert_contains(first, "character '/' at offset 0 is not allowed");
    /* Only the first offending byte is named. */
    AUTOFREE char *two = rejection("a*b?c");
    ck_assert_contains(two, "character '*' at offset 1 is not allowed");
}
END_TEST

START_TEST(validate_id__escapes_non_printable_and_quote_bytes)
{
    AUTOFREE char *ctl = rejection("a\x01z");
    ck_assert_str_eq(ctl, "id \"a\\x01z\": character '\\x01' at offset 1 is not allowed " RULES);
    AUTOFREE char *nl = rejection("line\n");
    ck_assert_contains(nl, "id \"line\\x0A\": character '\\x0A' at offset 4");
    /* UTF-8 is not allowed: the first byte of "é" is named. */
    AUTOFREE char *utf8 = rejection("caf\xc3\xa9");
    ck_assert_contains(utf8, "id \"caf\\xC3\\xA9\": character '\\xC3' at offset 3");
    AUTOFREE char *quote = rejection("a\"b");
    ck_assert_contains(quote, "id \"a\\\"b\": character '\"' at offset 1");
    AUTOFREE char *apos = rejection("it's");
    ck_assert_contains(apos, "character '\\'' at offset 2");
    AUTOFREE char *backslash = rejection("a\\b");
    ck_assert_contains(backslash, "id \"a\\\\b\": character '\\\\' at offset 1");
}
END_TEST

HCS_TEST_SUITE(store_id_suite)
{
    Suite *s = suite_create("store_id");
    TCase *tc = tcase_create("validate");
    tcase_add_test(tc, validate_id__accepts_every_allowed_character);
    tcase_add_test(tc, validate_id__rejects_null_and_empty);
    tcase_add_test(tc, validate_id__rejects_more_than_128_bytes);
    tcase_add_test(tc, validate_id__rejects_leading_dot_and_dash);
    tcase_add_test(tc, validate_id__names_offending_character_and_offset);
    tcase_add_test(tc, validate_id__escapes_non_printable_and_quote_bytes);
    suite_add_tcase(s, tc);
    return s;
}
