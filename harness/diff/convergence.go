package diff

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/thor-trading/cutover-harness/harness/capture"
)

// Convergence after faults. A scheduled fault (a capture.KindFault record:
// T0 when it began, T when the stack served again) may cost subscribers
// messages (subscriber_gap findings say which). What matters next is
// whether they recover: for each state feature and each subscriber, the
// time from the fault's end until the subscriber's WS view equals REST's
// again, judged at REST's polls:
//
//   - with seq, a poll (body seq S, sent after the fault's end) agrees with
//     a subscriber once the subscriber is past S, when its latest value
//     with seq ≤ S of every key equals the poll's, and (one REST path) it
//     has no key the poll lacks;
//   - without seq, when at the poll's arrival each key's REST value is the
//     subscriber's current value or one it held within the freshness budget
//     before the request.
//
// The subscriber has converged at the first agreeing poll (the later of
// the poll's answer and the subscriber's reaching its seq), measured at
// poll resolution. Events features are not measured: what a subscriber
// lost of them stays lost (see subscriber_gap). The analysis runs only for
// captures of scenarios that schedule faults.

// histSize is how many recent values per key and subscriber are kept.
const histSize = 16

// maxWatchPolls bounds the polls a fault keeps for subscribers behind.
const maxWatchPolls = 64

// FaultRun is one scheduled fault as the capture recorded it.
type FaultRun struct {
	// Fault says what it was, e.g. "kill_replica 1" or "stop_redis for 3s".
	Fault string `json:"fault"`
	// T0 is when it began, T when the stack served again (for a fault
	// without an end, when it was injected); ns on the capture's clock.
	T0 int64 `json:"t0"`
	T  int64 `json:"t"`
	// Err says what went wrong injecting or ending it.
	Err string `json:"err,omitempty"`
	// Moves are the subscribers that connected to another URL (replica)
	// between its beginning and the next fault's.
	Moves []Move `json:"moves,omitempty"`
}

// Move is a subscriber that reconnected to another URL.
type Move struct {
	Subscriber int    `json:"subscriber"`
	From       string `json:"from"`
	To         string `json:"to"`
	// T is when it connected to To.
	T int64 `json:"t"`
}

// Convergence is how one state feature recovered from one fault.
type Convergence struct {
	Fault string `json:"fault"`
	// End is the fault's end (FaultRun.T).
	End int64 `json:"end"`
	// Converged: every subscriber's view equalled REST's again before the
	// capture ended. After is the slowest subscriber's time from End
	// (Slowest), or, when one never converged, the time observed since
	// End.
	Converged bool          `json:"converged"`
	After     time.Duration `json:"after_ns"`
	Slowest   int           `json:"slowest"`
	// Subscribers has each subscriber's recovery.
	Subscribers []SubscriberConvergence `json:"subscribers"`
	// Polls is how many REST polls after End were compared.
	Polls int `json:"polls"`
}

// SubscriberConvergence is one subscriber's recovery from a fault.
type SubscriberConvergence struct {
	Subscriber int           `json:"subscriber"`
	Converged  bool          `json:"converged"`
	After      time.Duration `json:"after_ns,omitempty"`
}

// convergence is the analysis in progress.
type convergence struct {
	d      *differ
	feats  []*convFeature // by feature index, nil for events features
	faults []FaultRun
	// wm is each subscriber's highest seq over every feature.
	wm  []int64
	url []string // each subscriber's current URL
	// pending moves, attributed to faults at the end.
	moves []Move
}

type convFeature struct {
	f       *feature
	n       *normalizer // its own: never disturbs the feature's
	paths   int
	keys    map[string]*convKey
	watches []*convWatch
}

type convKey struct {
	subs [][]wsVal // per subscriber, the last histSize values
}

type wsVal struct {
	v      *value
	seq, t int64
}

// convWatch follows one fault's recovery on one feature.
type convWatch struct {
	fault int
	end   int64
	polls []convPoll
	base  int // absolute index of polls[0]
	seen  int // polls compared
	subs  []watchSub
}

type watchSub struct {
	next      int // absolute index of the next poll to compare
	agreed    map[string]bool
	converged bool
	at        int64
}

type convPoll struct {
	path  string
	t0, t int64
	seq   int64
	items map[string]*value
}

func newConvergence(d *differ) *convergence {
	if len(d.sc.Faults) == 0 {
		return nil
	}
	c := &convergence{d: d, feats: make([]*convFeature, len(d.feats))}
	for i, f := range d.feats {
		if f.conf.kind != kindState {
			continue
		}
		sf := d.sc.Features[f.conf.name]
		c.feats[i] = &convFeature{f: f, n: newNormalizer(sf.Key, f.conf.ignore, f.conf.tol), paths: len(sf.REST.Paths), keys: map[string]*convKey{}}
	}
	return c
}

func (c *convergence) grow(n int) {
	for len(c.wm) < n {
		c.wm = append(c.wm, 0)
		c.url = append(c.url, "")
	}
}

