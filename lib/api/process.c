/*
 * process.c - processes inside a compute system. Each call is a request to the system's
 * monitor over the system handle's connection (lib/api/client). The library creates the pipes
 * the caller asked for and passes the process's ends along; the caller gets the other ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "client.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "operation.h"
#include "rpc/rpc.h"
#include "schema/documents.h"

static HCS_PROCESS process_new(HCS_SYSTEM sys, uint32_t pid, bool exited, const char *status)
{
    HCS_PROCESS p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->magic = HCS_PROCESS_MAGIC;
    p->sys = sys;
    p->pid = pid;
    p->refs = 1;
    pthread_mutex_lock(&sys->lock);
    sys->refs++;
    p->exited = exited;
    p->status = status ? strdup(status) : NULL;
    p->next = sys->procs;
    sys->procs = p;
    pthread_mutex_unlock(&sys->lock);
    return p;
}

/* With sys->lock held: drop a reference to the process structure (not to the system). */
static void process_unref_locked(HCS_PROCESS p)
{
    if (--p->refs == 0) {
        p->magic = 0;
        free(p->status);
        free(p);
    }
}

/* --- create -------------------------------------------------------------------------------------
 */

struct create_args {
    HCS_PROCESS proc;
    int mine[3]; /* the caller's ends: stdin write, stdout read, stderr read */
};

/* In the reader: the pid must be known before the process's exit event is handled. */
static void create_peek(HCS_SYSTEM sys, const cJSON *reply, void *arg)
{
    (void)sys;
    struct create_args *a = arg;
    int64_t pid = 0;
    if (hcs_json_i64(cJSON_GetObjectItemCaseSensitive(reply, "Pid"), &pid) == 0)
        a->proc->pid = (uint32_t)pid;
}

static void create_reply(HCS_SYSTEM sys, HCS_OPERATION op, const cJSON *reply, int *fds,
                         size_t nfds, void *arg)
{
    (void)sys;
    struct create_args *a = arg;
    hcs_error *err = NULL;
    int64_t pid = 0;
    if (hcs_client_reply_error(reply, &err) < 0 ||
        hcs_json_i64(cJSON_GetObjectItemCaseSensitive(reply, "Pid"), &pid) < 0) {
        if (err == NULL)
            hcs_err_set(&err, HCS_E_PROTOCOL_ERROR, "the monitor's reply has no Pid");
        for (int i = 0; i < 3; i++)
            if (a->mine[i] >= 0)
                close(a->mine[i]);
        pthread_mutex_lock(&a->proc->sys->lock);
        a->proc->exited = true; /* it never ran */
        pthread_cond_broadcast(&a->proc->sys->cond);
        process_unref_locked(a->proc);
        pthread_mutex_unlock(&a->proc->sys->lock);
        hcs_op_complete_error(op, err);
        free(a);
        return;
    }
    pthread_mutex_lock(&a->proc->sys->lock);
    process_unref_locked(a->proc);
    pthread_mutex_unlock(&a->proc->sys->lock);
    HCS_PROCESS_INFORMATION pi = {(uint32_t)pid, 0, a->mine[0], a->mine[1], a->mine[2]};
    if (nfds > 0) {
        /* A console: the caller reads and writes its master side. */
        pi.StdInput = fds[0];
        pi.StdOutput = fcntl(fds[0], F_DUPFD_CLOEXEC, 3);
        pi.StdError = -1;
        fds[0] = -1;
    }
    AUTOJSON cJSON *doc = cJSON_CreateObject();
    hcs_json_add_i64(doc, "ProcessId", pid);
    hcs_op_complete(op, S_OK, hcs_json_print(doc), &pi);
    free(a);
}

static void close_pair(int p[2])
{
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0)
            close(p[i]);
}

