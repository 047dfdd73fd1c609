/*
 * events - watch a compute system's and a process's events with callbacks.
 *
 *   events ROOTFS
 *
 * ROOTFS is a root folder (tools/mkroot makes one). The example creates a container over it
 * (read-only), sets an event callback on the system handle (HcsSetComputeSystemCallback) before
 * starting it so that no event is missed, starts `sh -c 'sleep 0.2; exit 3'` inside it with an
 * event callback on the process handle (HcsSetProcessCallback), waits for that process's
 * HcsEventProcessExited, then terminates the system and waits for HcsEventSystemExited.
 *
 * Callbacks run on library threads: each one prints "event: TYPE EVENTDATA" and, for the two
 * exit events, keeps a copy of EventData (the event is borrowed: it is valid only during the
 * callback) and wakes the main thread through a condition variable. The main thread never waits
 * without a timeout. Closing a handle unregisters its callback and waits for a running one, so
 * the shared state may be freed once both handles are closed.
 *
 * Run as root. The exit status is 0 when both exit events arrived, 1 otherwise, 2 for a usage
 * error.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hcs.h>

#define TIMEOUT_MS 30000
#define EVENT_TIMEOUT_S 10 /* how long to wait for an event */

/* What the callbacks share with the main thread. Each copy is set once and freed at the end. */
struct watch {
    pthread_mutex_t lock;
    pthread_cond_t cond;  /* broadcast when one of the copies below is set */
    char *process_exited; /* copy of ProcessExited's EventData (a ProcessStatus), or NULL */
    char *system_exited;  /* copy of SystemExited's EventData (a SystemExitStatus), or NULL */
};

static const char *event_name(uint32_t type)
{
    switch (type) {
    case HcsEventSystemExited:
        return "HcsEventSystemExited";
    case HcsEventSystemCrashInitiated:
        return "HcsEventSystemCrashInitiated";
    case HcsEventSystemCrashReport:
        return "HcsEventSystemCrashReport";
    case HcsEventSystemRdpEnhancedModeStateChanged:
        return "HcsEventSystemRdpEnhancedModeStateChanged";
    case HcsEventSystemSiloJobCreated:
        return "HcsEventSystemSiloJobCreated";
    case HcsEventSystemGuestConnectionClosed:
        return "HcsEventSystemGuestConnectionClosed";
    case HcsEventProcessExited:
        return "HcsEventProcessExited";
    case HcsEventOperationCallback:
        return "HcsEventOperationCallback";
    case HcsEventServiceDisconnect:
        return "HcsEventServiceDisconnect";
    default:
        return "HcsEventInvalid";
    }
}

/* The event callback of both handles; runs on a library thread. */
static void on_event(HCS_EVENT *event, void *context)
{
    struct watch *w = context;
    const char *data = event->EventData != NULL ? event->EventData : "";
    printf("event: %s %s\n", event_name(event->Type), data);
    fflush(stdout);
    pthread_mutex_lock(&w->lock);
    char **keep = event->Type == HcsEventProcessExited  ? &w->process_exited
                  : event->Type == HcsEventSystemExited ? &w->system_exited
                                                        : NULL;
    if (keep != NULL && *keep == NULL) {
        *keep = strdup(data); /* borrowed: copy what outlives the callback */
        pthread_cond_broadcast(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
}

/* Wait until the callback has set *slot; its value, or NULL after EVENT_TIMEOUT_S seconds. */
static const char *wait_for(struct watch *w, char **slot, const char *what)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until); /* the clock the condition variable uses */
    until.tv_sec += EVENT_TIMEOUT_S;
    pthread_mutex_lock(&w->lock);
    while (*slot == NULL && pthread_cond_timedwait(&w->cond, &w->lock, &until) != ETIMEDOUT)
        ;
    const char *value = *slot;
    pthread_mutex_unlock(&w->lock);
    if (value == NULL)
        fprintf(stderr, "events: no %s event within %d s\n", what, EVENT_TIMEOUT_S);
    return value;
}

/* Print what failed, with the ResultError of op's call, or of the last call on this thread. */
static void report(const char *what, HRESULT hr, HCS_OPERATION op)
{
    char *doc = NULL;
    if (op != NULL)
        HcsGetOperationResult(op, &doc);
    if (doc == NULL)
        HcsGetErrorInfo(&doc);
    fprintf(stderr, "events: %s failed: 0x%08X %s\n", what, (unsigned)hr, doc ? doc : "");
    HcsFree(doc);
}

/* Wait for the tracked call that returned hr. */
static HRESULT finish(HCS_OPERATION op, const char *what, HRESULT hr)
{
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResult(op, TIMEOUT_MS, NULL);
    if (FAILED(hr))
        report(what, hr, op);
    return hr;
}

