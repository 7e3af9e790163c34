package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/capture"
)

// signalBinaries builds cmd/harness and cmd/thorstack into dir.
func signalBinaries(t *testing.T, dir string) (harness, thorstack string) {
	t.Helper()
	for _, cmd := range []string{"harness", "thorstack"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, cmd), "../../cmd/"+cmd).CombinedOutput()
		if err != nil {
			t.Fatalf("building %s: %v\n%s", cmd, err, out)
		}
	}
	return filepath.Join(dir, "harness"), filepath.Join(dir, "thorstack")
}

// signalScenario is shadow.yaml at real time (the 30-minute session cannot
// end before the signal), optionally on a process stack running thorstack.
func signalScenario(t *testing.T, thorstack string) string {
	t.Helper()
	p := fastShadow(t, "")
	src, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(src), "speed: max", "speed: 1x", 1)
	if thorstack != "" {
		s = strings.Replace(s, "kind: embedded", fmt.Sprintf("kind: process\n  command: [%q, --replay, --addr, \"127.0.0.1:{port}\"]\n  stop_grace: 2s", thorstack), 1)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startRun starts `harness run` and waits until its capture has records
// from the stack and about two seconds have passed.
func startRun(t *testing.T, bin, sc, out string) (*exec.Cmd, *bytes.Buffer, chan error) {
	t.Helper()
	cmd := exec.Command(bin, "run", sc, "--out", out)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	cmd.Env = append(os.Environ(), "CI=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		fi, err := os.Stat(filepath.Join(out, capture.FileName))
		if err == nil && fi.Size() > 4<<10 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("harness run ended before the signal: %v\n%s", err, output.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no capture after 30 s:\n%s", output.String())
		}
	}
	time.Sleep(2 * time.Second)
	return cmd, &output, done
}

// waitExit waits for the process to exit within limit and returns its
// exit code (-1 for a signal).
func waitExit(t *testing.T, done chan error, limit time.Duration, output *bytes.Buffer) int {
	t.Helper()
	select {
	case err := <-done:
		done <- err // for the cleanup
		var ee *exec.ExitError
		if err == nil {
			return 0
		}
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		t.Fatalf("waiting: %v", err)
	case <-time.After(limit):
		t.Fatalf("harness did not stop within %s of the signal:\n%s", limit, output.String())
	}
	return 0
}

type signalReport struct {
	Verdict    string
	Incomplete bool
	Reasons    []string
	Source     struct{ Ended string }
}

func readSignalReport(t *testing.T, dir string) signalReport {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r signalReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut after ')'.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, n)
		}
	}
	return out
}

// alive reports whether pid is a live process (not gone, not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// diffAgain runs `harness diff` on the run directory in-process: the
// capture must be readable and the verdict INCONCLUSIVE, INCOMPLETE.
func diffAgain(t *testing.T, dir string) {
	t.Helper()
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "diff", dir, "--out", out)
	if code != ExitInconclusive {
		t.Fatalf("harness diff of the interrupted run: exit %d, want %d\n%s\n%s", code, ExitInconclusive, stdout, stderr)
	}
	if r := readSignalReport(t, out); !r.Incomplete || r.Verdict != "INCONCLUSIVE" {
		t.Fatalf("harness diff: incomplete=%v verdict %s, want INCOMPLETE, INCONCLUSIVE: %q", r.Incomplete, r.Verdict, r.Reasons)
	}
}

