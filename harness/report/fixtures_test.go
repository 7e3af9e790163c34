package report_test

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/diff"
	"github.com/thor-trading/cutover-harness/harness/report"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// Reports for the HTML and JUnit tests, built the way a run builds them:
// report.Build over a hand-made diff.Result, so gates and verdicts are the
// real ones. Everything is fixed (seeded randomness, fixed times, literal
// go-cmp diffs: go-cmp's own output is deliberately unstable), so the
// JUnit golden files stay byte for byte.

const fixtureScenario = `name: shadow
profile: thor
session: ../../../fixtures/sessions/rth-short.jsonl
speed: max
stack: {kind: embedded}
subscribers: 3
features:
  account_balance: {rest: {poll: 250ms}, freshness_budget: 2s}
  positions:
    rest: {poll: 250ms}
    freshness_budget: 2s
    ignore:
      - {field: ts, reason: "server timestamp, differs per delivery"}
  intraday_bars: {rest: {poll: 500ms}, freshness_budget: 2s}
  global_market: {rest: {poll: 500ms}, freshness_budget: 2s}
thresholds:
  max_findings: 0
  min_rest_samples: 3
  min_ws_items: 1
`

var (
	fixtureStart = time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	fixtureEnd   = fixtureStart.Add(3*time.Minute + 12*time.Second + 345*time.Millisecond)
)

func fixtureScenarioParsed(t testing.TB) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Parse("testdata/shadow.yaml", []byte(fixtureScenario))
	if err != nil {
		t.Fatalf("fixture scenario: %v", err)
	}
	return sc
}

func zeroCounts() map[string]int {
	m := map[string]int{}
	for _, k := range diff.Kinds {
		m[k] = 0
	}
	return m
}

// lagSeries makes n lag points over span, centred on centre with spread,
// plus a few late ones when late > 0.
func lagSeries(rng *rand.Rand, n int, span time.Duration, centre, spread time.Duration, late int) []diff.LagPoint {
	pts := make([]diff.LagPoint, n)
	for i := range pts {
		t := int64(span) * int64(i+1) / int64(n+1)
		lag := centre + time.Duration((rng.Float64()*2-1)*float64(spread))
		pts[i] = diff.LagPoint{T: t, Lag: lag}
	}
	for i := 0; i < late && i < n; i++ {
		j := n/3 + i*7
		if j < n {
			pts[j].Lag = 2*time.Second + time.Duration(200+rng.IntN(1800))*time.Millisecond
		}
	}
	return pts
}

// lagStats summarises pts the way the diff does (nearest-rank percentiles).
func lagStats(pts []diff.LagPoint) diff.LagStats {
	if len(pts) == 0 {
		return diff.LagStats{}
	}
	ls := make([]time.Duration, len(pts))
	var sum time.Duration
	for i, p := range pts {
		ls[i] = p.Lag
		sum += p.Lag
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i] < ls[j] })
	q := func(p float64) time.Duration { return ls[min(len(ls)-1, int(p*float64(len(ls))))] }
	return diff.LagStats{
		N: len(ls), Min: ls[0], P50: q(0.5), P90: q(0.9), P99: q(0.99), Max: ls[len(ls)-1],
		Mean: sum / time.Duration(len(ls)), Gain: -q(0.5),
	}
}

func cleanFeature(rng *rand.Rand, name, kind string, polls, items, lags int) *diff.FeatureResult {
	pts := lagSeries(rng, lags, 3*time.Minute, -180*time.Millisecond, 150*time.Millisecond, 0)
	return &diff.FeatureResult{
		Name: name, Kind: kind, RESTPolls: polls * 2, RESTOK: polls * 2, WSMessages: items, WSItems: items,
		Keys: 4, Matched: lags, Lag: lagStats(pts), LagSeries: pts, Findings: []diff.Finding{}, Counts: zeroCounts(),
		FinalCompared: true, FinalEqual: true, SeqAligned: true,
	}
}

