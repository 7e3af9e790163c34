package report

import (
	"fmt"
	"strings"
	"time"

	"github.com/thor-trading/cutover-harness/harness/diff"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// GateConvergence is the gate on recovery from scheduled faults.
const GateConvergence = "convergence"

// convergence adds the convergence gate of a state feature: after every
// scheduled fault, every subscriber's WS view must equal REST's again
// within thresholds.convergence. Without the threshold the measurements
// are warnings (shown, not gated); with it and no fault that ended during
// the run, the gate has no evidence: INCONCLUSIVE.
func (fr *FeatureReport) convergence(sc *scenario.Scenario) {
	f := fr.FeatureResult
	th := sc.Thresholds.Convergence.D()
	if f.Kind != scenario.KindState {
		return
	}
	if th == 0 {
		for _, cv := range f.Convergence {
			fr.Warnings = append(fr.Warnings, cv.Describe()+" (set thresholds.convergence to gate it)")
		}
		return
	}
	g := Gate{Name: GateConvergence, Threshold: "<= " + th.String()}
	if len(f.Convergence) == 0 {
		g.Verdict, g.Measured = Inconclusive, "no fault"
		g.Detail = "no scheduled fault ended during the run: nothing to measure recovery by"
		if len(sc.Faults) == 0 {
			g.Detail = "the scenario schedules no fault (faults): nothing to measure recovery by"
		}
		fr.Gates = append(fr.Gates, g)
		return
	}
	g.Verdict = Pass
	var worst time.Duration
	var details []string
	for _, cv := range f.Convergence {
		details = append(details, cv.Describe())
		switch {
		case cv.Polls == 0:
			if g.Verdict == Pass {
				g.Verdict = Inconclusive
			}
		case !cv.Converged:
			g.Verdict = Fail
			g.Measured = "never"
		case cv.After > th:
			g.Verdict = Fail
		}
		worst = max(worst, cv.After)
	}
	if g.Measured == "" {
		g.Measured = worst.Round(time.Millisecond).String()
	}
	g.Detail = strings.Join(details, "; ")
	fr.Gates = append(fr.Gates, g)
}

// faultWarnings tells a reviewer which faults the run suffered, when, and
// which subscribers moved to another replica.
func faultWarnings(res *diff.Result) []string {
	var out []string
	for _, f := range res.Faults {
		s := fmt.Sprintf("fault %s from %s to %s", f.Fault, sec(f.T0), sec(f.T))
		if f.Err != "" {
			s += " (" + f.Err + ")"
		}
		var moves []string
		for _, m := range f.Moves {
			moves = append(moves, fmt.Sprintf("ws:%d moved from %s to %s at %s", m.Subscriber, m.From, m.To, sec(m.T)))
		}
		if len(moves) > 0 {
			s += ": " + strings.Join(moves, ", ")
		}
		out = append(out, s)
	}
	return out
}

func sec(ns int64) string { return time.Duration(ns).Round(time.Millisecond).String() }
