/*
 * system.c - compute-system functions. Enumeration and open work over the runtime root; the
 * lifecycle calls need the monitor (lib/monitor) and the partition module, which are not built
 * yet: after checking their arguments and documents they return E_NOTIMPL saying so.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "common/cleanup.h"
#include "operation.h"
#include "schema/documents.h"
#include "store/store.h"

#define NOT_BUILT_MONITOR                                                                          \
    "process-isolated compute systems need the monitor (lib/monitor), which is not built yet"
#define NOT_BUILT_PARTITION                                                                        \
    "utility VMs (VirtualMachine documents) need the partition module (lib/partition), which is "  \
    "not built yet"

/* --- enumerate -------------------------------------------------------------------------------- */

struct enumerate_args {
    hcs_doc_system_query *query;
};

static void enumerate_free(void *p)
{
    struct enumerate_args *a = p;
    hcs_schema_free(&hcs_type_system_query, a->query);
    free(a);
}

static void enumerate_work(HCS_OPERATION op, void *p)
{
    struct enumerate_args *a = p;
    hcs_doc_system_query *q = a->query;
    hcs_error *err = NULL;
    if (hcs_op_cancel_requested(op)) {
        hcs_err_set(&err, HCS_E_CANCELLED, "enumeration cancelled");
        hcs_op_complete_error(op, err);
        return;
    }
    static const char *const type_names[] = {NULL, "Container", "VirtualMachine"};
    const char *types[2];
    size_t n_types = 0;
    for (size_t i = 0; q && i < q->types.n && n_types < 2; i++) {
        int t = ((int *)q->types.items)[i];
        bool dup = false;
        for (size_t k = 0; k < n_types; k++)
            dup |= strcmp(types[k], type_names[t]) == 0;
        if (!dup)
            types[n_types++] = type_names[t];
    }
    hcs_store_filter f = {0};
    if (q != NULL) {
        f.ids = (const char *const *)q->ids.items;
        f.n_ids = q->ids.n;
        f.names = (const char *const *)q->names.items;
        f.n_names = q->names.n;
        f.owners = (const char *const *)q->owners.items;
        f.n_owners = q->owners.n;
        f.types = types;
        f.n_types = n_types;
    }
    cJSON *list = NULL;
    if (hcs_store_enumerate(&f, &list, &err) < 0) {
        hcs_err_wrap(&err, "enumerate compute systems");
        hcs_op_complete_error(op, err);
        return;
    }
    char *doc = cJSON_PrintUnformatted(list);
    cJSON_Delete(list);
    if (doc == NULL) {
        hcs_err_set(&err, HCS_E_OPERATION_RESULT_ALLOCATION_FAILED, "out of memory");
        hcs_op_complete_error(op, err);
        return;
    }
    hcs_op_complete(op, S_OK, doc, NULL);
}

HCS_API HRESULT HcsEnumerateComputeSystems(const char *query, HCS_OPERATION operation)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (hcs_op_begin(operation, HcsOperationTypeEnumerate, NULL, NULL, &err) < 0)
        return hcs_api_fail(err);
    struct enumerate_args *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        hcs_err_set(&err, E_OUTOFMEMORY, "out of memory");
        return hcs_op_fail_sync(operation, err);
    }
    if (hcs_schema_parse(&hcs_type_system_query, query, "SystemQuery", false, (void **)&a->query,
                         &err) < 0) {
        free(a);
        return hcs_op_fail_sync(operation, err);
    }
    if (hcs_op_submit(operation, enumerate_work, a, enumerate_free, &err) < 0)
        return hcs_api_fail(err);
    return S_OK;
}

/* --- create and open
 * ------------------------------------------------------------------------------ */

