package refstack

import (
	"slices"
	"strconv"
	"sync"
	"time"
)

// restView is what a REST endpoint lists: the state of one moment and the
// seq of the last event applied by then. Only the fields of the feature
// asked for are filled.
type restView struct {
	seq       int64
	balances  []Balance
	positions []Position
	bars      map[string][]Bar // closed bars per symbol, shared read-only
	markets   []Market
}

// viewOf takes the view of f (all of it for the stale store) from m.
func viewOf(m *Model, fs ...Feature) restView {
	v := restView{seq: m.Seq()}
	for _, f := range fs {
		switch f {
		case AccountBalance:
			v.balances = m.Balances()
		case Positions:
			v.positions = m.Positions()
		case IntradayBars:
			v.bars = m.closedBars()
		case GlobalMarket:
			v.markets = m.Markets()
		}
	}
	return v
}

// appendREST writes {"seq":N,"data":[items sorted by key]}; for bars,
// symbol "" lists every symbol's closed bars (by symbol, then start).
func appendREST(dst []byte, v restView, f Feature, symbol string, noSeq bool) []byte {
	dst = append(dst, '{')
	if !noSeq {
		dst = append(dst, `"seq":`...)
		dst = strconv.AppendInt(dst, v.seq, 10)
		dst = append(dst, ',')
	}
	dst = append(dst, `"data":[`...)
	n := 0
	sep := func() {
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
	}
	switch f {
	case AccountBalance:
		for _, b := range v.balances {
			sep()
			dst = appendBalance(dst, b, contractRender)
		}
	case Positions:
		for _, p := range v.positions {
			sep()
			dst = appendPosition(dst, p, contractRender)
		}
	case IntradayBars:
		syms := []string{symbol}
		if symbol == "" {
			syms = make([]string, 0, len(v.bars))
			for sym := range v.bars {
				syms = append(syms, sym)
			}
			slices.Sort(syms)
		}
		for _, sym := range syms {
			for _, b := range v.bars[sym] {
				sep()
				dst = appendBar(dst, b, contractRender)
			}
		}
	case GlobalMarket:
		for _, m := range v.markets {
			sep()
			dst = appendMarket(dst, m, contractRender)
		}
	}
	return append(dst, "]}"...)
}

// staleStore keeps timestamped views of the features with a stale_rest
// fault, so their REST endpoints can serve the state as it was a while ago,
// like a cache that is not invalidated in time.
type staleStore struct {
	lag    [4]time.Duration // per feature index; 0: not stale
	feats  []Feature
	maxLag time.Duration

	mu    sync.Mutex
	snaps []timedView // oldest first
}

type timedView struct {
	at time.Time
	v  restView
}

// newStaleStore returns nil when no feature serves stale REST.
func newStaleStore(faults Faults, m *Model, now time.Time) *staleStore {
	st := &staleStore{}
	for i, f := range Features {
		if d := faults[f].StaleREST; d > 0 {
			st.lag[i] = d
			st.feats = append(st.feats, f)
			st.maxLag = max(st.maxLag, d)
		}
	}
	if len(st.feats) == 0 {
		return nil
	}
	st.capture(m, now)
	return st
}

func (st *staleStore) stale(f Feature) bool {
	return st != nil && st.lag[f.index()] > 0
}

// capture records the state of m at now. The caller keeps m still.
func (st *staleStore) capture(m *Model, now time.Time) {
	if st == nil {
		return
	}
	v := viewOf(m, st.feats...)
	st.mu.Lock()
	defer st.mu.Unlock()
	if n := len(st.snaps); n > 1 && now.Sub(st.snaps[n-1].at) < time.Millisecond {
		// Coalesce bursts: a state that lasted under a millisecond is not kept.
		st.snaps[n-1] = timedView{at: now, v: v}
	} else {
		st.snaps = append(st.snaps, timedView{at: now, v: v})
	}
	// Keep the newest view older than the longest lag, and all after it.
	cut := now.Add(-st.maxLag)
	i := 0
	for i+1 < len(st.snaps) && !st.snaps[i+1].at.After(cut) {
		i++
	}
	if i > 0 {
		st.snaps = slices.Delete(st.snaps, 0, i)
	}
}

// view is the state of f as it was f's lag before now: the newest view
// captured at or before then (the oldest kept view if none is that old).
func (st *staleStore) view(f Feature, now time.Time) restView {
	at := now.Add(-st.lag[f.index()])
	st.mu.Lock()
	defer st.mu.Unlock()
	v := st.snaps[0].v
	for _, s := range st.snaps[1:] {
		if s.at.After(at) {
			break
		}
		v = s.v
	}
	return v
}
