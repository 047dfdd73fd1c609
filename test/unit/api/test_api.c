/*
 * test_api.c - the exported functions other than operations: service calls, enumeration and
 * open over the runtime root, argument checks, and the E_NOTIMPL answers of the modules that are
 * not built yet (each naming what is missing).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "common/json.h"
#include "common/util.h"
#include "hcs_test.h"
#include "store/store.h"

/*
 * A system folder as a live monitor keeps it: reserved (its lock held by this test process
 * until it exits, as a monitor holds it), state written.
 */
static hcs_store_entry *held[16];
static size_t n_held;

static void plant(const char *id, const char *type, const char *owner)
{
    hcs_store_entry *e = NULL;
    hcs_error *err = NULL;
    ck_assert_msg(hcs_store_reserve(id, &e, &err) == 0, "%s", err ? err->message : "?");
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "Name", id);
    cJSON_AddStringToObject(st, "SystemType", type);
    cJSON_AddStringToObject(st, "State", "Running");
    cJSON_AddStringToObject(st, "Owner", owner);
    ck_assert_int_eq(hcs_store_write_state(e, st, NULL), 0);
    cJSON_Delete(st);
    ck_assert_uint_lt(n_held, HCS_ARRAY_SIZE(held));
    held[n_held++] = e;
}

/* Release what plant() holds (the fixture's teardown), before the folders go. */
static void api_teardown(void)
{
    while (n_held > 0)
        hcs_store_release(held[--n_held], 0, NULL);
    hcs_test_roots_teardown();
}

/* The same, but its "monitor" is gone: the lock is free. */
static void plant_dead(const char *id)
{
    hcs_store_entry *e = NULL;
    ck_assert_int_eq(hcs_store_reserve(id, &e, NULL), 0);
    cJSON *st = cJSON_CreateObject();
    cJSON_AddStringToObject(st, "SystemType", "Container");
    cJSON_AddStringToObject(st, "State", "Running");
    ck_assert_int_eq(hcs_store_write_state(e, st, NULL), 0);
    cJSON_Delete(st);
    ck_assert_int_eq(hcs_store_release(e, 0, NULL), 0);
}

/* Run an enumeration through the API and return its result document (caller frees). */
static char *enumerate(const char *query, HRESULT want)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HRESULT hr = HcsEnumerateComputeSystems(query, op);
    char *doc = NULL;
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResult(op, 5000, &doc);
    else
        HcsGetOperationResult(op, &doc);
    ck_assert_hr(hr, want);
    HcsCloseOperation(op);
    return doc;
}

static char *ids_of(const char *doc)
{
    cJSON *a = cJSON_Parse(doc);
    ck_assert_ptr_nonnull(a);
    char *out = calloc(1, 1024);
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "Id");
        ck_assert(cJSON_IsString(id));
        if (out[0])
            strcat(out, ",");
        strcat(out, id->valuestring);
    }
    cJSON_Delete(a);
    return out;
}

/* --- service ---------------------------------------------------------------------------------- */

START_TEST(service_properties__default_reports_basic_and_host)
{
    char *doc = NULL;
    ck_assert_hr(HcsGetServiceProperties(NULL, &doc), S_OK);
    cJSON *j = cJSON_Parse(doc);
    ck_assert_ptr_nonnull(j);
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(j, "Properties");
    ck_assert_int_eq(cJSON_GetArraySize(props), 2);
    const cJSON *basic = cJSON_GetArrayItem(props, 0);
    const cJSON *versions = cJSON_GetObjectItemCaseSensitive(basic, "SupportedSchemaVersions");
    ck_assert_int_ge(cJSON_GetArraySize(versions), 2);
    const cJSON *v21 = cJSON_GetArrayItem(versions, 1);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(v21, "Major")->valueint, 2);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(v21, "Minor")->valueint, 1);
    char want[32];
    snprintf(want, sizeof(want), "%d.%d.%d", HCS_VERSION_MAJOR, HCS_VERSION_MINOR,
             HCS_VERSION_PATCH);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(basic, "LibraryVersion")->valuestring, want);
    const cJSON *host = cJSON_GetArrayItem(props, 1);
    const char *mode = cJSON_GetObjectItemCaseSensitive(host, "CgroupMode")->valuestring;
    ck_assert(strcmp(mode, "v1") == 0 || strcmp(mode, "v2") == 0 || strcmp(mode, "hybrid") == 0 ||
              strcmp(mode, "unknown") == 0);
    ck_assert(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(host, "Overlayfs")));
    ck_assert(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(host, "Kvm")));
    ck_assert(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(host, "UserNamespaces")));
    /* The roots are the ones the fixture set. */
    char *run = hcs_ctx_runtime_root();
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(host, "RuntimeRoot")->valuestring, run);
    free(run);
    cJSON_Delete(j);
    HcsFree(doc);
}
END_TEST

