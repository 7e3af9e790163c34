package load

import (
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Every histogram of this package has one layout, so any two merge exactly:
// values in microseconds from 1µs to 60s, two significant digits (values are
// exact to the microsecond below 256µs and within 1% above). Two digits keep
// a subscriber's histogram at about 20 KB, which matters with thousands.
const (
	histLowest  = 1
	histHighest = int64(60 * time.Second / time.Microsecond)
	histDigits  = 2
)

func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(histLowest, histHighest, histDigits)
}

// recordDur records d, clamped into the histogram's range.
func recordDur(h *hdrhistogram.Histogram, d time.Duration) {
	us := int64(d / time.Microsecond)
	if us < 0 {
		us = 0
	}
	if us > histHighest {
		us = histHighest
	}
	_ = h.RecordValue(us) // in range by construction
}

// Latency is a latency distribution: a summary to read and the histogram
// itself (HDR V2 compressed, base64, microseconds) to merge.
type Latency struct {
	Count int64         `json:"count"`
	Min   time.Duration `json:"min_ns"`
	Mean  time.Duration `json:"mean_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	P999  time.Duration `json:"p999_ns"`
	Max   time.Duration `json:"max_ns"`
	HDR   string        `json:"hdr,omitempty"`
}

func us(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// summarize reads h's percentiles; with encode it also keeps h itself.
func summarize(h *hdrhistogram.Histogram, encode bool) Latency {
	l := Latency{Count: h.TotalCount()}
	if l.Count > 0 {
		l.Min, l.Mean, l.Max = us(h.Min()), time.Duration(h.Mean()*float64(time.Microsecond)), us(h.Max())
		l.P50, l.P90 = us(h.ValueAtQuantile(50)), us(h.ValueAtQuantile(90))
		l.P99, l.P999 = us(h.ValueAtQuantile(99)), us(h.ValueAtQuantile(99.9))
	}
	if encode {
		b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err == nil {
			l.HDR = string(b)
		}
	}
	return l
}

// histogram decodes the kept histogram (an empty one when there is none
// and nothing was recorded).
func (l Latency) histogram() (*hdrhistogram.Histogram, error) {
	if l.HDR == "" {
		if l.Count > 0 {
			return nil, fmt.Errorf("a latency summary of %d values has no histogram to merge", l.Count)
		}
		return newHist(), nil
	}
	h, err := hdrhistogram.Decode([]byte(l.HDR))
	if err != nil {
		return nil, fmt.Errorf("decoding a latency histogram: %w", err)
	}
	return h, nil
}

// mergeLatency merges distributions exactly (their histograms add).
func mergeLatency(ls ...Latency) (Latency, error) {
	sum := newHist()
	for _, l := range ls {
		h, err := l.histogram()
		if err != nil {
			return Latency{}, err
		}
		if dropped := sum.Merge(h); dropped > 0 {
			return Latency{}, fmt.Errorf("merging latency histograms: %d values out of range", dropped)
		}
	}
	return summarize(sum, true), nil
}