// record takes every record of the capture, after the diff has.
func (c *convergence) record(rec *capture.Record) {
	switch rec.K {
	case capture.KindWS:
		s, err := c.d.sub(rec.Src)
		if err != nil || rec.Body == nil {
			return
		}
		c.grow(c.d.n)
		m := c.d.cache.get(rec.Body, c.d.dec)
		if m.feat < 0 || c.feats[m.feat] == nil {
			return
		}
		cf := c.feats[m.feat]
		if cf.f.conf.seqMode {
			if !m.hasSeq {
				return
			}
			c.wm[s] = max(c.wm[s], m.seq)
		}
		for i := range m.items {
			it := &m.items[i]
			k := cf.keys[it.key]
			if k == nil {
				k = &convKey{}
				cf.keys[cloneString(it.key)] = k
			}
			for len(k.subs) <= s {
				k.subs = append(k.subs, nil)
			}
			h := k.subs[s]
			if len(h) == histSize {
				copy(h, h[1:])
				h = h[:histSize-1]
			}
			k.subs[s] = append(h, wsVal{v: &it.v, seq: m.seq, t: rec.T})
		}
		for _, f := range c.feats {
			if f != nil && f.f.conf.seqMode {
				for _, w := range f.watches {
					c.compare(f, w, s)
				}
			}
		}
	case capture.KindREST:
		cf := c.featureOf(rec.Feature)
		if cf == nil || rec.Err != "" || rec.Status/100 != 2 || rec.Body == nil || len(cf.watches) == 0 {
			return
		}
		if r := pollerRole(rec.Src); r != rolePrimary && r != roleFinal {
			return
		}
		p, ok := cf.poll(rec)
		if !ok {
			return
		}
		for _, w := range cf.watches {
			if p.t0 < w.end {
				continue
			}
			w.polls = append(w.polls, p)
			if len(w.polls) > maxWatchPolls {
				w.polls = w.polls[1:]
				w.base++
			}
			c.grow(c.d.n)
			for s := 0; s < c.d.n; s++ {
				c.compare(cf, w, s)
			}
		}
	case capture.KindConn:
		if rec.Err != "" || rec.Path == "" {
			return
		}
		s, err := c.d.sub(rec.Src)
		if err != nil {
			return
		}
		c.grow(c.d.n)
		if prev := c.url[s]; prev != "" && prev != rec.Path {
			c.moves = append(c.moves, Move{Subscriber: s, From: prev, To: rec.Path, T: rec.T})
		}
		c.url[s] = rec.Path
	case capture.KindFault:
		c.faults = append(c.faults, FaultRun{Fault: rec.Text, T0: rec.T0, T: rec.T, Err: rec.Err})
		if rec.Err != "" && rec.T0 == rec.T {
			return // never took effect
		}
		for _, cf := range c.feats {
			if cf != nil {
				cf.watches = append(cf.watches, &convWatch{fault: len(c.faults) - 1, end: rec.T})
			}
		}
	}
}

func (c *convergence) featureOf(name string) *convFeature {
	if f := c.d.byName[name]; f != nil {
		for i, g := range c.d.feats {
			if g == f {
				return c.feats[i]
			}
		}
	}
	return nil
}

// poll reads a REST body's items.
func (cf *convFeature) poll(rec *capture.Record) (convPoll, bool) {
	body := string(rec.Body)
	conf := cf.f.conf
	p := convPoll{path: rec.Path, t0: rec.T0, t: rec.T, items: map[string]*value{}}
	if conf.seqMode {
		s := gjson.Get(body, conf.restSeq)
		if s.Type != gjson.Number {
			return p, false
		}
		p.seq = s.Int()
	}
	list := gjson.Get(body, conf.restItems)
	if !list.IsArray() && !list.IsObject() {
		return p, false
	}
	add := func(it gjson.Result) {
		key, v, bad := cf.n.item(it.Raw)
		if bad == "" {
			p.items[cloneString(key)] = &v
		}
	}
	if list.IsArray() {
		list.ForEach(func(_, it gjson.Result) bool { add(it); return true })
	} else {
		add(list)
	}
	return p, true
}

// compare compares subscriber s with the polls it has not been compared
// with yet, as far as it has come.
func (c *convergence) compare(cf *convFeature, w *convWatch, s int) {
	for len(w.subs) <= s {
		w.subs = append(w.subs, watchSub{next: w.base})
	}
	ws := &w.subs[s]
	if ws.converged {
		return
	}
	ws.next = max(ws.next, w.base)
	for ws.next < w.base+len(w.polls) {
		p := &w.polls[ws.next-w.base]
		seqMode := cf.f.conf.seqMode
		if seqMode && c.wm[s] < p.seq {
			return // not there yet
		}
		ws.next++
		w.seen = max(w.seen, ws.next-w.base)
		if !cf.agrees(p, s) {
			if ws.agreed != nil {
				delete(ws.agreed, p.path)
			}
			continue
		}
		if ws.agreed == nil {
			ws.agreed = map[string]bool{}
		}
		ws.agreed[p.path] = true
		if len(ws.agreed) >= cf.paths {
			ws.converged, ws.at = true, max(p.t, c.d.now)
			return
		}
	}
}

