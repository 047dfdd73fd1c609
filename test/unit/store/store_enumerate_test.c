/* store_enumerate_test.c - listing systems: filters, item shape, order, broken entries. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/util.h"
#include "hcs_test.h"
#include "store/store.h"
#include "store_fixture.h"

/* Five systems to filter. */
static void five_systems(void)
{
    fx_system("web-1", "frontend", "Container", "Running", "alice");
    fx_system("web-2", "frontend", "Container", "Paused", "bob");
    fx_system("db", "database", "Container", "Running", "alice");
    fx_system("vm", "utility", "VirtualMachine", "Running", "carol");
    fx_system("web", "frontend", "VirtualMachine", "Created", "bob");
}

START_TEST(enumerate__missing_root_gives_empty_array)
{
    AUTOJSON cJSON *arr = NULL;
    AUTOERR hcs_error *err = NULL;
    ck_assert_msg(hcs_store_enumerate(NULL, &arr, &err) == 0, "%s", err ? err->message : "");
    ck_assert(cJSON_IsArray(arr));
    ck_assert_int_eq(cJSON_GetArraySize(arr), 0);
    /* An existing but empty systems folder too. */
    ck_assert_int_eq(hcs_store_ensure_roots(NULL), 0);
    AUTOFREE char *ids = fx_enumerate_ids(NULL);
    ck_assert_str_eq(ids, "");
}
END_TEST

START_TEST(enumerate__lists_all_systems_sorted_by_id)
{
    five_systems();
    AUTOFREE char *all = fx_enumerate_ids(NULL);
    ck_assert_str_eq(all, "db,vm,web,web-1,web-2");
    hcs_store_filter none = {0};
    AUTOFREE char *all2 = fx_enumerate_ids(&none);
    ck_assert_str_eq(all2, all);
}
END_TEST

START_TEST(enumerate__item_has_the_standard_fields_then_the_rest_of_the_state)
{
    hcs_store_entry *e = fx_reserve("full");
    AUTOJSON cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "Id", "ignored: the folder name is the id");
    cJSON_AddNumberToObject(st, "Pid", 4242);
    cJSON_AddStringToObject(st, "Owner", "alice");
    cJSON_AddStringToObject(st, "State", "Running");
    cJSON_AddStringToObject(st, "SystemType", "Container");
    cJSON_AddStringToObject(st, "Name", "full-name");
    cJSON_AddStringToObject(st, "RuntimeOsType", "Windows");
    hcs_json_add_u64(st, "MemoryBytes", 9007199254740993ULL);
    cJSON_AddObjectToObject(st, "Extra");
    ck_assert_int_eq(hcs_store_write_state(e, st, NULL), 0);
    ck_assert_int_eq(hcs_store_release(e, 0, NULL), 0);

    AUTOJSON cJSON *arr = NULL;
    ck_assert_int_eq(hcs_store_enumerate(NULL, &arr, NULL), 0);
    ck_assert_int_eq(cJSON_GetArraySize(arr), 1);
    AUTOFREE char *printed = hcs_json_print(cJSON_GetArrayItem(arr, 0));
    ck_assert_str_eq(printed,
                     "{\"Id\":\"full\",\"Name\":\"full-name\",\"SystemType\":\"Container\","
                     "\"State\":\"Running\",\"Owner\":\"alice\",\"RuntimeOsType\":"
                     "\"Linux\",\"Pid\":4242,\"MemoryBytes\":9007199254740993,"
                     "\"Extra\":{}}");
}
END_TEST

START_TEST(enumerate__item_of_a_sparse_state_has_id_and_runtime_os_type)
{
    fx_system("bare", NULL, NULL, NULL, NULL);
    AUTOJSON cJSON *arr = NULL;
    ck_assert_int_eq(hcs_store_enumerate(NULL, &arr, NULL), 0);
    AUTOFREE char *printed = hcs_json_print(arr);
    ck_assert_str_eq(printed, "[{\"Id\":\"bare\",\"RuntimeOsType\":\"Linux\"}]");
    /* Without a Name it matches no name filter. */
    const char *names[] = {""};
    hcs_store_filter f = {.names = names, .n_names = 1};
    AUTOFREE char *ids = fx_enumerate_ids(&f);
    ck_assert_str_eq(ids, "");
}
END_TEST

START_TEST(enumerate__filters_by_exact_id)
{
    five_systems();
    const char *ids[] = {"web", "nosuch"};
    hcs_store_filter f = {.ids = ids, .n_ids = 2};
    AUTOFREE char *got = fx_enumerate_ids(&f); /* not web-1, web-2: no prefix match */
    ck_assert_str_eq(got, "web");
    const char *upper[] = {"WEB", "../db", NULL};
    hcs_store_filter g = {.ids = upper, .n_ids = 3};
    AUTOFREE char *none = fx_enumerate_ids(&g);
    ck_assert_str_eq(none, "");
}
END_TEST

START_TEST(enumerate__filters_by_name)
{
    five_systems();
    const char *names[] = {"frontend"};
    hcs_store_filter f = {.names = names, .n_names = 1};
    AUTOFREE char *got = fx_enumerate_ids(&f);
    ck_assert_str_eq(got, "web,web-1,web-2");
    const char *two[] = {"database", "utility"};
    hcs_store_filter g = {.names = two, .n_names = 2};
    AUTOFREE char *got2 = fx_enumerate_ids(&g);
    ck_assert_str_eq(got2, "db,vm");
}
END_TEST

