/* requests.c - what the monitor does for each client request. */
#include <signal.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "ns/ns.h"
#include "common/util.h"
#include "monitor_internal.h"
#include "rpc/rpc.h"

static bool state_is(const char *s)
{
    return strcmp(hcs_mon()->state, s) == 0;
}

static hcs_error *invalid_state(const char *what)
{
    hcs_error *err = NULL;
    if (state_is("Stopped"))
        hcs_err_set(&err, HCS_E_SYSTEM_ALREADY_STOPPED, "%s: compute system \"%s\" has stopped",
                    what, hcs_mon()->id);
    else
        hcs_err_set(&err, HCS_E_INVALID_STATE, "%s: compute system \"%s\" is %s", what,
                    hcs_mon()->id, hcs_mon()->state);
    return err;
}

/* Forward a request to the init; its reply goes back to the client (hcs_mon_init_reply). */
static void call_init(int fd, uint64_t id, const char *op, cJSON *req, const int *fds, size_t nfds)
{
    hcs_monitor *m = hcs_mon();
    hcs_error *err = NULL;
    if (m->silo == NULL || m->silo->sock < 0 || m->n_calls >= HCS_MON_MAX_CALLS) {
        cJSON_Delete(req);
        hcs_mon_reply(fd, id, invalid_state(op), NULL);
        return;
    }
    uint64_t init_id = ++m->next_init_id;
    cJSON_DeleteItemFromObjectCaseSensitive(req, "Id");
    hcs_json_add_u64(req, "Id", init_id);
    if (hcs_rpc_send(m->silo->sock, req, fds, nfds, &err) < 0) {
        cJSON_Delete(req);
        hcs_mon_reply(fd, id, err, NULL);
        return;
    }
    cJSON_Delete(req);
    m->calls[m->n_calls++] = (hcs_mon_call){init_id, fd, id, op};
}