// agrees reports whether subscriber s's view matches poll p.
func (cf *convFeature) agrees(p *convPoll, s int) bool {
	conf := cf.f.conf
	for key, rv := range p.items {
		k := cf.keys[key]
		if k == nil || len(k.subs) <= s || len(k.subs[s]) == 0 {
			return false
		}
		h := k.subs[s]
		if conf.seqMode {
			i := len(h) - 1
			for i >= 0 && h[i].seq > p.seq {
				i--
			}
			if i < 0 || !h[i].v.equal(rv, conf.tol) {
				return false
			}
			continue
		}
		ok := false
		for i := len(h) - 1; i >= 0 && !ok; i-- {
			// Current at the poll, or held within the budget before it.
			if h[i].t <= p.t && (i == len(h)-1 || h[i+1].t >= p.t0-conf.budget) {
				ok = h[i].v.equal(rv, conf.tol)
			}
		}
		if !ok {
			return false
		}
	}
	if conf.seqMode && cf.paths == 1 {
		for key, k := range cf.keys {
			if _, ok := p.items[key]; ok || len(k.subs) <= s {
				continue
			}
			for _, e := range k.subs[s] {
				if e.seq <= p.seq {
					return false // a key REST does not list
				}
			}
		}
	}
	return true
}

// finish compares what is left (subscribers have all they will get) and
// writes the results.
func (c *convergence) finish(res *Result) {
	c.grow(c.d.n)
	for _, cf := range c.feats {
		if cf == nil {
			continue
		}
		for _, w := range cf.watches {
			for s := 0; s < c.d.n; s++ {
				saved := c.wm[s]
				c.wm[s] = 1<<62 - 1
				c.compare(cf, w, s)
				c.wm[s] = saved
			}
		}
	}
	for i := range c.faults {
		f := &c.faults[i]
		next := int64(1<<62 - 1)
		if i+1 < len(c.faults) {
			next = c.faults[i+1].T0
		}
		for _, m := range c.moves {
			if m.T >= f.T0 && m.T < next {
				f.Moves = append(f.Moves, m)
			}
		}
	}
	sort.SliceStable(c.faults, func(i, j int) bool { return c.faults[i].T0 < c.faults[j].T0 })
	res.Faults = c.faults
	for i, cf := range c.feats {
		if cf == nil {
			continue
		}
		fr := res.Features[i]
		for _, w := range cf.watches {
			cv := Convergence{Fault: c.faults[w.fault].Fault, End: w.end, Converged: true, Slowest: -1, Polls: w.seen}
			for s := 0; s < c.d.n; s++ {
				sc := SubscriberConvergence{Subscriber: s}
				if s < len(w.subs) && w.subs[s].converged {
					sc.Converged, sc.After = true, time.Duration(w.subs[s].at-w.end)
				}
				cv.Subscribers = append(cv.Subscribers, sc)
				switch {
				case !sc.Converged && cv.Converged:
					cv.Converged, cv.Slowest, cv.After = false, s, time.Duration(c.d.now-w.end)
				case sc.Converged && cv.Converged && (cv.Slowest < 0 || sc.After > cv.After):
					cv.Slowest, cv.After = s, sc.After
				}
			}
			if cv.Polls == 0 {
				cv.Converged = false // nothing to judge by
				cv.After = time.Duration(c.d.now - w.end)
			}
			fr.Convergence = append(fr.Convergence, cv)
		}
	}
}

// Describe renders a convergence for reports: "ws:3 converged 1.2s after
// stop_redis for 3s ended".
func (cv Convergence) Describe() string {
	switch {
	case cv.Polls == 0:
		return fmt.Sprintf("no REST poll after %s ended: convergence not measured", cv.Fault)
	case !cv.Converged:
		var never []string
		for _, s := range cv.Subscribers {
			if !s.Converged {
				never = append(never, "ws:"+strconv.Itoa(s.Subscriber))
			}
		}
		return fmt.Sprintf("%s never equalled REST again in the %s after %s ended", strings.Join(never, ", "), cv.After.Round(time.Millisecond), cv.Fault)
	}
	return fmt.Sprintf("every subscriber equalled REST again within %s after %s ended (slowest ws:%d)", cv.After.Round(time.Millisecond), cv.Fault, cv.Slowest)
}

// Describe renders a move: "ws:1 moved from … to … at 12.345s".
func (m Move) Describe() string {
	return fmt.Sprintf("ws:%d moved from %s to %s at %s", m.Subscriber, m.From, m.To, fmtT(m.T))
}