HCS_API HRESULT HcsCreateProcess(HCS_SYSTEM computeSystem, const char *processParameters,
                                 HCS_OPERATION operation, const void *securityDescriptor,
                                 HCS_PROCESS *process)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (process != NULL)
        *process = NULL;
    if (hcs_op_begin(operation, HcsOperationTypeCreateProcess, computeSystem, NULL, &err) < 0)
        return hcs_api_fail(err);
    if (process == NULL) {
        hcs_err_set(&err, E_POINTER, "create process: process (the handle out-parameter) is NULL");
        return hcs_op_fail_sync(operation, err);
    }
    if (securityDescriptor != NULL)
        hcs_err_set(&err, E_INVALIDARG, "create process: securityDescriptor must be NULL");
    else
        hcs_system_check(computeSystem, &err);
    hcs_doc_process_parameters *pp = NULL;
    if (err == NULL)
        hcs_schema_parse(&hcs_type_process_parameters, processParameters, "ProcessParameters", true,
                         (void **)&pp, &err);
    if (err != NULL)
        return hcs_op_fail_sync(operation, err);
    bool want[3] = {pp->create_stdin_pipe.value, pp->create_stdout_pipe.value,
                    pp->create_stderr_pipe.value};
    bool console = pp->emulate_console.value;
    hcs_schema_free(&hcs_type_process_parameters, pp);
    int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    for (int i = 0; i < 3 && !console; i++)
        if (want[i] && pipe2(pipes[i], O_CLOEXEC) < 0) {
            hcs_err_errno(&err, errno, "create process: create a pipe");
            for (int k = 0; k < 3; k++)
                close_pair(pipes[k]);
            return hcs_op_fail_sync(operation, err);
        }
    /* The process gets stdin's read end and the write ends of stdout and stderr. */
    static const char *const names[] = {"StdIn", "StdOut", "StdErr"};
    int theirs[3];
    size_t n = 0;
    cJSON *req = hcs_rpc_request("CreateProcess", 0);
    cJSON_AddItemToObject(req, "Parameters", cJSON_Parse(processParameters));
    cJSON *stdio = cJSON_AddArrayToObject(req, "Stdio");
    for (int i = 0; i < 3; i++)
        if (pipes[i][0] >= 0) {
            theirs[n++] = i == 0 ? pipes[i][0] : pipes[i][1];
            cJSON_AddItemToArray(stdio, cJSON_CreateString(names[i]));
        }
    struct create_args *a = calloc(1, sizeof(*a));
    HCS_PROCESS p = a ? process_new(computeSystem, 0, false, NULL) : NULL;
    if (p == NULL) {
        free(a);
        cJSON_Delete(req);
        for (int k = 0; k < 3; k++)
            close_pair(pipes[k]);
        hcs_err_set(&err, E_OUTOFMEMORY, "out of memory");
        return hcs_op_fail_sync(operation, err);
    }
    a->proc = p;
    pthread_mutex_lock(&computeSystem->lock);
    p->refs++; /* the reply's */
    pthread_mutex_unlock(&computeSystem->lock);
    a->mine[0] = pipes[0][1];
    a->mine[1] = pipes[1][0];
    a->mine[2] = pipes[2][0];
    int rc = hcs_client_call_peek(computeSystem, operation, req, theirs, n, create_peek,
                                  create_reply, a, &err);
    for (size_t i = 0; i < n; i++)
        close(theirs[i]); /* the monitor has its copies now */
    if (rc < 0) {
        for (int i = 0; i < 3; i++)
            if (a->mine[i] >= 0)
                close(a->mine[i]);
        free(a);
        pthread_mutex_lock(&computeSystem->lock);
        process_unref_locked(p); /* the reply's: there will be none */
        pthread_mutex_unlock(&computeSystem->lock);
        HcsCloseProcess(p);
        hcs_api_enter();
        hcs_err_wrap(&err, "create process in \"%s\"", computeSystem->id);
        return hcs_op_fail_sync(operation, err);
    }
    *process = p;
    return S_OK;
}

/* --- open and close ----------------------------------------------------------------------------
 */

HCS_API HRESULT HcsOpenProcess(HCS_SYSTEM computeSystem, uint32_t processId,
                               uint32_t requestedAccess, HCS_PROCESS *process)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (process == NULL)
        return hcs_api_fail_hr(E_POINTER, "process (the handle out-parameter) is NULL");
    *process = NULL;
    if (hcs_system_check(computeSystem, &err) < 0)
        return hcs_api_fail(err);
    if (requestedAccess != 0 && requestedAccess != HCS_GENERIC_ALL)
        return hcs_api_fail_hr(E_INVALIDARG,
                               "requestedAccess 0x%08X is not supported (use 0 or "
                               "HCS_GENERIC_ALL)",
                               requestedAccess);
    cJSON *req = hcs_rpc_request("ProcessStatus", 0);
    hcs_json_add_u64(req, "Pid", processId);
    cJSON *reply = NULL;
    if (hcs_client_call_sync(computeSystem, req, &reply, NULL, NULL, &err) < 0)
        return hcs_api_fail(err);
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(reply, "Status");
    AUTOFREE char *text = hcs_json_print(status);
    bool exited = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(status, "Exited"));
    cJSON_Delete(reply);
    HCS_PROCESS p = process_new(computeSystem, processId, exited, exited ? text : NULL);
    if (p == NULL)
        return hcs_api_fail_hr(E_OUTOFMEMORY, "out of memory");
    *process = p;
    return S_OK;
}

