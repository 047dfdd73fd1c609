/*
 * hcs.h - libhcs, the Host Compute Service API as an embeddable C library for Linux.
 *
 * This is the whole public ABI. Names, argument order and semantics follow the Windows HCS v2
 * API (computecore.h, computestorage.h); the differences are:
 *   - strings are UTF-8 ("const char *"), never UTF-16;
 *   - standard handles are file descriptors (int32_t, -1 when absent);
 *   - HRESULT is int32_t and every string the library returns is freed with HcsFree();
 *   - HcsGetErrorInfo() (a libhcs extension) returns the ResultError of the last failing call on
 *     the calling thread, for calls that have no result-document parameter.
 *
 * General rules (see hcs(7)):
 *   - Every function may be called from any thread.
 *   - Callbacks run on library threads, never while the library holds a lock an API call from the
 *     callback would need; a callback may call any function, including the close function of the
 *     handle it was called for. No callback runs after the close function of its handle returns.
 *   - Optional documents accept NULL and "" alike.
 *   - A failing call that has a result-document out-parameter stores a ResultError JSON document
 *     there ({"Error": <HRESULT as signed decimal>, "ErrorMessage": "..."}); its message names the
 *     cause precisely, for documents the JSON path of the offending field.
 *   - HRESULT values never change meaning once released.
 */
#ifndef HCS_H
#define HCS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- Version --------------------------------------------------------------------------------- */

/* The library version this header belongs to; the Makefile reads these three lines. */
#define HCS_VERSION_MAJOR 0
#define HCS_VERSION_MINOR 1
#define HCS_VERSION_PATCH 0

#if defined(__GNUC__) && !defined(HCS_STATIC)
#define HCS_API __attribute__((visibility("default")))
#else
#define HCS_API
#endif

/* --- Result codes ---------------------------------------------------------------------------- */

/* A Windows-style result code: negative on failure, 0 (S_OK) or positive on success. */
typedef int32_t HRESULT;

#define HCS_HRESULT_(v) ((HRESULT)(uint32_t)(v))

#ifndef S_OK
#define S_OK ((HRESULT)0)
#endif
#ifndef S_FALSE
/* S_FALSE: success, but nothing was done (e.g. cancelling a completed operation). */
#define S_FALSE ((HRESULT)1)
#endif
#ifndef SUCCEEDED
#define SUCCEEDED(hr) (((HRESULT)(hr)) >= 0)
#endif
#ifndef FAILED
#define FAILED(hr) (((HRESULT)(hr)) < 0)
#endif

/* Generic COM / Win32 codes, with their Windows values. */
#ifndef E_NOTIMPL
#define E_NOTIMPL HCS_HRESULT_(0x80004001u) /* not implemented on Linux yet (see README) */
#endif
#ifndef E_POINTER
#define E_POINTER HCS_HRESULT_(0x80004003u) /* a required pointer argument was NULL */
#endif
#ifndef E_FAIL
#define E_FAIL HCS_HRESULT_(0x80004005u) /* unspecified failure (a bug: please report it) */
#endif
#ifndef E_ACCESSDENIED
#define E_ACCESSDENIED HCS_HRESULT_(0x80070005u) /* EACCES / EPERM */
#endif
#ifndef E_HANDLE
#define E_HANDLE HCS_HRESULT_(0x80070006u) /* a handle argument was NULL or already closed */
#endif
#ifndef E_OUTOFMEMORY
#define E_OUTOFMEMORY HCS_HRESULT_(0x8007000Eu)
#endif
#ifndef E_INVALIDARG
#define E_INVALIDARG HCS_HRESULT_(0x80070057u)
#endif
/* HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND): a path named by the caller does not exist (ENOENT). */
#define HCS_E_FILE_NOT_FOUND HCS_HRESULT_(0x80070002u)
/* HRESULT_FROM_WIN32(ERROR_ALREADY_EXISTS): a path to be created exists and is not empty. */
#define HCS_E_ALREADY_EXISTS HCS_HRESULT_(0x800700B7u)
/* HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED): ENOTSUP / EOPNOTSUPP. */
#define HCS_E_NOT_SUPPORTED HCS_HRESULT_(0x80070032u)
/* HRESULT_FROM_WIN32(ERROR_TIMEOUT): ETIMEDOUT. */
#define HCS_E_WIN32_TIMEOUT HCS_HRESULT_(0x800705B4u)
/* HRESULT_FROM_WIN32(ERROR_CANCELLED): the result of a call cancelled by HcsCancelOperation. */
#define HCS_E_CANCELLED HCS_HRESULT_(0x800704C7u)

