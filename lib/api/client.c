/* client.c - connections to monitors, requests, replies, ordered event delivery. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "operation.h"
#include "pool.h"
#include "rpc/rpc.h"
#include "store/store.h"

struct hcs_pending {
    uint64_t id;
    struct hcs_pending *next;
    /* asynchronous */
    HCS_OPERATION op;
    hcs_reply_fn on_reply;
    void *arg;
    hcs_peek_fn peek; /* run by the reader, in order, before later messages */
    /* synchronous */
    bool sync, done;
    cJSON *reply;
    int fds[HCS_RPC_MAX_FDS];
    size_t nfds;
};

struct hcs_event_item {
    HCS_PROCESS target; /* NULL: the system's callback */
    HCS_EVENT_TYPE type;
    char *data;
    HCS_OPERATION op;
    struct hcs_event_item *next;
};

HCS_SYSTEM hcs_client_new(const char *id)
{
    HCS_SYSTEM s = calloc(1, sizeof(*s));
    if (s == NULL || (s->id = strdup(id)) == NULL) {
        free(s);
        return NULL;
    }
    s->magic = HCS_SYSTEM_MAGIC;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->fd = -1;
    s->refs = 1;
    s->conn = HCS_CONN_PENDING;
    return s;
}

int hcs_system_check(HCS_SYSTEM sys, hcs_error **err)
{
    if (sys == NULL)
        return hcs_err_set(err, E_HANDLE, "the compute system handle is NULL");
    if (sys->magic != HCS_SYSTEM_MAGIC || sys->closed)
        return hcs_err_set(err, E_HANDLE, "the compute system handle is closed or not valid");
    return 0;
}

int hcs_process_check(HCS_PROCESS p, hcs_error **err)
{
    if (p == NULL)
        return hcs_err_set(err, E_HANDLE, "the process handle is NULL");
    if (p->magic != HCS_PROCESS_MAGIC || p->closed)
        return hcs_err_set(err, E_HANDLE, "the process handle is closed or not valid");
    return 0;
}

