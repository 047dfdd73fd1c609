package hcs

/*
#include <hcs.h>
extern void hcsgo_event_trampoline(HCS_EVENT *event, void *context);
extern void hcsgo_completion_trampoline(HCS_OPERATION operation, void *context);
*/
import "C"

// EventCallback returns the HCS_EVENT_CALLBACK to pass to HcsSetComputeSystemCallback or
// HcsSetProcessCallback, with a context that is a runtime/cgo.Handle of an EventHandler:
//
//	h := cgo.NewHandle(hcs.EventHandler(func(e hcs.HCS_EVENT) { ... }))
//	hr := hcs.HcsSetComputeSystemCallback(sys, hcs.HcsEventOptionNone, uintptr(h), hcs.EventCallback())
//	...
//	hcs.HcsCloseComputeSystem(sys) // no callback runs after this returns
//	h.Delete()
func EventCallback() HCS_EVENT_CALLBACK {
	return HCS_EVENT_CALLBACK{C.HCS_EVENT_CALLBACK(C.hcsgo_event_trampoline)}
}

// OperationCompletion returns the HCS_OPERATION_COMPLETION to pass to HcsCreateOperation or
// HcsSetOperationCallback, with a context that is a runtime/cgo.Handle of a CompletionHandler.
// Delete the handle after HcsCloseOperation.
func OperationCompletion() HCS_OPERATION_COMPLETION {
	return HCS_OPERATION_COMPLETION{C.HCS_OPERATION_COMPLETION(C.hcsgo_completion_trampoline)}
}
