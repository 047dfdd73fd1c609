package hcs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/cgo"
	"sync"
)

// Process is a process started in a compute system by System.CreateProcess. Its standard
// handles are the pipes asked for in ProcessParameters (CreateStd*Pipe), else nil.
type Process struct {
	system *System
	pid    int

	mu     sync.RWMutex // held for reading by calls using handle, for writing by Close
	handle HCS_PROCESS
	cb     cgo.Handle

	stdin          *os.File
	stdout, stderr *os.File

	exited   chan struct{}
	exitOnce sync.Once
	status   string // ProcessStatus document, set before exited is closed
}

// CreateProcess starts a process in the running system from params: a ProcessParameters, or a
// document as a string, []byte or json.RawMessage.
func (s *System) CreateProcess(ctx context.Context, params interface{}) (*Process, error) {
	doc, err := document(params)
	if err != nil {
		return nil, &HcsError{Op: "CreateProcess", ID: s.id, HResult: E_INVALIDARG, Message: fmt.Sprintf("cannot encode the parameters: %v", err)}
	}
	var ph HCS_PROCESS
	var info HCS_PROCESS_INFORMATION
	err = s.use("CreateProcess", func(h HCS_SYSTEM) error {
		_, err := track(ctx, "CreateProcess", s.id, false, func(o HCS_OPERATION) HRESULT {
			var hr HRESULT
			hr, ph = HcsCreateProcess(h, doc, o, 0)
			return hr
		}, func(o HCS_OPERATION) (HRESULT, string) {
			hr, pi, d := HcsWaitForOperationResultAndProcessInfo(o, HCS_INFINITE)
			info = pi
			return hr, d
		})
		return err
	})
	if err != nil {
		HcsCloseProcess(ph) // NULL is ignored
		return nil, err
	}
	p := &Process{system: s, pid: int(info.ProcessId), handle: ph, exited: make(chan struct{})}
	p.stdin = fdFile(info.StdInput, "stdin")
	p.stdout = fdFile(info.StdOutput, "stdout")
	p.stderr = fdFile(info.StdError, "stderr")
	p.cb = cgo.NewHandle(EventHandler(p.onEvent))
	if hr := HcsSetProcessCallback(ph, HcsEventOptionNone, uintptr(p.cb), EventCallback()); hr.Failed() {
		p.Close()
		return nil, newError("SetProcessCallback", s.id, hr, "")
	}
	// A process that exited before the callback was set sends no ProcessExited any more.
	if hr, st := HcsWaitForProcessExit(ph, 0); hr == S_OK {
		p.setExited(st)
	}
	return p, nil
}

func fdFile(fd int32, name string) *os.File {
	if fd < 0 {
		return nil
	}
	return os.NewFile(uintptr(fd), name)
}

func (p *Process) setExited(status string) {
	p.exitOnce.Do(func() {
		p.status = status
		close(p.exited)
	})
}

// onEvent runs on a library thread.
func (p *Process) onEvent(e HCS_EVENT) {
	if EventType(e.Type) == HcsEventProcessExited {
		p.setExited(e.EventData)
	}
}

// Pid returns the process id inside the compute system.
func (p *Process) Pid() int { return p.pid }

// Stdin returns the write end of the process's stdin pipe, or nil. Closing it ends the input.
func (p *Process) Stdin() io.WriteCloser {
	if p.stdin == nil {
		return nil
	}
	return p.stdin
}

// Stdout returns the read end of the process's stdout pipe, or nil.
func (p *Process) Stdout() io.ReadCloser {
	if p.stdout == nil {
		return nil
	}
	return p.stdout
}

// Stderr returns the read end of the process's stderr pipe, or nil.
func (p *Process) Stderr() io.ReadCloser {
	if p.stderr == nil {
		return nil
	}
	return p.stderr
}

func (p *Process) call(ctx context.Context, op string, start func(h HCS_PROCESS, o HCS_OPERATION) HRESULT) (string, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.handle.IsNil() {
		return "", &HcsError{Op: op, ID: p.system.id, HResult: E_HANDLE, Message: "the Process is closed"}
	}
	return track(ctx, op, p.system.id, true, func(o HCS_OPERATION) HRESULT { return start(p.handle, o) }, nil)
}

