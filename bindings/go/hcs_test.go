package hcs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The tests run against a private runtime and data root under a temporary folder, made in
// TestMain before the library reads them. The container tests need root and a busybox root
// folder made by tools/mkroot; without root they are skipped with the reason.

var (
	tmpDir   string
	rootfs   string // a busybox root folder, "" when not root
	rootSkip string // why the container tests are skipped, or ""
)

func TestMain(m *testing.M) {
	var err error
	tmpDir, err = os.MkdirTemp("", "hcs-go-test.")
	if err != nil {
		fmt.Fprintln(os.Stderr, "hcs test:", err)
		os.Exit(1)
	}
	os.Setenv("HCS_RUNTIME_ROOT", filepath.Join(tmpDir, "run"))
	os.Setenv("HCS_DATA_ROOT", filepath.Join(tmpDir, "data"))
	switch {
	case os.Geteuid() != 0:
		rootSkip = "needs root (compute systems use namespaces, cgroups and mounts)"
	default:
		rootfs = filepath.Join(tmpDir, "rootfs")
		if out, err := exec.Command("../../tools/mkroot", rootfs).CombinedOutput(); err != nil {
			rootSkip = fmt.Sprintf("tools/mkroot failed: %v: %s", err, out)
			rootfs = ""
		}
	}
	code := m.Run()
	os.RemoveAll(tmpDir)
	os.Exit(code)
}

