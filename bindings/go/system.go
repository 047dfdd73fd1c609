package hcs

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/cgo"
	"sync"
)

// System is a compute system handle, in the shape hcsshim users know. All its methods may be
// called from any goroutine. Calls that take a context.Context are cancelled through
// HcsCancelOperation when the context ends (see track); Close releases the handle.
type System struct {
	id string

	mu     sync.RWMutex // held for reading by calls using handle, for writing by Close
	handle HCS_SYSTEM
	cb     cgo.Handle

	exited     chan struct{} // closed when the system has stopped
	exitOnce   sync.Once
	exitStatus string // SystemExitStatus document, set before exited is closed

	hmu     sync.Mutex // guards handler; never held by Close
	handler func(Event)
}

// Event is an event of a system or process handle.
type Event struct {
	Type EventType
	// Data is the event's JSON document (SystemExitStatus, ProcessStatus), or "".
	Data string
}

// CreateSystem creates (does not start) the compute system id from doc: a ComputeSystem, or a
// document as a string, []byte or json.RawMessage.
func CreateSystem(ctx context.Context, id string, doc interface{}) (*System, error) {
	config, err := document(doc)
	if err != nil {
		return nil, &HcsError{Op: "CreateSystem", ID: id, HResult: E_INVALIDARG, Message: fmt.Sprintf("cannot encode the document: %v", err)}
	}
	var handle HCS_SYSTEM
	_, err = track(ctx, "CreateSystem", id, false, func(o HCS_OPERATION) HRESULT {
		var hr HRESULT
		hr, handle = HcsCreateComputeSystem(id, config, o, 0)
		return hr
	}, nil)
	if err != nil {
		HcsCloseComputeSystem(handle) // NULL is ignored
		return nil, err
	}
	s, err := newSystem(id, handle)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// OpenSystem opens the existing compute system id.
func OpenSystem(ctx context.Context, id string) (*System, error) {
	if err := ctx.Err(); err != nil {
		return nil, &HcsError{Op: "OpenSystem", ID: id, HResult: HCS_E_CANCELLED, Err: err}
	}
	var handle HCS_SYSTEM
	if err := syncCall("OpenSystem", id, func() HRESULT {
		var hr HRESULT
		hr, handle = HcsOpenComputeSystem(id, HCS_GENERIC_ALL)
		return hr
	}); err != nil {
		return nil, err
	}
	return newSystem(id, handle)
}

// newSystem wraps handle and registers the event callback that tracks the system's exit.
func newSystem(id string, handle HCS_SYSTEM) (*System, error) {
	s := &System{id: id, handle: handle, exited: make(chan struct{})}
	s.cb = cgo.NewHandle(EventHandler(s.onEvent))
	if hr := HcsSetComputeSystemCallback(handle, HcsEventOptionNone, uintptr(s.cb), EventCallback()); hr.Failed() {
		HcsCloseComputeSystem(handle)
		s.cb.Delete()
		return nil, newError("SetComputeSystemCallback", id, hr, "")
	}
	// A system that stopped before the callback was set sends no SystemExited any more.
	if hr, doc := HcsWaitForComputeSystemExit(handle, 0); hr == S_OK {
		s.setExited(doc)
	}
	return s, nil
}

func (s *System) setExited(status string) {
	s.exitOnce.Do(func() {
		s.exitStatus = status
		close(s.exited)
	})
}

// onEvent runs on a library thread.
func (s *System) onEvent(e HCS_EVENT) {
	if EventType(e.Type) == HcsEventSystemExited {
		s.setExited(e.EventData)
	}
	s.hmu.Lock()
	h := s.handler
	s.hmu.Unlock()
	if h != nil {
		h(Event{Type: EventType(e.Type), Data: e.EventData})
	}
}

// OnEvent sets a function that receives every event of the system (SystemExited, ...), on a
// library thread; nil removes it. It must not call Close on this System.
func (s *System) OnEvent(fn func(Event)) {
	s.hmu.Lock()
	s.handler = fn
	s.hmu.Unlock()
}

// ID returns the compute system's id.
func (s *System) ID() string { return s.id }

// use runs fn with the handle held open, or fails with E_HANDLE once the System is closed.
func (s *System) use(op string, fn func(h HCS_SYSTEM) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.handle.IsNil() {
		return &HcsError{Op: op, ID: s.id, HResult: E_HANDLE, Message: "the System is closed"}
	}
	return fn(s.handle)
}

// call runs one tracked call on the system and returns its result document.
func (s *System) call(ctx context.Context, op string, start func(h HCS_SYSTEM, o HCS_OPERATION) HRESULT) (string, error) {
	var doc string
	err := s.use(op, func(h HCS_SYSTEM) error {
		var err error
		doc, err = track(ctx, op, s.id, true, func(o HCS_OPERATION) HRESULT { return start(h, o) }, nil)
		return err
	})
	return doc, err
}

// Start starts the created system.
func (s *System) Start(ctx context.Context) error {
	_, err := s.call(ctx, "Start", func(h HCS_SYSTEM, o HCS_OPERATION) HRESULT {
		return HcsStartComputeSystem(h, o, "")
	})
	return err
}

// Shutdown stops the system gracefully (SIGTERM, SIGKILL after the grace period of 10 s).
func (s *System) Shutdown(ctx context.Context) error {
	return s.ShutdownWithOptions(ctx, nil)
}

// ShutdownWithOptions is Shutdown with ShutdownOptions (nil: the defaults).
func (s *System) ShutdownWithOptions(ctx context.Context, options *ShutdownOptions) error {
	opts := ""
	if options != nil {
		b, err := json.Marshal(options)
		if err != nil {
			return err
		}
		opts = string(b)
	}
	_, err := s.call(ctx, "Shutdown", func(h HCS_SYSTEM, o HCS_OPERATION) HRESULT {
		return HcsShutDownComputeSystem(h, o, opts)
	})
	return err
}

// Terminate kills every process of the system at once.
func (s *System) Terminate(ctx context.Context) error {
	_, err := s.call(ctx, "Terminate", func(h HCS_SYSTEM, o HCS_OPERATION) HRESULT {
		return HcsTerminateComputeSystem(h, o, "")
	})
	return err
}

// Pause freezes every process of the system.
func (s *System) Pause(ctx context.Context) error {
	_, err := s.call(ctx, "Pause", func(h HCS_SYSTEM, o HCS_OPERATION) HRESULT {
		return HcsPauseComputeSystem(h, o, "")
	})
	return err
}

// Resume thaws a paused system.
func (s *System) Resume(ctx context.Context) error {
	_, err := s.call(ctx, "Resume", func(h HCS_SYSTEM, o HCS_OPERATION) HRESULT {
		return HcsResumeComputeSystem(h, o, "")
	})
	return err
}

// Properties returns the system's properties, with the groups asked for.
func (s *System) Properties(ctx context.Context, types ...PropertyType) (*Properties, error) {
	query := ""
	if len(types) > 0 {
		b, _ := json.Marshal(PropertyQuery{PropertyTypes: types})
		query = string(b)
	}
	doc, err := s.call(ctx, "Properties", func(h HCS_SYSTEM, o HCS_OPERATION) HRESULT {
		return HcsGetComputeSystemProperties(h, o, query)
	})
	if err != nil {
		return nil, err
	}
	var p Properties
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, fmt.Errorf("hcs: Properties %q: cannot decode %q: %w", s.id, doc, err)
	}
	return &p, nil
}

