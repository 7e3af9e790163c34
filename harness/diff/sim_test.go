package diff

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// simStack writes the records a run against the reference stack would
// capture (ARCHITECTURE.md's thor profile): every state change gets the
// next seq and goes out over WS to every subscriber, one item per message;
// REST polls list the current items sorted by key. Faults are per call.
type simStack struct {
	t     int64
	seq   int64
	subs  int
	noSeq bool
	recs  []capture.Record
	// state is REST's view per feature: key -> item JSON.
	state map[string]map[string]string
	hist  map[string][]simSnap
}

type simSnap struct {
	t, seq int64
	items  map[string]string
}

var simTypes = map[string]string{
	"account_balance": "account_balance",
	"positions":       "positions",
	"intraday_bars":   "intraday_bar",
	"global_market":   "market_status",
}

var simPaths = map[string]string{
	"account_balance": "/api/account/balance",
	"positions":       "/api/positions",
	"intraday_bars":   "/api/intraday/bars?symbol=ES",
	"global_market":   "/api/global-markets/status",
}

func newSim(subs int, noSeq bool) *simStack {
	s := &simStack{subs: subs, noSeq: noSeq, state: map[string]map[string]string{}, hist: map[string][]simSnap{}}
	s.add(capture.Record{K: capture.KindStart, Meta: &capture.Meta{RunID: "test"}})
	for i := 0; i < subs; i++ {
		s.add(capture.Record{K: capture.KindConn, Src: fmt.Sprintf("ws:%d", i), T: 1000})
	}
	s.t = int64(time.Millisecond)
	return s
}

func (s *simStack) add(r capture.Record) { s.recs = append(s.recs, r) }

func (s *simStack) after(d time.Duration) *simStack {
	s.t += int64(d)
	return s
}

// wsFault changes how one change goes out over WS.
type wsFault struct {
	item   string // the WS item instead of REST's
	drop   bool   // no subscriber gets it
	only   []int  // only these subscribers get it (nil: all)
	delay  time.Duration
	dup    bool // sent twice in a row
	noSend bool // nothing over WS (like drop)
	// mutate changes the item per subscriber (noise).
	mutate func(sub int, item string) string
	// seq overrides the message's seq.
	seq int64
}

// set changes a key of a feature (REST's state) and sends it over WS.
func (s *simStack) set(feat, key, item string, faults ...wsFault) *simStack {
	s.seq++
	m := s.state[feat]
	if m == nil {
		m = map[string]string{}
		s.state[feat] = m
	}
	m[key] = item
	cp := make(map[string]string, len(m))
	for k, v := range m {
		cp[k] = v
	}
	s.hist[feat] = append(s.hist[feat], simSnap{t: s.t, seq: s.seq, items: cp})
	var f wsFault
	if len(faults) > 0 {
		f = faults[0]
	}
	if f.drop || f.noSend {
		return s
	}
	wsItem := item
	if f.item != "" {
		wsItem = f.item
	}
	seq := s.seq
	if f.seq != 0 {
		seq = f.seq
	}
	n := 1
	if f.dup {
		n = 2
	}
	for sub := 0; sub < s.subs; sub++ {
		if f.only != nil && !containsInt(f.only, sub) {
			continue
		}
		it := wsItem
		if f.mutate != nil {
			it = f.mutate(sub, it)
		}
		for i := 0; i < n; i++ {
			t := s.t + int64(f.delay) + int64(sub)*30_000 + int64(i)*1000
			s.wsFrame(t, sub, s.msg(simTypes[feat], seq, it))
		}
	}
	return s
}

