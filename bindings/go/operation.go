package hcs

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// waitFunc waits for operation o without a time limit and returns its result.
type waitFunc func(o HCS_OPERATION) (HRESULT, string)

func waitResult(o HCS_OPERATION) (HRESULT, string) {
	return HcsWaitForOperationResult(o, HCS_INFINITE)
}

// cancelGrace is how long a call whose context ended may take to stop after its cancellation
// was requested before track gives up on it (it then finishes in the background).
var cancelGrace = 2 * time.Second

// track runs one tracked call: start issues it on a new operation; the result document is
// returned. When ctx ends first, the call is cancelled with HcsCancelOperation and its real
// outcome awaited: a call that completed anyway succeeds, a cancelled one fails with
// HCS_E_CANCELLED and ctx's error. With abandon, a call still running cancelGrace after its
// cancellation is left to finish in the background and track fails with
// HCS_E_OPERATION_PENDING and ctx's error; without it (calls that return a handle), track waits
// for the end.
func track(ctx context.Context, op, id string, abandon bool, start func(o HCS_OPERATION) HRESULT, wait waitFunc) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", &HcsError{Op: op, ID: id, HResult: HCS_E_CANCELLED, Message: "not started: the context ended", Err: err}
	}
	if wait == nil {
		wait = waitResult
	}
	o := HcsCreateOperation(0, HCS_OPERATION_COMPLETION{})
	if o.IsNil() {
		return "", &HcsError{Op: op, ID: id, HResult: E_OUTOFMEMORY, Message: "cannot create an operation"}
	}
	if hr := start(o); hr.Failed() {
		// A refused call completes the operation with its ResultError.
		_, doc := HcsGetOperationResult(o)
		HcsCloseOperation(o)
		return "", newError(op, id, hr, doc)
	}
	type result struct {
		hr  HRESULT
		doc string
	}
	// The waiting goroutine owns o from here on and closes it; closed (under mu) keeps a late
	// HcsCancelOperation off a closed operation.
	var mu sync.Mutex
	closed := false
	done := make(chan result, 1)
	go func() {
		hr, doc := wait(o)
		mu.Lock()
		closed = true
		HcsCloseOperation(o)
		mu.Unlock()
		done <- result{hr, doc}
	}()
	var r result
	var ctxErr error
	select {
	case r = <-done:
	case <-ctx.Done():
		ctxErr = ctx.Err()
		mu.Lock()
		if !closed {
			HcsCancelOperation(o)
		}
		mu.Unlock()
		if !abandon {
			r = <-done
			break
		}
		t := time.NewTimer(cancelGrace)
		defer t.Stop()
		select {
		case r = <-done:
		case <-t.C:
			return "", &HcsError{Op: op, ID: id, HResult: HCS_E_OPERATION_PENDING, Err: ctxErr,
				Message: fmt.Sprintf("the context ended and the call did not stop within %v of its cancellation; it goes on in the background", cancelGrace)}
		}
	}
	if r.hr.Failed() {
		e := newError(op, id, r.hr, r.doc)
		if r.hr == HCS_E_CANCELLED {
			e.Err = ctxErr
		}
		return "", e
	}
	return r.doc, nil
}

// syncCall runs a synchronous call and, when it fails, fetches its ResultError with
// HcsGetErrorInfo on the same OS thread (the library keeps it per thread).
func syncCall(op, id string, call func() HRESULT) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if hr := call(); hr.Failed() {
		_, doc := HcsGetErrorInfo()
		return newError(op, id, hr, doc)
	}
	return nil
}
