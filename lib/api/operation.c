/* operation.c - HCS_OPERATION: state machine, waiting, callbacks, cancellation. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "operation.h"
#include "pool.h"
#include "result.h"

#define OP_MAGIC 0x4F504552u /* "OPER" */
#define OP_DEAD 0xDEADDEADu

enum op_state { OP_NOT_STARTED, OP_PENDING, OP_COMPLETED };

struct HCS_OPERATION_ {
    uint32_t magic;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* completion, and callbacks finishing */
    uint64_t id;
    HCS_OPERATION_TYPE type;
    enum op_state state;
    HRESULT result;
    char *result_doc;
    HCS_PROCESS_INFORMATION pi;
    void *context;
    HCS_OPERATION_COMPLETION callback;
    HCS_SYSTEM system;
    HCS_PROCESS process;
    unsigned refs;
    bool closed;
    bool cancel_requested;
    int callbacks_running;
    pthread_t callback_thread;
};

static uint64_t next_id = 1;
static long live_ops;

static void pi_reset(HCS_PROCESS_INFORMATION *pi)
{
    memset(pi, 0, sizeof(*pi));
    pi->StdInput = pi->StdOutput = pi->StdError = -1;
}

static void pi_close(HCS_PROCESS_INFORMATION *pi)
{
    int32_t *fds[] = {&pi->StdInput, &pi->StdOutput, &pi->StdError};
    for (size_t i = 0; i < 3; i++)
        if (*fds[i] >= 0)
            close(*fds[i]);
    pi_reset(pi);
}

/* Drop one reference; the lock is held on entry and released (the object may be gone). */
static void op_unref_unlock(HCS_OPERATION op)
{
    bool last = --op->refs == 0;
    pthread_mutex_unlock(&op->lock);
    if (!last)
        return;
    op->magic = OP_DEAD;
    free(op->result_doc);
    pi_close(&op->pi);
    pthread_cond_destroy(&op->cond);
    pthread_mutex_destroy(&op->lock);
    free(op);
    __atomic_sub_fetch(&live_ops, 1, __ATOMIC_RELAXED);
}

void hcs_op_ref(HCS_OPERATION op)
{
    pthread_mutex_lock(&op->lock);
    op->refs++;
    pthread_mutex_unlock(&op->lock);
}

void hcs_op_unref(HCS_OPERATION op)
{
    pthread_mutex_lock(&op->lock);
    op_unref_unlock(op);
}

bool hcs_op_has_callback(HCS_OPERATION op)
{
    pthread_mutex_lock(&op->lock);
    bool has = op->callback != NULL;
    pthread_mutex_unlock(&op->lock);
    return has;
}

long hcs_op_live_count(void)
{
    return __atomic_load_n(&live_ops, __ATOMIC_RELAXED);
}

int hcs_op_check(HCS_OPERATION op, hcs_error **err)
{
    if (op == NULL)
        return hcs_err_set(err, E_HANDLE, "the operation handle is NULL");
    if (op->magic != OP_MAGIC)
        return hcs_err_set(err, E_HANDLE, "the operation handle is not a live operation");
    return 0;
}

HCS_API HCS_OPERATION HcsCreateOperation(void *context, HCS_OPERATION_COMPLETION callback)
{
    hcs_api_enter();
    HCS_OPERATION op = calloc(1, sizeof(*op));
    if (op == NULL) {
        hcs_api_fail_hr(E_OUTOFMEMORY, "out of memory creating an operation");
        return NULL;
    }
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&op->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&op->lock, NULL);
    op->magic = OP_MAGIC;
    op->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
    op->type = HcsOperationTypeNone;
    op->state = OP_NOT_STARTED;
    op->context = context;
    op->callback = callback;
    op->refs = 1;
    pi_reset(&op->pi);
    __atomic_add_fetch(&live_ops, 1, __ATOMIC_RELAXED);
    return op;
}

HCS_API void HcsCloseOperation(HCS_OPERATION operation)
{
    hcs_api_enter();
    if (operation == NULL || operation->magic != OP_MAGIC)
        return;
    HCS_OPERATION op = operation;
    pthread_mutex_lock(&op->lock);
    if (op->closed) {
        pthread_mutex_unlock(&op->lock);
        return;
    }
    op->closed = true;
    /* No callback after close returns: wait for one running on another thread. */
    while (op->callbacks_running > 0 && !pthread_equal(op->callback_thread, pthread_self()))
        pthread_cond_wait(&op->cond, &op->lock);
    op_unref_unlock(op);
}

