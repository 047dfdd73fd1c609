/*
 * client.h - the library's side of a compute system: handles, the connection to the system's
 * monitor, requests and replies, and ordered event delivery.
 *
 * Every HCS_SYSTEM handle owns one connection to the monitor's control socket and one reader
 * thread. Replies complete operations on library worker threads; events (SystemExited,
 * ProcessExited, operation callbacks) are queued and delivered in order, one at a time, by a
 * worker, never by the reader: a callback may make synchronous calls on the same handle.
 * Process handles share their system's connection and keep it alive.
 */
#ifndef HCS_API_CLIENT_H
#define HCS_API_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/error.h"
#include "hcs.h"

#define HCS_SYSTEM_MAGIC 0x53595354u  /* "SYST" */
#define HCS_PROCESS_MAGIC 0x50524F43u /* "PROC" */

struct hcs_pending;
struct hcs_event_item;

enum hcs_conn_state { HCS_CONN_PENDING, HCS_CONN_UP, HCS_CONN_FAILED, HCS_CONN_LOST };

struct HCS_SYSTEM_ {
    uint32_t magic;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned refs; /* the caller's handle, each process handle, the reader thread */
    char *id;
    int fd;
    enum hcs_conn_state conn;
    HRESULT conn_hr;  /* why the connection failed or was lost */
    char *conn_error; /* its message */
    pthread_t reader;
    bool reader_started;
    uint64_t next_id;
    struct hcs_pending *pending;
    /* events */
    HCS_EVENT_CALLBACK cb;
    void *cb_ctx;
    HCS_EVENT_OPTIONS cb_opts;
    int callbacks_running;
    pthread_t cb_thread;
    struct hcs_event_item *events, *events_tail;
    bool dispatching;
    bool closed;
    /* the system's end */
    bool exited;
    char *exit_status; /* SystemExitStatus JSON */
    struct HCS_PROCESS_ *procs;
};

struct HCS_PROCESS_ {
    uint32_t magic;
    HCS_SYSTEM sys; /* holds a reference; all fields below are under sys->lock */
    uint32_t pid;
    bool exited;
    char *status; /* ProcessStatus JSON once exited */
    HCS_EVENT_CALLBACK cb;
    void *cb_ctx;
    int callbacks_running;
    pthread_t cb_thread;
    bool closed;
    unsigned refs; /* the caller's handle, queued events */
    struct HCS_PROCESS_ *next;
};

/* A reply handler for an asynchronous request: runs on a worker, completes the operation. */
typedef void (*hcs_reply_fn)(HCS_SYSTEM sys, HCS_OPERATION op, const cJSON *reply, int *fds,
                             size_t nfds, void *arg);

/*
 * A look at a reply by the reader thread itself, with sys->lock held, before any later message
 * is handled (e.g. to learn a new process's pid before its exit event can arrive).
 */
typedef void (*hcs_peek_fn)(HCS_SYSTEM sys, const cJSON *reply, void *arg);

HCS_SYSTEM hcs_client_new(const char *id);
int hcs_system_check(HCS_SYSTEM sys, hcs_error **err);
int hcs_process_check(HCS_PROCESS p, hcs_error **err);

/* Connect sys to its monitor and start its reader (sys->conn becomes UP or FAILED). */
int hcs_client_connect(HCS_SYSTEM sys, hcs_error **err);
/* Mark a pending connection failed (creation failed) and wake waiters. */
void hcs_client_fail(HCS_SYSTEM sys, const hcs_error *err);

/*
 * Send request req (its Op set; the Id is assigned here) with fds; the reply is handed to
 * on_reply on a worker thread. Takes ownership of req. Fails (with the operation completed by
 * the caller) when the connection is not up.
 */
int hcs_client_call(HCS_SYSTEM sys, HCS_OPERATION op, cJSON *req, const int *fds, size_t nfds,
                    hcs_reply_fn on_reply, void *arg, hcs_error **err);

/* hcs_client_call with a peek at the reply (see hcs_peek_fn). */
int hcs_client_call_peek(HCS_SYSTEM sys, HCS_OPERATION op, cJSON *req, const int *fds, size_t nfds,
                         hcs_peek_fn peek, hcs_reply_fn on_reply, void *arg, hcs_error **err);

/* Send req and wait for its reply (*reply owned by the caller); fds of the reply in rfds. */
int hcs_client_call_sync(HCS_SYSTEM sys, cJSON *req, cJSON **reply, int *rfds, size_t *nrfds,
                         hcs_error **err);

/* The error carried by a reply ({"Result" < 0, "Error"}), or 0. */
int hcs_client_reply_error(const cJSON *reply, hcs_error **err);

/* Complete op from a reply with no payload (S_OK or the reply's error). */
void hcs_client_reply_empty(HCS_SYSTEM sys, HCS_OPERATION op, const cJSON *reply, int *fds,
                            size_t nfds, void *arg);

/* Queue an event for sys's callback (or p's when p is non-NULL); data is copied. */
void hcs_client_event(HCS_SYSTEM sys, HCS_PROCESS p, HCS_EVENT_TYPE type, const char *data,
                      HCS_OPERATION op);

/* The same with sys->lock already held. */
void hcs_client_event_locked(HCS_SYSTEM sys, HCS_PROCESS p, HCS_EVENT_TYPE type, const char *data,
                             HCS_OPERATION op);

/* Drop a reference (the handle's, a process's, the reader's); frees on the last. */
void hcs_client_unref(HCS_SYSTEM sys);

/* Wait (with the lock held) until no callback of the target runs, unless on its thread. */
void hcs_client_drain(HCS_SYSTEM sys, int *callbacks_running, pthread_t *cb_thread);

/* Wait until the connection attempt of a pending create ends; the error if it is not up. */
int hcs_client_wait_up(HCS_SYSTEM sys, hcs_error **err);

#endif