// send sends a WS message without changing REST's state.
func (s *simStack) send(feat string, seq int64, item string, subs ...int) *simStack {
	for sub := 0; sub < s.subs; sub++ {
		if subs != nil && !containsInt(subs, sub) {
			continue
		}
		s.wsFrame(s.t+int64(sub)*30_000, sub, s.msg(simTypes[feat], seq, item))
	}
	return s
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (s *simStack) msg(typ string, seq int64, item string) string {
	if s.noSeq {
		return fmt.Sprintf(`{"type":%q,"data":%s}`, typ, item)
	}
	return fmt.Sprintf(`{"type":%q,"seq":%d,"data":%s}`, typ, seq, item)
}

func (s *simStack) wsFrame(t int64, sub int, body string) {
	s.add(capture.Record{K: capture.KindWS, T: t, Src: fmt.Sprintf("ws:%d", sub), Size: len(body), Body: []byte(body)})
}

func (s *simStack) heartbeat() *simStack {
	body := fmt.Sprintf(`{"type":"heartbeat","seq":%d,"ts":"2026-03-02T14:30:%02d.000Z"}`, s.seq, (s.t/1e9)%60)
	for sub := 0; sub < s.subs; sub++ {
		s.wsFrame(s.t+int64(sub)*30_000, sub, body)
	}
	return s
}

// poll records a REST poll of feat by poller role ("0", "1", "final")
// showing the current state.
func (s *simStack) poll(feat, role string) *simStack {
	return s.pollItems(feat, role, s.seq, s.state[feat], nil)
}

// pollStale polls a REST view as it was age ago.
func (s *simStack) pollStale(feat, role string, age time.Duration) *simStack {
	h := s.hist[feat]
	var snap simSnap
	for _, x := range h {
		if x.t <= s.t-int64(age) {
			snap = x
		}
	}
	return s.pollItems(feat, role, snap.seq, snap.items, nil)
}

// pollWith polls with each item changed by mutate.
func (s *simStack) pollWith(feat, role string, mutate func(string) string) *simStack {
	return s.pollItems(feat, role, s.seq, s.state[feat], mutate)
}

func (s *simStack) pollItems(feat, role string, seq int64, items map[string]string, mutate func(string) string) *simStack {
	keys := make([]string, 0, len(items))
	for k := range items {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	list := make([]string, len(keys))
	for i, k := range keys {
		list[i] = items[k]
		if mutate != nil {
			list[i] = mutate(list[i])
		}
	}
	body := fmt.Sprintf(`{"seq":%d,"data":[%s]}`, seq, strings.Join(list, ","))
	if s.noSeq {
		body = fmt.Sprintf(`{"data":[%s]}`, strings.Join(list, ","))
	}
	return s.pollRaw(feat, role, 200, body, "", "")
}

func (s *simStack) pollRaw(feat, role string, status int, body, text, err string) *simStack {
	r := capture.Record{K: capture.KindREST, T0: s.t - int64(time.Millisecond), T: s.t, Src: "rest:" + feat + ":" + role,
		Feature: feat, Path: simPaths[feat], Status: status, Text: text, Err: err}
	if body != "" {
		r.Body = []byte(body)
		r.Size = len(body)
	}
	s.add(r)
	return s
}

// rounds polls every feature given with poller 0 and, half a step later,
// the twin, n times, step apart.
func (s *simStack) rounds(n int, step time.Duration, feats ...string) *simStack {
	for i := 0; i < n; i++ {
		for _, f := range feats {
			s.poll(f, "0")
		}
		s.after(step / 2)
		for _, f := range feats {
			s.poll(f, "1")
		}
		s.after(step / 2)
	}
	return s
}

// finish settles (both pollers once more), runs the final round and ends.
func (s *simStack) finish(feats ...string) *simStack {
	settledAt := s.t
	s.after(300 * time.Millisecond)
	s.rounds(2, 500*time.Millisecond, feats...)
	for _, f := range feats {
		s.poll(f, "final")
	}
	s.after(time.Millisecond)
	settled := true
	s.add(capture.Record{K: capture.KindEnd, T: s.t, Meta: &capture.Meta{Ended: "complete", Settled: &settled, SettledAt: settledAt}})
	return s
}

// next returns the records in time order, as the capture writer would
// have written them.
func (s *simStack) next() func() (*capture.Record, error) {
	recs := append([]capture.Record(nil), s.recs...)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].T < recs[j].T })
	i := 0
	var cur capture.Record
	var buf []byte
	return func() (*capture.Record, error) {
		if i == len(recs) {
			return nil, io.EOF
		}
		cur = recs[i]
		// Bodies are only valid until the next call, as with capture.Reader:
		// one buffer is reused, so a kept Body turns to garbage.
		if cur.Body != nil {
			for j := range buf {
				buf[j] = '#'
			}
			buf = append(buf[:0], recs[i].Body...)
			cur.Body = buf
		}
		i++
		return &cur, nil
	}
}

