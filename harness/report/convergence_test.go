package report

import (
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/diff"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

func TestConvergenceGate(t *testing.T) {
	conv := func(converged bool, after time.Duration) []diff.Convergence {
		return []diff.Convergence{{Fault: "stop_redis for 3s", Converged: converged, After: after, Slowest: 1, Polls: 4,
			Subscribers: []diff.SubscriberConvergence{{Subscriber: 0, Converged: true}, {Subscriber: 1, Converged: converged, After: after}}}}
	}
	for _, tc := range []struct {
		name      string
		threshold time.Duration
		faults    bool
		kind      string
		cv        []diff.Convergence
		verdict   string // of the gate, "" for no gate
		measured  string
		warning   string
	}{
		{"within the budget", 10 * time.Second, true, scenario.KindState, conv(true, 1200*time.Millisecond), Pass, "1.2s", ""},
		{"over the budget", time.Second, true, scenario.KindState, conv(true, 1200*time.Millisecond), Fail, "1.2s", ""},
		{"never", 10 * time.Second, true, scenario.KindState, conv(false, 5*time.Second), Fail, "never", ""},
		{"no fault ended", 10 * time.Second, true, scenario.KindState, nil, Inconclusive, "no fault", ""},
		{"no poll after the fault", 10 * time.Second, true, scenario.KindState, []diff.Convergence{{Fault: "kill_replica 1"}}, Inconclusive, "0s", ""},
		{"not gated", 0, true, scenario.KindState, conv(true, time.Second), "", "", "set thresholds.convergence"},
		{"events feature", 10 * time.Second, true, scenario.KindEvents, nil, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := &scenario.Scenario{Thresholds: scenario.Thresholds{Convergence: scenario.Duration(tc.threshold)}}
			if tc.faults {
				sc.Faults = []scenario.Fault{{Action: scenario.FaultStopRedis}}
			}
			fr := &FeatureReport{FeatureResult: &diff.FeatureResult{Kind: tc.kind, Convergence: tc.cv}}
			fr.convergence(sc)
			var g *Gate
			for i := range fr.Gates {
				if fr.Gates[i].Name == GateConvergence {
					g = &fr.Gates[i]
				}
			}
			switch {
			case tc.verdict == "" && g != nil:
				t.Errorf("unexpected gate %+v", g)
			case tc.verdict != "" && g == nil:
				t.Fatalf("no convergence gate")
			case g != nil && (g.Verdict != tc.verdict || g.Measured != tc.measured):
				t.Errorf("gate %+v, want %s measured %s", g, tc.verdict, tc.measured)
			}
			if tc.warning != "" && (len(fr.Warnings) == 0 || !strings.Contains(fr.Warnings[0], tc.warning)) {
				t.Errorf("warnings %q, want one with %q", fr.Warnings, tc.warning)
			}
		})
	}
}

func TestFaultWarnings(t *testing.T) {
	res := &diff.Result{Faults: []diff.FaultRun{{Fault: "kill_replica 1", T0: 4e9, T: 4.1e9,
		Moves: []diff.Move{{Subscriber: 1, From: "ws://a", To: "ws://b", T: 4.3e9}}}}}
	w := faultWarnings(res)
	if len(w) != 1 || w[0] != "fault kill_replica 1 from 4s to 4.1s: ws:1 moved from ws://a to ws://b at 4.3s" {
		t.Errorf("warnings %q", w)
	}
}
