package diff

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tidwall/gjson"

	"github.com/thor-trading/cutover-harness/harness/capture"
)

// REST poller roles, from the record's source "rest:<feature>:<role>".
const (
	rolePrimary = iota // "0": its polls are REST's trajectory
	roleTwin           // "1": the A/A twin, for calibration only
	roleFinal          // "final": the settled round
	roleOther          // anything else: counted and checked only
)

func pollerRole(src string) int {
	i := strings.LastIndexByte(src, ':')
	switch src[i+1:] {
	case "0":
		return rolePrimary
	case "1":
		return roleTwin
	case "final":
		return roleFinal
	}
	return roleOther
}

// feature is one feature's diff in progress.
type feature struct {
	d    *differ
	conf *featureConf
	res  FeatureResult
	fs   findings
	lag  *lagAcc
	// ignoreHits counts each ignore rule's matches.
	ignoreHits []int
	noise      *noise
	gaps       gapSpans
	// seqMissing counts observations without a seq in seq mode.
	seqMissing int
	settledAt  int64

	// resolveWait: how long REST values wait for WS before they are judged
	// without it; gapWait: how long a subscriber may trail another before
	// what it has not received counts as missed; retain: how long WS
	// history without REST is kept.
	resolveWait, gapWait, retain int64

	st *stateFeature
	ev *eventsFeature
}

func newFeature(d *differ, c *featureConf) *feature {
	f := &feature{
		d: d, conf: c, lag: newLagAcc(),
		ignoreHits:  make([]int, len(c.ignore)),
		resolveWait: max(10*int64(time.Second), 5*c.budget),
		gapWait:     max(5*int64(time.Second), 2*c.budget),
	}
	f.retain = f.resolveWait + f.gapWait
	f.noise = newNoise(c)
	f.res.Name, f.res.Kind = c.name, c.kindStr
	if c.kind == kindState {
		f.st = newStateFeature(f)
	} else {
		f.ev = newEventsFeature(f)
	}
	return f
}

func (f *feature) grow(n int) {
	if f.st != nil {
		f.st.grow(n)
	} else {
		f.ev.grow(n)
	}
}

// ws takes one message of the feature delivered to subscriber s at t.
func (f *feature) ws(s int, m *msg, t int64) {
	if s == 0 {
		f.res.WSMessages++
		f.res.WSItems += len(m.items)
	}
	for i, h := range m.hits {
		f.ignoreHits[i] += int(h)
	}
	for _, p := range m.problems {
		f.fs.add(ProtocolError, func() Finding {
			return Finding{Feature: f.conf.name, T: t, Subscriber: s, Seq: m.seq, Detail: "ws: " + p}
		})
	}
	if f.conf.seqMode && !m.hasSeq {
		f.seqMissing++
		return
	}
	if s <= 1 {
		f.noise.wsMsg(s, m, t, f.conf.seqMode)
	}
	if f.st != nil {
		f.st.ws(s, m, t)
	} else {
		f.ev.ws(s, m, t)
	}
}

// GoneSrc starts the source of a poll that checks a removed REST endpoint
// is gone ("gone:<feature>"): counted, never an observation.
const GoneSrc = "gone:"

// gone counts one poll of a removed endpoint.
func (f *feature) gone(rec *capture.Record) {
	g := f.res.Gone
	if g == nil {
		g = &GoneCheck{Statuses: map[int]int{}}
		f.res.Gone = g
	}
	g.Polls++
	g.Statuses[rec.Status]++
	if rec.Status == 404 || rec.Status == 410 {
		g.Gone++
	}
}

// restItem is one item of a REST body.
type restItem struct {
	key, raw string
}

