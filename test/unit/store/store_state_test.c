/* store_state_test.c - state.json and the other files of a system: atomic, exact, validated. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "hcs_test.h"
#include "store/store.h"
#include "store_fixture.h"

/* 2^53 + 1: the first integer a double cannot hold. */
#define BEYOND_DOUBLE 9007199254740993ULL

static uint64_t u64_field(const cJSON *obj, const char *name)
{
    uint64_t v = 0;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, name);
    ck_assert_msg(hcs_json_u64(n, &v) == 0, "%s is not an exact unsigned integer", name);
    return v;
}

START_TEST(state__round_trip_keeps_integers_above_2_pow_53)
{
    hcs_store_entry *e = fx_reserve("exact");
    AUTOJSON cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "State", "Running");
    hcs_json_add_u64(st, "Big", BEYOND_DOUBLE);
    hcs_json_add_u64(st, "Max", UINT64_MAX);
    hcs_json_add_i64(st, "Min", INT64_MIN);
    cJSON_AddNumberToObject(st, "Small", 42);
    AUTOERR hcs_error *err = NULL;
    ck_assert_msg(hcs_store_write_state(e, st, &err) == 0, "%s", err ? err->message : "");

    AUTOJSON cJSON *got = NULL;
    ck_assert_int_eq(hcs_store_read_state(e, &got, NULL), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(got, "State")->valuestring, "Running");
    ck_assert(u64_field(got, "Big") == BEYOND_DOUBLE);
    ck_assert(u64_field(got, "Max") == UINT64_MAX);
    ck_assert(u64_field(got, "Small") == 42);
    int64_t min = 0;
    ck_assert_int_eq(hcs_json_i64(cJSON_GetObjectItem(got, "Min"), &min), 0);
    ck_assert(min == INT64_MIN);
    ck_assert_int_eq(hcs_store_release(e, 1, NULL), 0);
}
END_TEST

START_TEST(state__rewriting_a_read_state_keeps_exact_integers)
{
    hcs_store_entry *e = fx_reserve("rmw");
    AUTOJSON cJSON *st = cJSON_CreateObject();
    cJSON *nested = cJSON_AddObjectToObject(st, "Stats");
    hcs_json_add_u64(nested, "Bytes", BEYOND_DOUBLE);
    cJSON_AddNumberToObject(st, "Count", 1);
    cJSON_AddNumberToObject(st, "Ratio", 0.25);
    cJSON_AddStringToObject(st, "State", "Created");
    ck_assert_int_eq(hcs_store_write_state(e, st, NULL), 0);

    /* Read, change, write back: the untouched big integer must survive, the changed one change. */
    AUTOJSON cJSON *got = NULL;
    ck_assert_int_eq(hcs_store_read_state(e, &got, NULL), 0);
    cJSON_ReplaceItemInObject(got, "State", cJSON_CreateString("Running"));
    cJSON_SetNumberValue(cJSON_GetObjectItem(got, "Count"), 2);
    ck_assert_int_eq(hcs_store_write_state(e, got, NULL), 0);

    AUTOJSON cJSON *again = NULL;
    ck_assert_int_eq(hcs_store_read_state(e, &again, NULL), 0);
    ck_assert(u64_field(cJSON_GetObjectItem(again, "Stats"), "Bytes") == BEYOND_DOUBLE);
    ck_assert(u64_field(again, "Count") == 2);
    ck_assert(cJSON_GetObjectItem(again, "Ratio")->valuedouble == 0.25);
    ck_assert_str_eq(cJSON_GetObjectItem(again, "State")->valuestring, "Running");
    ck_assert_int_eq(hcs_store_release(e, 1, NULL), 0);
}
END_TEST

