package stack

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// ProcessLog is the name, in the run directory, of the file that receives a
// process stack's stdout and stderr.
const ProcessLog = "process.log"

// Options say where a stack may keep files.
type Options struct {
	// Dir is the run directory: a process stack writes ProcessLog there.
	// "" discards the process's output (its last lines still go into
	// errors).
	Dir string
}

// StartWith is Start with options (the run directory for a process
// stack's log).
func StartWith(ctx context.Context, sc *scenario.Scenario, opt Options) (Stack, error) {
	if sc.Stack.Kind == scenario.StackProcess {
		return StartProcess(ctx, sc, opt)
	}
	return Start(ctx, sc)
}

// Process is a stack the harness started as a command: a Daphne serving a
// Django project, or anything else that serves the contract on a port. It
// runs in its own process group, so Close stops it and everything it
// started: SIGTERM to the group, SIGKILL after the grace period. On Linux
// the kernel also kills it if the harness dies without Close.
type Process struct {
	cmd   *exec.Cmd
	port  int
	rest  string
	ws    string
	desc  string
	grace time.Duration
	out   *procOutput

	exited  chan struct{} // closed when the process has been waited for
	waitErr error

	mu       sync.Mutex
	stopping bool
	closed   bool
	closeErr error
}

// StartProcess starts the scenario's process stack on a free loopback port
// and waits until its ready path answers 200. It fails, and leaves nothing
// running, when the process exits first, ctx is done or the ready timeout
// passes; the error then carries the process's last output.
func StartProcess(ctx context.Context, sc *scenario.Scenario, opt Options) (*Process, error) {
	st := &sc.Stack
	if len(st.Command) == 0 {
		return nil, sc.Errorf("stack.command", "missing: the command that serves the stack")
	}
	port, err := loopbackPort()
	if err != nil {
		return nil, fmt.Errorf("choosing a port for the process stack: %w", err)
	}
	expand := func(s string) string { return strings.ReplaceAll(s, scenario.Port, strconv.Itoa(port)) }
	argv := make([]string, len(st.Command))
	for i, a := range st.Command {
		argv[i] = expand(a)
	}
	p := &Process{
		port: port, rest: strings.TrimRight(expand(st.REST), "/"), ws: expand(st.WS),
		grace: st.StopGrace.D(), exited: make(chan struct{}),
	}
	dir := sc.Dir
	if st.Dir != "" {
		dir = sc.Path(st.Dir)
	}
	if dir == "" {
		dir = "."
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	if cmd.Err != nil { // not found in PATH
		return nil, sc.Errorf("stack.command[0]", "%v", cmd.Err)
	}
	cmd.Dir = dir
	cmd.Env = os.Environ()
	names := make([]string, 0, len(st.Env))
	for k := range st.Env {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		cmd.Env = append(cmd.Env, k+"="+expand(st.Env[k]))
	}
	if p.out, err = newProcOutput(opt.Dir); err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		p.out.Close()
		return nil, fmt.Errorf("starting the process stack %q in %s: %w", argv[0], dir, err)
	}
	p.cmd = cmd
	p.desc = fmt.Sprintf("process %s (pid %d, port %d)", strings.Join(argv, " "), cmd.Process.Pid, port)
	go func() {
		p.waitErr = cmd.Wait()
		p.out.Close()
		close(p.exited)
	}()
	if err := p.waitReady(ctx, p.rest+st.Ready, st.ReadyTimeout.D()); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// waitReady polls url until it answers 200.
func (p *Process) waitReady(ctx context.Context, url string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	last := "no answer yet"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = "status " + resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-p.exited:
			return fmt.Errorf("the process stack exited before it was ready (%v)%s", p.waitErr, p.out.tailNote())
		case <-ctx.Done():
			return fmt.Errorf("waiting for the process stack: %w", ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("the process stack was not ready within %s: %s did not answer 200 (%s)%s", timeout, url, last, p.out.tailNote())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// REST is the REST base, e.g. http://127.0.0.1:41234.
func (p *Process) REST() string { return p.rest }

// WS is the WebSocket URL.
func (p *Process) WS() string { return p.ws }

// Describe names the command, its pid and port.
func (p *Process) Describe() string { return p.desc }

// CPUTime is the CPU time of the stack's process group so far (its
// processes, and the children they reaped).
func (p *Process) CPUTime(context.Context) (time.Duration, error) {
	return groupCPU(p.cmd.Process.Pid)
}

// CPUSource says what CPUTime measures.
func (p *Process) CPUSource() string {
	return fmt.Sprintf("process group %d, read from /proc", p.cmd.Process.Pid)
}

// Port is the port the harness chose for the process.
func (p *Process) Port() int { return p.port }

// Pid is the process's id (and its process group's).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Close stops the process group: SIGTERM, then SIGKILL once the grace
// period has passed, and waits for the process. It returns an error when
// the process had exited on its own before (a crash during the run), and
// may be called more than once.
func (p *Process) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return p.closeErr
	}
	p.closed = true
	select {
	case <-p.exited:
		p.closeErr = fmt.Errorf("the process stack exited during the run (%v)%s", p.waitErr, p.out.tailNote())
		killGroup(p.cmd.Process, true) // whatever it left behind in its group
		return p.closeErr
	default:
	}
	killGroup(p.cmd.Process, false)
	t := time.NewTimer(p.grace)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
	}
	// The leader may be gone and have left children in its group: SIGKILL
	// reaches them too (and the leader, if it ignored SIGTERM).
	killGroup(p.cmd.Process, true)
	<-p.exited
	return nil
}

func loopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// procOutput receives the process's stdout and stderr: into the log file
// (when there is a run directory) and a small ring of the last bytes, for
// error messages.
type procOutput struct {
	mu   sync.Mutex
	f    *os.File
	tail []byte
}

const tailSize = 2 << 10

func newProcOutput(dir string) (*procOutput, error) {
	o := &procOutput{}
	if dir != "" {
		f, err := os.OpenFile(filepath.Join(dir, ProcessLog), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, fmt.Errorf("creating the process log: %w", err)
		}
		o.f = f
	}
	return o, nil
}

func (o *procOutput) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f != nil {
		if _, err := o.f.Write(b); err != nil {
			o.f.Close()
			o.f = nil // keep the process running; the tail still works
		}
	}
	o.tail = append(o.tail, b...)
	if len(o.tail) > 2*tailSize {
		o.tail = append(o.tail[:0], o.tail[len(o.tail)-tailSize:]...)
	}
	return len(b), nil
}

func (o *procOutput) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f == nil {
		return nil
	}
	err := o.f.Close()
	o.f = nil
	return err
}

// tailNote is the process's last output, for an error message.
func (o *procOutput) tailNote() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.tail
	if len(t) > tailSize {
		t = t[len(t)-tailSize:]
	}
	s := strings.TrimSpace(strings.ToValidUTF8(string(t), "\uFFFD"))
	if s == "" {
		return "; it wrote nothing"
	}
	return "; its last output:\n" + s
}