// rest takes one REST poll of the feature.
func (f *feature) rest(rec *capture.Record) {
	f.res.RESTPolls++
	role := pollerRole(rec.Src)
	problem := func(detail string) {
		f.fs.add(ProtocolError, func() Finding {
			return Finding{Feature: f.conf.name, T: rec.T, Subscriber: -1, Detail: fmt.Sprintf("rest %s %s: %s", rec.Src, rec.Path, detail)}
		})
	}
	fail := func(detail string) {
		f.res.RESTErrors++
		problem(detail)
	}
	switch {
	case rec.Err != "":
		fail("transport: " + rec.Err)
		return
	case rec.Status < 200 || rec.Status > 299:
		body := rec.Text
		if rec.Body != nil {
			body = string(rec.Body)
		}
		fail(fmt.Sprintf("status %d: %s", rec.Status, clip(body, 200)))
		return
	case rec.Body == nil:
		fail("body is not JSON: " + clip(rec.Text, 200))
		return
	}
	// One copy of the body: everything kept from it points into it.
	body := string(rec.Body)
	if !gjson.Valid(body) {
		fail("body is not valid JSON: " + clip(body, 200))
		return
	}
	var seq int64
	if f.conf.seqMode {
		s := gjson.Get(body, f.conf.restSeq)
		if s.Type != gjson.Number {
			f.seqMissing++
			fail("body has no number at seq path " + strconv.Quote(f.conf.restSeq))
			return
		}
		seq = s.Int()
	}
	list := gjson.Get(body, f.conf.restItems)
	if !list.Exists() || (!list.IsArray() && !list.IsObject()) {
		fail("body has no item list at " + strconv.Quote(f.conf.restItems))
		return
	}
	f.res.RESTOK++
	var items []restItem
	add := func(it gjson.Result) {
		items = append(items, restItem{raw: it.Raw})
	}
	if list.IsArray() {
		list.ForEach(func(_, it gjson.Result) bool { add(it); return true })
	} else {
		add(list)
	}
	// Keys and values: an item unchanged since the key's last poll keeps
	// its value (see normREST); the key is read first to find it.
	n := f.conf.rnorm
	kept := items[:0]
	for _, it := range items {
		key, bad := n.key(it.raw)
		if bad == "" && !strings.HasPrefix(strings.TrimSpace(it.raw), "{") {
			bad = "item is not an object"
		}
		if bad != "" {
			problem(bad + ": " + clip(it.raw, 200))
			continue
		}
		it.key = key
		kept = append(kept, it)
	}
	items = kept
	f.noise.restPoll(role, rec.Path, rec.T, seq, body, items)
	if role == roleTwin || role == roleOther {
		return
	}
	if f.st != nil {
		f.st.rest(role, rec.Path, rec.T0, rec.T, seq, items)
		f.st.sweep(f.d.now, false)
	} else {
		f.ev.rest(role, rec.Path, rec.T, items)
	}
}

// normREST normalises a REST item, reusing the previous value when the
// raw text is unchanged; hits are the ignore matches that value had.
func (f *feature) normREST(it restItem, prevRaw string, prev *value, prevHits []int32) (*value, []int32) {
	if prev != nil && it.raw == prevRaw {
		f.addHits(prevHits)
		return prev, prevHits
	}
	n := f.conf.rnorm
	_, val, bad := n.item(it.raw)
	if bad != "" {
		// Not an object: keep the raw text as the value so the
		// comparison shows it.
		val = value{raw: it.raw, canon: it.raw}
	}
	// Kept beyond this poll: not a view of its body.
	val.raw = cloneString(val.raw)
	if val.canon == it.raw {
		val.canon = val.raw
	}
	v := &val
	var hits []int32
	for _, h := range n.hits {
		if h != 0 {
			hits = append([]int32(nil), n.hits...)
			break
		}
	}
	f.addHits(hits)
	return v, hits
}

func (f *feature) addHits(h []int32) {
	for i, x := range h {
		f.ignoreHits[i] += int(x)
	}
}

// mismatch builds a finding comparing a REST and a WS value.
func (f *feature) mismatch(key string, seq, t int64, sub int, rest, ws *value, detail string) Finding {
	fd := Finding{Feature: f.conf.name, Key: key, Seq: seq, T: t, Subscriber: sub, REST: rest.any(), WS: ws.any(), Detail: detail}
	if rest != nil && ws != nil {
		fd.Diff = cmpDiff(fd.REST, fd.WS, f.conf.tol)
		inWS, inREST := missingFields(fd.REST, fd.WS, "", nil, nil)
		var parts []string
		for _, p := range inWS {
			parts = append(parts, fmt.Sprintf("field %s missing in ws", p))
		}
		for _, p := range inREST {
			parts = append(parts, fmt.Sprintf("field %s missing in rest", p))
		}
		if len(parts) > 0 {
			if fd.Detail != "" {
				fd.Detail += "; "
			}
			fd.Detail += strings.Join(parts, "; ")
		}
	}
	return fd
}

// cmpDiff is go-cmp's (-rest +ws) diff, numbers equal within tol. go-cmp
// randomly uses non-breaking spaces to keep callers from relying on its
// text; reports want plain ones.
func cmpDiff(rest, ws any, tol float64) string {
	s := cmp.Diff(rest, ws, cmpopts.EquateApprox(0, tol))
	return strings.ReplaceAll(s, "\u00a0", " ")
}

func (f *feature) finish() {
	if f.st != nil {
		f.st.finish()
	} else {
		f.ev.finish()
	}
	f.noise.finish(f.settledAt)
	f.gaps.flush(f)
}

func (f *feature) result() *FeatureResult {
	r := &f.res
	r.Lag, r.LagSeries = f.lag.stats()
	r.Findings = f.fs.list()
	r.Counts = f.fs.countMap()
	for i, ig := range f.conf.ignore {
		r.Ignores = append(r.Ignores, IgnoreUse{Field: ig.field, Reason: ig.reason, Matched: f.ignoreHits[i]})
	}
	r.Noisy = f.noise.fields()
	r.SeqAligned = f.conf.seqMode && f.seqMissing == 0
	return r
}
