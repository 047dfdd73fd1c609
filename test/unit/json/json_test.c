/* json_test.c - hcs_json_parse (syntax errors, positions, exact integers) and its helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "hcs_test.h"

/* A pointer value no allocator returns, to prove that an out-parameter was overwritten. */
#define SENTINEL ((cJSON *)(uintptr_t)0x1)

/* Parse text[0..len) as "Doc", which must fail; returns the message (caller frees). */
static char *parse_failure(const char *text, size_t len, HRESULT want)
{
    cJSON *out = SENTINEL;
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_json_parse(text, len, "Doc", &out, &err), -1);
    ck_assert_ptr_null(out);
    ck_assert_ptr_nonnull(err);
    ck_assert_hr(err->hr, want);
    char *msg = strdup(err->message);
    hcs_err_free(err);
    return msg;
}

/* Parse a NUL-terminated document, which must succeed. */
static cJSON *parse_ok(const char *text)
{
    cJSON *out = SENTINEL;
    hcs_error *err = NULL;
    int rc = hcs_json_parse(text, strlen(text), "Doc", &out, &err);
    ck_assert_msg(rc == 0, "%s: %s", text, err ? err->message : "(no error)");
    ck_assert_ptr_null(err);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_ne(out, SENTINEL);
    return out;
}

/* --- hcs_json_parse: success ------------------------------------------------------------------ */

START_TEST(parse__valid_document_gives_the_tree)
{
    AUTOJSON cJSON *j = parse_ok(" {\"a\": [1, \"two\", true, null], \"b\": {\"c\": -2.5}}\r\n\t ");
    ck_assert(cJSON_IsObject(j));
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "a");
    ck_assert_int_eq(cJSON_GetArraySize(a), 4);
    ck_assert_str_eq(cJSON_GetArrayItem(a, 1)->valuestring, "two");
    ck_assert(cJSON_IsTrue(cJSON_GetArrayItem(a, 2)));
    ck_assert(cJSON_IsNull(cJSON_GetArrayItem(a, 3)));
    const cJSON *c =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "b"), "c");
    ck_assert_str_eq(hcs_json_number_text(c), "-2.5");
    ck_assert_double_eq(c->valuedouble, -2.5);
}
END_TEST

START_TEST(parse__reads_only_len_bytes)
{
    /* The bytes after len would be garbage (and the array would not close without them). */
    const char *text = "{\"a\":1}garbage";
    cJSON *out = NULL;
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_json_parse(text, 7, "Doc", &out, &err), 0);
    ck_assert_ptr_null(err);
    ck_assert_str_eq(hcs_json_number_text(cJSON_GetObjectItemCaseSensitive(out, "a")), "1");
    cJSON_Delete(out);

    /* A buffer that is not NUL-terminated at all (ASan catches any read past len). */
    char *buf = malloc(9);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, "[1,22,333", 9); /* "[1,22,333" is cut: incomplete */
    AUTOFREE char *msg = parse_failure(buf, 9, HCS_E_INVALID_JSON);
    ck_assert_contains(msg, "Doc: the document ends too early (line 1, column ");
    memcpy(buf, "[1,22,3] ", 9);
    out = NULL;
    ck_assert_int_eq(hcs_json_parse(buf, 9, "Doc", &out, &err), 0);
    ck_assert_str_eq(hcs_json_number_text(cJSON_GetArrayItem(out, 2)), "3");
    cJSON_Delete(out);
    free(buf);
}
END_TEST

START_TEST(parse__without_an_error_pointer_still_fails)
{
    cJSON *out = SENTINEL;
    ck_assert_int_eq(hcs_json_parse("{", 1, "Doc", &out, NULL), -1);
    ck_assert_ptr_null(out);
}
END_TEST

/* --- hcs_json_parse: syntax errors ------------------------------------------------------------ */