static void free_system(HCS_SYSTEM s)
{
    while (s->events != NULL) {
        struct hcs_event_item *e = s->events;
        s->events = e->next;
        free(e->data);
        free(e);
    }
    s->magic = 0;
    if (s->fd >= 0)
        close(s->fd);
    free(s->id);
    free(s->conn_error);
    free(s->exit_status);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void hcs_client_unref(HCS_SYSTEM sys)
{
    pthread_mutex_lock(&sys->lock);
    bool last = --sys->refs == 0;
    /* Only the reader is left: end the connection so that it exits and drops the last ref. */
    bool only_reader = !last && sys->refs == 1 && sys->reader_started && sys->closed &&
                       sys->procs == NULL && sys->fd >= 0;
    if (only_reader)
        shutdown(sys->fd, SHUT_RDWR);
    pthread_mutex_unlock(&sys->lock);
    if (last)
        free_system(sys);
}

void hcs_client_drain(HCS_SYSTEM sys, int *callbacks_running, pthread_t *cb_thread)
{
    while (*callbacks_running > 0 && !pthread_equal(*cb_thread, pthread_self()))
        pthread_cond_wait(&sys->cond, &sys->lock);
}

int hcs_client_wait_up(HCS_SYSTEM sys, hcs_error **err)
{
    pthread_mutex_lock(&sys->lock);
    while (sys->conn == HCS_CONN_PENDING)
        pthread_cond_wait(&sys->cond, &sys->lock);
    int rc = 0;
    if (sys->conn != HCS_CONN_UP)
        rc = hcs_err_set(err, sys->conn_hr ? sys->conn_hr : HCS_E_CONNECTION_CLOSED, "%s",
                         sys->conn_error ? sys->conn_error : "the compute system is gone");
    pthread_mutex_unlock(&sys->lock);
    return rc;
}

/* --- events ---------------------------------------------------------------------------------- */

static void dispatch(void *arg)
{
    HCS_SYSTEM sys = arg;
    pthread_mutex_lock(&sys->lock);
    while (sys->events != NULL) {
        struct hcs_event_item *e = sys->events;
        sys->events = e->next;
        if (sys->events == NULL)
            sys->events_tail = NULL;
        HCS_PROCESS p = e->target;
        HCS_EVENT_CALLBACK cb = p ? (p->closed ? NULL : p->cb) : (sys->closed ? NULL : sys->cb);
        void *ctx = p ? p->cb_ctx : sys->cb_ctx;
        int *running = p ? &p->callbacks_running : &sys->callbacks_running;
        if (cb != NULL) {
            (*running)++;
            if (p)
                p->cb_thread = pthread_self();
            else
                sys->cb_thread = pthread_self();
            pthread_mutex_unlock(&sys->lock);
            HCS_EVENT ev = {e->type, e->data, e->op};
            cb(&ev, ctx);
            pthread_mutex_lock(&sys->lock);
            (*running)--;
            pthread_cond_broadcast(&sys->cond);
        }
        if (p != NULL && --p->refs == 0) {
            p->magic = 0;
            free(p->status);
            free(p);
        }
        if (e->op != NULL) {
            pthread_mutex_unlock(&sys->lock);
            hcs_op_unref(e->op);
            pthread_mutex_lock(&sys->lock);
        }
        free(e->data);
        free(e);
    }
    sys->dispatching = false;
    pthread_cond_broadcast(&sys->cond);
    pthread_mutex_unlock(&sys->lock);
    hcs_client_unref(sys);
}

/* With sys->lock held. */
static void queue_event(HCS_SYSTEM sys, HCS_PROCESS p, HCS_EVENT_TYPE type, const char *data,
                        HCS_OPERATION op)
{
    HCS_EVENT_CALLBACK cb = p ? p->cb : sys->cb;
    if (cb == NULL)
        return;
    struct hcs_event_item *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return;
    e->target = p;
    e->type = type;
    e->data = data ? strdup(data) : NULL;
    e->op = op;
    if (op != NULL)
        hcs_op_ref(op);
    if (p != NULL)
        p->refs++;
    if (sys->events_tail)
        sys->events_tail->next = e;
    else
        sys->events = e;
    sys->events_tail = e;
    if (!sys->dispatching) {
        sys->dispatching = true;
        sys->refs++;
        if (hcs_pool_submit(dispatch, sys, NULL) < 0) {
            sys->dispatching = false;
            sys->refs--;
        }
    }
}

void hcs_client_event_locked(HCS_SYSTEM sys, HCS_PROCESS p, HCS_EVENT_TYPE type, const char *data,
                             HCS_OPERATION op)
{
    queue_event(sys, p, type, data, op);
}

void hcs_client_event(HCS_SYSTEM sys, HCS_PROCESS p, HCS_EVENT_TYPE type, const char *data,
                      HCS_OPERATION op)
{
    pthread_mutex_lock(&sys->lock);
    queue_event(sys, p, type, data, op);
    pthread_mutex_unlock(&sys->lock);
}

/* --- the reader ------------------------------------------------------------------------------- */

struct reply_job {
    HCS_SYSTEM sys;
    struct hcs_pending *pending;
    cJSON *reply;
    int fds[HCS_RPC_MAX_FDS];
    size_t nfds;
};

static void run_reply(void *arg)
{
    struct reply_job *j = arg;
    HCS_OPERATION op = j->pending->op;
    pthread_mutex_lock(&j->sys->lock);
    bool as_event = (j->sys->cb_opts & HcsEventOptionEnableOperationCallbacks) != 0;
    pthread_mutex_unlock(&j->sys->lock);
    if (as_event)
        hcs_op_ref(op); /* the caller may close it as soon as it completes */
    j->pending->on_reply(j->sys, op, j->reply, j->fds, j->nfds, j->pending->arg);
    if (as_event) {
        hcs_client_event(j->sys, NULL, HcsEventOperationCallback, NULL, op);
        hcs_op_unref(op);
    }
    for (size_t i = 0; i < j->nfds; i++)
        if (j->fds[i] >= 0)
            close(j->fds[i]);
    cJSON_Delete(j->reply);
    free(j->pending);
    hcs_client_unref(j->sys);
    free(j);
}

static void on_event(HCS_SYSTEM sys, const cJSON *msg, const char *name)
{
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(msg, "Status");
    AUTOFREE char *data = status ? hcs_json_print(status) : NULL;
    pthread_mutex_lock(&sys->lock);
    if (strcmp(name, "SystemExited") == 0 && !sys->exited) {
        sys->exited = true;
        sys->exit_status = data ? strdup(data) : NULL;
        queue_event(sys, NULL, HcsEventSystemExited, data, NULL);
    } else if (strcmp(name, "ProcessExited") == 0) {
        int64_t pid = -1;
        hcs_json_i64(cJSON_GetObjectItemCaseSensitive(status, "ProcessId"), &pid);
        for (HCS_PROCESS p = sys->procs; p != NULL; p = p->next) {
            if ((int64_t)p->pid != pid || p->exited)
                continue;
            p->exited = true;
            p->status = data ? strdup(data) : NULL;
            queue_event(sys, p, HcsEventProcessExited, data, NULL);
        }
    }
    pthread_cond_broadcast(&sys->cond);
    pthread_mutex_unlock(&sys->lock);
}

/*
 * A monitor that dies closes its descriptors one at a time, so its connection can read as closed
 * just before its lock is let go. Wait for the lock (a second at most: a monitor that closed
 * the connection and lives on keeps it), so that once the exit is reported, enumerate and open
 * see the system stopped too.
 */
static void await_monitor_gone(const char *id)
{
    hcs_store_entry *e = NULL;
    if (hcs_store_open(id, &e, NULL) < 0)
        return;
    for (int i = 0; i < 100 && hcs_store_owner_alive(e, NULL) == 1; i++)
        usleep(10 * 1000);
    hcs_store_release(e, 0, NULL);
}

/* The connection is gone: fail what waits and, if the system had not exited, report it. */
static void connection_lost(HCS_SYSTEM sys)
{
    pthread_mutex_lock(&sys->lock);
    bool unexpected = !sys->exited && !sys->closed;
    pthread_mutex_unlock(&sys->lock);
    if (unexpected)
        await_monitor_gone(sys->id);
    pthread_mutex_lock(&sys->lock);
    sys->conn = HCS_CONN_LOST;
    if (sys->conn_hr == 0) {
        sys->conn_hr = HCS_E_SERVICE_DISCONNECT;
        free(sys->conn_error);
        sys->conn_error = strdup("the connection to the compute system's monitor was lost");
    }
    struct hcs_pending *list = sys->pending;
    sys->pending = NULL;
    bool report = !sys->exited && !sys->closed;
    if (report) {
        sys->exited = true;
        sys->exit_status = strdup("{\"Status\":-2143878906,\"ExitType\":\"UnexpectedExit\"}");
        queue_event(sys, NULL, HcsEventServiceDisconnect, NULL, NULL);
        queue_event(sys, NULL, HcsEventSystemExited, sys->exit_status, NULL);
    }
    pthread_cond_broadcast(&sys->cond);
    pthread_mutex_unlock(&sys->lock);
    while (list != NULL) {
        struct hcs_pending *p = list;
        list = p->next;
        if (p->sync) {
            pthread_mutex_lock(&sys->lock);
            p->done = true; /* reply NULL: lost */
            pthread_cond_broadcast(&sys->cond);
            pthread_mutex_unlock(&sys->lock);
        } else {
            hcs_error *err = NULL;
            hcs_err_set(&err, HCS_E_SERVICE_DISCONNECT,
                        "the connection to the monitor of compute system \"%s\" was lost", sys->id);
            hcs_op_complete_error(p->op, err);
            free(p);
        }
    }
}

static void *reader(void *arg)
{
    HCS_SYSTEM sys = arg;
    for (;;) {
        cJSON *msg = NULL;
        int fds[HCS_RPC_MAX_FDS];
        size_t nfds = 0;
        if (hcs_rpc_recv(sys->fd, &msg, fds, &nfds, NULL) < 0 || msg == NULL)
            break;
        const char *ev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "Event"));
        uint64_t id = 0;
        if (ev != NULL) {
            on_event(sys, msg, ev);
        } else if (hcs_json_u64(cJSON_GetObjectItemCaseSensitive(msg, "Reply"), &id) == 0) {
            pthread_mutex_lock(&sys->lock);
            struct hcs_pending **pp = &sys->pending;
            while (*pp != NULL && (*pp)->id != id)
                pp = &(*pp)->next;
            struct hcs_pending *p = *pp;
            if (p != NULL)
                *pp = p->next;
            if (p != NULL && p->sync) {
                p->done = true;
                p->reply = steal_ptr(&msg);
                memcpy(p->fds, fds, nfds * sizeof(int));
                p->nfds = nfds;
                nfds = 0;
                pthread_cond_broadcast(&sys->cond);
            } else if (p != NULL) {
                if (p->peek != NULL)
                    p->peek(sys, msg, p->arg);
                struct reply_job *j = calloc(1, sizeof(*j));
                if (j != NULL) {
                    sys->refs++;
                    *j = (struct reply_job){.sys = sys, .pending = p, .reply = steal_ptr(&msg)};
                    memcpy(j->fds, fds, nfds * sizeof(int));
                    j->nfds = nfds;
                    nfds = 0;
                    if (hcs_pool_submit(run_reply, j, NULL) < 0) {
                        sys->refs--;
                        msg = j->reply;
                        free(j);
                        free(p);
                    }
                } else {
                    free(p);
                }
            }
            pthread_mutex_unlock(&sys->lock);
        }
        for (size_t i = 0; i < nfds; i++)
            close(fds[i]);
        cJSON_Delete(msg);
    }
    connection_lost(sys);
    hcs_client_unref(sys);
    return NULL;
}

