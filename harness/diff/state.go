package diff

import (
	"fmt"
	"math"
	"sort"
)

// stateFeature folds a state feature: per key, the WS trajectory W (the
// values WS gave, merged over subscribers) and REST's observations, which
// wait in pend until WS has had its chance to deliver what they show.
type stateFeature struct {
	f    *feature
	keys map[string]*stateKey
	// pending are the keys with REST observations not yet judged.
	pending []*stateKey
	// wm is, per subscriber, the highest seq of this feature's messages.
	wm       []int64
	hasFinal bool
	n        int
	// nextSweep: WS traffic sweeps too, at most every sweepEvery.
	nextSweep int64
	// right and wrong count the REST observations WS agreed and disagreed
	// with; suspects wait for them to be classified (see judgeSeq).
	right, wrong int
	suspects     []suspect
	// lastT0 is, per REST path, when its previous poll was sent.
	lastT0 map[string]int64
}

// stateKey is one key's fold.
type stateKey struct {
	key string
	// w is the WS history still needed: in delivery order without seq, in
	// seq order with it. base is the absolute index of w[0].
	w    []wEntry
	base int64
	// floor is the highest seq retired from w: later deliveries at or
	// below it come too late to merge.
	floor int64
	subs  []subCursor
	// p is the absolute index of the entry REST last matched (no seq), -1.
	p    int64
	pend []restObs
	// queued: the key is in stateFeature.pending.
	queued bool

	// REST's latest observation of the key.
	restSeen bool
	restV    *value
	restRaw  string
	restHits []int32
	restSeq  int64
	// resolved: a REST observation was judged; resolvedSeq its seq.
	resolved    bool
	resolvedSeq int64
	// wsRight: at REST's last judged observation WS gave the key the same
	// value, or lost a change (missing_in_ws), but was never shown wrong.
	wsRight bool
	// right and wrong count the key's judged REST observations WS agreed
	// and disagreed with (see settleSuspects).
	right, wrong int32
	// final is the key's value in the final round.
	final  bool
	finalV *value
}

// suspect is a disagreement not yet classified: the key, REST's
// observation, WS's fold then, its subscriber and its message's seq.
type suspect struct {
	k       *stateKey
	r       restObs
	fold    *value
	sub     int
	lastSeq int64
	detail  string
}

// maxSuspects bounds the suspects a feature holds; past it they are
// classified on the evidence so far.
const maxSuspects = 4096

// keyEvidence is how many judged observations make a key's own record
// decide between lost and wrong (see settleSuspects).
const keyEvidence = 5

// subCursor is one subscriber's view of a key.
type subCursor struct {
	// c is the absolute index of the entry it delivered last, -1.
	c       int64
	lastSeq int64
	lastV   *value
	n       int32
}

// wEntry is one WS value of a key: one message (with seq) or one run of a
// value (without), with which subscribers got it.
type wEntry struct {
	v   *value
	seq int64
	// t is the first delivery to any subscriber, tRef the delivery to
	// subscriber 0 (-1 if it did not get it).
	t, tRef int64
	mask    uint64
	// faults is set when a subscriber got it twice or out of order.
	faults *wFaults
}

// wFaults are an entry's delivery faults.
type wFaults struct {
	// dupMask: subscribers that got it twice; oooMask: subscribers that got
	// it after a later seq.
	dupMask, oooMask uint64
	dupT, oooT       int64
}

func (e *wEntry) fault() *wFaults {
	if e.faults == nil {
		e.faults = &wFaults{}
	}
	return e.faults
}

func (e *wEntry) dup(s int, t int64) {
	f := e.fault()
	if f.dupMask == 0 {
		f.dupT = t
	}
	f.dupMask |= 1 << s
}

func (e *wEntry) ooo(s int, t int64) {
	f := e.fault()
	if f.oooMask == 0 {
		f.oooT = t
	}
	f.oooMask |= 1 << s
}

// ref is the delivery time lag is measured with: subscriber 0's, or the
// first subscriber's when 0 missed it.
func (e *wEntry) ref() (int64, int) {
	if e.tRef >= 0 {
		return e.tRef, 0
	}
	return e.t, lowestSub(e.mask)
}

