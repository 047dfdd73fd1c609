/*
 * test_operation.c - the operation state machine: every state transition and error code,
 * callbacks, close while pending and inside callbacks, cancellation, concurrency.
 *
 * Work is driven either through the public API (HcsEnumerateComputeSystems over an empty
 * temporary runtime root) or through a "gate" work item whose completion the test controls.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/operation.h"
#include "api/pool.h"
#include "hcs_test.h"

/* --- helpers ---------------------------------------------------------------------------------- */

struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int open;
    int ran;       /* the work function started */
    int cancelled; /* the work saw the cancellation */
};

static void gate_init(struct gate *g)
{
    memset(g, 0, sizeof(*g));
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = 1;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

/* Waits for the gate (or a cancellation request, checked every millisecond), then completes. */
static void gate_work(HCS_OPERATION op, void *arg)
{
    struct gate *g = arg;
    pthread_mutex_lock(&g->lock);
    g->ran = 1;
    pthread_cond_broadcast(&g->cond);
    while (!g->open) {
        pthread_mutex_unlock(&g->lock);
        if (hcs_op_cancel_requested(op)) {
            pthread_mutex_lock(&g->lock);
            g->cancelled = 1;
            pthread_mutex_unlock(&g->lock);
            hcs_error *err = NULL;
            hcs_err_set(&err, HCS_E_CANCELLED, "gate work cancelled");
            hcs_op_complete_error(op, err);
            return;
        }
        usleep(1000);
        pthread_mutex_lock(&g->lock);
    }
    pthread_mutex_unlock(&g->lock);
    hcs_op_complete(op, S_OK, strdup("{\"Done\":true}"), NULL);
}

/* Wait until the work function is running (so a cancellation reaches its cancellation point). */
static void gate_wait_ran(struct gate *g)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&g->lock);
    while (!g->ran)
        if (pthread_cond_timedwait(&g->cond, &g->lock, &until) != 0)
            break;
    int ran = g->ran;
    pthread_mutex_unlock(&g->lock);
    ck_assert_msg(ran, "the work did not start within 5 s");
}

static void start_gate(HCS_OPERATION op, struct gate *g)
{
    ck_assert_int_eq(hcs_op_begin(op, HcsOperationTypeGetProperties, NULL, NULL, NULL), 0);
    ck_assert_int_eq(hcs_op_submit(op, gate_work, g, NULL, NULL), 0);
}

/* Wait (bounded) until every operation object is gone. */
static long live_after_settling(void)
{
    for (int i = 0; i < 2000 && hcs_op_live_count() != 0; i++)
        usleep(1000);
    return hcs_op_live_count();
}

struct cb_state {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
    pthread_t thread;
    void *context;
    HRESULT hr;
    char *doc;
    int close_inside;
    int sleep_ms;
    int finished;
};

static void cb_init(struct cb_state *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
}

static void completion(HCS_OPERATION op, void *context)
{
    struct cb_state *s = context;
    HRESULT hr = HcsGetOperationResult(op, &s->doc); /* must not deadlock: no lock is held */
    if (s->sleep_ms)
        usleep((useconds_t)s->sleep_ms * 1000);
    pthread_mutex_lock(&s->lock);
    s->calls++;
    s->thread = pthread_self();
    s->context = HcsGetOperationContext(op);
    s->hr = hr;
    pthread_mutex_unlock(&s->lock);
    if (s->close_inside)
        HcsCloseOperation(op);
    pthread_mutex_lock(&s->lock);
    s->finished = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void cb_wait(struct cb_state *s)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&s->lock);
    while (!s->finished)
        if (pthread_cond_timedwait(&s->cond, &s->lock, &until) != 0)
            break;
    int done = s->finished;
    pthread_mutex_unlock(&s->lock);
    ck_assert_msg(done, "the completion callback did not run within 5 s");
}

/* --- basic properties
 * -------------------------------------------------------------------------------- */

