package scenario

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// LoadSpec is a scenario's `load:` section: the broadcast load test that
// `harness load` runs (see harness/load). Every field's zero value means
// its documented default.
type LoadSpec struct {
	// Subscribers is the number of WS subscribers (dashboards). Default 100.
	Subscribers int `yaml:"subscribers"`
	// ConnectRate is how many subscribers connect per second. Default 500.
	ConnectRate float64 `yaml:"connect_rate"`
	// ConnectTimeout bounds one subscriber's dial and upgrade. Default 10s.
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// Rate is the input in events per second: the constant pacer's rate,
	// the linear pacer's starting rate, the sine pacer's mean. Default 50.
	Rate float64 `yaml:"rate"`
	// Pacer is vegeta's pacer: "constant" (the default), "linear" or "sine".
	Pacer string `yaml:"pacer"`
	// Slope is the linear pacer's increase, in events/s per second.
	Slope float64 `yaml:"slope"`
	// Amplitude is the sine pacer's amplitude in events/s (less than Rate).
	Amplitude float64 `yaml:"amplitude"`
	// Period is the sine pacer's period. Default: Duration.
	Period Duration `yaml:"period"`
	// Batch is the number of events in one ingest request. Default 1.
	Batch int `yaml:"batch"`
	// Duration is how long the input is measured, per step. Default 10s.
	Duration Duration `yaml:"duration"`
	// Warmup is input sent before the measurement starts, per step; its
	// deliveries are not counted. Default 1s.
	Warmup Duration `yaml:"warmup"`
	// Drain is the longest wait, after the last event, for deliveries still
	// on their way; what has not arrived then is lost. Default 2s.
	Drain Duration `yaml:"drain"`
	// IngestTimeout bounds one ingest request. Default 10s.
	IngestTimeout Duration `yaml:"ingest_timeout"`
	// MaxWorkers caps vegeta's concurrent ingest requests (open model: more
	// workers start while answers are slow). Default 1000.
	MaxWorkers int `yaml:"max_workers"`
	// MessageType is the TypeField value of the messages each event causes;
	// other messages (heartbeats, other features) are ignored. Default
	// "market_status" (each load event flips one market's status).
	MessageType string `yaml:"message_type"`
	// TypeField is the message field holding the type. Default "type".
	TypeField string `yaml:"type_field"`
	// Correlate is the message field that identifies the event a message
	// came from: "seq" (the default), or "market" for a stack without seq
	// (the load events name their market after their seq, e.g. "L42").
	Correlate string `yaml:"correlate"`
	// AllowHosts lists hosts besides loopback that a url stack may be on
	// (the project's own stacks only). Default none: 127.0.0.1, ::1 and
	// localhost.
	AllowHosts []string `yaml:"allow_hosts"`
	// Baseline is the REST polling load of as many dashboards.
	Baseline LoadBaseline `yaml:"baseline"`
	// Step, when present, searches the capacity: it raises subscribers or
	// rate step by step until a threshold breaks.
	Step *LoadStep `yaml:"step"`
	// Thresholds decide each step's verdict.
	Thresholds LoadThresholds `yaml:"thresholds"`
}

// LoadBaseline is the REST polling baseline: the load that as many
// dashboards make by polling the REST endpoints at the UI's intervals.
type LoadBaseline struct {
	// Enabled runs the baseline. Default true.
	Enabled *bool `yaml:"enabled"`
	// Dashboards is the number of polling dashboards. Default: load.subscribers.
	Dashboards int `yaml:"dashboards"`
	// Duration is how long the baseline runs. Default: load.duration, at
	// most 10s.
	Duration Duration `yaml:"duration"`
	// Polls are the paths one dashboard polls and how often. Default: every
	// feature's REST paths at its poll interval (the thor profile's four
	// features at 1s when the scenario lists none).
	Polls []LoadPoll `yaml:"polls"`
	// SeedEvents is how many events of the scenario's session are ingested
	// before the baseline, so REST bodies have a real dashboard's size.
	// Default 2000; 0 ingests none.
	SeedEvents *int `yaml:"seed_events"`
}