int hcs_client_connect(HCS_SYSTEM sys, hcs_error **err)
{
    hcs_store_entry *e = NULL;
    int fd = -1;
    if (hcs_store_open(sys->id, &e, err) < 0 ||
        hcs_rpc_connect(e->dirfd, HCS_STORE_CONTROL_SOCKET, &fd, err) < 0) {
        hcs_store_release(e, 0, NULL);
        if (err != NULL && *err != NULL && (*err)->hr == HCS_E_CONNECT_FAILED) {
            hcs_err_free(*err);
            *err = NULL;
            hcs_err_set(err, HCS_E_SYSTEM_NOT_FOUND,
                        "compute system \"%s\" has no running monitor (it has stopped)", sys->id);
        }
        hcs_client_fail(sys, err ? *err : NULL);
        return -1;
    }
    hcs_store_release(e, 0, NULL);
    pthread_mutex_lock(&sys->lock);
    sys->fd = fd;
    sys->refs++; /* the reader's */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&sys->reader, &attr, reader, sys);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        sys->refs--;
        sys->conn = HCS_CONN_FAILED;
        sys->conn_hr = E_OUTOFMEMORY;
        pthread_cond_broadcast(&sys->cond);
        pthread_mutex_unlock(&sys->lock);
        return hcs_err_errno(err, rc, "start the reader thread");
    }
    sys->reader_started = true;
    sys->conn = HCS_CONN_UP;
    pthread_cond_broadcast(&sys->cond);
    pthread_mutex_unlock(&sys->lock);
    return 0;
}

