/*
 * error.h - the library's internal error chain.
 *
 * Internal functions return 0 on success or a negative value on failure and fill an hcs_error.
 * An error carries the HRESULT the API will report and a message built as "context: cause", the
 * innermost cause last. lib/api turns it into the HRESULT and a ResultError document.
 */
#ifndef HCS_COMMON_ERROR_H
#define HCS_COMMON_ERROR_H

#include "hcs.h"

typedef struct hcs_error {
    HRESULT hr;
    char *message;
} hcs_error;

/* Set *err (if err is non-NULL and *err is NULL) and return -1. printf-style message. */
int hcs_err_set(hcs_error **err, HRESULT hr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As hcs_err_set, with ": <strerror(errnum)>" appended and the HRESULT derived from errnum. */
int hcs_err_errno(hcs_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the message of *err with "<context>: ". Returns -1 so callers can `return` it. */
int hcs_err_wrap(hcs_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void hcs_err_free(hcs_error *err);

/* Move an error out of *from into *to (if to is non-NULL), leaving *from NULL. */
void hcs_err_move(hcs_error **to, hcs_error **from);

/* The HRESULT for a kernel errno: Windows equivalents where they exist, else HRESULT_FROM_ERRNO. */
HRESULT hcs_hresult_from_errno(int errnum);

/* A short fixed description of an HRESULT ("The JSON document is invalid"), or NULL if unknown. */
const char *hcs_hresult_name(HRESULT hr);

#endif