/*
 * Kernel errors that have no Windows equivalent are returned as HRESULT_FROM_ERRNO(errno): the
 * customer bit set, facility 0x0EE, the errno in the low 16 bits. HCS_HRESULT_ERRNO() gives the
 * errno back (0 if the HRESULT is not of this form). ENOENT, EACCES, EPERM, ENOMEM, EINVAL,
 * EEXIST, ENOTEMPTY, ENOTSUP and ETIMEDOUT map to the Windows codes above instead.
 */
#define HRESULT_FROM_ERRNO(e) HCS_HRESULT_(0xA0EE0000u | ((uint32_t)(e)&0xFFFFu))
#define HCS_HRESULT_ERRNO(hr)                                                                      \
    ((((uint32_t)(hr)) & 0xFFFF0000u) == 0xA0EE0000u ? (int)(((uint32_t)(hr)) & 0xFFFFu) : 0)

/* HCS codes (facility 0x37, FACILITY_VIRTUALIZATION), the Windows values. */
#define HCS_E_TERMINATED_DURING_START HCS_HRESULT_(0x80370100u)
#define HCS_E_IMAGE_MISMATCH HCS_HRESULT_(0x80370101u)
#define HCS_E_HYPERV_NOT_INSTALLED HCS_HRESULT_(0x80370102u)
#define HCS_E_INVALID_STATE HCS_HRESULT_(0x80370105u)
#define HCS_E_UNEXPECTED_EXIT HCS_HRESULT_(0x80370106u)
#define HCS_E_TERMINATED HCS_HRESULT_(0x80370107u)
#define HCS_E_CONNECT_FAILED HCS_HRESULT_(0x80370108u)
#define HCS_E_CONNECTION_TIMEOUT HCS_HRESULT_(0x80370109u)
#define HCS_E_CONNECTION_CLOSED HCS_HRESULT_(0x8037010Au)
#define HCS_E_UNKNOWN_MESSAGE HCS_HRESULT_(0x8037010Bu)
#define HCS_E_UNSUPPORTED_PROTOCOL_VERSION HCS_HRESULT_(0x8037010Cu)
#define HCS_E_INVALID_JSON HCS_HRESULT_(0x8037010Du)
#define HCS_E_SYSTEM_NOT_FOUND HCS_HRESULT_(0x8037010Eu)
#define HCS_E_SYSTEM_ALREADY_EXISTS HCS_HRESULT_(0x8037010Fu)
#define HCS_E_SYSTEM_ALREADY_STOPPED HCS_HRESULT_(0x80370110u)
#define HCS_E_PROTOCOL_ERROR HCS_HRESULT_(0x80370111u)
#define HCS_E_INVALID_LAYER HCS_HRESULT_(0x80370112u)
#define HCS_E_WINDOWS_INSIDER_REQUIRED HCS_HRESULT_(0x80370113u)
#define HCS_E_SERVICE_NOT_AVAILABLE HCS_HRESULT_(0x80370114u)
#define HCS_E_OPERATION_NOT_STARTED HCS_HRESULT_(0x80370115u)
#define HCS_E_OPERATION_ALREADY_STARTED HCS_HRESULT_(0x80370116u)
#define HCS_E_OPERATION_PENDING HCS_HRESULT_(0x80370117u)
#define HCS_E_OPERATION_TIMEOUT HCS_HRESULT_(0x80370118u)
#define HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET HCS_HRESULT_(0x80370119u)
#define HCS_E_OPERATION_RESULT_ALLOCATION_FAILED HCS_HRESULT_(0x8037011Au)
#define HCS_E_ACCESS_DENIED HCS_HRESULT_(0x8037011Bu)
#define HCS_E_GUEST_CRITICAL_ERROR HCS_HRESULT_(0x8037011Cu)
#define HCS_E_PROCESS_INFO_NOT_AVAILABLE HCS_HRESULT_(0x8037011Du)
#define HCS_E_SERVICE_DISCONNECT HCS_HRESULT_(0x8037011Eu)
#define HCS_E_PROCESS_ALREADY_STOPPED HCS_HRESULT_(0x8037011Fu)
#define HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION HCS_HRESULT_(0x80370120u)
#define HCS_E_OPERATION_ALREADY_CANCELLED HCS_HRESULT_(0x80370121u)