static const struct {
    const char *text;
    const char *expect; /* the whole message */
} syntax_errors[] = {
    /* A doubled comma on the third line: column 14 is the second comma. */
    {"{\n  \"a\": 1,\n  \"b\": [1, 2,, 3]\n}\n",
     "Doc: not valid JSON at line 3, column 14 (near \", 3]\")"},
    /* A misspelt literal: column 8 is its first letter. */
    {"{\n  \"a\": tru,\n  \"b\": 2\n}", "Doc: not valid JSON at line 2, column 8 (near \"tru,\")"},
    /* A missing comma: the tab counts as one column, so the key starts at column 2. */
    {"{\n\t\"a\": 1\n\t\"b\": 2\n}", "Doc: not valid JSON at line 3, column 2 (near \"\"b\": 2\")"},
    /* Garbage inside an array on the fourth line. */
    {"[\n1,\n2,\n 3 x]", "Doc: not valid JSON at line 4, column 4 (near \"x]\")"},
    /* An invalid character as a value; "near" stops at the end of the line. */
    {"{\"a\":\n   @ }\n\n", "Doc: not valid JSON at line 2, column 4 (near \"@ }\")"},
    /* "near" shows at most 16 characters and replaces unprintable ones with '?'. */
    {"[#\x01"
     "abcdefghijklmnopqrstuvwxyz]",
     "Doc: not valid JSON at line 1, column 2 (near \"#?abcdefghijklmn\")"},
    /* A lone minus sign. */
    {"{\"x\": -}", "Doc: not valid JSON at line 1, column 7 (near \"-}\")"},
};

START_TEST(parse__syntax_error_gives_line_and_column)
{
    const char *text = syntax_errors[_i].text;
    AUTOFREE char *msg = parse_failure(text, strlen(text), HCS_E_INVALID_JSON);
    ck_assert_msg(strcmp(msg, syntax_errors[_i].expect) == 0, "row %d: %s\n got:  %s\n want: %s",
                  _i, text, msg, syntax_errors[_i].expect);
}
END_TEST

START_TEST(parse__names_the_document_in_messages)
{
    cJSON *out = NULL;
    hcs_error *err = NULL;
    ck_assert_int_eq(hcs_json_parse("[1,]", 4, "ProcessParameters document", &out, &err), -1);
    ck_assert_ptr_nonnull(err);
    ck_assert_contains(err->message, "ProcessParameters document: not valid JSON at line 1");
    hcs_err_free(err);
}
END_TEST

START_TEST(parse__empty_document)
{
    const char *empties[] = {"", " ", "\n", "   \t\r\n  \n"};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(empties); i++) {
        AUTOFREE char *msg = parse_failure(empties[i], strlen(empties[i]), HCS_E_INVALID_JSON);
        ck_assert_str_eq(msg, "Doc: empty document");
    }
    /* Only white space within len is empty, whatever follows it. */
    AUTOFREE char *cut = parse_failure("  \n \t x", 5, HCS_E_INVALID_JSON);
    ck_assert_str_eq(cut, "Doc: empty document");
    /* A buffer of white space with no NUL after it (ASan catches a read past len). */
    char *buf = malloc(4);
    ck_assert_ptr_nonnull(buf);
    memcpy(buf, " \t\r\n", 4);
    AUTOFREE char *unterminated = parse_failure(buf, 4, HCS_E_INVALID_JSON);
    free(buf);
    ck_assert_str_eq(unterminated, "Doc: empty document");
    /* Something that is not white space is not an empty document. */
    AUTOFREE char *vt = parse_failure("\v", 1, HCS_E_INVALID_JSON);
    ck_assert_contains(vt, "Doc: not valid JSON");
}
END_TEST

START_TEST(parse__trailing_text_after_the_value)
{
    /* The position is that of the extra text, not of the end of the value. */
    const char *docs[] = {"{\"a\":1} x", "{}{}", "[1] 2", "true false", "{\"a\":1}\n\n  ,"};
    const char *where[] = {"line 1, column 9", "line 1, column 3", "line 1, column 5",
                           "line 1, column 6", "line 3, column 3"};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(docs); i++) {
        AUTOFREE char *msg = parse_failure(docs[i], strlen(docs[i]), HCS_E_INVALID_JSON);
        AUTOFREE char *want =
            hcs_asprintf("Doc: unexpected text after the JSON value at %s", where[i]);
        ck_assert_msg(strcmp(msg, want) == 0, "%s: got \"%s\", want \"%s\"", docs[i], msg, want);
    }
    /* Trailing white space is fine. */
    cJSON_Delete(parse_ok("{\"a\":1} \t\r\n\n"));
}
END_TEST

