package load

import (
	"fmt"
	"math"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Format names this result layout in result.json.
const Format = "thor-load/v1"

// Verdicts.
const (
	Pass         = "PASS"
	Fail         = "FAIL"
	Inconclusive = "INCONCLUSIVE"
)

// Modes.
const (
	ModeFixed = "fixed" // one step at the planned load
	ModeStep  = "step"  // capacity search
)

// Result is one load test's outcome (one shard's, or several merged).
type Result struct {
	Format  string `json:"format"`
	Verdict string `json:"verdict"`
	// Complete is false when the test was interrupted (its context was
	// cancelled or its time budget ran out); the verdict is then
	// INCONCLUSIVE.
	Complete    bool     `json:"complete"`
	Interrupted string   `json:"interrupted,omitempty"`
	Reasons     []string `json:"reasons,omitempty"`  // why the verdict is not PASS
	Warnings    []string `json:"warnings,omitempty"` // facts that do not change it

	Source     Source     `json:"source"`
	Shards     []Shard    `json:"shards"` // the shards this result holds
	Mode       string     `json:"mode"`
	Plan       Plan       `json:"plan"`
	Thresholds Thresholds `json:"thresholds"`

	Baseline *Baseline `json:"baseline,omitempty"`
	Steps    []*Step   `json:"steps"`
	Capacity *Capacity `json:"capacity,omitempty"`

	// StackCPU says what is known of the stack's own CPU use.
	StackCPU string `json:"stack_cpu"`
}

// Source says what was tested, where and when.
type Source struct {
	Scenario       string    `json:"scenario"`
	ScenarioName   string    `json:"scenario_name"`
	ScenarioSHA256 string    `json:"scenario_sha256"`
	Stack          string    `json:"stack"`
	Started        time.Time `json:"started"`
	Finished       time.Time `json:"finished"`
}

// Plan is the load section as run (whole test, not per shard).
type Plan struct {
	Subscribers    int           `json:"subscribers"`
	ConnectRate    float64       `json:"connect_rate"`
	Rate           float64       `json:"rate"`
	Pacer          string        `json:"pacer"`
	Batch          int           `json:"batch"`
	Warmup         time.Duration `json:"warmup_ns"`
	Duration       time.Duration `json:"duration_ns"`
	Drain          time.Duration `json:"drain_ns"`
	MessageType    string        `json:"message_type"`
	Correlate      string        `json:"correlate"`
	Vary           string        `json:"vary,omitempty"`
	StepStart      float64       `json:"step_start,omitempty"`
	StepAdd        float64       `json:"step_add,omitempty"`
	StepFactor     float64       `json:"step_factor,omitempty"`
	MaxSteps       int           `json:"max_steps,omitempty"`
	MaxTime        time.Duration `json:"max_time_ns,omitempty"`
	MinCapacity    float64       `json:"min_capacity,omitempty"`
	IngestURL      string        `json:"ingest_url"`
	WSURL          string        `json:"ws_url"`
	BaselineEnable bool          `json:"baseline"`
}

// Thresholds decide a step's verdict (the scenario's load.thresholds).
type Thresholds struct {
	DeliveryP99        time.Duration `json:"delivery_p99_ns"`
	MaxLoss            float64       `json:"max_loss"`
	MaxErrors          float64       `json:"max_errors"`
	MaxConnectFailures float64       `json:"max_connect_failures"`
	MinDeliveries      int64         `json:"min_deliveries"`
	MinRateAchieved    float64       `json:"min_rate_achieved"`
}

// Step is one load level: its totals over shards, each shard's part, the
// checks and the verdict.
type Step struct {
	Index       int     `json:"index"`
	Value       float64 `json:"value,omitempty"` // step mode: the varied value
	Subscribers int     `json:"subscribers"`     // planned, all shards
	Rate        float64 `json:"rate"`            // planned events/s (start or mean), all shards
	Pacer       string  `json:"pacer"`
	Complete    bool    `json:"complete"`

	Parts    []Part   `json:"parts"`
	Connect  Connect  `json:"connect"`
	Ingest   Ingest   `json:"ingest"`
	Delivery Delivery `json:"delivery"`
	// Series is per second of the step (warm-up included) since its input began.
	Series        []Second          `json:"series"`
	PerSubscriber []SubscriberStats `json:"per_subscriber"`

	// StackCPU is the stack's CPU over the measured window, per delivered
	// message, where it can be read.
	StackCPU *StackCPU `json:"stack_cpu,omitempty"`

	Checks  []Check `json:"checks"`
	Verdict string  `json:"verdict"`
}

// Part is one shard's share of a step; rates over shards add the parts'
// rates, each from its own measured duration.
type Part struct {
	Shard         Shard         `json:"shard"`
	Subscribers   int           `json:"subscribers"`
	Duration      time.Duration `json:"duration_ns"` // measured window (after warm-up)
	PlannedEvents float64       `json:"planned_events"`
	SentEvents    int64         `json:"sent_events"` // in the measured window
	Requests      int64         `json:"requests"`    // in the measured window
	Delivered     int64         `json:"delivered"`
	Fanout        int64         `json:"fanout"`
	CPU           CPU           `json:"harness_cpu"`
	// Vegeta is vegeta's own report of this shard's measured ingest
	// requests (its quantiles are estimates and do not merge; the HDR
	// histograms do).
	Vegeta *vegeta.Metrics `json:"vegeta,omitempty"`
}

// Connect is the connect phase before a step.
type Connect struct {
	Attempts  int64            `json:"attempts"`
	Failures  int64            `json:"failures"`
	Errors    map[string]int64 `json:"errors,omitempty"`
	Connected int              `json:"connected"` // subscribers connected when the input began
	Latency   Latency          `json:"latency"`
}

// Ingest is the input side of a step (measured window only).
type Ingest struct {
	Requests      int64            `json:"requests"`
	OK            int64            `json:"ok"`
	Failed        int64            `json:"failed"`
	Events        int64            `json:"events"`
	HarnessErrors int64            `json:"harness_errors,omitempty"`
	StatusCodes   map[string]int64 `json:"status_codes,omitempty"`
	Errors        map[string]int64 `json:"errors,omitempty"`
	Rate          float64          `json:"rate"`          // requests/s
	EventRate     float64          `json:"event_rate"`    // events/s sent
	PlannedRate   float64          `json:"planned_rate"`  // events/s planned over the window
	Achieved      float64          `json:"achieved"`      // sent ÷ planned events
	Latency       Latency          `json:"latency"`       // request latency
	ErrorRatio    float64          `json:"error_ratio"`   // failed ÷ requests
	FailedSample  []string         `json:"failed_sample"` // a few failure bodies
}

// Delivery is the subscriber side of a step: measured events' first
// deliveries and what went wrong.
type Delivery struct {
	Expected     int64 `json:"expected"`
	Delivered    int64 `json:"delivered"`
	Lost         int64 `json:"lost"`
	Duplicates   int64 `json:"duplicates"`
	OutOfOrder   int64 `json:"out_of_order"`
	Stale        int64 `json:"stale"`
	Foreign      int64 `json:"foreign"`
	Sibling      int64 `json:"sibling"`
	Fanout       int64 `json:"fanout"`
	Ignored      int64 `json:"ignored"`
	Uncorrelated int64 `json:"uncorrelated"`
	Frames       int64 `json:"frames"`

	Disconnects       int64            `json:"disconnects"`
	DisconnectReasons map[string]int64 `json:"disconnect_reasons,omitempty"`

	Loss float64 `json:"loss"` // lost ÷ expected
	// Rate is measured first deliveries per second: the (subscriber, event)
	// pairs timed. A shard times its own events on its own subscribers, so
	// with n shards the pairs are a 1/n sample.
	Rate float64 `json:"rate"`
	// FanoutRate is messages of the measured type that subscribers received
	// per second during the measured window, every shard's events included:
	// the broadcast throughput.
	FanoutRate float64 `json:"fanout_rate"`
	Latency    Latency `json:"latency"`
}

// Second is one second of a step.
type Second struct {
	T         int     `json:"t"`
	Sent      int64   `json:"sent"`      // events sent
	Failed    int64   `json:"failed"`    // events in failed requests
	Delivered int64   `json:"delivered"` // measured first deliveries received
	CPU       float64 `json:"harness_cpu"`
}

// SubscriberStats is one subscriber's step.
type SubscriberStats struct {
	ID           string        `json:"id"`
	Expected     int64         `json:"expected"`
	Delivered    int64         `json:"delivered"`
	Lost         int64         `json:"lost"`
	Duplicates   int64         `json:"duplicates,omitempty"`
	OutOfOrder   int64         `json:"out_of_order,omitempty"`
	Uncorrelated int64         `json:"uncorrelated,omitempty"` // frames of the measured type without a readable id
	Connect      time.Duration `json:"connect_ns"`             // its connection's dial and upgrade
	P50          time.Duration `json:"p50_ns"`
	P99          time.Duration `json:"p99_ns"`
	Max          time.Duration `json:"max_ns"`
	Disconnected string        `json:"disconnected,omitempty"`
}

// Check is one threshold or self-check of a step.
type Check struct {
	Name      string `json:"name"`
	Verdict   string `json:"verdict"`
	Measured  string `json:"measured"`
	Threshold string `json:"threshold"`
	Note      string `json:"note,omitempty"`
}

// Capacity is what a step search found.
type Capacity struct {
	Vary  string  `json:"vary"`
	Value float64 `json:"value"` // the last passing step's value; 0: none passed
	Step  int     `json:"step"`  // its index; -1: none passed
	// Found is true when a step broke a threshold right after it, so the
	// capacity is bracketed; false means Value is only a lower bound.
	Found  bool   `json:"found"`
	Reason string `json:"reason"`
}

// Check names.
const (
	CheckDeliveryP99     = "delivery_p99"
	CheckLoss            = "loss"
	CheckErrors          = "errors"
	CheckConnectFailures = "connect_failures"
	CheckEvidence        = "evidence"
	CheckRateAchieved    = "rate_achieved"
	CheckHarnessCPU      = "harness_cpu"
	CheckComplete        = "complete"
)

func pct(f float64) string {
	switch {
	case f == 0:
		return "0%"
	case f < 0.0001:
		return fmt.Sprintf("%.4f%%", f*100)
	case f < 0.01:
		return fmt.Sprintf("%.3f%%", f*100)
	}
	return fmt.Sprintf("%.1f%%", f*100)
}

func ratio(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// evaluate sets a step's checks and verdict. Self-checks (evidence, rate
// achieved, harness CPU, completeness) decide whether the step says
// anything about the stack: when one fails, a threshold that failed is
// INCONCLUSIVE, never FAIL.
func (st *Step) evaluate(t Thresholds) {
	d, in, c := &st.Delivery, &st.Ingest, &st.Connect
	var self []Check
	if !st.Complete {
		self = append(self, Check{Name: CheckComplete, Verdict: Inconclusive, Measured: "interrupted", Threshold: "the whole step ran"})
	}
	ev := Check{Name: CheckEvidence, Verdict: Pass, Measured: fmt.Sprintf("%d deliveries of %d expected", d.Delivered, d.Expected),
		Threshold: fmt.Sprintf("≥ %d deliveries", t.MinDeliveries)}
	if d.Delivered < t.MinDeliveries || d.Expected == 0 {
		ev.Verdict, ev.Note = Inconclusive, "too little evidence for a verdict"
	}
	self = append(self, ev)
	ra := Check{Name: CheckRateAchieved, Verdict: Pass, Measured: fmt.Sprintf("%s of the planned %s events/s", pct(in.Achieved), fmtRate(in.PlannedRate)),
		Threshold: "≥ " + pct(t.MinRateAchieved)}
	if in.Achieved < t.MinRateAchieved {
		ra.Verdict, ra.Note = Inconclusive, "the input did not reach the planned rate (generator saturated, or the stack's ingest answered slower than max_workers allow)"
	}
	self = append(self, ra)
	hc := Check{Name: CheckHarnessCPU, Verdict: Pass, Threshold: fmt.Sprintf("≤ %s of the harness's cores", pct(saturation))}
	worst, avail := 0.0, true
	for _, p := range st.Parts {
		worst = max(worst, p.CPU.Mean)
		avail = avail && p.CPU.Available
	}
	hc.Measured = pct(worst) + " (mean over the measured window, busiest shard)"
	switch {
	case !avail:
		hc.Verdict, hc.Measured, hc.Note = Pass, "not measurable here", "the process's CPU time cannot be read on this system"
	case worst > saturation:
		hc.Verdict, hc.Note = Inconclusive, "the load generator was saturated: its latencies and losses may be its own"
	case st.hostBusy() > saturation:
		hc.Note = fmt.Sprintf("the host was %s busy with other processes included: latencies may include waiting for CPU", pct(st.hostBusy()))
	}
	self = append(self, hc)
	doubt := ""
	for _, s := range self {
		if s.Verdict == Inconclusive {
			doubt = s.Name
			break
		}
	}

	th := []Check{
		{Name: CheckDeliveryP99, Measured: fmtDur(d.Latency.P99), Threshold: "≤ " + fmtDur(t.DeliveryP99), Verdict: passIf(d.Latency.P99 <= t.DeliveryP99)},
		{Name: CheckLoss, Measured: fmt.Sprintf("%s (%d of %d)", pct(d.Loss), d.Lost, d.Expected), Threshold: "≤ " + pct(t.MaxLoss), Verdict: passIf(d.Loss <= t.MaxLoss)},
		{Name: CheckErrors, Measured: fmt.Sprintf("%s (%d of %d ingest requests)", pct(in.ErrorRatio), in.Failed, in.Requests), Threshold: "≤ " + pct(t.MaxErrors), Verdict: passIf(in.ErrorRatio <= t.MaxErrors)},
	}
	cf := ratio(c.Failures, c.Attempts)
	th = append(th, Check{Name: CheckConnectFailures, Measured: fmt.Sprintf("%s (%d of %d)", pct(cf), c.Failures, c.Attempts), Threshold: "≤ " + pct(t.MaxConnectFailures), Verdict: passIf(cf <= t.MaxConnectFailures)})
	if d.Latency.Count == 0 {
		th[0].Verdict, th[0].Measured = Inconclusive, "no deliveries"
	}
	if d.Expected == 0 {
		th[1].Verdict = Inconclusive
	}
	if in.Requests == 0 {
		th[2].Verdict = Inconclusive
	}
	if doubt != "" {
		for i := range th {
			if th[i].Verdict == Fail {
				th[i].Verdict, th[i].Note = Inconclusive, "breached, but not a verdict about the stack: see "+doubt
			}
		}
	}
	st.Checks = append(th, self...)
	st.Verdict = Pass
	for _, c := range st.Checks {
		if c.Verdict == Inconclusive {
			st.Verdict = Inconclusive
		}
	}
	for _, c := range st.Checks {
		if c.Verdict == Fail {
			st.Verdict = Fail
		}
	}
}

// hostBusy is the busiest shard host's CPU share during the step (-1:
// unknown).
func (st *Step) hostBusy() float64 {
	h := -1.0
	for _, p := range st.Parts {
		h = max(h, p.CPU.Host)
	}
	return h
}

// saturated reports whether the harness was saturated on some shard.
func (st *Step) saturated() bool {
	for _, p := range st.Parts {
		if p.CPU.Saturated {
			return true
		}
	}
	return false
}

func passIf(ok bool) string {
	if ok {
		return Pass
	}
	return Fail
}

// finish sets the result's capacity (step mode), verdict and reasons from
// its steps.
func (r *Result) finish() {
	r.Reasons, r.Capacity = nil, nil
	if !r.Complete {
		r.Reasons = append(r.Reasons, "the test was interrupted: "+r.Interrupted)
	}
	if len(r.Steps) == 0 {
		r.Verdict = Inconclusive
		r.Reasons = append(r.Reasons, "no load step ran")
		return
	}
	for _, st := range r.Steps {
		if h := st.hostBusy(); h > saturation && !st.saturated() {
			r.Warnings = appendOnce(r.Warnings, fmt.Sprintf("step %d: the host was %s busy (other processes included) while the harness itself was not saturated: latencies may include waiting for CPU", st.Index+1, pct(h)))
		}
	}
	if r.Mode == ModeFixed {
		st := r.Steps[0]
		r.Verdict = st.Verdict
		for _, c := range st.Checks {
			if c.Verdict != Pass {
				r.Reasons = append(r.Reasons, fmt.Sprintf("%s %s: %s (threshold %s)%s", c.Name, c.Verdict, c.Measured, c.Threshold, note(c.Note)))
			}
		}
	} else {
		r.Verdict = r.capacity()
	}
	if !r.Complete {
		r.Verdict = Inconclusive
	}
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func note(s string) string {
	if s == "" {
		return ""
	}
	return "; " + s
}

// capacity finds the last passing step of a search and returns the verdict.
func (r *Result) capacity() string {
	c := &Capacity{Vary: r.Plan.Vary, Step: -1}
	r.Capacity = c
	for _, st := range r.Steps {
		if st.Verdict == Pass {
			c.Value, c.Step = st.Value, st.Index
			continue
		}
		why := st.Verdict
		for _, ch := range st.Checks {
			if ch.Verdict == st.Verdict {
				why = fmt.Sprintf("%s %s (%s, threshold %s)", ch.Name, ch.Verdict, ch.Measured, ch.Threshold)
				break
			}
		}
		if st.Verdict == Fail {
			c.Found = true
			c.Reason = fmt.Sprintf("step %d (%s %s) broke a threshold: %s", st.Index+1, fmtRate(st.Value), r.Plan.Vary, why)
		} else {
			c.Reason = fmt.Sprintf("step %d (%s %s) was inconclusive: %s; the capacity is at least the last passing step", st.Index+1, fmtRate(st.Value), r.Plan.Vary, why)
		}
		break
	}
	if c.Reason == "" {
		c.Reason = fmt.Sprintf("no threshold broke in %d steps: the capacity is at least %s %s", len(r.Steps), fmtRate(c.Value), r.Plan.Vary)
		if len(r.Steps) < r.Plan.MaxSteps && r.Complete {
			c.Reason += " (the time budget ended the search)"
		}
	}
	first := r.Steps[0].Verdict
	switch {
	case c.Step < 0 && first == Fail:
		r.Reasons = append(r.Reasons, "the first step already broke a threshold: the capacity is below "+fmtRate(r.Steps[0].Value)+" "+r.Plan.Vary+"; "+c.Reason)
		return Fail
	case c.Step < 0:
		r.Reasons = append(r.Reasons, "no step passed: "+c.Reason)
		return Inconclusive
	case r.Plan.MinCapacity > 0 && c.Value < r.Plan.MinCapacity && c.Found:
		r.Reasons = append(r.Reasons, fmt.Sprintf("capacity %s %s is below the required %s", fmtRate(c.Value), r.Plan.Vary, fmtRate(r.Plan.MinCapacity)))
		return Fail
	case r.Plan.MinCapacity > 0 && c.Value < r.Plan.MinCapacity:
		r.Reasons = append(r.Reasons, fmt.Sprintf("the search stopped at %s %s, below the required %s, without a breach", fmtRate(c.Value), r.Plan.Vary, fmtRate(r.Plan.MinCapacity)))
		return Inconclusive
	}
	return Pass
}

// sortedKeys returns m's keys, most frequent first.
func sortedKeys(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if m[ks[i]] != m[ks[j]] {
			return m[ks[i]] > m[ks[j]]
		}
		return ks[i] < ks[j]
	})
	return ks
}

func fmtRate(f float64) string {
	switch {
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		return fmt.Sprintf("%.0f", f)
	case math.Abs(f) >= 100:
		return fmt.Sprintf("%.0f", f)
	case math.Abs(f) >= 1:
		return fmt.Sprintf("%.1f", f)
	}
	return fmt.Sprintf("%.3g", f)
}

// fmtDur renders d for people: 3 significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d < time.Microsecond:
		return d.String()
	case d < time.Millisecond:
		return fmt.Sprintf("%.3gµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3gs", d.Seconds())
}
