/*
 * process.c - process functions. Processes run inside compute systems, which need the monitor
 * (lib/monitor, not built yet): the calls check their arguments and documents, then return
 * E_NOTIMPL saying so.
 */
#include <stdlib.h>

#include "api.h"
#include "operation.h"
#include "schema/documents.h"

#define NOT_BUILT                                                                                  \
    "processes run inside compute systems, which need the monitor (lib/monitor), not built yet"

static HRESULT process_call(HCS_PROCESS process, HCS_SYSTEM system, HCS_OPERATION op,
                            HCS_OPERATION_TYPE type, const hcs_type *doc_type, const char *doc_name,
                            const char *doc, bool required, const char *what)
{
    hcs_error *err = NULL;
    if (hcs_op_begin(op, type, system, process, &err) < 0)
        return hcs_api_fail(err);
    if (process == NULL && system == NULL) {
        hcs_err_set(&err, E_HANDLE, "%s: the %s handle is NULL", what,
                    type == HcsOperationTypeCreateProcess ? "compute system" : "process");
        return hcs_op_fail_sync(op, err);
    }
    if (doc_type != NULL) {
        void *parsed = NULL;
        if (hcs_schema_parse(doc_type, doc, doc_name, required, &parsed, &err) < 0)
            return hcs_op_fail_sync(op, err);
        hcs_schema_free(doc_type, parsed);
    }
    hcs_err_set(&err, E_NOTIMPL, "%s: %s", what, NOT_BUILT);
    return hcs_op_fail_sync(op, err);
}

HCS_API HRESULT HcsCreateProcess(HCS_SYSTEM computeSystem, const char *processParameters,
                                 HCS_OPERATION operation, const void *securityDescriptor,
                                 HCS_PROCESS *process)
{
    hcs_api_enter();
    if (process != NULL)
        *process = NULL;
    hcs_error *err = NULL;
    if (process == NULL) {
        hcs_err_set(&err, E_POINTER, "create process: process (the handle out-parameter) is NULL");
        return hcs_api_fail_tracked(operation, HcsOperationTypeCreateProcess, err);
    }
    if (securityDescriptor != NULL) {
        hcs_err_set(&err, E_INVALIDARG, "create process: securityDescriptor must be NULL");
        return hcs_api_fail_tracked(operation, HcsOperationTypeCreateProcess, err);
    }
    return process_call(NULL, computeSystem, operation, HcsOperationTypeCreateProcess,
                        &hcs_type_process_parameters, "ProcessParameters", processParameters, true,
                        "create process");
}

HCS_API HRESULT HcsOpenProcess(HCS_SYSTEM computeSystem, uint32_t processId,
                               uint32_t requestedAccess, HCS_PROCESS *process)
{
    hcs_api_enter();
    (void)processId;
    if (process == NULL)
        return hcs_api_fail_hr(E_POINTER, "process (the handle out-parameter) is NULL");
    *process = NULL;
    if (computeSystem == NULL)
        return hcs_api_fail_hr(E_HANDLE, "the compute system handle is NULL");
    if (requestedAccess != 0 && requestedAccess != HCS_GENERIC_ALL)
        return hcs_api_fail_hr(E_INVALIDARG,
                               "requestedAccess 0x%08X is not supported (use 0 or "
                               "HCS_GENERIC_ALL)",
                               requestedAccess);
    return hcs_api_fail_hr(E_NOTIMPL, "open process: %s", NOT_BUILT);
}

HCS_API void HcsCloseProcess(HCS_PROCESS process)
{
    hcs_api_enter();
    (void)process; /* no process handle can exist before the monitor is built */
}

HCS_API HRESULT HcsTerminateProcess(HCS_PROCESS process, HCS_OPERATION operation,
                                    const char *options)
{
    hcs_api_enter();
    return process_call(process, NULL, operation, HcsOperationTypeSignalProcess,
                        &hcs_type_empty_options, "TerminateOptions", options, false,
                        "terminate process");
}

HCS_API HRESULT HcsSignalProcess(HCS_PROCESS process, HCS_OPERATION operation, const char *options)
{
    hcs_api_enter();
    return process_call(process, NULL, operation, HcsOperationTypeSignalProcess,
                        &hcs_type_signal_options, "SignalProcessOptions", options, true,
                        "signal process");
}

HCS_API HRESULT HcsGetProcessInfo(HCS_PROCESS process, HCS_OPERATION operation)
{
    hcs_api_enter();
    return process_call(process, NULL, operation, HcsOperationTypeGetProcessInfo, NULL, NULL, NULL,
                        false, "get process info");
}

HCS_API HRESULT HcsGetProcessProperties(HCS_PROCESS process, HCS_OPERATION operation,
                                        const char *propertyQuery)
{
    hcs_api_enter();
    return process_call(process, NULL, operation, HcsOperationTypeGetProcessProperties,
                        &hcs_type_empty_options, "ProcessPropertyQuery", propertyQuery, false,
                        "get process properties");
}

HCS_API HRESULT HcsModifyProcess(HCS_PROCESS process, HCS_OPERATION operation, const char *settings)
{
    hcs_api_enter();
    return process_call(process, NULL, operation, HcsOperationTypeModifyProcess,
                        &hcs_type_process_modify, "ProcessModifyRequest", settings, true,
                        "modify process");
}

HCS_API HRESULT HcsSetProcessCallback(HCS_PROCESS process, HCS_EVENT_OPTIONS callbackOptions,
                                      void *context, HCS_EVENT_CALLBACK callback)
{
    hcs_api_enter();
    (void)context;
    (void)callback;
    if (process == NULL)
        return hcs_api_fail_hr(E_HANDLE, "the process handle is NULL");
    if (callbackOptions & ~(HCS_EVENT_OPTIONS)HcsEventOptionEnableOperationCallbacks)
        return hcs_api_fail_hr(E_INVALIDARG, "unknown callback options 0x%X", callbackOptions);
    return hcs_api_fail_hr(E_NOTIMPL, "set process callback: %s", NOT_BUILT);
}

HCS_API HRESULT HcsWaitForProcessExit(HCS_PROCESS process, uint32_t timeoutMs, char **result)
{
    hcs_api_enter();
    (void)timeoutMs;
    if (result != NULL)
        *result = NULL;
    if (process == NULL)
        return hcs_api_out(hcs_api_fail_hr(E_HANDLE, "the process handle is NULL"), result);
    return hcs_api_out(hcs_api_fail_hr(E_NOTIMPL, "wait for process exit: %s", NOT_BUILT), result);
}