void hcs_client_fail(HCS_SYSTEM sys, const hcs_error *err)
{
    pthread_mutex_lock(&sys->lock);
    sys->conn = HCS_CONN_FAILED;
    sys->conn_hr = err ? err->hr : E_FAIL;
    free(sys->conn_error);
    sys->conn_error = err ? strdup(err->message) : NULL;
    pthread_cond_broadcast(&sys->cond);
    pthread_mutex_unlock(&sys->lock);
}

/* --- requests ----------------------------------------------------------------------------------
 */

static struct hcs_pending *register_request(HCS_SYSTEM sys, cJSON *req, hcs_error **err)
{
    struct hcs_pending *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return hcs_err_set(err, E_OUTOFMEMORY, "out of memory"), NULL;
    if (sys->conn != HCS_CONN_UP) {
        free(p);
        hcs_err_set(err, sys->conn_hr ? sys->conn_hr : HCS_E_CONNECTION_CLOSED, "%s",
                    sys->conn_error ? sys->conn_error : "the compute system is not connected");
        return NULL;
    }
    p->id = ++sys->next_id;
    cJSON_DeleteItemFromObjectCaseSensitive(req, "Id");
    hcs_json_add_u64(req, "Id", p->id);
    p->next = sys->pending;
    sys->pending = p;
    return p;
}

static void unregister(HCS_SYSTEM sys, struct hcs_pending *p)
{
    for (struct hcs_pending **pp = &sys->pending; *pp != NULL; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            return;
        }
}