HCS_API void *HcsGetOperationContext(HCS_OPERATION operation)
{
    hcs_api_enter();
    if (hcs_op_check(operation, NULL) < 0)
        return NULL;
    pthread_mutex_lock(&operation->lock);
    void *c = operation->context;
    pthread_mutex_unlock(&operation->lock);
    return c;
}

HCS_API HRESULT HcsSetOperationContext(HCS_OPERATION operation, void *context)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (hcs_op_check(operation, &err) < 0)
        return hcs_api_fail(err);
    pthread_mutex_lock(&operation->lock);
    operation->context = context;
    pthread_mutex_unlock(&operation->lock);
    return S_OK;
}

HCS_API HCS_SYSTEM HcsGetComputeSystemFromOperation(HCS_OPERATION operation)
{
    hcs_api_enter();
    if (hcs_op_check(operation, NULL) < 0)
        return NULL;
    pthread_mutex_lock(&operation->lock);
    HCS_SYSTEM s = operation->system;
    pthread_mutex_unlock(&operation->lock);
    return s;
}

HCS_API HCS_PROCESS HcsGetProcessFromOperation(HCS_OPERATION operation)
{
    hcs_api_enter();
    if (hcs_op_check(operation, NULL) < 0)
        return NULL;
    pthread_mutex_lock(&operation->lock);
    HCS_PROCESS p = operation->process;
    pthread_mutex_unlock(&operation->lock);
    return p;
}

HCS_API HCS_OPERATION_TYPE HcsGetOperationType(HCS_OPERATION operation)
{
    hcs_api_enter();
    if (hcs_op_check(operation, NULL) < 0)
        return HcsOperationTypeNone;
    return hcs_op_type(operation);
}

HCS_OPERATION_TYPE hcs_op_type(HCS_OPERATION op)
{
    pthread_mutex_lock(&op->lock);
    HCS_OPERATION_TYPE t = op->type;
    pthread_mutex_unlock(&op->lock);
    return t;
}

HCS_API uint64_t HcsGetOperationId(HCS_OPERATION operation)
{
    hcs_api_enter();
    if (hcs_op_check(operation, NULL) < 0)
        return HCS_INVALID_OPERATION_ID;
    return operation->id;
}

/* --- results ---------------------------------------------------------------------------------- */

static bool is_process_type(HCS_OPERATION_TYPE t)
{
    return t == HcsOperationTypeCreateProcess || t == HcsOperationTypeGetProcessInfo;
}

/* With the lock held and the operation completed: copy out the result. */
static HRESULT copy_result(HCS_OPERATION op, HCS_PROCESS_INFORMATION *pi, char **doc)
{
    if (pi != NULL) {
        *pi = op->pi;
        /* The fds are handed over once. */
        op->pi.StdInput = op->pi.StdOutput = op->pi.StdError = -1;
    }
    if (doc != NULL && op->result_doc != NULL) {
        *doc = strdup(op->result_doc);
        if (*doc == NULL)
            return HCS_E_OPERATION_RESULT_ALLOCATION_FAILED;
    }
    return op->result;
}

static HRESULT get_result(HCS_OPERATION op, bool wait, uint32_t timeout_ms, bool want_pi,
                          HCS_PROCESS_INFORMATION *pi, char **doc)
{
    hcs_error *err = NULL;
    if (doc != NULL)
        *doc = NULL;
    if (pi != NULL)
        pi_reset(pi);
    if (hcs_op_check(op, &err) < 0)
        return hcs_api_fail(err);
    struct timespec until = hcs_api_deadline(CLOCK_MONOTONIC, timeout_ms);
    pthread_mutex_lock(&op->lock);
    if (op->state == OP_NOT_STARTED) {
        pthread_mutex_unlock(&op->lock);
        return hcs_api_fail_hr(HCS_E_OPERATION_NOT_STARTED,
                               "the operation has not been passed to any call yet");
    }
    if (want_pi && !is_process_type(op->type)) {
        pthread_mutex_unlock(&op->lock);
        return hcs_api_fail_hr(E_INVALIDARG,
                               "process information exists only for CreateProcess and "
                               "GetProcessInfo operations (this one is type %d)",
                               (int)op->type);
    }
    while (op->state == OP_PENDING && wait) {
        int rc = timeout_ms == HCS_INFINITE ? pthread_cond_wait(&op->cond, &op->lock)
                                            : pthread_cond_timedwait(&op->cond, &op->lock, &until);
        if (rc == ETIMEDOUT && op->state == OP_PENDING) {
            pthread_mutex_unlock(&op->lock);
            return hcs_api_fail_hr(HCS_E_OPERATION_TIMEOUT,
                                   "the operation did not complete within %u ms; it is still "
                                   "running",
                                   timeout_ms);
        }
    }
    if (op->state == OP_PENDING) {
        pthread_mutex_unlock(&op->lock);
        return hcs_api_fail_hr(HCS_E_OPERATION_PENDING, "the operation is still running");
    }
    HRESULT hr = copy_result(op, want_pi ? pi : NULL, doc);
    pthread_mutex_unlock(&op->lock);
    if (FAILED(hr))
        hcs_api_fail_doc(hr, doc ? *doc : NULL);
    return hr;
}