START_TEST(print__keeps_parsed_integers_exact)
{
    const char *text = "{\"big\":18446744073709551615,\"neg\":-9223372036854775808,"
                       "\"odd\":9007199254740993,\"frac\":1.5,\"list\":[18446744073709551614]}";
    cJSON *doc = NULL;
    ck_assert_int_eq(hcs_json_parse(text, strlen(text), "Doc", &doc, NULL), 0);
    AUTOFREE char *printed = hcs_json_print(doc);
    ck_assert_str_eq(printed, text);
    /* cJSON alone rounds through a double: the reason hcs_json_print exists. */
    AUTOFREE char *plain = cJSON_PrintUnformatted(doc);
    ck_assert_str_ne(plain, text);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(parse__embedded_nul)
{
    /* After a complete value, and inside a string: both refused, whatever cJSON would do. */
    AUTOFREE char *after = parse_failure("{\"a\":1}\0{}", 10, HCS_E_INVALID_JSON);
    ck_assert_str_eq(after, "Doc: contains a NUL byte");
    AUTOFREE char *inside = parse_failure("{\"a\":\"x\0y\"}", 11, HCS_E_INVALID_JSON);
    ck_assert_str_eq(inside, "Doc: contains a NUL byte");
    AUTOFREE char *first = parse_failure("\0", 1, HCS_E_INVALID_JSON);
    ck_assert_str_eq(first, "Doc: contains a NUL byte");
}
END_TEST

/* --- exact integers --------------------------------------------------------------------------- */

START_TEST(parse__numbers_inside_strings_do_not_shift_number_texts)
{
    AUTOJSON cJSON *j = parse_ok("{\"a\":\"12\",\"b\":18446744073709551615}");
    uint64_t v = 0;
    ck_assert_int_eq(hcs_json_u64(cJSON_GetObjectItemCaseSensitive(j, "b"), &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert_ptr_null(hcs_json_number_text(cJSON_GetObjectItemCaseSensitive(j, "a")));

    /* Digits in keys, escaped quotes and backslashes before digits, nested arrays. */
    AUTOJSON cJSON *k = parse_ok("{\"1\":[\"-3.5e2\", 7, \"\\\"9\\\"\", \"\\\\\", -0.25],"
                                 " \"2e5\": {\"x\": 9007199254740993}, \"z\": [[1e3], \"4\", 5]}");
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(k, "1");
    ck_assert_str_eq(hcs_json_number_text(cJSON_GetArrayItem(one, 1)), "7");
    ck_assert_str_eq(hcs_json_number_text(cJSON_GetArrayItem(one, 4)), "-0.25");
    const cJSON *x =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(k, "2e5"), "x");
    ck_assert_int_eq(hcs_json_u64(x, &v), 0);
    ck_assert_uint_eq(v, 9007199254740993ull);
    const cJSON *z = cJSON_GetObjectItemCaseSensitive(k, "z");
    ck_assert_str_eq(hcs_json_number_text(cJSON_GetArrayItem(cJSON_GetArrayItem(z, 0), 0)), "1e3");
    ck_assert_str_eq(hcs_json_number_text(cJSON_GetArrayItem(z, 2)), "5");
}
END_TEST

/* Parse `{"n": <text>}` and read n with hcs_json_u64 (rc) into *v. */
static int u64_of(const char *number, uint64_t *v)
{
    char doc[128];
    snprintf(doc, sizeof(doc), "{\"n\": %s}", number);
    AUTOJSON cJSON *j = parse_ok(doc);
    return hcs_json_u64(cJSON_GetObjectItemCaseSensitive(j, "n"), v);
}

static int i64_of(const char *number, int64_t *v)
{
    char doc[128];
    snprintf(doc, sizeof(doc), "[%s]", number);
    AUTOJSON cJSON *j = parse_ok(doc);
    return hcs_json_i64(cJSON_GetArrayItem(j, 0), v);
}

START_TEST(u64__exact_values)
{
    static const struct {
        const char *text;
        uint64_t want;
    } good[] = {
        {"18446744073709551615", UINT64_MAX},
        {"9007199254740993", 9007199254740993ull}, /* 2^53 + 1: a double would round it */
        {"9007199254740992", 9007199254740992ull},
        {"18446744073709551614", UINT64_MAX - 1},
        {"0", 0},
        {"-0", 0},
        {"42", 42},
    };
    for (size_t i = 0; i < HCS_ARRAY_SIZE(good); i++) {
        uint64_t v = 12345;
        ck_assert_msg(u64_of(good[i].text, &v) == 0, "%s refused", good[i].text);
        ck_assert_msg(v == good[i].want, "%s read as %llu", good[i].text, (unsigned long long)v);
    }
}
END_TEST

START_TEST(u64__refuses_what_is_not_an_unsigned_integer)
{
    const char *bad[] = {
        "1.5",  "1e3",  "1E3", "-1", "18446744073709551616", "99999999999999999999",
        "10.0", "-0.0", "2e0"};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(bad); i++) {
        uint64_t v = 777;
        ck_assert_msg(u64_of(bad[i], &v) == -1, "%s accepted as %llu", bad[i],
                      (unsigned long long)v);
        ck_assert_msg(v == 777, "%s: out changed on failure", bad[i]);
    }
    /* Not a number at all. */
    AUTOJSON cJSON *j = parse_ok("[\"12\", true, null, [1], {\"a\": 1}]");
    for (int i = 0; i < cJSON_GetArraySize(j); i++) {
        uint64_t v;
        ck_assert_int_eq(hcs_json_u64(cJSON_GetArrayItem(j, i), &v), -1);
    }
    uint64_t v;
    ck_assert_int_eq(hcs_json_u64(NULL, &v), -1);
}
END_TEST

START_TEST(i64__exact_values_and_overflow)
{
    static const struct {
        const char *text;
        int64_t want;
    } good[] = {
        {"-9223372036854775808", INT64_MIN},
        {"9223372036854775807", INT64_MAX},
        {"-9007199254740993", -9007199254740993ll},
        {"-1", -1},
        {"0", 0},
        {"-0", 0},
    };
    for (size_t i = 0; i < HCS_ARRAY_SIZE(good); i++) {
        int64_t v = 12345;
        ck_assert_msg(i64_of(good[i].text, &v) == 0, "%s refused", good[i].text);
        ck_assert_msg(v == good[i].want, "%s read as %lld", good[i].text, (long long)v);
    }
    const char *bad[] = {"9223372036854775808",
                         "-9223372036854775809",
                         "18446744073709551615",
                         "1.5",
                         "-1e3",
                         "-2.0"};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(bad); i++) {
        int64_t v = 777;
        ck_assert_msg(i64_of(bad[i], &v) == -1, "%s accepted as %lld", bad[i], (long long)v);
        ck_assert_int_eq(v, 777);
    }
    AUTOJSON cJSON *s = parse_ok("\"-5\"");
    int64_t v;
    ck_assert_int_eq(hcs_json_i64(s, &v), -1);
}
END_TEST