/* --- Handles ---------------------------------------------------------------------------------- */

/* Opaque handles; NULL is never a valid handle. */
typedef struct HCS_SYSTEM_ *HCS_SYSTEM;
typedef struct HCS_PROCESS_ *HCS_PROCESS;
typedef struct HCS_OPERATION_ *HCS_OPERATION;
typedef struct HCS_CALLBACK_ *HCS_CALLBACK;

/* Timeout value meaning "wait forever" (Windows INFINITE). */
#define HCS_INFINITE 0xFFFFFFFFu
/* HcsGetOperationId() of an invalid operation (Windows HCS_INVALID_OPERATION_ID). */
#define HCS_INVALID_OPERATION_ID UINT64_MAX
/* The one access mask HcsOpenComputeSystem/HcsOpenProcess take besides 0 (Windows GENERIC_ALL). */
#define HCS_GENERIC_ALL 0x10000000u

/* --- Enumerations (the Windows values) ----------------------------------------------------- */

/*
 * The types are fixed-width integers (the ABI never carries a C enum); the named values are
 * enumerators so that the compiler's own parse (and so the binding generator) sees them.
 */

/* HCS_OPERATION_TYPE: what an operation tracks (HcsGetOperationType). */
typedef int32_t HCS_OPERATION_TYPE;
enum HCS_OPERATION_TYPE_VALUES {
    HcsOperationTypeNone = -1, /* not yet used by any call */
    HcsOperationTypeEnumerate = 0,
    HcsOperationTypeCreate = 1,
    HcsOperationTypeStart = 2,
    HcsOperationTypeShutdown = 3,
    HcsOperationTypePause = 4,
    HcsOperationTypeResume = 5,
    HcsOperationTypeSave = 6,
    HcsOperationTypeTerminate = 7,
    HcsOperationTypeModify = 8,
    HcsOperationTypeGetProperties = 9,
    HcsOperationTypeCreateProcess = 10,
    HcsOperationTypeSignalProcess = 11, /* also HcsTerminateProcess */
    HcsOperationTypeGetProcessInfo = 12,
    HcsOperationTypeGetProcessProperties = 13,
    HcsOperationTypeModifyProcess = 14,
    HcsOperationTypeCrash = 15
};

/* HCS_EVENT_TYPE: HCS_EVENT.Type. */
typedef uint32_t HCS_EVENT_TYPE;
enum HCS_EVENT_TYPE_VALUES {
    HcsEventInvalid = 0x00000000,
    HcsEventSystemExited = 0x00000001, /* EventData: SystemExitStatus */
    HcsEventSystemCrashInitiated = 0x00000002,
    HcsEventSystemCrashReport = 0x00000003,
    HcsEventSystemRdpEnhancedModeStateChanged = 0x00000004,
    HcsEventSystemSiloJobCreated = 0x00000005,
    HcsEventSystemGuestConnectionClosed = 0x00000006,
    HcsEventProcessExited = 0x00010000,     /* EventData: ProcessStatus */
    HcsEventOperationCallback = 0x01000000, /* HCS_EVENT.Operation is the completed operation */
    HcsEventServiceDisconnect = 0x02000000  /* the system's monitor went away */
};

/* HCS_EVENT_OPTIONS: flags for HcsSetComputeSystemCallback / HcsSetProcessCallback. */
typedef uint32_t HCS_EVENT_OPTIONS;
enum HCS_EVENT_OPTIONS_VALUES {
    HcsEventOptionNone = 0x0,
    HcsEventOptionEnableOperationCallbacks = 0x1
};

/* --- Structures ------------------------------------------------------------------------------- */

/*
 * An event delivered to an HCS_EVENT_CALLBACK. The structure and EventData are borrowed: valid
 * only during the callback; copy what you keep.
 */
typedef struct HCS_EVENT {
    uint32_t Type;           /* an HCS_EVENT_TYPE value */
    const char *EventData;   /* JSON document or NULL */
    HCS_OPERATION Operation; /* the completed operation, for HcsEventOperationCallback only */
} HCS_EVENT;

