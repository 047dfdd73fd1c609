/* monitor.c - hcsmon's life: create the system, serve clients, record exits, clean up. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/context.h"
#include "common/json.h"
#include "common/util.h"
#include "job/job.h"
#include "layer/layer.h"
#include "monitor.h"
#include "monitor_internal.h"
#include "registry/registry.h"
#include "rpc/rpc.h"
#include "schema/documents.h"
#include "silo/silo.h"
#include "store/store.h"

static hcs_monitor mon;

/* The system's hold on its layers (hcs_layer_root_resolve), dropped by finish(). */
static struct {
    const char **layers; /* Storage.Layers paths (strings of mon.doc) */
    size_t n_layers;
    const char *writable; /* Storage.Path, or NULL */
    char *holder;         /* "system <runtime-root> <id>"; NULL while nothing is held */
} root_hold;

/* --- state ----------------------------------------------------------------------------------- */

static void write_state(void)
{
    AUTOJSON cJSON *st = cJSON_CreateObject();
    if (st == NULL)
        return;
    cJSON_AddStringToObject(st, "Id", mon.id);
    cJSON_AddStringToObject(st, "Name", mon.id);
    cJSON_AddStringToObject(st, "SystemType", "Container");
    cJSON_AddStringToObject(st, "Owner", mon.doc->owner ? mon.doc->owner : "");
    cJSON_AddStringToObject(st, "State", mon.state);
    cJSON_AddStringToObject(st, "RuntimeOsType", "Linux");
    cJSON_AddBoolToObject(st, "Stopped", strcmp(mon.state, "Stopped") == 0);
    if (mon.exit_type != NULL)
        cJSON_AddStringToObject(st, "ExitType", mon.exit_type);
    hcs_json_add_i64(st, "MonitorPid", getpid());
    if (mon.silo != NULL)
        hcs_json_add_i64(st, "InitPid", mon.silo->init_pid);
    hcs_store_write_state(mon.entry, st, NULL);
}

static void set_state(const char *state)
{
    mon.state = state;
    write_state();
}

/* --- clients ---------------------------------------------------------------------------------- */

static void send_to(int fd, cJSON *msg, const int *fds, size_t nfds)
{
    if (fd >= 0 && msg != NULL)
        hcs_rpc_send(fd, msg, fds, nfds, NULL);
    cJSON_Delete(msg);
}

void hcs_mon_reply(int fd, uint64_t id, hcs_error *err, cJSON *extra)
{
    cJSON *r = hcs_rpc_reply(id, err ? err->hr : S_OK, err ? err->message : NULL);
    if (r != NULL && extra != NULL) {
        cJSON *c;
        while ((c = extra->child) != NULL)
            cJSON_AddItemToObject(r, c->string, cJSON_DetachItemViaPointer(extra, c));
    }
    cJSON_Delete(extra);
    hcs_err_free(err);
    send_to(fd, r, NULL, 0);
}

static void broadcast(cJSON *ev)
{
    for (size_t i = 0; i < mon.n_clients; i++)
        hcs_rpc_send(mon.clients[i], ev, NULL, 0, NULL);
    cJSON_Delete(ev);
}

static void drop_client(size_t i)
{
    int fd = mon.clients[i];
    close(fd);
    mon.clients[i] = mon.clients[--mon.n_clients];
    for (size_t k = 0; k < mon.n_waits; k++)
        if (mon.waits[k].fd == fd)
            mon.waits[k].fd = -1;
}

/* --- processes ---------------------------------------------------------------------------------
 */

hcs_mon_proc *hcs_mon_find_proc(int64_t pid)
{
    for (size_t i = 0; i < mon.n_procs; i++)
        if (mon.procs[i].pid == pid)
            return &mon.procs[i];
    return NULL;
}

