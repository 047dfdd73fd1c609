/*
 * system.c - compute-system functions: enumerate over the runtime root; create execs the
 * system's monitor (hcsmon); every other call is a request to that monitor (lib/api/client).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "client.h"
#include "common/cleanup.h"
#include "common/context.h"
#include "common/json.h"
#include "monitor_path.h"
#include "operation.h"
#include "rpc/rpc.h"
#include "schema/documents.h"
#include "store/store.h"

#define NOT_BUILT_PARTITION                                                                        \
    "utility VMs (VirtualMachine documents) need the partition module (lib/partition), which is "  \
    "not built yet"

/* --- dead monitors -------------------------------------------------------------------------------
 */

extern char **environ;

/*
 * A system whose monitor died (killed, crashed) leaves its cgroups and folder: hcsmon --cleanup
 * removes them (the library itself never touches cgroups). Waits for it; failures are logged.
 */
static void cleanup_dead_system(const char *id)
{
    AUTOFREE char *exe = NULL;
    AUTOFREE char *run = hcs_ctx_runtime_root();
    AUTOFREE char *data = hcs_ctx_data_root();
    char idc[HCS_STORE_ID_MAX + 1];
    snprintf(idc, sizeof(idc), "%s", id);
    if (hcs_monitor_path(&exe, NULL) < 0 || run == NULL || data == NULL)
        return;
    char *argv[] = {exe, (char *)"--cleanup",   idc,  (char *)"--runtime-root",
                    run, (char *)"--data-root", data, NULL};
    pid_t pid;
    if (posix_spawn(&pid, exe, NULL, NULL, argv, environ) != 0)
        return;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        hcs_log(HCS_LOG_WARNING, "clean up compute system \"%s\": hcsmon --cleanup failed", id);
}

/* True when the system's folder exists but no monitor holds its lock. */
static bool monitor_dead(const char *id)
{
    hcs_store_entry *e = NULL;
    if (hcs_store_open(id, &e, NULL) < 0)
        return false;
    bool dead = hcs_store_owner_alive(e, NULL) == 0;
    hcs_store_release(e, 0, NULL);
    return dead;
}

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
    /* A system whose monitor died is reported stopped, once, and cleaned up. */
    cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "Id"));
        if (id == NULL || !monitor_dead(id))
            continue;
        cJSON_DeleteItemFromObjectCaseSensitive(item, "State");
        cJSON_AddStringToObject(item, "State", "Stopped");
        cJSON_DeleteItemFromObjectCaseSensitive(item, "Stopped");
        cJSON_AddBoolToObject(item, "Stopped", 1);
        cJSON_DeleteItemFromObjectCaseSensitive(item, "ExitType");
        cJSON_AddStringToObject(item, "ExitType", "UnexpectedExit");
        cleanup_dead_system(id);
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

/* --- create ----------------------------------------------------------------------------------- */

