package diff

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

func TestCanonical(t *testing.T) {
	tests := []struct {
		name, in, want string
		ignore         []string
	}{
		{name: "sorted and compact", in: `{ "b" : 1 , "a" : [ 2 , {"y":true,"x":null} ] }`, want: `{"a":[2,{"x":null,"y":true}],"b":1}`},
		{name: "numbers as written", in: `{"p":5123.50,"q":-1e3}`, want: `{"p":5123.50,"q":-1e3}`},
		{name: "escapes made one", in: `{"s":"\u0041\/b","\u006b":1}`, want: `{"k":1,"s":"A/b"}`},
		{name: "ignored top field", in: `{"a":1,"ts":2,"b":3}`, ignore: []string{"ts"}, want: `{"a":1,"b":3}`},
		{name: "ignored nested field", in: `{"a":{"ts":1,"v":2},"ts":5}`, ignore: []string{"a.ts"}, want: `{"a":{"v":2},"ts":5}`},
		{name: "ignored in array elements", in: `{"l":[{"id":1,"ts":1},{"id":2,"ts":2}]}`, ignore: []string{"l.#.ts"}, want: `{"l":[{"id":1},{"id":2}]}`},
		{name: "wildcard", in: `{"a":{"ts":1},"b":{"ts":2,"v":0}}`, ignore: []string{"*.ts"}, want: `{"a":{},"b":{"v":0}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rules []ignoreRule
			for _, f := range tt.ignore {
				rules = append(rules, ignoreRule{field: f, segs: compileIgnore(f)})
			}
			n := newNormalizer([]string{"a"}, rules, 1e-6)
			got, _ := n.canonOf(tt.in)
			if got != tt.want {
				t.Errorf("canon %s = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestValueEqual(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		tol  float64
		want bool
	}{
		{"same bytes", `{"a":1}`, `{"a":1}`, 0, true},
		{"other order", `{"a":1,"b":2}`, `{"b":2,"a":1}`, 0, true},
		{"other spacing", `{"a": 1}`, `{"a":1}`, 0, true},
		{"number written otherwise", `{"a":1.50}`, `{"a":1.5}`, 0, true},
		{"within tolerance", `{"a":100.004}`, `{"a":100.0041}`, 0.001, true},
		{"beyond tolerance", `{"a":100.004}`, `{"a":100.006}`, 0.001, false},
		{"beyond tolerance, other order", `{"b":1,"a":100.004}`, `{"a":100.006,"b":1}`, 0.001, false},
		{"field missing", `{"a":1,"b":2}`, `{"a":1}`, 0, false},
		{"number vs string", `{"a":1}`, `{"a":"1"}`, 0, false},
		{"strings differ", `{"s":"OPEN"}`, `{"s":"CLOSED"}`, 0, false},
		{"digits in strings", `{"s":"a1"}`, `{"s":"a2"}`, 1, false},
		{"nested numbers", `{"l":[1,2,{"x":3}]}`, `{"l":[1,2,{"x":3.0000001}]}`, 1e-6, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, ignore := range []bool{false, true} {
				var rules []ignoreRule
				if ignore {
					rules = []ignoreRule{{field: "zz", segs: []string{"zz"}}}
				}
				n := newNormalizer([]string{"a"}, rules, tt.tol)
				_, va, _ := n.item(tt.a)
				_, vb, _ := n.item(tt.b)
				if got := va.equal(&vb, tt.tol); got != tt.want {
					t.Errorf("eager %v: equal(%s, %s) = %v, want %v", ignore, tt.a, tt.b, got, tt.want)
				}
			}
		})
	}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		item string
		want string
		bad  bool
	}{
		{name: "one", keys: []string{"account_id"}, item: `{"cash":1,"account_id":"ACC-1"}`, want: "ACC-1"},
		{name: "two", keys: []string{"account_id", "symbol"}, item: `{"symbol":"ES","account_id":"ACC-1"}`, want: "ACC-1|ES"},
		{name: "number", keys: []string{"id"}, item: `{"id":42}`, want: "42"},
		{name: "escaped", keys: []string{"id"}, item: `{"id":"A\u0042"}`, want: "AB"},
		{name: "nested path", keys: []string{"meta.id"}, item: `{"meta":{"id":"x"}}`, want: "x"},
		{name: "missing", keys: []string{"id"}, item: `{"other":1}`, bad: true},
		{name: "null", keys: []string{"id"}, item: `{"id":null}`, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, eager := range []bool{false, true} {
				var rules []ignoreRule
				if eager {
					rules = []ignoreRule{{field: "zz", segs: []string{"zz"}}}
				}
				n := newNormalizer(tt.keys, rules, 0)
				key, _, bad := n.item(tt.item)
				if (bad != "") != tt.bad || (!tt.bad && key != tt.want) {
					t.Errorf("eager %v: key %q problem %q; want %q (problem %v)", eager, key, bad, tt.want, tt.bad)
				}
			}
		})
	}
}

// A capture cut mid-record by a crash is diffed up to there.
func TestTruncatedCapture(t *testing.T) {
	path := filepath.Join(t.TempDir(), capture.FileName)
	w, err := capture.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	s := newSim(3, false)
	for i := 0; i < 6; i++ {
		s.set("account_balance", "ACC-1", bal("ACC-1", 1000+float64(i)))
		s.after(100 * ms)
		s.rounds(1, 250*ms, "account_balance")
	}
	next := s.next()
	for {
		r, err := next()
		if err == io.EOF {
			break
		}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A last WS line, half written.
	b = append(b, `{"k":"ws","t":9999999999,"src":"ws:0","size":40,"body":{"type":"account_bal`...)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := DiffFile(simScenario(3, false, "account_balance"), path)
	if err != nil {
		t.Fatalf("a truncated capture is not an error: %v", err)
	}
	f := r.Features[0]
	if !r.Truncated || r.Ended != "" || f.FinalCompared || f.Matched != 6 || totalFindings(r) != 0 {
		t.Errorf("truncated %v ended %q final compared %v matched %d findings %d", r.Truncated, r.Ended, f.FinalCompared, f.Matched, totalFindings(r))
	}
}

func TestDiffErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	tests := []struct {
		name string
		sc   *scenario.Scenario
		recs []capture.Record
		err  error
		want string
	}{
		{name: "no features", sc: &scenario.Scenario{}, want: "no features"},
		{name: "no key", sc: &scenario.Scenario{Features: map[string]*scenario.Feature{"f": {WS: scenario.WS{Type: "t"}}}}, want: "no key fields"},
		{name: "no ws type", sc: &scenario.Scenario{Features: map[string]*scenario.Feature{"f": {Key: []string{"id"}}}}, want: "ws.type is empty"},
		{name: "bad kind", sc: &scenario.Scenario{Features: map[string]*scenario.Feature{"f": {Kind: "stat", Key: []string{"id"}, WS: scenario.WS{Type: "t"}}}}, want: `kind "stat"`},
		{name: "bad source", sc: balanceSC(false), recs: []capture.Record{recWS(1, 0, `{}`)}, want: ""},
		{name: "too many subscribers", sc: balanceSC(false), recs: []capture.Record{recWS(1, 64, `{}`)}, want: "at most 64"},
		{name: "reader error", sc: balanceSC(false), err: boom},
	}
	tests[4].recs[0].Src = "sub-0"
	tests[4].want = `source "sub-0"`
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := 0
			next := func() (*capture.Record, error) {
				if i < len(tt.recs) {
					i++
					return &tt.recs[i-1], nil
				}
				if tt.err != nil {
					return nil, tt.err
				}
				return nil, io.EOF
			}
			_, err := Diff(tt.sc, next)
			switch {
			case err == nil:
				t.Fatal("no error")
			case tt.err != nil && !errors.Is(err, tt.err):
				t.Errorf("error %v, want %v", err, tt.err)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %q, want it to say %q", err, tt.want)
			}
		})
	}
}

