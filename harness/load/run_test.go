package load

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// scale is the modest scale of the end-to-end tests: 200 subscribers at
// 50 events/s, smaller under the race detector.
func scale() (subs, rate int) {
	if raceEnabled {
		return 40, 20
	}
	return 200, 50
}

// TestEmbeddedStack runs the load test against the embedded reference
// stack, clean and with the drop and delay faults: the clean stack passes
// with every delivery measured; the faults are caught as loss and latency
// breaches.
func TestEmbeddedStack(t *testing.T) {
	subs, rate := scale()
	load := fmt.Sprintf("subscribers: %d\nrate: %d\nduration: 2s\nwarmup: 500ms\nthresholds: {delivery_p99: 1s}\n", subs, rate)
	for _, tc := range []struct {
		name, stack string
		drain       string
		baseline    bool
		verdict     string
		failed      []string // checks that must FAIL
		lossMin     float64
		lossMax     float64
		p99Min      time.Duration
	}{
		{name: "clean", baseline: true, verdict: Pass},
		{name: "no seq: correlated by market name", stack: "stack: {no_seq: true}\n", verdict: Pass},
		{name: "drop", stack: "stack: {faults: \"global_market:drop=0.2\"}\n", verdict: Fail,
			failed: []string{CheckLoss}, lossMin: 0.05, lossMax: 0.4}, // 0.2 of 40-100 events, seeded
		{name: "delay", stack: "stack: {faults: \"global_market:delay=1500ms\"}\n", drain: "3s", verdict: Fail,
			failed: []string{CheckDeliveryP99}, p99Min: 1500 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := load + "drain: 1s\n"
			if tc.drain != "" {
				l = load + "drain: " + tc.drain + "\n"
			}
			if tc.baseline {
				l += "baseline: {duration: 1s, dashboards: 20}\n"
			} else {
				l += "baseline: {enabled: false}\n"
			}
			res := run(t, loadScenario(t, tc.stack, l), Options{})
			if testing.Verbose() {
				t.Log(res.Summary())
			}
			if res.Verdict != tc.verdict || !res.Complete || len(res.Steps) != 1 {
				t.Fatalf("verdict %s (complete %v, %d steps), want %s\n%s", res.Verdict, res.Complete, len(res.Steps), tc.verdict, res.Summary())
			}
			st := res.Steps[0]
			d := st.Delivery
			if d.Expected == 0 || st.Connect.Connected != subs || st.Ingest.Requests == 0 || st.Ingest.Failed != 0 {
				t.Fatalf("expected %d deliveries to %d subscribers from %d requests (%d failed)", d.Expected, st.Connect.Connected, st.Ingest.Requests, st.Ingest.Failed)
			}
			if d.Latency.Count != d.Delivered || d.Delivered+d.Lost != d.Expected {
				t.Errorf("latencies %d, delivered %d, lost %d, expected %d: every delivery has a latency and delivered+lost=expected", d.Latency.Count, d.Delivered, d.Lost, d.Expected)
			}
			if d.Loss < tc.lossMin || d.Loss > tc.lossMax {
				t.Errorf("loss %v, want %v..%v", d.Loss, tc.lossMin, tc.lossMax)
			}
			if d.Latency.P99 < tc.p99Min || d.Latency.P50 <= 0 {
				t.Errorf("p50 %s p99 %s, want p99 ≥ %s", d.Latency.P50, d.Latency.P99, tc.p99Min)
			}
			if d.Duplicates != 0 || d.Disconnects != 0 {
				t.Errorf("duplicates %d, disconnects %d", d.Duplicates, d.Disconnects)
			}
			for _, name := range []string{CheckDeliveryP99, CheckLoss, CheckErrors, CheckConnectFailures, CheckEvidence, CheckRateAchieved, CheckHarnessCPU} {
				c := check(res, name)
				if c == nil {
					t.Fatalf("no %s check", name)
				}
				want := Pass
				for _, f := range tc.failed {
					if f == name {
						want = Fail
					}
				}
				if c.Verdict != want {
					t.Errorf("check %s: %s (%s), want %s", name, c.Verdict, c.Measured, want)
				}
			}
			if tc.baseline {
				b := res.Baseline
				if b == nil || b.Requests == 0 || b.Failed != 0 || b.Latency.Count != b.Requests || b.Seeded == 0 || len(b.PerPath) != 7 {
					t.Fatalf("baseline: %+v", b)
				}
			}
			md := res.Markdown()
			for _, want := range []string{"## Load: loadtest — **" + tc.verdict + "**", "| delivery_p99 |", "### Throughput over time", "### Latency percentiles"} {
				if !strings.Contains(md, want) {
					t.Errorf("markdown lacks %q", want)
				}
			}
		})
	}
}