/*
 * Process start information. Std* are file descriptors owned by the caller once returned (close
 * them), -1 when the pipe was not requested.
 */
typedef struct HCS_PROCESS_INFORMATION {
    uint32_t ProcessId; /* pid as seen inside the compute system */
    uint32_t Reserved;
    int32_t StdInput;  /* write end of the process's stdin, or -1 */
    int32_t StdOutput; /* read end of the process's stdout, or -1 */
    int32_t StdError;  /* read end of the process's stderr, or -1 */
} HCS_PROCESS_INFORMATION;

/* --- Callback types --------------------------------------------------------------------------- */

/* Called once when a tracked call completes; context is what was given at creation or set later. */
typedef void (*HCS_OPERATION_COMPLETION)(HCS_OPERATION operation, void *context);
/* Called for each event on a system or process handle. */
typedef void (*HCS_EVENT_CALLBACK)(HCS_EVENT *event, void *context);

/* --- Memory ----------------------------------------------------------------------------------- */

/*
 * HcsFree - free a string returned by the library (result documents, error documents). NULL is
 * ignored. Thread-safe. Never free library strings with anything else.
 */
HCS_API void HcsFree(void *buffer);

/*
 * HcsGetErrorInfo - (libhcs extension) the ResultError document of the last call on this thread
 * that failed, or NULL when the last call succeeded. Useful for the calls without a result
 * parameter (HcsOpenComputeSystem, the storage functions). *errorDocument is owned by the caller
 * (HcsFree). Returns the HRESULT of that failure, or S_OK.
 */
HCS_API HRESULT HcsGetErrorInfo(char **errorDocument);

/* --- Operations ---------------------------------------------------------------------------------
 *
 * An operation tracks one asynchronous call at a time: NotStarted -> Pending -> Completed. A
 * completed operation may be reused for the next call. The immediate HRESULT of a tracked call
 * says only whether the call was accepted; if it fails, the operation is completed with that
 * HRESULT and its ResultError (so HcsGetOperationResult gives the document), but its completion
 * callback is not invoked. The real result arrives through HcsWaitForOperationResult, the
 * completion callback, or (with HcsEventOptionEnableOperationCallbacks) the handle's event
 * callback.
 */

/*
 * HcsCreateOperation - a new operation. context and callback are optional; callback is invoked
 * once on a library thread when a tracked call completes. Returns NULL when out of memory. The
 * caller closes it with HcsCloseOperation. Thread-safe.
 */
HCS_API HCS_OPERATION HcsCreateOperation(void *context, HCS_OPERATION_COMPLETION callback);

/*
 * HcsCloseOperation - release an operation. Legal while its call is pending (the work finishes and
 * its result is dropped, no callback) and inside its own completion callback. When another thread
 * is running its callback, waits for the callback to return. NULL is ignored. The handle is
 * invalid after this call.
 */
HCS_API void HcsCloseOperation(HCS_OPERATION operation);

/* HcsGetOperationContext - the context given at creation or by the last Set call; NULL if none. */
HCS_API void *HcsGetOperationContext(HCS_OPERATION operation);

/* HcsSetOperationContext - replace the context. E_HANDLE for a NULL operation. */
HCS_API HRESULT HcsSetOperationContext(HCS_OPERATION operation, void *context);

/*
 * HcsGetComputeSystemFromOperation / HcsGetProcessFromOperation - the handle the pending or last
 * call acted on, or NULL. Borrowed: do not close it through this pointer.
 */
HCS_API HCS_SYSTEM HcsGetComputeSystemFromOperation(HCS_OPERATION operation);
HCS_API HCS_PROCESS HcsGetProcessFromOperation(HCS_OPERATION operation);

/* HcsGetOperationType - the kind of call tracked; HcsOperationTypeNone before the first call. */
HCS_API HCS_OPERATION_TYPE HcsGetOperationType(HCS_OPERATION operation);

/* HcsGetOperationId - a process-unique id (> 0); HCS_INVALID_OPERATION_ID for NULL. */
HCS_API uint64_t HcsGetOperationId(HCS_OPERATION operation);

/*
 * HcsGetOperationResult - non-blocking: the tracked call's HRESULT, HCS_E_OPERATION_NOT_STARTED
 * before any call, HCS_E_OPERATION_PENDING while running. resultDocument (optional) receives the
 * call's result document on success or a ResultError on failure (NULL if there is none); the
 * caller frees it with HcsFree. Each call returns a fresh copy.
 */
