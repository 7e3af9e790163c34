package stack_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/scenario"
	"github.com/thor-trading/cutover-harness/harness/stack"
)

// TestProcessHelper is the process the process-stack tests start: this test
// binary, told by STACK_PROCESS_HELPER what to be. It is no test of its own.
func TestProcessHelper(t *testing.T) {
	mode := os.Getenv("STACK_PROCESS_HELPER")
	if mode == "" {
		return
	}
	args := flagArgs()
	port := args[0]
	switch mode {
	case "exit":
		fmt.Fprintln(os.Stderr, "boom: the settings are wrong")
		os.Exit(3)
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
	}
	wd, _ := os.Getwd()
	fmt.Printf("helper: port %s, cwd %s, HELPER_URL %s\n", port, wd, os.Getenv("HELPER_URL"))
	// A child in the same process group, as Daphne's workers would be.
	child := exec.Command("sleep", "300")
	if err := child.Start(); err == nil {
		fmt.Printf("helper: child %d\n", child.Process.Pid)
	}
	status := http.StatusOK
	if mode == "never-ready" {
		status = http.StatusServiceUnavailable
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) })
	http.HandleFunc("/burn", func(w http.ResponseWriter, _ *http.Request) {
		// 300ms of CPU, whatever the machine is busy with.
		for start := cpuNow(); cpuNow()-start < 300*time.Millisecond; {
		}
	})
	fmt.Fprintln(os.Stderr, "helper: serving")
	err := http.ListenAndServe("127.0.0.1:"+port, nil)
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// sessionFixture is a session file for the scenarios below (the process
// stacks here are never fed).
var sessionFixture, _ = filepath.Abs("../../fixtures/sessions/rth-short.jsonl")

func flagArgs() []string {
	for i, a := range os.Args {
		if a == "--" {
			return os.Args[i+1:]
		}
	}
	return nil
}

// processScenario is a scenario whose process stack is the helper in mode.
func processScenario(t *testing.T, mode, extra string) *scenario.Scenario {
	t.Helper()
	dir := t.TempDir()
	src := fmt.Sprintf(`profile: thor
session: %s
features: {positions: {}}
stack:
  kind: process
  command: [%q, "-test.run=^TestProcessHelper$", "--", "{port}"]
  env: {STACK_PROCESS_HELPER: %s, HELPER_URL: "http://x:{port}/"}
  dir: %q
%s`, sessionFixture, os.Args[0], mode, dir, extra)
	sc, err := scenario.Parse(filepath.Join(dir, "process.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

// childPid reads the helper's child's pid from its log.
func childPid(t *testing.T, log []byte) int {
	t.Helper()
	for _, line := range strings.Split(string(log), "\n") {
		if s, ok := strings.CutPrefix(line, "helper: child "); ok {
			pid, _ := strconv.Atoi(s)
			return pid
		}
	}
	t.Fatalf("no child pid in the log:\n%s", log)
	return 0
}

func TestProcessStack(t *testing.T) {
	sc := processScenario(t, "serve", "")
	runDir := t.TempDir()
	st, err := stack.StartWith(context.Background(), sc, stack.Options{Dir: runDir})
	if err != nil {
		t.Fatal(err)
	}
	p := st.(*stack.Process)
	port := strconv.Itoa(p.Port())
	if st.REST() != "http://127.0.0.1:"+port || st.WS() != "ws://127.0.0.1:"+port+"/ws/dashboard/" {
		t.Errorf("REST %s, WS %s: want port %s", st.REST(), st.WS(), port)
	}
	if !strings.Contains(st.Describe(), "pid "+strconv.Itoa(p.Pid())) {
		t.Errorf("Describe() = %q", st.Describe())
	}
	cpu0, err := p.CPUTime(context.Background())
	if err != nil {
		t.Fatalf("CPUTime: %v", err)
	}
	resp, err := http.Get(st.REST() + "/burn")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("burn: %v %v", resp, err)
	}
	resp.Body.Close()
	// The helper burned 300ms of CPU; /proc counts in 10ms ticks.
	if cpu1, err := p.CPUTime(context.Background()); err != nil || cpu1-cpu0 < 250*time.Millisecond {
		t.Errorf("CPUTime went from %v to %v (%v) around 300ms of burning", cpu0, cpu1, err)
	}
	if src := p.CPUSource(); !strings.Contains(src, "process group "+strconv.Itoa(p.Pid())) {
		t.Errorf("CPUSource() = %q", src)
	}
	resp, err = http.Get(st.REST() + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close again: %v", err)
	}
	log, err := os.ReadFile(filepath.Join(runDir, stack.ProcessLog))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"helper: port " + port, "cwd " + sc.Path(sc.Stack.Dir), "HELPER_URL http://x:" + port + "/", "helper: serving"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("process.log lacks %q:\n%s", want, log)
		}
	}
	if alive(p.Pid()) {
		t.Error("the process outlived Close")
	}
	child := childPid(t, log)
	waitGone(t, child)
}