// Signal sends the POSIX signal sig to the process.
func (p *Process) Signal(ctx context.Context, sig int) error {
	opts := fmt.Sprintf(`{"Signal":%d}`, sig)
	_, err := p.call(ctx, "Signal", func(h HCS_PROCESS, o HCS_OPERATION) HRESULT {
		return HcsSignalProcess(h, o, opts)
	})
	return err
}

// Kill terminates the process (ErrAlreadyStopped once it has exited).
func (p *Process) Kill(ctx context.Context) error {
	_, err := p.call(ctx, "Kill", func(h HCS_PROCESS, o HCS_OPERATION) HRESULT {
		return HcsTerminateProcess(h, o, "")
	})
	return err
}

// ResizeConsole sets the size of the process's console (EmulateConsole).
func (p *Process) ResizeConsole(ctx context.Context, width, height uint16) error {
	req := fmt.Sprintf(`{"Operation":"ConsoleSize","ConsoleSize":{"Height":%d,"Width":%d}}`, height, width)
	_, err := p.call(ctx, "ResizeConsole", func(h HCS_PROCESS, o HCS_OPERATION) HRESULT {
		return HcsModifyProcess(h, o, req)
	})
	return err
}

// CloseStdin ends the process's input: closes the stdin pipe, or with a console asks the
// library to close it.
func (p *Process) CloseStdin(ctx context.Context) error {
	if p.stdin != nil {
		return p.stdin.Close()
	}
	_, err := p.call(ctx, "CloseStdin", func(h HCS_PROCESS, o HCS_OPERATION) HRESULT {
		return HcsModifyProcess(h, o, `{"Operation":"CloseHandle","CloseHandle":{"Handle":"StdIn"}}`)
	})
	return err
}

// Properties returns the process's ProcessStatus.
func (p *Process) Properties(ctx context.Context) (*ProcessStatus, error) {
	doc, err := p.call(ctx, "ProcessProperties", func(h HCS_PROCESS, o HCS_OPERATION) HRESULT {
		return HcsGetProcessProperties(h, o, "")
	})
	if err != nil {
		return nil, err
	}
	var st ProcessStatus
	if err := json.Unmarshal([]byte(doc), &st); err != nil {
		return nil, fmt.Errorf("hcs: ProcessProperties %q: cannot decode %q: %w", p.system.id, doc, err)
	}
	return &st, nil
}

// Wait blocks until the process has exited or ctx ends (then it returns ctx's error).
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("hcs: Wait for process %d in %q: %w", p.pid, p.system.id, ctx.Err())
	}
}

// ExitStatus returns the ProcessStatus of the exited process; it fails before the exit.
func (p *Process) ExitStatus() (*ProcessStatus, error) {
	select {
	case <-p.exited:
	default:
		return nil, &HcsError{Op: "ExitCode", ID: p.system.id, HResult: HCS_E_INVALID_STATE, Message: fmt.Sprintf("process %d has not exited", p.pid)}
	}
	var st ProcessStatus
	if err := json.Unmarshal([]byte(p.status), &st); err != nil {
		return nil, fmt.Errorf("hcs: ExitCode %q: cannot decode %q: %w", p.system.id, p.status, err)
	}
	return &st, nil
}

// ExitCode returns the exit code of the exited process (128+n when signal n killed it).
func (p *Process) ExitCode() (int, error) {
	st, err := p.ExitStatus()
	if err != nil {
		return -1, err
	}
	return st.ExitCode, nil
}

// Close releases the process handle (the library call that stops callbacks first, then the
// callback's cgo.Handle) and closes the standard handles not closed yet. Closing twice is a
// no-op. It does not kill the process.
func (p *Process) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.handle.IsNil() {
		return nil
	}
	HcsCloseProcess(p.handle)
	p.handle = HCS_PROCESS{}
	if p.cb != 0 {
		p.cb.Delete()
	}
	for _, f := range []*os.File{p.stdin, p.stdout, p.stderr} {
		if f != nil {
			f.Close() // may be closed by the user already
		}
	}
	return nil
}