HCS_API void HcsCloseProcess(HCS_PROCESS process)
{
    hcs_api_enter();
    if (process == NULL || process->magic != HCS_PROCESS_MAGIC)
        return;
    HCS_SYSTEM sys = process->sys;
    pthread_mutex_lock(&sys->lock);
    if (process->closed) {
        pthread_mutex_unlock(&sys->lock);
        return;
    }
    process->closed = true;
    process->cb = NULL;
    hcs_client_drain(sys, &process->callbacks_running, &process->cb_thread);
    for (HCS_PROCESS *pp = &sys->procs; *pp != NULL; pp = &(*pp)->next)
        if (*pp == process) {
            *pp = process->next;
            break;
        }
    process_unref_locked(process);
    pthread_mutex_unlock(&sys->lock);
    hcs_client_unref(sys);
}

/* --- calls --------------------------------------------------------------------------------------
 */

static HRESULT process_call(HCS_PROCESS p, HCS_OPERATION op, cJSON *req, hcs_reply_fn on_reply,
                            const char *what)
{
    hcs_error *err = NULL;
    if (hcs_client_call(p->sys, op, req, NULL, 0, on_reply, p, &err) < 0) {
        hcs_err_wrap(&err, "%s", what);
        return hcs_op_fail_sync(op, err);
    }
    return S_OK;
}

/* Begin a process call: operation, handle, and (optionally) the options document. */
static int begin(HCS_PROCESS p, HCS_OPERATION op, HCS_OPERATION_TYPE type, const hcs_type *t,
                 const char *doc_name, const char *doc, bool required, void **parsed, HRESULT *hr)
{
    hcs_error *err = NULL;
    if (hcs_op_begin(op, type, p ? p->sys : NULL, p, &err) < 0) {
        *hr = hcs_api_fail(err);
        return -1;
    }
    if (hcs_process_check(p, &err) < 0 ||
        (t != NULL && hcs_schema_parse(t, doc, doc_name, required, parsed, &err) < 0)) {
        *hr = hcs_op_fail_sync(op, err);
        return -1;
    }
    return 0;
}

static cJSON *pid_request(const char *op, HCS_PROCESS p)
{
    cJSON *req = hcs_rpc_request(op, 0);
    pthread_mutex_lock(&p->sys->lock);
    hcs_json_add_u64(req, "Pid", p->pid);
    pthread_mutex_unlock(&p->sys->lock);
    return req;
}

HCS_API HRESULT HcsTerminateProcess(HCS_PROCESS process, HCS_OPERATION operation,
                                    const char *options)
{
    hcs_api_enter();
    HRESULT hr;
    void *doc = NULL;
    if (begin(process, operation, HcsOperationTypeSignalProcess, &hcs_type_empty_options,
              "TerminateOptions", options, false, &doc, &hr) < 0)
        return hr;
    hcs_schema_free(&hcs_type_empty_options, doc);
    cJSON *req = pid_request("Signal", process);
    hcs_json_add_i64(req, "Signal", 9);
    return process_call(process, operation, req, hcs_client_reply_empty, "terminate process");
}

HCS_API HRESULT HcsSignalProcess(HCS_PROCESS process, HCS_OPERATION operation, const char *options)
{
    hcs_api_enter();
    HRESULT hr;
    hcs_doc_signal_options *o = NULL;
    if (begin(process, operation, HcsOperationTypeSignalProcess, &hcs_type_signal_options,
              "SignalProcessOptions", options, true, (void **)&o, &hr) < 0)
        return hr;
    cJSON *req = pid_request("Signal", process);
    hcs_json_add_i64(req, "Signal", o->signal.value);
    hcs_schema_free(&hcs_type_signal_options, o);
    return process_call(process, operation, req, hcs_client_reply_empty, "signal process");
}

static void status_reply(HCS_SYSTEM sys, HCS_OPERATION op, const cJSON *reply, int *fds,
                         size_t nfds, void *arg)
{
    (void)sys;
    (void)fds;
    (void)nfds;
    (void)arg; /* the process handle may be closed by now: use the reply only */
    hcs_error *err = NULL;
    if (hcs_client_reply_error(reply, &err) < 0) {
        hcs_op_complete_error(op, err);
        return;
    }
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(reply, "Status");
    char *doc = hcs_json_print(status);
    if (hcs_op_type(op) == HcsOperationTypeGetProcessInfo) {
        int64_t pid = 0;
        hcs_json_i64(cJSON_GetObjectItemCaseSensitive(status, "ProcessId"), &pid);
        HCS_PROCESS_INFORMATION pi = {(uint32_t)pid, 0, -1, -1, -1};
        hcs_op_complete(op, S_OK, doc, &pi);
    } else {
        hcs_op_complete(op, S_OK, doc, NULL);
    }
}

HCS_API HRESULT HcsGetProcessInfo(HCS_PROCESS process, HCS_OPERATION operation)
{
    hcs_api_enter();
    HRESULT hr;
    if (begin(process, operation, HcsOperationTypeGetProcessInfo, NULL, NULL, NULL, false, NULL,
              &hr) < 0)
        return hr;
    return process_call(process, operation, pid_request("ProcessStatus", process), status_reply,
                        "get process info");
}

