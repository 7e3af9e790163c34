package diff

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

var update = flag.Bool("update", false, "rewrite testdata/findings.golden")

const ms = time.Millisecond

// balanceRun changes ACC-1's balance n times, 350ms apart, with REST polled
// (primary, then the twin 125ms later) between changes; fault, when set,
// applies to change i.
func balanceRun(s *simStack, n int, fault func(i int) []wsFault) *simStack {
	for i := 0; i < n; i++ {
		var f []wsFault
		if fault != nil {
			f = fault(i)
		}
		s.set("account_balance", "ACC-1", bal("ACC-1", 1000+float64(i)), f...)
		s.after(100 * ms)
		s.rounds(1, 250*ms, "account_balance")
	}
	return s.finish("account_balance")
}

// barRun closes n one-minute bars of ES, 350ms apart, polled in between.
func barRun(s *simStack, n int, fault func(i int) []wsFault) *simStack {
	for i := 0; i < n; i++ {
		var f []wsFault
		if fault != nil {
			f = fault(i)
		}
		s.set("intraday_bars", barKey("ES", i), bar("ES", i, 5100+float64(i)), f...)
		s.after(100 * ms)
		s.rounds(1, 250*ms, "intraday_bars")
	}
	return s.finish("intraday_bars")
}

func at(j int, f wsFault) func(int) []wsFault {
	return func(i int) []wsFault {
		if i == j {
			return []wsFault{f}
		}
		return nil
	}
}

func every(f wsFault) func(int) []wsFault {
	return func(int) []wsFault { return []wsFault{f} }
}

type diffCase struct {
	name  string
	state bool // run with and without seq
	sc    func(noSeq bool) *scenario.Scenario
	build func(noSeq bool) *simStack
	// want are the non-zero finding counts (all features and the run's).
	want       map[string]int
	wantNoSeq  map[string]int // when different without seq
	check      func(t *testing.T, r *Result, noSeq bool)
	skipNoSeq  bool
	onlyStates bool
}

func balanceSC(noSeq bool) *scenario.Scenario { return simScenario(3, noSeq, "account_balance") }
func barsSC(noSeq bool) *scenario.Scenario    { return simScenario(3, noSeq, "intraday_bars") }

func withIgnore(sc *scenario.Scenario, feat string, rules ...scenario.Ignore) *scenario.Scenario {
	sc.Features[feat].Ignore = append(sc.Features[feat].Ignore, rules...)
	return sc
}

// addTS adds a "ts" field to an item.
func addTS(item string, ts int) string {
	return strings.TrimSuffix(item, "}") + fmt.Sprintf(`,"ts":%d}`, ts)
}

