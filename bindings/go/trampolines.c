/*
 * trampolines.c - the C functions package hcs hands to the library as callbacks. They turn the
 * void *context back into the uintptr_t of a runtime/cgo.Handle (in C, so that Go never converts
 * between pointers and integers) and call the exported Go functions of callbacks.go.
 */
#include <stdint.h>

#include <hcs.h>

#include "_cgo_export.h"

void hcsgo_event_trampoline(HCS_EVENT *event, void *context)
{
    goHcsEvent(event, (uintptr_t)context);
}

void hcsgo_completion_trampoline(HCS_OPERATION operation, void *context)
{
    goHcsCompletion(operation, (uintptr_t)context);
}