// LoadPoll is one REST path a dashboard polls.
type LoadPoll struct {
	// Path is relative to the stack's REST base, e.g. /api/positions.
	Path string `yaml:"path"`
	// Every is the polling interval.
	Every Duration `yaml:"every"`
}

// Step variables.
const (
	VarySubscribers = "subscribers"
	VaryRate        = "rate"
)

// LoadStep is the capacity search: step k runs with Start, then raised by
// Add or multiplied by Factor, until a threshold breaks, MaxSteps ran or
// MaxTime passed.
type LoadStep struct {
	// Vary is what rises: "subscribers" or "rate".
	Vary string `yaml:"vary"`
	// Start is the first step's value. Default: load.subscribers or load.rate.
	Start float64 `yaml:"start"`
	// Add is added per step. Zero: use Factor.
	Add float64 `yaml:"add"`
	// Factor multiplies per step. Default 2 (when Add is zero).
	Factor float64 `yaml:"factor"`
	// MaxSteps bounds the search. Default 6.
	MaxSteps int `yaml:"max_steps"`
	// MaxTime bounds the search's wall time; a step that would end past it
	// is not started. Default 10m.
	MaxTime Duration `yaml:"max_time"`
	// MinCapacity fails the search when the capacity found is below it.
	// Zero: no minimum.
	MinCapacity float64 `yaml:"min_capacity"`
}

// LoadThresholds decide a load step's verdict.
type LoadThresholds struct {
	// DeliveryP99 is the most the 99th percentile of delivery latency
	// (ingest request sent → message received) may be. Default 250ms.
	DeliveryP99 Duration `yaml:"delivery_p99"`
	// MaxLoss is the largest fraction of expected deliveries that may be
	// missing. Default 0.
	MaxLoss *float64 `yaml:"max_loss"`
	// MaxErrors is the largest fraction of ingest requests that may fail.
	// Default 0.
	MaxErrors *float64 `yaml:"max_errors"`
	// MaxConnectFailures is the largest fraction of subscriber connects that
	// may fail. Default 0.
	MaxConnectFailures *float64 `yaml:"max_connect_failures"`
	// MinDeliveries is the fewest measured deliveries for a verdict other
	// than INCONCLUSIVE. Default 1.
	MinDeliveries int `yaml:"min_deliveries"`
	// MinRateAchieved is the fraction of the planned input rate the load
	// generator must reach; below it the step is INCONCLUSIVE (the
	// generator, not the stack, was measured). Default 0.9.
	MinRateAchieved float64 `yaml:"min_rate_achieved"`
}

// Pacers of the load section.
const (
	PacerConstant = "constant"
	PacerLinear   = "linear"
	PacerSine     = "sine"
)

// Bounds of a load section: a load test is bounded in size and time.
const (
	MaxLoadSubscribers = 50000
	MaxLoadRate        = 100000 // events per second
	MaxLoadDuration    = time.Hour
	MaxLoadSteps       = 50
	MaxLoadEvents      = 20_000_000 // planned events per step
)

func fptr(f float64) *float64 { return &f }

// BaselineEnabled reports whether the REST baseline runs.
func (l *LoadSpec) BaselineEnabled() bool {
	return l.Baseline.Enabled == nil || *l.Baseline.Enabled
}