START_TEST(service_properties__query_selects_and_orders)
{
    char *doc = NULL;
    ck_assert_hr(HcsGetServiceProperties("{\"PropertyTypes\":[\"Host\"]}", &doc), S_OK);
    ck_assert_contains(doc, "CgroupMode");
    ck_assert_ptr_null(strstr(doc, "SupportedSchemaVersions"));
    HcsFree(doc);
    ck_assert_hr(HcsGetServiceProperties("  ", &doc), S_OK); /* blank = no query */
    ck_assert_contains(doc, "SupportedSchemaVersions");
    HcsFree(doc);
}
END_TEST

START_TEST(service_properties__bad_queries_are_refused_by_path)
{
    char *doc = NULL;
    ck_assert_hr(HcsGetServiceProperties("{\"PropertyTypes\":[\"Basic\",\"CpuGroup\"]}", &doc),
                 HCS_E_INVALID_JSON);
    ck_assert_contains(doc, "PropertyTypes[1]: \\\"CpuGroup\\\" is not supported on Linux");
    HcsFree(doc);
    ck_assert_hr(HcsGetServiceProperties("{\"PropertyType\":[]}", &doc), HCS_E_INVALID_JSON);
    ck_assert_contains(doc, "did you mean \\\"PropertyTypes\\\"?");
    HcsFree(doc);
    ck_assert_hr(HcsGetServiceProperties(NULL, NULL), E_POINTER);
}
END_TEST

START_TEST(service_settings__change_roots_and_log_level)
{
    char *doc = NULL;
    ck_assert_hr(
        HcsModifyServiceSettings(
            "{\"PropertyType\":\"Roots\",\"Settings\":{\"RuntimeRoot\":\"/tmp/x-run\"}}", &doc),
        S_OK);
    ck_assert_ptr_null(doc);
    char *run = hcs_ctx_runtime_root();
    ck_assert_str_eq(run, "/tmp/x-run");
    free(run);
    ck_assert_hr(HcsModifyServiceSettings(
                     "{\"PropertyType\":\"Logging\",\"Settings\":{\"Level\":\"Debug\"}}", NULL),
                 S_OK);
    ck_assert_int_eq(hcs_ctx_log_level(), HCS_LOG_DEBUG);
    ck_assert_hr(HcsModifyServiceSettings(
                     "{\"PropertyType\":\"Logging\",\"Settings\":{\"Level\":\"Loud\"}}", &doc),
                 HCS_E_INVALID_JSON);
    ck_assert_contains(doc, "Settings.Level: unknown value \\\"Loud\\\"");
    HcsFree(doc);
    ck_assert_int_eq(hcs_ctx_log_level(), HCS_LOG_DEBUG); /* unchanged by the failure */
    ck_assert_hr(HcsModifyServiceSettings(
                     "{\"PropertyType\":\"Roots\",\"Settings\":{\"DataRoot\":\"relative\"}}", &doc),
                 HCS_E_INVALID_JSON);
    ck_assert_contains(doc, "Settings.DataRoot: expected an absolute path");
    HcsFree(doc);
    ck_assert_hr(HcsModifyServiceSettings(NULL, &doc), E_INVALIDARG);
    ck_assert_contains(doc, "required");
    HcsFree(doc);
    ck_assert_hr(HcsModifyServiceSettings("{\"PropertyType\":\"CpuGroup\",\"Settings\":{}}", NULL),
                 HCS_E_INVALID_JSON);
}
END_TEST

/* --- enumerate and open ----------------------------------------------------------------------- */