/* Start hcsmon for the reserved entry; returns its creation status (a ResultError on failure). */
static int spawn_monitor(hcs_store_entry *e, hcs_error **err)
{
    AUTOFREE char *exe = NULL;
    if (hcs_monitor_path(&exe, err) < 0)
        return -1;
    AUTOFREE char *run = hcs_ctx_runtime_root();
    AUTOFREE char *data = hcs_ctx_data_root();
    int st[2];
    if (pipe2(st, O_CLOEXEC) < 0)
        return hcs_err_errno(err, errno, "create a pipe");
    AUTOCLOSE int log =
        openat(e->dirfd, "monitor.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (log >= 0)
        posix_spawn_file_actions_adddup2(&fa, log, 2);
    posix_spawn_file_actions_adddup2(&fa, e->lock_fd, 3);
    posix_spawn_file_actions_adddup2(&fa, st[1], 4);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {exe, (char *)"--id",        e->id, (char *)"--runtime-root",
                    run, (char *)"--data-root", data,  NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, exe, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(st[1]);
    if (rc != 0) {
        close(st[0]);
        return hcs_err_errno(err, rc, "start the monitor %s", exe);
    }
    /* The monitor forks and its first process exits at once: reap it. */
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    char buf[8192];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(st[0], buf + n, sizeof(buf) - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (n += (size_t)r) >= sizeof(buf) - 1)
            break;
    }
    close(st[0]);
    buf[n] = '\0';
    AUTOJSON cJSON *status = NULL;
    if (n == 0 || hcs_json_parse(buf, n, "monitor status", &status, NULL) < 0)
        return hcs_err_set(err, HCS_E_TERMINATED_DURING_START,
                           "the monitor of compute system \"%s\" exited without reporting "
                           "(see %s/monitor.log)",
                           e->id, e->path);
    hcs_error *merr = NULL;
    if (hcs_client_reply_error(status, &merr) < 0) {
        hcs_err_move(err, &merr);
        return -1;
    }
    return 0;
}

struct create_args {
    HCS_SYSTEM sys;
    char *config;
};

static void create_free(void *p)
{
    struct create_args *a = p;
    /* Cancelled before the work ran: the handle must not wait for a connection forever. */
    pthread_mutex_lock(&a->sys->lock);
    bool pending = a->sys->conn == HCS_CONN_PENDING;
    pthread_mutex_unlock(&a->sys->lock);
    if (pending) {
        hcs_error *err = NULL;
        hcs_err_set(&err, HCS_E_CANCELLED, "the creation of \"%s\" was cancelled", a->sys->id);
        hcs_client_fail(a->sys, err);
        hcs_err_free(err);
    }
    hcs_client_unref(a->sys);
    free(a->config);
    free(a);
}

static void create_work(HCS_OPERATION op, void *p)
{
    struct create_args *a = p;
    hcs_error *err = NULL;
    hcs_store_entry *e = NULL;
    if (hcs_store_reserve(a->sys->id, &e, &err) < 0 ||
        hcs_store_write_file(e, HCS_STORE_CONFIG_FILE, a->config, strlen(a->config), &err) < 0 ||
        spawn_monitor(e, &err) < 0) {
        /* A monitor that failed has removed the folder itself; make sure of it. */
        bool reserved = e != NULL && (err == NULL || err->hr != HCS_E_SYSTEM_ALREADY_EXISTS);
        if (e != NULL)
            hcs_store_release(e, reserved, NULL);
        hcs_client_fail(a->sys, err);
        hcs_op_complete_error(op, err);
        return;
    }
    hcs_store_release(e, 0, NULL); /* the monitor holds the lock now */
    if (hcs_client_connect(a->sys, &err) < 0) {
        hcs_op_complete_error(op, err);
        return;
    }
    hcs_op_complete(op, S_OK, NULL, NULL);
}

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
    bool hosted = cs->hosting_system_id != NULL;
    bool no_layers = cs->container != NULL &&
                     (cs->container->storage == NULL || cs->container->storage->layers.n == 0);
    hcs_schema_free(&hcs_type_compute_system, cs);
    if (vm || hosted) {
        hcs_err_set(&err, E_NOTIMPL, "create \"%s\": %s", id,
                    vm ? NOT_BUILT_PARTITION
                       : "containers hosted in a utility VM (HostingSystemId) need the partition "
                         "module (lib/partition), which is not built yet");
        return hcs_op_fail_sync(operation, err);
    }
    if (no_layers) {
        hcs_err_set(&err, HCS_E_INVALID_JSON,
                    "Container.Storage.Layers: at least one layer is required for the "
                    "container's root");
        return hcs_op_fail_sync(operation, err);
    }
    hcs_store_entry *existing = NULL;
    if (hcs_store_open(id, &existing, NULL) == 0) {
        hcs_store_release(existing, 0, NULL);
        hcs_err_set(&err, HCS_E_SYSTEM_ALREADY_EXISTS, "compute system \"%s\" already exists", id);
        return hcs_op_fail_sync(operation, err);
    }
    struct create_args *a = calloc(1, sizeof(*a));
    HCS_SYSTEM sys = hcs_client_new(id);
    if (a == NULL || sys == NULL || (a->config = strdup(configuration)) == NULL) {
        free(a);
        if (sys != NULL)
            hcs_client_unref(sys);
        hcs_err_set(&err, E_OUTOFMEMORY, "out of memory");
        return hcs_op_fail_sync(operation, err);
    }
    a->sys = sys;
    sys->refs++; /* the work's */
    if (hcs_op_submit(operation, create_work, a, create_free, &err) < 0) {
        hcs_client_unref(sys);
        return hcs_api_fail(err);
    }
    *computeSystem = sys;
    return S_OK;
}

