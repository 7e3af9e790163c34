package diff

import (
	"sort"
	"time"
)

// Finding kinds. They are plain strings so a report can use them as map
// keys and in JSON without conversion.
const (
	// ValueMismatch: REST and WS disagree on a key's value (Diff explains).
	ValueMismatch = "value_mismatch"
	// MissingInWS: REST showed a value (or an event) no WS subscriber got.
	MissingInWS = "missing_in_ws"
	// ExtraInWS: WS gave a key or event REST's final listing does not have.
	ExtraInWS = "extra_in_ws"
	// Duplicate: one message (same key and seq, or without seq the same
	// value twice in a row; an event's key twice) delivered twice.
	Duplicate = "duplicate"
	// OutOfOrder: WS seq went backwards for a key, an event's Order went
	// backwards in its stream, or (without seq) REST showed WS's values in
	// another order.
	OutOfOrder = "out_of_order"
	// Late: WS delivered a value more than the freshness budget after REST
	// first showed it.
	Late = "late"
	// StaleREST: REST showed a state older than WS's by more than the
	// freshness budget (a value WS had already replaced, or an older state
	// long after WS had the new value).
	StaleREST = "stale_rest"
	// SubscriberGap: a WS subscriber missed messages other subscribers got
	// (a delivery fault, not a diff); one finding per span of time.
	SubscriberGap = "subscriber_gap"
	// ProtocolError: a frame or body that is not what the contract says
	// (not JSON, binary, bad status, transport error, missing field).
	ProtocolError = "protocol_error"
)

// Kinds lists every finding kind in a stable order.
var Kinds = []string{ValueMismatch, MissingInWS, ExtraInWS, Duplicate, OutOfOrder, Late, StaleREST, SubscriberGap, ProtocolError}

func kindIndex(k string) int {
	for i, x := range Kinds {
		if x == k {
			return i
		}
	}
	panic("diff: unknown finding kind " + k)
}

// MaxStored is how many findings of one kind a feature keeps (the first
// ones); Counts stay exact.
const MaxStored = 100

// Result is the diff of one capture.
type Result struct {
	// Features in the scenario's order (FeatureNames: the thor profile's
	// order first, then by name).
	Features []*FeatureResult `json:"features"`
	// Subscribers is the number of WS subscribers compared: the scenario's,
	// or more when the capture has more.
	Subscribers int `json:"subscribers"`
	// Records, WSFrames and RESTPolls count what the capture holds.
	Records   int64 `json:"records"`
	WSFrames  int64 `json:"ws_frames"`
	RESTPolls int64 `json:"rest_polls"`
	// Ended is the capture's end record's outcome ("complete",
	// "interrupted", "error"), "" when it has none.
	Ended string `json:"ended"`
	// Settled says whether REST and WS came to rest before the final round.
	Settled bool `json:"settled"`
	// Truncated: the capture ends mid-record (the harness died); what was
	// read before is diffed.
	Truncated bool `json:"truncated,omitempty"`
	// Duration is the capture's span on its clock.
	Duration time.Duration `json:"duration_ns"`
	// Findings that belong to no feature: WS frames that are not JSON or are
	// binary (their feature cannot be told). Counts counts them exactly.
	Findings []Finding      `json:"findings,omitempty"`
	Counts   map[string]int `json:"counts,omitempty"`
	// SubscriberStats says, per subscriber, what it received and how its
	// connection went.
	SubscriberStats []SubscriberStats `json:"subscriber_stats,omitempty"`
	// Faults are the scheduled faults the capture recorded, with the
	// subscribers that moved to another replica (see convergence.go).
	Faults []FaultRun `json:"faults,omitempty"`
}

// SubscriberStats is one WS subscriber's connection history.
type SubscriberStats struct {
	Src      string `json:"src"`
	Frames   int64  `json:"frames"`
	Connects int    `json:"connects"`
	// Failures counts failed connects and lost connections.
	Failures  int    `json:"failures"`
	LastError string `json:"last_error,omitempty"`
}

// FeatureResult is the diff of one feature. It holds measurements and
// findings only: verdicts and thresholds belong to the report.
type FeatureResult struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// RESTPolls counts every poll of the feature (primary, twin, final);
	// RESTOK those answered 2xx with a usable JSON body.
	RESTPolls  int `json:"rest_polls"`
	RESTOK     int `json:"rest_ok"`
	RESTErrors int `json:"rest_errors"`
	// WSMessages and WSItems count the primary subscriber's (ws:0)
	// messages of the feature and the items they carried.
	WSMessages int `json:"ws_messages"`
	WSItems    int `json:"ws_items"`
	// Keys is the number of distinct keys seen over REST or WS.
	Keys int `json:"keys"`
	// Matched is the number of REST values (state: distinct consecutive
	// values per key; events: items) found over WS.
	Matched int `json:"matched"`
	// Lag is WS delivery time minus REST's first observation time of each
	// matched value; negative is WS ahead.
	Lag LagStats `json:"lag"`
	// LagSeries is at most 1000 (T, Lag) points, evenly thinned, by T.
	LagSeries []LagPoint `json:"lag_series,omitempty"`
	// Findings keeps the first MaxStored findings of each kind, by T.
	Findings []Finding `json:"findings"`
	// Counts has every kind, exact.
	Counts map[string]int `json:"counts"`
	// Ignores says how often each ignore rule matched a field.
	Ignores []IgnoreUse `json:"ignores,omitempty"`
	// Noisy lists the fields that differed between two observers of the
	// same thing (A/A calibration).
	Noisy []NoisyField `json:"noisy,omitempty"`
	// FinalCompared: the capture has a successful final REST round to
	// compare with the last WS values. FinalEqual: they were all equal, for
	// every subscriber, with no key on one side only.
	FinalCompared bool `json:"final_compared"`
	FinalEqual    bool `json:"final_equal"`
	// SeqAligned: REST and WS were aligned by seq (both carry it and every
	// observation had one).
	SeqAligned bool `json:"seq_aligned"`

	// Gone is set for a feature whose REST endpoint was removed (cleanup):
	// what its paths answered.
	Gone *GoneCheck `json:"gone,omitempty"`
	// Attribution says where WS losses happened, from the channel-layer
	// tap; nil when the capture has no tap.
	Attribution *Attribution `json:"attribution,omitempty"`
	// Convergence says, per scheduled fault, how long the subscribers' WS
	// views took to equal REST's again (state features; convergence.go).
	Convergence []Convergence `json:"convergence,omitempty"`
}

