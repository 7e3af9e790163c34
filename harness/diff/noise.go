package diff

import (
	"math"
	"sort"
	"time"

	"github.com/tidwall/gjson"
)

// A/A calibration: what differs between two observers of the same thing is
// noise, reported per field and never silently dropped.
const (
	// calQueue bounds the WS items waiting for their twin.
	calQueue = 4096
	// calLook is how far into the other subscriber's queue an item looks
	// for its identical twin.
	calLook = 16
	// calSettle: items that differ pair only after waiting this long for an
	// identical twin; calWindow: an item without any twin is dropped then.
	calSettle = 50 * int64(time.Millisecond)
	calWindow = int64(time.Second)
	// restNear: two REST polls (without seq) this close compare.
	restNear = 5 * int64(time.Millisecond)
	// restRing is how many recent bodies per poller and path are kept to
	// find one with the same seq.
	restRing = 4
	// maxExamples per noisy field.
	maxExamples = 3
)

type noise struct {
	conf    *featureConf
	byField map[string]*NoisyField
	// WS: items of subscribers 0 and 1 waiting for their twin.
	q [2]calQ
	// REST: recent bodies per path of the primary and twin pollers.
	rest map[string]*restCal
	buf  []fieldDelta
}

// calQ is a FIFO of items that reuses its storage.
type calQ struct {
	buf  []calItem
	head int
}

func (q *calQ) items() []calItem { return q.buf[q.head:] }

func (q *calQ) len() int { return len(q.buf) - q.head }

// drop removes the first n items.
func (q *calQ) drop(n int) {
	clear(q.buf[q.head : q.head+n])
	q.head += n
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
}

func (q *calQ) push(it calItem) {
	if q.len() >= calQueue {
		q.drop(1)
	}
	if q.head > 0 && len(q.buf) == cap(q.buf) {
		n := copy(q.buf, q.buf[q.head:])
		clear(q.buf[n:])
		q.buf, q.head = q.buf[:n], 0
	}
	q.buf = append(q.buf, it)
}

type calItem struct {
	m      *msg
	i      int
	seq, t int64
}

type restBody struct {
	t, seq int64
	body   string
	ok     bool
}

type restCal struct {
	ring [2][restRing]restBody
	next [2]int
}

func newNoise(c *featureConf) *noise {
	return &noise{conf: c, byField: map[string]*NoisyField{}, rest: map[string]*restCal{}}
}

// wsMsg pairs the items of subscriber s (0 or 1), delivered at t, with
// the other's. The same bytes pair at once. Items that differ pair only
// when neither found an identical twin within calSettle: then the heads of
// both queues (the same position in the feature's stream) pair if they
// have the same key (and seq).
func (n *noise) wsMsg(s int, m *msg, t int64, seqMode bool) {
	o := 1 - s
	for i := range m.items {
		q := n.q[o].items()
		j := -1
		for x := 0; x < len(q) && x < calLook; x++ {
			if q[x].m == m && q[x].i == i {
				j = x
				break
			}
		}
		if j >= 0 {
			// Identical: nothing differs. What the other got before it,
			// this one did not get: those lost their twin.
			n.q[o].drop(j + 1)
			continue
		}
		n.q[s].push(calItem{m: m, i: i, seq: m.seq, t: t})
	}
	n.settle(t, seqMode)
}

// settle pairs or drops queue heads that waited long enough.
func (n *noise) settle(now int64, seqMode bool) {
	for {
		a, b := n.q[0].items(), n.q[1].items()
		switch {
		case len(a) > 0 && len(b) > 0:
			if now-a[0].t < calSettle || now-b[0].t < calSettle {
				return
			}
			ia, ib := &a[0].m.items[a[0].i], &b[0].m.items[b[0].i]
			if ia.key == ib.key && (!seqMode || a[0].seq == b[0].seq) {
				n.pair(&a[0], &b[0])
				n.q[0].drop(1)
				n.q[1].drop(1)
				continue
			}
			// Not twins: the older one lost its twin.
			if a[0].t <= b[0].t {
				n.q[0].drop(1)
			} else {
				n.q[1].drop(1)
			}
		case len(a) > 0 && now-a[0].t > calWindow:
			n.q[0].drop(1)
		case len(b) > 0 && now-b[0].t > calWindow:
			n.q[1].drop(1)
		default:
			return
		}
	}
}

