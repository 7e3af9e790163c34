package load

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/thor-trading/cutover-harness/harness/refstack"
)

// limitedStack serves the reference stack behind a front that refuses WS
// connections beyond limit (503), as a stack with a connection cap would:
// a capacity search must find the cap.
func limitedStack(t *testing.T, limit int64) *httptest.Server {
	t.Helper()
	srv, err := refstack.New(refstack.Config{Replay: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	var active atomic.Int64
	h := srv.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != refstack.WSPath {
			h.ServeHTTP(w, r)
			return
		}
		if active.Add(1) > limit {
			active.Add(-1)
			http.Error(w, "too many connections", http.StatusServiceUnavailable)
			return
		}
		defer active.Add(-1)
		h.ServeHTTP(w, r) // returns when the connection ends
	}))
	t.Cleanup(func() {
		srv.Close() // ends the WS connections first, so Close does not wait on them
		ts.Close()
	})
	return ts
}

// TestCapacitySearch raises subscribers step by step against a reference
// stack capped at 25 connections: the search stops by itself at the step
// that breaks connect_failures and names the last passing step (20).
func TestCapacitySearch(t *testing.T) {
	ts := limitedStack(t, 25)
	stackYAML := "stack: {kind: url, rest: \"" + ts.URL + "\", ws: \"ws" + strings.TrimPrefix(ts.URL, "http") + refstack.WSPath + "\"}\n"
	sc := loadScenario(t, stackYAML, `
rate: 20
duration: 1s
warmup: 200ms
drain: 1s
baseline: {enabled: false}
thresholds: {delivery_p99: 1s}
step: {vary: subscribers, start: 10, add: 10, max_steps: 6}
`)
	res := run(t, sc, Options{})
	if testing.Verbose() {
		t.Log(res.Summary())
	}
	c := res.Capacity
	if c == nil || !c.Found || c.Value != 20 || c.Step != 1 || len(res.Steps) != 3 {
		t.Fatalf("capacity %+v after %d steps, want 20 subscribers found at step 2 of 3\n%s", c, len(res.Steps), res.Summary())
	}
	if res.Verdict != Pass || res.Steps[2].Verdict != Fail || check(res, CheckConnectFailures) == nil {
		t.Errorf("verdict %s, last step %s", res.Verdict, res.Steps[2].Verdict)
	}
	if ch := res.Steps[2].Checks; ch[3].Name != CheckConnectFailures || ch[3].Verdict != Fail {
		t.Errorf("step 3 checks: %+v", ch)
	}
	if !strings.Contains(res.Markdown(), "**20 subscribers** (step 2)") {
		t.Errorf("markdown does not name the capacity:\n%s", res.Markdown())
	}
}

// TestCapacitySearchBounded: on a stack that never breaks, the search ends
// by itself after max_steps (capacity: a lower bound), or earlier when
// max_time would be passed.
func TestCapacitySearchBounded(t *testing.T) {
	for _, tc := range []struct {
		name, step string
		steps      int
		warn       string
	}{
		{"max steps", "{vary: rate, start: 10, factor: 2, max_steps: 3}", 3, ""},
		{"max time", "{vary: rate, start: 10, factor: 2, max_steps: 10, max_time: 2s}", 0, "max_time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := loadScenario(t, "", "subscribers: 10\nduration: 500ms\nwarmup: 100ms\ndrain: 1s\nbaseline: {enabled: false}\nthresholds: {delivery_p99: 1s}\nstep: "+tc.step+"\n")
			res := run(t, sc, Options{})
			c, n := res.Capacity, len(res.Steps)
			if tc.warn != "" && n > 0 && n < 10 {
				tc.steps = n // how many fit in max_time depends on the machine
			}
			if c == nil || c.Found || n != tc.steps || c.Step != tc.steps-1 || res.Verdict != Pass {
				t.Fatalf("capacity %+v after %d steps (verdict %s), want a lower bound after %d\n%s", c, n, res.Verdict, tc.steps, res.Summary())
			}
			if want := 10 * float64(int(1)<<(tc.steps-1)); c.Value != want {
				t.Errorf("capacity %v, want at least %v", c.Value, want)
			}
			if tc.warn != "" && !strings.Contains(strings.Join(res.Warnings, "\n"), tc.warn) {
				t.Errorf("warnings %q lack %q", res.Warnings, tc.warn)
			}
		})
	}
}

// TestCapacityVerdicts: how a search's steps turn into capacity and verdict.
func TestCapacityVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		verdicts []string
		minCap   float64
		complete bool
		value    float64
		found    bool
		verdict  string
	}{
		{"breaks at step 3", []string{Pass, Pass, Fail}, 0, true, 20, true, Pass},
		{"never breaks", []string{Pass, Pass, Pass}, 0, true, 40, false, Pass},
		{"first step breaks", []string{Fail}, 0, true, 0, true, Fail},
		{"first step inconclusive", []string{Inconclusive}, 0, true, 0, false, Inconclusive},
		{"saturated after a pass", []string{Pass, Inconclusive}, 0, true, 10, false, Pass},
		{"below the minimum", []string{Pass, Fail}, 15, true, 10, true, Fail},
		{"minimum not reached without a breach", []string{Pass, Pass}, 50, true, 20, false, Inconclusive},
		{"interrupted", []string{Pass, Pass}, 0, false, 20, false, Inconclusive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Result{Mode: ModeStep, Complete: tc.complete, Interrupted: "cancelled", Plan: Plan{Vary: "subscribers", MaxSteps: 3, MinCapacity: tc.minCap}}
			for i, v := range tc.verdicts {
				r.Steps = append(r.Steps, &Step{Index: i, Value: 10 * float64(int(1)<<i), Verdict: v,
					Checks: []Check{{Name: CheckLoss, Verdict: v, Measured: "x", Threshold: "y"}}})
			}
			r.finish()
			if c := r.Capacity; c.Value != tc.value || c.Found != tc.found || r.Verdict != tc.verdict {
				t.Errorf("capacity %+v verdict %s, want %v found %v verdict %s (reasons %q)", c, r.Verdict, tc.value, tc.found, tc.verdict, r.Reasons)
			}
		})
	}
}