START_TEST(enumerate__lists_systems_and_applies_filters)
{
    plant("web-1", "Container", "alice");
    plant("web-2", "Container", "bob");
    plant("uvm", "VirtualMachine", "alice");
    char *doc = enumerate(NULL, S_OK), *ids = ids_of(doc);
    ck_assert_str_eq(ids, "uvm,web-1,web-2");
    free(ids);
    HcsFree(doc);
    doc = enumerate("{\"Owners\":[\"alice\"],\"Types\":[\"Container\"]}", S_OK);
    ids = ids_of(doc);
    ck_assert_str_eq(ids, "web-1");
    ck_assert_contains(doc, "\"RuntimeOsType\":\"Linux\"");
    free(ids);
    HcsFree(doc);
    doc = enumerate("{\"Ids\":[\"web-2\",\"uvm\",\"nothere\"]}", S_OK);
    ids = ids_of(doc);
    ck_assert_str_eq(ids, "uvm,web-2");
    free(ids);
    HcsFree(doc);
    doc = enumerate("{\"Types\":[\"Virtualmachine\"]}", HCS_E_INVALID_JSON);
    ck_assert_contains(doc, "Types[0]: unknown value \\\"Virtualmachine\\\"; did you mean "
                            "\\\"VirtualMachine\\\"?");
    HcsFree(doc);
}
END_TEST

START_TEST(enumerate__reports_a_dead_monitor_s_system_stopped_once_and_cleans_it_up)
{
    plant("alive", "Container", "o");
    plant_dead("crashed");
    char *doc = enumerate(NULL, S_OK);
    cJSON *a = cJSON_Parse(doc);
    ck_assert_int_eq(cJSON_GetArraySize(a), 2);
    const cJSON *dead = cJSON_GetArrayItem(a, 1); /* sorted by id: alive, crashed */
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(dead, "Id")->valuestring, "crashed");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(dead, "State")->valuestring, "Stopped");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(dead, "ExitType")->valuestring,
                     "UnexpectedExit");
    const cJSON *live = cJSON_GetArrayItem(a, 0);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(live, "State")->valuestring, "Running");
    cJSON_Delete(a);
    HcsFree(doc);
    /* Cleaned up: the next enumeration lists only the live one. */
    doc = enumerate(NULL, S_OK);
    char *ids = ids_of(doc);
    ck_assert_str_eq(ids, "alive");
    free(ids);
    HcsFree(doc);
}
END_TEST

START_TEST(open__unknown_id_is_not_found_and_bad_id_is_invalid)
{
    HCS_SYSTEM s = (HCS_SYSTEM)1;
    ck_assert_hr(HcsOpenComputeSystem("nobody", 0, &s), HCS_E_SYSTEM_NOT_FOUND);
    ck_assert_ptr_null(s);
    ck_assert_hr(HcsOpenComputeSystem("../etc", 0, &s), E_INVALIDARG);
    char *doc = NULL;
    HcsGetErrorInfo(&doc);
    ck_assert_contains(doc, "id \\\"../etc\\\"");
    HcsFree(doc);
    ck_assert_hr(HcsOpenComputeSystem("x", 0x1234, &s), E_INVALIDARG);
    ck_assert_hr(HcsOpenComputeSystem("x", HCS_GENERIC_ALL, NULL), E_POINTER);
    /* A folder whose monitor is gone (a crash) is not a system that can be opened. */
    plant("there", "Container", "o");
    ck_assert_hr(HcsOpenComputeSystem("there", HCS_GENERIC_ALL, &s), HCS_E_SYSTEM_NOT_FOUND);
    HcsGetErrorInfo(&doc);
    ck_assert_contains(doc, "has no running monitor");
    HcsFree(doc);
    ck_assert_ptr_null(s);
}
END_TEST

/* --- create
 * ---------------------------------------------------------------------------------------- */

/* Create and wait; the handle (when one was returned) is closed. */
static HRESULT create(const char *id, const char *config, char **doc)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_SYSTEM s = (HCS_SYSTEM)1;
    HRESULT hr = HcsCreateComputeSystem(id, config, op, NULL, &s);
    if (FAILED(hr))
        ck_assert_ptr_null(s);
    HRESULT result = HcsWaitForOperationResult(op, 10000, doc);
    if (FAILED(hr))
        ck_assert_hr(result, hr);
    HcsCloseComputeSystem(s);
    HcsCloseOperation(op);
    return result;
}