var diffCases = []diffCase{
	{
		name: "clean", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack { return balanceRun(newSim(3, noSeq), 10, nil) },
		want:  map[string]int{},
		check: func(t *testing.T, r *Result, noSeq bool) {
			f := r.Features[0]
			if !f.FinalCompared || !f.FinalEqual || f.Matched != 10 || f.SeqAligned == noSeq {
				t.Errorf("final compared %v equal %v, matched %d, seq aligned %v", f.FinalCompared, f.FinalEqual, f.Matched, f.SeqAligned)
			}
			// WS delivers 100ms before the primary poll: negative lag, a gain.
			if f.Lag.N != 10 || f.Lag.P50 >= 0 || f.Lag.Gain <= 0 || f.Lag.P50 != -f.Lag.Gain {
				t.Errorf("lag %+v: want 10 negative lags and a positive gain", f.Lag)
			}
			if f.Lag.P50 < -101*ms || f.Lag.P50 > -99*ms {
				t.Errorf("lag p50 %v, want about -100ms", f.Lag.P50)
			}
			if len(f.LagSeries) != 10 {
				t.Errorf("lag series has %d points, want 10", len(f.LagSeries))
			}
		},
	},
	{
		name: "clean_bars", sc: barsSC,
		build: func(noSeq bool) *simStack { return barRun(newSim(3, noSeq), 8, nil) },
		want:  map[string]int{},
		check: func(t *testing.T, r *Result, _ bool) {
			f := r.Features[0]
			if !f.FinalEqual || f.Matched != 8 || f.Keys != 8 || f.Lag.N != 8 || f.Lag.Gain <= 0 {
				t.Errorf("final equal %v matched %d keys %d lag %+v", f.FinalEqual, f.Matched, f.Keys, f.Lag)
			}
		},
	},
	{
		name: "value_mismatch", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack {
			wrong := `{"account_id":"ACC-1","cash":1004.00,"buying_power":4016.00,"net_liq":1004.004}`
			return balanceRun(newSim(3, noSeq), 10, at(4, wsFault{item: wrong}))
		},
		want: map[string]int{ValueMismatch: 1},
	},
	{
		name: "missing_field", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack {
			return balanceRun(newSim(3, noSeq), 10, at(4, wsFault{item: balNoNetLiq("ACC-1", 1004)}))
		},
		want: map[string]int{ValueMismatch: 1},
		check: func(t *testing.T, r *Result, _ bool) {
			f := r.Features[0].Findings[0]
			if !strings.Contains(f.Detail, "field net_liq missing in ws") || !strings.Contains(f.Diff, `"net_liq"`) {
				t.Errorf("detail %q diff %q: want the missing field named", f.Detail, f.Diff)
			}
		},
	},
	{
		name: "missing_in_ws", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack { return balanceRun(newSim(3, noSeq), 10, at(4, wsFault{drop: true})) },
		want:  map[string]int{MissingInWS: 1},
	},
	{
		name: "subscriber_gap", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack { return balanceRun(newSim(3, noSeq), 10, at(4, wsFault{only: []int{0, 1}})) },
		want:  map[string]int{SubscriberGap: 1},
		check: func(t *testing.T, r *Result, _ bool) {
			f := r.Features[0].Findings[0]
			if f.Subscriber != 2 || f.Missed != 1 || f.Key != "ACC-1" {
				t.Errorf("gap %+v: want ws:2 missing 1 message of ACC-1", f)
			}
		},
	},
	{
		// Subscriber 0 misses a value: a gap, not a diff, and the lag of
		// that value is measured on the subscriber that got it.
		name: "subscriber_gap_primary", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack { return balanceRun(newSim(3, noSeq), 10, at(4, wsFault{only: []int{1, 2}})) },
		want:  map[string]int{SubscriberGap: 1},
		check: func(t *testing.T, r *Result, _ bool) {
			if f := r.Features[0]; f.Matched != 10 || f.Findings[0].Subscriber != 0 {
				t.Errorf("matched %d, gap on ws:%d", f.Matched, f.Findings[0].Subscriber)
			}
		},
	},
	{
		// A subscriber that is gone for a while: one span, three messages.
		name: "subscriber_gap_span", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack {
			return balanceRun(newSim(3, noSeq), 10, func(i int) []wsFault {
				if i >= 3 && i <= 5 {
					return []wsFault{{only: []int{0, 2}}}
				}
				return nil
			})
		},
		want: map[string]int{SubscriberGap: 1},
		check: func(t *testing.T, r *Result, _ bool) {
			f := r.Features[0].Findings[0]
			if f.Subscriber != 1 || f.Missed != 3 || f.Until-f.T != int64(700*ms) {
				t.Errorf("gap %+v: want ws:1 missing 3 messages over 700ms", f)
			}
		},
	},
	{
		name: "duplicate", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack { return balanceRun(newSim(3, noSeq), 10, at(4, wsFault{dup: true})) },
		want:  map[string]int{Duplicate: 1},
	},
	{
		// WS sends seq 4's message after seq 5's (the reorder fault).
		name: "out_of_order", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack {
			s := newSim(3, noSeq)
			var held string
			var heldSeq int64
			for i := 0; i < 10; i++ {
				item := bal("ACC-1", 1000+float64(i))
				switch i {
				case 3:
					s.set("account_balance", "ACC-1", item, wsFault{noSend: true})
					held, heldSeq = item, s.seq
				case 4:
					s.set("account_balance", "ACC-1", item)
					s.after(ms)
					s.send("account_balance", heldSeq, held)
					s.after(-ms)
				default:
					s.set("account_balance", "ACC-1", item)
				}
				s.after(100 * ms)
				s.rounds(1, 250*ms, "account_balance")
			}
			return s.finish("account_balance")
		},
		want: map[string]int{OutOfOrder: 1},
	},
	{
		// A key that changes three times between polls; WS loses the last
		// change before the 5th poll: REST's value was never sent. With
		// seq that is certain enough; without, WS's other values where
		// REST's was expected could as well be a wrong version of it.
		name: "missing_in_ws_busy_key", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack {
			s := newSim(3, noSeq)
			for i := 0; i < 8; i++ {
				for j := 0; j < 3; j++ {
					var f []wsFault
					if i == 4 && j == 2 {
						f = []wsFault{{drop: true}}
					}
					s.set("account_balance", "ACC-1", bal("ACC-1", 1000+float64(10*i+j)), f...)
					s.after(20 * ms)
				}
				s.after(60 * ms)
				s.rounds(1, 250*ms, "account_balance")
			}
			return s.finish("account_balance")
		},
		want:      map[string]int{MissingInWS: 1},
		wantNoSeq: map[string]int{ValueMismatch: 1},
	},
	{
		// REST's first sight of a key comes after several WS messages, and
		// the change just before it was lost; the next change arrives. WS
		// had the key right again: a lost change, not a wrong value.
		name: "missing_in_ws_first_sight", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack {
			s := newSim(3, noSeq)
			for i := 0; i < 3; i++ {
				var f []wsFault
				if i == 2 {
					f = []wsFault{{drop: true}}
				}
				s.set("account_balance", "ACC-1", bal("ACC-1", 1000+float64(i)), f...)
				s.after(20 * ms)
			}
			s.after(80*ms).rounds(1, 250*ms, "account_balance")
			for i := 3; i < 6; i++ {
				s.set("account_balance", "ACC-1", bal("ACC-1", 1000+float64(i)))
				s.after(100*ms).rounds(1, 250*ms, "account_balance")
			}
			return s.finish("account_balance")
		},
		want:      map[string]int{MissingInWS: 1},
		wantNoSeq: map[string]int{ValueMismatch: 1},
	},
	{
		// A value comes back (1000, 1001, 1000, 1001, 1000) between two
		// polls and WS loses the last change: REST shows a value WS had
		// earlier in the window. WS is right again at the next poll: lost.
		name: "missing_in_ws_value_back", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack {
			s := newSim(3, noSeq)
			s.set("account_balance", "ACC-1", bal("ACC-1", 1000))
			s.after(100*ms).rounds(1, 250*ms, "account_balance")
			for i := 1; i <= 4; i++ {
				var f []wsFault
				if i == 4 {
					f = []wsFault{{drop: true}}
				}
				s.set("account_balance", "ACC-1", bal("ACC-1", 1000+float64(i%2)), f...)
				s.after(20 * ms)
			}
			s.after(80*ms).rounds(1, 250*ms, "account_balance")
			for i := 2; i < 5; i++ {
				s.set("account_balance", "ACC-1", bal("ACC-1", 1000+float64(i)))
				s.after(100*ms).rounds(1, 250*ms, "account_balance")
			}
			return s.finish("account_balance")
		},
		want:      map[string]int{MissingInWS: 1},
		wantNoSeq: map[string]int{}, // R ⊑ W holds: without seq the lost return is invisible
	},
	{
		// WS rounds net_liq on every message, and REST polls between
		// changes: each REST value is a wrong WS value, not a lost one.
		name: "value_mismatch_persistent", state: true,
		build: func(noSeq bool) *simStack {
			s := newSim(3, noSeq)
			for i := 0; i < 6; i++ {
				cash := 1000.25 + float64(i)
				wrong := fmt.Sprintf(`{"account_id":"ACC-1","cash":%.2f,"buying_power":%.2f,"net_liq":%.0f}`, cash, cash*4, cash)
				s.set("account_balance", "ACC-1", bal("ACC-1", cash), wsFault{item: wrong})
				s.set("global_market", "Tokyo", mkt("Tokyo", []string{"OPEN", "CLOSED"}[i%2]))
				s.after(100 * ms)
				s.rounds(1, 250*ms, "account_balance", "global_market")
			}
			return s.finish("account_balance", "global_market")
		},
		sc:   func(noSeq bool) *scenario.Scenario { return simScenario(3, noSeq, "account_balance", "global_market") },
		want: map[string]int{ValueMismatch: 6},
	},
	{
		// One account's WS balance is always rounded, three are right: the
		// feature is mostly right, but the key's own record says its
		// disagreements are wrong values, not losses.
		name: "value_mismatch_one_key", state: true,
		build: func(noSeq bool) *simStack {
			s := newSim(3, noSeq)
			for i := 0; i < 6; i++ {
				for _, acct := range []string{"ACC-1", "ACC-2", "ACC-3", "ACC-4"} {
					cash := 1000.25 + float64(i)
					if acct != "ACC-2" {
						s.set("account_balance", acct, bal(acct, cash))
						continue
					}
					wrong := fmt.Sprintf(`{"account_id":"ACC-2","cash":%.2f,"buying_power":%.2f,"net_liq":%.0f}`, cash, cash*4, cash)
					s.set("account_balance", acct, bal(acct, cash), wsFault{item: wrong})
				}
				s.set("global_market", "Tokyo", mkt("Tokyo", []string{"OPEN", "CLOSED"}[i%2]))
				s.after(100 * ms)
				s.rounds(1, 250*ms, "account_balance", "global_market")
			}
			return s.finish("account_balance", "global_market")
		},
		sc:   func(noSeq bool) *scenario.Scenario { return simScenario(3, noSeq, "account_balance", "global_market") },
		want: map[string]int{ValueMismatch: 6},
		check: func(t *testing.T, r *Result, _ bool) {
			for _, f := range r.Features[0].Findings {
				if f.Key != "ACC-2" {
					t.Errorf("finding on %s: %+v", f.Key, f)
				}
			}
		},
	},
	{
		// Values recur (a price going back) while WS stalls for 600ms and
		// REST goes on: an older occurrence of a value REST shows later
		// says nothing about where WS is. No finding.
		name: "recurring_values_ws_stall", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack {
			s := newSim(3, noSeq)
			s.set("account_balance", "ACC-1", bal("ACC-1", 99))
			s.after(100*ms).poll("account_balance", "0")
			s.after(250*ms).set("account_balance", "ACC-1", bal("ACC-1", 100))
			s.after(50*ms).set("account_balance", "ACC-1", bal("ACC-1", 101), wsFault{delay: 600 * ms})
			s.after(50*ms).poll("account_balance", "0")
			s.after(50*ms).set("account_balance", "ACC-1", bal("ACC-1", 100), wsFault{delay: 600 * ms})
			s.after(50*ms).poll("account_balance", "0")
			for i := 0; i < 8; i++ {
				s.after(100*ms).poll("account_balance", "0")
			}
			return s.finish("account_balance")
		},
		want: map[string]int{},
	},
	{
		// Every message 2.5s late (the delay fault): WS behind REST.
		name: "late", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack {
			return balanceRun(newSim(3, noSeq), 10, every(wsFault{delay: 2500 * ms}))
		},
		want: map[string]int{Late: 10},
		check: func(t *testing.T, r *Result, _ bool) {
			f := r.Features[0]
			if f.Lag.N != 10 || f.Lag.P50 < 2*time.Second || f.Lag.Gain >= 0 {
				t.Errorf("lag %+v: want positive lags of about 2.4s", f.Lag)
			}
		},
	},
	{
		// REST serves the state as it was 3s ago (a stale cache) while the
		// value changes every 350ms.
		name: "stale_rest", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack {
			s := newSim(3, noSeq)
			for i := 0; i < 20; i++ {
				s.set("account_balance", "ACC-1", bal("ACC-1", 1000+float64(i)))
				s.after(100 * ms)
				s.pollStale("account_balance", "0", 3*time.Second)
				s.after(250 * ms)
			}
			return s.finish("account_balance")
		},
		want: map[string]int{StaleREST: 11},
	},
	{
		// A stale cache hides a key's only value for 3s: it is never
		// replaced, but REST's polls went on showing the older state (no
		// key) long after WS had it.
		name: "stale_rest_never_replaced", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack {
			s := newSim(3, noSeq)
			s.set("account_balance", "ACC-1", bal("ACC-1", 1000))
			for i := 0; i < 40; i++ {
				s.after(100 * ms)
				s.pollStale("account_balance", "0", 3*time.Second)
			}
			return s.finish("account_balance")
		},
		want: map[string]int{StaleREST: 1},
		check: func(t *testing.T, r *Result, _ bool) {
			if d := r.Features[0].Findings[0].Detail; !strings.Contains(d, "previous poll") {
				t.Errorf("detail %q does not say REST's previous poll was stale", d)
			}
		},
	},
	{
		name: "extra_in_ws", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack {
			s := newSim(3, noSeq)
			s.send("account_balance", 1, bal("ACC-9", 5))
			return balanceRun(s, 5, nil)
		},
		want: map[string]int{ExtraInWS: 1},
	},
	{
		name: "protocol_errors", state: true, sc: balanceSC,
		build: func(noSeq bool) *simStack {
			s := newSim(3, noSeq)
			s.set("account_balance", "ACC-1", bal("ACC-1", 999))
			s.after(10 * ms)
			s.add(recText(s.t, 0, "<html>oops</html>"))
			s.add(recBinary(s.t, 1, "\x00\x01\x02"))
			s.send("account_balance", s.seq, `{"cash":1}`, 0)
			s.add(recWS(s.t, 2, `{"type":"account_balance","seq":1}`))
			s.after(10 * ms)
			s.pollRaw("account_balance", "0", 500, "", "internal error", "")
			s.pollRaw("account_balance", "0", 200, "", "<html>not json</html>", "")
			s.pollRaw("account_balance", "0", 0, "", "", "dial tcp 127.0.0.1:1: connection refused")
			s.pollRaw("account_balance", "0", 200, `{"seq":1,"items":[]}`, "", "")
			s.pollRaw("account_balance", "0", 410, `{"detail":"gone"}`, "", "")
			return balanceRun(s, 4, nil)
		},
		want: map[string]int{ProtocolError: 9},
		check: func(t *testing.T, r *Result, _ bool) {
			if r.Counts[ProtocolError] != 2 || r.Features[0].Counts[ProtocolError] != 7 || r.Features[0].RESTErrors != 5 {
				t.Errorf("run protocol errors %d, feature %d, REST errors %d: want 2, 7, 5",
					r.Counts[ProtocolError], r.Features[0].Counts[ProtocolError], r.Features[0].RESTErrors)
			}
		},
	},
	{
		// A seq-less stack diffed with the default seq paths: every
		// observation lacks the seq, and says so.
		name: "seq_missing", sc: func(bool) *scenario.Scenario { return balanceSC(false) },
		build: func(bool) *simStack { return balanceRun(newSim(3, true), 2, nil) },
		want:  map[string]int{ProtocolError: 15},
		check: func(t *testing.T, r *Result, _ bool) {
			if r.Features[0].SeqAligned {
				t.Error("seq aligned without seq")
			}
		},
	},
	{
		// "ts" differs between subscribers and between pollers on its own;
		// the scenario ignores it with a reason. Another rule matches nothing.
		name: "noisy_ignored", state: true,
		sc: func(noSeq bool) *scenario.Scenario {
			return withIgnore(balanceSC(noSeq), "account_balance",
				scenario.Ignore{Field: "ts", Reason: "server send time"},
				scenario.Ignore{Field: "nonexistent", Reason: "typo"})
		},
		build: func(noSeq bool) *simStack { return noisyRun(noSeq) },
		want:  map[string]int{},
		check: func(t *testing.T, r *Result, _ bool) {
			f := r.Features[0]
			want := []IgnoreUse{{"ts", "server send time", 43}, {"nonexistent", "typo", 0}}
			if d := cmp.Diff(want, f.Ignores); d != "" {
				t.Errorf("ignores (-want +got):\n%s", d)
			}
			if len(f.Noisy) != 2 {
				t.Fatalf("noisy %+v: want ts from ws and rest", f.Noisy)
			}
			for _, n := range f.Noisy {
				if n.Field != "ts" || !n.Ignored || n.Rule != "ts" || n.Count == 0 || len(n.Examples) == 0 {
					t.Errorf("noisy %+v: want ts, ignored by its rule", n)
				}
			}
		},
	},
	{
		// The same noise without the rule: reported as not ignored, and the
		// REST/WS comparisons of it fail.
		name: "noisy_unignored", sc: balanceSC,
		build: func(noSeq bool) *simStack { return noisyRun(noSeq) },
		want:  map[string]int{ValueMismatch: 10},
		check: func(t *testing.T, r *Result, _ bool) {
			f := r.Features[0]
			var srcs []string
			for _, n := range f.Noisy {
				if n.Field != "ts" || n.Ignored {
					t.Errorf("noisy %+v: want ts, not ignored", n)
				}
				srcs = append(srcs, n.Source)
			}
			slices.Sort(srcs)
			if !slices.Equal(srcs, []string{"rest", "ws"}) {
				t.Errorf("noisy sources %v", srcs)
			}
		},
	},
	{
		name: "bars_missing", sc: barsSC,
		build: func(noSeq bool) *simStack { return barRun(newSim(3, noSeq), 8, at(3, wsFault{drop: true})) },
		want:  map[string]int{MissingInWS: 1},
	},
	{
		name: "bars_duplicate", sc: barsSC,
		build: func(noSeq bool) *simStack { return barRun(newSim(3, noSeq), 8, at(3, wsFault{dup: true})) },
		want:  map[string]int{Duplicate: 1},
	},
	{
		name: "bars_mismatch", sc: barsSC,
		build: func(noSeq bool) *simStack {
			return barRun(newSim(3, noSeq), 8, at(3, wsFault{item: bar("ES", 3, 9999)}))
		},
		want: map[string]int{ValueMismatch: 1},
	},
	{
		name: "bars_extra", sc: barsSC,
		build: func(noSeq bool) *simStack {
			s := newSim(3, noSeq)
			s.send("intraday_bars", 1, bar("NQ", 59, 1))
			return barRun(s, 4, nil)
		},
		want: map[string]int{ExtraInWS: 1},
	},
	{
		name: "bars_out_of_order", sc: barsSC,
		build: func(noSeq bool) *simStack {
			s := newSim(3, noSeq)
			s.send("intraday_bars", 1, bar("ES", 5, 1))
			s.after(ms)
			s.send("intraday_bars", 1, bar("ES", 4, 1))
			s.state["intraday_bars"] = map[string]string{barKey("ES", 4): bar("ES", 4, 1), barKey("ES", 5): bar("ES", 5, 1)}
			s.after(100 * ms)
			s.rounds(3, 250*ms, "intraday_bars")
			return s.finish("intraday_bars")
		},
		want: map[string]int{OutOfOrder: 1},
	},
	{
		name: "bars_subscriber_gap", sc: barsSC,
		build: func(noSeq bool) *simStack { return barRun(newSim(3, noSeq), 8, at(3, wsFault{only: []int{0, 2}})) },
		want:  map[string]int{SubscriberGap: 1},
	},
	{
		name: "bars_late", sc: barsSC,
		build: func(noSeq bool) *simStack {
			return barRun(newSim(3, noSeq), 4, every(wsFault{delay: 3 * time.Second}))
		},
		want: map[string]int{Late: 4},
	},
}