// Counts stay exact past the findings kept.
func TestFindingsCap(t *testing.T) {
	s := newSim(2, false)
	for i := 0; i < MaxStored+30; i++ {
		s.add(recText(s.t, 0, "not json"))
		s.after(ms)
	}
	r, err := Diff(balanceSC(false), s.next())
	if err != nil {
		t.Fatal(err)
	}
	if r.Counts[ProtocolError] != MaxStored+30 || len(r.Findings) != MaxStored {
		t.Errorf("count %d, kept %d", r.Counts[ProtocolError], len(r.Findings))
	}
}

// Messages that carry several items (a snapshot per message), numbers
// within the tolerance, and positions keyed by two fields.
func TestSnapshotsAndTolerance(t *testing.T) {
	for _, noSeq := range []bool{false, true} {
		s := newSim(2, noSeq)
		sc := simScenario(2, noSeq, "positions")
		sc.Features["positions"].Tolerance = 0.01
		for i := 0; i < 8; i++ {
			a := pos("ACC-1", "ES", 1+i, 5100+float64(i))
			b := pos("ACC-1", "NQ", 2, 18000+float64(i))
			s.seq++
			s.state["positions"] = map[string]string{"ACC-1|ES": a, "ACC-1|NQ": b}
			// WS is off by less than the tolerance, in one message of both.
			wa := strings.Replace(a, `"avg_price":5100.00`, `"avg_price":5100.004`, 1)
			snap := "[" + wa + "," + b + "]"
			s.send("positions", s.seq, snap)
			s.after(100 * ms)
			s.rounds(1, 250*ms, "positions")
		}
		s.finish("positions")
		r, err := Diff(sc, s.next())
		if err != nil {
			t.Fatal(err)
		}
		f := r.Features[0]
		if n := totalFindings(r); n != 0 || f.Keys != 2 || f.Matched != 16 || f.WSItems != 16 || !f.FinalEqual {
			t.Errorf("noSeq %v: %d findings, keys %d matched %d items %d final equal %v\n%s", noSeq, n, f.Keys, f.Matched, f.WSItems, f.FinalEqual, dumpFindings(r))
		}
	}
}

