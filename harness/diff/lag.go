package diff

import (
	"math"
	"sort"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Lags are kept in two HDR histograms, one for WS behind REST (lag >= 0)
// and one for WS ahead (-lag > 0), so negative lags keep their precision.
const (
	lagLowest  = int64(time.Microsecond)
	lagHighest = int64(24 * time.Hour)
	// maxSeries is how many lag points a feature reports; twice that are
	// kept while the capture is read.
	maxSeries = 1000
)

type lagAcc struct {
	pos, neg *hdrhistogram.Histogram
	n        int
	sum      float64
	min, max int64
	series   []LagPoint
	// stride: one point of every stride is kept; skip counts towards it.
	stride, skip int
}

func newLagAcc() *lagAcc {
	return &lagAcc{stride: 1, min: math.MaxInt64, max: math.MinInt64}
}

func clampLag(v int64) int64 {
	return min(max(v, 0), lagHighest)
}

func (l *lagAcc) add(t, lag int64) {
	if l.pos == nil {
		l.pos = hdrhistogram.New(lagLowest, lagHighest, 3)
		l.neg = hdrhistogram.New(lagLowest, lagHighest, 3)
	}
	l.n++
	l.sum += float64(lag)
	l.min = min(l.min, lag)
	l.max = max(l.max, lag)
	if lag >= 0 {
		_ = l.pos.RecordValue(clampLag(lag))
	} else {
		_ = l.neg.RecordValue(clampLag(-lag))
	}
	l.skip++
	if l.skip < l.stride {
		return
	}
	l.skip = 0
	l.series = append(l.series, LagPoint{T: t, Lag: time.Duration(lag)})
	if len(l.series) >= 2*maxSeries {
		// Keep every other point and halve the rate from now on.
		for i := 0; i < len(l.series)/2; i++ {
			l.series[i] = l.series[2*i]
		}
		l.series = l.series[:len(l.series)/2]
		l.stride *= 2
	}
}

// quantile returns the lag at quantile q (0..100) of both histograms
// together.
func (l *lagAcc) quantile(q float64) int64 {
	nNeg := l.neg.TotalCount()
	nAll := nNeg + l.pos.TotalCount()
	rank := int64(math.Ceil(q / 100 * float64(nAll)))
	rank = min(max(rank, 1), nAll)
	if rank <= nNeg {
		// The rank-th lowest lag is the (nNeg-rank+1)-th largest -lag.
		k := nNeg - rank + 1
		return -l.neg.ValueAtQuantile(100 * float64(k) / float64(nNeg))
	}
	k := rank - nNeg
	nPos := nAll - nNeg
	return l.pos.ValueAtQuantile(100 * float64(k) / float64(nPos))
}

func (l *lagAcc) stats() (LagStats, []LagPoint) {
	if l.n == 0 {
		return LagStats{}, nil
	}
	clampQ := func(v int64) time.Duration { return time.Duration(min(max(v, l.min), l.max)) }
	s := LagStats{
		N:    l.n,
		Min:  time.Duration(l.min),
		Max:  time.Duration(l.max),
		Mean: time.Duration(l.sum / float64(l.n)),
		P50:  clampQ(l.quantile(50)),
		P90:  clampQ(l.quantile(90)),
		P99:  clampQ(l.quantile(99)),
	}
	s.Gain = -s.P50
	series := l.series
	if len(series) > maxSeries {
		thin := make([]LagPoint, maxSeries)
		for i := range thin {
			thin[i] = series[i*len(series)/maxSeries]
		}
		series = thin
	} else {
		series = append([]LagPoint(nil), series...)
	}
	sort.SliceStable(series, func(i, j int) bool { return series[i].T < series[j].T })
	return s, series
}
