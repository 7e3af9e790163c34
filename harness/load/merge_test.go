package load

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/stack"
)

// syntheticStep builds a step from raw delivery latencies per subscriber,
// as Run would: one part, totals from the counts.
func syntheticStep(sh Shard, lat [][]time.Duration, expectedEach int64, dur time.Duration) *Step {
	st := &Step{Index: 0, Subscribers: 4, Rate: 100, Complete: true}
	h, ih := newHist(), newHist()
	var delivered int64
	for _, l := range lat {
		for _, d := range l {
			recordDur(h, d)
		}
		delivered += int64(len(l))
		st.Delivery.Expected += expectedEach
		st.Delivery.Lost += expectedEach - int64(len(l))
	}
	for i := range 50 {
		recordDur(ih, time.Duration(i+1)*time.Millisecond)
	}
	st.Delivery.Delivered, st.Delivery.Fanout = delivered, delivered
	st.Delivery.Latency = summarize(h, true)
	st.Ingest = Ingest{Requests: 50, OK: 50, Events: 50, Latency: summarize(ih, true), StatusCodes: map[string]int64{"200": 50}}
	st.Connect = Connect{Attempts: int64(len(lat)), Connected: len(lat), Latency: summarize(newHist(), true)}
	st.Parts = []Part{{Shard: sh, Subscribers: len(lat), Duration: dur, PlannedEvents: 50, SentEvents: 50, Requests: 50,
		Delivered: delivered, Fanout: delivered, CPU: CPU{Cores: 2, Available: true, Mean: 0.1, Host: -1}}}
	st.totals()
	st.evaluate(testThresholds)
	return st
}

var testThresholds = Thresholds{DeliveryP99: time.Second, MinDeliveries: 1, MinRateAchieved: 0.9}

func syntheticResult(sh Shard, st *Step) *Result {
	return &Result{Format: Format, Complete: true, Shards: []Shard{sh}, Mode: ModeFixed, Thresholds: testThresholds,
		Source: Source{ScenarioSHA256: "abc"}, Steps: []*Step{st}}
}

// TestMergeEqualsSingleRun: the latencies of four subscribers, recorded by
// one run, and the same split over two shards and merged, give the same
// totals: counts exactly, percentiles identical (histograms merge exactly)
// and within HDR precision of the raw values' percentiles.
func TestMergeEqualsSingleRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lat := make([][]time.Duration, 4)
	var all []time.Duration
	for i := range lat {
		for range 45 + i { // subscriber i lost 5-i of 50
			d := time.Duration(rng.ExpFloat64() * float64(3*time.Millisecond))
			lat[i] = append(lat[i], d)
			all = append(all, d)
		}
	}
	single := syntheticResult(Shard{}, syntheticStep(Shard{}, lat, 50, 10*time.Second))
	single.finish()
	a := syntheticResult(Shard{0, 2}, syntheticStep(Shard{0, 2}, lat[:2], 50, 10*time.Second))
	b := syntheticResult(Shard{1, 2}, syntheticStep(Shard{1, 2}, lat[2:], 50, 9*time.Second))
	merged, err := Merge(b, a)
	if err != nil {
		t.Fatal(err)
	}
	m, s := merged.Steps[0].Delivery, single.Steps[0].Delivery
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"expected", m.Expected, s.Expected},
		{"delivered", m.Delivered, s.Delivered},
		{"lost", m.Lost, s.Lost},
		{"latency count", m.Latency.Count, s.Latency.Count},
		{"ingest requests", merged.Steps[0].Ingest.Requests, 2 * single.Steps[0].Ingest.Requests},
		{"connect attempts", merged.Steps[0].Connect.Attempts, single.Steps[0].Connect.Attempts},
	} {
		if c.got != c.want {
			t.Errorf("%s: merged %d, single run %d", c.name, c.got, c.want)
		}
	}
	ml, sl := m.Latency, s.Latency
	ml.HDR, sl.HDR = "", ""
	if ml != sl {
		t.Errorf("merged latency %+v\nsingle run    %+v", ml, sl)
	}
	slices.Sort(all)
	for _, q := range []struct {
		name string
		p    float64
		got  time.Duration
	}{{"p50", 50, m.Latency.P50}, {"p90", 90, m.Latency.P90}, {"p99", 99, m.Latency.P99}, {"max", 100, m.Latency.Max}} {
		// HDR's rank: the value that p% of the values are at or below.
		raw := all[max(0, min(len(all), int(q.p/100*float64(len(all))+0.5))-1)]
		if diff := math.Abs(float64(q.got - raw)); diff > 0.01*float64(raw)+float64(time.Microsecond) {
			t.Errorf("%s: merged %s, raw %s: beyond HDR precision (1%%)", q.name, q.got, raw)
		}
	}
	// Rates come from each shard's own duration, not a wall-clock span.
	wantRate := float64(a.Steps[0].Delivery.Delivered)/10 + float64(b.Steps[0].Delivery.Delivered)/9
	if got := m.Rate; math.Abs(got-wantRate) > 1e-9 {
		t.Errorf("merged rate %v, want %v", got, wantRate)
	}
	if merged.Verdict != single.Verdict || len(merged.Shards) != 2 || merged.Shards[0] != (Shard{0, 2}) {
		t.Errorf("merged verdict %s shards %v; single %s", merged.Verdict, merged.Shards, single.Verdict)
	}
}

