package run_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/report"
	"github.com/thor-trading/cutover-harness/harness/run"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// shortSession is the committed 30-minute fixture.
var shortSession, _ = filepath.Abs("../../fixtures/sessions/rth-short.jsonl")

// budget is the tests' freshness budget: short, to keep the suite fast,
// but longer under the race detector, which slows the harness's own
// subscribers several times over.
var budget = func() time.Duration {
	if raceEnabled {
		return 2 * time.Second
	}
	return time.Second
}()

// timingVerdicts skips a test whose verdicts rest on freshness timing when
// it runs under the race detector in -short mode: there the harness's own
// subscribers can fall seconds behind a loaded machine, and "late" would
// describe the harness, not the stack. make test runs these tests in full
// without the race detector right after the race pass (see the Makefile).
func timingVerdicts(t *testing.T) {
	t.Helper()
	if raceEnabled && testing.Short() {
		t.Skip("timing verdicts: run in full by make test's non-race pass")
	}
}

// fastScenario is shadow.yaml with the waits cut down for tests: polls
// every 100 ms, a short freshness budget and a short quiet period.
func fastScenario(t *testing.T, extra string) *scenario.Scenario {
	t.Helper()
	src := fmt.Sprintf(`name: test
profile: thor
session: %s
speed: max
subscribers: 3
settle: {quiet: 200ms, timeout: 20s}
features:
  account_balance: {rest: {poll: 100ms}, freshness_budget: %[3]s}
  positions:       {rest: {poll: 100ms}, freshness_budget: %[3]s}
  intraday_bars:   {rest: {poll: 100ms}, freshness_budget: %[3]s}
  global_market:   {rest: {poll: 100ms}, freshness_budget: %[3]s}
%[2]s`, shortSession, extra, budget)
	p := filepath.Join(t.TempDir(), "test.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func runScenario(t *testing.T, sc *scenario.Scenario) *report.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := run.Run(ctx, sc, run.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return res.Report
}

// verdicts renders a report's verdicts and finding kinds for messages.
func verdicts(r *report.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:", r.Verdict)
	for _, name := range r.Order {
		f := r.Features[name]
		var kinds []string
		for k, n := range f.Counts {
			kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
		}
		sort.Strings(kinds)
		fmt.Fprintf(&b, " %s=%s%v", name, f.Verdict, kinds)
		for _, g := range f.Gates {
			if g.Verdict != report.Pass {
				fmt.Fprintf(&b, "{%s %s: %s %s}", g.Name, g.Verdict, g.Measured, g.Detail)
			}
		}
	}
	for _, s := range r.Reasons {
		fmt.Fprintf(&b, " [%s]", s)
	}
	return b.String()
}

func TestCleanStackPassesRepeatedly(t *testing.T) {
	timingVerdicts(t)
	runs := 20
	if testing.Short() {
		runs = 3
	}
	for i := 0; i < runs; i++ {
		r := runScenario(t, fastScenario(t, ""))
		if r.Verdict != report.Pass {
			t.Fatalf("run %d: %s", i, verdicts(r))
		}
		for _, name := range scenario.ThorFeatures {
			if f := r.Features[name]; f == nil || f.Verdict != report.Pass || f.Lag.N == 0 {
				t.Fatalf("run %d: feature %s: %s", i, name, verdicts(r))
			}
		}
	}
}

func TestCleanStackPassesAt10x(t *testing.T) {
	timingVerdicts(t)
	// Ten times real time: a 90-second slice of the session takes 9 s.
	sc := fastScenario(t, "")
	sc.Speed = 10
	sc.Session = sliceSession(t, 90*time.Second)
	r := runScenario(t, sc)
	if r.Verdict != report.Pass {
		t.Fatalf("10x: %s", verdicts(r))
	}
}

// sliceSession writes the first d of session time of the short fixture.
func sliceSession(t *testing.T, d time.Duration) string {
	t.Helper()
	b, err := os.ReadFile(shortSession)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var start time.Time
	out := []string{lines[0]}
	for _, l := range lines[1:] {
		i := strings.Index(l, `"t":"`)
		ts, err := time.Parse(time.RFC3339Nano, l[i+5:i+5+strings.Index(l[i+5:], `"`)])
		if err != nil {
			t.Fatal(err)
		}
		if start.IsZero() {
			start = ts
		}
		if ts.Sub(start) > d {
			break
		}
		out = append(out, l)
	}
	p := filepath.Join(t.TempDir(), "slice.jsonl")
	if err := os.WriteFile(p, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// faultCases is the fault matrix: each reference-stack fault on one
// feature, and the finding kinds that name it (any one of them must be
// present on that feature, and the other features must pass).
//
// Without seq the wire cannot always name the fault: a reordered pair whose
// later value equals the one before it (A, B, A sent as B, A, A) is byte for
// byte a duplicate delivery. noSeqKinds widens the expectation for those;
// the verdicts must be the same either way.
var faultCases = []struct {
	name, feature, spec string
	kinds               []string
	noSeqKinds          []string
}{
	{"drop", "positions", "positions:drop=0.3", []string{"missing_in_ws", "subscriber_gap"}, nil},
	{"duplicate", "account_balance", "account_balance:duplicate=0.3", []string{"duplicate"}, nil},
	{"reorder", "positions", "positions:reorder", []string{"out_of_order"}, []string{"out_of_order", "duplicate"}},
	{"round", "account_balance", "account_balance:round=0", []string{"value_mismatch"}, nil},
	{"omit_field", "global_market", "global_market:omit_field=status", []string{"value_mismatch", "protocol_error"}, nil},
	{"delay", "intraday_bars", fmt.Sprintf("intraday_bars:delay=%s", 2*budget), []string{"late"}, nil},
	{"stale_rest", "positions", fmt.Sprintf("positions:stale_rest=%s", 2*budget), []string{"stale_rest", "late"}, nil},
	{"drop bars", "intraday_bars", "intraday_bars:drop=0.3", []string{"missing_in_ws", "subscriber_gap"}, nil},
}

func checkFault(t *testing.T, r *report.Report, feature string, kinds []string) {
	t.Helper()
	if r.Verdict != report.Fail {
		t.Errorf("verdict %s, want FAIL: %s", r.Verdict, verdicts(r))
	}
	for _, name := range r.Order {
		f := r.Features[name]
		if name != feature {
			if f.Verdict != report.Pass {
				t.Errorf("feature %s (not faulty) is %s: %s", name, f.Verdict, verdicts(r))
			}
			continue
		}
		if f.Verdict != report.Fail {
			t.Errorf("faulty feature %s is %s: %s", name, f.Verdict, verdicts(r))
		}
		found := false
		for _, k := range kinds {
			found = found || f.Counts[k] > 0
		}
		if !found {
			t.Errorf("faulty feature %s lacks any of %v: %s", name, kinds, verdicts(r))
			for i, fd := range f.Findings {
				if i == 10 {
					break
				}
				t.Logf("finding %s key %s seq %d: %s\n%s", fd.Kind, fd.Key, fd.Seq, fd.Detail, fd.Diff)
			}
		}
		for _, fd := range f.Findings {
			if fd.Kind == "value_mismatch" && fd.Diff == "" {
				t.Errorf("value_mismatch without a go-cmp diff: %+v", fd)
			}
		}
	}
}

// seqModes are the ways a run can see seq: aligned by it, a stack that has
// none, and a stack that has it but a scenario whose selectors ignore it.
var seqModes = []struct {
	name string
	mod  func(sc *scenario.Scenario)
}{
	{"seq", func(*scenario.Scenario) {}},
	{"stack without seq", func(sc *scenario.Scenario) { sc.Stack.NoSeq = true; ignoreSeq(sc) }},
	{"seq ignored", ignoreSeq},
}

func ignoreSeq(sc *scenario.Scenario) {
	for _, f := range sc.Features {
		none := ""
		f.REST.Seq, f.WS.Seq = &none, &none
	}
}

func TestFaultMatrixEmbedded(t *testing.T) {
	timingVerdicts(t)
	for _, mode := range seqModes {
		for _, tc := range faultCases {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				sc := fastScenario(t, fmt.Sprintf("stack: {kind: embedded, faults: %q}\n", tc.spec))
				mode.mod(sc)
				kinds := tc.kinds
				if mode.name != "seq" && tc.noSeqKinds != nil {
					kinds = tc.noSeqKinds
				}
				checkFault(t, runScenario(t, sc), tc.feature, kinds)
			})
		}
	}
}

func TestCleanStackPassesWithoutSeq(t *testing.T) {
	timingVerdicts(t)
	for _, mode := range seqModes[1:] {
		t.Run(mode.name, func(t *testing.T) {
			sc := fastScenario(t, "")
			mode.mod(sc)
			if r := runScenario(t, sc); r.Verdict != report.Pass {
				t.Fatalf("%s: %s", mode.name, verdicts(r))
			}
		})
	}
}

// thorstack builds cmd/thorstack once for the url-stack tests.
func thorstack(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "thorstack")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/thorstack").CombinedOutput()
	if err != nil {
		t.Fatalf("building thorstack: %v\n%s", err, out)
	}
	return bin
}