// restObs is one REST observation of a key awaiting judgement.
type restObs struct {
	v            *value
	seq, prevSeq int64
	// t is when REST answered, t0 when the request was sent; prevT0 when
	// REST's previous poll of the path was sent (0: this is the first).
	t, t0, prevT0 int64
	// changed: the value differs from REST's previous one (a new value of
	// REST's trajectory R); first: REST's first sight of the key.
	changed, first bool
	// readyAt is when every active subscriber was seen past seq (-1: not
	// yet); ahead: they already were when REST answered.
	readyAt int64
	ahead   bool
}

func newStateFeature(f *feature) *stateFeature {
	return &stateFeature{f: f, keys: map[string]*stateKey{}}
}

func (st *stateFeature) grow(n int) {
	for len(st.wm) < n {
		st.wm = append(st.wm, math.MinInt64)
	}
	st.n = n
	for _, k := range st.keys {
		k.grow(n)
	}
}

func (k *stateKey) grow(n int) {
	for len(k.subs) < n {
		k.subs = append(k.subs, subCursor{c: -1})
	}
}

func (st *stateFeature) key(key string) *stateKey {
	k := st.keys[key]
	if k == nil {
		// Keys live for the whole capture: not views of a body.
		k = &stateKey{key: cloneString(key), p: -1}
		k.grow(st.n)
		st.keys[k.key] = k
	}
	return k
}

func (st *stateFeature) ws(s int, m *msg, t int64) {
	if st.f.conf.seqMode && m.seq > st.wm[s] {
		st.wm[s] = m.seq
	}
	if t >= st.nextSweep && len(st.pending) > 0 {
		st.nextSweep = t + sweepEvery
		st.sweep(t, false)
	}
	for i := range m.items {
		it := &m.items[i]
		if it.state == nil {
			it.state = st.key(it.key)
		}
		k := it.state
		if st.f.conf.seqMode {
			st.deliverSeq(s, k, &it.v, m.seq, t)
		} else {
			st.deliverNoSeq(s, k, &it.v, t)
		}
		if len(k.w) > 64 && len(k.w)%32 == 0 {
			st.prune(k, t, false)
		}
	}
}

// findSeq returns the index in w of the entry with seq, or -1, and the
// index where an entry with seq would be inserted.
func (k *stateKey) findSeq(seq int64) (int, int) {
	i := len(k.w)
	for i > 0 && k.w[i-1].seq > seq {
		i--
	}
	if i > 0 && k.w[i-1].seq == seq {
		return i - 1, i - 1
	}
	return -1, i
}

func (st *stateFeature) deliverSeq(s int, k *stateKey, v *value, seq, t int64) {
	bit := uint64(1) << s
	sc := &k.subs[s]
	again := sc.n > 0 && seq <= sc.lastSeq
	sc.n++
	sc.lastV = v // what the subscriber shows now
	if seq > sc.lastSeq || sc.n == 1 {
		sc.lastSeq = seq
	}
	if seq <= k.floor && k.floor != 0 {
		// Its history is retired: judge it alone.
		if again {
			st.wsFault(s, k, v, seq, t, seq == sc.lastSeq)
		}
		return
	}
	i, at := k.findSeq(seq)
	if i >= 0 && k.w[i].mask&bit != 0 {
		k.w[i].dup(s, t)
		return
	}
	if i < 0 {
		k.w = append(k.w, wEntry{})
		copy(k.w[at+1:], k.w[at:])
		k.w[at] = wEntry{v: v, seq: seq, t: t, tRef: -1}
		i = at
	}
	e := &k.w[i]
	e.mask |= bit
	if s == 0 {
		e.tRef = t
	}
	if again {
		e.ooo(s, t)
	}
}

// wsFault records a duplicate or out-of-order delivery whose history is
// gone, for one subscriber.
func (st *stateFeature) wsFault(s int, k *stateKey, v *value, seq, t int64, dup bool) {
	kind, detail := OutOfOrder, fmt.Sprintf("seq %d arrived after a later seq for this key", seq)
	if dup {
		kind, detail = Duplicate, fmt.Sprintf("seq %d delivered twice", seq)
	}
	st.f.fs.add(kind, func() Finding {
		return Finding{Feature: st.f.conf.name, Key: k.key, Seq: seq, T: t, Subscriber: s, WS: v.any(), Detail: detail}
	})
}

