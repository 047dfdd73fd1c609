/* test_json.c - RegistryChanges documents applied to a system's registry, and JSON queries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "hcs_test.h"
#include "registry/registry.h"

#define SW HCS_REG_HIVE_SOFTWARE

static hcs_reg_system *sys;

static void setup(void)
{
    hcs_error *err = NULL;
    int r = hcs_reg_system_open(NULL, 0, NULL, &sys, &err);
    ck_assert_msg(r == 0, "open: %s", err ? err->message : "?");
}

static void teardown(void)
{
    hcs_reg_system_close(sys);
    sys = NULL;
}

/* Apply the document text; return the error (the caller frees), NULL on success. */
static hcs_error *apply(const char *text)
{
    AUTOJSON cJSON *doc = NULL;
    hcs_error *err = NULL;
    ck_assert_msg(hcs_json_parse(text, strlen(text), "test", &doc, NULL) == 0, "bad JSON: %s",
                  text);
    int r = hcs_reg_apply_json(sys, doc, "Container.RegistryChanges", &err);
    ck_assert_int_eq(r == 0, err == NULL);
    return err;
}

static void apply_ok(const char *text)
{
    hcs_error *err = apply(text);
    ck_assert_msg(err == NULL, "apply: %s", err ? err->message : "");
}

static void apply_fails(const char *text, const char *needle)
{
    AUTOERR hcs_error *err = apply(text);
    ck_assert_msg(err != NULL, "applied: %s", text);
    ck_assert_contains(err->message, needle);
}

/* The query of key as compact JSON text (the caller frees), or NULL with *err. */
static char *query(const char *key, hcs_error **err)
{
    AUTOJSON cJSON *q = hcs_reg_query_json(sys, SW, key, err);
    return q ? cJSON_PrintUnformatted(q) : NULL;
}

static const cJSON *value_named(const cJSON *q, const char *name)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(q, "Values"))
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "Name")), name) == 0)
            return v;
    }
    return NULL;
}

static const char *field(const cJSON *v, const char *name)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(v, name);
    if (cJSON_IsString(f))
        return f->valuestring;
    return cJSON_IsRaw(f) ? f->valuestring : NULL; /* exact integers are raw nodes */
}

START_TEST(apply_json__every_value_type_comes_back_from_a_query)
{
    apply_ok("{\"AddValues\": ["
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"App\\\\Cfg\"}, \"Name\": \"s\","
             " \"Type\": \"String\", \"StringValue\": \"hello\"},"
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"App\\\\Cfg\"}, \"Name\": \"e\","
             " \"Type\": \"ExpandedString\", \"StringValue\": \"%PATH%\"},"
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"App\\\\Cfg\"}, \"Name\": \"m\","
             " \"Type\": \"MultiString\", \"StringValue\": \"a\\nb\"},"
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"App\\\\Cfg\"}, \"Name\": \"b\","
             " \"Type\": \"Binary\", \"BinaryValue\": \"AAEC/w==\"},"
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"App\\\\Cfg\"}, \"Name\": \"d\","
             " \"Type\": \"DWord\", \"DWordValue\": 4294967295},"
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"App\\\\Cfg\"}, \"Name\": \"q\","
             " \"Type\": \"QWord\", \"QWordValue\": 18446744073709551615},"
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"App\\\\Cfg\"}, \"Name\": \"c\","
             " \"Type\": \"CustomType\", \"CustomType\": 4096, \"BinaryValue\": \"eHk=\"},"
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"App\\\\Cfg\"},"
             " \"Type\": \"None\"}]}");
    hcs_error *err = NULL;
    AUTOJSON cJSON *q = hcs_reg_query_json(sys, SW, "app\\cfg", &err);
    ck_assert_msg(q != NULL, "query: %s", err ? err->message : "");
    ck_assert_str_eq(field(q, "Hive"), "Software");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(q, "Values")), 8);
    const cJSON *v = value_named(q, "s");
    ck_assert_str_eq(field(v, "Type"), "String");
    ck_assert_str_eq(field(v, "StringValue"), "hello");
    /* Keys compare without case; the answer names the key as it was asked for. */
    ck_assert_str_eq(field(cJSON_GetObjectItemCaseSensitive(v, "Key"), "Name"), "app\\cfg");
    ck_assert_str_eq(field(cJSON_GetObjectItemCaseSensitive(v, "Key"), "Hive"), "Software");
    v = value_named(q, "e");
    ck_assert_str_eq(field(v, "Type"), "ExpandedString");
    ck_assert_str_eq(field(v, "StringValue"), "%PATH%");
    v = value_named(q, "m");
    ck_assert_str_eq(field(v, "Type"), "MultiString");
    ck_assert_str_eq(field(v, "StringValue"), "a\nb");
    v = value_named(q, "b");
    ck_assert_str_eq(field(v, "Type"), "Binary");
    ck_assert_str_eq(field(v, "BinaryValue"), "AAEC/w==");
    v = value_named(q, "d");
    ck_assert_str_eq(field(v, "Type"), "DWord");
    ck_assert_str_eq(field(v, "DWordValue"), "4294967295");
    v = value_named(q, "q");
    ck_assert_str_eq(field(v, "Type"), "QWord");
    ck_assert_str_eq(field(v, "QWordValue"), "18446744073709551615");
    v = value_named(q, "c");
    ck_assert_str_eq(field(v, "Type"), "CustomType");
    ck_assert_str_eq(field(v, "CustomType"), "4096");
    ck_assert_str_eq(field(v, "BinaryValue"), "eHk=");
    v = value_named(q, "");
    ck_assert_str_eq(field(v, "Type"), "None");
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(v, "BinaryValue"));

    /* The data is stored as the REG_* encoding, not as text. */
    hcs_reg_value rv;
    ck_assert_int_eq(hcs_reg_view_get(hcs_reg_system_view(sys), SW, "App\\Cfg", "m", &rv), 1);
    ck_assert_uint_eq(rv.type, HCS_REG_MULTI_SZ);
    ck_assert_uint_eq(rv.len, 4);
    ck_assert_mem_eq(rv.data, "a\0b\0", 4);
    ck_assert_int_eq(hcs_reg_view_get(hcs_reg_system_view(sys), SW, "App\\Cfg", "d", &rv), 1);
    ck_assert_uint_eq(rv.type, HCS_REG_DWORD);
    ck_assert_mem_eq(rv.data, "\xff\xff\xff\xff", 4);
}
END_TEST