void hcs_mon_init_reply(const cJSON *msg, const int *fds, size_t nfds)
{
    hcs_monitor *m = hcs_mon();
    uint64_t init_id = 0;
    if (hcs_json_u64(cJSON_GetObjectItemCaseSensitive(msg, "Reply"), &init_id) < 0)
        return;
    for (size_t i = 0; i < m->n_calls; i++) {
        if (m->calls[i].init_id != init_id)
            continue;
        hcs_mon_call c = m->calls[i];
        m->calls[i] = m->calls[--m->n_calls];
        int64_t result = 0, pid = 0;
        hcs_json_i64(cJSON_GetObjectItemCaseSensitive(msg, "Result"), &result);
        if (result >= 0 && strcmp(c.op, "CreateProcess") == 0 &&
            hcs_json_i64(cJSON_GetObjectItemCaseSensitive(msg, "Pid"), &pid) == 0 &&
            m->n_procs < HCS_MON_MAX_PROCS)
            m->procs[m->n_procs++] = (hcs_mon_proc){.pid = pid};
        cJSON *r = cJSON_Duplicate(msg, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(r, "Reply");
        hcs_json_add_u64(r, "Reply", c.client_id);
        if (c.fd >= 0)
            hcs_rpc_send(c.fd, r, fds, nfds, NULL);
        cJSON_Delete(r);
        return;
    }
}

static uint32_t grace_of(const cJSON *msg)
{
    uint64_t g = 10;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(msg, "GracePeriodSeconds");
    if (v != NULL)
        hcs_json_u64(v, &g);
    return (uint32_t)g;
}

/* The container paths mapped now: those of the document and those added since. */
static char *mapped[HCS_MON_MAX_MAPPED];
static size_t n_mapped;
static bool mapped_loaded;

static ssize_t mapped_index(const char *path)
{
    hcs_monitor *m = hcs_mon();
    if (!mapped_loaded) {
        mapped_loaded = true;
        const hcs_doc_mapped_directory *d = m->doc->container->mapped_directories.items;
        for (size_t i = 0; i < m->doc->container->mapped_directories.n && i < HCS_MON_MAX_MAPPED;
             i++)
            mapped[n_mapped++] = strdup(d[i].container_path);
    }
    for (size_t i = 0; i < n_mapped; i++)
        if (mapped[i] != NULL && strcmp(mapped[i], path) == 0)
            return (ssize_t)i;
    return -1;
}

/* Add or remove a mapped directory of the running container. */
static void mapped_directory(const hcs_doc_modify_request *r, hcs_error **err)
{
    hcs_monitor *m = hcs_mon();
    hcs_doc_mapped_directory *d = NULL;
    if (hcs_schema_parse_json(&hcs_type_mapped_directory, r->settings, "ModifySettingRequest",
                              "Settings", (void **)&d, err) < 0)
        return;
    ssize_t at = mapped_index(d->container_path);
    if (m->silo == NULL) {
        hcs_err_set(err, HCS_E_SYSTEM_ALREADY_STOPPED, "compute system \"%s\" has stopped", m->id);
    } else if (r->request_type == HCS_REQUEST_ADD) {
        hcs_ns_mount nm = {d->host_path, d->container_path, d->read_only.value};
        if (at >= 0)
            hcs_err_set(err, E_INVALIDARG, "Settings.ContainerPath: %s is already mapped",
                        d->container_path);
        else if (n_mapped >= HCS_MON_MAX_MAPPED)
            hcs_err_set(err, E_INVALIDARG, "at most %d mapped directories", HCS_MON_MAX_MAPPED);
        else if (hcs_ns_hot_mount(m->silo->init_pid, &nm, err) == 0)
            mapped[n_mapped++] = strdup(d->container_path);
    } else if (at < 0) {
        hcs_err_set(err, E_INVALIDARG, "Settings.ContainerPath: %s is not a mapped directory",
                    d->container_path);
    } else if (hcs_ns_hot_unmount(m->silo->init_pid, d->container_path, err) == 0) {
        free(mapped[at]);
        mapped[at] = mapped[--n_mapped];
    }
    hcs_schema_free(&hcs_type_mapped_directory, d);
}

static void modify(int fd, uint64_t id, const cJSON *msg)
{
    hcs_monitor *m = hcs_mon();
    hcs_error *err = NULL;
    hcs_doc_modify_request *r = NULL;
    if (hcs_schema_parse_json(&hcs_type_modify_request,
                              cJSON_GetObjectItemCaseSensitive(msg, "Request"),
                              "ModifySettingRequest", NULL, (void **)&r, &err) < 0) {
        hcs_mon_reply(fd, id, err, NULL);
        return;
    }
    hcs_job_limits l = {0};
    if (strcmp(r->resource_path, "Container/Memory/SizeInMB") == 0) {
        uint64_t mb = 0;
        hcs_json_u64(r->settings, &mb);
        l.memory_bytes = mb << 20;
        if (hcs_job_set_limits(m->job, &l, &err) == 0 && m->doc->container->memory != NULL)
            m->doc->container->memory->size_in_mb.value = mb; /* reported by Properties */
    } else if (strcmp(r->resource_path, "Container/Processor") == 0) {
        const cJSON *s = r->settings;
        uint64_t count = 0;
        int64_t v = 0;
        if (hcs_json_u64(cJSON_GetObjectItemCaseSensitive(s, "Count"), &count) == 0)
            l.cpu_count = (uint32_t)count;
        if (hcs_json_i64(cJSON_GetObjectItemCaseSensitive(s, "Weight"), &v) == 0)
            l.cpu_weight = v;
        if (hcs_json_i64(cJSON_GetObjectItemCaseSensitive(s, "Maximum"), &v) == 0)
            l.cpu_maximum = v;
        hcs_job_set_limits(m->job, &l, &err);
    } else if (strcmp(r->resource_path, "Container/RegistryChanges") == 0) {
        if (m->reg == NULL)
            hcs_err_set(&err, HCS_E_SYSTEM_ALREADY_STOPPED, "compute system \"%s\" has stopped",
                        m->id);
        else
            hcs_reg_apply_json(m->reg, r->settings, "Settings", &err);
    } else {
        mapped_directory(r, &err);
    }
    hcs_schema_free(&hcs_type_modify_request, r);
    hcs_mon_reply(fd, id, err, NULL);
}

void hcs_mon_request(int fd, const cJSON *msg, const int *fds, size_t nfds)
{
    hcs_monitor *m = hcs_mon();
    const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "Op"));
    uint64_t id = 0;
    hcs_json_u64(cJSON_GetObjectItemCaseSensitive(msg, "Id"), &id);
    hcs_error *err = NULL;
    if (op == NULL) {
        hcs_err_set(&err, HCS_E_PROTOCOL_ERROR, "a request without Op");
        hcs_mon_reply(fd, id, err, NULL);
        return;
    }
    if (strcmp(op, "Properties") == 0) {
        cJSON *props = hcs_mon_properties(msg, &err);
        cJSON *extra = cJSON_CreateObject();
        if (props != NULL)
            cJSON_AddItemToObject(extra, "Properties", props);
        hcs_mon_reply(fd, id, err, extra);
    } else if (strcmp(op, "Start") == 0) {
        if (!state_is("Created")) {
            hcs_mon_reply(fd, id, invalid_state("start"), NULL);
            return;
        }
        m->started_ms = hcs_now_ms();
        hcs_mon_set_state("Running");
        hcs_mon_reply(fd, id, NULL, NULL);
    } else if (strcmp(op, "Pause") == 0) {
        if (!state_is("Running") || hcs_job_freeze(m->job, &err) < 0) {
            hcs_mon_reply(fd, id, err ? err : invalid_state("pause"), NULL);
            return;
        }
        hcs_mon_set_state("Paused");
        hcs_mon_reply(fd, id, NULL, NULL);
    } else if (strcmp(op, "Resume") == 0) {
        if (!state_is("Paused") || hcs_job_thaw(m->job, &err) < 0) {
            hcs_mon_reply(fd, id, err ? err : invalid_state("resume"), NULL);
            return;
        }
        hcs_mon_set_state("Running");
        hcs_mon_reply(fd, id, NULL, NULL);
    } else if (strcmp(op, "Shutdown") == 0 || strcmp(op, "Terminate") == 0) {
        if (state_is("Stopped")) {
            hcs_mon_reply(fd, id, invalid_state(op[0] == 'S' ? "shut down" : "terminate"), NULL);
            return;
        }
        hcs_mon_wait_for_exit(fd, id);
        if (op[0] == 'S' && (state_is("Running") || state_is("Paused")))
            hcs_mon_shutdown(grace_of(msg));
        else
            hcs_mon_terminate();
    } else if (strcmp(op, "Modify") == 0) {
        if (state_is("Stopped"))
            hcs_mon_reply(fd, id, invalid_state("modify"), NULL);
        else
            modify(fd, id, msg);
    } else if (strcmp(op, "CreateProcess") == 0) {
        if (!state_is("Running")) {
            hcs_mon_reply(fd, id, invalid_state("create a process"), NULL);
            return;
        }
        cJSON *req = cJSON_Duplicate(msg, 1);
        cJSON_DeleteItemFromObjectCaseSensitive(req, "Op");
        cJSON_AddStringToObject(req, "Op", "Spawn");
        call_init(fd, id, "CreateProcess", req, fds, nfds);
    } else if (strcmp(op, "Signal") == 0 || strcmp(op, "Resize") == 0 ||
               strcmp(op, "CloseStdin") == 0) {
        int64_t pid = 0;
        hcs_json_i64(cJSON_GetObjectItemCaseSensitive(msg, "Pid"), &pid);
        hcs_mon_proc *p = hcs_mon_find_proc(pid);
        if (p == NULL) {
            hcs_err_set(&err, E_INVALIDARG, "no process %lld in compute system \"%s\"",
                        (long long)pid, m->id);
        } else if (p->exited || state_is("Stopped")) {
            hcs_err_set(&err, HCS_E_PROCESS_ALREADY_STOPPED, "process %lld has already exited",
                        (long long)pid);
        } else if (state_is("Paused") && strcmp(op, "Signal") != 0) {
            err = invalid_state(op);
        }
        if (err != NULL) {
            hcs_mon_reply(fd, id, err, NULL);
            return;
        }
        call_init(fd, id, op, cJSON_Duplicate(msg, 1), NULL, 0);
    } else if (strcmp(op, "ProcessStatus") == 0) {
        int64_t pid = 0;
        hcs_json_i64(cJSON_GetObjectItemCaseSensitive(msg, "Pid"), &pid);
        hcs_mon_proc *p = hcs_mon_find_proc(pid);
        if (p == NULL) {
            hcs_err_set(&err, E_INVALIDARG, "no process %lld in compute system \"%s\"",
                        (long long)pid, m->id);
            hcs_mon_reply(fd, id, err, NULL);
            return;
        }
        cJSON *extra = cJSON_CreateObject();
        cJSON_AddItemToObject(extra, "Status", hcs_mon_process_status(p));
        hcs_mon_reply(fd, id, NULL, extra);
    } else {
        hcs_err_set(&err, HCS_E_UNKNOWN_MESSAGE, "unknown request \"%s\"", op);
        hcs_mon_reply(fd, id, err, NULL);
    }
}
