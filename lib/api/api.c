/* api.c - the thread's last error (HcsGetErrorInfo), HcsFree. */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "common/util.h"
#include "operation.h"
#include "result.h"

struct last_error {
    HRESULT hr;
    char *doc;
};

static pthread_key_t last_key;
static pthread_once_t last_once = PTHREAD_ONCE_INIT;

static void last_free(void *p)
{
    struct last_error *l = p;
    if (l != NULL)
        free(l->doc);
    free(l);
}

static void last_init(void)
{
    pthread_key_create(&last_key, last_free);
}

static struct last_error *last_get(bool create)
{
    pthread_once(&last_once, last_init);
    struct last_error *l = pthread_getspecific(last_key);
    if (l == NULL && create) {
        l = calloc(1, sizeof(*l));
        if (l != NULL && pthread_setspecific(last_key, l) != 0) {
            free(l);
            l = NULL;
        }
    }
    return l;
}

void hcs_api_enter(void)
{
    struct last_error *l = last_get(false);
    if (l != NULL && l->hr != S_OK) {
        l->hr = S_OK;
        free(l->doc);
        l->doc = NULL;
    }
}

void hcs_api_fail_doc(HRESULT hr, const char *doc)
{
    struct last_error *l = last_get(true);
    if (l == NULL)
        return;
    free(l->doc);
    l->hr = hr;
    l->doc = doc ? strdup(doc) : hcs_result_error_doc(hr, NULL, HcsOperationTypeNone);
}

HRESULT hcs_api_fail(hcs_error *err)
{
    HRESULT hr = err ? err->hr : E_FAIL;
    char *doc = hcs_result_error_doc(hr, err ? err->message : NULL, HcsOperationTypeNone);
    hcs_api_fail_doc(hr, doc);
    free(doc);
    hcs_err_free(err);
    return hr;
}

HRESULT hcs_api_fail_hr(HRESULT hr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = hcs_vasprintf(fmt, ap);
    va_end(ap);
    char *doc = hcs_result_error_doc(hr, msg, HcsOperationTypeNone);
    hcs_api_fail_doc(hr, doc);
    free(doc);
    free(msg);
    return hr;
}

HRESULT hcs_api_fail_tracked(HCS_OPERATION op, HCS_OPERATION_TYPE type, hcs_error *err)
{
    if (hcs_op_begin(op, type, NULL, NULL, NULL) < 0)
        return hcs_api_fail(err); /* NULL, dead or pending operation: leave it alone */
    return hcs_op_fail_sync(op, err);
}

HRESULT hcs_api_out(HRESULT hr, char **result)
{
    if (FAILED(hr) && result != NULL && *result == NULL) {
        struct last_error *l = last_get(false);
        if (l != NULL && l->doc != NULL)
            *result = strdup(l->doc);
    }
    return hr;
}

struct timespec hcs_api_deadline(clockid_t clk, uint32_t timeout_ms)
{
    struct timespec until;
    clock_gettime(clk, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return until;
}

HCS_API HRESULT HcsGetErrorInfo(char **errorDocument)
{
    struct last_error *l = last_get(false);
    if (errorDocument != NULL)
        *errorDocument = NULL;
    if (l == NULL || l->hr == S_OK)
        return S_OK;
    if (errorDocument != NULL && l->doc != NULL) {
        *errorDocument = strdup(l->doc);
        if (*errorDocument == NULL)
            return HCS_E_OPERATION_RESULT_ALLOCATION_FAILED;
    }
    return l->hr;
}

HCS_API void HcsFree(void *buffer)
{
    free(buffer);
}
