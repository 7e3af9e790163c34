package load

import (
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// pace is one step's input schedule in events per second: vegeta paces
// requests, each carrying batch events.
type pace struct {
	kind   string  // scenario.PacerConstant, PacerLinear, PacerSine
	rate   float64 // events/s: constant rate, linear start, sine mean
	slope  float64 // linear: events/s per second
	amp    float64 // sine: events/s
	period time.Duration
	batch  int
}

// vegetaRate expresses perSec (which may be fractional) as vegeta's Rate.
func vegetaRate(perSec float64) vegeta.Rate {
	if perSec >= 1 && perSec == math.Trunc(perSec) && perSec < math.MaxInt32 {
		return vegeta.Rate{Freq: int(perSec), Per: time.Second}
	}
	return vegeta.Rate{Freq: max(1, int(math.Round(perSec*1000))), Per: 1000 * time.Second}
}

// pacer is vegeta's pacer for requests (events/batch per second).
func (p pace) pacer() vegeta.Pacer {
	b := float64(p.batch)
	switch p.kind {
	case scenario.PacerLinear:
		return vegeta.LinearPacer{StartAt: vegetaRate(p.rate / b), Slope: p.slope / b}
	case scenario.PacerSine:
		return vegeta.SinePacer{Period: p.period, Mean: vegetaRate(p.rate / b), Amp: vegetaRate(p.amp / b), StartAt: vegeta.MeanUp}
	}
	return vegeta.ConstantPacer(vegetaRate(p.rate / b))
}

// events is the number of events the schedule sends in its first d.
func (p pace) events(d time.Duration) float64 {
	t := d.Seconds()
	switch p.kind {
	case scenario.PacerLinear:
		return p.rate*t + p.slope*t*t/2
	case scenario.PacerSine:
		w := 2 * math.Pi / p.period.Seconds()
		return p.rate*t + p.amp/w*(1-math.Cos(w*t))
	}
	return p.rate * t
}

// requestsBound bounds the requests vegeta sends in d: the seq table's size.
func (p pace) requestsBound(d time.Duration) int64 {
	t := d.Seconds()
	peak := p.rate + math.Max(p.slope*t, 0) + p.amp
	return int64(math.Ceil(peak*t/float64(p.batch)*1.05)) + 16
}

func (p pace) String() string {
	switch p.kind {
	case scenario.PacerLinear:
		return fmtRate(p.rate) + " events/s + " + fmtRate(p.slope) + "/s per s (linear)"
	case scenario.PacerSine:
		return fmtRate(p.rate) + " ± " + fmtRate(p.amp) + " events/s over " + p.period.String() + " (sine)"
	}
	return fmtRate(p.rate) + " events/s (constant)"
}