/* --- hcs_json_describe ------------------------------------------------------------------------ */

START_TEST(describe__each_kind_of_value)
{
    AUTOJSON cJSON *j =
        parse_ok("[\"lots\", 12.50, -7, 1e3, true, false, null, [1], {\"a\": 1}, \"\"]");
    const char *want[] = {"\"lots\"", "12.50", "-7",       "1e3",       "true",
                          "false",    "null",  "an array", "an object", "\"\""};
    ck_assert_int_eq(cJSON_GetArraySize(j), (int)HCS_ARRAY_SIZE(want));
    for (size_t i = 0; i < HCS_ARRAY_SIZE(want); i++) {
        AUTOFREE char *d = hcs_json_describe(cJSON_GetArrayItem(j, (int)i));
        ck_assert_msg(d != NULL && strcmp(d, want[i]) == 0, "item %zu: \"%s\", expected \"%s\"", i,
                      d ? d : "(null)", want[i]);
    }
    AUTOFREE char *nothing = hcs_json_describe(NULL);
    ck_assert_str_eq(nothing, "nothing");
    /* A number built in memory has no source text: printed from its double. */
    AUTOJSON cJSON *n = cJSON_CreateNumber(2.5);
    AUTOFREE char *built = hcs_json_describe(n);
    ck_assert_str_eq(built, "2.5");
}
END_TEST

START_TEST(describe__shortens_long_strings)
{
    char forty[41], forty_one[42];
    memset(forty, 'a', 40);
    forty[40] = '\0';
    memset(forty_one, 'b', 41);
    forty_one[41] = '\0';
    AUTOJSON cJSON *s40 = cJSON_CreateString(forty);
    AUTOJSON cJSON *s41 = cJSON_CreateString(forty_one);
    AUTOFREE char *d40 = hcs_json_describe(s40);
    AUTOFREE char *d41 = hcs_json_describe(s41);
    ck_assert_int_eq(strlen(d40), 42); /* kept whole, in quotes */
    ck_assert_int_eq(d40[0], '"');
    ck_assert_int_eq(strncmp(d40 + 1, forty, 40), 0);
    ck_assert_str_eq(d41, "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...\""); /* 37 + ... */
}
END_TEST

