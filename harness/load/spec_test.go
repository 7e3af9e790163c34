package load

import (
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// TestLoadSectionDefaults: a bare load section gets the documented
// defaults, and needs no features.
func TestLoadSectionDefaults(t *testing.T) {
	sc, err := scenario.Load(writeTemp(t, "profile: thor\nsession: s.jsonl\nload: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	l := sc.Load
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"subscribers", l.Subscribers, 100},
		{"connect_rate", l.ConnectRate, 500.0},
		{"rate", l.Rate, 50.0},
		{"pacer", l.Pacer, "constant"},
		{"batch", l.Batch, 1},
		{"duration", l.Duration.D(), 10 * time.Second},
		{"warmup", l.Warmup.D(), time.Second},
		{"drain", l.Drain.D(), 2 * time.Second},
		{"message_type", l.MessageType, "market_status"},
		{"correlate", l.Correlate, "seq"},
		{"baseline.enabled", l.BaselineEnabled(), true},
		{"baseline.dashboards", l.Baseline.Dashboards, 100},
		{"baseline.duration", l.Baseline.Duration.D(), 10 * time.Second},
		{"baseline.polls", len(l.Baseline.Polls), 7}, // the thor profile's seven paths
		{"baseline.seed_events", *l.Baseline.SeedEvents, 2000},
		{"thresholds.delivery_p99", l.Thresholds.DeliveryP99.D(), 250 * time.Millisecond},
		{"thresholds.max_loss", *l.Thresholds.MaxLoss, 0.0},
		{"thresholds.min_rate_achieved", l.Thresholds.MinRateAchieved, 0.9},
		{"step", l.Step == nil, true},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	sc, err = scenario.Load(writeTemp(t, "profile: thor\nsession: s.jsonl\nstack: {no_seq: true}\nload: {warmup: 0s, step: {vary: rate}}\nfeatures: {positions: {rest: {poll: 250ms}}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	l = sc.Load
	if l.Correlate != "market" || l.Warmup != 0 || l.Step.Start != 50 || l.Step.Factor != 2 || l.Step.MaxSteps != 6 {
		t.Errorf("no_seq/step defaults: correlate %q warmup %s step %+v", l.Correlate, l.Warmup.D(), l.Step)
	}
	if len(l.Baseline.Polls) != 1 || l.Baseline.Polls[0].Path != "/api/positions" || l.Baseline.Polls[0].Every.D() != 250*time.Millisecond {
		t.Errorf("polls from the features: %+v", l.Baseline.Polls)
	}
}

func TestLoadSectionErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // substrings of the error, in order
	}{
		{"misspelled field", "load: {subscriber: 10}\n", []string{"load.yaml:3:", `"load.subscriber"`, `did you mean "subscribers"`}},
		{"unknown pacer", "load: {pacer: sin}\n", []string{`"load.pacer"`, `did you mean "sine"`}},
		{"linear without slope", "load: {pacer: linear}\n", []string{`"load.slope"`, "positive slope"}},
		{"sine amplitude too big", "load: {pacer: sine, rate: 10, amplitude: 10}\n", []string{`"load.amplitude"`, "below the rate"}},
		{"slope on a constant pacer", "load: {slope: 3}\n", []string{`"load.slope"`, "only for pacer linear"}},
		{"too many subscribers", "load: {subscribers: 100000}\n", []string{`"load.subscribers"`, "1 to 50000"}},
		{"duration without unit", "load: {duration: 10}\n", []string{`"load.duration"`, "no unit"}},
		{"duration too long", "load: {duration: 2h}\n", []string{`"load.duration"`, "longer than"}},
		{"loss is a fraction", "load: {thresholds: {max_loss: 5}}\n", []string{`"load.thresholds.max_loss"`, "fraction"}},
		{"step without vary", "load: {step: {max_steps: 3}}\n", []string{`"load.step.vary"`, "subscribers, rate"}},
		{"step that does not rise", "load: {step: {vary: rate, factor: 1}}\n", []string{`"load.step.factor"`, "more than 1"}},
		{"add and factor", "load: {step: {vary: rate, add: 5, factor: 2}}\n", []string{`"load.step.factor"`, "not both"}},
		{"steps beyond the bound", "load: {subscribers: 1000, step: {vary: subscribers, factor: 10, max_steps: 4}}\n", []string{`"load.step.max_steps"`, "1000000 subscribers"}},
		{"too many events", "load: {rate: 90000, duration: 1h}\n", []string{`"load.duration"`, "events"}},
		{"no ingest", "driver: {kind: none, duration: 1m}\nload: {}\n", []string{`"driver.kind"`, "ingest endpoint"}},
		{"remote url stack", "stack: {kind: url, rest: \"http://203.0.113.5:8000\", ws: \"ws://203.0.113.5:8000/ws/dashboard/\"}\nload: {}\n",
			[]string{`"stack.rest"`, "loopback", `"stack.ws"`, "203.0.113.5"}},
		{"correlate path", "load: {correlate: data.market}\n", []string{`"load.correlate"`, "plain field name"}},
		{"bad poll", "load: {baseline: {polls: [{path: api, every: 0s}]}}\n", []string{`"load.baseline.polls[0].path"`, "start with /", `"load.baseline.polls[0].every"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := scenario.Load(writeTemp(t, "profile: thor\nsession: s.jsonl\n"+tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			msg, at := err.Error(), 0
			for _, w := range tc.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error %q lacks %q (after offset %d)", msg, w, at)
				}
				at += i
			}
		})
	}
}

func TestLoadHostAllowed(t *testing.T) {
	for _, tc := range []struct {
		host  string
		allow []string
		want  bool
	}{
		{"127.0.0.1", nil, true},
		{"127.0.0.2", nil, true},
		{"::1", nil, true},
		{"localhost", nil, true},
		{"LOCALHOST", nil, true},
		{"stack-1", nil, false},
		{"stack-1", []string{"stack-1"}, true},
		{"10.0.0.1", []string{"stack-1"}, false},
		{"example.com", nil, false},
	} {
		if got := scenario.LoadHostAllowed(tc.host, tc.allow); got != tc.want {
			t.Errorf("LoadHostAllowed(%q, %v) = %v", tc.host, tc.allow, got)
		}
	}
}