HCS_API HRESULT HcsCreateComputeSystem(const char *id, const char *configuration,
                                       HCS_OPERATION operation, const void *securityDescriptor,
                                       HCS_SYSTEM *computeSystem)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (computeSystem != NULL)
        *computeSystem = NULL;
    if (hcs_op_begin(operation, HcsOperationTypeCreate, NULL, NULL, &err) < 0)
        return hcs_api_fail(err);
    if (computeSystem == NULL) {
        hcs_err_set(&err, E_POINTER, "computeSystem (the handle out-parameter) is NULL");
        return hcs_op_fail_sync(operation, err);
    }
    if (securityDescriptor != NULL) {
        hcs_err_set(&err, E_INVALIDARG,
                    "securityDescriptor must be NULL (access is controlled by the runtime "
                    "root's permissions)");
        return hcs_op_fail_sync(operation, err);
    }
    if (hcs_store_validate_id(id, &err) < 0)
        return hcs_op_fail_sync(operation, err);
    hcs_doc_compute_system *cs = NULL;
    if (hcs_schema_parse(&hcs_type_compute_system, configuration, "ComputeSystem", true,
                         (void **)&cs, &err) < 0)
        return hcs_op_fail_sync(operation, err);
    bool vm = cs->virtual_machine != NULL;
    hcs_schema_free(&hcs_type_compute_system, cs);
    hcs_store_entry *existing = NULL;
    if (hcs_store_open(id, &existing, NULL) == 0) {
        hcs_store_release(existing, 0, NULL);
        hcs_err_set(&err, HCS_E_SYSTEM_ALREADY_EXISTS, "compute system \"%s\" already exists", id);
        return hcs_op_fail_sync(operation, err);
    }
    hcs_err_set(&err, E_NOTIMPL, "create \"%s\": %s", id,
                vm ? NOT_BUILT_PARTITION : NOT_BUILT_MONITOR);
    return hcs_op_fail_sync(operation, err);
}

HCS_API HRESULT HcsOpenComputeSystem(const char *id, uint32_t requestedAccess,
                                     HCS_SYSTEM *computeSystem)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (computeSystem == NULL)
        return hcs_api_fail_hr(E_POINTER, "computeSystem (the handle out-parameter) is NULL");
    *computeSystem = NULL;
    if (requestedAccess != 0 && requestedAccess != HCS_GENERIC_ALL)
        return hcs_api_fail_hr(E_INVALIDARG,
                               "requestedAccess 0x%08X is not supported (use 0 or "
                               "HCS_GENERIC_ALL)",
                               requestedAccess);
    hcs_store_entry *e = NULL;
    if (hcs_store_open(id, &e, &err) < 0)
        return hcs_api_fail(err);
    hcs_store_release(e, 0, NULL);
    return hcs_api_fail_hr(E_NOTIMPL, "open \"%s\": %s", id, NOT_BUILT_MONITOR);
}

HCS_API void HcsCloseComputeSystem(HCS_SYSTEM computeSystem)
{
    hcs_api_enter();
    (void)computeSystem; /* no system handle can exist before the monitor is built */
}

/* --- lifecycle calls
 * -------------------------------------------------------------------------------- */

/*
 * Common checks of a lifecycle call: the operation, the handle, the options document. Until the
 * monitor exists no valid handle can be obtained, so a non-NULL handle is reported as not
 * implemented rather than dereferenced.
 */
static HRESULT lifecycle(HCS_SYSTEM system, HCS_OPERATION op, HCS_OPERATION_TYPE type,
                         const hcs_type *options_type, const char *options_name,
                         const char *options, const char *what)
{
    hcs_error *err = NULL;
    if (hcs_op_begin(op, type, system, NULL, &err) < 0)
        return hcs_api_fail(err);
    if (system == NULL) {
        hcs_err_set(&err, E_HANDLE, "%s: the compute system handle is NULL", what);
        return hcs_op_fail_sync(op, err);
    }
    if (options_type != NULL) {
        void *doc = NULL;
        if (hcs_schema_parse(options_type, options, options_name, false, &doc, &err) < 0)
            return hcs_op_fail_sync(op, err);
        hcs_schema_free(options_type, doc);
    }
    hcs_err_set(&err, E_NOTIMPL, "%s: %s", what, NOT_BUILT_MONITOR);
    return hcs_op_fail_sync(op, err);
}

HCS_API HRESULT HcsStartComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                      const char *options)
{
    hcs_api_enter();
    return lifecycle(computeSystem, operation, HcsOperationTypeStart, &hcs_type_start_options,
                     "StartOptions", options, "start");
}