// Finding is one observed difference or fault.
type Finding struct {
	Kind    string `json:"kind"`
	Feature string `json:"feature,omitempty"`
	// Key is the item's key fields' values joined with "|".
	Key string `json:"key,omitempty"`
	// Seq is the seq the finding is about, 0 when none.
	Seq int64 `json:"seq,omitempty"`
	// T is when it was observed, ns on the capture's clock.
	T int64 `json:"t"`
	// Subscriber is the WS subscriber (n of "ws:n") the finding is about,
	// -1 when it is about none in particular (REST, or every subscriber).
	Subscriber int `json:"subscriber"`
	// REST and WS are the two values (normalised: ignored fields dropped).
	REST any `json:"rest,omitempty"`
	WS   any `json:"ws,omitempty"`
	// Diff is go-cmp's (-rest +ws) explanation. Its text is not stable.
	Diff   string `json:"diff,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Until and Missed describe a subscriber_gap: the span [T, Until] and
	// how many messages the subscriber missed in it.
	Until  int64 `json:"until,omitempty"`
	Missed int   `json:"missed,omitempty"`
}

// LagStats summarises lags, all in nanoseconds. Percentiles come from an
// HDR histogram (3 significant digits); N, Min, Max and Mean are exact.
type LagStats struct {
	N    int           `json:"n"`
	Min  time.Duration `json:"min_ns"`
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P99  time.Duration `json:"p99_ns"`
	Max  time.Duration `json:"max_ns"`
	Mean time.Duration `json:"mean_ns"`
	// Gain is the median of -lag: how much earlier WS shows a value than
	// REST does (the "freshness gain").
	Gain time.Duration `json:"gain_ns"`
}

// LagPoint is one matched value's lag at T (REST's first observation).
type LagPoint struct {
	T   int64         `json:"t"`
	Lag time.Duration `json:"lag_ns"`
}

// IgnoreUse reports one ignore rule and how many fields it dropped
// (counted per observation: each REST item and each WS item delivery).
type IgnoreUse struct {
	Field   string `json:"field"`
	Reason  string `json:"reason"`
	Matched int    `json:"matched"`
}

// NoisyField is a field that differed between two observers of the same
// thing: two WS subscribers given the same message, or two REST pollers
// given the same state.
type NoisyField struct {
	// Field is the item field's path, array indexes written "#".
	Field string `json:"field"`
	// Source is "ws" or "rest".
	Source string `json:"source"`
	// Count is how many compared pairs differed in it.
	Count    int            `json:"count"`
	Examples []NoisyExample `json:"examples,omitempty"`
	// Ignored: an ignore rule covers the field (Rule). A noisy field that
	// is not ignored makes REST/WS comparisons of it unreliable.
	Ignored bool   `json:"ignored"`
	Rule    string `json:"rule,omitempty"`
}

// NoisyExample is one pair of differing values (raw JSON) and the key of
// the item they belong to.
type NoisyExample struct {
	Key string `json:"key,omitempty"`
	A   string `json:"a"`
	B   string `json:"b"`
}

// findings keeps exact counts and the first MaxStored findings per kind.
type findings struct {
	counts [9]int
	stored [9][]Finding
	// lost, when set, is told of every missing_in_ws finding and its index
	// among the stored ones (-1: not stored), for the tap's attribution.
	lost func(f Finding, stored int)
}

// add counts a finding of kind and stores the one build makes if there is
// room; build is not called otherwise (it may be costly: go-cmp).
func (fs *findings) add(kind string, build func() Finding) {
	i := kindIndex(kind)
	fs.counts[i]++
	if fs.lost != nil && kind == MissingInWS {
		f := build()
		f.Kind = kind
		at := -1
		if len(fs.stored[i]) < MaxStored {
			at = len(fs.stored[i])
			fs.stored[i] = append(fs.stored[i], f)
		}
		fs.lost(f, at)
		return
	}
	if len(fs.stored[i]) < MaxStored {
		f := build()
		f.Kind = kind
		fs.stored[i] = append(fs.stored[i], f)
	}
}

func (fs *findings) list() []Finding {
	out := []Finding{}
	for _, s := range fs.stored {
		out = append(out, s...)
	}
	sortFindings(out)
	return out
}

func (fs *findings) countMap() map[string]int {
	m := make(map[string]int, len(Kinds))
	for i, k := range Kinds {
		m[k] = fs.counts[i]
	}
	return m
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if a.T != b.T {
			return a.T < b.T
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if a.Seq != b.Seq {
			return a.Seq < b.Seq
		}
		return a.Subscriber < b.Subscriber
	})
}

// GoneCheck counts the polls of a removed REST endpoint.
type GoneCheck struct {
	Polls int `json:"polls"`
	// Gone counts answers 404 Not Found or 410 Gone.
	Gone int `json:"gone"`
	// Statuses counts every answer by status (0: no answer).
	Statuses map[int]int `json:"statuses"`
}
