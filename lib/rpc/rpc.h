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
 *
 * Thread safety: every function may be called from any thread. Sends on one connection from
 * several threads never interleave (each message is one datagram); concurrent receivers on one
 * connection each get whole messages, in no defined order between them.
 *
 * dirfd/name: name is relative to the open folder dirfd (an absolute name, or AT_FDCWD, is used
 * as is). Binding and connecting go through /proc/self/fd/<dirfd>, so /proc must be mounted.
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
 * Any other file of that name (regular file, symlink, folder) is left in place and refused with
 * HRESULT_FROM_ERRNO(EEXIST); a name too long even for that address is E_INVALIDARG.
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
 *
 * Also HCS_E_PROTOCOL_ERROR (with every descriptor that came along closed): a message over
 * HCS_RPC_MAX_MESSAGE bytes or with more than HCS_RPC_MAX_FDS descriptors. A connection reset
 * reads as a close once the messages still queued have been read, and so does a zero-length
 * datagram (hcs_rpc_send never sends one). The caller takes descriptors only when both fds and
 * nfds are given. On a non-blocking socket with nothing to read the error is
 * HRESULT_FROM_ERRNO(EAGAIN).
 */
int hcs_rpc_recv(int fd, cJSON **msg, int *fds, size_t *nfds, hcs_error **err);

/*
 * Helpers for the conventions above. Each returns a new object (caller frees with cJSON_Delete)
 * that the caller may extend, or NULL when out of memory (or when op/event is NULL). "Id",
 * "Reply" and "Result" are exact integers; "Error" is present only when error is non-NULL.
 */
cJSON *hcs_rpc_request(const char *op, uint64_t id);
cJSON *hcs_rpc_reply(uint64_t id, HRESULT result, const char *error);
cJSON *hcs_rpc_event(const char *event);

/*
 * Read a field of a message exactly (all 64 bits; see lib/common/json). Works on received
 * messages and on messages built here (hcs_json_add_u64/i64 raw nodes). A missing field or one
 * of another type is HCS_E_PROTOCOL_ERROR naming the field, what was expected and what came
 * ("message field \"Id\": expected an unsigned 64-bit integer, got \"7\""); err may be NULL for
 * an optional field. *out is written only on success; a string stays owned by msg.
 */
int hcs_rpc_get_u64(const cJSON *msg, const char *field, uint64_t *out, hcs_error **err);
int hcs_rpc_get_i64(const cJSON *msg, const char *field, int64_t *out, hcs_error **err);
int hcs_rpc_get_string(const cJSON *msg, const char *field, const char **out, hcs_error **err);

/*
 * Read a reply: *id ("Reply"), *result ("Result", a 32-bit HRESULT) and *error ("Error", NULL
 * when absent; owned by msg; error itself may be NULL). HCS_E_PROTOCOL_ERROR when malformed;
 * the outputs are written only on success.
 */
int hcs_rpc_get_reply(const cJSON *msg, uint64_t *id, HRESULT *result, const char **error,
                      hcs_error **err);

/* Close nfds descriptors (entries < 0 skipped): for received fds a caller does not keep. */
void hcs_rpc_close_fds(const int *fds, size_t nfds);

#endif