cJSON *hcs_mon_process_status(const hcs_mon_proc *p)
{
    cJSON *s = cJSON_CreateObject();
    hcs_json_add_i64(s, "ProcessId", p->pid);
    cJSON_AddBoolToObject(s, "Exited", p->exited);
    hcs_json_add_i64(s, "ExitCode", p->exited ? p->exit_code : 0);
    hcs_json_add_i64(s, "LastWaitResult", 0);
    if (p->signal > 0)
        hcs_json_add_i64(s, "Signal", p->signal);
    return s;
}

static void process_exited(int64_t pid, int64_t code, int64_t sig)
{
    hcs_mon_proc *p = hcs_mon_find_proc(pid);
    if (p == NULL || p->exited)
        return;
    p->exited = true;
    p->exit_code = code;
    p->signal = sig;
    cJSON *ev = hcs_rpc_event("ProcessExited");
    cJSON_AddItemToObject(ev, "Status", hcs_mon_process_status(p));
    broadcast(ev);
}

/* --- the system's end ----------------------------------------------------------------------------
 */

static void release_root(void);
static void close_registry(void);

static void system_stopped(int status)
{
    if (strcmp(mon.state, "Stopped") == 0)
        return;
    if (mon.exit_type == NULL)
        mon.exit_type = mon.shutdown_requested ? "GracefulExit" : "UnexpectedExit";
    HRESULT hr = strcmp(mon.exit_type, "UnexpectedExit") == 0 ? HCS_E_UNEXPECTED_EXIT : S_OK;
    hcs_log(HCS_LOG_INFO, "system %s stopped (%s, init status 0x%x)", mon.id, mon.exit_type,
            status);
    /* Whatever is left dies with the system: destroying the job kills it and waits for it. */
    hcs_error *err = NULL;
    if (hcs_job_destroy(mon.job, &err) < 0) {
        hcs_log(HCS_LOG_WARNING, "%s", err->message);
        hcs_err_free(err);
    }
    mon.job = NULL;
    for (size_t i = 0; i < mon.n_procs; i++)
        process_exited(mon.procs[i].pid, 128 + SIGKILL, SIGKILL);
    if (mon.silo != NULL) {
        hcs_silo_free(mon.silo);
        mon.silo = NULL;
    }
    /*
     * No process is left, so neither is the mount namespace that used the layers: they are free
     * before anyone hears of the exit (HcsDestroyLayer right after a wait succeeds). The
     * registry's delta log lives in the writable layer: it is closed first.
     */
    close_registry();
    release_root();
    mon.stopped_status = hr;
    set_state("Stopped");
    cJSON *ev = hcs_rpc_event("SystemExited");
    cJSON_AddItemToObject(ev, "Status", hcs_mon_exit_status());
    broadcast(ev);
    for (size_t i = 0; i < mon.n_waits; i++)
        hcs_mon_reply(mon.waits[i].fd, mon.waits[i].id, NULL, NULL);
    mon.n_waits = 0;
}

cJSON *hcs_mon_exit_status(void)
{
    cJSON *s = cJSON_CreateObject();
    hcs_json_add_i64(s, "Status", mon.stopped_status);
    cJSON_AddStringToObject(s, "ExitType", mon.exit_type ? mon.exit_type : "None");
    return s;
}

void hcs_mon_wait_for_exit(int fd, uint64_t id)
{
    if (mon.n_waits < HCS_MON_MAX_WAITS)
        mon.waits[mon.n_waits++] = (hcs_mon_wait){fd, id};
    else
        hcs_mon_reply(fd, id, NULL, NULL);
}

/*
 * Kill every process of the system now. SIGKILL to the init ends its pid namespace at once (see
 * hcs_silo_kill), which costs nothing like freezing the job (a v1 freezer transition takes a
 * millisecond or more); system_stopped sweeps the job after the init's exit for anything that
 * joined it from outside the namespace. Thaw first: a v1-frozen task dies only once thawed.
 */
static void kill_system(void)
{
    hcs_job_thaw(mon.job, NULL);
    if (hcs_silo_kill(mon.silo) < 0)
        hcs_job_kill(mon.job, NULL);
}

/* Terminate: kill everything now; the init's exit completes the stop. */
void hcs_mon_terminate(void)
{
    if (mon.job == NULL)
        return;
    if (mon.exit_type == NULL)
        mon.exit_type = "ForcedExit";
    kill_system();
}