func (st *stateFeature) deliverNoSeq(s int, k *stateKey, v *value, t int64) {
	bit := uint64(1) << s
	sc := &k.subs[s]
	tol := st.f.conf.tol
	end := k.base + int64(len(k.w))
	from := max(sc.c+1, k.base)
	repeat := sc.n > 0 && v.equal(sc.lastV, tol)
	sc.n++
	sc.lastV = v
	for j := from; j < end; j++ {
		e := &k.w[j-k.base]
		if e.mask&bit != 0 || !e.v.equal(v, tol) {
			continue
		}
		if repeat {
			// The same value again: a gap when others got a different
			// value in between, else a duplicate (below).
			if j == from || k.w[j-1-k.base].v.equal(v, tol) {
				continue
			}
		}
		e.mask |= bit
		if s == 0 {
			e.tRef = t
		}
		sc.c = j
		return
	}
	if repeat {
		if sc.c >= k.base {
			k.w[sc.c-k.base].dup(s, t)
		} else {
			st.wsFault(s, k, v, 0, t, true)
		}
		return
	}
	tRef := int64(-1)
	if s == 0 {
		tRef = t
	}
	k.w = append(k.w, wEntry{v: v, t: t, tRef: tRef, mask: bit})
	sc.c = end
}

// rest takes the items of one primary or final REST poll.
func (st *stateFeature) rest(role int, path string, t0, t, seq int64, items []restItem) {
	if t0 <= 0 || t0 > t {
		t0 = t
	}
	final := role == roleFinal
	if final {
		st.hasFinal = true
	}
	if st.lastT0 == nil {
		st.lastT0 = map[string]int64{}
	}
	prevT0 := st.lastT0[path]
	st.lastT0[path] = t0
	tol := st.f.conf.tol
	wm := int64(math.MinInt64)
	if st.f.conf.seqMode {
		wm = st.minWM(t)
	}
	for _, it := range items {
		k := st.keys[it.key]
		if k == nil {
			k = st.key(it.key)
		}
		v, hits := st.f.normREST(it, k.restRaw, k.restV, k.restHits)
		if v != k.restV {
			k.restRaw, k.restHits = v.raw, hits
		}
		if final {
			k.final, k.finalV = true, v
		}
		changed := !k.restSeen || !v.equal(k.restV, tol)
		if st.f.conf.seqMode {
			if !changed && seq == k.restSeq {
				continue
			}
			k.pend = append(k.pend, restObs{v: v, seq: seq, prevSeq: k.restSeq, t: t, t0: t0, prevT0: prevT0, changed: changed, first: !k.restSeen, readyAt: -1, ahead: wm > seq})
		} else {
			if !changed {
				continue
			}
			k.pend = append(k.pend, restObs{v: v, t: t, t0: t0, prevT0: prevT0, changed: true, first: !k.restSeen, readyAt: -1})
		}
		k.restSeen, k.restV, k.restSeq = true, v, seq
		if !k.queued {
			k.queued = true
			st.pending = append(st.pending, k)
		}
	}
}

func cloneString(s string) string { return string([]byte(s)) }

// sweep judges the REST observations that are ready.
func (st *stateFeature) sweep(now int64, final bool) {
	keep := st.pending[:0]
	for _, k := range st.pending {
		if st.f.conf.seqMode {
			st.resolveSeq(k, now, final)
		} else {
			st.resolveNoSeq(k, now, final)
		}
		st.prune(k, now, final)
		if len(k.pend) > 0 {
			keep = append(keep, k)
		} else {
			k.queued = false
		}
	}
	clear(st.pending[len(keep):])
	st.pending = keep
}

// minWM is the lowest seq watermark of the active subscribers. With none
// active nothing is known of WS (it may be late, or the stack quiet): only
// the timeout judges then.
func (st *stateFeature) minWM(now int64) int64 {
	m := int64(math.MaxInt64)
	for s := 0; s < st.n; s++ {
		if st.f.d.active(s, now) && st.wm[s] < m {
			m = st.wm[s]
		}
	}
	if m == math.MaxInt64 {
		return math.MinInt64
	}
	return m
}

// foldIdx is the index of the last entry with seq <= s, -1 for none.
func (k *stateKey) foldIdx(s int64) int {
	return sort.Search(len(k.w), func(i int) bool { return k.w[i].seq > s }) - 1
}

// runStart walks back from i over entries with the same value.
func (k *stateKey) runStart(i int, tol float64) int {
	for i > 0 && k.w[i-1].v.equal(k.w[i].v, tol) {
		i--
	}
	return i
}

