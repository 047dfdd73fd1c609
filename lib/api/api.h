/*
 * api.h - helpers for the exported functions (lib/api only).
 *
 * Every exported function starts with hcs_api_enter(), which clears the thread's last error,
 * and leaves through hcs_api_fail*() on failure, which records the ResultError that
 * HcsGetErrorInfo() returns.
 */
#ifndef HCS_API_API_H
#define HCS_API_API_H

#include <time.h>

#include "common/error.h"
#include "hcs.h"

void hcs_api_enter(void);

/* Record err as the thread's last error, free it, return its HRESULT. */
HRESULT hcs_api_fail(hcs_error *err);

/* Record hr with a printf-style message; returns hr. */
HRESULT hcs_api_fail_hr(HRESULT hr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record hr with a ResultError document already built (copied; NULL builds a generic one). */
void hcs_api_fail_doc(HRESULT hr, const char *doc);

/*
 * A tracked call failing before its work was queued: complete the operation with err (when
 * the operation is valid and not pending), record it, and store a copy of its ResultError in
 * *result when result is non-NULL. Returns the HRESULT.
 */
HRESULT hcs_api_fail_tracked(HCS_OPERATION op, HCS_OPERATION_TYPE type, hcs_error *err);

/* The absolute time timeoutMs from now on clock clk, for pthread_cond_timedwait. */
struct timespec hcs_api_deadline(clockid_t clk, uint32_t timeout_ms);

/* On failure (FAILED(hr)) store a copy of the thread's last ResultError in *result (if non-NULL
 * and still NULL). Returns hr. */
HRESULT hcs_api_out(HRESULT hr, char **result);

#endif