// Modify applies a ModifySettingRequest (or a document as a string, []byte or RawMessage).
func (s *System) Modify(ctx context.Context, request interface{}) error {
	doc, err := document(request)
	if err != nil {
		return &HcsError{Op: "Modify", ID: s.id, HResult: E_INVALIDARG, Message: fmt.Sprintf("cannot encode the request: %v", err)}
	}
	_, err = s.call(ctx, "Modify", func(h HCS_SYSTEM, o HCS_OPERATION) HRESULT {
		return HcsModifyComputeSystem(h, o, doc, 0)
	})
	return err
}

// Wait blocks until the system has stopped or ctx ends (then it returns ctx's error).
func (s *System) Wait(ctx context.Context) error {
	select {
	case <-s.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("hcs: Wait %q: %w", s.id, ctx.Err())
	}
}

// ExitStatus returns how the system stopped; it fails while the system has not stopped.
func (s *System) ExitStatus() (*SystemExitStatus, error) {
	select {
	case <-s.exited:
	default:
		return nil, &HcsError{Op: "ExitStatus", ID: s.id, HResult: HCS_E_INVALID_STATE, Message: "the system has not stopped"}
	}
	var st SystemExitStatus
	if err := json.Unmarshal([]byte(s.exitStatus), &st); err != nil {
		return nil, fmt.Errorf("hcs: ExitStatus %q: cannot decode %q: %w", s.id, s.exitStatus, err)
	}
	return &st, nil
}

