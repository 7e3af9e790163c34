package diff

import (
	"fmt"
	"sort"
)

// maxSpans bounds the spans kept per subscriber; past it a missed message
// joins the nearest span.
const maxSpans = 1000

// gapSpans collects, per subscriber, the messages it missed that other
// subscribers got, joined into spans of time. Misses are found out of time
// order (when history is retired), so spans stay open until the end.
type gapSpans struct {
	subs map[int][]gapSpan
}

type gapSpan struct {
	from, to int64
	n        int
	keys     map[string]struct{}
	key      string
	seq      int64
}

func (g *gapSpans) add(s int, t int64, key string, seq int64) {
	if g.subs == nil {
		g.subs = map[int][]gapSpan{}
	}
	spans := g.subs[s]
	// The span that t falls in or next to.
	i := sort.Search(len(spans), func(i int) bool { return spans[i].to+gapJoin >= t })
	switch {
	case i < len(spans) && spans[i].from-gapJoin <= t:
	case len(spans) >= maxSpans:
		if i == len(spans) {
			i--
		}
	default:
		spans = append(spans, gapSpan{})
		copy(spans[i+1:], spans[i:])
		spans[i] = gapSpan{from: t, to: t, key: key, seq: seq, keys: map[string]struct{}{}}
	}
	sp := &spans[i]
	if t < sp.from {
		sp.from, sp.key, sp.seq = t, key, seq
	}
	sp.to = max(sp.to, t)
	sp.n++
	if len(sp.keys) < 1000 {
		if _, ok := sp.keys[key]; !ok {
			sp.keys[cloneString(key)] = struct{}{}
		}
	}
	// Spans that now touch merge.
	if i+1 < len(spans) && spans[i+1].from-gapJoin <= sp.to {
		nx := spans[i+1]
		sp.to = max(sp.to, nx.to)
		sp.n += nx.n
		for k := range nx.keys {
			if len(sp.keys) < 1000 {
				sp.keys[k] = struct{}{}
			}
		}
		spans = append(spans[:i+1], spans[i+2:]...)
	}
	g.subs[s] = spans
}

// flush turns the spans into subscriber_gap findings.
func (g *gapSpans) flush(f *feature) {
	subs := make([]int, 0, len(g.subs))
	for s := range g.subs {
		subs = append(subs, s)
	}
	sort.Ints(subs)
	for _, s := range subs {
		for _, sp := range g.subs[s] {
			f.fs.add(SubscriberGap, func() Finding {
				keys := fmt.Sprintf("%d keys", len(sp.keys))
				if len(sp.keys) == 1 {
					keys = "key " + sp.key
				}
				return Finding{Feature: f.conf.name, Key: sp.key, Seq: sp.seq, T: sp.from, Until: sp.to, Missed: sp.n, Subscriber: s,
					Detail: fmt.Sprintf("ws:%d missed %d messages other subscribers got between %s and %s (%s)", s, sp.n, fmtT(sp.from), fmtT(sp.to), keys)}
			})
		}
	}
	g.subs = nil
}