/* Shutdown: SIGTERM to every process; kill what is left after the grace period. */
void hcs_mon_shutdown(uint32_t grace_seconds)
{
    if (mon.job == NULL)
        return;
    mon.shutdown_requested = true;
    hcs_job_thaw(mon.job, NULL);
    if (strcmp(mon.state, "Paused") == 0)
        set_state("Running");
    cJSON *req = hcs_rpc_request("Shutdown", 0);
    send_to(mon.silo->sock, req, NULL, 0);
    mon.deadline_ms = hcs_now_ms() + (unsigned long long)grace_seconds * 1000ULL;
}

/* --- creation --------------------------------------------------------------------------------- */

/*
 * Resolve the container's root from its storage (on the host, before the init exists) and hold
 * its layers for the system's life; release_root() lets them go when the system stops (or in
 * finish() when it never started).
 */
static int resolve_root(const hcs_doc_storage *st, hcs_layer_root *out, hcs_error **err)
{
    size_t n = st->layers.n;
    const hcs_doc_layer *l = st->layers.items;
    root_hold.layers = calloc(n, sizeof(*root_hold.layers));
    AUTOFREE char *run = hcs_ctx_runtime_root();
    AUTOFREE char *holder = run ? hcs_asprintf("system %s %s", run, mon.id) : NULL;
    if (root_hold.layers == NULL || holder == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    for (size_t i = 0; i < n; i++)
        root_hold.layers[i] = l[i].path;
    root_hold.n_layers = n;
    root_hold.writable = st->path;
    if (hcs_layer_root_resolve(root_hold.layers, n, st->path, holder, out, err) < 0)
        return -1;
    root_hold.holder = steal_ptr(&holder);
    return 0;
}

static void release_root(void)
{
    if (root_hold.holder != NULL)
        hcs_layer_root_release(root_hold.layers, root_hold.n_layers, root_hold.writable,
                               root_hold.holder);
    free(root_hold.holder);
    free(root_hold.layers);
    memset(&root_hold, 0, sizeof(root_hold));
}

/*
 * The init's setup request: the root as resolved on the host (see lib/silo/init.c), the host
 * name and the network namespace.
 */
static cJSON *setup_document(hcs_error **err)
{
    const hcs_doc_container *c = mon.doc->container;
    AUTOJSON cJSON *s = cJSON_CreateObject();
    cJSON *root = cJSON_AddObjectToObject(s, "Root");
    cJSON *layers = cJSON_AddArrayToObject(root, "Lowers");
    cJSON *mounts = cJSON_AddArrayToObject(root, "Mounts");
    if (c->storage == NULL || c->storage->layers.n == 0)
        return hcs_err_set(err, HCS_E_INVALID_JSON,
                           "Container.Storage.Layers: at least one layer is required for the "
                           "container's root"),
               NULL;
    hcs_layer_root lr = {0};
    if (resolve_root(c->storage, &lr, err) < 0)
        return NULL;
    for (size_t i = 0; i < lr.n_lowers; i++)
        cJSON_AddItemToArray(layers, cJSON_CreateString(lr.lowers[i]));
    if (lr.upper != NULL) {
        cJSON_AddStringToObject(root, "Upper", lr.upper);
        cJSON_AddStringToObject(root, "Work", lr.work);
    }
    if (lr.bind != NULL)
        cJSON_AddStringToObject(root, "Bind", lr.bind);
    hcs_layer_root_free(&lr);
    AUTOFREE char *mp = hcs_asprintf("%s/rootfs", mon.entry->path);
    if (mp == NULL || mkdir(mp, 0700) < 0)
        return hcs_err_errno(err, errno, "create %s", mp ? mp : "rootfs"), NULL;
    cJSON_AddStringToObject(root, "Mountpoint", mp);
    const hcs_doc_mapped_directory *m = c->mapped_directories.items;
    for (size_t i = 0; i < c->mapped_directories.n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "HostPath", m[i].host_path);
        cJSON_AddStringToObject(o, "ContainerPath", m[i].container_path);
        cJSON_AddBoolToObject(o, "ReadOnly", m[i].read_only.value);
        cJSON_AddItemToArray(mounts, o);
    }
    if (c->guest_os != NULL && c->guest_os->host_name != NULL)
        cJSON_AddStringToObject(s, "HostName", c->guest_os->host_name);
    else /* the id, cut to the 64 bytes a host name may have */
        cJSON_AddItemToObject(s, "HostName", cJSON_CreateString(strndupa(mon.id, 64)));
    if (c->networking != NULL && c->networking->ns != NULL) {
        cJSON_AddStringToObject(s, "NetNs", c->networking->ns);
    } else if (c->networking != NULL && c->networking->network_shared_container_name != NULL) {
        const char *other = c->networking->network_shared_container_name;
        hcs_store_entry *oe = NULL;
        cJSON *ost = NULL;
        int64_t ipid = 0;
        hcs_error *why = NULL; /* replaced by a message that names the field */
        if (hcs_store_open(other, &oe, &why) < 0 || hcs_store_read_state(oe, &ost, &why) < 0 ||
            hcs_json_i64(cJSON_GetObjectItemCaseSensitive(ost, "InitPid"), &ipid) < 0 ||
            ipid <= 0) {
            hcs_err_free(why);
            hcs_store_release(oe, 0, NULL);
            cJSON_Delete(ost);
            hcs_err_set(err, HCS_E_SYSTEM_NOT_FOUND,
                        "Container.Networking.NetworkSharedContainerName: compute system \"%s\" "
                        "is not running",
                        other);
            return NULL;
        }
        AUTOFREE char *path = hcs_asprintf("/proc/%lld/ns/net", (long long)ipid);
        cJSON_AddStringToObject(s, "NetNs", path);
        hcs_store_release(oe, 0, NULL);
        cJSON_Delete(ost);
    }
    return steal_ptr(&s);
}

