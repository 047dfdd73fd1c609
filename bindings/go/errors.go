package hcs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// HcsError is the error of a failed call: the operation, the compute system id it concerned,
// the HRESULT and the message of the library's ResultError document (which names the cause,
// for a document the JSON path of the offending field).
//
// errors.Is(err, ErrSystemNotFound) and the other sentinels match by HRESULT;
// errors.Is(err, hcs.HCS_E_SYSTEM_NOT_FOUND) matches one HRESULT exactly. When a call was
// cancelled through its context, Err is the context's error, so
// errors.Is(err, context.DeadlineExceeded) holds too.
type HcsError struct {
	Op      string  // the Go method: "CreateSystem", "Start", "CreateProcess", ...
	ID      string  // the compute system id, or "" when none is involved
	HResult HRESULT // the library's result code
	Message string  // the ResultError's ErrorMessage, or "" when the library gave none
	Err     error   // the context's error when the call was cancelled by it, else nil
}

func (e *HcsError) Error() string {
	var b strings.Builder
	b.WriteString("hcs: ")
	b.WriteString(e.Op)
	if e.ID != "" {
		fmt.Fprintf(&b, " %q", e.ID)
	}
	b.WriteString(": ")
	b.WriteString(e.HResult.Error())
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, " (%v)", e.Err)
	}
	return b.String()
}

// Unwrap returns the context error of a call cancelled by its context, or nil.
func (e *HcsError) Unwrap() error { return e.Err }

// Is matches an HRESULT exactly and the package's sentinel errors by their HRESULTs.
func (e *HcsError) Is(target error) bool {
	switch t := target.(type) {
	case HRESULT:
		return t == e.HResult
	case *sentinel:
		for _, c := range t.codes {
			if c == e.HResult {
				return true
			}
		}
		return t == ErrTimeout && errors.Is(e.Err, context.DeadlineExceeded) ||
			t == ErrCancelled && e.Err != nil
	}
	return false
}

type sentinel struct {
	msg   string
	codes []HRESULT
}

func (s *sentinel) Error() string { return s.msg }

// Sentinel errors for errors.Is, each standing for one or more HRESULTs.
var (
	ErrSystemNotFound      error = &sentinel{"hcs: compute system not found", []HRESULT{HCS_E_SYSTEM_NOT_FOUND}}
	ErrSystemAlreadyExists error = &sentinel{"hcs: compute system already exists", []HRESULT{HCS_E_SYSTEM_ALREADY_EXISTS}}
	ErrAlreadyStopped      error = &sentinel{"hcs: already stopped", []HRESULT{HCS_E_SYSTEM_ALREADY_STOPPED, HCS_E_PROCESS_ALREADY_STOPPED}}
	ErrInvalidState        error = &sentinel{"hcs: not valid in the current state", []HRESULT{HCS_E_INVALID_STATE}}
	ErrInvalidJSON         error = &sentinel{"hcs: invalid JSON document", []HRESULT{HCS_E_INVALID_JSON}}
	ErrInvalidArgument     error = &sentinel{"hcs: invalid argument", []HRESULT{E_INVALIDARG, E_POINTER}}
	ErrInvalidHandle       error = &sentinel{"hcs: invalid or closed handle", []HRESULT{E_HANDLE}}
	ErrAccessDenied        error = &sentinel{"hcs: access denied", []HRESULT{E_ACCESSDENIED, HCS_E_ACCESS_DENIED}}
	ErrNotImplemented      error = &sentinel{"hcs: not implemented", []HRESULT{E_NOTIMPL}}
	ErrNotSupported        error = &sentinel{"hcs: not supported", []HRESULT{HCS_E_NOT_SUPPORTED}}
	ErrFileNotFound        error = &sentinel{"hcs: file not found", []HRESULT{HCS_E_FILE_NOT_FOUND}}
	ErrAlreadyExists       error = &sentinel{"hcs: already exists", []HRESULT{HCS_E_ALREADY_EXISTS}}
	// ErrTimeout matches the library's timeouts and a call cancelled by its context's deadline.
	ErrTimeout error = &sentinel{"hcs: timeout", []HRESULT{HCS_E_OPERATION_TIMEOUT, HCS_E_WIN32_TIMEOUT, HCS_E_CONNECTION_TIMEOUT}}
	// ErrCancelled matches a call cancelled through HcsCancelOperation (by its context).
	ErrCancelled error = &sentinel{"hcs: cancelled", []HRESULT{HCS_E_CANCELLED, HCS_E_OPERATION_ALREADY_CANCELLED}}
)

// resultError is the library's ResultError document.
type resultError struct {
	Error        int32  `json:"Error"`
	ErrorMessage string `json:"ErrorMessage"`
}

// newError builds the error of a call that failed with hr; doc is its ResultError document
// (or another document, or "").
func newError(op, id string, hr HRESULT, doc string) *HcsError {
	e := &HcsError{Op: op, ID: id, HResult: hr}
	if doc != "" {
		var r resultError
		if json.Unmarshal([]byte(doc), &r) == nil && r.ErrorMessage != "" {
			e.Message = r.ErrorMessage
		} else {
			e.Message = doc
		}
	}
	return e
}