// noisyRun gives ACC-1's items a "ts" that differs per subscriber and per
// poller, through the settled phase too.
func noisyRun(noSeq bool) *simStack {
	s := newSim(3, noSeq)
	twin := func(it string) string { return strings.Replace(it, `"ts":1}`, `"ts":2}`, 1) }
	round := func() {
		s.poll("account_balance", "0")
		s.after(125 * ms)
		s.pollWith("account_balance", "1", twin)
		s.after(125 * ms)
	}
	for i := 0; i < 10; i++ {
		item := bal("ACC-1", 1000+float64(i))
		s.set("account_balance", "ACC-1", addTS(item, 1), wsFault{item: item, mutate: func(sub int, it string) string { return addTS(it, 100+sub) }})
		s.after(100 * ms)
		round()
	}
	settledAt := s.t
	s.after(300 * ms)
	round()
	round()
	s.poll("account_balance", "final")
	settled := true
	s.add(capture.Record{K: capture.KindEnd, T: s.t + 1, Meta: &capture.Meta{Ended: "complete", Settled: &settled, SettledAt: settledAt}})
	return s
}

func TestDiffCases(t *testing.T) {
	var golden bytes.Buffer
	for _, c := range diffCases {
		modes := []bool{false}
		if c.state {
			modes = append(modes, true)
		}
		for _, noSeq := range modes {
			name := c.name
			if c.state {
				name += map[bool]string{false: "/seq", true: "/noseq"}[noSeq]
			}
			t.Run(name, func(t *testing.T) {
				r, err := Diff(c.sc(noSeq), c.build(noSeq).next())
				if err != nil {
					t.Fatal(err)
				}
				got := map[string]int{}
				for _, f := range r.Features {
					for k, n := range f.Counts {
						got[k] += n
					}
				}
				for k, n := range r.Counts {
					got[k] += n
				}
				maps.DeleteFunc(got, func(_ string, n int) bool { return n == 0 })
				want := c.want
				if noSeq && c.wantNoSeq != nil {
					want = c.wantNoSeq
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("finding counts (-want +got):\n%s\n%s", d, dumpFindings(r))
				}
				if c.check != nil {
					c.check(t, r, noSeq)
				}
				writeGolden(&golden, name, r)
			})
		}
	}
	path := filepath.Join("testdata", "findings.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, golden.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), golden.String()); d != "" {
		t.Errorf("findings differ from %s (-want +got); run go test -update if the change is intended:\n%s", path, d)
	}
}

func writeGolden(w *bytes.Buffer, name string, r *Result) {
	fmt.Fprintf(w, "== %s\n", name)
	all := append([]Finding(nil), r.Findings...)
	for _, f := range r.Features {
		all = append(all, f.Findings...)
		for _, n := range f.Noisy {
			fmt.Fprintf(w, "noisy %s %s count=%d ignored=%v rule=%q example=%+v\n", n.Source, n.Field, n.Count, n.Ignored, n.Rule, n.Examples[0])
		}
	}
	for _, f := range all {
		d := f.Diff
		f.Diff = ""
		b, _ := json.Marshal(f)
		fmt.Fprintf(w, "%s\n", b)
		if d != "" {
			for _, l := range strings.Split(strings.TrimRight(d, "\n"), "\n") {
				fmt.Fprintf(w, "\t%s\n", strings.TrimRight(l, " "))
			}
		}
	}
}

func dumpFindings(r *Result) string {
	var b bytes.Buffer
	writeGolden(&b, "got", r)
	return b.String()
}