/* --- writing exact integers ------------------------------------------------------------------- */

START_TEST(add_u64__round_trips_exactly)
{
    AUTOJSON cJSON *obj = cJSON_CreateObject();
    ck_assert_ptr_nonnull(hcs_json_add_u64(obj, "max", UINT64_MAX));
    ck_assert_ptr_nonnull(hcs_json_add_u64(obj, "odd", 9007199254740993ull));
    ck_assert_ptr_nonnull(hcs_json_add_u64(obj, "zero", 0));
    ck_assert_ptr_nonnull(hcs_json_add_i64(obj, "min", INT64_MIN));
    ck_assert_ptr_nonnull(hcs_json_add_i64(obj, "neg", -9007199254740993ll));
    AUTOFREE char *text = cJSON_PrintUnformatted(obj);
    ck_assert_str_eq(text, "{\"max\":18446744073709551615,\"odd\":9007199254740993,\"zero\":0,"
                           "\"min\":-9223372036854775808,\"neg\":-9007199254740993}");
    AUTOFREE char *printed = hcs_json_print(obj);
    ck_assert_str_eq(printed, text);

    AUTOJSON cJSON *back = parse_ok(text);
    uint64_t u = 0;
    int64_t s = 0;
    ck_assert_int_eq(hcs_json_u64(cJSON_GetObjectItemCaseSensitive(back, "max"), &u), 0);
    ck_assert_uint_eq(u, UINT64_MAX);
    ck_assert_int_eq(hcs_json_u64(cJSON_GetObjectItemCaseSensitive(back, "odd"), &u), 0);
    ck_assert_uint_eq(u, 9007199254740993ull);
    ck_assert_int_eq(hcs_json_u64(cJSON_GetObjectItemCaseSensitive(back, "zero"), &u), 0);
    ck_assert_uint_eq(u, 0);
    ck_assert_int_eq(hcs_json_i64(cJSON_GetObjectItemCaseSensitive(back, "min"), &s), 0);
    ck_assert_int_eq(s, INT64_MIN);
    ck_assert_int_eq(hcs_json_i64(cJSON_GetObjectItemCaseSensitive(back, "neg"), &s), 0);
    ck_assert_int_eq(s, -9007199254740993ll);
    /* Exact through a copy too (cJSON_Duplicate keeps the number text). */
    AUTOJSON cJSON *copy = cJSON_Duplicate(back, 1);
    ck_assert_int_eq(hcs_json_u64(cJSON_GetObjectItemCaseSensitive(copy, "max"), &u), 0);
    ck_assert_uint_eq(u, UINT64_MAX);
}
END_TEST

HCS_TEST_SUITE(json_suite)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, parse__valid_document_gives_the_tree);
    tcase_add_test(tc, parse__reads_only_len_bytes);
    tcase_add_test(tc, parse__without_an_error_pointer_still_fails);
    tcase_add_loop_test(tc, parse__syntax_error_gives_line_and_column, 0,
                        (int)HCS_ARRAY_SIZE(syntax_errors));
    tcase_add_test(tc, parse__names_the_document_in_messages);
    tcase_add_test(tc, parse__empty_document);
    tcase_add_test(tc, parse__trailing_text_after_the_value);
    tcase_add_test(tc, parse__embedded_nul);
    tcase_add_test(tc, print__keeps_parsed_integers_exact);
    suite_add_tcase(s, tc);
    tc = tcase_create("integers");
    tcase_add_test(tc, parse__numbers_inside_strings_do_not_shift_number_texts);
    tcase_add_test(tc, u64__exact_values);
    tcase_add_test(tc, u64__refuses_what_is_not_an_unsigned_integer);
    tcase_add_test(tc, i64__exact_values_and_overflow);
    tcase_add_test(tc, add_u64__round_trips_exactly);
    suite_add_tcase(s, tc);
    tc = tcase_create("describe");
    tcase_add_test(tc, describe__each_kind_of_value);
    tcase_add_test(tc, describe__shortens_long_strings);
    suite_add_tcase(s, tc);
    return s;
}
