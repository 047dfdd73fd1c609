/*
 * bench_operations.c - the cost of one tracked call through the public API, against the cost
 * of creating and joining an empty thread, measured alternately in the same run.
 *
 * A round trip is HcsCreateOperation, HcsEnumerateComputeSystems (no query, on an empty
 * temporary runtime root set with HcsModifyServiceSettings "Roots"), the result (either
 * HcsWaitForOperationResult, or a completion callback that takes it with HcsGetOperationResult
 * and wakes the caller), HcsFree of the result document and HcsCloseOperation. The baseline is
 * pthread_create + pthread_join of a thread that does nothing.
 *
 * Prints one row per variant: name, microseconds per call (median of ROUNDS rounds), the
 * baseline in microseconds, and value / baseline. Run by bench/run (make bench).
 */
#include <ftw.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hcs.h"

#define ROUNDS 9
#define CALLS 400 /* calls per round */
#define WARMUP 100

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, HRESULT hr, char *doc)
{
    fprintf(stderr, "bench_operations: %s: 0x%08x %s\n", what, (unsigned)hr, doc ? doc : "");
    HcsFree(doc);
    exit(1);
}

/* --- the measured calls ----------------------------------------------------------------------- */

static void round_trip_wait(void)
{
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    if (op == NULL)
        die("HcsCreateOperation", E_OUTOFMEMORY, NULL);
    HRESULT hr = HcsEnumerateComputeSystems(NULL, op);
    if (FAILED(hr))
        die("HcsEnumerateComputeSystems", hr, NULL);
    char *doc = NULL;
    hr = HcsWaitForOperationResult(op, HCS_INFINITE, &doc);
    if (FAILED(hr))
        die("HcsWaitForOperationResult", hr, doc);
    HcsFree(doc);
    HcsCloseOperation(op);
}

struct waiter {
    sem_t done;
    HRESULT hr;
};

static void on_complete(HCS_OPERATION op, void *context)
{
    struct waiter *w = context;
    char *doc = NULL;
    w->hr = HcsGetOperationResult(op, &doc);
    HcsFree(doc);
    sem_post(&w->done);
}

static void round_trip_callback(struct waiter *w)
{
    HCS_OPERATION op = HcsCreateOperation(w, on_complete);
    if (op == NULL)
        die("HcsCreateOperation", E_OUTOFMEMORY, NULL);
    HRESULT hr = HcsEnumerateComputeSystems(NULL, op);
    if (FAILED(hr))
        die("HcsEnumerateComputeSystems", hr, NULL);
    while (sem_wait(&w->done) != 0)
        ;
    if (FAILED(w->hr))
        die("completion callback result", w->hr, NULL);
    HcsCloseOperation(op);
}

static void *empty_thread(void *arg)
{
    return arg;
}

static void thread_create_join(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, empty_thread, NULL) != 0)
        die("pthread_create", 0, NULL);
    pthread_join(t, NULL);
}

/* --- measurement ------------------------------------------------------------------------------ */

enum variant { WAIT, CALLBACK, BASELINE, N_VARIANTS };

static void run(enum variant v, struct waiter *w, int calls)
{
    for (int i = 0; i < calls; i++) {
        if (v == WAIT)
            round_trip_wait();
        else if (v == CALLBACK)
            round_trip_callback(w);
        else
            thread_create_join();
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int main(void)
{
    char root[] = "/tmp/hcs-bench-XXXXXX";
    if (mkdtemp(root) == NULL) {
        perror("bench_operations: mkdtemp");
        return 1;
    }
    char settings[256];
    snprintf(settings, sizeof(settings),
             "{\"PropertyType\":\"Roots\",\"Settings\":{\"RuntimeRoot\":\"%s\"}}", root);
    char *err = NULL;
    HRESULT hr = HcsModifyServiceSettings(settings, &err);
    if (FAILED(hr))
        die("HcsModifyServiceSettings", hr, err);

    /* The call must really work: an empty root enumerates to an empty array. */
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    char *doc = NULL;
    hr = op ? HcsEnumerateComputeSystems(NULL, op) : E_OUTOFMEMORY;
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResult(op, HCS_INFINITE, &doc);
    if (FAILED(hr) || doc == NULL || strcmp(doc, "[]") != 0)
        die("enumerating an empty runtime root (expected [])", hr, doc);
    HcsFree(doc);
    HcsCloseOperation(op);

    struct waiter w;
    sem_init(&w.done, 0, 0);
    for (int v = 0; v < N_VARIANTS; v++)
        run((enum variant)v, &w, WARMUP);

    double us[N_VARIANTS][ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        for (int v = 0; v < N_VARIANTS; v++) {
            double t0 = now();
            run((enum variant)v, &w, CALLS);
            us[v][r] = (now() - t0) * 1e6 / CALLS;
        }
    }
    sem_destroy(&w.done);
    double wait_us = median(us[WAIT], ROUNDS);
    double cb_us = median(us[CALLBACK], ROUNDS);
    double base_us = median(us[BASELINE], ROUNDS);
    printf("tracked call round trip, wait [us/call]\t%.1f\t%.1f\t%.2f\n", wait_us, base_us,
           wait_us / base_us);
    printf("tracked call round trip, callback [us/call]\t%.1f\t%.1f\t%.2f\n", cb_us, base_us,
           cb_us / base_us);
    printf("# [us/call] rows: baseline = pthread_create + pthread_join of an empty thread; ratio = "
           "value / baseline (< 1: cheaper than a thread)\n");

    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