func cleanResult(rng *rand.Rand) *diff.Result {
	return &diff.Result{
		Features: []*diff.FeatureResult{
			cleanFeature(rng, "account_balance", scenario.KindState, 760, 412, 390),
			withIgnores(cleanFeature(rng, "positions", scenario.KindState, 760, 1630, 900)),
			cleanFeature(rng, "intraday_bars", scenario.KindEvents, 380, 30, 30),
			cleanFeature(rng, "global_market", scenario.KindState, 380, 96, 94),
		},
		Subscribers: 3, Records: 14321, WSFrames: 9876, RESTPolls: 4440,
		Ended: "complete", Settled: true, Duration: 3 * time.Minute, Counts: zeroCounts(),
		SubscriberStats: []diff.SubscriberStats{
			{Src: "ws:0", Frames: 3292, Connects: 1}, {Src: "ws:1", Frames: 3292, Connects: 1}, {Src: "ws:2", Frames: 3292, Connects: 1},
		},
	}
}

func withIgnores(f *diff.FeatureResult) *diff.FeatureResult {
	f.Ignores = []diff.IgnoreUse{{Field: "ts", Reason: "server timestamp, differs per delivery", Matched: 2530}}
	f.Noisy = []diff.NoisyField{{Field: "ts", Source: "ws", Count: 1630, Ignored: true, Rule: "ts"}}
	return f
}

func build(t testing.TB, res *diff.Result, problems ...string) *report.Report {
	t.Helper()
	return report.Build(fixtureScenarioParsed(t), res, report.Run{
		ID: "20260302-143000-shadow-1a2b", Stack: "embedded (reference stack on 127.0.0.1:41234)",
		Commit: "a54fed0c0ffee", Started: fixtureStart, Finished: fixtureEnd, Problems: problems,
	})
}

// passReport: every feature PASS.
func passReport(t testing.TB) *report.Report {
	return build(t, cleanResult(rand.New(rand.NewPCG(1, 2))))
}

const mismatchDiff = `  map[string]any{
  	"account_id":     string("ACC-1"),
- 	"market_value":   float64(512325),
+ 	"market_value":   float64(512300),
  	"qty":            float64(2),
  	"symbol":         string("ES"),
- 	"unrealized_pnl": float64(25),
+ 	"unrealized_pnl": float64(0),
  }
`