START_TEST(create__gives_unique_ids_and_type_none)
{
    HCS_OPERATION a = HcsCreateOperation(NULL, NULL), b = HcsCreateOperation(NULL, NULL);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_ne(HcsGetOperationId(a), HcsGetOperationId(b));
    ck_assert_uint_gt(HcsGetOperationId(a), 0);
    ck_assert_uint_ne(HcsGetOperationId(a), HCS_INVALID_OPERATION_ID);
    ck_assert_int_eq(HcsGetOperationType(a), HcsOperationTypeNone);
    ck_assert_ptr_null(HcsGetComputeSystemFromOperation(a));
    ck_assert_ptr_null(HcsGetProcessFromOperation(a));
    HcsCloseOperation(a);
    HcsCloseOperation(b);
    ck_assert_int_eq(hcs_op_live_count(), 0);
}
END_TEST

START_TEST(context__is_kept_and_replaced)
{
    int x, y;
    HCS_OPERATION op = HcsCreateOperation(&x, NULL);
    ck_assert_ptr_eq(HcsGetOperationContext(op), &x);
    ck_assert_hr(HcsSetOperationContext(op, &y), S_OK);
    ck_assert_ptr_eq(HcsGetOperationContext(op), &y);
    HcsCloseOperation(op);
}
END_TEST

START_TEST(null_handle__is_refused_everywhere)
{
    char *doc = (char *)"untouched";
    HCS_PROCESS_INFORMATION pi = {0};
    ck_assert_hr(HcsGetOperationResult(NULL, &doc), E_HANDLE);
    ck_assert_ptr_nonnull(doc); /* a ResultError explaining the failure */
    ck_assert_contains(doc, "NULL");
    HcsFree(doc);
    ck_assert_hr(HcsWaitForOperationResult(NULL, 0, NULL), E_HANDLE);
    ck_assert_hr(HcsGetOperationResultAndProcessInfo(NULL, &pi, NULL), E_HANDLE);
    ck_assert_int_eq(pi.StdInput, -1);
    ck_assert_hr(HcsWaitForOperationResultAndProcessInfo(NULL, 0, NULL, NULL), E_HANDLE);
    ck_assert_hr(HcsSetOperationCallback(NULL, NULL, NULL), E_HANDLE);
    ck_assert_hr(HcsSetOperationContext(NULL, NULL), E_HANDLE);
    ck_assert_hr(HcsCancelOperation(NULL), E_HANDLE);
    ck_assert_hr(HcsEnumerateComputeSystems(NULL, NULL), E_HANDLE);
    ck_assert_uint_eq(HcsGetOperationId(NULL), HCS_INVALID_OPERATION_ID);
    ck_assert_int_eq(HcsGetOperationType(NULL), HcsOperationTypeNone);
    ck_assert_ptr_null(HcsGetOperationContext(NULL));
    HcsCloseOperation(NULL); /* ignored */
}
END_TEST

/* --- NotStarted
 * ------------------------------------------------------------------------------------- */

START_TEST(not_started__get_wait_cancel_say_so)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    char *doc = NULL;
    ck_assert_hr(HcsGetOperationResult(op, &doc), HCS_E_OPERATION_NOT_STARTED);
    ck_assert_contains(doc, "\"Error\":-2143878891");
    HcsFree(doc);
    ck_assert_hr(HcsWaitForOperationResult(op, HCS_INFINITE, NULL), HCS_E_OPERATION_NOT_STARTED);
    ck_assert_hr(HcsCancelOperation(op), HCS_E_OPERATION_NOT_STARTED);
    ck_assert_hr(HcsGetOperationResultAndProcessInfo(op, NULL, NULL), HCS_E_OPERATION_NOT_STARTED);
    HcsCloseOperation(op);
}
END_TEST

/* --- Pending
 * ------------------------------------------------------------------------------------------ */

