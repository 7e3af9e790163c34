package load

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/scenario"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
		err  bool
	}{
		{"1/1", Shard{0, 1}, false},
		{"2/3", Shard{1, 3}, false},
		{"0/2", Shard{}, true},
		{"3/2", Shard{}, true},
		{"1", Shard{}, true},
		{"a/b", Shard{}, true},
		{"1/0", Shard{}, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseShard(tc.in)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("ParseShard(%q) = %v, %v", tc.in, got, err)
			}
			if err == nil && got.String() != tc.in {
				t.Errorf("String() = %q", got.String())
			}
		})
	}
}

func TestShare(t *testing.T) {
	for _, tc := range []struct {
		name  string
		total int
		n     int
	}{{"even", 1000, 2}, {"uneven", 1001, 3}, {"fewer than shards", 2, 5}, {"one", 7, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			sum := 0
			for i := range tc.n {
				s := Shard{i, tc.n}.share(tc.total)
				if s < tc.total/tc.n || s > tc.total/tc.n+1 {
					t.Errorf("shard %d: %d", i, s)
				}
				sum += s
			}
			if sum != tc.total {
				t.Errorf("shares add to %d, want %d", sum, tc.total)
			}
		})
	}
}

func spec(t *testing.T, yaml string) *scenario.LoadSpec {
	t.Helper()
	sc, err := scenario.Load(writeTemp(t, "profile: thor\nsession: s.jsonl\nload:\n"+indent(yaml)))
	if err != nil {
		t.Fatal(err)
	}
	return sc.Load
}

func TestPlans(t *testing.T) {
	for _, tc := range []struct {
		name  string
		load  string
		shard Shard
		want  []stepPlan // index, value, subscribers, totalSubs, pace.rate, pace.slope, pace.amp
	}{
		{"fixed", "subscribers: 100\nrate: 50", Shard{}, []stepPlan{{subscribers: 100, totalSubs: 100, totalRate: 50, pace: pace{rate: 50}}}},
		{"fixed, shard 2 of 3", "subscribers: 100\nrate: 60", Shard{1, 3}, []stepPlan{{subscribers: 33, totalSubs: 100, totalRate: 60, pace: pace{rate: 20}}}},
		{"subscribers doubled", "subscribers: 10\nrate: 5\nstep: {vary: subscribers, max_steps: 3}", Shard{}, []stepPlan{
			{index: 0, value: 10, subscribers: 10, totalSubs: 10, totalRate: 5, pace: pace{rate: 5}},
			{index: 1, value: 20, subscribers: 20, totalSubs: 20, totalRate: 5, pace: pace{rate: 5}},
			{index: 2, value: 40, subscribers: 40, totalSubs: 40, totalRate: 5, pace: pace{rate: 5}}}},
		{"rate added, linear slope scales", "subscribers: 10\nrate: 10\npacer: linear\nslope: 2\nstep: {vary: rate, add: 10, max_steps: 2}", Shard{}, []stepPlan{
			{index: 0, value: 10, subscribers: 10, totalSubs: 10, totalRate: 10, pace: pace{rate: 10, slope: 2}},
			{index: 1, value: 20, subscribers: 10, totalSubs: 10, totalRate: 20, pace: pace{rate: 20, slope: 4}}}},
		{"sine amplitude scales and shards", "subscribers: 10\nrate: 100\npacer: sine\namplitude: 50\nstep: {vary: rate, start: 200, max_steps: 1}", Shard{0, 2}, []stepPlan{
			{index: 0, value: 200, subscribers: 5, totalSubs: 10, totalRate: 200, pace: pace{rate: 100, amp: 50}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := plans(spec(t, tc.load), tc.shard)
			if len(got) != len(tc.want) {
				t.Fatalf("%d steps, want %d", len(got), len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.index != w.index || g.value != w.value || g.subscribers != w.subscribers || g.totalSubs != w.totalSubs ||
					g.totalRate != w.totalRate || g.pace.rate != w.pace.rate || g.pace.slope != w.pace.slope || g.pace.amp != w.pace.amp {
					t.Errorf("step %d: %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

// TestPace: vegeta's pacers, driven the way its attacker drives them, send
// what pace.events predicts, within the seq table's bound.
func TestPace(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    pace
	}{
		{"constant", pace{kind: scenario.PacerConstant, rate: 50, batch: 1}},
		{"constant, fractional", pace{kind: scenario.PacerConstant, rate: 2.5, batch: 1}},
		{"constant, batched", pace{kind: scenario.PacerConstant, rate: 1000, batch: 4}},
		{"linear", pace{kind: scenario.PacerLinear, rate: 10, slope: 5, batch: 1}},
		{"sine", pace{kind: scenario.PacerSine, rate: 100, amp: 50, period: 4 * time.Second, batch: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := 10 * time.Second
			pc := tc.p.pacer()
			var hits uint64
			// Simulate the attacker: at each instant, hit while the pacer says so.
			for el := time.Duration(0); el < d; {
				wait, stop := pc.Pace(el, hits)
				if stop {
					t.Fatal("the pacer stopped")
				}
				if wait > 0 {
					el += wait
					continue
				}
				hits++
			}
			events := float64(hits) * float64(tc.p.batch)
			want := tc.p.events(d)
			if math.Abs(events-want) > float64(2*tc.p.batch) {
				t.Errorf("sent %v events in %s, pace.events says %v", events, d, want)
			}
			if bound := tc.p.requestsBound(d); int64(hits) > bound {
				t.Errorf("%d requests, more than the bound %d", hits, bound)
			}
			if !strings.Contains(tc.p.String(), tc.p.kind) {
				t.Errorf("String() = %q", tc.p.String())
			}
		})
	}
}
