/*
 * rpc.h - messages between the library, the monitor and the silo init.
 *
 * A connection is a unix SOCK_SEQPACKET socket: each message is one JSON object (UTF-8, at most
 * HCS_RPC_MAX_MESSAGE bytes) with up to HCS_RPC_MAX_FDS file descriptors passed alongside
 * (SCM_RIGHTS). Integers keep all 64 bits (lib/common/json). Received fds are O_CLOEXEC.
 *
 * Conventions (lib/monitor documents each operation):
 *   request  {"Op": "Start", "Id": 7, ...}
 *   reply    {"Reply": 7, "Result": <HRESULT>, "Error": "message when Result < 0", ...}
 *   event    {"Event": "SystemExited", ...}
 *
 * Errors: 0 or -1 with *err ("context: cause"); a peer that went away is HCS_E_CONNECTION_CLOSED.
 */
#ifndef HCS_RPC_RPC_H
#define HCS_RPC_RPC_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/error.h"

#define HCS_RPC_MAX_MESSAGE (256 * 1024)
#define HCS_RPC_MAX_FDS 8

/*
 * Listen on dirfd/name (socket file mode 0600; a stale socket file is replaced). Binding goes
 * through /proc/self/fd/<dirfd>/name so long runtime-root paths do not hit the 108-byte limit.
 */
int hcs_rpc_listen(int dirfd, const char *name, int *out, hcs_error **err);

/*
 * Accept a connection; the peer must be root or have our effective uid (SO_PEERCRED), else the
 * connection is closed and E_ACCESSDENIED returned. *peer_pid (optional) gets its pid.
 */
int hcs_rpc_accept(int listen_fd, int *out, int *peer_pid, hcs_error **err);

/* Connect to dirfd/name. A missing or refused socket is HCS_E_CONNECT_FAILED. */
int hcs_rpc_connect(int dirfd, const char *name, int *out, hcs_error **err);

/* A connected pair (for the monitor and the silo init). */
int hcs_rpc_pair(int fds[2], hcs_error **err);

/* Send msg with nfds descriptors (the caller keeps its copies). Never raises SIGPIPE. */
int hcs_rpc_send(int fd, const cJSON *msg, const int *fds, size_t nfds, hcs_error **err);

/*
 * Receive one message. Returns 0 with *msg set, or 0 with *msg NULL when the peer closed the
 * connection. fds (optional, room for HCS_RPC_MAX_FDS) receives the descriptors and *nfds their
 * count; descriptors beyond what the caller takes are closed. A message that is not a JSON
 * object is HCS_E_PROTOCOL_ERROR. Retries on EINTR.
 */
int hcs_rpc_recv(int fd, cJSON **msg, int *fds, size_t *nfds, hcs_error **err);

/* Helpers for the conventions above. */
cJSON *hcs_rpc_request(const char *op, uint64_t id);
cJSON *hcs_rpc_reply(uint64_t id, HRESULT result, const char *error);
cJSON *hcs_rpc_event(const char *event);

#endif