func (n *noise) pair(a, b *calItem) {
	if a.m == b.m && a.i == b.i {
		return // the same bytes
	}
	ia, ib := &a.m.items[a.i], &b.m.items[b.i]
	if ia.raw == ib.raw || (ia.v.equal(&ib.v, n.conf.tol) && len(n.conf.ignore) == 0) {
		return
	}
	n.buf = fieldDiff(gjson.Parse(ia.raw), gjson.Parse(ib.raw), n.conf.tol, "", 0, n.buf[:0])
	for _, d := range n.buf {
		n.note("ws", ia.key, d)
	}
}

func (n *noise) note(src string, key string, d fieldDelta) {
	id := src + "\x00" + d.path
	nf := n.byField[id]
	if nf == nil {
		nf = &NoisyField{Field: d.path, Source: src}
		if r := n.conf.coveredBy(d.path); r != "" {
			nf.Ignored, nf.Rule = true, r
		}
		n.byField[id] = nf
	}
	nf.Count++
	if len(nf.Examples) < maxExamples {
		nf.Examples = append(nf.Examples, NoisyExample{Key: cloneString(key), A: clip(d.a, 200), B: clip(d.b, 200)})
	}
}

// restPoll offers a successful poll of the primary (or final) or twin
// poller: with seq, bodies of both pollers at the same seq are compared;
// without, polls within restNear of each other, and at the end the last
// polls after the replay settled.
func (n *noise) restPoll(role int, path string, t, seq int64, body string, items []restItem) {
	side := 0
	switch role {
	case rolePrimary:
	case roleTwin:
		side = 1
	default:
		return
	}
	rc := n.rest[path]
	if rc == nil {
		rc = &restCal{}
		n.rest[cloneString(path)] = rc
	}
	for _, other := range rc.ring[1-side] {
		if !other.ok {
			continue
		}
		if (n.conf.seqMode && other.seq == seq) || (!n.conf.seqMode && absI(other.t-t) <= restNear) {
			n.compareBodies(body, other.body, side)
			break
		}
	}
	rc.ring[side][rc.next[side]] = restBody{t: t, seq: seq, body: body, ok: true}
	rc.next[side] = (rc.next[side] + 1) % restRing
}

// compareBodies compares the items of two REST bodies by key.
func (n *noise) compareBodies(body, other string, side int) {
	if side == 1 {
		body, other = other, body
	}
	a := n.itemsByKey(body)
	b := n.itemsByKey(other)
	keys := make([]string, 0, len(a))
	for k := range a {
		if _, ok := b[k]; ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		n.buf = fieldDiff(a[k], b[k], n.conf.tol, "", 0, n.buf[:0])
		for _, d := range n.buf {
			n.note("rest", k, d)
		}
	}
}

func (n *noise) itemsByKey(body string) map[string]gjson.Result {
	out := map[string]gjson.Result{}
	list := gjson.Get(body, n.conf.restItems)
	each := func(it gjson.Result) {
		if k, bad := n.conf.rnorm.key(it.Raw); bad == "" && it.IsObject() {
			out[k] = it
		}
	}
	if list.IsArray() {
		list.ForEach(func(_, it gjson.Result) bool { each(it); return true })
	} else {
		each(list)
	}
	return out
}

// finish pairs the WS items still waiting and compares, without seq, the
// last polls of both pollers made after the replay settled (the state
// cannot have changed between them).
func (n *noise) finish(settledAt int64) {
	n.settle(math.MaxInt64/2, n.conf.seqMode)
	if n.conf.seqMode || settledAt <= 0 {
		return
	}
	paths := make([]string, 0, len(n.rest))
	for p := range n.rest {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		rc := n.rest[p]
		var last [2]restBody
		for side := range 2 {
			for _, b := range rc.ring[side] {
				if b.ok && b.t >= settledAt && b.t >= last[side].t {
					last[side] = b
				}
			}
		}
		if last[0].ok && last[1].ok && absI(last[0].t-last[1].t) > restNear {
			n.compareBodies(last[0].body, last[1].body, 0)
		}
	}
}

// fields lists the noisy fields, unignored first, then by count.
func (n *noise) fields() []NoisyField {
	out := make([]NoisyField, 0, len(n.byField))
	for _, nf := range n.byField {
		out = append(out, *nf)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := &out[i], &out[j]
		if a.Ignored != b.Ignored {
			return !a.Ignored
		}
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Field < b.Field
	})
	if len(out) == 0 {
		return nil
	}
	return out
}