START_TEST(create__refuses_what_cannot_run_and_says_why)
{
    char *doc = NULL;
    ck_assert_hr(create("c1", "{\"Container\":{}}", &doc), HCS_E_INVALID_JSON);
    ck_assert_contains(doc, "Container.Storage.Layers: at least one layer is required");
    HcsFree(doc);
    ck_assert_hr(create("vm1",
                        "{\"VirtualMachine\":{\"Chipset\":{\"LinuxKernelDirect\":{"
                        "\"KernelFilePath\":\"/k\"}},\"ComputeTopology\":{\"Memory\":{"
                        "\"SizeInMB\":256}}}}",
                        &doc),
                 E_NOTIMPL);
    ck_assert_contains(doc, "lib/partition");
    HcsFree(doc);
    ck_assert_hr(create("h1",
                        "{\"HostingSystemId\":\"vm1\",\"Container\":{\"Storage\":{"
                        "\"Layers\":[{\"Path\":\"/l\"}]}}}",
                        &doc),
                 E_NOTIMPL);
    ck_assert_contains(doc, "HostingSystemId");
    HcsFree(doc);
    /* Nothing is left behind in the runtime root by a refused create. */
    char *list = enumerate(NULL, S_OK);
    ck_assert_str_eq(list, "[]");
    HcsFree(list);
}
END_TEST

START_TEST(create__without_a_monitor_binary_fails_cleanly)
{
    setenv("HCS_MONITOR_PATH", "/nonexistent/hcsmon", 1);
    char *doc = NULL;
    ck_assert_hr(
        create("m1", "{\"Container\":{\"Storage\":{\"Layers\":[{\"Path\":\"/l\"}]}}}", &doc),
        HCS_E_SERVICE_NOT_AVAILABLE);
    ck_assert_contains(doc, "HCS_MONITOR_PATH=/nonexistent/hcsmon is not an executable file");
    HcsFree(doc);
    unsetenv("HCS_MONITOR_PATH");
    char *list = enumerate(NULL, S_OK);
    ck_assert_str_eq(list, "[]"); /* the reserved id was released */
    HcsFree(list);
}
END_TEST

START_TEST(create__rejects_duplicate_id_bad_id_and_bad_arguments)
{
    plant("taken", "Container", "o");
    char *doc = NULL;
    ck_assert_hr(
        create("taken", "{\"Container\":{\"Storage\":{\"Layers\":[{\"Path\":\"/l\"}]}}}", &doc),
        HCS_E_SYSTEM_ALREADY_EXISTS);
    ck_assert_contains(doc, "compute system \\\"taken\\\" already exists");
    HcsFree(doc);
    ck_assert_hr(create("", "{\"Container\":{}}", &doc), E_INVALIDARG);
    HcsFree(doc);
    ck_assert_hr(create("ok", NULL, &doc), E_INVALIDARG);
    ck_assert_contains(doc, "ComputeSystem: the document is required");
    HcsFree(doc);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    HCS_SYSTEM s;
    ck_assert_hr(HcsCreateComputeSystem("ok", "{\"Container\":{}}", op, (void *)1, &s),
                 E_INVALIDARG);
    ck_assert_hr(HcsCreateComputeSystem("ok", "{\"Container\":{}}", op, NULL, NULL), E_POINTER);
    ck_assert_hr(HcsCreateComputeSystem("ok", "{\"Container\":{}}", NULL, NULL, &s), E_HANDLE);
    HcsCloseOperation(op);
}
END_TEST

/* --- calls whose module is not built yet
 * ------------------------------------------------------------ */