START_TEST(pending__get_says_pending_and_wait_times_out_but_work_goes_on)
{
    struct gate g;
    gate_init(&g);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    start_gate(op, &g);
    char *doc = NULL;
    ck_assert_hr(HcsGetOperationResult(op, &doc), HCS_E_OPERATION_PENDING);
    ck_assert_contains(doc, "still running");
    HcsFree(doc);
    doc = NULL;
    ck_assert_hr(HcsWaitForOperationResult(op, 20, &doc), HCS_E_OPERATION_TIMEOUT);
    ck_assert_contains(doc, "20 ms");
    HcsFree(doc);
    doc = NULL;
    ck_assert_hr(HcsGetOperationResult(op, NULL), HCS_E_OPERATION_PENDING); /* still running */
    gate_open(&g);
    ck_assert_hr(HcsWaitForOperationResult(op, 5000, &doc), S_OK);
    ck_assert_str_eq(doc, "{\"Done\":true}");
    HcsFree(doc);
    ck_assert_int_eq(HcsGetOperationType(op), HcsOperationTypeGetProperties);
    HcsCloseOperation(op);
}
END_TEST

START_TEST(pending__reuse_is_refused_and_first_call_unaffected)
{
    struct gate g;
    gate_init(&g);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    start_gate(op, &g);
    ck_assert_hr(HcsEnumerateComputeSystems(NULL, op), HCS_E_OPERATION_ALREADY_STARTED);
    char *info = NULL;
    ck_assert_hr(HcsGetErrorInfo(&info), HCS_E_OPERATION_ALREADY_STARTED);
    ck_assert_contains(info, "earlier call");
    HcsFree(info);
    ck_assert_int_eq(HcsGetOperationType(op), HcsOperationTypeGetProperties);
    gate_open(&g);
    char *doc = NULL;
    ck_assert_hr(HcsWaitForOperationResult(op, 5000, &doc), S_OK);
    ck_assert_str_eq(doc, "{\"Done\":true}");
    HcsFree(doc);
    HcsCloseOperation(op);
}
END_TEST

/* --- Completed and reuse
 * ------------------------------------------------------------------------------ */

START_TEST(completed__enumerate_result_is_an_array_and_operation_is_reusable)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    ck_assert_hr(HcsEnumerateComputeSystems(NULL, op), S_OK);
    char *doc = NULL;
    ck_assert_hr(HcsWaitForOperationResult(op, 5000, &doc), S_OK);
    ck_assert_str_eq(doc, "[]");
    HcsFree(doc);
    ck_assert_int_eq(HcsGetOperationType(op), HcsOperationTypeEnumerate);
    /* Get after completion returns the same result again, as a fresh copy. */
    char *again = NULL;
    ck_assert_hr(HcsGetOperationResult(op, &again), S_OK);
    ck_assert_str_eq(again, "[]");
    HcsFree(again);
    /* Reuse for another call of another type. */
    struct gate g;
    gate_init(&g);
    gate_open(&g);
    start_gate(op, &g);
    ck_assert_hr(HcsWaitForOperationResult(op, 5000, &doc), S_OK);
    ck_assert_str_eq(doc, "{\"Done\":true}");
    HcsFree(doc);
    ck_assert_int_eq(HcsGetOperationType(op), HcsOperationTypeGetProperties);
    HcsCloseOperation(op);
}
END_TEST

