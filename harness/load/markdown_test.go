package load

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenResult is a two-step capacity search with a baseline, built by hand
// so its Markdown is stable.
func goldenResult() *Result {
	started := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	r := &Result{Format: Format, Complete: true, Mode: ModeStep, Shards: []Shard{{0, 1}},
		Source: Source{Scenario: "scenarios/load-capacity.yaml", ScenarioName: "load-capacity", ScenarioSHA256: "0123456789abcdef0123",
			Stack: "embedded reference stack", Started: started, Finished: started.Add(42 * time.Second)},
		Plan: Plan{Subscribers: 100, ConnectRate: 500, Rate: 50, Pacer: "50 events/s (constant)", Batch: 1, Warmup: time.Second,
			Duration: 3 * time.Second, Drain: 2 * time.Second, MessageType: "market_status", Correlate: "seq",
			Vary: "subscribers", StepStart: 100, StepFactor: 2, MaxSteps: 4, MaxTime: 10 * time.Minute},
		Thresholds: Thresholds{DeliveryP99: 250 * time.Millisecond, MinDeliveries: 1, MinRateAchieved: 0.9},
		StackCPU:   "not separable: the embedded reference stack runs inside the harness process",
	}
	for i, lost := range []int64{0, 300} {
		subs := 100 << i
		h := newHist()
		for k := range 1000 {
			recordDur(h, time.Duration(k+1)*time.Duration(i*100+50)*time.Microsecond)
		}
		st := syntheticStep(Shard{0, 1}, nil, 0, 3*time.Second)
		st.Index, st.Value, st.Subscribers = i, float64(subs), subs
		st.Connect = Connect{Attempts: int64(subs - i*100), Connected: subs, Latency: summarize(h, true)}
		st.Delivery = Delivery{Expected: int64(subs) * 150, Delivered: int64(subs)*150 - lost, Lost: lost, Latency: summarize(h, true),
			Fanout: int64(subs) * 150, DisconnectReasons: map[string]int64{}}
		st.Parts[0].Delivered, st.Parts[0].Fanout, st.Parts[0].PlannedEvents, st.Parts[0].SentEvents = st.Delivery.Delivered, st.Delivery.Fanout, 150, 150
		st.Parts[0].Vegeta = &vegeta.Metrics{Requests: 150, Rate: 50, Throughput: 49.9, Success: 1, StatusCodes: map[string]int{"200": 150},
			Latencies: vegeta.LatencyMetrics{Mean: 2 * time.Millisecond, P50: time.Millisecond, P95: 4 * time.Millisecond, P99: 6 * time.Millisecond, Max: 9 * time.Millisecond}}
		st.Series = []Second{{T: 0, Sent: 50, Delivered: 0, CPU: 0.1}, {T: 1, Sent: 50, Delivered: int64(subs) * 50, CPU: 0.2}}
		st.PerSubscriber = []SubscriberStats{{ID: "0", Expected: 150, Delivered: 150 - lost/int64(subs), Lost: lost / int64(subs), P50: time.Millisecond, P99: 3 * time.Millisecond, Max: 4 * time.Millisecond}}
		st.totals()
		st.evaluate(r.Thresholds)
		r.Steps = append(r.Steps, st)
	}
	b := &Baseline{Dashboards: 100, Polls: []Poll{{"/api/positions", time.Second}}, PlannedRate: 100, Seeded: 2000, Complete: true,
		Duration: 3 * time.Second, Requests: 300, OK: 300, BytesIn: 3 << 20, Latency: summarize(newHist(), true),
		Parts: []BaselinePart{{Shard: Shard{0, 1}, Duration: 3 * time.Second, Requests: 300, CPU: CPU{Cores: 2, Available: true, Mean: 0.05, Host: -1}}}}
	b.totals()
	r.Baseline = b
	r.finish()
	return r
}

func TestMarkdownGolden(t *testing.T) {
	got := goldenResult().Markdown()
	path := filepath.Join("testdata", "capacity.md.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("Markdown differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

// TestResultJSONRoundTrip: a result read back from its JSON merges and
// renders like the original.
func TestResultJSONRoundTrip(t *testing.T) {
	r := goldenResult()
	p := filepath.Join(t.TempDir(), ResultJSON)
	if err := r.WriteJSON(p); err != nil {
		t.Fatal(err)
	}
	back, err := ReadResult(p)
	if err != nil {
		t.Fatal(err)
	}
	if back.Markdown() != r.Markdown() {
		t.Error("Markdown changed through JSON")
	}
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(back)
	if string(a) != string(b) {
		t.Error("JSON changed through a round trip")
	}
	merged, err := Merge(back)
	if err != nil {
		t.Fatal(err)
	}
	if merged.Verdict != r.Verdict || merged.Capacity.Value != r.Capacity.Value || merged.Steps[1].Delivery.Latency.P99 != r.Steps[1].Delivery.Latency.P99 {
		t.Errorf("merging one result changed it: %s %+v", merged.Verdict, merged.Capacity)
	}
	if _, err := ReadResult(filepath.Join("testdata", "capacity.md.golden")); err == nil {
		t.Error("read Markdown as a result")
	}
}
