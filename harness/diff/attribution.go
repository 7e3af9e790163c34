package diff

import (
	"fmt"
	"math/bits"
	"strings"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/tidwall/gjson"

	"github.com/thor-trading/cutover-harness/harness/capture"
)

// Attribution says where the WS path lost or delayed a feature's messages,
// from the channel-layer tap: the tap is one more member of the group the
// backend broadcasts to (see capture.Tap), so what it saw was broadcast,
// and what a subscriber then missed, the consumer side failed to deliver.
// It is set only when the capture has tap records.
type Attribution struct {
	// Broadcast is the number of the feature's messages the tap saw the
	// backend broadcast.
	Broadcast int `json:"broadcast"`
	// NotBroadcast counts values REST showed and no subscriber got
	// (missing_in_ws) that the backend never broadcast either: lost in the
	// backend (a job or a message builder).
	NotBroadcast int `json:"not_broadcast"`
	// NotDelivered counts (message, subscriber) pairs the backend
	// broadcast and the subscriber never got: lost between the channel
	// layer and the client (a consumer, its connection).
	NotDelivered int `json:"not_delivered"`
	// Late counts (message, subscriber) deliveries that came more than the
	// feature's freshness budget after the broadcast, and values the diff
	// judged missing that were delivered after all, later (the consumer
	// side was slow, not lossy).
	Late int `json:"late"`
	// Untapped counts messages subscribers got that the tap never saw:
	// sent outside the group, or broadcast while the tap was not in it.
	Untapped int `json:"untapped"`
	// MaxDelay is the longest time from a broadcast to its delivery to a
	// subscriber, in nanoseconds.
	MaxDelay int64 `json:"max_delay_ns"`
	// Partial: the capture held more broadcasts than the diff indexes
	// (maxTapEntries); the counts cover the first ones.
	Partial bool `json:"partial,omitempty"`
}

// reorderWindow: without seq, a delivery is matched with broadcasts from
// this many before the subscriber's latest one on.
const reorderWindow = 64

// maxTapEntries bounds the broadcasts indexed over all features (each
// keeps its value until the end, to attribute losses).
const maxTapEntries = 1 << 18

// attribution matches the tap's broadcasts with the subscribers'
// deliveries, per feature.
type attribution struct {
	d       *differ
	path    string // gjson path of the WS message in a channel-layer message
	feats   []*tapFeature
	entries int
	full    bool
}

type tapFeature struct {
	f    *feature
	keys map[string]*tapKey
	lost []lostValue
	res  Attribution
}

// tapKey is one key's broadcasts (in tap order) and the deliveries not
// matched to one yet (the subscriber was faster than the tap).
type tapKey struct {
	entries []*tapEntry
	pending []tapDelivery
	// cursor is, per subscriber, the index of the first entry it may
	// still be given (without seq, values match in order).
	cursor []int
}

type tapEntry struct {
	seq int64
	v   value
	// t is when the tap got it, tWS the first delivery to a subscriber
	// (-1: none); mask the subscribers it was delivered to.
	t, tWS int64
	mask   uint64
	// late: a delivery came more than the budget after the broadcast.
	late bool
}

type tapDelivery struct {
	s   int
	seq int64
	v   value
	t   int64
}

// lostValue is a missing_in_ws finding, attributed at the end; stored is
// its index among the stored findings (-1: not stored).
type lostValue struct {
	fd     Finding
	stored int
}

func newAttribution(d *differ) *attribution {
	a := &attribution{d: d, path: "message"}
	if t := d.sc.Stack.Tap; t != nil && t.Message != "" {
		a.path = t.Message
	}
	for _, f := range d.feats {
		tf := &tapFeature{f: f, keys: map[string]*tapKey{}}
		a.feats = append(a.feats, tf)
		f.fs.lost = func(fd Finding, stored int) { tf.lost = append(tf.lost, lostValue{fd: fd, stored: stored}) }
	}
	return a
}

// tap takes one tap record: a broadcast (Body) or a note.
func (a *attribution) tap(rec *capture.Record) {
	if rec.Body == nil {
		return
	}
	p := gjson.GetBytes(rec.Body, a.path)
	if !p.IsObject() {
		return // not a WS message (some other use of the group)
	}
	m := a.d.dec.decode(strings.Clone(p.Raw))
	if m.feat < 0 || len(m.problems) > 0 && len(m.items) == 0 {
		return
	}
	tf := a.feats[m.feat]
	for i := range m.items {
		it := &m.items[i]
		if a.entries >= maxTapEntries {
			a.full = true
			return
		}
		a.entries++
		tf.res.Broadcast++
		k := tf.key(it.key)
		e := &tapEntry{seq: m.seq, v: it.v, t: rec.T, tWS: -1}
		k.entries = append(k.entries, e)
		// Deliveries that came before the tap got it.
		kept := k.pending[:0]
		for _, dl := range k.pending {
			if e.mask&(1<<dl.s) == 0 && tf.same(e, dl.seq, &dl.v) {
				tf.deliver(e, dl.s, dl.t)
				continue
			}
			kept = append(kept, dl)
		}
		clear(k.pending[len(kept):])
		k.pending = kept
	}
}

