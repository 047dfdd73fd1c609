/* rpc_fixture.h - helpers shared by the rpc unit tests. */
#ifndef RPC_FIXTURE_H
#define RPC_FIXTURE_H

#include <stddef.h>

#include "rpc/rpc.h"

/*
 * Checked fixture: a temporary root (hcs_test_roots_setup) and the number of open descriptors,
 * which must be the same when the test ends (no descriptor leaks).
 */
void rpc_setup(void);
void rpc_teardown(void);

/* Open descriptors of this process. */
int rpc_count_fds(void);

/* The runtime folder of the test root, created; returns an O_DIRECTORY descriptor. */
int rpc_run_dir(void);

/* A connected pair (fails the test otherwise). */
void rpc_pair(int fds[2]);

/* Send, which must succeed. */
void rpc_send_ok(int fd, const cJSON *msg, const int *fds, size_t nfds);

/* Receive, which must succeed with a message (caller frees). */
cJSON *rpc_recv_ok(int fd, int *fds, size_t *nfds);

/*
 * Send one raw datagram with ndesc descriptors (any number) through sendmsg, bypassing
 * hcs_rpc_send's checks: a misbehaving peer.
 */
void rpc_send_raw(int fd, const void *data, size_t len, const int *desc, size_t ndesc);

/* True when every write end of the pipe whose read end is given has been closed. */
int rpc_pipe_writers_gone(int read_end);

/* An error's message (caller frees) after asserting its HRESULT; frees the error. */
char *rpc_take_error(hcs_error *err, HRESULT want);

#endif