/* --- open and close --------------------------------------------------------------------------- */

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
    HCS_SYSTEM sys = hcs_client_new(id);
    if (sys == NULL)
        return hcs_api_fail_hr(E_OUTOFMEMORY, "out of memory");
    if (hcs_client_connect(sys, &err) < 0) {
        hcs_client_unref(sys);
        return hcs_api_fail(err);
    }
    /* Learn whether it has already stopped (its exit status stays readable). */
    cJSON *reply = NULL;
    if (hcs_client_call_sync(sys, hcs_rpc_request("Properties", 0), &reply, NULL, NULL, &err) < 0) {
        sys->closed = true;
        hcs_client_unref(sys);
        return hcs_api_fail(err);
    }
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(reply, "Properties");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(props, "Stopped"))) {
        AUTOJSON cJSON *st = cJSON_CreateObject();
        const char *type =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(props, "ExitType"));
        bool unexpected = type != NULL && strcmp(type, "UnexpectedExit") == 0;
        hcs_json_add_i64(st, "Status", unexpected ? HCS_E_UNEXPECTED_EXIT : S_OK);
        cJSON_AddStringToObject(st, "ExitType", type ? type : "None");
        pthread_mutex_lock(&sys->lock);
        if (!sys->exited) {
            sys->exited = true;
            sys->exit_status = hcs_json_print(st);
        }
        pthread_mutex_unlock(&sys->lock);
    }
    cJSON_Delete(reply);
    *computeSystem = sys;
    return S_OK;
}

HCS_API void HcsCloseComputeSystem(HCS_SYSTEM computeSystem)
{
    hcs_api_enter();
    HCS_SYSTEM sys = computeSystem;
    if (sys == NULL || sys->magic != HCS_SYSTEM_MAGIC)
        return;
    /* A close racing a pending create waits for the connection attempt to end. */
    hcs_client_wait_up(sys, NULL);
    pthread_mutex_lock(&sys->lock);
    if (sys->closed) {
        pthread_mutex_unlock(&sys->lock);
        return;
    }
    sys->closed = true;
    sys->cb = NULL;
    hcs_client_drain(sys, &sys->callbacks_running, &sys->cb_thread);
    bool lost = sys->conn == HCS_CONN_LOST;
    pthread_mutex_unlock(&sys->lock);
    /* The monitor died under this handle: remove what it left, if no other monitor owns it. */
    if (lost && monitor_dead(sys->id))
        cleanup_dead_system(sys->id);
    hcs_client_unref(sys);
}

/* --- lifecycle ---------------------------------------------------------------------------------
 */

/*
 * Common path of the tracked calls on a system: check the handle and the options document,
 * then send the request; the reply completes the operation.
 */
static HRESULT system_call(HCS_SYSTEM sys, HCS_OPERATION op, HCS_OPERATION_TYPE type,
                           const hcs_type *options_type, const char *options_name,
                           const char *options, const char *request, const char *what,
                           cJSON *(*build)(const void *doc), hcs_reply_fn on_reply)
{
    hcs_error *err = NULL;
    if (hcs_op_begin(op, type, sys, NULL, &err) < 0)
        return hcs_api_fail(err);
    if (hcs_system_check(sys, &err) < 0) {
        hcs_err_wrap(&err, "%s", what);
        return hcs_op_fail_sync(op, err);
    }
    void *doc = NULL;
    if (options_type != NULL &&
        hcs_schema_parse(options_type, options, options_name, false, &doc, &err) < 0)
        return hcs_op_fail_sync(op, err);
    cJSON *req = hcs_rpc_request(request, 0);
    if (build != NULL) {
        cJSON *extra = build(doc);
        for (cJSON *c = extra ? extra->child : NULL; c != NULL; c = c->next)
            cJSON_AddItemToObject(req, c->string, cJSON_Duplicate(c, 1));
        cJSON_Delete(extra);
    }
    hcs_schema_free(options_type, doc);
    if (hcs_client_call(sys, op, req, NULL, 0, on_reply ? on_reply : hcs_client_reply_empty, NULL,
                        &err) < 0) {
        hcs_err_wrap(&err, "%s \"%s\"", what, sys->id);
        return hcs_op_fail_sync(op, err);
    }
    return S_OK;
}