// TestInterrupt cancels a run in the middle: it stops promptly and still
// returns a result, incomplete and INCONCLUSIVE.
func TestInterrupt(t *testing.T) {
	sc := loadScenario(t, "", "subscribers: 20\nrate: 20\nduration: 1m\nbaseline: {enabled: false}\n")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1500*time.Millisecond, cancel)
	start := time.Now()
	res, err := Run(ctx, sc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s to stop", took)
	}
	if res.Complete || res.Verdict != Inconclusive || res.Interrupted == "" || len(res.Steps) != 1 || res.Steps[0].Complete {
		t.Fatalf("complete %v, verdict %s, interrupted %q, %d steps", res.Complete, res.Verdict, res.Interrupted, len(res.Steps))
	}
	if c := check(res, CheckComplete); c == nil || c.Verdict != Inconclusive {
		t.Errorf("complete check: %+v", c)
	}
}

// TestProcessStackCPU runs a small load test against the reference stack
// started by the harness as a process: the report then says what the REST
// polling and the WS push each cost the stack, read from /proc.
func TestProcessStackCPU(t *testing.T) {
	bin := buildThorstack(t)
	stk := fmt.Sprintf("stack: {kind: process, command: [%q, --replay, --addr, \"127.0.0.1:{port}\"]}\n", bin)
	// Enough work that /proc's 10ms ticks see it in both windows.
	l := "subscribers: 50\nrate: 100\nduration: 2s\nwarmup: 500ms\ndrain: 1s\nbaseline: {duration: 2s, dashboards: 200}\n"
	res := run(t, loadScenario(t, stk, l), Options{})
	if !res.Complete || len(res.Steps) != 1 || res.Baseline == nil {
		t.Fatalf("complete %v, %d steps, baseline %v:\n%s", res.Complete, len(res.Steps), res.Baseline != nil, res.Summary())
	}
	if !strings.HasPrefix(res.StackCPU, "measured") || !strings.Contains(res.StackCPU, "process group") {
		t.Errorf("stack CPU: %q", res.StackCPU)
	}
	for name, s := range map[string]*StackCPU{"step": res.Steps[0].StackCPU, "baseline": res.Baseline.StackCPU} {
		t.Logf("%s: stack CPU %+v", name, s)
		switch {
		case s == nil:
			t.Errorf("%s: no stack CPU", name)
		case s.Error != "":
			t.Errorf("%s: stack CPU not read: %s", name, s.Error)
		case s.CPU <= 0 || s.Cores <= 0 || s.PerUnit <= 0 || s.Window <= 0:
			t.Errorf("%s: stack CPU %+v: want CPU spent, per unit of work", name, s)
		}
	}
	if sum := res.Summary(); !strings.Contains(sum, "stack CPU:") || !strings.Contains(sum, "per request") {
		t.Errorf("the summary does not show the stack's CPU:\n%s", sum)
	}
	if md := res.Markdown(); !strings.Contains(md, "per request") || !strings.Contains(md, "per message") {
		t.Errorf("the markdown does not show the stack's CPU per request and per message:\n%s", md)
	}
}