// nextDifferent is the first entry after i's run with another value, -1.
func (k *stateKey) nextDifferent(i int, tol float64) int {
	for j := i + 1; j < len(k.w); j++ {
		if !k.w[j].v.equal(k.w[i].v, tol) {
			return j
		}
	}
	return -1
}

func (st *stateFeature) resolveSeq(k *stateKey, now int64, final bool) {
	var wm int64 = math.MinInt64
	haveWM := false
	for len(k.pend) > 0 {
		r := &k.pend[0]
		ready := final || now-r.t >= st.f.resolveWait
		if !ready {
			if !haveWM {
				wm, haveWM = st.minWM(now), true
			}
			if wm > r.seq {
				if r.readyAt < 0 {
					r.readyAt = now
					if r.ahead {
						r.readyAt = r.t
					}
				}
				ready = now-r.readyAt >= grace
			}
		}
		if !ready {
			return
		}
		st.judgeSeq(k, r)
		k.resolved, k.resolvedSeq = true, r.seq
		k.pend[0] = restObs{}
		k.pend = k.pend[1:]
	}
}

// judgeSeq compares a REST body's value at seq s with the WS fold of the
// messages with seq <= s.
func (st *stateFeature) judgeSeq(k *stateKey, r *restObs) {
	f := st.f
	tol := f.conf.tol
	fi := k.foldIdx(r.seq)
	if fi >= 0 && k.w[fi].v.equal(r.v, tol) {
		if r.changed {
			st.matched(k, r, fi)
		}
		k.wsRight = true
		st.right++
		k.right++
		return
	}
	var fold *value
	if fi >= 0 {
		fold = k.w[fi].v
	}
	// The WS messages of the key in REST's window (prevSeq, seq].
	lo := 0
	if !r.first {
		lo = k.foldIdx(r.prevSeq) + 1
	}
	if lo > fi {
		if r.changed {
			f.fs.add(MissingInWS, func() Finding {
				d := fmt.Sprintf("REST changed the key between seq %d and %d; no WS message for it had a seq in that window", r.prevSeq, r.seq)
				if r.first {
					d = fmt.Sprintf("REST shows the key at seq %d; no WS message for it had a seq up to there", r.seq)
				}
				return f.mismatch(k.key, r.seq, r.t, -1, r.v, fold, d)
			})
		}
		return
	}
	last := &k.w[fi]
	// A WS message at REST's very seq describes the same state: a
	// difference is a wrong value. An older one, from a WS that had this key
	// right until now, most likely means WS lost the change after it.
	st.wrong++
	k.wrong++
	if last.seq < r.seq && k.wsRight && r.changed && !k.has(lo, fi, r.v, tol) {
		f.fs.add(MissingInWS, func() Finding {
			return f.mismatch(k.key, r.seq, r.t, -1, r.v, fold, fmt.Sprintf(
				"REST at seq %d shows a value no WS message gave; the last WS message for the key (seq %d) is older, and WS had the key right before", r.seq, last.seq))
		})
		return
	}
	k.wsRight = false
	detail := fmt.Sprintf("REST at seq %d vs the WS value of seq %d", r.seq, last.seq)
	for j := lo; j < fi; j++ {
		if k.w[j].v.equal(r.v, tol) {
			if nx := k.nextDifferent(j, tol); nx >= 0 {
				detail = fmt.Sprintf("REST at seq %d still shows the value WS gave at seq %d; WS replaced it at seq %d", r.seq, k.w[j].seq, k.w[nx].seq)
			}
			break
		}
	}
	_, sub := last.ref()
	if last.seq < r.seq {
		// WS's latest message for the key is older than REST's state: it
		// lost the change after it, or gave a wrong value then. One
		// observation cannot tell; the feature as a whole can (see
		// settleSuspects).
		st.suspects = append(st.suspects, suspect{k: k, r: *r, fold: fold, sub: sub, lastSeq: last.seq, detail: detail})
		if len(st.suspects) == maxSuspects {
			st.settleSuspects()
		}
		return
	}
	f.fs.add(ValueMismatch, func() Finding {
		return f.mismatch(k.key, r.seq, r.t, sub, r.v, fold, detail)
	})
}