// TestSignals runs the real binary (built into the test's directory) and
// stops it with a signal while it replays at real time:
//
//   - SIGINT or SIGTERM stops it within a few seconds with exit 3, a report
//     marked INCOMPLETE and INCONCLUSIVE, a capture `harness diff` reads,
//     and nothing left running of what the run started (a process stack's
//     whole group is gone);
//   - SIGKILL leaves no report, but a capture that reads up to the last
//     complete record: `harness diff` reports the run INCOMPLETE and
//     INCONCLUSIVE (exit 3); a process stack dies with the harness;
//   - a second signal (SIGINT, then SIGTERM) exits at once with 130, the
//     same otherwise as SIGKILL.
func TestSignals(t *testing.T) {
	bin, thorstack := signalBinaries(t, t.TempDir())
	for _, tc := range []struct {
		name    string
		sig     syscall.Signal
		process bool // a process stack: its process group must be gone
		twice   bool // the signal sent twice: exit at once, 130
	}{
		{"SIGINT embedded", syscall.SIGINT, false, false},
		{"SIGTERM embedded", syscall.SIGTERM, false, false},
		{"SIGINT process stack", syscall.SIGINT, true, false},
		{"SIGTERM process stack", syscall.SIGTERM, true, false},
		{"SIGKILL process stack", syscall.SIGKILL, true, false},
		{"SIGINT then SIGTERM process stack", syscall.SIGINT, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := ""
			if tc.process {
				ts = thorstack
			}
			out := filepath.Join(t.TempDir(), "run")
			cmd, output, done := startRun(t, bin, signalScenario(t, ts), out)
			kids := children(cmd.Process.Pid)
			if tc.process && len(kids) == 0 {
				t.Fatalf("the process stack is not a child of the harness:\n%s", output)
			}
			sent := time.Now()
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if tc.twice {
				// A second signal of the same kind may merge with the
				// first while it is pending; SIGTERM cannot.
				if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			}
			code := waitExit(t, done, 10*time.Second, output)
			t.Logf("stopped %s after the signal", time.Since(sent).Round(time.Millisecond))
			switch {
			case tc.twice:
				if code != ExitForced {
					t.Fatalf("exit %d after a second signal, want %d:\n%s", code, ExitForced, output)
				}
				if !strings.Contains(output.String(), "exiting now") {
					t.Errorf("the second signal is not explained:\n%s", output)
				}
			case tc.sig == syscall.SIGKILL:
				if code != -1 {
					t.Fatalf("exit %d after SIGKILL", code)
				}
				if _, err := os.Stat(filepath.Join(out, "report.json")); err == nil {
					t.Fatal("a killed harness wrote a report")
				}
			default:
				if code != ExitInconclusive {
					t.Fatalf("exit %d, want %d:\n%s", code, ExitInconclusive, output)
				}
				if !strings.Contains(output.String(), "INCOMPLETE") {
					t.Errorf("the summary does not say INCOMPLETE:\n%s", output)
				}
				r := readSignalReport(t, out)
				if !r.Incomplete || r.Verdict != "INCONCLUSIVE" || r.Source.Ended != "interrupted" {
					t.Errorf("report.json: incomplete=%v verdict %s ended %q, want INCOMPLETE, INCONCLUSIVE, interrupted", r.Incomplete, r.Verdict, r.Source.Ended)
				}
			}
			// What the run started is gone (after SIGKILL, by the kernel:
			// the process stack's parent-death signal).
			deadline := time.Now().Add(5 * time.Second)
			for _, pid := range kids {
				for alive(pid) && time.Now().Before(deadline) {
					time.Sleep(50 * time.Millisecond)
				}
				if alive(pid) {
					t.Errorf("process %d the run started is still running", pid)
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			diffAgain(t, out)
		})
	}
}

func TestStopOnSignals(t *testing.T) {
	sig := make(chan os.Signal, 2)
	var stderr bytes.Buffer // written before cancel and exit: read after them
	exited := make(chan int, 1)
	ctx := stopOnSignals(sig, &stderr, func(code int) { exited <- code })
	sig <- syscall.SIGINT
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first signal did not cancel the context")
	}
	select {
	case code := <-exited:
		t.Fatalf("exit %d after one signal", code)
	default:
	}
	sig <- syscall.SIGINT
	select {
	case code := <-exited:
		if code != ExitForced {
			t.Fatalf("exit %d after the second signal, want %d", code, ExitForced)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second signal did not exit")
	}
	if out := stderr.String(); !strings.Contains(out, "again to exit at once") || !strings.Contains(out, "exiting now") {
		t.Errorf("stderr does not explain the signals:\n%s", out)
	}
}