START_TEST(completed__immediate_failure_completes_without_callback)
{
    struct cb_state s;
    cb_init(&s);
    HCS_OPERATION op = HcsCreateOperation(&s, completion);
    HCS_SYSTEM sys = (HCS_SYSTEM)&s;
    ck_assert_hr(HcsCreateComputeSystem(
                     "c1", "{\"Container\":{\"Memory\":{\"SizeInMB\":\"lots\"}}}", op, NULL, &sys),
                 HCS_E_INVALID_JSON);
    ck_assert_ptr_null(sys);
    char *doc = NULL;
    ck_assert_hr(HcsGetOperationResult(op, &doc), HCS_E_INVALID_JSON);
    ck_assert_contains(doc,
                       "Container.Memory.SizeInMB: expected an unsigned integer, got \\\"lots\\\"");
    ck_assert_contains(doc, "\"Detail\":\"Construct\"");
    HcsFree(doc);
    ck_assert_int_eq(HcsGetOperationType(op), HcsOperationTypeCreate);
    usleep(20000);
    ck_assert_int_eq(s.calls, 0);
    HcsCloseOperation(op);
}
END_TEST

START_TEST(completed__failed_call_result_carries_result_error)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    ck_assert_hr(HcsEnumerateComputeSystems("{\"Typos\":[]}", op), HCS_E_INVALID_JSON);
    char *doc = NULL;
    ck_assert_hr(HcsWaitForOperationResult(op, 0, &doc), HCS_E_INVALID_JSON);
    ck_assert_contains(doc, "Typos: unknown field in SystemQuery; did you mean \\\"Types\\\"?");
    HcsFree(doc);
    HcsCloseOperation(op);
}
END_TEST

/* --- callbacks
 * ----------------------------------------------------------------------------------------- */

START_TEST(callback__runs_once_on_a_library_thread_with_its_context)
{
    struct cb_state s;
    cb_init(&s);
    HCS_OPERATION op = HcsCreateOperation(&s, completion);
    ck_assert_hr(HcsEnumerateComputeSystems("", op), S_OK);
    cb_wait(&s);
    ck_assert_int_eq(s.calls, 1);
    ck_assert_ptr_eq(s.context, &s);
    ck_assert_hr(s.hr, S_OK);
    ck_assert_str_eq(s.doc, "[]");
    ck_assert(!pthread_equal(s.thread, pthread_self()));
    HcsFree(s.doc);
    usleep(20000);
    ck_assert_int_eq(s.calls, 1);
    HcsCloseOperation(op);
}
END_TEST

START_TEST(callback__set_later_replaces_and_applies_to_pending_call)
{
    struct cb_state first, second;
    cb_init(&first);
    cb_init(&second);
    struct gate g;
    gate_init(&g);
    HCS_OPERATION op = HcsCreateOperation(&first, completion);
    start_gate(op, &g);
    ck_assert_hr(HcsSetOperationCallback(op, &second, completion), S_OK);
    gate_open(&g);
    cb_wait(&second);
    ck_assert_int_eq(first.calls, 0);
    ck_assert_int_eq(second.calls, 1);
    ck_assert_ptr_eq(second.context, &second);
    HcsFree(second.doc);
    HcsCloseOperation(op);
}
END_TEST

START_TEST(callback__close_inside_own_callback_is_safe)
{
    struct cb_state s;
    cb_init(&s);
    s.close_inside = 1;
    HCS_OPERATION op = HcsCreateOperation(&s, completion);
    ck_assert_hr(HcsEnumerateComputeSystems(NULL, op), S_OK);
    cb_wait(&s);
    ck_assert_int_eq(s.calls, 1);
    HcsFree(s.doc);
    ck_assert_int_eq(live_after_settling(), 0);
}
END_TEST

static void reuse_in_callback(HCS_OPERATION op, void *context)
{
    int *round = context;
    if (++*round < 5) {
        ck_assert_hr(HcsEnumerateComputeSystems(NULL, op), S_OK); /* reuse from the callback */
    } else {
        HcsCloseOperation(op);
    }
}

START_TEST(callback__may_reuse_the_operation_for_the_next_call)
{
    int round = 0;
    HCS_OPERATION op = HcsCreateOperation(&round, reuse_in_callback);
    ck_assert_hr(HcsEnumerateComputeSystems(NULL, op), S_OK);
    ck_assert_int_eq(live_after_settling(), 0);
    ck_assert_int_eq(round, 5);
}
END_TEST