HCS_API HRESULT HcsStartComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                      const char *options)
{
    hcs_api_enter();
    return system_call(computeSystem, operation, HcsOperationTypeStart, &hcs_type_start_options,
                       "StartOptions", options, "Start", "start", NULL, NULL);
}

static cJSON *shutdown_extra(const void *doc)
{
    const hcs_doc_shutdown_options *o = doc;
    cJSON *x = cJSON_CreateObject();
    if (o != NULL && o->grace_period_seconds.set)
        hcs_json_add_u64(x, "GracePeriodSeconds", o->grace_period_seconds.value);
    if (o != NULL && o->force.value)
        hcs_json_add_u64(x, "GracePeriodSeconds", 0);
    return x;
}

HCS_API HRESULT HcsShutDownComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                         const char *options)
{
    hcs_api_enter();
    return system_call(computeSystem, operation, HcsOperationTypeShutdown,
                       &hcs_type_shutdown_options, "ShutdownOptions", options, "Shutdown",
                       "shut down", shutdown_extra, NULL);
}

HCS_API HRESULT HcsTerminateComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                          const char *options)
{
    hcs_api_enter();
    return system_call(computeSystem, operation, HcsOperationTypeTerminate, &hcs_type_empty_options,
                       "TerminateOptions", options, "Terminate", "terminate", NULL, NULL);
}

HCS_API HRESULT HcsPauseComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                      const char *options)
{
    hcs_api_enter();
    return system_call(computeSystem, operation, HcsOperationTypePause, &hcs_type_pause_options,
                       "PauseOptions", options, "Pause", "pause", NULL, NULL);
}

HCS_API HRESULT HcsResumeComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                       const char *options)
{
    hcs_api_enter();
    return system_call(computeSystem, operation, HcsOperationTypeResume, &hcs_type_empty_options,
                       "ResumeOptions", options, "Resume", "resume", NULL, NULL);
}

HCS_API HRESULT HcsSaveComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                     const char *options)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    (void)options;
    if (hcs_op_begin(operation, HcsOperationTypeSave, computeSystem, NULL, &err) < 0)
        return hcs_api_fail(err);
    if (hcs_system_check(computeSystem, &err) == 0)
        hcs_err_set(&err, E_NOTIMPL,
                    "save: saving a compute system's state is not supported "
                    "on Linux");
    return hcs_op_fail_sync(operation, err);
}

static cJSON *properties_extra(const void *doc)
{
    const hcs_doc_property_query *q = doc;
    static const char *const names[] = {
        NULL, "Memory", "Statistics", "ProcessList", "TerminateOnLastHandleClosed", "Registry"};
    cJSON *x = cJSON_CreateObject();
    cJSON *types = cJSON_AddArrayToObject(x, "PropertyTypes");
    for (size_t i = 0; q != NULL && i < q->property_types.n; i++) {
        int t = ((int *)q->property_types.items)[i];
        if (t > 0 && t < (int)HCS_ARRAY_SIZE(names))
            cJSON_AddItemToArray(types, cJSON_CreateString(names[t]));
    }
    if (q != NULL && q->registry_query != NULL)
        cJSON_AddItemToObject(x, "RegistryQuery", cJSON_Duplicate(q->registry_query, 1));
    return x;
}

static void properties_reply(HCS_SYSTEM sys, HCS_OPERATION op, const cJSON *reply, int *fds,
                             size_t nfds, void *arg)
{
    (void)sys;
    (void)fds;
    (void)nfds;
    (void)arg;
    hcs_error *err = NULL;
    if (hcs_client_reply_error(reply, &err) < 0) {
        hcs_op_complete_error(op, err);
        return;
    }
    char *doc = hcs_json_print(cJSON_GetObjectItemCaseSensitive(reply, "Properties"));
    if (doc == NULL) {
        hcs_err_set(&err, HCS_E_OPERATION_RESULT_ALLOCATION_FAILED, "out of memory");
        hcs_op_complete_error(op, err);
        return;
    }
    hcs_op_complete(op, S_OK, doc, NULL);
}

HCS_API HRESULT HcsGetComputeSystemProperties(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                              const char *propertyQuery)
{
    hcs_api_enter();
    return system_call(computeSystem, operation, HcsOperationTypeGetProperties,
                       &hcs_type_property_query, "PropertyQuery", propertyQuery, "Properties",
                       "get properties", properties_extra, properties_reply);
}