START_TEST(state__atomic_writes_leave_no_temporary_files)
{
    hcs_store_entry *e = fx_reserve("atomic");
    for (int i = 0; i < 50; i++) {
        AUTOJSON cJSON *st = cJSON_CreateObject();
        cJSON_AddNumberToObject(st, "Generation", i);
        ck_assert_int_eq(hcs_store_write_state(e, st, NULL), 0);
        ck_assert_int_eq(hcs_store_write_file(e, "config.json", "{\"a\":1}", 7, NULL), 0);
    }
    AUTOFREE char *dir = fx_run_path("systems/atomic");
    /* lock, state.json, config.json and nothing else. */
    ck_assert_uint_eq(fx_count_entries(dir, ""), 3);
    ck_assert_uint_eq(fx_count_entries(dir, "."), 0);
    AUTOFREE char *state = fx_run_path("systems/atomic/state.json");
    ck_assert_uint_eq(fx_mode(state), 0600);
    AUTOJSON cJSON *got = NULL;
    ck_assert_int_eq(hcs_store_read_state(e, &got, NULL), 0);
    ck_assert(u64_field(got, "Generation") == 49);
    ck_assert_int_eq(hcs_store_release(e, 1, NULL), 0);
}
END_TEST

START_TEST(write_file__failure_leaves_no_temporary_file)
{
    hcs_store_entry *e = fx_reserve("failing");
    /* A folder where the file should go: the final rename fails. */
    AUTOFREE char *blocker = fx_run_path("systems/failing/config.json");
    ck_assert_int_eq(mkdir(blocker, 0700), 0);
    AUTOERR hcs_error *err = NULL;
    ck_assert_int_eq(hcs_store_write_file(e, "config.json", "{}", 2, &err), -1);
    ck_assert_contains(err->message, "write config.json of compute system \"failing\": ");
    AUTOFREE char *dir = fx_run_path("systems/failing");
    ck_assert_uint_eq(fx_count_entries(dir, "."), 0);
    ck_assert_uint_eq(fx_count_entries(dir, ""), 2); /* lock and the blocking folder */
    ck_assert_int_eq(hcs_store_release(e, 1, NULL), 0);
}
END_TEST

START_TEST(write_file__round_trips_bytes_with_mode_0600)
{
    hcs_store_entry *e = fx_reserve("cfg");
    const char doc[] = "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1}}\n";
    ck_assert_int_eq(hcs_store_write_file(e, HCS_STORE_CONFIG_FILE, doc, strlen(doc), NULL), 0);
    AUTOFREE char *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(hcs_store_read_file(e, HCS_STORE_CONFIG_FILE, 1 << 20, &text, &len, NULL), 0);
    ck_assert_uint_eq(len, strlen(doc));
    ck_assert_str_eq(text, doc);
    AUTOFREE char *path = fx_run_path("systems/cfg/config.json");
    ck_assert_uint_eq(fx_mode(path), 0600);
    ck_assert_int_eq(hcs_store_release(e, 1, NULL), 0);
}
END_TEST

START_TEST(write_file__rejects_names_that_are_not_plain)
{
    hcs_store_entry *e = fx_reserve("names");
    const char *bad[] = {NULL, "", "../escape", "sub/file", ".hidden", ".", "..", "lock"};
    for (size_t i = 0; i < HCS_ARRAY_SIZE(bad); i++) {
        AUTOERR hcs_error *err = NULL;
        ck_assert_int_eq(hcs_store_write_file(e, bad[i], "x", 1, &err), -1);
        ck_assert_hr(err->hr, E_INVALIDARG);
        ck_assert_contains(err->message, "write a file of compute system \"names\": ");
        AUTOERR hcs_error *rerr = NULL;
        char *text = (char *)"unchanged";
        ck_assert_int_eq(hcs_store_read_file(e, bad[i], 100, &text, NULL, &rerr), -1);
        ck_assert_ptr_null(text);
        ck_assert_hr(rerr->hr, E_INVALIDARG);
    }
    AUTOFREE char *parent = fx_run_path("systems");
    ck_assert_uint_eq(fx_count_entries(parent, ""), 1); /* nothing escaped the folder */
    AUTOFREE char *dir = fx_run_path("systems/names");
    ck_assert_uint_eq(fx_count_entries(dir, ""), 1); /* the lock, untouched */
    ck_assert_int_eq(hcs_store_release(e, 1, NULL), 0);
}
END_TEST