START_TEST(lifecycle__null_handles_are_refused_before_anything_else)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    char *doc = NULL;
    ck_assert_hr(HcsStartComputeSystem(NULL, op, NULL), E_HANDLE);
    ck_assert_hr(HcsGetOperationResult(op, &doc), E_HANDLE);
    ck_assert_contains(doc, "\"Detail\":\"Start\"");
    HcsFree(doc);
    ck_assert_hr(HcsShutDownComputeSystem(NULL, op, NULL), E_HANDLE);
    ck_assert_hr(HcsTerminateComputeSystem(NULL, op, NULL), E_HANDLE);
    ck_assert_hr(HcsPauseComputeSystem(NULL, op, NULL), E_HANDLE);
    ck_assert_hr(HcsResumeComputeSystem(NULL, op, NULL), E_HANDLE);
    ck_assert_hr(HcsSaveComputeSystem(NULL, op, NULL), E_HANDLE);
    ck_assert_hr(HcsGetComputeSystemProperties(NULL, op, NULL), E_HANDLE);
    ck_assert_hr(HcsModifyComputeSystem(NULL, op,
                                        "{\"ResourcePath\":\"Container/Memory/SizeInMB\","
                                        "\"RequestType\":\"Update\",\"Settings\":64}",
                                        NULL),
                 E_HANDLE);
    ck_assert_hr(HcsSetComputeSystemCallback(NULL, 0, NULL, NULL), E_HANDLE);
    ck_assert_hr(HcsWaitForComputeSystemExit(NULL, 0, &doc), E_HANDLE);
    ck_assert_contains(doc, "handle is NULL");
    HcsFree(doc);
    HCS_PROCESS p;
    ck_assert_hr(HcsCreateProcess(NULL, "{\"CommandArgs\":[\"/bin/true\"]}", op, NULL, &p),
                 E_HANDLE);
    ck_assert_hr(HcsOpenProcess(NULL, 1, 0, &p), E_HANDLE);
    ck_assert_hr(HcsTerminateProcess(NULL, op, NULL), E_HANDLE);
    ck_assert_hr(HcsSignalProcess(NULL, op, "{\"Signal\":15}"), E_HANDLE);
    ck_assert_hr(HcsGetProcessInfo(NULL, op), E_HANDLE);
    ck_assert_hr(HcsGetProcessProperties(NULL, op, NULL), E_HANDLE);
    ck_assert_hr(HcsModifyProcess(NULL, op,
                                  "{\"Operation\":\"CloseHandle\",\"CloseHandle\":{"
                                  "\"Handle\":\"StdIn\"}}"),
                 E_HANDLE);
    ck_assert_hr(HcsSetProcessCallback(NULL, 0, NULL, NULL), E_HANDLE);
    ck_assert_hr(HcsWaitForProcessExit(NULL, 0, NULL), E_HANDLE);
    HcsCloseComputeSystem(NULL);
    HcsCloseProcess(NULL);
    HcsCloseOperation(op);
}
END_TEST

/* A handle closed or never valid is refused, not dereferenced as a live system. */
START_TEST(save__a_null_handle_is_refused_with_attribution)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    ck_assert_hr(HcsSaveComputeSystem(NULL, op, NULL), E_HANDLE);
    char *doc = NULL;
    ck_assert_hr(HcsGetOperationResult(op, &doc), E_HANDLE);
    ck_assert_contains(doc, "\"Detail\":\"Save\"");
    HcsFree(doc);
    HcsCloseOperation(op);
}
END_TEST

START_TEST(storage__calls_check_arguments_and_options_and_name_what_is_wrong)
{
    char *doc = NULL;
    ck_assert_hr(HcsImportLayer(NULL, "/src", NULL), E_INVALIDARG);
    HcsGetErrorInfo(&doc);
    ck_assert_contains(doc, "layerPath is required");
    HcsFree(doc);
    ck_assert_hr(HcsImportLayer("/l", "rel", NULL), E_INVALIDARG);
    HcsGetErrorInfo(&doc);
    ck_assert_contains(doc, "sourceFolderPath must be an absolute path");
    HcsFree(doc);
    ck_assert_hr(HcsImportLayer("/l", "/src", "{\"Layers\":[{\"Path\":\"/p\",\"Id\":\"x\"}]}"),
                 HCS_E_INVALID_JSON);
    HcsGetErrorInfo(&doc);
    ck_assert_contains(doc, "Layers[0].Id: expected a GUID");
    HcsFree(doc);
    ck_assert_hr(HcsImportLayer("/l", "/src", "{\"ImportLimits\":{\"MaxBytes\":0}}"),
                 HCS_E_INVALID_JSON);
    HcsGetErrorInfo(&doc);
    ck_assert_contains(doc, "ImportLimits.MaxBytes: must be at least 1");
    HcsFree(doc);
    ck_assert_hr(HcsExportLayer("/l", "/out", NULL, "{\"Compression\":\"Lz4\"}"),
                 HCS_E_INVALID_JSON);
    HcsGetErrorInfo(&doc);
    ck_assert_contains(doc, "Compression: unknown value");
    HcsFree(doc);
    ck_assert_hr(HcsExportLayer("/l", "/out", NULL, "{\"Deterministc\":true}"), HCS_E_INVALID_JSON);
    HcsGetErrorInfo(&doc);
    ck_assert_contains(doc, "Deterministic");
    HcsFree(doc);
    ck_assert_hr(HcsInitializeWritableLayer("/w", NULL, "{\"SizeInGB\":10}"), HCS_E_INVALID_JSON);
    ck_assert_hr(HcsDestroyLayer(""), E_INVALIDARG);
    ck_assert_hr(HcsAttachLayerStorageFilter("w", NULL), E_INVALIDARG);
    ck_assert_hr(HcsDetachLayerStorageFilter(NULL), E_INVALIDARG);
    /* A source that does not exist is named, and no layer is left behind. */
    char *layer = hcs_asprintf("%s/no-layer", hcs_test_root());
    ck_assert_hr(HcsImportLayer(layer, "/nonexistent/layer.tar", NULL), HCS_E_FILE_NOT_FOUND);
    HcsGetErrorInfo(&doc);
    ck_assert_contains(doc, "/nonexistent/layer.tar");
    HcsFree(doc);
    ck_assert_int_ne(access(layer, F_OK), 0);
    free(layer);
}
END_TEST