/* --- the registry ------------------------------------------------------------------------------
 */

/*
 * Open the system's registry over its layers' hive files (after resolve_root): the delta log in
 * <writable layer>/Hives, or in memory for a read-only root; apply Container.RegistryChanges;
 * listen on the socket the init binds at /dev/hcs-registry (its path goes in setup's Root).
 */
static int open_registry(cJSON *setup, hcs_error **err)
{
    const hcs_doc_container *c = mon.doc->container;
    const char *w = c->storage->path;
    AUTOFREE char *delta_dir = w ? hcs_asprintf("%s/%s", w, HCS_REG_HIVES_DIR) : NULL;
    AUTOFREE char *sock = hcs_asprintf("%s/%s", mon.entry->path, HCS_MON_REGISTRY_SOCKET);
    if ((w != NULL && delta_dir == NULL) || sock == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    if (hcs_reg_system_open(root_hold.layers, root_hold.n_layers, delta_dir, &mon.reg, err) < 0)
        return hcs_err_wrap(err, "open the registry");
    if (c->registry_changes != NULL &&
        hcs_reg_apply_json(mon.reg, c->registry_changes, "Container.RegistryChanges", err) < 0)
        return -1;
    if (hcs_rpc_listen(mon.entry->dirfd, HCS_MON_REGISTRY_SOCKET, &mon.reg_listen_fd, err) < 0)
        return -1;
    /*
     * Any user of the container may connect (its processes need not run as root); only that
     * container sees the socket: the system's folder is 0700 and the bind is in its /dev.
     */
    if (fchmodat(mon.entry->dirfd, HCS_MON_REGISTRY_SOCKET, 0666, 0) < 0)
        return hcs_err_errno(err, errno, "set the mode of %s", sock);
    if (cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(setup, "Root"), "RegistrySocket",
                                sock) == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory");
    return 0;
}

static void drop_registry_client(size_t i)
{
    close(mon.reg_clients[i].fd);
    free(mon.reg_clients[i].req);
    mon.reg_buffered -= mon.reg_clients[i].len;
    mon.reg_clients[i] = mon.reg_clients[--mon.n_reg_clients];
}

static void close_registry(void)
{
    while (mon.n_reg_clients > 0)
        drop_registry_client(mon.n_reg_clients - 1);
    if (mon.reg_listen_fd >= 0) {
        close(mon.reg_listen_fd);
        mon.reg_listen_fd = -1;
        if (mon.entry != NULL)
            unlinkat(mon.entry->dirfd, HCS_MON_REGISTRY_SOCKET, 0);
    }
    hcs_reg_system_close(mon.reg);
    mon.reg = NULL;
}

static void on_registry_connect(void)
{
    int c = accept4(mon.reg_listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return;
    if (mon.n_reg_clients >= HCS_MON_MAX_REG_CLIENTS) {
        close(c);
        return;
    }
    /* An answer is one message: room for the largest (the kernel doubles the value). */
    int size = (int)HCS_REG_SERVE_MAX;
    if (setsockopt(c, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
        (void)setsockopt(c, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    mon.reg_clients[mon.n_reg_clients++] = (hcs_mon_reg_client){.fd = c};
}

/*
 * One message of client i: a part of its request (see HCS_REG_PART_MAX), answered at once when it
 * is the last (one request in flight per connection). A client that sends a malformed message,
 * a request over HCS_REG_SERVE_MAX (or over what is left of HCS_MON_REG_BUFFERED), or does not
 * take its answer, is dropped.
 */
static void on_registry_request(size_t i)
{
    hcs_mon_reg_client *c = &mon.reg_clients[i];
    ssize_t n = recv(c->fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
    if (n <= 0 || (size_t)n > HCS_REG_PART_MAX + 1 || mon.reg == NULL ||
        c->len + (size_t)n - 1 > HCS_REG_SERVE_MAX ||
        mon.reg_buffered + (size_t)n - 1 > HCS_MON_REG_BUFFERED) {
        drop_registry_client(i);
        return;
    }
    char *req = realloc(c->req, c->len + (size_t)n);
    if (req == NULL) {
        drop_registry_client(i);
        return;
    }
    c->req = req;
    char flag;
    struct iovec iov[2] = {{&flag, 1}, {c->req + c->len, (size_t)n - 1}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
    if (recvmsg(c->fd, &msg, MSG_DONTWAIT) != n ||
        (flag != HCS_REG_PART_MORE && flag != HCS_REG_PART_LAST)) {
        drop_registry_client(i);
        return;
    }
    c->len += (size_t)n - 1;
    mon.reg_buffered += (size_t)n - 1;
    if (flag == HCS_REG_PART_MORE)
        return;
    AUTOFREE char *answer = NULL;
    size_t alen = 0;
    int r = hcs_reg_serve(mon.reg, c->req, c->len, &answer, &alen);
    free(c->req);
    c->req = NULL;
    mon.reg_buffered -= c->len;
    c->len = 0;
    if (r < 0 || send(c->fd, answer, alen, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)alen)
        drop_registry_client(i);
}

static hcs_job_limits limits_of(const hcs_doc_container *c)
{
    hcs_job_limits l = {0};
    if (c->memory != NULL && c->memory->size_in_mb.set)
        l.memory_bytes = c->memory->size_in_mb.value << 20;
    if (c->processor != NULL) {
        l.cpu_count = (uint32_t)c->processor->count.value;
        l.cpu_weight = c->processor->weight.value;
        l.cpu_maximum = c->processor->maximum.value;
    }
    if (c->linux_settings != NULL && c->linux_settings->resources != NULL &&
        c->linux_settings->resources->pids != NULL)
        l.pids_max = c->linux_settings->resources->pids->limit.value;
    return l;
}

static int create(hcs_error **err)
{
    if (hcs_store_open(mon.id, &mon.entry, err) < 0)
        return -1;
    AUTOFREE char *config = NULL;
    if (hcs_store_read_file(mon.entry, HCS_STORE_CONFIG_FILE, 16 << 20, &config, NULL, err) < 0)
        return -1;
    if (hcs_schema_parse(&hcs_type_compute_system, config, "ComputeSystem", true, (void **)&mon.doc,
                         err) < 0)
        return -1;
    if (mon.doc->container == NULL)
        return hcs_err_set(err, E_NOTIMPL, "utility VMs are not built yet");
    mon.state = "Creating";
    mon.terminate_on_last_close = mon.doc->should_terminate_on_last_handle_closed.value;
    AUTOJSON cJSON *setup = setup_document(err);
    if (setup == NULL || open_registry(setup, err) < 0)
        return -1;
    hcs_job_limits l = limits_of(mon.doc->container);
    if (hcs_job_create(mon.id, &l, &mon.job, err) < 0)
        return -1;
    if (hcs_silo_start(mon.job, &mon.silo, err) < 0 || hcs_silo_setup(mon.silo, setup, err) < 0)
        return -1;
    if (hcs_rpc_listen(mon.entry->dirfd, HCS_STORE_CONTROL_SOCKET, &mon.listen_fd, err) < 0)
        return -1;
    set_state("Created");
    return 0;
}

/* Remove what the system left and exit. */
__attribute__((noreturn)) static void finish(int code)
{
    if (mon.silo != NULL) {
        hcs_silo_destroy(mon.silo);
        mon.silo = NULL;
    }
    if (mon.job != NULL) {
        hcs_job_destroy(mon.job, NULL);
        mon.job = NULL;
    }
    /* Every process is gone, and with the init the mount namespace that used the layers. */
    close_registry();
    release_root();
    if (mon.entry != NULL)
        hcs_store_release(mon.entry, 1, NULL);
    _exit(code);
}

static void report_status(int status_fd, hcs_error *err)
{
    AUTOJSON cJSON *r = cJSON_CreateObject();
    hcs_json_add_i64(r, "Result", err ? err->hr : S_OK);
    if (err != NULL)
        cJSON_AddStringToObject(r, "Error", err->message);
    AUTOFREE char *text = hcs_json_print(r);
    if (text != NULL && write(status_fd, text, strlen(text)) < 0)
        hcs_log(HCS_LOG_WARNING, "report the creation status: %s", strerror(errno));
    close(status_fd);
}

/* --- the loop -----------------------------------------------------------------------------------
 */

static void on_init_message(void)
{
    if (mon.silo == NULL)
        return;
    cJSON *msg = NULL;
    int fds[HCS_RPC_MAX_FDS];
    size_t nfds = 0;
    if (hcs_rpc_recv(mon.silo->sock, &msg, fds, &nfds, NULL) < 0 || msg == NULL) {
        close(mon.silo->sock);
        mon.silo->sock = -1;
        return;
    }
    const char *ev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "Event"));
    if (ev != NULL && strcmp(ev, "ProcessExited") == 0) {
        int64_t pid = 0, code = 0, sig = 0;
        hcs_json_i64(cJSON_GetObjectItemCaseSensitive(msg, "Pid"), &pid);
        hcs_json_i64(cJSON_GetObjectItemCaseSensitive(msg, "ExitCode"), &code);
        hcs_json_i64(cJSON_GetObjectItemCaseSensitive(msg, "Signal"), &sig);
        process_exited(pid, code, sig);
    } else {
        hcs_mon_init_reply(msg, fds, nfds);
    }
    for (size_t i = 0; i < nfds; i++)
        close(fds[i]);
    cJSON_Delete(msg);
}

static void on_init_exit(void)
{
    if (mon.silo == NULL)
        return;
    int status = 0;
    while (waitpid(mon.silo->init_pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (mon.exit_type == NULL && mon.shutdown_requested)
        mon.exit_type = "GracefulExit";
    system_stopped(status);
}

int hcs_monitor_run(const char *id, int lock_fd, int status_fd)
{
    mon.id = id;
    (void)lock_fd; /* held open for our whole life: the id's lock is ours */
    mon.listen_fd = -1;
    mon.reg_listen_fd = -1;
    hcs_error *err = NULL;
    if (create(&err) < 0) {
        hcs_err_wrap(&err, "create \"%s\"", id);
        report_status(status_fd, err);
        hcs_err_free(err);
        finish(1);
    }
    report_status(status_fd, NULL);

    for (;;) {
        /* Reap orphans we are subreaper for (the init is reaped through its pidfd). */
        while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
            ;
        bool stopped = strcmp(mon.state, "Stopped") == 0;
        if (stopped && mon.n_clients == 0)
            finish(0);
        struct pollfd pfd[4 + HCS_MON_MAX_REG_CLIENTS + HCS_MON_MAX_CLIENTS];
        size_t n = 0;
        pfd[n++] = (struct pollfd){mon.listen_fd, POLLIN, 0};
        int init_sock = mon.silo ? mon.silo->sock : -1;
        int init_pidfd = mon.silo ? mon.silo->pidfd : -1;
        pfd[n++] = (struct pollfd){init_sock, POLLIN, 0};
        pfd[n++] = (struct pollfd){init_pidfd, POLLIN, 0};
        pfd[n++] = (struct pollfd){mon.reg_listen_fd, POLLIN, 0};
        for (size_t i = 0; i < mon.n_reg_clients; i++)
            pfd[n++] = (struct pollfd){mon.reg_clients[i].fd, POLLIN, 0};
        size_t first_client = n; /* control clients follow the registry's */
        for (size_t i = 0; i < mon.n_clients; i++)
            pfd[n++] = (struct pollfd){mon.clients[i], POLLIN, 0};
        int timeout = -1;
        if (mon.deadline_ms != 0 && !stopped) {
            unsigned long long now = hcs_now_ms();
            timeout = now >= mon.deadline_ms ? 0 : (int)(mon.deadline_ms - now);
        }
        int r = poll(pfd, n, timeout);
        if (r < 0 && errno != EINTR)
            finish(1);
        if (mon.deadline_ms != 0 && !stopped && hcs_now_ms() >= mon.deadline_ms) {
            mon.deadline_ms = 0;
            mon.exit_type = "ForcedExit";
            kill_system();
        }
        if (r <= 0)
            continue;
        /* Registry clients first: the init's exit below closes them all. */
        for (size_t k = first_client; k-- > 4;)
            if ((pfd[k].revents & (POLLIN | POLLHUP | POLLERR)) && k - 4 < mon.n_reg_clients)
                on_registry_request(k - 4);
        if ((pfd[3].revents & POLLIN) && mon.reg_listen_fd >= 0)
            on_registry_connect();
        if (pfd[2].revents & POLLIN)
            on_init_exit();
        else if (pfd[1].revents & (POLLIN | POLLHUP))
            on_init_message();
        if (pfd[0].revents & POLLIN) {
            int c = -1;
            if (hcs_rpc_accept(mon.listen_fd, &c, NULL, NULL) == 0) {
                if (mon.n_clients < HCS_MON_MAX_CLIENTS)
                    mon.clients[mon.n_clients++] = c;
                else
                    close(c);
            }
        }
        /* Clients, from the last so that dropping one does not skip another. */
        for (size_t k = n; k-- > first_client;) {
            if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            size_t i = k - first_client;
            cJSON *msg = NULL;
            int fds[HCS_RPC_MAX_FDS];
            size_t nfds = 0;
            if (hcs_rpc_recv(mon.clients[i], &msg, fds, &nfds, NULL) < 0 || msg == NULL) {
                drop_client(i);
                if (mon.n_clients == 0 && mon.terminate_on_last_close &&
                    strcmp(mon.state, "Stopped") != 0)
                    hcs_mon_terminate();
                continue;
            }
            hcs_mon_request(mon.clients[i], msg, fds, nfds);
            for (size_t f = 0; f < nfds; f++)
                close(fds[f]);
            cJSON_Delete(msg);
        }
    }
}

hcs_monitor *hcs_mon(void)
{
    return &mon;
}
void hcs_mon_set_state(const char *state)
{
    set_state(state);
}