struct closer {
    HCS_OPERATION op;
    int returned;
};

START_TEST(callback__close_from_another_thread_waits_for_the_running_callback)
{
    struct cb_state s;
    cb_init(&s);
    s.sleep_ms = 200;
    HCS_OPERATION op = HcsCreateOperation(&s, completion);
    ck_assert_hr(HcsEnumerateComputeSystems(NULL, op), S_OK);
    /* Wait until the callback is inside its sleep: its first action is the result read. */
    for (int i = 0; i < 5000; i++) {
        usleep(100);
        if (HcsGetOperationResult(op, NULL) != HCS_E_OPERATION_PENDING)
            break;
    }
    usleep(20000);
    HcsCloseOperation(op); /* must not return before the callback did */
    pthread_mutex_lock(&s.lock);
    int finished = s.finished;
    pthread_mutex_unlock(&s.lock);
    ck_assert_msg(finished, "HcsCloseOperation returned while the callback was still running");
    HcsFree(s.doc);
    ck_assert_int_eq(live_after_settling(), 0);
}
END_TEST

/* --- close while pending
 * -------------------------------------------------------------------------------- */

START_TEST(close__while_pending_drops_the_result_and_runs_no_callback)
{
    struct cb_state s;
    cb_init(&s);
    struct gate g;
    gate_init(&g);
    HCS_OPERATION op = HcsCreateOperation(&s, completion);
    start_gate(op, &g);
    HcsCloseOperation(op);
    ck_assert_int_eq(hcs_op_live_count(), 1); /* the work still holds it */
    gate_open(&g);
    ck_assert_int_eq(live_after_settling(), 0);
    ck_assert_int_eq(s.calls, 0);
}
END_TEST

START_TEST(close__while_pending_with_process_info_closes_the_fds)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    ck_assert_int_eq(hcs_op_begin(op, HcsOperationTypeCreateProcess, NULL, NULL, NULL), 0);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    HcsCloseOperation(op);
    HCS_PROCESS_INFORMATION pi = {
        .ProcessId = 7, .StdInput = -1, .StdOutput = p[0], .StdError = -1};
    hcs_op_complete(op, S_OK, NULL, &pi);
    ck_assert_int_eq(hcs_op_live_count(), 0);
    /* The read end was closed by the library: writing now fails with EPIPE. */
    signal(SIGPIPE, SIG_IGN);
    ck_assert_int_eq(write(p[1], "x", 1), -1);
    close(p[1]);
}
END_TEST

/* --- process information
 * ---------------------------------------------------------------------------- */

START_TEST(process_info__handed_over_once_and_only_for_process_operations)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    ck_assert_int_eq(hcs_op_begin(op, HcsOperationTypeCreateProcess, NULL, NULL, NULL), 0);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    HCS_PROCESS_INFORMATION pi = {
        .ProcessId = 42, .StdInput = p[1], .StdOutput = p[0], .StdError = -1};
    hcs_op_complete(op, S_OK, NULL, &pi);
    HCS_PROCESS_INFORMATION got;
    ck_assert_hr(HcsWaitForOperationResultAndProcessInfo(op, 0, &got, NULL), S_OK);
    ck_assert_uint_eq(got.ProcessId, 42);
    ck_assert_int_eq(got.StdInput, p[1]);
    ck_assert_int_eq(got.StdOutput, p[0]);
    ck_assert_int_eq(got.StdError, -1);
    ck_assert_hr(HcsGetOperationResultAndProcessInfo(op, &got, NULL), S_OK);
    ck_assert_uint_eq(got.ProcessId, 42);
    ck_assert_int_eq(got.StdInput, -1); /* handed over already */
    ck_assert_int_eq(got.StdOutput, -1);
    close(p[0]);
    close(p[1]);
    /* An enumerate operation has no process information. */
    ck_assert_hr(HcsEnumerateComputeSystems(NULL, op), S_OK);
    ck_assert_hr(HcsWaitForOperationResult(op, 5000, NULL), S_OK);
    char *doc = NULL;
    ck_assert_hr(HcsGetOperationResultAndProcessInfo(op, &got, &doc), E_INVALIDARG);
    ck_assert_contains(doc, "CreateProcess");
    HcsFree(doc);
    HcsCloseOperation(op);
}
END_TEST