func (sc *Scenario) loadDefaults() {
	l := sc.Load
	if l == nil {
		return
	}
	if l.Subscribers == 0 {
		l.Subscribers = 100
	}
	if l.ConnectRate == 0 {
		l.ConnectRate = 500
	}
	if l.ConnectTimeout == 0 {
		l.ConnectTimeout = Duration(10 * time.Second)
	}
	if l.Rate == 0 {
		l.Rate = 50
	}
	if l.Pacer == "" {
		l.Pacer = PacerConstant
	}
	if l.Batch == 0 {
		l.Batch = 1
	}
	if l.Duration == 0 {
		l.Duration = Duration(10 * time.Second)
	}
	if l.Period == 0 {
		l.Period = l.Duration
	}
	if sc.Line("load.warmup") == 0 {
		l.Warmup = Duration(time.Second)
	}
	if l.Drain == 0 {
		l.Drain = Duration(2 * time.Second)
	}
	if l.IngestTimeout == 0 {
		l.IngestTimeout = Duration(10 * time.Second)
	}
	if l.MaxWorkers == 0 {
		l.MaxWorkers = 1000
	}
	if l.MessageType == "" {
		l.MessageType = "market_status"
	}
	if l.TypeField == "" {
		l.TypeField = "type"
	}
	if l.Correlate == "" {
		l.Correlate = "seq"
		if sc.Stack.NoSeq {
			l.Correlate = "market"
		}
	}
	b := &l.Baseline
	if b.Dashboards == 0 {
		b.Dashboards = l.Subscribers
	}
	if b.Duration == 0 {
		b.Duration = Duration(min(l.Duration.D(), 10*time.Second))
	}
	if b.SeedEvents == nil {
		n := 2000
		b.SeedEvents = &n
	}
	if len(b.Polls) == 0 {
		b.Polls = sc.defaultPolls()
	}
	if s := l.Step; s != nil {
		if s.Start == 0 {
			switch s.Vary {
			case VarySubscribers:
				s.Start = float64(l.Subscribers)
			case VaryRate:
				s.Start = l.Rate
			}
		}
		if s.Add == 0 && s.Factor == 0 {
			s.Factor = 2
		}
		if s.MaxSteps == 0 {
			s.MaxSteps = 6
		}
		if s.MaxTime == 0 {
			s.MaxTime = Duration(10 * time.Minute)
		}
	}
	t := &l.Thresholds
	if t.DeliveryP99 == 0 {
		t.DeliveryP99 = Duration(250 * time.Millisecond)
	}
	if t.MaxLoss == nil {
		t.MaxLoss = fptr(0)
	}
	if t.MaxErrors == nil {
		t.MaxErrors = fptr(0)
	}
	if t.MaxConnectFailures == nil {
		t.MaxConnectFailures = fptr(0)
	}
	if t.MinDeliveries == 0 {
		t.MinDeliveries = 1
	}
	if t.MinRateAchieved == 0 {
		t.MinRateAchieved = 0.9
	}
}

// defaultPolls is what one dashboard polls: the scenario's features, or
// the thor profile's four when it lists none.
func (sc *Scenario) defaultPolls() []LoadPoll {
	var polls []LoadPoll
	for _, name := range sc.FeatureNames() {
		f := sc.Features[name]
		for _, p := range f.REST.Paths {
			polls = append(polls, LoadPoll{Path: p, Every: f.REST.Poll})
		}
	}
	if len(polls) == 0 && sc.Profile == ProfileThor {
		for _, name := range ThorFeatures {
			f := &Feature{}
			thorDefaults(name, f)
			for _, p := range f.REST.Paths {
				polls = append(polls, LoadPoll{Path: p, Every: Duration(time.Second)})
			}
		}
	}
	return polls
}