START_TEST(enumerate__filters_by_type_case_sensitively)
{
    five_systems();
    const char *vm[] = {"VirtualMachine"};
    hcs_store_filter f = {.types = vm, .n_types = 1};
    AUTOFREE char *got = fx_enumerate_ids(&f);
    ck_assert_str_eq(got, "vm,web");
    const char *lower[] = {"container", "virtualmachine"};
    hcs_store_filter g = {.types = lower, .n_types = 2};
    AUTOFREE char *none = fx_enumerate_ids(&g);
    ck_assert_str_eq(none, "");
}
END_TEST

START_TEST(enumerate__filters_by_owner)
{
    five_systems();
    const char *owners[] = {"bob", "carol"};
    hcs_store_filter f = {.owners = owners, .n_owners = 2};
    AUTOFREE char *got = fx_enumerate_ids(&f);
    ck_assert_str_eq(got, "vm,web,web-2");
}
END_TEST

START_TEST(enumerate__combines_filters_with_and_and_values_with_or)
{
    five_systems();
    const char *types[] = {"Container"};
    const char *owners[] = {"alice", "bob"};
    const char *names[] = {"frontend", "database"};
    hcs_store_filter f = {.types = types, .n_types = 1, .owners = owners, .n_owners = 2};
    AUTOFREE char *got = fx_enumerate_ids(&f);
    ck_assert_str_eq(got, "db,web-1,web-2");
    f.names = names;
    f.n_names = 1; /* only "frontend" */
    AUTOFREE char *got2 = fx_enumerate_ids(&f);
    ck_assert_str_eq(got2, "web-1,web-2");
    const char *ids[] = {"web-2", "db", "vm"};
    f.ids = ids;
    f.n_ids = 3;
    AUTOFREE char *got3 = fx_enumerate_ids(&f);
    ck_assert_str_eq(got3, "web-2");
}
END_TEST

START_TEST(enumerate__skips_broken_and_foreign_entries)
{
    fx_system("good", "g", "Container", "Running", "o");
    /* Being created: reserved, no state yet. */
    hcs_store_entry *creating = fx_reserve("creating");
    /* A crashed writer's truncated state, and states that are not objects. */
    fx_write_raw("truncated", "state.json", "{\"Name\": \"t");
    fx_write_raw("array", "state.json", "[]");
    fx_write_raw("empty", "state.json", "");
    /* Folders whose names are not ids, even with a good state. */
    fx_write_raw(".hidden", "state.json", "{\"Name\":\"h\"}");
    fx_write_raw("bad name", "state.json", "{\"Name\":\"b\"}");
    /* A state.json that is a folder. */
    AUTOFREE char *weird = fx_run_path("systems/weird/state.json");
    ck_assert_int_eq(hcs_mkdir_p(weird, 0700, NULL), 0);
    /* A file and a symlink (to a good system) with valid id names. */
    AUTOFREE char *file = fx_run_path("systems/plainfile");
    FILE *fp = fopen(file, "we");
    ck_assert_ptr_nonnull(fp);
    fclose(fp);
    AUTOFREE char *link = fx_run_path("systems/link");
    ck_assert_int_eq(symlink("good", link), 0);

    AUTOFREE char *got = fx_enumerate_ids(NULL);
    ck_assert_str_eq(got, "good");
    /* Naming a broken one explicitly does not make it appear or fail the call. */
    const char *ids[] = {"truncated", "creating", "link"};
    hcs_store_filter f = {.ids = ids, .n_ids = 3};
    AUTOFREE char *none = fx_enumerate_ids(&f);
    ck_assert_str_eq(none, "");
    /* Once its state is written the system being created shows up. */
    AUTOJSON cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "State", "Created");
    ck_assert_int_eq(hcs_store_write_state(creating, st, NULL), 0);
    AUTOFREE char *now = fx_enumerate_ids(NULL);
    ck_assert_str_eq(now, "creating,good");
    ck_assert_int_eq(hcs_store_release(creating, 1, NULL), 0);
}
END_TEST

START_TEST(enumerate__rejects_a_null_list_with_a_count)
{
    hcs_store_filter f = {.owners = NULL, .n_owners = 2};
    cJSON *arr = (cJSON *)&arr;
    AUTOERR hcs_error *err = NULL;
    ck_assert_int_eq(hcs_store_enumerate(&f, &arr, &err), -1);
    ck_assert_ptr_null(arr);
    ck_assert_hr(err->hr, E_INVALIDARG);
    ck_assert_str_eq(err->message, "enumerate compute systems: filter: owners is NULL but its "
                                   "count is 2");
}
END_TEST

HCS_TEST_SUITE(store_enumerate_suite)
{
    Suite *s = suite_create("store_enumerate");
    TCase *tc = tcase_create("enumerate");
    tcase_add_checked_fixture(tc, hcs_test_roots_setup, hcs_test_roots_teardown);
    tcase_add_test(tc, enumerate__missing_root_gives_empty_array);
    tcase_add_test(tc, enumerate__lists_all_systems_sorted_by_id);
    tcase_add_test(tc, enumerate__item_has_the_standard_fields_then_the_rest_of_the_state);
    tcase_add_test(tc, enumerate__item_of_a_sparse_state_has_id_and_runtime_os_type);
    tcase_add_test(tc, enumerate__filters_by_exact_id);
    tcase_add_test(tc, enumerate__filters_by_name);
    tcase_add_test(tc, enumerate__filters_by_type_case_sensitively);
    tcase_add_test(tc, enumerate__filters_by_owner);
    tcase_add_test(tc, enumerate__combines_filters_with_and_and_values_with_or);
    tcase_add_test(tc, enumerate__skips_broken_and_foreign_entries);
    tcase_add_test(tc, enumerate__rejects_a_null_list_with_a_count);
    suite_add_tcase(s, tc);
    return s;
}