func (tf *tapFeature) key(key string) *tapKey {
	k := tf.keys[key]
	if k == nil {
		k = &tapKey{}
		tf.keys[strings.Clone(key)] = k
	}
	return k
}

// same reports whether broadcast e is the message (seq, v): the same seq
// with seq, the same value without.
func (tf *tapFeature) same(e *tapEntry, seq int64, v *value) bool {
	if tf.f.conf.seqMode {
		return e.seq == seq
	}
	return e.v.equal(v, tf.f.conf.tol)
}

// ws takes one message of feature fi delivered to subscriber s at t.
func (a *attribution) ws(fi, s int, m *msg, t int64) {
	tf := a.feats[fi]
	for i := range m.items {
		it := &m.items[i]
		k := tf.key(it.key)
		for len(k.cursor) <= s {
			k.cursor = append(k.cursor, 0)
		}
		bit := uint64(1) << s
		found := false
		if tf.f.conf.seqMode {
			for j := len(k.entries) - 1; j >= 0; j-- {
				if e := k.entries[j]; e.seq == m.seq {
					if e.mask&bit == 0 {
						tf.deliver(e, s, t)
					}
					found = true
					break
				} else if e.seq < m.seq {
					break
				}
			}
		} else {
			// Values match in order: the earliest broadcast of the value
			// the subscriber has not had, from a little before where it
			// got to (a message may come late, after later ones).
			for j := max(0, k.cursor[s]-reorderWindow); j < len(k.entries); j++ {
				if e := k.entries[j]; e.mask&bit == 0 && e.v.equal(&it.v, tf.f.conf.tol) {
					tf.deliver(e, s, t)
					k.cursor[s] = max(k.cursor[s], j+1)
					found = true
					break
				}
			}
		}
		if !found && !a.full {
			k.pending = append(k.pending, tapDelivery{s: s, seq: m.seq, v: it.v, t: t})
		}
	}
}

func (tf *tapFeature) deliver(e *tapEntry, s int, t int64) {
	e.mask |= 1 << s
	if e.tWS < 0 || t < e.tWS {
		e.tWS = t
	}
	delay := t - e.t
	tf.res.MaxDelay = max(tf.res.MaxDelay, delay)
	if delay > tf.f.conf.budget {
		tf.res.Late++
		e.late = true
	}
}

// finish attributes the feature's losses, notes it in the stored
// missing_in_ws and subscriber_gap findings, and sets the result's
// Attribution. It runs after the feature's own finish.
func (a *attribution) finish(f *feature) {
	var tf *tapFeature
	for _, x := range a.feats {
		if x.f == f {
			tf = x
		}
	}
	if tf == nil {
		return
	}
	n := a.d.n
	all := uint64(1)<<n - 1
	for _, k := range tf.keys {
		for _, e := range k.entries {
			tf.res.NotDelivered += bits.OnesCount64(all &^ e.mask)
		}
		seen := map[string]bool{}
		for _, dl := range k.pending {
			id := fmt.Sprint(dl.seq)
			if !tf.f.conf.seqMode {
				dl.v.norm()
				id = dl.v.canon
			}
			if !seen[id] {
				seen[id] = true
				tf.res.Untapped++
			}
		}
	}
	missing := &f.fs.stored[kindIndex(MissingInWS)]
	for _, l := range tf.lost {
		note := tf.attributeLost(&l.fd)
		if l.stored >= 0 && l.stored < len(*missing) {
			fd := &(*missing)[l.stored]
			fd.Detail = joinDetail(fd.Detail, note)
		}
	}
	gaps := f.fs.stored[kindIndex(SubscriberGap)]
	for i := range gaps {
		gaps[i].Detail = joinDetail(gaps[i].Detail, tf.attributeGap(&gaps[i]))
	}
	mism := f.fs.stored[kindIndex(ValueMismatch)]
	for i := range mism {
		if note := tf.attributeMismatch(&mism[i]); note != "" {
			mism[i].Detail = joinDetail(mism[i].Detail, note)
		}
	}
	tf.res.Partial = a.full
	res := tf.res
	f.res.Attribution = &res
}