// startThorstack runs `thorstack --replay ARGS` on a free loopback port and
// stops it when the test ends.
func startThorstack(t *testing.T, bin string, args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(bin, append([]string{"--replay", "--addr", addr}, args...)...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return addr
}

func TestFaultMatrixURL(t *testing.T) {
	timingVerdicts(t)
	bin := thorstack(t)
	for _, tc := range faultCases {
		t.Run(tc.name, func(t *testing.T) {
			addr := startThorstack(t, bin, "--faults", tc.spec)
			extra := fmt.Sprintf("stack: {kind: url, rest: \"http://%s\", ws: \"ws://%s/ws/dashboard/\"}\n", addr, addr)
			checkFault(t, runScenario(t, fastScenario(t, extra)), tc.feature, tc.kinds)
		})
	}
	t.Run("clean", func(t *testing.T) {
		addr := startThorstack(t, bin)
		extra := fmt.Sprintf("stack: {kind: url, rest: \"http://%s\", ws: \"ws://%s/ws/dashboard/\"}\n", addr, addr)
		if r := runScenario(t, fastScenario(t, extra)); r.Verdict != report.Pass {
			t.Fatalf("clean thorstack: %s", verdicts(r))
		}
	})
}

func TestUnreachableStackIsInconclusive(t *testing.T) {
	addr := freeAddr(t) // nothing listens there
	extra := fmt.Sprintf("stack: {kind: url, rest: \"http://%s\", ws: \"ws://%s/ws/dashboard/\"}\n", addr, addr)
	sc := fastScenario(t, extra)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := run.Run(ctx, sc, run.Options{Dir: t.TempDir(), ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Verdict != report.Inconclusive {
		t.Fatalf("unreachable stack: %s", verdicts(res.Report))
	}
}

func TestInterruptedRunIsIncomplete(t *testing.T) {
	sc := fastScenario(t, "")
	sc.Speed = 1 // real time: the run cannot finish before the cancel
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(2*time.Second, cancel)
	dir := t.TempDir()
	start := time.Now()
	res, err := run.Run(ctx, sc, run.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("an interrupted run took %s to stop", took)
	}
	r := res.Report
	if !r.Incomplete || r.Verdict != report.Inconclusive {
		t.Fatalf("interrupted run: incomplete=%v %s", r.Incomplete, verdicts(r))
	}
	for _, f := range []string{"capture.jsonl", "report.json", "report.md", "scenario.yaml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("interrupted run left no %s: %v", f, err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !strings.Contains(string(md), "INCOMPLETE") {
		t.Errorf("report.md does not say INCOMPLETE:\n%s", md)
	}
}
