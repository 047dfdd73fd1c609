package hcs

// The Go side of the C callbacks. This file has //export functions, so its preamble may only
// declare; the C trampolines live in trampolines.c and are named in trampoline_decl.go.

/*
#include <stdint.h>
#include <hcs.h>
*/
import "C"

import (
	"fmt"
	"os"
	"runtime/cgo"
	"runtime/debug"
)

// EventHandler receives the events of a system or process handle. It runs on a library thread;
// the event is a copy and may be kept. A panic in it is recovered and reported on stderr.
type EventHandler func(event HCS_EVENT)

// CompletionHandler receives the completion of a tracked call on a library thread.
type CompletionHandler func(operation HCS_OPERATION)

// reportPanic is called with what a callback's handler panicked with; by default it prints it
// with the stack on stderr (a panic must not unwind into C, which would kill the process).
var reportPanic = func(where string, v interface{}) {
	fmt.Fprintf(os.Stderr, "hcs: panic in %s: %v\n%s", where, v, debug.Stack())
}

//export goHcsEvent
func goHcsEvent(event *C.HCS_EVENT, context C.uintptr_t) {
	defer func() {
		if r := recover(); r != nil {
			reportPanic("event callback", r)
		}
	}()
	if event == nil || context == 0 {
		return
	}
	// Value panics for a deleted handle (a bug: Close deletes it only after the library
	// promised no more callbacks); the recover above reports it.
	if fn, ok := cgo.Handle(context).Value().(EventHandler); ok && fn != nil {
		fn(goHCS_EVENT(event))
	}
}

//export goHcsCompletion
func goHcsCompletion(operation C.HCS_OPERATION, context C.uintptr_t) {
	defer func() {
		if r := recover(); r != nil {
			reportPanic("operation completion callback", r)
		}
	}()
	if context == 0 {
		return
	}
	if fn, ok := cgo.Handle(context).Value().(CompletionHandler); ok && fn != nil {
		fn(HCS_OPERATION{operation})
	}
}