HCS_API HRESULT HcsGetOperationResult(HCS_OPERATION operation, char **resultDocument);

/*
 * HcsGetOperationResultAndProcessInfo - as HcsGetOperationResult, for CreateProcess and
 * GetProcessInfo operations (E_INVALIDARG for others). processInformation (optional) receives the
 * pid and the std fds; the fds are handed over once: a second call returns -1 for them.
 */
HCS_API HRESULT HcsGetOperationResultAndProcessInfo(HCS_OPERATION operation,
                                                    HCS_PROCESS_INFORMATION *processInformation,
                                                    char **resultDocument);

/*
 * HcsWaitForOperationResult - block until the call completes or timeoutMs elapses
 * (HCS_INFINITE: forever). On timeout returns HCS_E_OPERATION_TIMEOUT and the call keeps running.
 * HCS_E_OPERATION_NOT_STARTED if no call was made. resultDocument as for HcsGetOperationResult.
 * Must not be called from the operation's own completion callback for a pending operation.
 */
HCS_API HRESULT HcsWaitForOperationResult(HCS_OPERATION operation, uint32_t timeoutMs,
                                          char **resultDocument);

/* HcsWaitForOperationResultAndProcessInfo - blocking twin of ...ResultAndProcessInfo. */
HCS_API HRESULT HcsWaitForOperationResultAndProcessInfo(HCS_OPERATION operation, uint32_t timeoutMs,
                                                        HCS_PROCESS_INFORMATION *processInformation,
                                                        char **resultDocument);

/*
 * HcsSetOperationCallback - attach or replace the completion callback and its context (a NULL
 * callback removes it). Takes effect for a pending call if set before it completes.
 */
HCS_API HRESULT HcsSetOperationCallback(HCS_OPERATION operation, const void *context,
                                        HCS_OPERATION_COMPLETION callback);

/*
 * HcsCancelOperation - cancel the pending call. Work not yet begun is dropped and work that
 * reaches a cancellation point stops, cleaning up what it did; the operation then completes with
 * HCS_E_CANCELLED. Work past its last cancellation point completes normally. Returns S_OK when
 * cancellation was requested, S_FALSE when the call had already completed,
 * HCS_E_OPERATION_NOT_STARTED before any call, HCS_E_OPERATION_ALREADY_CANCELLED when requested
 * before.
 */
HCS_API HRESULT HcsCancelOperation(HCS_OPERATION operation);

/* --- Compute systems ----------------------------------------------------------------------------
 * Tracked calls take an operation that must not be pending (HCS_E_OPERATION_ALREADY_STARTED).
 */

/*
 * HcsEnumerateComputeSystems - list compute systems. query: optional SystemQuery document
 * ({"Ids":[],"Names":[],"Types":["Container"|"VirtualMachine"],"Owners":[]}; filters combine with
 * AND, values in one filter with OR). Result document: a JSON array of
 * {Id, Name, SystemType, State, Owner, RuntimeOsType, ...}.
 */
HCS_API HRESULT HcsEnumerateComputeSystems(const char *query, HCS_OPERATION operation);

/*
 * HcsCreateComputeSystem - create (not start) a compute system from a ComputeSystem document.
 * securityDescriptor must be NULL. *computeSystem receives a handle even while the operation is
 * pending; close it with HcsCloseComputeSystem. Errors: HCS_E_INVALID_JSON (with the path of the
 * bad field), HCS_E_SYSTEM_ALREADY_EXISTS, E_INVALIDARG for an unusable id.
 */
HCS_API HRESULT HcsCreateComputeSystem(const char *id, const char *configuration,
                                       HCS_OPERATION operation, const void *securityDescriptor,
                                       HCS_SYSTEM *computeSystem);

/*
 * HcsOpenComputeSystem - open an existing system by id (synchronous). requestedAccess: 0 or
 * HCS_GENERIC_ALL. HCS_E_SYSTEM_NOT_FOUND when no system has that id.
 */
HCS_API HRESULT HcsOpenComputeSystem(const char *id, uint32_t requestedAccess,
                                     HCS_SYSTEM *computeSystem);