// Items shaped like the reference stack's.

func bal(acct string, cash float64) string {
	return fmt.Sprintf(`{"account_id":%q,"cash":%.2f,"buying_power":%.2f,"net_liq":%.2f}`, acct, cash, cash*4, cash)
}

func balNoNetLiq(acct string, cash float64) string {
	return fmt.Sprintf(`{"account_id":%q,"cash":%.2f,"buying_power":%.2f}`, acct, cash, cash*4)
}

func pos(acct, sym string, qty int, last float64) string {
	return fmt.Sprintf(`{"account_id":%q,"symbol":%q,"qty":%d,"avg_price":5100.00,"last":%.2f,"market_value":%.2f,"unrealized_pnl":%.2f}`,
		acct, sym, qty, last, float64(qty)*last*50, (last-5100)*float64(qty)*50)
}

func mkt(market, status string) string {
	return fmt.Sprintf(`{"market":%q,"status":%q}`, market, status)
}

func bar(sym string, minute int, closePx float64) string {
	return fmt.Sprintf(`{"symbol":%q,"start":"2026-03-02T14:%02d:00Z","open":5100.25,"high":5110.50,"low":5099.00,"close":%.2f,"volume":%d}`,
		sym, minute, closePx, 100+minute)
}

func barKey(sym string, minute int) string {
	return fmt.Sprintf("%s|2026-03-02T14:%02d:00Z", sym, minute)
}

// simScenario is the thor profile's scenario for the given features, built
// in Go (as the loader would fill it in).
func simScenario(subs int, noSeq bool, feats ...string) *scenario.Scenario {
	sc := &scenario.Scenario{Name: "sim", Subscribers: subs, Features: map[string]*scenario.Feature{}}
	empty := ""
	for _, name := range feats {
		f := &scenario.Feature{
			Kind: scenario.KindState,
			REST: scenario.REST{Paths: []string{simPaths[name]}, Poll: scenario.Duration(250 * time.Millisecond)},
			WS:   scenario.WS{Type: simTypes[name]},
		}
		switch name {
		case "account_balance":
			f.Key = []string{"account_id"}
		case "positions":
			f.Key = []string{"account_id", "symbol"}
		case "intraday_bars":
			f.Kind, f.Key, f.Order = scenario.KindEvents, []string{"symbol", "start"}, "start"
		case "global_market":
			f.Key = []string{"market"}
		}
		if noSeq {
			f.REST.Seq, f.WS.Seq = &empty, &empty
		}
		sc.Features[name] = f
	}
	return sc
}

func recWS(t int64, sub int, body string) capture.Record {
	return capture.Record{K: capture.KindWS, T: t, Src: fmt.Sprintf("ws:%d", sub), Size: len(body), Body: []byte(body)}
}

func recText(t int64, sub int, text string) capture.Record {
	return capture.Record{K: capture.KindWS, T: t, Src: fmt.Sprintf("ws:%d", sub), Size: len(text), Text: text}
}

func recBinary(t int64, sub int, data string) capture.Record {
	return capture.Record{K: capture.KindWS, T: t, Src: fmt.Sprintf("ws:%d", sub), Size: len(data), Binary: true, Text: data, Err: "binary frame"}
}
