package diff

import (
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// faultRun simulates a fault during which ws:1 (on the replica cut off)
// misses a change of account A, and that moves ws:1 to another URL; recover
// says whether A changes again after the fault (and so converges).
func faultRun(noSeq, recover bool) (*simStack, int64) {
	s := newSim(2, noSeq)
	s.add(capture.Record{K: capture.KindConn, Src: "ws:0", T: 2000, Path: "ws://r0"})
	s.add(capture.Record{K: capture.KindConn, Src: "ws:1", T: 2000, Path: "ws://r1"})
	s.set("account_balance", "A", bal("A", 1)).set("account_balance", "B", bal("B", 1))
	s.after(100*time.Millisecond).rounds(2, 250*time.Millisecond, "account_balance")
	t0 := s.t
	s.set("account_balance", "A", bal("A", 2), wsFault{only: []int{0}})
	s.after(200*time.Millisecond).rounds(2, 250*time.Millisecond, "account_balance")
	s.add(capture.Record{K: capture.KindConn, Src: "ws:1", T: s.t, Path: "ws://r0"})
	s.add(capture.Record{K: capture.KindFault, Src: "fault:0", Text: "kill_replica 1", T0: t0, T: s.t})
	end := s.t
	s.after(300*time.Millisecond).rounds(2, 250*time.Millisecond, "account_balance")
	if recover {
		s.set("account_balance", "A", bal("A", 3))
		s.after(100*time.Millisecond).rounds(2, 250*time.Millisecond, "account_balance")
	}
	return s.finish("account_balance"), end
}

func TestConvergenceAfterAFault(t *testing.T) {
	for _, noSeq := range []bool{false, true} {
		for _, recover := range []bool{true, false} {
			name := map[bool]string{false: "seq", true: "no seq"}[noSeq] + map[bool]string{true: ", recovers", false: ", stays stale"}[recover]
			t.Run(name, func(t *testing.T) {
				sc := simScenario(2, noSeq, "account_balance")
				one := 1
				sc.Faults = []scenario.Fault{{At: scenario.Duration(time.Second), Action: scenario.FaultKillReplica, Replica: &one}}
				sim, end := faultRun(noSeq, recover)
				res, err := Diff(sc, sim.next())
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Faults) != 1 || res.Faults[0].Fault != "kill_replica 1" || res.Faults[0].T != end {
					t.Fatalf("faults: %+v", res.Faults)
				}
				if m := res.Faults[0].Moves; len(m) != 1 || m[0].Subscriber != 1 || m[0].From != "ws://r1" || m[0].To != "ws://r0" {
					t.Errorf("moves: %+v", m)
				}
				f := res.Features[0]
				if f.Counts[SubscriberGap] == 0 {
					t.Errorf("no subscriber_gap for the missed change: %v", f.Counts)
				}
				if len(f.Convergence) != 1 {
					t.Fatalf("convergence: %+v", f.Convergence)
				}
				cv := f.Convergence[0]
				if cv.Polls == 0 || len(cv.Subscribers) != 2 {
					t.Fatalf("convergence: %+v", cv)
				}
				s0, s1 := cv.Subscribers[0], cv.Subscribers[1]
				if !s0.Converged || s0.After > 600*time.Millisecond {
					t.Errorf("ws:0 had every value: it should agree at the first poll after the fault: %+v", s0)
				}
				if recover {
					if !cv.Converged || !s1.Converged || s1.After <= s0.After || cv.Slowest != 1 || cv.After != s1.After {
						t.Errorf("ws:1 should converge once A changes again, after ws:0: %+v", cv)
					}
				} else if cv.Converged || s1.Converged || cv.Slowest != 1 {
					t.Errorf("ws:1 never got A's new value: it must not converge: %+v", cv)
				}
				t.Log(cv.Describe())
			})
		}
	}
}

// Without faults in the scenario the analysis does not run.
func TestNoConvergenceWithoutFaults(t *testing.T) {
	sim, _ := faultRun(false, true)
	res, err := Diff(simScenario(2, false, "account_balance"), sim.next())
	if err != nil {
		t.Fatal(err)
	}
	if res.Faults != nil || res.Features[0].Convergence != nil {
		t.Errorf("faults %+v convergence %+v", res.Faults, res.Features[0].Convergence)
	}
}