/*
 * HcsCloseComputeSystem - release a system handle: unregisters its callback and waits for a
 * running callback (unless called from it). Terminates the system only if it was created with
 * ShouldTerminateOnLastHandleClosed and this is its last handle. NULL is ignored.
 */
HCS_API void HcsCloseComputeSystem(HCS_SYSTEM computeSystem);

/* HcsStartComputeSystem - start a created system. options: reserved, NULL or "". */
HCS_API HRESULT HcsStartComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                      const char *options);

/*
 * HcsShutDownComputeSystem - graceful stop: SIGTERM to the system, SIGKILL after the grace period.
 * options: optional ShutdownOptions. HCS_E_SYSTEM_ALREADY_STOPPED when not running.
 */
HCS_API HRESULT HcsShutDownComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                         const char *options);

/* HcsTerminateComputeSystem - forced stop (kill every process at once). options: NULL or "". */
HCS_API HRESULT HcsTerminateComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                          const char *options);

/* HcsPauseComputeSystem - freeze every process. options: optional PauseOptions. */
HCS_API HRESULT HcsPauseComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                      const char *options);

/* HcsResumeComputeSystem - thaw a paused system. options: NULL or "". */
HCS_API HRESULT HcsResumeComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                       const char *options);

/* HcsSaveComputeSystem - save state; not supported on Linux (E_NOTIMPL). */
HCS_API HRESULT HcsSaveComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                     const char *options);

/*
 * HcsGetComputeSystemProperties - query properties. propertyQuery: optional PropertyQuery
 * ({"PropertyTypes":["Statistics","ProcessList","Memory"]}). Result: a Properties document.
 */
HCS_API HRESULT HcsGetComputeSystemProperties(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                              const char *propertyQuery);

/*
 * HcsModifyComputeSystem - apply a ModifySettingRequest ({"ResourcePath": ..., "RequestType":
 * "Add"|"Remove"|"Update", "Settings": ...}). identity must be NULL.
 */
HCS_API HRESULT HcsModifyComputeSystem(HCS_SYSTEM computeSystem, HCS_OPERATION operation,
                                       const char *configuration, const void *identity);

/*
 * HcsSetComputeSystemCallback - set the handle's one event callback (SystemExited, ...).
 * HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET if one is set.
 */
HCS_API HRESULT HcsSetComputeSystemCallback(HCS_SYSTEM computeSystem,
                                            HCS_EVENT_OPTIONS callbackOptions, const void *context,
                                            HCS_EVENT_CALLBACK callback);

/*
 * HcsWaitForComputeSystemExit - block until the system stops or timeoutMs elapses
 * (HCS_E_OPERATION_TIMEOUT). result (optional): SystemExitStatus, freed with HcsFree.
 */
HCS_API HRESULT HcsWaitForComputeSystemExit(HCS_SYSTEM computeSystem, uint32_t timeoutMs,
                                            char **result);

/* --- Processes -------------------------------------------------------------------------------- */

/*
 * HcsCreateProcess - start a process inside a running system from a ProcessParameters document.
 * securityDescriptor must be NULL. *process receives the handle (close with HcsCloseProcess); the
 * pid and std fds come from HcsWaitForOperationResultAndProcessInfo.
 */
HCS_API HRESULT HcsCreateProcess(HCS_SYSTEM computeSystem, const char *processParameters,
                                 HCS_OPERATION operation, const void *securityDescriptor,
                                 HCS_PROCESS *process);

/* HcsOpenProcess - open a process of the system by pid (synchronous). */
HCS_API HRESULT HcsOpenProcess(HCS_SYSTEM computeSystem, uint32_t processId,
                               uint32_t requestedAccess, HCS_PROCESS *process);

/* HcsCloseProcess - release a process handle; same callback-drain rules as system close. */
HCS_API void HcsCloseProcess(HCS_PROCESS process);

/* HcsTerminateProcess - kill the process. HCS_E_PROCESS_ALREADY_STOPPED if it has exited. */
HCS_API HRESULT HcsTerminateProcess(HCS_PROCESS process, HCS_OPERATION operation,
                                    const char *options);

/* HcsSignalProcess - send a signal; options: SignalProcessOptions {"Signal": <POSIX number>}. */
HCS_API HRESULT HcsSignalProcess(HCS_PROCESS process, HCS_OPERATION operation, const char *options);