START_TEST(apply_json__delete_keys_then_add_values_in_one_batch)
{
    apply_ok("{\"AddValues\": ["
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"A\\\\Old\"}, \"Name\": \"x\","
             " \"Type\": \"String\", \"StringValue\": \"1\"},"
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"A\"}, \"Name\": \"y\","
             " \"Type\": \"String\", \"StringValue\": \"2\"}]}");
    apply_ok("{\"DeleteKeys\": [{\"Hive\": \"Software\", \"Name\": \"a\"}],"
             " \"AddValues\": [{\"Key\": {\"Hive\": \"Software\", \"Name\": \"A\\\\New\"},"
             " \"Name\": \"z\", \"Type\": \"DWord\", \"DWordValue\": 3}]}");
    hcs_error *err = NULL;
    AUTOFREE char *q = query("A", &err);
    ck_assert_msg(q != NULL, "query: %s", err ? err->message : "");
    ck_assert_str_eq(q,
                     "{\"Hive\":\"Software\",\"Key\":\"A\",\"Subkeys\":[\"New\"],\"Values\":[]}");
}
END_TEST

/* DeleteValues (libhcs extension) removes single values, the default one when Name is absent,
 * before AddValues of the same batch. */
START_TEST(apply_json__delete_values_removes_single_values)
{
    apply_ok("{\"AddValues\": ["
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"A\"}, \"Name\": \"x\","
             " \"Type\": \"String\", \"StringValue\": \"1\"},"
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"A\"},"
             " \"Type\": \"String\", \"StringValue\": \"default\"},"
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"A\"}, \"Name\": \"y\","
             " \"Type\": \"String\", \"StringValue\": \"2\"}]}");
    apply_ok("{\"DeleteValues\": [{\"Key\": {\"Hive\": \"Software\", \"Name\": \"a\"}, "
             "\"Name\": \"X\"}, {\"Key\": {\"Hive\": \"Software\", \"Name\": \"a\"}}],"
             " \"AddValues\": [{\"Key\": {\"Hive\": \"Software\", \"Name\": \"A\"},"
             " \"Name\": \"y\", \"Type\": \"String\", \"StringValue\": \"3\"}]}");
    hcs_error *err = NULL;
    AUTOFREE char *q = query("A", &err);
    ck_assert_msg(q != NULL, "query: %s", err ? err->message : "");
    ck_assert_str_eq(q, "{\"Hive\":\"Software\",\"Key\":\"A\",\"Subkeys\":[],\"Values\":[{\"Key\":"
                        "{\"Hive\":\"Software\",\"Name\":\"A\"},\"Name\":\"y\",\"StringValue\":"
                        "\"3\",\"Type\":\"String\"}]}");
    apply_fails("{\"DeleteValues\": [{\"Name\": \"v\"}]}",
                "Container.RegistryChanges.DeleteValues[0].Key");
}
END_TEST

START_TEST(apply_json__refuses_bad_base64_naming_the_field)
{
    apply_fails("{\"AddValues\": ["
                "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"K\"}, \"Name\": \"ok\","
                " \"Type\": \"String\", \"StringValue\": \"fine\"},"
                "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"K\"}, \"Name\": \"b\","
                " \"Type\": \"Binary\", \"BinaryValue\": \"not base64!\"}]}",
                "Container.RegistryChanges.AddValues[1].BinaryValue: not valid base64");
    /* All or nothing: the good value before the bad one is not applied either. */
    ck_assert(!hcs_reg_view_key_exists(hcs_reg_system_view(sys), SW, "K"));
}
END_TEST

