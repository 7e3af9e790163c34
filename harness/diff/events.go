package diff

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// eventsFeature folds an events feature (bars): every item is kept by key
// for the whole capture (events are few), with who delivered it and what
// REST listed.
type eventsFeature struct {
	f    *feature
	keys map[string]*eventKey
	// lastOrder is, per subscriber, the highest Order seen per stream.
	lastOrder []map[string]string
	// paths numbers REST paths; gen counts each path's polls, finalGen
	// its polls in the final round.
	paths    map[string]int
	gen      []int
	hasFinal bool
	n        int
}

// eventKey is one event (one bar).
type eventKey struct {
	key, stream string
	// order is the Order value's raw JSON.
	order string
	// WS: the first value delivered, when, and to whom.
	ws      *value
	wsT     int64
	wsTRef  int64
	mask    uint64
	dupMask uint64
	dupT    int64
	ooo     uint64
	oooT    int64
	// other holds values subscribers got that differ from ws.
	other map[int]*value

	// REST: the latest value listed, when it was first listed, in which
	// path and poll generation, and whether the final round listed it.
	restSeen bool
	restV    *value
	restRaw  string
	restHits []int32
	restT    int64
	path     int
	gen      int
	inFinal  bool
}

func newEventsFeature(f *feature) *eventsFeature {
	return &eventsFeature{f: f, keys: map[string]*eventKey{}, paths: map[string]int{}}
}

func (ev *eventsFeature) grow(n int) {
	for len(ev.lastOrder) < n {
		ev.lastOrder = append(ev.lastOrder, map[string]string{})
	}
	ev.n = n
}

func (ev *eventsFeature) key(key string) *eventKey {
	k := ev.keys[key]
	if k == nil {
		k = &eventKey{key: cloneString(key), wsTRef: -1, path: -1}
		ev.keys[k.key] = k
	}
	return k
}

func (ev *eventsFeature) ws(s int, m *msg, t int64) {
	bit := uint64(1) << s
	tol := ev.f.conf.tol
	for i := range m.items {
		it := &m.items[i]
		if it.event == nil {
			it.event = ev.key(it.key)
		}
		k := it.event
		if k.mask&bit != 0 {
			if k.dupMask == 0 {
				k.dupT = t
			}
			k.dupMask |= bit
			continue
		}
		if k.mask == 0 {
			// Copies: events are kept for the whole capture, the message
			// is not.
			v := it.v
			k.ws, k.wsT = &v, t
			k.stream, k.order = cloneString(it.stream), cloneString(it.order)
		} else if !it.v.equal(k.ws, tol) {
			if k.other == nil {
				k.other = map[int]*value{}
			}
			v := it.v
			k.other[s] = &v
		}
		k.mask |= bit
		if s == 0 {
			k.wsTRef = t
		}
		if ev.f.conf.order != "" {
			lo := ev.lastOrder[s]
			if last, ok := lo[it.stream]; ok && compareOrder(it.order, last) < 0 {
				if k.ooo == 0 {
					k.oooT = t
				}
				k.ooo |= bit
			} else {
				lo[k.stream] = k.order
			}
		}
	}
}

// compareOrder compares two Order values (raw JSON): numbers as numbers,
// RFC 3339 times as times, anything else as text.
func compareOrder(ra, rb string) int {
	a, b := gjson.Parse(ra), gjson.Parse(rb)
	if a.Type == gjson.Number && b.Type == gjson.Number {
		switch {
		case a.Num < b.Num:
			return -1
		case a.Num > b.Num:
			return 1
		}
		return 0
	}
	if a.Type == gjson.String && b.Type == gjson.String {
		ta, ea := time.Parse(time.RFC3339Nano, a.Str)
		tb, eb := time.Parse(time.RFC3339Nano, b.Str)
		if ea == nil && eb == nil {
			return ta.Compare(tb)
		}
		return strings.Compare(a.Str, b.Str)
	}
	return strings.Compare(a.Raw, b.Raw)
}

// rest takes the listing of one primary or final poll of a path.
func (ev *eventsFeature) rest(role int, path string, t int64, items []restItem) {
	pi, ok := ev.paths[path]
	if !ok {
		pi = len(ev.gen)
		ev.paths[cloneString(path)] = pi
		ev.gen = append(ev.gen, 0)
	}
	ev.gen[pi]++
	final := role == roleFinal
	if final {
		ev.hasFinal = true
	}
	for _, it := range items {
		k := ev.keys[it.key]
		if k == nil {
			k = ev.key(it.key)
		}
		v, hits := ev.f.normREST(it, k.restRaw, k.restV, k.restHits)
		if v != k.restV {
			k.restV, k.restRaw, k.restHits = v, v.raw, hits
		}
		if !k.restSeen {
			k.restSeen, k.restT = true, t
		}
		k.path, k.gen = pi, ev.gen[pi]
		if final {
			k.inFinal = true
		}
	}
}