func joinDetail(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// broadcastOf finds the broadcast a finding's value x came from: with seq
// the key's last broadcast up to the finding's seq, if it has value x
// (other: that broadcast when its value differs); without seq the last
// broadcast of value x; for events the key's broadcast.
func (tf *tapFeature) broadcastOf(fd *Finding, x any) (e, other *tapEntry) {
	k := tf.keys[fd.Key]
	if k == nil {
		return nil, nil
	}
	switch {
	case tf.f.conf.kind == kindEvents:
		if len(k.entries) > 0 {
			e = k.entries[0]
		}
	case tf.f.conf.seqMode && fd.Seq > 0:
		for j := len(k.entries) - 1; j >= 0; j-- {
			if k.entries[j].seq <= fd.Seq {
				if tf.equalAny(&k.entries[j].v, x) {
					return k.entries[j], nil
				}
				return nil, k.entries[j]
			}
		}
	default:
		for j := len(k.entries) - 1; j >= 0; j-- {
			if tf.equalAny(&k.entries[j].v, x) {
				return k.entries[j], nil
			}
		}
	}
	return e, nil
}

func seqNote(e *tapEntry) string {
	if e.seq != 0 {
		return fmt.Sprintf(" at seq %d", e.seq)
	}
	return ""
}

// attributeLost says where a value REST showed and no subscriber got was
// lost: the backend's last broadcast for the key by then (seq) or the last
// broadcast of that value (no seq, events) decides.
func (tf *tapFeature) attributeLost(fd *Finding) string {
	e, other := tf.broadcastOf(fd, fd.REST)
	switch {
	case e == nil && other != nil:
		tf.res.NotBroadcast++
		return fmt.Sprintf("tap: the backend never broadcast this value: its last broadcast for the key by then%s had another value: wrong before the channel layer (a job or message builder)", seqNote(other))
	case e == nil:
		tf.res.NotBroadcast++
		return "tap: the backend never broadcast this value to the group: lost in the backend, before the channel layer"
	case e.mask == 0:
		return fmt.Sprintf("tap: the backend broadcast it%s (%s), no subscriber was sent it: broadcast but not delivered (a consumer or its connection lost it)", seqNote(e), fmtT(e.t))
	default:
		if !e.late { // else its late deliveries are counted already
			tf.res.Late++
		}
		return fmt.Sprintf("tap: the backend broadcast it at %s and it was delivered at %s, after the diff judged it missing: delivered late", fmtT(e.t), fmtT(e.tWS))
	}
}

// attributeMismatch says which side of the channel layer a wrong WS value
// comes from: the backend broadcast it so (a job or message builder), or
// it broadcast REST's value and the subscribers got another or none.
func (tf *tapFeature) attributeMismatch(fd *Finding) string {
	if e, _ := tf.broadcastOf(fd, fd.REST); e != nil && tf.equalAny(&e.v, fd.REST) {
		if e.mask == 0 {
			return fmt.Sprintf("tap: the backend broadcast REST's value%s (%s), no subscriber was sent it: broadcast but not delivered (a consumer or its connection lost it)", seqNote(e), fmtT(e.t))
		}
		return fmt.Sprintf("tap: the backend broadcast REST's value%s (%s): the WS value was made after the channel layer (a consumer)", seqNote(e), fmtT(e.t))
	}
	if e, _ := tf.broadcastOf(fd, fd.WS); e != nil && tf.equalAny(&e.v, fd.WS) {
		if tf.f.conf.seqMode && e.seq < fd.Seq {
			return fmt.Sprintf("tap: the backend never broadcast REST's value; its last broadcast for the key by seq %d is the value WS shows (seq %d, %s): the change was lost or made wrong before the channel layer (a job or message builder), not in a consumer", fd.Seq, e.seq, fmtT(e.t))
		}
		return fmt.Sprintf("tap: the backend broadcast the value WS shows%s (%s): wrong before the channel layer (a job or message builder), not in a consumer", seqNote(e), fmtT(e.t))
	}
	return ""
}

// attributeGap counts, for a subscriber_gap, how many of the messages the
// subscriber missed the tap saw broadcast.
func (tf *tapFeature) attributeGap(g *Finding) string {
	bit := uint64(1) << g.Subscriber
	seen := 0
	for _, k := range tf.keys {
		for _, e := range k.entries {
			if e.mask&bit == 0 && e.tWS >= 0 && e.tWS >= g.T && e.tWS <= max(g.Until, g.T) {
				seen++
			}
		}
	}
	msg := fmt.Sprintf("tap: the backend broadcast %d of them to the group: broadcast but not delivered to ws:%d (a consumer or its connection lost them)", seen, g.Subscriber)
	if seen < g.Missed {
		msg += fmt.Sprintf("; %d never passed the channel layer", g.Missed-seen)
	}
	return msg
}

// equalAny compares a broadcast value with a finding's (decoded) value.
func (tf *tapFeature) equalAny(v *value, x any) bool {
	if x == nil {
		return false
	}
	return cmp.Equal(v.any(), x, cmpopts.EquateApprox(0, tf.f.conf.tol))
}