func needRoot(t *testing.T) {
	t.Helper()
	if rootSkip != "" {
		t.Skip(rootSkip)
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// newSystem creates and starts a container over the busybox root; it is terminated and closed
// when the test ends.
func startSystem(t *testing.T, id string) *System {
	t.Helper()
	ctx := ctxT(t, 30*time.Second)
	s, err := CreateSystem(ctx, id, &ComputeSystem{
		Owner:     "go-test",
		Container: &Container{Storage: &Storage{Layers: []Layer{{Path: rootfs}}}},
	})
	if err != nil {
		t.Fatalf("CreateSystem: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Terminate(ctx); err != nil && !errors.Is(err, ErrAlreadyStopped) && !errors.Is(err, ErrInvalidHandle) {
			t.Errorf("Terminate %s: %v", id, err)
		}
		s.Close()
	})
	if err := s.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return s
}

// run starts args in s with the pipes asked for and returns the process.
func startProcess(t *testing.T, s *System, stdin bool, args ...string) *Process {
	t.Helper()
	p, err := s.CreateProcess(ctxT(t, 30*time.Second), &ProcessParameters{
		CommandArgs:      args,
		CreateStdInPipe:  stdin,
		CreateStdOutPipe: true,
		CreateStdErrPipe: true,
	})
	if err != nil {
		t.Fatalf("CreateProcess %q: %v", args, err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestResultCodes(t *testing.T) {
	if got := HCS_E_SYSTEM_NOT_FOUND.String(); got != "HCS_E_SYSTEM_NOT_FOUND" {
		t.Errorf("String() = %q", got)
	}
	if got := HCS_E_SYSTEM_NOT_FOUND.Error(); got != "HCS_E_SYSTEM_NOT_FOUND (0x8037010E)" {
		t.Errorf("Error() = %q", got)
	}
	if got := HRESULT(-1).String(); got != "HRESULT(0xFFFFFFFF)" {
		t.Errorf("unknown String() = %q", got)
	}
	if !E_FAIL.Failed() || S_FALSE.Failed() || !S_OK.Succeeded() {
		t.Error("Failed/Succeeded disagree with FAILED/SUCCEEDED")
	}
	if HcsEventSystemExited.String() != "HcsEventSystemExited" || HcsOperationTypeNone != -1 {
		t.Error("enumerators lost their names or values")
	}
	e := &HcsError{Op: "Start", ID: "x", HResult: HCS_E_PROCESS_ALREADY_STOPPED}
	if !errors.Is(e, ErrAlreadyStopped) || errors.Is(e, ErrSystemNotFound) || !errors.Is(e, HCS_E_PROCESS_ALREADY_STOPPED) {
		t.Error("errors.Is does not match by HRESULT")
	}
}

func TestServiceProperties(t *testing.T) {
	p, err := GetServiceProperties(ctxT(t, 10*time.Second), "Basic", "Host")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Properties) != 2 {
		t.Fatalf("got %d properties, want 2", len(p.Properties))
	}
	var basic BasicInformation
	var host HostInformation
	if err := json.Unmarshal(p.Properties[0], &basic); err != nil || len(basic.SupportedSchemaVersions) == 0 || basic.SupportedSchemaVersions[0].Major != 2 {
		t.Errorf("Basic = %s (%v)", p.Properties[0], err)
	}
	if err := json.Unmarshal(p.Properties[1], &host); err != nil || host.RuntimeRoot != filepath.Join(tmpDir, "run") {
		t.Errorf("Host = %s (%v), want RuntimeRoot %s", p.Properties[1], err, filepath.Join(tmpDir, "run"))
	}
	_, err = GetServiceProperties(ctxT(t, 10*time.Second), "CpuGroup")
	if !errors.Is(err, ErrInvalidArgument) && !errors.Is(err, ErrInvalidJSON) && !errors.Is(err, ErrNotImplemented) {
		t.Errorf("an unsupported property type gave %v", err)
	} else if !strings.Contains(err.Error(), "CpuGroup") {
		t.Errorf("the error does not name the property type: %v", err)
	}
}

func TestOpenMissingSystem(t *testing.T) {
	_, err := OpenSystem(ctxT(t, 10*time.Second), "go-test-no-such-system")
	if !errors.Is(err, ErrSystemNotFound) {
		t.Fatalf("OpenSystem of a missing id: %v, want ErrSystemNotFound", err)
	}
	var he *HcsError
	if !errors.As(err, &he) || he.ID != "go-test-no-such-system" || he.HResult != HCS_E_SYSTEM_NOT_FOUND || !strings.Contains(he.Message, "go-test-no-such-system") {
		t.Errorf("error %#v does not carry the id, HRESULT and message", err)
	}
}

func TestInvalidJSON(t *testing.T) {
	_, err := CreateSystem(ctxT(t, 10*time.Second), "go-test-bad-json",
		`{"Container":{"Storage":{"Layers":[{"Path":"/"}]},"Memory":{"SizeInMB":"lots"}}}`)
	if !errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("CreateSystem with a bad document: %v, want ErrInvalidJSON", err)
	}
	if !strings.Contains(err.Error(), "Container.Memory.SizeInMB") {
		t.Errorf("the error does not name the field path: %v", err)
	}
	_, err = EnumerateSystems(ctxT(t, 10*time.Second), &SystemQuery{Types: []string{"Toaster"}})
	if !errors.Is(err, ErrInvalidJSON) || !strings.Contains(err.Error(), "Types[0]") {
		t.Errorf("EnumerateSystems with a bad type: %v", err)
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := EnumerateSystems(ctx, nil)
	if !errors.Is(err, ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Errorf("a call with a cancelled context: %v", err)
	}
}

func TestContainer(t *testing.T) {
	needRoot(t)
	id := fmt.Sprintf("go-test-%d", os.Getpid())
	s := startSystem(t, id)

	var evMu sync.Mutex
	var events []Event
	exitedEvent := make(chan Event, 1)
	s.OnEvent(func(e Event) {
		evMu.Lock()
		events = append(events, e)
		evMu.Unlock()
		if e.Type == HcsEventSystemExited {
			exitedEvent <- e
		}
	})

	t.Run("stdout", func(t *testing.T) {
		p := startProcess(t, s, false, "echo", "hello from go")
		out, err := io.ReadAll(p.Stdout())
		if err != nil || string(out) != "hello from go\n" {
			t.Errorf("stdout = %q, %v", out, err)
		}
	})
	t.Run("exit code", func(t *testing.T) {
		p := startProcess(t, s, false, "sh", "-c", "echo oops >&2; exit 7")
		errOut, _ := io.ReadAll(p.Stderr())
		if err := p.Wait(ctxT(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		code, err := p.ExitCode()
		if err != nil || code != 7 {
			t.Errorf("ExitCode = %d, %v; want 7", code, err)
		}
		if string(errOut) != "oops\n" {
			t.Errorf("stderr = %q", errOut)
		}
	})
	t.Run("stdin round trip", func(t *testing.T) {
		p := startProcess(t, s, true, "cat")
		if _, err := io.WriteString(p.Stdin(), "ping\npong\n"); err != nil {
			t.Fatal(err)
		}
		if err := p.CloseStdin(ctxT(t, 5*time.Second)); err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(p.Stdout())
		if string(out) != "ping\npong\n" {
			t.Errorf("cat echoed %q", out)
		}
		if err := p.Wait(ctxT(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if code, _ := p.ExitCode(); code != 0 {
			t.Errorf("cat exited %d", code)
		}
	})
	t.Run("enumerate", func(t *testing.T) {
		list, err := EnumerateSystems(ctxT(t, 10*time.Second), &SystemQuery{Owners: []string{"go-test"}})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range list {
			found = found || (e.Id == id && e.State == "Running" && e.SystemType == "Container")
		}
		if !found {
			t.Errorf("%s not in %+v", id, list)
		}
	})
	t.Run("open by id", func(t *testing.T) {
		s2, err := OpenSystem(ctxT(t, 10*time.Second), id)
		if err != nil {
			t.Fatal(err)
		}
		defer s2.Close()
		if s2.ID() != id {
			t.Errorf("ID() = %q", s2.ID())
		}
	})
	t.Run("properties", func(t *testing.T) {
		p := startProcess(t, s, false, "sleep", "30")
		defer p.Kill(ctxT(t, 5*time.Second))
		props, err := s.Properties(ctxT(t, 10*time.Second), PropertyTypeStatistics, PropertyTypeProcessList)
		if err != nil {
			t.Fatal(err)
		}
		if props.Id != id || props.State != "Running" || props.Owner != "go-test" || props.Statistics == nil {
			t.Errorf("properties = %+v", props)
		}
		sleeping := false
		for _, pr := range props.ProcessList {
			sleeping = sleeping || (strings.Contains(pr.ImageName, "sleep") && int(pr.ProcessId) == p.Pid())
		}
		if !sleeping {
			t.Errorf("pid %d (sleep) not in ProcessList %+v", p.Pid(), props.ProcessList)
		}
	})
	t.Run("process wait timeout and kill", func(t *testing.T) {
		p := startProcess(t, s, false, "sleep", "30")
		err := p.Wait(ctxT(t, 200*time.Millisecond))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait with a short deadline: %v", err)
		}
		if err := p.Kill(ctxT(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(ctxT(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		st, err := p.ExitStatus()
		if err != nil || st.ExitCode != 137 || st.Signal != 9 {
			t.Errorf("killed process status %+v, %v", st, err)
		}
		if err := p.Kill(ctxT(t, 10*time.Second)); !errors.Is(err, ErrAlreadyStopped) {
			t.Errorf("second Kill: %v, want ErrAlreadyStopped", err)
		}
	})
	t.Run("signal", func(t *testing.T) {
		p := startProcess(t, s, false, "sh", "-c", "trap 'echo got-usr1; exit 3' USR1; echo ready; while :; do sleep 1; done")
		buf := make([]byte, 6)
		if _, err := io.ReadFull(p.Stdout(), buf); err != nil || string(buf) != "ready\n" {
			t.Fatalf("read %q, %v", buf, err)
		}
		if err := p.Signal(ctxT(t, 10*time.Second), 10); err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(p.Stdout())
		if err := p.Wait(ctxT(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		if code, _ := p.ExitCode(); code != 3 || !bytes.Contains(rest, []byte("got-usr1")) {
			t.Errorf("after SIGUSR1: exit %d, output %q", code, rest)
		}
	})
	t.Run("create duplicate id", func(t *testing.T) {
		_, err := CreateSystem(ctxT(t, 10*time.Second), id, &ComputeSystem{
			Container: &Container{Storage: &Storage{Layers: []Layer{{Path: rootfs}}}},
		})
		if !errors.Is(err, ErrSystemAlreadyExists) {
			t.Errorf("CreateSystem of an existing id: %v", err)
		}
	})
	t.Run("cancel shutdown", func(t *testing.T) {
		// A process that ignores SIGTERM keeps a graceful shutdown waiting for its grace period;
		// the context's deadline cancels the call through HcsCancelOperation.
		p := startProcess(t, s, false, "sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done")
		buf := make([]byte, 6)
		io.ReadFull(p.Stdout(), buf)
		grace := uint32(60)
		start := time.Now()
		err := s.ShutdownWithOptions(ctxT(t, 500*time.Millisecond), &ShutdownOptions{GracePeriodSeconds: &grace})
		if err == nil {
			t.Fatalf("Shutdown with a 60 s grace period returned nil within 500 ms")
		}
		// Either the library stopped the call (HCS_E_CANCELLED) or it is still waiting out the
		// grace period and the call was left to finish (HCS_E_OPERATION_PENDING).
		var he *HcsError
		if !errors.As(err, &he) || (he.HResult != HCS_E_CANCELLED && he.HResult != HCS_E_OPERATION_PENDING) ||
			!errors.Is(err, ErrCancelled) || !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, ErrTimeout) {
			t.Errorf("cancelled Shutdown: %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("cancelled Shutdown took %v", d)
		}
		t.Logf("cancelled Shutdown: %v after %v", err, time.Since(start).Round(time.Millisecond))
	})
	t.Run("terminate and events", func(t *testing.T) {
		if err := s.Terminate(ctxT(t, 30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := s.Wait(ctxT(t, 10*time.Second)); err != nil {
			t.Fatal(err)
		}
		st, err := s.ExitStatus()
		if err != nil || st.ExitType != "ForcedExit" {
			t.Errorf("ExitStatus = %+v, %v", st, err)
		}
		select {
		case e := <-exitedEvent:
			if !strings.Contains(e.Data, "ExitType") {
				t.Errorf("SystemExited event data %q", e.Data)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("no SystemExited event through the callback")
		}
		if err := s.Start(ctxT(t, 10*time.Second)); err == nil {
			t.Errorf("Start of a stopped system succeeded")
		}
	})
	t.Run("closed handle", func(t *testing.T) {
		s.Close()
		if err := s.Pause(ctxT(t, 5*time.Second)); !errors.Is(err, ErrInvalidHandle) {
			t.Errorf("Pause after Close: %v", err)
		}
		s.Close()
	})
}

// TestNothingLeftBehind runs last: every system the tests made is gone (a stopped system goes
// away with its last handle, which a call left to finish in the background may hold a moment).
func TestNothingLeftBehind(t *testing.T) {
	needRoot(t)
	var list []SystemSummary
	var left []os.DirEntry
	deadline := time.Now().Add(15 * time.Second)
	for {
		var err error
		list, err = EnumerateSystems(ctxT(t, 10*time.Second), nil)
		if err != nil {
			t.Fatal(err)
		}
		// The runtime root keeps one folder per system under systems/.
		left, err = os.ReadDir(filepath.Join(tmpDir, "run", "systems"))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if (len(list) == 0 && len(left) == 0) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(list) != 0 {
		t.Errorf("systems left: %+v", list)
	}
	for _, e := range left {
		t.Errorf("left in the runtime root: systems/%s", e.Name())
	}
}