// settleSuspects classifies the disagreements through an older WS message.
// Wrong-value bugs (rounding, a dropped field) repeat on every message, so
// a WS wrong at most of REST's observations gives wrong values
// (value_mismatch); a WS right at most of them lost these changes
// (missing_in_ws). The key's own record decides once it has
// keyEvidence observations (a bug may hit one instrument only), the
// feature's before.
func (st *stateFeature) settleSuspects() {
	f := st.f
	for i := range st.suspects {
		sp := &st.suspects[i]
		k, r := sp.k, &sp.r
		right, wrong, of := st.right, st.wrong, "the feature"
		if k.right+k.wrong >= keyEvidence {
			right, wrong, of = int(k.right), int(k.wrong), "the key"
		}
		if right > wrong {
			f.fs.add(MissingInWS, func() Finding {
				return f.mismatch(k.key, r.seq, r.t, -1, r.v, sp.fold, fmt.Sprintf(
					"REST at seq %d disagrees with the last WS message for the key, which is older (seq %d); WS agreed with REST at %d of %d observations of %s: a change lost, not a wrong value", r.seq, sp.lastSeq, right, right+wrong, of))
			})
			continue
		}
		f.fs.add(ValueMismatch, func() Finding {
			return f.mismatch(k.key, r.seq, r.t, sp.sub, r.v, sp.fold, fmt.Sprintf(
				"%s; WS disagreed with REST at %d of %d observations of %s: a wrong value, not a lost change", sp.detail, wrong, right+wrong, of))
		})
	}
	clear(st.suspects)
	st.suspects = st.suspects[:0]
}

// has reports whether an entry in w[lo:hi] has value v.
func (k *stateKey) has(lo, hi int, v *value, tol float64) bool {
	for j := lo; j < hi; j++ {
		if k.w[j].v.equal(v, tol) {
			return true
		}
	}
	return false
}

// matched records a REST value found over WS at entry i: its lag, and
// whether it came late or REST was stale.
func (st *stateFeature) matched(k *stateKey, r *restObs, i int) {
	f := st.f
	tol := f.conf.tol
	i = k.runStart(i, tol)
	e := &k.w[i]
	tws, sub := e.ref()
	lag := tws - r.t
	f.lag.add(r.t, lag)
	f.res.Matched++
	if lag > f.conf.budget {
		f.fs.add(Late, func() Finding {
			fd := Finding{Feature: f.conf.name, Key: k.key, Seq: e.seq, T: tws, Subscriber: sub, REST: r.v.any(), WS: e.v.any(),
				Detail: fmt.Sprintf("WS delivered the value %s after REST showed it (budget %s)", fmtD(lag), fmtD(f.conf.budget))}
			return fd
		})
	}
	if j := k.nextDifferent(i, tol); j >= 0 && r.t-k.w[j].t > f.conf.budget {
		nx := &k.w[j]
		f.fs.add(StaleREST, func() Finding {
			fd := Finding{Feature: f.conf.name, Key: k.key, Seq: r.seq, T: r.t, Subscriber: -1, REST: r.v.any(), WS: nx.v.any(),
				Detail: fmt.Sprintf("REST first showed this value %s after WS had replaced it (budget %s)", fmtD(r.t-nx.t), fmtD(f.conf.budget))}
			if nx.seq != 0 {
				fd.Detail += fmt.Sprintf("; WS replaced it at seq %d", nx.seq)
			}
			return fd
		})
		return
	}
	// REST's previous poll, sent when WS had had this value for longer
	// than the budget, still showed an older state: REST is stale (a cache
	// not invalidated), even when the value is never replaced.
	if r.prevT0 > 0 && r.prevT0-e.t > f.conf.budget {
		f.fs.add(StaleREST, func() Finding {
			return Finding{Feature: f.conf.name, Key: k.key, Seq: r.seq, T: r.t, Subscriber: -1, REST: r.v.any(), WS: e.v.any(),
				Detail: fmt.Sprintf("WS had this value %s before REST's previous poll was sent, and that poll still showed an older state (budget %s)", fmtD(r.prevT0-e.t), fmtD(f.conf.budget))}
		})
	}
}

// findMatch returns the absolute index of the entry after p matching v:
// the last one delivered by REST's observation time t, else the first one
// after it; -1 for none.
func (k *stateKey) findMatch(v *value, t int64, tol float64) int64 {
	before, after := int64(-1), int64(-1)
	for j := max(k.p+1, k.base); j < k.base+int64(len(k.w)); j++ {
		e := &k.w[j-k.base]
		if !e.v.equal(v, tol) {
			continue
		}
		if e.t <= t {
			before = j
		} else if after < 0 {
			after = j
			if before >= 0 {
				break
			}
		}
	}
	if before >= 0 {
		return before
	}
	return after
}

