/*
 * operation.h - the operation state machine behind HCS_OPERATION (internal side).
 *
 * A tracked call does:
 *     if (hcs_op_begin(op, type, system, process, &err) < 0)   NotStarted/Completed -> Pending
 *         return hcs_api_fail(err);                            (pending: ALREADY_STARTED)
 *     ...validate; on failure: return hcs_op_fail_sync(op, err);   completes, no callback
 *     hcs_op_submit(op, work, arg, free_arg, &err);            work runs on a library thread
 * and the work function ends with hcs_op_complete() (or hcs_op_complete_error()).
 *
 * Lifetime: the caller's reference lasts until HcsCloseOperation; pending work and a running
 * callback each hold one more, so close-while-pending and close-in-callback are safe.
 */
#ifndef HCS_API_OPERATION_H
#define HCS_API_OPERATION_H

#include <stdbool.h>

#include "common/error.h"
#include "hcs.h"

typedef void (*hcs_op_work_fn)(HCS_OPERATION op, void *arg);

/* Validate a handle given by the caller: E_HANDLE for NULL or a handle that is not an operation. */
int hcs_op_check(HCS_OPERATION op, hcs_error **err);

int hcs_op_begin(HCS_OPERATION op, HCS_OPERATION_TYPE type, HCS_SYSTEM system, HCS_PROCESS process,
                 hcs_error **err);

/*
 * Run work(op, arg) on a library thread. If the operation is cancelled before the work starts,
 * the work is not run and the operation completes with HCS_E_CANCELLED. free_arg (optional) is
 * called on arg afterwards either way. On failure the operation is completed with the error
 * (no callback) and -1 returned.
 */
int hcs_op_submit(HCS_OPERATION op, hcs_op_work_fn work, void *arg, void (*free_arg)(void *),
                  hcs_error **err);

/* True once HcsCancelOperation was called for the current call: a cancellation point. */
bool hcs_op_cancel_requested(HCS_OPERATION op);

/*
 * Complete the current call: takes ownership of doc (malloc'ed, may be NULL) and of the fds in
 * pi (may be NULL). Runs the completion callback on this thread with no lock held. If the
 * operation was closed meanwhile, the result is dropped (fds closed).
 */
void hcs_op_complete(HCS_OPERATION op, HRESULT hr, char *doc, const HCS_PROCESS_INFORMATION *pi);

/* Complete with an error: the result document is its ResultError. Frees err. */
void hcs_op_complete_error(HCS_OPERATION op, hcs_error *err);

/* Complete a call that failed before any work was queued: no callback. Frees err; returns hr. */
HRESULT hcs_op_fail_sync(HCS_OPERATION op, hcs_error *err);

/* The type of the call being tracked (for ResultError attribution). */
HCS_OPERATION_TYPE hcs_op_type(HCS_OPERATION op);

/* Keep an operation alive across an asynchronous hand-over (an event that carries it). */
void hcs_op_ref(HCS_OPERATION op);
void hcs_op_unref(HCS_OPERATION op);

/* True when the operation has its own completion callback. */
bool hcs_op_has_callback(HCS_OPERATION op);

/* Number of live operation objects (for leak tests). */
long hcs_op_live_count(void);

#endif
