/* monitor_internal.h - state shared by the files of the monitor (private to lib/monitor). */
#ifndef HCS_MONITOR_INTERNAL_H
#define HCS_MONITOR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/error.h"
#include "job/job.h"
#include "registry/registry.h"
#include "schema/documents.h"
#include "silo/silo.h"
#include "store/store.h"

#define HCS_MON_MAX_CLIENTS 256
#define HCS_MON_MAX_WAITS 512
#define HCS_MON_MAX_PROCS 4096
#define HCS_MON_MAX_CALLS 512
#define HCS_MON_MAX_MAPPED 64
#define HCS_MON_MAX_REG_CLIENTS 64
/* At most this much of unfinished hcsreg requests, over all clients: a container cannot make its
 * monitor hold 64 requests of 8 MiB. */
#define HCS_MON_REG_BUFFERED (16u << 20)
/* The registry's socket in the system's folder, bound at /dev/hcs-registry in the container. */
#define HCS_MON_REGISTRY_SOCKET "registry.sock"

typedef struct {
    int64_t pid; /* in the container */
    bool exited;
    int64_t exit_code, signal;
} hcs_mon_proc;

/* A client request waiting for something: the system's stop, or the init's reply. */
typedef struct {
    int fd; /* -1 once the client went away */
    uint64_t id;
} hcs_mon_wait;

typedef struct {
    uint64_t init_id;
    int fd;
    uint64_t client_id;
    const char *op;
} hcs_mon_call;

/* A connection of hcsreg: the request parts received so far (see HCS_REG_PART_MAX). */
typedef struct hcs_mon_reg_client {
    int fd;
    char *req;
    size_t len;
} hcs_mon_reg_client;

typedef struct hcs_monitor {
    const char *id;
    hcs_store_entry *entry;
    hcs_doc_compute_system *doc;
    hcs_job *job;
    hcs_silo *silo;
    const char *state; /* Creating, Created, Running, Paused, Stopped */
    const char *exit_type;
    HRESULT stopped_status;
    bool shutdown_requested, terminate_on_last_close;
    unsigned long long deadline_ms, started_ms;
    int listen_fd;
    int clients[HCS_MON_MAX_CLIENTS];
    size_t n_clients;
    hcs_mon_wait waits[HCS_MON_MAX_WAITS];
    size_t n_waits;
    hcs_mon_proc procs[HCS_MON_MAX_PROCS];
    size_t n_procs;
    hcs_mon_call calls[HCS_MON_MAX_CALLS];
    size_t n_calls;
    uint64_t next_init_id;
    /* The system's registry (open from create until the system stops) and its socket. */
    hcs_reg_system *reg;
    int reg_listen_fd;
    hcs_mon_reg_client reg_clients[HCS_MON_MAX_REG_CLIENTS];
    size_t n_reg_clients;
    size_t reg_buffered; /* bytes of unfinished requests, all clients (HCS_MON_REG_BUFFERED) */
} hcs_monitor;

hcs_monitor *hcs_mon(void);
void hcs_mon_set_state(const char *state);
void hcs_mon_reply(int fd, uint64_t id, hcs_error *err, cJSON *extra);
void hcs_mon_wait_for_exit(int fd, uint64_t id);
void hcs_mon_terminate(void);
void hcs_mon_shutdown(uint32_t grace_seconds);
hcs_mon_proc *hcs_mon_find_proc(int64_t pid);
cJSON *hcs_mon_process_status(const hcs_mon_proc *p);
cJSON *hcs_mon_exit_status(void);

/* requests.c */
void hcs_mon_request(int fd, const cJSON *msg, const int *fds, size_t nfds);
void hcs_mon_init_reply(const cJSON *msg, const int *fds, size_t nfds);

/* properties.c */
cJSON *hcs_mon_properties(const cJSON *query, hcs_error **err);

#endif