func (st *stateFeature) resolveNoSeq(k *stateKey, now int64, final bool) {
	tol := st.f.conf.tol
	for len(k.pend) > 0 {
		r := &k.pend[0]
		if j := k.findMatch(r.v, r.t, tol); j >= 0 {
			st.matched(k, r, int(j-k.base))
			k.p = j
			k.popPend()
			continue
		}
		// WS may trail REST: give it twice the freshness budget (a value
		// that late is still late, not missing) before judging by where
		// later REST values were found. Without this, a later REST value
		// matching an older recurrence of itself (prices come back)
		// passes judgement on this one while WS is merely behind.
		if !final && now-r.t < 2*st.f.conf.budget {
			return
		}
		// A later REST value already found over WS bounds where this one
		// should have been.
		// It must have been delivered after REST's request for this one
		// was sent: an older occurrence of a recurring value says nothing
		// about where WS is (it may be behind).
		limit := int64(-1)
		for q := 1; q < len(k.pend); q++ {
			if j := k.findMatch(k.pend[q].v, k.pend[q].t, tol); j >= 0 && k.w[j-k.base].t >= r.t0 {
				limit = j
				break
			}
		}
		if limit < 0 {
			if !final && now-r.t < st.f.resolveWait {
				return
			}
			limit = k.base + int64(len(k.w))
		}
		st.judgeNoSeq(k, r, limit)
		k.popPend()
	}
}

func (k *stateKey) popPend() {
	k.pend[0] = restObs{}
	k.pend = k.pend[1:]
	k.resolved = true
}

// judgeNoSeq classifies a REST value not found over WS where it should be:
// between the last match p and limit.
func (st *stateFeature) judgeNoSeq(k *stateKey, r *restObs, limit int64) {
	f := st.f
	tol := f.conf.tol
	var cur *value
	if k.p >= k.base {
		cur = k.w[k.p-k.base].v
	}
	for j := k.base; j <= k.p; j++ {
		if k.w[j-k.base].v.equal(r.v, tol) {
			f.fs.add(OutOfOrder, func() Finding {
				return f.mismatch(k.key, 0, r.t, -1, r.v, cur, "REST shows a value WS gave before the one REST showed last: REST and WS ordered the key's values differently")
			})
			return
		}
	}
	lo := max(k.p+1, k.base)
	if lo >= limit {
		f.fs.add(MissingInWS, func() Finding {
			return f.mismatch(k.key, 0, r.t, -1, r.v, cur, "REST shows a value WS never gave; WS went on from its previous value without it")
		})
		return
	}
	best := lo
	for j := lo + 1; j < limit; j++ {
		if absI(k.w[j-k.base].t-r.t) < absI(k.w[best-k.base].t-r.t) {
			best = j
		}
	}
	e := &k.w[best-k.base]
	_, sub := e.ref()
	f.fs.add(ValueMismatch, func() Finding {
		return f.mismatch(k.key, 0, r.t, sub, r.v, e.v, "REST shows a value WS never gave; compared with the WS value closest in time")
	})
	k.p = best
}

