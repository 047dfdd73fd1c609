/*
 * use_header.c - compiled as strict C11 and as C++ (see run.sh): the public header must be
 * self-contained, warning-free and usable from both languages. Compiled, never run.
 */
#include <hcs.h>
#include <hcs.h> /* included twice on purpose: the guard must hold */

static void on_done(HCS_OPERATION op, void *context)
{
    (void)context;
    char *doc = 0;
    HRESULT hr = HcsGetOperationResult(op, &doc);
    if (FAILED(hr) && hr != HCS_E_OPERATION_PENDING)
        HcsFree(doc);
}

static void on_event(HCS_EVENT *event, void *context)
{
    (void)context;
    if (event->Type == HcsEventSystemExited || event->Type == HcsEventOperationCallback)
        (void)event->EventData;
}

int hcs_header_use(void);
int hcs_header_use(void)
{
    HCS_OPERATION op = HcsCreateOperation(0, on_done);
    HCS_SYSTEM sys = 0;
    HCS_PROCESS proc = 0;
    HCS_PROCESS_INFORMATION pi = {0, 0, -1, -1, -1};
    HRESULT hr = HcsCreateComputeSystem("id", "{}", op, 0, &sys);
    hr |= HcsSetComputeSystemCallback(sys, HcsEventOptionEnableOperationCallbacks, 0, on_event);
    hr |= HcsWaitForOperationResultAndProcessInfo(op, HCS_INFINITE, &pi, 0);
    hr |= HcsCreateProcess(sys, "{}", op, 0, &proc);
    HCS_OPERATION_TYPE t = HcsGetOperationType(op);
    uint64_t id = HcsGetOperationId(op);
    HcsCloseProcess(proc);
    HcsCloseComputeSystem(sys);
    HcsCloseOperation(op);
    int bad = id == HCS_INVALID_OPERATION_ID || SUCCEEDED(hr);
    return bad + t + HCS_HRESULT_ERRNO(HRESULT_FROM_ERRNO(5));
}

/* The struct layouts the bindings rely on (LP64): a change here is an ABI break. */
#include <stddef.h>
#define HCS_LAYOUT(name, cond) typedef char hcs_layout_##name[(cond) ? 1 : -1]
HCS_LAYOUT(event_size, sizeof(HCS_EVENT) == 24);
HCS_LAYOUT(event_data, offsetof(HCS_EVENT, EventData) == 8);
HCS_LAYOUT(event_operation, offsetof(HCS_EVENT, Operation) == 16);
HCS_LAYOUT(pi_size, sizeof(HCS_PROCESS_INFORMATION) == 20);
HCS_LAYOUT(pi_stdin, offsetof(HCS_PROCESS_INFORMATION, StdInput) == 8);
HCS_LAYOUT(pi_stderr, offsetof(HCS_PROCESS_INFORMATION, StdError) == 16);
HCS_LAYOUT(hresult, sizeof(HRESULT) == 4);