/* --- cancellation
 * -------------------------------------------------------------------------------------- */

START_TEST(cancel__stops_work_at_its_cancellation_point)
{
    struct gate g;
    gate_init(&g);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    start_gate(op, &g);
    gate_wait_ran(&g);
    ck_assert_hr(HcsCancelOperation(op), S_OK);
    ck_assert_hr(HcsCancelOperation(op), HCS_E_OPERATION_ALREADY_CANCELLED);
    char *doc = NULL;
    ck_assert_hr(HcsWaitForOperationResult(op, 5000, &doc), HCS_E_CANCELLED);
    ck_assert_contains(doc, "cancelled");
    HcsFree(doc);
    ck_assert_int_eq(g.cancelled, 1);
    ck_assert_hr(HcsCancelOperation(op), S_FALSE); /* completed: nothing to cancel */
    HcsCloseOperation(op);
}
END_TEST

START_TEST(cancel__before_the_work_starts_skips_it)
{
    struct gate g;
    gate_init(&g);
    gate_open(&g);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    ck_assert_int_eq(hcs_op_begin(op, HcsOperationTypeGetProperties, NULL, NULL, NULL), 0);
    ck_assert_hr(HcsCancelOperation(op), S_OK);
    ck_assert_int_eq(hcs_op_submit(op, gate_work, &g, NULL, NULL), 0);
    char *doc = NULL;
    ck_assert_hr(HcsWaitForOperationResult(op, 5000, &doc), HCS_E_CANCELLED);
    ck_assert_contains(doc, "before its work started");
    HcsFree(doc);
    ck_assert_int_eq(g.ran, 0);
    HcsCloseOperation(op);
}
END_TEST

START_TEST(cancel__after_completion_leaves_the_result)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    ck_assert_hr(HcsEnumerateComputeSystems(NULL, op), S_OK);
    ck_assert_hr(HcsWaitForOperationResult(op, 5000, NULL), S_OK);
    ck_assert_hr(HcsCancelOperation(op), S_FALSE);
    ck_assert_hr(HcsGetOperationResult(op, NULL), S_OK);
    HcsCloseOperation(op);
}
END_TEST

/* --- concurrency
 * ------------------------------------------------------------------------------------------ */

struct waiter {
    HCS_OPERATION op;
    HRESULT hr;
    char *doc;
};

static void *wait_thread(void *p)
{
    struct waiter *w = p;
    w->hr = HcsWaitForOperationResult(w->op, 5000, &w->doc);
    return NULL;
}

START_TEST(concurrency__many_waiters_all_get_the_result)
{
    struct gate g;
    gate_init(&g);
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    start_gate(op, &g);
    pthread_t t[8];
    struct waiter w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (struct waiter){op, E_FAIL, NULL};
        ck_assert_int_eq(pthread_create(&t[i], NULL, wait_thread, &w[i]), 0);
    }
    usleep(10000);
    gate_open(&g);
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        ck_assert_hr(w[i].hr, S_OK);
        ck_assert_str_eq(w[i].doc, "{\"Done\":true}");
        HcsFree(w[i].doc);
    }
    HcsCloseOperation(op);
}
END_TEST

static void close_on_completion(HCS_OPERATION op, void *context)
{
    int *done = context;
    char *doc = NULL;
    if (HcsGetOperationResult(op, &doc) == S_OK && doc != NULL && strcmp(doc, "[]") == 0)
        __atomic_add_fetch(done, 1, __ATOMIC_RELAXED);
    HcsFree(doc);
    HcsCloseOperation(op);
}