// waitGone waits until pid is gone (reaped by init once killed).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for alive(pid) {
		// A killed child of an exited parent lingers as a zombie until
		// init reaps it; a zombie is dead.
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && strings.Contains(string(st), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d (in the stack's process group) outlived Close", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestProcessStackKilledAfterGrace(t *testing.T) {
	sc := processScenario(t, "ignore-term", "  stop_grace: 300ms\n")
	runDir := t.TempDir()
	st, err := stack.StartWith(context.Background(), sc, stack.Options{Dir: runDir})
	if err != nil {
		t.Fatal(err)
	}
	p := st.(*stack.Process)
	t0 := time.Now()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 300*time.Millisecond || d > 5*time.Second {
		t.Errorf("Close took %s: want the grace period, then SIGKILL", d)
	}
	if alive(p.Pid()) {
		t.Error("the process outlived Close")
	}
	log, _ := os.ReadFile(filepath.Join(runDir, stack.ProcessLog))
	waitGone(t, childPid(t, log))
}

func TestProcessStackStartFailures(t *testing.T) {
	for _, tc := range []struct {
		name, mode, extra string
		timeout           time.Duration
		want              []string
	}{
		{"exits at once", "exit", "", time.Minute, []string{"exited before it was ready", "exit status 3", "boom: the settings are wrong"}},
		{"never ready", "never-ready", "  ready_timeout: 1s\n", time.Minute, []string{"not ready within 1s", "/healthz did not answer 200", "503", "helper: serving"}},
		{"interrupted", "never-ready", "", 700 * time.Millisecond, []string{"waiting for the process stack", "deadline exceeded"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := processScenario(t, tc.mode, tc.extra)
			runDir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), tc.timeout)
			defer cancel()
			st, err := stack.StartWith(ctx, sc, stack.Options{Dir: runDir})
			if err == nil {
				st.Close()
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			// Nothing is left running: the port is free again.
			log, _ := os.ReadFile(filepath.Join(runDir, stack.ProcessLog))
			if strings.Contains(string(log), "helper: child ") {
				waitGone(t, childPid(t, log))
			}
		})
	}
}

func TestProcessStackCommandNotFound(t *testing.T) {
	dir := t.TempDir()
	src := "profile: thor\nsession: " + sessionFixture + "\nfeatures: {positions: {}}\nstack: {kind: process, command: [no-such-program-here]}\n"
	sc, err := scenario.Parse(filepath.Join(dir, "p.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, err = stack.StartWith(context.Background(), sc, stack.Options{Dir: dir})
	var se *scenario.Error
	if !errors.As(err, &se) || se.Field != "stack.command[0]" {
		t.Fatalf("err = %v: want a scenario error about stack.command[0]", err)
	}
}

// The port the harness chooses is free: a second stack gets another.
func TestProcessStackPorts(t *testing.T) {
	a, err := stack.StartWith(context.Background(), processScenario(t, "serve", ""), stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := stack.StartWith(context.Background(), processScenario(t, "serve", ""), stack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if a.REST() == b.REST() {
		t.Fatalf("two stacks on %s", a.REST())
	}
	if _, err := net.Dial("tcp", strings.TrimPrefix(b.REST(), "http://")); err != nil {
		t.Fatal(err)
	}
}

// cpuNow is this process's CPU time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