HCS_API HRESULT HcsGetProcessProperties(HCS_PROCESS process, HCS_OPERATION operation,
                                        const char *propertyQuery)
{
    hcs_api_enter();
    HRESULT hr;
    void *doc = NULL;
    if (begin(process, operation, HcsOperationTypeGetProcessProperties, &hcs_type_empty_options,
              "ProcessPropertyQuery", propertyQuery, false, &doc, &hr) < 0)
        return hr;
    hcs_schema_free(&hcs_type_empty_options, doc);
    return process_call(process, operation, pid_request("ProcessStatus", process), status_reply,
                        "get process properties");
}

HCS_API HRESULT HcsModifyProcess(HCS_PROCESS process, HCS_OPERATION operation, const char *settings)
{
    hcs_api_enter();
    HRESULT hr;
    hcs_doc_process_modify *m = NULL;
    if (begin(process, operation, HcsOperationTypeModifyProcess, &hcs_type_process_modify,
              "ProcessModifyRequest", settings, true, (void **)&m, &hr) < 0)
        return hr;
    cJSON *req;
    if (m->operation == HCS_PROCESS_MODIFY_CONSOLE_SIZE) {
        req = pid_request("Resize", process);
        hcs_json_add_u64(req, "Height", m->console_size->height.value);
        hcs_json_add_u64(req, "Width", m->console_size->width.value);
    } else if (m->close_handle->handle == HCS_STD_HANDLE_IN ||
               m->close_handle->handle == HCS_STD_HANDLE_ALL) {
        req = pid_request("CloseStdin", process);
    } else {
        hcs_schema_free(&hcs_type_process_modify, m);
        hcs_error *err = NULL;
        hcs_err_set(&err, E_INVALIDARG,
                    "modify process: StdOut and StdErr are the caller's own descriptors; close "
                    "them directly");
        return hcs_op_fail_sync(operation, err);
    }
    hcs_schema_free(&hcs_type_process_modify, m);
    return process_call(process, operation, req, hcs_client_reply_empty, "modify process");
}

HCS_API HRESULT HcsSetProcessCallback(HCS_PROCESS process, HCS_EVENT_OPTIONS callbackOptions,
                                      void *context, HCS_EVENT_CALLBACK callback)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (hcs_process_check(process, &err) < 0)
        return hcs_api_fail(err);
    if (callbackOptions & ~(HCS_EVENT_OPTIONS)HcsEventOptionEnableOperationCallbacks)
        return hcs_api_fail_hr(E_INVALIDARG, "unknown callback options 0x%X", callbackOptions);
    HCS_SYSTEM sys = process->sys;
    pthread_mutex_lock(&sys->lock);
    if (process->cb != NULL && callback != NULL) {
        pthread_mutex_unlock(&sys->lock);
        return hcs_api_fail_hr(HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET,
                               "this process handle already has an event callback");
    }
    process->cb = callback;
    process->cb_ctx = context;
    if (callback != NULL && process->exited && process->status != NULL)
        hcs_client_event_locked(sys, process, HcsEventProcessExited, process->status, NULL);
    pthread_mutex_unlock(&sys->lock);
    return S_OK;
}

HCS_API HRESULT HcsWaitForProcessExit(HCS_PROCESS process, uint32_t timeoutMs, char **result)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (result != NULL)
        *result = NULL;
    if (hcs_process_check(process, &err) < 0)
        return hcs_api_out(hcs_api_fail(err), result);
    HCS_SYSTEM sys = process->sys;
    struct timespec until = hcs_api_deadline(CLOCK_REALTIME, timeoutMs);
    pthread_mutex_lock(&sys->lock);
    while (!process->exited && sys->conn == HCS_CONN_UP) {
        int rc = timeoutMs == HCS_INFINITE ? pthread_cond_wait(&sys->cond, &sys->lock)
                                           : pthread_cond_timedwait(&sys->cond, &sys->lock, &until);
        if (rc == ETIMEDOUT && !process->exited) {
            uint32_t pid = process->pid;
            pthread_mutex_unlock(&sys->lock);
            return hcs_api_out(hcs_api_fail_hr(HCS_E_OPERATION_TIMEOUT,
                                               "process %u did not exit within %u ms", pid,
                                               timeoutMs),
                               result);
        }
    }
    if (!process->exited) {
        pthread_mutex_unlock(&sys->lock);
        return hcs_api_out(hcs_api_fail_hr(HCS_E_SERVICE_DISCONNECT,
                                           "the connection to the compute system was lost"),
                           result);
    }
    char *status = process->status ? strdup(process->status) : NULL;
    pthread_mutex_unlock(&sys->lock);
    if (result != NULL)
        *result = status;
    else
        free(status);
    return S_OK;
}