START_TEST(concurrency__hundreds_of_fire_and_forget_calls_leave_nothing)
{
    int done = 0;
    for (int i = 0; i < 300; i++) {
        HCS_OPERATION op = HcsCreateOperation(&done, close_on_completion);
        ck_assert_ptr_nonnull(op);
        ck_assert_hr(HcsEnumerateComputeSystems(NULL, op), S_OK);
    }
    ck_assert_int_eq(live_after_settling(), 0);
    ck_assert_int_eq(__atomic_load_n(&done, __ATOMIC_RELAXED), 300);
    ck_assert_int_le(hcs_pool_threads(), HCS_POOL_MAX_THREADS);
}
END_TEST

/* --- the thread's last error
 * ----------------------------------------------------------------------------- */

START_TEST(error_info__reports_the_last_failure_and_clears_on_success)
{
    HCS_SYSTEM sys = NULL;
    ck_assert_hr(HcsOpenComputeSystem("missing", 0, &sys), HCS_E_SYSTEM_NOT_FOUND);
    char *doc = NULL;
    ck_assert_hr(HcsGetErrorInfo(&doc), HCS_E_SYSTEM_NOT_FOUND);
    ck_assert_contains(doc, "compute system \\\"missing\\\" not found");
    ck_assert_contains(doc, "\"Error\":-2143878898");
    HcsFree(doc);
    /* The next successful call clears it. */
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    ck_assert_hr(HcsGetErrorInfo(&doc), S_OK);
    ck_assert_ptr_null(doc);
    HcsCloseOperation(op);
}
END_TEST

HCS_TEST_SUITE(operation_suite)
{
    Suite *s = suite_create("operation");
    TCase *tc = tcase_create("operation");
    tcase_add_checked_fixture(tc, hcs_test_roots_setup, hcs_test_roots_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, create__gives_unique_ids_and_type_none);
    tcase_add_test(tc, context__is_kept_and_replaced);
    tcase_add_test(tc, null_handle__is_refused_everywhere);
    tcase_add_test(tc, not_started__get_wait_cancel_say_so);
    tcase_add_test(tc, pending__get_says_pending_and_wait_times_out_but_work_goes_on);
    tcase_add_test(tc, pending__reuse_is_refused_and_first_call_unaffected);
    tcase_add_test(tc, completed__enumerate_result_is_an_array_and_operation_is_reusable);
    tcase_add_test(tc, completed__immediate_failure_completes_without_callback);
    tcase_add_test(tc, completed__failed_call_result_carries_result_error);
    tcase_add_test(tc, callback__runs_once_on_a_library_thread_with_its_context);
    tcase_add_test(tc, callback__set_later_replaces_and_applies_to_pending_call);
    tcase_add_test(tc, callback__close_inside_own_callback_is_safe);
    tcase_add_test(tc, callback__may_reuse_the_operation_for_the_next_call);
    tcase_add_test(tc, callback__close_from_another_thread_waits_for_the_running_callback);
    tcase_add_test(tc, close__while_pending_drops_the_result_and_runs_no_callback);
    tcase_add_test(tc, close__while_pending_with_process_info_closes_the_fds);
    tcase_add_test(tc, process_info__handed_over_once_and_only_for_process_operations);
    tcase_add_test(tc, cancel__stops_work_at_its_cancellation_point);
    tcase_add_test(tc, cancel__before_the_work_starts_skips_it);
    tcase_add_test(tc, cancel__after_completion_leaves_the_result);
    tcase_add_test(tc, concurrency__many_waiters_all_get_the_result);
    tcase_add_test(tc, concurrency__hundreds_of_fire_and_forget_calls_leave_nothing);
    tcase_add_test(tc, error_info__reports_the_last_failure_and_clears_on_success);
    suite_add_tcase(s, tc);
    return s;
}