// failReport: positions fail on findings (value mismatches with diffs,
// late values, a subscriber gap) and freshness; intraday_bars on more
// findings than the page shows; one frame no feature can claim.
func failReport(t testing.TB) *report.Report {
	rng := rand.New(rand.NewPCG(3, 4))
	res := cleanResult(rng)
	pos := res.Features[1]
	pos.LagSeries = lagSeries(rng, 900, 3*time.Minute, -150*time.Millisecond, 200*time.Millisecond, 40)
	pos.Lag = lagStats(pos.LagSeries)
	pos.FinalEqual = false
	pos.Counts[diff.ValueMismatch] = 3
	pos.Counts[diff.Late] = 2
	pos.Counts[diff.SubscriberGap] = 1
	pos.Findings = []diff.Finding{
		{Kind: diff.ValueMismatch, Feature: "positions", Key: "ACC-1|ES", Seq: 1042, T: int64(31200 * time.Millisecond), Subscriber: -1, Diff: mismatchDiff, Detail: "REST showed a value WS never gave this key"},
		{Kind: diff.Late, Feature: "positions", Key: "ACC-1|NQ", Seq: 1311, T: int64(47 * time.Second), Subscriber: 0, Detail: "WS delivered 2.41s after REST showed it (budget 2s)"},
		{Kind: diff.SubscriberGap, Feature: "positions", T: int64(62 * time.Second), Until: int64(71 * time.Second), Missed: 37, Subscriber: 2, Detail: "ws:2 missed 37 messages the other subscribers got"},
		{Kind: diff.ValueMismatch, Feature: "positions", Key: "ACC-2|ES", Seq: 2210, T: int64(95 * time.Second), Subscriber: -1, Diff: mismatchDiff, Detail: "final values differ once settled"},
		{Kind: diff.Late, Feature: "positions", Key: "ACC-2|CL", Seq: 2580, T: int64(121 * time.Second), Subscriber: 0, Detail: "WS delivered 3.02s after REST showed it (budget 2s)"},
		{Kind: diff.ValueMismatch, Feature: "positions", Key: "ACC-1|ES", Seq: 3011, T: int64(170 * time.Second), Subscriber: -1, Diff: mismatchDiff, Detail: `a <script>alert("not run")</script> & friends`},
	}
	bars := res.Features[2]
	bars.Counts[diff.MissingInWS] = 160
	bars.Counts[diff.Duplicate] = 30
	for i := 0; i < diff.MaxStored; i++ {
		start := fixtureStart.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
		bars.Findings = append(bars.Findings, diff.Finding{
			Kind: diff.MissingInWS, Feature: "intraday_bars", Key: "ES|" + start, T: int64(time.Duration(i+1) * 1700 * time.Millisecond), Subscriber: -1,
			REST:   map[string]any{"symbol": "ES", "start": start, "open": 5123.25, "high": 5124.0, "low": 5122.75, "close": 5123.5, "volume": 42},
			Detail: "REST lists this bar; no WS subscriber got it",
		})
	}
	for i := 0; i < 30; i++ {
		bars.Findings = append(bars.Findings, diff.Finding{
			Kind: diff.Duplicate, Feature: "intraday_bars", Key: "ES|dup", T: int64(time.Duration(i+1) * 5 * time.Second), Subscriber: i % 3,
			Detail: "delivered twice",
		})
	}
	sort.SliceStable(bars.Findings, func(i, j int) bool { return bars.Findings[i].T < bars.Findings[j].T })
	gm := res.Features[3]
	gm.Noisy = []diff.NoisyField{{Field: "updated_at", Source: "rest", Count: 12}}
	res.Counts[diff.ProtocolError] = 1
	res.Findings = []diff.Finding{{Kind: diff.ProtocolError, T: int64(88 * time.Second), Subscriber: 1, Detail: "binary frame (12 bytes)"}}
	return build(t, res)
}

// incompleteReport: interrupted early; one feature has a few lag points,
// the others none.
func incompleteReport(t testing.TB) *report.Report {
	rng := rand.New(rand.NewPCG(5, 6))
	res := cleanResult(rng)
	res.Ended, res.Settled = "interrupted", false
	for i, f := range res.Features {
		f.FinalCompared, f.FinalEqual = false, false
		f.LagSeries, f.Lag, f.Matched = nil, diff.LagStats{}, 0
		f.RESTPolls, f.RESTOK, f.WSItems, f.WSMessages = 2, 2, i, i
	}
	ab := res.Features[0]
	ab.LagSeries = lagSeries(rng, 6, 20*time.Second, -120*time.Millisecond, 80*time.Millisecond, 0)
	ab.Lag, ab.Matched, ab.WSItems, ab.WSMessages = lagStats(ab.LagSeries), 6, 8, 8
	res.SubscriberStats[2] = diff.SubscriberStats{Src: "ws:2", LastError: "dial tcp 127.0.0.1:41234: connect: connection refused"}
	return build(t, res)
}

func TestFixtureVerdicts(t *testing.T) {
	for _, c := range []struct {
		name       string
		r          *report.Report
		verdict    string
		incomplete bool
	}{
		{"pass", passReport(t), report.Pass, false},
		{"fail", failReport(t), report.Fail, false},
		{"incomplete", incompleteReport(t), report.Inconclusive, true},
	} {
		if c.r.Verdict != c.verdict || c.r.Incomplete != c.incomplete {
			t.Errorf("%s: verdict %s incomplete %v, want %s %v (reasons %q)", c.name, c.r.Verdict, c.r.Incomplete, c.verdict, c.incomplete, c.r.Reasons)
		}
	}
}