// Close releases the handle: first the library call after which no callback runs, then the
// callback's cgo.Handle. It waits for calls in progress on this System. Closing twice is a
// no-op.
func (s *System) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handle.IsNil() {
		return nil
	}
	HcsCloseComputeSystem(s.handle)
	s.handle = HCS_SYSTEM{}
	s.cb.Delete()
	return nil
}

// EnumerateSystems lists the compute systems matching query (nil: all of them).
func EnumerateSystems(ctx context.Context, query *SystemQuery) ([]SystemSummary, error) {
	q := ""
	if query != nil {
		b, err := json.Marshal(query)
		if err != nil {
			return nil, err
		}
		q = string(b)
	}
	doc, err := track(ctx, "EnumerateSystems", "", true, func(o HCS_OPERATION) HRESULT {
		return HcsEnumerateComputeSystems(q, o)
	}, nil)
	if err != nil {
		return nil, err
	}
	var list []SystemSummary
	if err := json.Unmarshal([]byte(doc), &list); err != nil {
		return nil, fmt.Errorf("hcs: EnumerateSystems: cannot decode %q: %w", doc, err)
	}
	return list, nil
}

// GetServiceProperties returns the service properties of the types asked for ("Basic",
// "Host"; none: both). Decode each element with BasicInformation / HostInformation.
func GetServiceProperties(ctx context.Context, types ...string) (*ServiceProperties, error) {
	if err := ctx.Err(); err != nil {
		return nil, &HcsError{Op: "GetServiceProperties", HResult: HCS_E_CANCELLED, Err: err}
	}
	query := ""
	if len(types) > 0 {
		b, _ := json.Marshal(struct{ PropertyTypes []string }{types})
		query = string(b)
	}
	hr, doc := HcsGetServiceProperties(query)
	if hr.Failed() {
		return nil, newError("GetServiceProperties", "", hr, doc)
	}
	var p ServiceProperties
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, fmt.Errorf("hcs: GetServiceProperties: cannot decode %q: %w", doc, err)
	}
	return &p, nil
}

// ModifyServiceSettings applies a ModificationRequest ({"PropertyType": "Logging"|"Roots",
// "Settings": {...}}), given as a value or a document.
func ModifyServiceSettings(ctx context.Context, request interface{}) error {
	if err := ctx.Err(); err != nil {
		return &HcsError{Op: "ModifyServiceSettings", HResult: HCS_E_CANCELLED, Err: err}
	}
	doc, err := document(request)
	if err != nil {
		return err
	}
	hr, result := HcsModifyServiceSettings(doc)
	if hr.Failed() {
		return newError("ModifyServiceSettings", "", hr, result)
	}
	return nil
}