HCS_API HRESULT HcsModifyComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                       const char *configuration, const void *identity)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (identity != NULL) {
        hcs_err_set(&err, E_INVALIDARG, "modify: identity must be NULL");
        return hcs_api_fail_tracked(operation, HcsOperationTypeModify, err);
    }
    if (hcs_doc_absent(configuration)) {
        hcs_err_set(&err, E_INVALIDARG, "modify: the ModifySettingRequest document is required");
        return hcs_api_fail_tracked(operation, HcsOperationTypeModify, err);
    }
    if (hcs_op_begin(operation, HcsOperationTypeModify, computeSystem, NULL, &err) < 0)
        return hcs_api_fail(err);
    if (hcs_system_check(computeSystem, &err) < 0)
        return hcs_op_fail_sync(operation, err);
    cJSON *json = NULL;
    if (hcs_schema_parse(&hcs_type_modify_request, configuration, "ModifySettingRequest", true,
                         NULL, &err) < 0 ||
        hcs_json_parse(configuration, strlen(configuration), "ModifySettingRequest", &json, &err) <
            0)
        return hcs_op_fail_sync(operation, err);
    cJSON *req = hcs_rpc_request("Modify", 0);
    cJSON_AddItemToObject(req, "Request", json);
    if (hcs_client_call(computeSystem, operation, req, NULL, 0, hcs_client_reply_empty, NULL,
                        &err) < 0)
        return hcs_op_fail_sync(operation, err);
    return S_OK;
}

HCS_API HRESULT HcsSetComputeSystemCallback(HCS_SYSTEM computeSystem,
                                            HCS_EVENT_OPTIONS callbackOptions, const void *context,
                                            HCS_EVENT_CALLBACK callback)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (hcs_system_check(computeSystem, &err) < 0)
        return hcs_api_fail(err);
    if (callbackOptions & ~(HCS_EVENT_OPTIONS)HcsEventOptionEnableOperationCallbacks)
        return hcs_api_fail_hr(E_INVALIDARG, "unknown callback options 0x%X", callbackOptions);
    HCS_SYSTEM sys = computeSystem;
    pthread_mutex_lock(&sys->lock);
    if (sys->cb != NULL && callback != NULL) {
        pthread_mutex_unlock(&sys->lock);
        return hcs_api_fail_hr(HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET,
                               "this handle already has an event callback (open another handle "
                               "for another callback)");
    }
    union {
        const void *in;
        void *out;
    } ctx = {.in = context};
    sys->cb = callback;
    sys->cb_ctx = ctx.out;
    sys->cb_opts = callback ? callbackOptions : 0;
    /* An exit that happened before the callback was set is still reported to it. */
    if (callback != NULL && sys->exited)
        hcs_client_event_locked(sys, NULL, HcsEventSystemExited, sys->exit_status, NULL);
    pthread_mutex_unlock(&sys->lock);
    return S_OK;
}

HCS_API HRESULT HcsWaitForComputeSystemExit(HCS_SYSTEM computeSystem, uint32_t timeoutMs,
                                            char **result)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (result != NULL)
        *result = NULL;
    if (hcs_system_check(computeSystem, &err) < 0)
        return hcs_api_out(hcs_api_fail(err), result);
    HCS_SYSTEM sys = computeSystem;
    if (hcs_client_wait_up(sys, &err) < 0)
        return hcs_api_out(hcs_api_fail(err), result);
    struct timespec until = hcs_api_deadline(CLOCK_REALTIME, timeoutMs);
    pthread_mutex_lock(&sys->lock);
    while (!sys->exited) {
        int rc = timeoutMs == HCS_INFINITE ? pthread_cond_wait(&sys->cond, &sys->lock)
                                           : pthread_cond_timedwait(&sys->cond, &sys->lock, &until);
        if (rc == ETIMEDOUT && !sys->exited) {
            pthread_mutex_unlock(&sys->lock);
            return hcs_api_out(hcs_api_fail_hr(HCS_E_OPERATION_TIMEOUT,
                                               "compute system \"%s\" did not exit within %u ms",
                                               sys->id, timeoutMs),
                               result);
        }
    }
    char *status = sys->exit_status ? strdup(sys->exit_status) : NULL;
    pthread_mutex_unlock(&sys->lock);
    if (result != NULL)
        *result = status;
    else
        free(status);
    return S_OK;
}