// Without a final round, events are checked against each path's last poll.
func TestEventsWithoutFinalRound(t *testing.T) {
	s := newSim(2, false)
	for i := 0; i < 4; i++ {
		s.set("intraday_bars", barKey("ES", i), bar("ES", i, 5100))
		s.after(100 * ms)
		s.poll("intraday_bars", "0")
		s.after(250 * ms)
	}
	s.send("intraday_bars", s.seq, bar("ES", 9, 1))
	r, err := Diff(simScenario(2, false, "intraday_bars"), s.next())
	if err != nil {
		t.Fatal(err)
	}
	f := r.Features[0]
	if f.FinalCompared || f.Counts[ExtraInWS] != 1 || totalFindings(r) != 1 {
		t.Errorf("final compared %v, findings:\n%s", f.FinalCompared, dumpFindings(r))
	}
}

// The WS history kept is bounded by what REST has not yet passed, not by
// the capture's length.
func TestBoundedHistory(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 4_000
	}
	short, shortCache := keptHistory(t, n)
	long, longCache := keptHistory(t, 4*n)
	// 1000 messages/s over 16 keys, REST every 250ms: what arrives in about
	// two poll intervals (the last poll's values, and those REST's pending
	// observations may still need), whatever the capture's length.
	if long > 600 || long > short*3/2 {
		t.Errorf("kept up to %d history entries over %ds and %d over %ds", short, n/1000, long, 4*n/1000)
	}
	if shortCache != longCache {
		t.Errorf("message cache holds %d bodies after %ds, %d after %ds", shortCache, n/1000, longCache, 4*n/1000)
	}
}

func keptHistory(t *testing.T, msgs int) (most, cached int) {
	path := filepath.Join(t.TempDir(), "capture.jsonl")
	genCapture(t, path, 3, msgs, 1000)
	d, err := newDiffer(benchScenario(3))
	if err != nil {
		t.Fatal(err)
	}
	rd, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	for n := 0; ; n++ {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := d.record(rec); err != nil {
			t.Fatal(err)
		}
		if n%500 == 0 {
			kept := 0
			for _, f := range d.feats {
				if f.st == nil {
					continue
				}
				for _, k := range f.st.keys {
					kept += len(k.w) + len(k.pend)
				}
			}
			most = max(most, kept)
		}
	}
	cached = len(d.cache.m)
	if r := d.finish(); totalFindings(r) != 0 {
		t.Errorf("findings on a clean capture:\n%s", dumpFindings(r))
	}
	return most, cached
}

// A subscriber that is gone for good does not hold REST's judgement back
// past the timeout, and its loss is one gap.
func TestDeadSubscriber(t *testing.T) {
	s := newSim(3, false)
	for i := 0; i < 60; i++ {
		f := wsFault{}
		if i >= 5 {
			f.only = []int{0, 1}
		}
		s.set("account_balance", "ACC-1", bal("ACC-1", 1000+float64(i)), f)
		s.after(100 * ms)
		s.rounds(1, 250*ms, "account_balance")
		if i%3 == 0 {
			s.heartbeat()
		}
	}
	s.finish("account_balance")
	r, err := Diff(balanceSC(false), s.next())
	if err != nil {
		t.Fatal(err)
	}
	f := r.Features[0]
	if f.Counts[SubscriberGap] != 1 || totalFindings(r) != 1 || f.Findings[0].Missed != 55 || f.Findings[0].Subscriber != 2 {
		t.Errorf("findings:\n%s", dumpFindings(r))
	}
}
