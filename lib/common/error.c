/* error.c - the internal error chain and errno/HRESULT translation. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "util.h"

static hcs_error oom_error = {E_OUTOFMEMORY, (char *)"out of memory"};

static int set_v(hcs_error **err, HRESULT hr, const char *suffix, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static int set_v(hcs_error **err, HRESULT hr, const char *suffix, const char *fmt, va_list ap)
{
    if (err == NULL || *err != NULL)
        return -1;
    char *msg = hcs_vasprintf(fmt, ap);
    if (msg != NULL && suffix != NULL) {
        char *full = hcs_asprintf("%s: %s", msg, suffix);
        free(msg);
        msg = full;
    }
    hcs_error *e = malloc(sizeof(*e));
    if (e == NULL || msg == NULL) {
        free(e);
        free(msg);
        *err = &oom_error;
        return -1;
    }
    e->hr = hr;
    e->message = msg;
    *err = e;
    return -1;
}

int hcs_err_set(hcs_error **err, HRESULT hr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_v(err, hr, NULL, fmt, ap);
    va_end(ap);
    return -1;
}

int hcs_err_errno(hcs_error **err, int errnum, const char *fmt, ...)
{
    char buf[256];
    const char *s = strerror_r(errnum, buf, sizeof(buf));
    va_list ap;
    va_start(ap, fmt);
    set_v(err, hcs_hresult_from_errno(errnum), s, fmt, ap);
    va_end(ap);
    return -1;
}

int hcs_err_wrap(hcs_error **err, const char *fmt, ...)
{
    if (err == NULL || *err == NULL || *err == &oom_error)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *ctx = hcs_vasprintf(fmt, ap);
    va_end(ap);
    char *full = ctx ? hcs_asprintf("%s: %s", ctx, (*err)->message) : NULL;
    free(ctx);
    if (full != NULL) {
        free((*err)->message);
        (*err)->message = full;
    }
    return -1;
}

void hcs_err_free(hcs_error *err)
{
    if (err == NULL || err == &oom_error)
        return;
    free(err->message);
    free(err);
}

void hcs_err_move(hcs_error **to, hcs_error **from)
{
    if (to != NULL && *to == NULL)
        *to = *from;
    else
        hcs_err_free(*from);
    *from = NULL;
}

HRESULT hcs_hresult_from_errno(int errnum)
{
    switch (errnum) {
    case 0:
        return S_OK;
    case ENOENT:
        return HCS_E_FILE_NOT_FOUND;
    case EACCES:
    case EPERM:
        return E_ACCESSDENIED;
    case ENOMEM:
        return E_OUTOFMEMORY;
    case EINVAL:
        return E_INVALIDARG;
    case EEXIST:
    case ENOTEMPTY:
        return HCS_E_ALREADY_EXISTS;
    case ENOTSUP:
        return HCS_E_NOT_SUPPORTED;
    case ETIMEDOUT:
        return HCS_E_WIN32_TIMEOUT;
    case ECANCELED:
        return HCS_E_CANCELLED;
    default:
        return HRESULT_FROM_ERRNO(errnum);
    }
}

static const struct {
    HRESULT hr;
    const char *name;
} names[] = {
    {S_OK, "The operation completed successfully"},
    {E_NOTIMPL, "Not implemented"},
    {E_POINTER, "Invalid pointer"},
    {E_FAIL, "Unspecified error"},
    {E_ACCESSDENIED, "Access is denied"},
    {E_HANDLE, "The handle is invalid"},
    {E_OUTOFMEMORY, "Out of memory"},
    {E_INVALIDARG, "The parameter is incorrect"},
    {HCS_E_FILE_NOT_FOUND, "The system cannot find the file specified"},
    {HCS_E_ALREADY_EXISTS, "Cannot create a file when that file already exists"},
    {HCS_E_NOT_SUPPORTED, "The request is not supported"},
    {HCS_E_WIN32_TIMEOUT, "This operation returned because the timeout period expired"},
    {HCS_E_CANCELLED, "The operation was canceled by the user"},
    {HCS_E_TERMINATED_DURING_START, "The compute system exited while starting"},
    {HCS_E_IMAGE_MISMATCH, "The container image does not match the host"},
    {HCS_E_HYPERV_NOT_INSTALLED, "A required virtualization feature is not available"},
    {HCS_E_INVALID_STATE, "The operation is not valid in the current state"},
    {HCS_E_UNEXPECTED_EXIT, "The compute system exited unexpectedly"},
    {HCS_E_TERMINATED, "The compute system was forcefully terminated"},
    {HCS_E_CONNECT_FAILED, "Cannot connect to the guest"},
    {HCS_E_CONNECTION_TIMEOUT, "The guest did not answer in time"},
    {HCS_E_CONNECTION_CLOSED, "The connection to the guest was closed"},
    {HCS_E_UNKNOWN_MESSAGE, "The guest received an unknown message"},
    {HCS_E_UNSUPPORTED_PROTOCOL_VERSION, "No common guest protocol version"},
    {HCS_E_INVALID_JSON, "The JSON document is invalid"},
    {HCS_E_SYSTEM_NOT_FOUND, "A compute system with the given id was not found"},
    {HCS_E_SYSTEM_ALREADY_EXISTS, "A compute system with the given id already exists"},
    {HCS_E_SYSTEM_ALREADY_STOPPED, "The compute system is not running"},
    {HCS_E_PROTOCOL_ERROR, "Guest protocol error"},
    {HCS_E_INVALID_LAYER, "The layer is invalid"},
    {HCS_E_WINDOWS_INSIDER_REQUIRED, "An Insider build is required"},
    {HCS_E_SERVICE_NOT_AVAILABLE, "A required feature is not available"},
    {HCS_E_OPERATION_NOT_STARTED, "The operation has not started"},
    {HCS_E_OPERATION_ALREADY_STARTED, "The operation is already running"},
    {HCS_E_OPERATION_PENDING, "The operation is still pending"},
    {HCS_E_OPERATION_TIMEOUT, "The wait for the operation timed out"},
    {HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET, "A callback is already set"},
    {HCS_E_OPERATION_RESULT_ALLOCATION_FAILED, "Out of memory returning the result"},
    {HCS_E_ACCESS_DENIED, "Access to the compute service is denied"},
    {HCS_E_GUEST_CRITICAL_ERROR, "The guest hit a critical error"},
    {HCS_E_PROCESS_INFO_NOT_AVAILABLE, "Process information is not available"},
    {HCS_E_SERVICE_DISCONNECT, "The connection to the compute system's monitor was lost"},
    {HCS_E_PROCESS_ALREADY_STOPPED, "The process has already exited"},
    {HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION, "The compute system is not configured for this"},
    {HCS_E_OPERATION_ALREADY_CANCELLED, "The operation has already been cancelled"},
};

const char *hcs_hresult_name(HRESULT hr)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].hr == hr)
            return names[i].name;
    return NULL;
}