HCS_API HRESULT HcsGetOperationResult(HCS_OPERATION operation, char **resultDocument)
{
    hcs_api_enter();
    return hcs_api_out(get_result(operation, false, 0, false, NULL, resultDocument),
                       resultDocument);
}

HCS_API HRESULT HcsGetOperationResultAndProcessInfo(HCS_OPERATION operation,
                                                    HCS_PROCESS_INFORMATION *processInformation,
                                                    char **resultDocument)
{
    hcs_api_enter();
    return hcs_api_out(get_result(operation, false, 0, true, processInformation, resultDocument),
                       resultDocument);
}

HCS_API HRESULT HcsWaitForOperationResult(HCS_OPERATION operation, uint32_t timeoutMs,
                                          char **resultDocument)
{
    hcs_api_enter();
    return hcs_api_out(get_result(operation, true, timeoutMs, false, NULL, resultDocument),
                       resultDocument);
}

HCS_API HRESULT HcsWaitForOperationResultAndProcessInfo(HCS_OPERATION operation, uint32_t timeoutMs,
                                                        HCS_PROCESS_INFORMATION *processInformation,
                                                        char **resultDocument)
{
    hcs_api_enter();
    return hcs_api_out(
        get_result(operation, true, timeoutMs, true, processInformation, resultDocument),
        resultDocument);
}

HCS_API HRESULT HcsSetOperationCallback(HCS_OPERATION operation, const void *context,
                                        HCS_OPERATION_COMPLETION callback)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (hcs_op_check(operation, &err) < 0)
        return hcs_api_fail(err);
    pthread_mutex_lock(&operation->lock);
    /* The HCS signature takes a const context; it is handed back as void *. */
    union {
        const void *in;
        void *out;
    } ctx = {.in = context};
    operation->context = ctx.out;
    operation->callback = callback;
    pthread_mutex_unlock(&operation->lock);
    return S_OK;
}

HCS_API HRESULT HcsCancelOperation(HCS_OPERATION operation)
{
    hcs_api_enter();
    hcs_error *err = NULL;
    if (hcs_op_check(operation, &err) < 0)
        return hcs_api_fail(err);
    HCS_OPERATION op = operation;
    pthread_mutex_lock(&op->lock);
    HRESULT hr = S_OK;
    if (op->state == OP_NOT_STARTED)
        hr = HCS_E_OPERATION_NOT_STARTED;
    else if (op->state == OP_COMPLETED)
        hr = S_FALSE;
    else if (op->cancel_requested)
        hr = HCS_E_OPERATION_ALREADY_CANCELLED;
    else
        op->cancel_requested = true;
    pthread_mutex_unlock(&op->lock);
    if (hr == HCS_E_OPERATION_NOT_STARTED)
        return hcs_api_fail_hr(hr, "the operation has not been passed to any call yet");
    if (hr == HCS_E_OPERATION_ALREADY_CANCELLED)
        return hcs_api_fail_hr(hr, "cancellation was already requested for this call");
    return hr;
}

/* --- the tracked-call side -------------------------------------------------------------------- */