func (sc *Scenario) checkLoad() Errors {
	l := sc.Load
	if l == nil {
		return nil
	}
	var errs Errors
	bad := func(field, format string, args ...any) {
		errs = append(errs, sc.Errorf(field, format, args...))
	}
	between := func(field string, v, lo, hi float64, unit string) {
		if math.IsNaN(v) || v < lo || v > hi {
			bad(field, "%v: want %v to %v%s", v, lo, hi, unit)
		}
	}
	fraction := func(field string, v *float64) {
		if v != nil && (math.IsNaN(*v) || *v < 0 || *v > 1) {
			bad(field, "%v: want a fraction from 0 to 1, e.g. 0.001", *v)
		}
	}
	if sc.Driver.Kind != DriverHTTP {
		bad("driver.kind", "a load test pushes events into the stack: it needs driver kind http (an ingest endpoint)")
	}
	between("load.subscribers", float64(l.Subscribers), 1, MaxLoadSubscribers, " subscribers")
	if l.ConnectRate <= 0 {
		bad("load.connect_rate", "must be positive (subscribers per second)")
	}
	between("load.rate", l.Rate, 0.001, MaxLoadRate, " events/s")
	between("load.batch", float64(l.Batch), 1, 1000, " events per request")
	switch l.Pacer {
	case PacerConstant:
		for _, f := range []string{"slope", "amplitude"} {
			if sc.Line("load."+f) > 0 {
				bad("load."+f, "only for pacer %s; pacer is constant", map[string]string{"slope": PacerLinear, "amplitude": PacerSine}[f])
			}
		}
	case PacerLinear:
		if !(l.Slope > 0) {
			bad("load.slope", "the linear pacer needs a positive slope (events/s added per second)")
		}
		if top := l.Rate + l.Slope*(l.Warmup+l.Duration).D().Seconds(); top > MaxLoadRate {
			bad("load.slope", "reaches %.0f events/s, more than %d", top, MaxLoadRate)
		}
	case PacerSine:
		if !(l.Amplitude > 0) || l.Amplitude >= l.Rate {
			bad("load.amplitude", "the sine pacer needs an amplitude above 0 and below the rate (%v)", l.Rate)
		}
		if l.Period <= 0 {
			bad("load.period", "must be positive")
		}
	default:
		msg := fmt.Sprintf("%q is not one of constant, linear, sine", l.Pacer)
		if s := suggest(l.Pacer, []string{PacerConstant, PacerLinear, PacerSine}); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		bad("load.pacer", "%s", msg)
	}
	if l.Duration.D() > MaxLoadDuration {
		bad("load.duration", "%s is longer than a load step may run (%s)", l.Duration.D(), MaxLoadDuration)
	}
	if l.Duration.D() < 100*time.Millisecond {
		bad("load.duration", "%s is too short to measure anything; use at least 100ms", l.Duration.D())
	}
	if l.Warmup.D() > MaxLoadDuration {
		bad("load.warmup", "%s is longer than %s", l.Warmup.D(), MaxLoadDuration)
	}
	if l.Drain.D() > 10*time.Minute {
		bad("load.drain", "%s is longer than 10m", l.Drain.D())
	}
	if l.MaxWorkers < 1 || l.MaxWorkers > 100000 {
		bad("load.max_workers", "%d: want 1 to 100000", l.MaxWorkers)
	}
	if l.Correlate != "" && strings.ContainsAny(l.Correlate, `"\ .`) {
		bad("load.correlate", "%q: want a plain field name such as seq or market", l.Correlate)
	}
	if strings.ContainsAny(l.TypeField, `"\ .`) {
		bad("load.type_field", "%q: want a plain field name such as type", l.TypeField)
	}
	if strings.ContainsAny(l.MessageType, `"\`) {
		bad("load.message_type", "%q: must not contain quotes or backslashes", l.MessageType)
	}
	if sc.Stack.Kind == StackURL {
		for _, f := range []string{"rest", "ws"} {
			raw := map[string]string{"rest": sc.Stack.REST, "ws": sc.Stack.WS}[f]
			u, err := url.Parse(raw)
			if err != nil || u.Hostname() == "" {
				continue // check() reports the address itself
			}
			if !LoadHostAllowed(u.Hostname(), l.AllowHosts) {
				bad("stack."+f, "a load test sends traffic only to loopback or the project's own stacks: %s is neither (list it in load.allow_hosts if it is one of ours)", u.Hostname())
			}
		}
	}

	b := &l.Baseline
	between("load.baseline.dashboards", float64(b.Dashboards), 1, MaxLoadSubscribers, " dashboards")
	if b.Duration.D() > MaxLoadDuration {
		bad("load.baseline.duration", "%s is longer than %s", b.Duration.D(), MaxLoadDuration)
	}
	if *b.SeedEvents < 0 {
		bad("load.baseline.seed_events", "must not be negative")
	}
	if l.BaselineEnabled() && len(b.Polls) == 0 {
		bad("load.baseline.polls", "missing: list the paths a dashboard polls (or use profile thor, or set enabled: false)")
	}
	var perDashboard float64
	for i, p := range b.Polls {
		f := fmt.Sprintf("load.baseline.polls[%d]", i)
		if !strings.HasPrefix(p.Path, "/") {
			bad(f+".path", "%q must start with / (it is relative to the stack's REST base)", p.Path)
		}
		if p.Every.D() < time.Millisecond {
			bad(f+".every", "missing or too short: how often a dashboard polls this path, e.g. 1s")
			continue
		}
		perDashboard += float64(time.Second) / float64(p.Every)
	}
	if l.BaselineEnabled() && perDashboard*float64(b.Dashboards) > MaxLoadRate {
		bad("load.baseline.dashboards", "%d dashboards poll %.0f requests/s, more than %d", b.Dashboards, perDashboard*float64(b.Dashboards), MaxLoadRate)
	}

	if s := l.Step; s != nil {
		switch s.Vary {
		case VarySubscribers, VaryRate:
		default:
			msg := fmt.Sprintf("%q is not one of subscribers, rate", s.Vary)
			if g := suggest(s.Vary, []string{VarySubscribers, VaryRate}); g != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", g)
			}
			bad("load.step.vary", "%s", msg)
		}
		if s.Start <= 0 {
			bad("load.step.start", "must be positive")
		}
		if s.Add < 0 {
			bad("load.step.add", "must not be negative: the search raises the load")
		}
		if s.Add > 0 && sc.Line("load.step.factor") > 0 {
			bad("load.step.factor", "give add or factor, not both")
		}
		if s.Add == 0 && !(s.Factor > 1) {
			bad("load.step.factor", "%v: want more than 1 so each step raises the load", s.Factor)
		}
		between("load.step.max_steps", float64(s.MaxSteps), 1, MaxLoadSteps, " steps")
		if s.MaxTime.D() > 2*time.Hour {
			bad("load.step.max_time", "%s is longer than 2h", s.MaxTime.D())
		}
		if s.MinCapacity < 0 {
			bad("load.step.min_capacity", "must not be negative")
		}
		if top := s.Value(s.MaxSteps - 1); s.Vary == VarySubscribers && top > MaxLoadSubscribers {
			bad("load.step.max_steps", "the last step would have %.0f subscribers, more than %d", top, MaxLoadSubscribers)
		} else if s.Vary == VaryRate && top > MaxLoadRate {
			bad("load.step.max_steps", "the last step would send %.0f events/s, more than %d", top, MaxLoadRate)
		}
	}
	rate := l.Rate
	if s := l.Step; s != nil && s.Vary == VaryRate {
		rate = max(rate, s.Value(s.MaxSteps-1))
	}
	if n := (rate + l.Slope*(l.Warmup+l.Duration).D().Seconds() + l.Amplitude) * (l.Warmup + l.Duration).D().Seconds(); n > MaxLoadEvents {
		bad("load.duration", "a step would send about %.0f events, more than %d: shorten it or lower the rate", n, MaxLoadEvents)
	}

	t := &l.Thresholds
	if t.DeliveryP99 <= 0 {
		bad("load.thresholds.delivery_p99", "must be positive")
	}
	fraction("load.thresholds.max_loss", t.MaxLoss)
	fraction("load.thresholds.max_errors", t.MaxErrors)
	fraction("load.thresholds.max_connect_failures", t.MaxConnectFailures)
	if t.MinDeliveries < 0 {
		bad("load.thresholds.min_deliveries", "must not be negative")
	}
	if t.MinRateAchieved < 0 || t.MinRateAchieved > 1 {
		bad("load.thresholds.min_rate_achieved", "%v: want a fraction from 0 to 1", t.MinRateAchieved)
	}
	return errs
}

// Value is the varied quantity of step i (0-based).
func (s *LoadStep) Value(i int) float64 {
	if s.Add > 0 {
		return s.Start + float64(i)*s.Add
	}
	return s.Start * math.Pow(s.Factor, float64(i))
}

// LoadHostAllowed reports whether a load test may send traffic to host:
// loopback, or a host the scenario lists in load.allow_hosts.
func LoadHostAllowed(host string, allow []string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	return slices.ContainsFunc(allow, func(a string) bool { return strings.EqualFold(a, host) })
}