int hcs_client_call(HCS_SYSTEM sys, HCS_OPERATION op, cJSON *req, const int *fds, size_t nfds,
                    hcs_reply_fn on_reply, void *arg, hcs_error **err)
{
    return hcs_client_call_peek(sys, op, req, fds, nfds, NULL, on_reply, arg, err);
}

int hcs_client_call_peek(HCS_SYSTEM sys, HCS_OPERATION op, cJSON *req, const int *fds, size_t nfds,
                         hcs_peek_fn peek, hcs_reply_fn on_reply, void *arg, hcs_error **err)
{
    AUTOJSON cJSON *owned = req; /* freed on every return */
    (void)owned;
    if (hcs_client_wait_up(sys, err) < 0)
        return -1;
    pthread_mutex_lock(&sys->lock);
    if ((sys->cb_opts & HcsEventOptionEnableOperationCallbacks) && hcs_op_has_callback(op)) {
        pthread_mutex_unlock(&sys->lock);
        return hcs_err_set(err, HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET,
                           "the handle delivers operation completions to its event callback "
                           "(HcsEventOptionEnableOperationCallbacks): pass an operation without "
                           "a completion callback");
    }
    struct hcs_pending *p = register_request(sys, req, err);
    if (p == NULL) {
        pthread_mutex_unlock(&sys->lock);
        return -1;
    }
    p->op = op;
    p->on_reply = on_reply;
    p->arg = arg;
    p->peek = peek;
    /* Sent under the lock so that the reply cannot race the registration's visibility. */
    int rc = hcs_rpc_send(sys->fd, req, fds, nfds, err);
    if (rc < 0) {
        unregister(sys, p);
        free(p);
    }
    pthread_mutex_unlock(&sys->lock);
    return rc;
}

int hcs_client_call_sync(HCS_SYSTEM sys, cJSON *req, cJSON **reply, int *rfds, size_t *nrfds,
                         hcs_error **err)
{
    AUTOJSON cJSON *owned = req; /* freed on every return */
    (void)owned;
    *reply = NULL;
    if (hcs_client_wait_up(sys, err) < 0)
        return -1;
    pthread_mutex_lock(&sys->lock);
    struct hcs_pending *p = register_request(sys, req, err);
    if (p == NULL) {
        pthread_mutex_unlock(&sys->lock);
        return -1;
    }
    p->sync = true;
    if (hcs_rpc_send(sys->fd, req, NULL, 0, err) < 0) {
        unregister(sys, p);
        pthread_mutex_unlock(&sys->lock);
        free(p);
        return -1;
    }
    while (!p->done)
        pthread_cond_wait(&sys->cond, &sys->lock);
    pthread_mutex_unlock(&sys->lock);
    int rc = 0;
    if (p->reply == NULL) {
        rc =
            hcs_err_set(err, HCS_E_SERVICE_DISCONNECT,
                        "the connection to the monitor of compute system \"%s\" was lost", sys->id);
    } else if (hcs_client_reply_error(p->reply, err) < 0) {
        rc = -1;
        cJSON_Delete(p->reply);
    } else {
        *reply = p->reply;
    }
    for (size_t i = 0; i < p->nfds && i < HCS_RPC_MAX_FDS; i++) {
        if (rc == 0 && rfds != NULL)
            rfds[i] = p->fds[i];
        else
            close(p->fds[i]);
    }
    if (nrfds != NULL)
        *nrfds = rc == 0 && rfds != NULL ? p->nfds : 0;
    free(p);
    return rc;
}

int hcs_client_reply_error(const cJSON *reply, hcs_error **err)
{
    int64_t result = 0;
    hcs_json_i64(cJSON_GetObjectItemCaseSensitive(reply, "Result"), &result);
    if (result >= 0)
        return 0;
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reply, "Error"));
    return hcs_err_set(err, (HRESULT)result, "%s", msg ? msg : "the monitor reported a failure");
}

void hcs_client_reply_empty(HCS_SYSTEM sys, HCS_OPERATION op, const cJSON *reply, int *fds,
                            size_t nfds, void *arg)
{
    (void)sys;
    (void)fds;
    (void)nfds;
    (void)arg;
    hcs_error *err = NULL;
    if (hcs_client_reply_error(reply, &err) < 0)
        hcs_op_complete_error(op, err);
    else
        hcs_op_complete(op, S_OK, NULL, NULL);
}