int hcs_op_begin(HCS_OPERATION op, HCS_OPERATION_TYPE type, HCS_SYSTEM system, HCS_PROCESS process,
                 hcs_error **err)
{
    if (hcs_op_check(op, err) < 0)
        return -1;
    pthread_mutex_lock(&op->lock);
    if (op->state == OP_PENDING) {
        pthread_mutex_unlock(&op->lock);
        return hcs_err_set(err, HCS_E_OPERATION_ALREADY_STARTED,
                           "the operation is still tracking an earlier call (type %d); wait for "
                           "it or use another operation",
                           (int)op->type);
    }
    op->state = OP_PENDING;
    op->type = type;
    op->system = system;
    op->process = process;
    op->result = S_OK;
    free(op->result_doc);
    op->result_doc = NULL;
    pi_close(&op->pi);
    op->cancel_requested = false;
    op->refs++; /* held by the call until it completes */
    pthread_mutex_unlock(&op->lock);
    return 0;
}

bool hcs_op_cancel_requested(HCS_OPERATION op)
{
    pthread_mutex_lock(&op->lock);
    bool c = op->cancel_requested;
    pthread_mutex_unlock(&op->lock);
    return c;
}

static void complete(HCS_OPERATION op, HRESULT hr, char *doc, const HCS_PROCESS_INFORMATION *pi,
                     bool run_callback)
{
    pthread_mutex_lock(&op->lock);
    op->state = OP_COMPLETED;
    op->result = hr;
    op->result_doc = doc;
    if (pi != NULL)
        op->pi = *pi;
    if (op->closed) {
        /* Nobody can read the result any more: drop it now. */
        free(op->result_doc);
        op->result_doc = NULL;
        pi_close(&op->pi);
        run_callback = false;
    }
    HCS_OPERATION_COMPLETION cb = run_callback ? op->callback : NULL;
    void *ctx = op->context;
    if (cb != NULL) {
        op->callbacks_running++;
        op->callback_thread = pthread_self();
    }
    pthread_cond_broadcast(&op->cond);
    pthread_mutex_unlock(&op->lock);
    if (cb != NULL) {
        cb(op, ctx);
        pthread_mutex_lock(&op->lock);
        op->callbacks_running--;
        pthread_cond_broadcast(&op->cond);
        pthread_mutex_unlock(&op->lock);
    }
    pthread_mutex_lock(&op->lock);
    op_unref_unlock(op); /* the call's reference */
}

void hcs_op_complete(HCS_OPERATION op, HRESULT hr, char *doc, const HCS_PROCESS_INFORMATION *pi)
{
    complete(op, hr, doc, pi, true);
}

void hcs_op_complete_error(HCS_OPERATION op, hcs_error *err)
{
    HRESULT hr = err ? err->hr : E_FAIL;
    char *doc = hcs_result_error_doc(hr, err ? err->message : NULL, hcs_op_type(op));
    hcs_err_free(err);
    complete(op, hr, doc, NULL, true);
}

HRESULT hcs_op_fail_sync(HCS_OPERATION op, hcs_error *err)
{
    HRESULT hr = err ? err->hr : E_FAIL;
    char *doc = hcs_result_error_doc(hr, err ? err->message : NULL, hcs_op_type(op));
    hcs_api_fail_doc(hr, doc);
    hcs_err_free(err);
    complete(op, hr, doc, NULL, false);
    return hr;
}

struct work_item {
    HCS_OPERATION op;
    hcs_op_work_fn fn;
    void *arg;
    void (*free_arg)(void *);
};

static void run_work(void *p)
{
    struct work_item *w = p;
    if (hcs_op_cancel_requested(w->op)) {
        hcs_error *err = NULL;
        hcs_err_set(&err, HCS_E_CANCELLED, "the operation was cancelled before its work started");
        hcs_op_complete_error(w->op, err);
    } else {
        w->fn(w->op, w->arg);
    }
    if (w->free_arg != NULL)
        w->free_arg(w->arg);
    free(w);
}

int hcs_op_submit(HCS_OPERATION op, hcs_op_work_fn work, void *arg, void (*free_arg)(void *),
                  hcs_error **err)
{
    struct work_item *w = malloc(sizeof(*w));
    hcs_error *e = NULL;
    if (w == NULL) {
        hcs_err_set(&e, E_OUTOFMEMORY, "out of memory queueing work");
    } else {
        *w = (struct work_item){op, work, arg, free_arg};
        if (hcs_pool_submit(run_work, w, &e) == 0)
            return 0;
        free(w);
    }
    if (free_arg != NULL)
        free_arg(arg);
    HRESULT hr = e->hr;
    hcs_err_set(err, hr, "%s", e->message);
    hcs_op_fail_sync(op, e);
    return -1;
}