/* --- result codes
 * ----------------------------------------------------------------------------------- */

START_TEST(hresult__errno_encoding_round_trips_and_known_errnos_map_to_windows_codes)
{
    ck_assert_uint_eq((uint32_t)HRESULT_FROM_ERRNO(EBUSY), 0xA0EE0000u | EBUSY);
    ck_assert(FAILED(HRESULT_FROM_ERRNO(EBUSY)));
    ck_assert_int_eq(HCS_HRESULT_ERRNO(HRESULT_FROM_ERRNO(EBUSY)), EBUSY);
    ck_assert_int_eq(HCS_HRESULT_ERRNO(E_INVALIDARG), 0);
    ck_assert_hr(hcs_hresult_from_errno(ENOENT), HCS_E_FILE_NOT_FOUND);
    ck_assert_hr(hcs_hresult_from_errno(EACCES), E_ACCESSDENIED);
    ck_assert_hr(hcs_hresult_from_errno(ENOMEM), E_OUTOFMEMORY);
    ck_assert_hr(hcs_hresult_from_errno(EBUSY), HRESULT_FROM_ERRNO(EBUSY));
    /* The documented Windows values. */
    ck_assert_uint_eq((uint32_t)HCS_E_INVALID_JSON, 0x8037010Du);
    ck_assert_uint_eq((uint32_t)HCS_E_OPERATION_ALREADY_CANCELLED, 0x80370121u);
    ck_assert_uint_eq((uint32_t)E_NOTIMPL, 0x80004001u);
    ck_assert_ptr_nonnull(hcs_hresult_name(HCS_E_SYSTEM_NOT_FOUND));
}
END_TEST

HCS_TEST_SUITE(api_suite)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, hcs_test_roots_setup, api_teardown);
    tcase_add_test(tc, service_properties__default_reports_basic_and_host);
    tcase_add_test(tc, service_properties__query_selects_and_orders);
    tcase_add_test(tc, service_properties__bad_queries_are_refused_by_path);
    tcase_add_test(tc, service_settings__change_roots_and_log_level);
    tcase_add_test(tc, enumerate__lists_systems_and_applies_filters);
    tcase_add_test(tc, enumerate__reports_a_dead_monitor_s_system_stopped_once_and_cleans_it_up);
    tcase_add_test(tc, open__unknown_id_is_not_found_and_bad_id_is_invalid);
    tcase_add_test(tc, create__refuses_what_cannot_run_and_says_why);
    tcase_add_test(tc, create__without_a_monitor_binary_fails_cleanly);
    tcase_add_test(tc, create__rejects_duplicate_id_bad_id_and_bad_arguments);
    tcase_add_test(tc, lifecycle__null_handles_are_refused_before_anything_else);
    tcase_add_test(tc, save__a_null_handle_is_refused_with_attribution);
    tcase_add_test(tc, storage__calls_check_arguments_and_options_and_name_what_is_wrong);
    tcase_add_test(tc, hresult__errno_encoding_round_trips_and_known_errnos_map_to_windows_codes);
    suite_add_tcase(s, tc);
    return s;
}
