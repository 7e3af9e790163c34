package report

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/diff"
)

// TestChartsEdgeCases: no data is a note, never an SVG; one point, equal
// points, all-late and a budget far away still draw.
func TestChartsEdgeCases(t *testing.T) {
	pts := func(lags ...time.Duration) []diff.LagPoint {
		var ps []diff.LagPoint
		for i, l := range lags {
			ps = append(ps, diff.LagPoint{T: int64(i+1) * int64(time.Second), Lag: l})
		}
		return ps
	}
	for _, c := range []struct {
		name   string
		series []diff.LagPoint
		budget time.Duration
		drawn  bool
	}{
		{"no points", nil, 2 * time.Second, false},
		{"one point", pts(-5 * time.Millisecond), 2 * time.Second, true},
		{"equal points", pts(0, 0, 0, 0), 2 * time.Second, true},
		{"all late", pts(3*time.Second, 4*time.Second, 5*time.Second), 2 * time.Second, true},
		{"no budget", pts(-time.Millisecond, time.Millisecond), 0, true},
		{"hours of lag", pts(-time.Hour, 2*time.Hour), time.Second, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &diff.FeatureResult{Name: "f", LagSeries: c.series}
			if len(c.series) > 0 {
				f.Lag = diff.LagStats{N: len(c.series), P99: c.series[len(c.series)-1].Lag}
			}
			for _, ch := range []chart{
				lagChart("a", "f", f, c.budget, 0),
				lagDistChart("b", "f", f, c.budget),
			} {
				if drawn := ch.SVG != ""; drawn != c.drawn {
					t.Errorf("chart %s drawn %v, want %v (note %q)", ch.ID, drawn, c.drawn, ch.Note)
				}
				if !c.drawn && ch.Note == "" {
					t.Errorf("chart %s: neither a chart nor a note", ch.ID)
				}
				if c.drawn && !strings.HasPrefix(ch.SVG, `<svg id="`+ch.ID+`" class="chart `) {
					t.Errorf("chart %s starts %.60q", ch.ID, ch.SVG)
				}
			}
		})
	}
	if ch := timelineChart("t", []timelineRow{{name: "f"}}, 0); ch.SVG != "" || ch.Note == "" {
		t.Errorf("timeline without findings: %+v", ch)
	}
	if ch := deliveryChart("d", "f", &diff.FeatureResult{}, 3, 0); ch.SVG != "" || ch.Note == "" {
		t.Errorf("delivery without gaps: %+v", ch)
	}
}

// TestLagBins: bins put 0 and the budget on an edge, so a bin is wholly
// ahead, in budget or over it, and no value is lost.
func TestLagBins(t *testing.T) {
	vals := []float64{-58.6, -40, -3.1, -0.85, 0, 0.4, 1.9, 2, 2.1, 7.5, 8.6, 19.9, 20, 20.1, 30}
	const budget = 20.0
	bins, w := lagBins(vals, budget, true)
	total := 0.0
	edges := map[float64]bool{}
	for i, b := range bins {
		total += b.Weight
		edges[math.Round(b.Min*1e9)/1e9] = true
		if i > 0 && math.Abs(b.Min-bins[i-1].Max) > 1e-9 {
			t.Errorf("bin %d starts at %g, the previous ends at %g", i, b.Min, bins[i-1].Max)
		}
		if math.Abs(b.Max-b.Min-w) > 1e-9 {
			t.Errorf("bin %d is %g wide, want %g", i, b.Max-b.Min, w)
		}
	}
	if int(total) != len(vals) {
		t.Errorf("bins hold %g values, want %d", total, len(vals))
	}
	for _, e := range []float64{0, budget} {
		if !edges[e] {
			t.Errorf("%g is not a bin edge (width %g, first %g)", e, w, bins[0].Min)
		}
	}
	for _, v := range vals {
		for _, b := range bins {
			if v > b.Min && v <= b.Max && ((v <= 0) != (b.Max <= 0) || (v <= budget) != (b.Max <= budget)) {
				t.Errorf("value %g is in bin (%g, %g], on the other side of 0 or the budget", v, b.Min, b.Max)
			}
		}
	}
}

func TestNiceTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		want   []string
	}{
		{0, 175, []string{"0", "25", "50", "75", "100", "125", "150", "175"}},
		{-0.35, 3.96, []string{"0", "1", "2", "3"}},
		{-0.35, 0.2, []string{"-0.3", "-0.2", "-0.1", "0.0", "0.1", "0.2"}},
		{1500, 4000, []string{"1500", "2000", "2500", "3000", "3500", "4000"}},
		{0, 17, []string{"0.0", "2.5", "5.0", "7.5", "10.0", "12.5", "15.0"}},
	} {
		var got []string
		for _, tk := range (niceTicks{n: 7}).Ticks(c.lo, c.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("ticks over [%g, %g]: %v, want %v", c.lo, c.hi, got, c.want)
		}
	}
}