START_TEST(read_state__missing_state_is_file_not_found)
{
    hcs_store_entry *e = fx_reserve("fresh");
    cJSON *got = (cJSON *)&got;
    AUTOERR hcs_error *err = NULL;
    ck_assert_int_eq(hcs_store_read_state(e, &got, &err), -1);
    ck_assert_ptr_null(got);
    ck_assert_hr(err->hr, HCS_E_FILE_NOT_FOUND);
    ck_assert_contains(err->message, "read the state of compute system \"fresh\": ");
    ck_assert_contains(err->message, "state.json");
    ck_assert_int_eq(hcs_store_release(e, 1, NULL), 0);
}
END_TEST

START_TEST(read_state__rejects_corrupt_and_non_object_documents)
{
    hcs_store_entry *e = fx_reserve("corrupt");
    ck_assert_int_eq(hcs_store_write_file(e, "state.json", "{\"State\": ", 10, NULL), 0);
    AUTOJSON cJSON *got = NULL;
    AUTOERR hcs_error *err = NULL;
    ck_assert_int_eq(hcs_store_read_state(e, &got, &err), -1);
    ck_assert_hr(err->hr, HCS_E_INVALID_JSON);
    ck_assert_contains(
        err->message,
        "read the state of compute system \"corrupt\": state.json: the document ends too early");

    ck_assert_int_eq(hcs_store_write_file(e, "state.json", "[1,2]", 5, NULL), 0);
    AUTOERR hcs_error *err2 = NULL;
    ck_assert_int_eq(hcs_store_read_state(e, &got, &err2), -1);
    ck_assert_hr(err2->hr, HCS_E_INVALID_JSON);
    ck_assert_str_eq(err2->message,
                     "read the state of compute system \"corrupt\": state.json: not a JSON object");
    ck_assert_int_eq(hcs_store_release(e, 1, NULL), 0);
}
END_TEST

START_TEST(write_state__rejects_a_non_object)
{
    hcs_store_entry *e = fx_reserve("arr");
    AUTOJSON cJSON *arr = cJSON_CreateArray();
    AUTOERR hcs_error *err = NULL;
    ck_assert_int_eq(hcs_store_write_state(e, arr, &err), -1);
    ck_assert_hr(err->hr, E_INVALIDARG);
    ck_assert_contains(err->message, "the state is not a JSON object");
    AUTOFREE char *state = fx_run_path("systems/arr/state.json");
    ck_assert_int_eq(access(state, F_OK), -1);
    ck_assert_int_eq(hcs_store_release(e, 1, NULL), 0);
}
END_TEST

HCS_TEST_SUITE(store_state_suite)
{
    Suite *s = suite_create("store_state");
    TCase *tc = tcase_create("state");
    tcase_add_checked_fixture(tc, hcs_test_roots_setup, hcs_test_roots_teardown);
    tcase_add_test(tc, state__round_trip_keeps_integers_above_2_pow_53);
    tcase_add_test(tc, state__rewriting_a_read_state_keeps_exact_integers);
    tcase_add_test(tc, state__atomic_writes_leave_no_temporary_files);
    tcase_add_test(tc, write_file__failure_leaves_no_temporary_file);
    tcase_add_test(tc, write_file__round_trips_bytes_with_mode_0600);
    tcase_add_test(tc, write_file__rejects_names_that_are_not_plain);
    tcase_add_test(tc, read_state__missing_state_is_file_not_found);
    tcase_add_test(tc, read_state__rejects_corrupt_and_non_object_documents);
    tcase_add_test(tc, write_state__rejects_a_non_object);
    suite_add_tcase(s, tc);
    return s;
}