func TestMergeRefuses(t *testing.T) {
	st := func(sh Shard) *Result {
		return syntheticResult(sh, syntheticStep(sh, [][]time.Duration{{time.Millisecond}}, 1, time.Second))
	}
	other := st(Shard{1, 2})
	other.Source.ScenarioSHA256 = "def"
	for _, tc := range []struct {
		name string
		in   []*Result
	}{
		{"nothing", nil},
		{"same shard twice", []*Result{st(Shard{0, 2}), st(Shard{0, 2})}},
		{"another scenario", []*Result{st(Shard{0, 2}), other}},
		{"not a load result", []*Result{{Format: "cutover-report/v1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Merge(tc.in...); err == nil {
				t.Error("merged")
			}
		})
	}
}

// TestShards runs a test as two shards sharing one embedded stack, writes
// and reads their result files and merges them: counts add exactly, the
// broadcast throughput matches an unsharded run's.
func TestShards(t *testing.T) {
	subs, rate := scale()
	sc := loadScenario(t, "", "subscribers: "+itoa(subs)+"\nrate: "+itoa(rate)+"\nduration: 3s\nwarmup: 500ms\nbaseline: {duration: 1s, dashboards: 10}\nthresholds: {delivery_p99: 1s}\n")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stk, err := stack.Start(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	defer stk.Close()
	dir := t.TempDir()
	var files [2]string
	var wg sync.WaitGroup
	var shards [2]*Result
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := Run(ctx, sc, Options{Shard: Shard{i, 2}, Stack: stk})
			if err != nil {
				t.Error(err)
				return
			}
			shards[i] = res
			files[i] = filepath.Join(dir, itoa(i), ResultJSON)
			if err := res.WriteDir(filepath.Dir(files[i])); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var read []*Result
	for _, f := range files {
		r, err := ReadResult(f)
		if err != nil {
			t.Fatal(err)
		}
		read = append(read, r)
	}
	merged, err := Merge(read...)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Verdict != Pass {
		t.Fatalf("merged verdict %s\n%s", merged.Verdict, merged.Summary())
	}
	m := merged.Steps[0]
	var delivered, expected, lat, requests, connected, baseline int64
	for _, r := range shards {
		st := r.Steps[0]
		if st.Connect.Connected != subs/2 || st.Delivery.Sibling == 0 {
			t.Errorf("shard %s: %d subscribers, %d sibling messages", r.Shards[0], st.Connect.Connected, st.Delivery.Sibling)
		}
		delivered += st.Delivery.Delivered
		expected += st.Delivery.Expected
		lat += st.Delivery.Latency.Count
		requests += st.Ingest.Requests
		connected += int64(st.Connect.Connected)
		baseline += r.Baseline.Requests
	}
	if m.Delivery.Delivered != delivered || m.Delivery.Expected != expected || m.Delivery.Latency.Count != lat ||
		m.Ingest.Requests != requests || int64(m.Connect.Connected) != connected || merged.Baseline.Requests != baseline {
		t.Errorf("merged counts differ from the shards' sums: delivered %d/%d expected %d/%d latencies %d/%d requests %d/%d connected %d/%d baseline %d/%d",
			m.Delivery.Delivered, delivered, m.Delivery.Expected, expected, m.Delivery.Latency.Count, lat, m.Ingest.Requests, requests, m.Connect.Connected, connected, merged.Baseline.Requests, baseline)
	}
	if len(m.PerSubscriber) != subs {
		t.Errorf("%d subscribers listed, want %d", len(m.PerSubscriber), subs)
	}

	single := run(t, sc, Options{Stack: stk})
	s := single.Steps[0].Delivery
	if r := m.Delivery.FanoutRate / s.FanoutRate; r < 0.8 || r > 1.25 {
		t.Errorf("broadcast throughput: merged shards %v messages/s, single run %v", m.Delivery.FanoutRate, s.FanoutRate)
	}
	if r := m.Ingest.EventRate / single.Steps[0].Ingest.EventRate; r < 0.9 || r > 1.1 {
		t.Errorf("input: merged shards %v events/s, single run %v", m.Ingest.EventRate, single.Steps[0].Ingest.EventRate)
	}
}

func itoa(i int) string { return fmtRate(float64(i)) }