HCS_API HRESULT HcsShutDownComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                         const char *options)
{
    hcs_api_enter();
    return lifecycle(computeSystem, operation, HcsOperationTypeShutdown, &hcs_type_shutdown_options,
                     "ShutdownOptions", options, "shut down");
}

HCS_API HRESULT HcsTerminateComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                          const char *options)
{
    hcs_api_enter();
    return lifecycle(computeSystem, operation, HcsOperationTypeTerminate, &hcs_type_empty_options,
                     "TerminateOptions", options, "terminate");
}

HCS_API HRESULT HcsPauseComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                      const char *options)
{
    hcs_api_enter();
    return lifecycle(computeSystem, operation, HcsOperationTypePause, &hcs_type_pause_options,
                     "PauseOptions", options, "pause");
}

HCS_API HRESULT HcsResumeComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                       const char *options)
{
    hcs_api_enter();
    return lifecycle(computeSystem, operation, HcsOperationTypeResume, &hcs_type_empty_options,
                     "ResumeOptions", options, "resume");
}

HCS_API HRESULT HcsSaveComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                     const char *options)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    (void)options;
    if (hcs_op_begin(operation, HcsOperationTypeSave, computeSystem, NULL, &err) < 0)
        return hcs_api_fail(err);
    if (computeSystem == NULL)
        hcs_err_set(&err, E_HANDLE, "save: the compute system handle is NULL");
    else
        hcs_err_set(&err, E_NOTIMPL,
                    "save: saving a compute system's state is not supported "
                    "on Linux");
    return hcs_op_fail_sync(operation, err);
}

HCS_API HRESULT HcsGetComputeSystemProperties(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                              const char *propertyQuery)
{
    hcs_api_enter();
    return lifecycle(computeSystem, operation, HcsOperationTypeGetProperties,
                     &hcs_type_property_query, "PropertyQuery", propertyQuery, "get properties");
}

HCS_API HRESULT HcsModifyComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                       const char *configuration, const void *identity)
{
    hcs_api_enter();
    if (identity != NULL) {
        hcs_error *err = NULL;
        hcs_err_set(&err, E_INVALIDARG, "modify: identity must be NULL");
        return hcs_api_fail_tracked(operation, HcsOperationTypeModify, err);
    }
    if (hcs_doc_absent(configuration)) {
        hcs_error *err = NULL;
        hcs_err_set(&err, E_INVALIDARG, "modify: the ModifySettingRequest document is required");
        return hcs_api_fail_tracked(operation, HcsOperationTypeModify, err);
    }
    return lifecycle(computeSystem, operation, HcsOperationTypeModify, &hcs_type_modify_request,
                     "ModifySettingRequest", configuration, "modify");
}

HCS_API HRESULT HcsSetComputeSystemCallback(HCS_SYSTEM computeSystem,
                                            HCS_EVENT_OPTIONS callbackOptions, const void *context,
                                            HCS_EVENT_CALLBACK callback)
{
    hcs_api_enter();
    (void)context;
    (void)callback;
    if (computeSystem == NULL)
        return hcs_api_fail_hr(E_HANDLE, "the compute system handle is NULL");
    if (callbackOptions & ~(HCS_EVENT_OPTIONS)HcsEventOptionEnableOperationCallbacks)
        return hcs_api_fail_hr(E_INVALIDARG, "unknown callback options 0x%X", callbackOptions);
    return hcs_api_fail_hr(E_NOTIMPL, "set callback: %s", NOT_BUILT_MONITOR);
}

HCS_API HRESULT HcsWaitForComputeSystemExit(HCS_SYSTEM computeSystem, uint32_t timeoutMs,
                                            char **result)
{
    hcs_api_enter();
    (void)timeoutMs;
    if (result != NULL)
        *result = NULL;
    if (computeSystem == NULL)
        return hcs_api_out(hcs_api_fail_hr(E_HANDLE, "the compute system handle is NULL"), result);
    return hcs_api_out(hcs_api_fail_hr(E_NOTIMPL, "wait for exit: %s", NOT_BUILT_MONITOR), result);
}