func absI(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// prune retires the WS history no REST observation can need any more, once
// it is known which subscribers missed it.
func (st *stateFeature) prune(k *stateKey, now int64, final bool) {
	if len(k.w) == 0 {
		return
	}
	tol := st.f.conf.tol
	// keep: the first absolute index REST may still need.
	keep := k.base
	if st.f.conf.seqMode {
		if k.restSeen {
			need := k.restSeq
			if k.resolved && k.resolvedSeq < need {
				need = k.resolvedSeq
			}
			for i := range k.pend {
				need = min(need, k.pend[i].seq)
			}
			if i := k.foldIdx(need); i > 0 {
				keep = k.base + int64(k.runStart(i, tol))
			}
		}
	} else if k.p >= k.base {
		keep = max(k.base, k.base+int64(k.runStart(int(k.p-k.base), tol))-8)
	}
	restless := !k.restSeen
	n := 0
	for n < len(k.w) {
		e := &k.w[n]
		idx := k.base + int64(n)
		last := n == len(k.w)-1
		ok := final ||
			(!last && len(k.w)-n > maxEntries) ||
			(!last && (idx < keep || restless) && now-e.t > st.f.retain) ||
			(idx < keep && st.gapDecided(k, e, idx, now))
		if !ok {
			break
		}
		st.retire(k, e)
		if e.seq > k.floor {
			k.floor = e.seq
		}
		n++
	}
	if n == 0 {
		return
	}
	// Move what is left to the front: the storage is reused, and few
	// entries are left.
	m := copy(k.w, k.w[n:])
	clear(k.w[m:])
	k.w = k.w[:m]
	k.base += int64(n)
	if cap(k.w) > 256 && cap(k.w) > 8*len(k.w) {
		k.w = append([]wEntry(nil), k.w...)
	}
}

// gapDecided reports whether every subscriber that did not get e is known
// to have missed it: it got a later message, or trails by gapWait.
func (st *stateFeature) gapDecided(k *stateKey, e *wEntry, idx, now int64) bool {
	if now-e.t > st.f.gapWait {
		return true
	}
	for s := 0; s < st.n; s++ {
		if e.mask&(1<<s) != 0 {
			continue
		}
		if st.f.conf.seqMode {
			if st.wm[s] <= e.seq {
				return false
			}
		} else if k.subs[s].c <= idx {
			return false
		}
	}
	return true
}

// retire records what an entry leaving the history says about delivery.
func (st *stateFeature) retire(k *stateKey, e *wEntry) {
	f := st.f
	all := uint64(1)<<st.n - 1
	if miss := all &^ e.mask; miss != 0 {
		for s := 0; s < st.n; s++ {
			if miss&(1<<s) != 0 {
				f.gaps.add(s, e.t, k.key, e.seq)
			}
		}
	}
	fl := e.faults
	if fl == nil {
		return
	}
	if fl.dupMask != 0 {
		f.fs.add(Duplicate, func() Finding {
			d := fmt.Sprintf("seq %d delivered twice to %s", e.seq, subList(fl.dupMask))
			if !f.conf.seqMode {
				d = "the same value twice in a row to " + subList(fl.dupMask)
			}
			return Finding{Feature: f.conf.name, Key: k.key, Seq: e.seq, T: fl.dupT, Subscriber: lowestSub(fl.dupMask), WS: e.v.any(), Detail: d}
		})
	}
	if fl.oooMask != 0 {
		f.fs.add(OutOfOrder, func() Finding {
			return Finding{Feature: f.conf.name, Key: k.key, Seq: e.seq, T: fl.oooT, Subscriber: lowestSub(fl.oooMask), WS: e.v.any(),
				Detail: fmt.Sprintf("seq %d arrived after a later seq for this key on %s", e.seq, subList(fl.oooMask))}
		})
	}
}

// finish judges what is left, compares final values and retires all
// history.
func (st *stateFeature) finish() {
	f := st.f
	now := f.d.now
	st.sweep(now, true)
	st.settleSuspects()
	f.res.Keys = len(st.keys)
	f.res.FinalCompared = st.hasFinal
	f.res.FinalEqual = st.hasFinal
	tol := f.conf.tol
	for _, name := range sortedKeys(st.keys) {
		k := st.keys[name]
		if st.hasFinal {
			st.finalCompare(k, tol)
		}
		st.prune(k, now, true)
	}
}

// finalCompare compares a key's final REST value with every subscriber's
// last WS value. Differences in the trajectory are findings already (or
// subscriber gaps); a key WS has and the final round does not is
// extra_in_ws.
func (st *stateFeature) finalCompare(k *stateKey, tol float64) {
	f := st.f
	if !k.final {
		var last *value
		for s := range k.subs[:st.n] {
			if k.subs[s].n > 0 {
				last = k.subs[s].lastV
				break
			}
		}
		if last != nil {
			f.res.FinalEqual = false
			f.fs.add(ExtraInWS, func() Finding {
				return Finding{Feature: f.conf.name, Key: k.key, T: f.d.now, Subscriber: -1, WS: last.any(), Detail: "WS gave this key; REST's final round does not list it"}
			})
		}
		return
	}
	for s := range k.subs[:st.n] {
		if !k.subs[s].lastV.equal(k.finalV, tol) {
			f.res.FinalEqual = false
			return
		}
	}
}