/* HcsGetProcessInfo - the process's start information, through the operation. */
HCS_API HRESULT HcsGetProcessInfo(HCS_PROCESS process, HCS_OPERATION operation);

/* HcsGetProcessProperties - a ProcessStatus document through the operation. */
HCS_API HRESULT HcsGetProcessProperties(HCS_PROCESS process, HCS_OPERATION operation,
                                        const char *propertyQuery);

/* HcsModifyProcess - ProcessModifyRequest: console size, close a std handle. */
HCS_API HRESULT HcsModifyProcess(HCS_PROCESS process, HCS_OPERATION operation,
                                 const char *settings);

/* HcsSetProcessCallback - set the handle's one event callback (ProcessExited). */
HCS_API HRESULT HcsSetProcessCallback(HCS_PROCESS process, HCS_EVENT_OPTIONS callbackOptions,
                                      void *context, HCS_EVENT_CALLBACK callback);

/* HcsWaitForProcessExit - block until exit or timeout; result: ProcessStatus (HcsFree). */
HCS_API HRESULT HcsWaitForProcessExit(HCS_PROCESS process, uint32_t timeoutMs, char **result);

/* --- Service ---------------------------------------------------------------------------------- */

/*
 * HcsGetServiceProperties - synchronous. propertyQuery: optional
 * {"PropertyTypes":["Basic","Host"]} (default: both). result: ServiceProperties
 * {"Properties":[...]} in the order asked: Basic = {SupportedSchemaVersions, LibraryVersion},
 * Host (libhcs extension) = {CgroupMode, Overlayfs, Kvm, UserNamespaces, KernelRelease,
 * RuntimeRoot, DataRoot}. On failure *result holds a ResultError. Free with HcsFree.
 */
HCS_API HRESULT HcsGetServiceProperties(const char *propertyQuery, char **result);

/*
 * HcsModifyServiceSettings - synchronous. settings: ModificationRequest
 * {"PropertyType": "Logging"|"Roots", "Settings": {...}} (see hcs-schema(7)). result (optional):
 * ResultError on failure. Roots affect calls made afterwards only.
 */
HCS_API HRESULT HcsModifyServiceSettings(const char *settings, char **result);

/* --- Storage (computestorage)
 * --------------------------------------------------------------------- Synchronous; on failure
 * HcsGetErrorInfo() gives the ResultError.
 */

/*
 * HcsImportLayer - import a layer archive (tar, tar+gzip, tar+zstd, by content) or an unpacked
 * layer folder at sourceFolderPath into layerPath (missing or empty). Atomic; archive entries
 * that would write outside the layer are refused by name. layerData: parents (recorded) and the
 * extension ImportLimits {MaxBytes, MaxEntries}.
 */
HCS_API HRESULT HcsImportLayer(const char *layerPath, const char *sourceFolderPath,
                               const char *layerData);

/*
 * HcsExportLayer - write the layer at layerPath (a read-only layer whole, a writable layer's
 * changes) as an OCI layer archive: the file exportFolderPath, or layer.tar[.gz|.zst] in it when
 * it is a folder. options: ExportLayerOptions {Compression "None"|"Gzip"|"Zstd",
 * CompressionLevel, Deterministic, Timestamp} (see hcs-schema(7)).
 */
HCS_API HRESULT HcsExportLayer(const char *layerPath, const char *exportFolderPath,
                               const char *layerData, const char *options);

/* HcsDestroyLayer - remove a layer made by libhcs; refused (naming the user) while in use. */
HCS_API HRESULT HcsDestroyLayer(const char *layerPath);

/* HcsInitializeWritableLayer - make writableLayerPath a writable layer over layerData's. */
HCS_API HRESULT HcsInitializeWritableLayer(const char *writableLayerPath, const char *layerData,
                                           const char *options);

/* HcsAttachLayerStorageFilter - mount the union view of writable layer layerPath at
 * layerPath/rootfs (in the caller's mount namespace). */
HCS_API HRESULT HcsAttachLayerStorageFilter(const char *layerPath, const char *layerData);

/* HcsDetachLayerStorageFilter - unmount what HcsAttachLayerStorageFilter mounted. */
HCS_API HRESULT HcsDetachLayerStorageFilter(const char *layerPath);

#ifdef __cplusplus
}
#endif

#endif /* HCS_H */