/* s as a JSON string literal in out (size bytes: 2 * strlen(s) + 3 always suffice). */
static void json_string(char *out, size_t size, const char *s)
{
    size_t n = 0;
    for (out[n++] = '"'; *s != '\0' && n + 3 < size; s++) {
        if (*s == '"' || *s == '\\')
            out[n++] = '\\';
        out[n++] = *s;
    }
    out[n++] = '"';
    out[n] = '\0';
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: events ROOTFS\n"
                        "  ROOTFS: a root folder, e.g. made by tools/mkroot\n");
        return 2;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "events: creating a container needs root; run it as root\n");
        return 1;
    }
    char root[PATH_MAX];
    if (realpath(argv[1], root) == NULL) {
        fprintf(stderr, "events: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    char path[2 * PATH_MAX + 3], config[2 * PATH_MAX + 512];
    json_string(path, sizeof(path), root);
    snprintf(config, sizeof(config),
             "{\"SchemaVersion\":{\"Major\":2,\"Minor\":1},\"Owner\":\"events-example\","
             "\"ShouldTerminateOnLastHandleClosed\":true,"
             "\"Container\":{\"Storage\":{\"Layers\":[{\"Path\":%s}]}}}",
             path);
    const char *params = "{\"CommandArgs\":[\"sh\",\"-c\",\"sleep 0.2; exit 3\"]}";

    struct watch w = {.process_exited = NULL, .system_exited = NULL};
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&w.lock, NULL);

    int rc = 1, running = 0; /* running: created and not yet terminated */
    char id[64];
    snprintf(id, sizeof(id), "events-%ld", (long)getpid());
    HCS_SYSTEM system = NULL;
    HCS_PROCESS process = NULL;
    HCS_OPERATION op = HcsCreateOperation(NULL, NULL);
    if (op == NULL) {
        fprintf(stderr, "events: HcsCreateOperation: out of memory\n");
        goto out;
    }
    if (FAILED(finish(op, "HcsCreateComputeSystem",
                      HcsCreateComputeSystem(id, config, op, NULL, &system))))
        goto out; /* a failed create's handle only needs closing */
    running = 1;
    /* Before the start, so that every event of the system reaches the callback. */
    HRESULT hr = HcsSetComputeSystemCallback(system, HcsEventOptionNone, &w, on_event);
    if (FAILED(hr)) {
        report("HcsSetComputeSystemCallback", hr, NULL);
        goto out;
    }
    if (FAILED(finish(op, "HcsStartComputeSystem", HcsStartComputeSystem(system, op, NULL))))
        goto out;
    printf("started compute system %s over %s\n", id, root);
    fflush(stdout);

    /* The process, with its callback set as soon as the handle exists. */
    HCS_PROCESS_INFORMATION info;
    hr = HcsCreateProcess(system, params, op, NULL, &process);
    if (SUCCEEDED(hr) &&
        FAILED(hr = HcsSetProcessCallback(process, HcsEventOptionNone, &w, on_event))) {
        report("HcsSetProcessCallback", hr, NULL);
        goto out;
    }
    if (SUCCEEDED(hr))
        hr = HcsWaitForOperationResultAndProcessInfo(op, TIMEOUT_MS, &info, NULL);
    if (FAILED(hr)) {
        report("HcsCreateProcess sh -c 'sleep 0.2; exit 3'", hr, op);
        goto out;
    }
    printf("started process %u: sh -c 'sleep 0.2; exit 3'\n", (unsigned)info.ProcessId);
    fflush(stdout);
    const char *status = wait_for(&w, &w.process_exited, "HcsEventProcessExited");
    const char *code = status ? strstr(status, "\"ExitCode\":") : NULL;
    if (code == NULL)
        goto out;
    printf("the process exited with code %ld\n", strtol(code + strlen("\"ExitCode\":"), NULL, 10));
    fflush(stdout);

    /* Stop the system: SystemExited arrives on the system's callback. */
    if (FAILED(
            finish(op, "HcsTerminateComputeSystem", HcsTerminateComputeSystem(system, op, NULL))))
        goto out;
    running = 0;
    if (wait_for(&w, &w.system_exited, "HcsEventSystemExited") == NULL)
        goto out;
    printf("the compute system has exited\n");
    rc = 0;

out:
    if (running) { /* a step failed before the stop */
        if (SUCCEEDED(HcsTerminateComputeSystem(system, op, NULL)))
            HcsWaitForComputeSystemExit(system, TIMEOUT_MS, NULL);
    }
    /* After these, no callback runs any more: the shared state can go. */
    HcsCloseProcess(process);
    HcsCloseComputeSystem(system);
    HcsCloseOperation(op);
    free(w.process_exited);
    free(w.system_exited);
    pthread_mutex_destroy(&w.lock);
    pthread_cond_destroy(&w.cond);
    return rc;
}