START_TEST(apply_json__refuses_an_oversize_binary_value_naming_the_field)
{
    size_t n = (HCS_REG_MAX_DATA / 3 + 2) * 4; /* a little over 1 MiB decoded */
    AUTOFREE char *b64 = malloc(n + 1);
    ck_assert_ptr_nonnull(b64);
    memset(b64, 'A', n);
    b64[n] = '\0';
    AUTOFREE char *doc = NULL;
    ck_assert_int_ge(asprintf(&doc,
                              "{\"AddValues\": [{\"Key\": {\"Hive\": \"Software\", \"Name\": "
                              "\"K\"}, \"Name\": \"big\", \"Type\": \"Binary\", \"BinaryValue\": "
                              "\"%s\"}]}",
                              b64),
                     0);
    apply_fails(doc, "Container.RegistryChanges.AddValues[0].BinaryValue:");
    apply_fails(doc, "over the 1 MiB limit");
}
END_TEST

START_TEST(apply_json__refuses_a_dword_that_does_not_fit)
{
    apply_fails("{\"AddValues\": [{\"Key\": {\"Hive\": \"Software\", \"Name\": \"K\"}, \"Name\": "
                "\"d\", \"Type\": \"DWord\", \"DWordValue\": 4294967296}]}",
                "Container.RegistryChanges.AddValues[0].DWordValue: expected a 32-bit unsigned");
}
END_TEST

START_TEST(apply_json__refuses_bad_keys_and_names_by_field)
{
    apply_fails("{\"AddValues\": [{\"Key\": {\"Hive\": \"Software\", \"Name\": \"A\\\\\\\\B\"}, "
                "\"Name\": \"v\", \"Type\": \"String\", \"StringValue\": \"x\"}]}",
                "Container.RegistryChanges.AddValues[0].Key.Name");
    apply_fails("{\"DeleteKeys\": [{\"Hive\": \"Software\", \"Name\": \"A\"}, "
                "{\"Hive\": \"Software\", \"Name\": \"\\\\A\"}]}",
                "Container.RegistryChanges.DeleteKeys[1].Name");
    apply_fails("{\"DeleteKeys\": [{\"Hive\": \"System\", \"Name\": \"\"}]}",
                "Container.RegistryChanges.DeleteKeys[0].Name: the root of a hive cannot be "
                "deleted");
    apply_fails("{\"AddValues\": [{\"Key\": {\"Hive\": \"Registry\", \"Name\": \"A\"}, "
                "\"Name\": \"v\", \"Type\": \"String\", \"StringValue\": \"x\"}]}",
                "Container.RegistryChanges.AddValues[0].Key.Hive");
    apply_fails("{\"AddValues\": [{\"Key\": {\"Hive\": \"Software\", \"Name\": \"A\"}, "
                "\"Name\": \"v\", \"Type\": \"DWord\"}]}",
                "Container.RegistryChanges.AddValues[0].DWordValue: required for Type \"DWord\"");
}
END_TEST

START_TEST(query_json__a_missing_key_is_file_not_found_naming_it)
{
    hcs_error *err = NULL;
    AUTOFREE char *q = query("No\\Such", &err);
    ck_assert_ptr_null(q);
    ck_assert_ptr_nonnull(err);
    ck_assert_hr(err->hr, HCS_E_FILE_NOT_FOUND);
    ck_assert_contains(err->message, "Software\\No\\Such");
    hcs_err_free(err);
}
END_TEST

START_TEST(query_json__lists_subkeys_in_order_and_the_root_exists)
{
    apply_ok("{\"AddValues\": ["
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"b\\\\x\"}, \"Name\": \"v\","
             " \"Type\": \"String\", \"StringValue\": \"1\"},"
             "{\"Key\": {\"Hive\": \"Software\", \"Name\": \"A\"}, \"Name\": \"v\","
             " \"Type\": \"String\", \"StringValue\": \"1\"}]}");
    hcs_error *err = NULL;
    AUTOFREE char *q = query("", &err);
    ck_assert_msg(q != NULL, "query: %s", err ? err->message : "");
    ck_assert_str_eq(
        q, "{\"Hive\":\"Software\",\"Key\":\"\",\"Subkeys\":[\"A\",\"b\"],\"Values\":[]}");
}
END_TEST

HCS_TEST_SUITE(registry_json_suite)
{
    Suite *s = suite_create("registry_json");
    TCase *tc = tcase_create("json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, apply_json__every_value_type_comes_back_from_a_query);
    tcase_add_test(tc, apply_json__delete_keys_then_add_values_in_one_batch);
    tcase_add_test(tc, apply_json__delete_values_removes_single_values);
    tcase_add_test(tc, apply_json__refuses_bad_base64_naming_the_field);
    tcase_add_test(tc, apply_json__refuses_an_oversize_binary_value_naming_the_field);
    tcase_add_test(tc, apply_json__refuses_a_dword_that_does_not_fit);
    tcase_add_test(tc, apply_json__refuses_bad_keys_and_names_by_field);
    tcase_add_test(tc, query_json__a_missing_key_is_file_not_found_naming_it);
    tcase_add_test(tc, query_json__lists_subkeys_in_order_and_the_root_exists);
    suite_add_tcase(s, tc);
    return s;
}