// listed reports whether REST's final listing has k: the final round's
// when there is one, else each path's last poll.
func (ev *eventsFeature) listed(k *eventKey) bool {
	if ev.hasFinal {
		return k.inFinal
	}
	return k.path >= 0 && k.gen == ev.gen[k.path]
}

func (ev *eventsFeature) finish() {
	f := ev.f
	tol := f.conf.tol
	all := uint64(1)<<ev.n - 1
	haveListing := len(ev.gen) > 0
	f.res.Keys = len(ev.keys)
	f.res.FinalCompared = ev.hasFinal
	f.res.FinalEqual = ev.hasFinal
	// Delivery times per stream, in Order, for stale_rest.
	streams := map[string][]*eventKey{}
	names := sortedKeys(ev.keys)
	for _, name := range names {
		if k := ev.keys[name]; k.mask != 0 {
			streams[k.stream] = append(streams[k.stream], k)
		}
	}
	next := map[*eventKey]*eventKey{}
	for _, ks := range streams {
		sort.SliceStable(ks, func(i, j int) bool { return compareOrder(ks[i].order, ks[j].order) < 0 })
		for i := 0; i+1 < len(ks); i++ {
			next[ks[i]] = ks[i+1]
		}
	}
	for _, name := range names {
		k := ev.keys[name]
		if k.mask != 0 && k.mask != all {
			for s := 0; s < ev.n; s++ {
				if k.mask&(1<<s) == 0 {
					f.gaps.add(s, k.wsT, k.key, 0)
				}
			}
			f.res.FinalEqual = false
		}
		if k.dupMask != 0 {
			f.fs.add(Duplicate, func() Finding {
				return Finding{Feature: f.conf.name, Key: k.key, T: k.dupT, Subscriber: lowestSub(k.dupMask), WS: k.ws.any(),
					Detail: "delivered more than once to " + subList(k.dupMask)}
			})
		}
		if k.ooo != 0 {
			f.fs.add(OutOfOrder, func() Finding {
				return Finding{Feature: f.conf.name, Key: k.key, T: k.oooT, Subscriber: lowestSub(k.ooo), WS: k.ws.any(),
					Detail: fmt.Sprintf("arrived after a later %s of stream %q on %s", f.conf.order, k.stream, subList(k.ooo))}
			})
		}
		switch {
		case k.restSeen && k.mask == 0:
			f.res.FinalEqual = false
			f.fs.add(MissingInWS, func() Finding {
				return f.mismatch(k.key, 0, k.restT, -1, k.restV, nil, "REST lists this item; no WS subscriber got it")
			})
		case k.restSeen:
			ev.compare(k, next[k], tol)
		}
		if k.mask != 0 && haveListing && !ev.listed(k) {
			f.res.FinalEqual = false
			f.fs.add(ExtraInWS, func() Finding {
				return Finding{Feature: f.conf.name, Key: k.key, T: k.wsT, Subscriber: lowestSub(k.mask), WS: k.ws.any(),
					Detail: "WS delivered this item; REST's final listing does not have it"}
			})
		}
	}
}

// compare checks an item REST listed and WS delivered.
func (ev *eventsFeature) compare(k, next *eventKey, tol float64) {
	f := ev.f
	if !k.restV.equal(k.ws, tol) {
		f.res.FinalEqual = false
		sub := lowestSub(k.mask)
		f.fs.add(ValueMismatch, func() Finding {
			return f.mismatch(k.key, 0, k.restT, sub, k.restV, k.ws, "")
		})
		return
	}
	subs := make([]int, 0, len(k.other))
	for s := range k.other {
		subs = append(subs, s)
	}
	sort.Ints(subs)
	for _, s := range subs {
		if v := k.other[s]; !k.restV.equal(v, tol) {
			f.res.FinalEqual = false
			f.fs.add(ValueMismatch, func() Finding {
				return f.mismatch(k.key, 0, k.restT, s, k.restV, v, fmt.Sprintf("ws:%d got another value than the other subscribers", s))
			})
			return
		}
	}
	tws := k.wsTRef
	sub := 0
	if tws < 0 {
		tws, sub = k.wsT, lowestSub(k.mask)
	}
	lag := tws - k.restT
	f.lag.add(k.restT, lag)
	f.res.Matched++
	if lag > f.conf.budget {
		f.fs.add(Late, func() Finding {
			return Finding{Feature: f.conf.name, Key: k.key, T: tws, Subscriber: sub, REST: k.restV.any(), WS: k.ws.any(),
				Detail: fmt.Sprintf("WS delivered the item %s after REST listed it (budget %s)", fmtD(lag), fmtD(f.conf.budget))}
		})
	}
	if next != nil && k.restT-next.wsT > f.conf.budget {
		f.fs.add(StaleREST, func() Finding {
			return Finding{Feature: f.conf.name, Key: k.key, T: k.restT, Subscriber: -1, REST: k.restV.any(), WS: next.ws.any(),
				Detail: fmt.Sprintf("REST first listed this item %s after WS had delivered the next one of its stream (budget %s)", fmtD(k.restT-next.wsT), fmtD(f.conf.budget))}
		})
	}
}
