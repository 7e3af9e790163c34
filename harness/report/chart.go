package report

import (
	"bytes"
	"fmt"
	"html"
	"image/color"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/thor-trading/cutover-harness/harness/diff"
)

// The charts of report.html: drawn with gonum/plot, rendered to SVG and
// inlined, so the page needs nothing but itself. Each chart function
// returns the SVG markup, or a note saying why there is no chart (no data)
// instead of an empty or broken drawing.

// chart is one rendered chart, or the note that replaces it.
type chart struct {
	ID   string
	SVG  string // SVG markup, "" when Note says why there is none
	Note string
}

// Chart colours: the verdict palette of the page, so a red point on a
// chart means what a red chip means in a table.
var (
	colAhead  = rgb(0x1a7f37) // WS ahead of REST: the point of the cutover
	colWithin = rgb(0x0969da) // WS behind REST, within the budget
	colLate   = rgb(0xcf222e) // WS behind REST by more than the budget
	colBudget = rgb(0xcf222e)
	colZero   = rgb(0x59636e)
	colP99    = rgb(0x8250df)
	colGrid   = rgb(0xe6e9ed)
)

// kindStyle gives every finding kind a colour and a glyph, so the timeline
// tells kinds apart without colour too.
var kindStyle = map[string]draw.GlyphStyle{
	diff.ValueMismatch: {Color: rgb(0xcf222e), Radius: 3.2, Shape: draw.CircleGlyph{}},
	diff.MissingInWS:   {Color: rgb(0xbc4c00), Radius: 3.6, Shape: draw.PyramidGlyph{}},
	diff.ExtraInWS:     {Color: rgb(0x8250df), Radius: 3, Shape: draw.BoxGlyph{}},
	diff.Duplicate:     {Color: rgb(0x0969da), Radius: 3.2, Shape: draw.RingGlyph{}},
	diff.OutOfOrder:    {Color: rgb(0x9a6700), Radius: 3.2, Shape: draw.SquareGlyph{}},
	diff.Late:          {Color: rgb(0xbf3989), Radius: 3.6, Shape: draw.TriangleGlyph{}},
	diff.StaleREST:     {Color: rgb(0x1b7c83), Radius: 3.4, Shape: draw.CrossGlyph{}},
	diff.SubscriberGap: {Color: rgb(0x57606a), Radius: 3, Shape: draw.CircleGlyph{}},
	diff.ProtocolError: {Color: rgb(0x1f2328), Radius: 3.6, Shape: draw.PlusGlyph{}},
}

func rgb(v uint32) color.RGBA {
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

func withAlpha(c color.RGBA, a uint8) color.NRGBA {
	return color.NRGBA{R: c.R, G: c.G, B: c.B, A: a}
}

// sans is the charts' typeface. The SVG names it "Liberation Sans"; the
// page's CSS falls back to metric-compatible faces (Arimo, Arial,
// Helvetica), so text measured here fits where it is drawn.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

func sansAt(size vg.Length) font.Font { return font.From(sans, size) }

// newPlot is a plot in the page's style, without a legend (legends are
// drawn beside the plot, never over the data).
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sansAt(11)
	p.Title.Padding = 6
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.X.Label.TextStyle.Font, p.Y.Label.TextStyle.Font = sansAt(9), sansAt(9)
	p.X.Tick.Label.Font, p.Y.Tick.Label.Font = sansAt(8), sansAt(8)
	p.Legend.TextStyle.Font = sansAt(8)
	p.X.Tick.Marker, p.Y.Tick.Marker = niceTicks{n: 7}, niceTicks{n: 5}
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = colGrid, colGrid
	p.Add(g)
	return p
}

type legendEntry struct {
	name   string
	thumbs []plot.Thumbnailer
}

// render draws p (and a legend to its right, when there are entries) into
// an SVG of w×h points and returns the markup with id and class set on
// the <svg> element. A panic in the plotting library becomes an error: a
// chart that cannot be drawn must not cost the report.
func render(p *plot.Plot, legend []legendEntry, w, h vg.Length, id, class, label string) (svg string, err error) {
	defer func() {
		if e := recover(); e != nil {
			svg, err = "", fmt.Errorf("drawing chart %s: %v", id, e)
		}
	}()
	c := vgsvg.New(w, h)
	dc := draw.New(c)
	if len(legend) > 0 {
		l := plot.NewLegend()
		l.TextStyle.Font = sansAt(8)
		l.Left, l.Top = true, true
		l.ThumbnailWidth = 14
		l.Padding = 3
		var lw vg.Length
		for _, e := range legend {
			l.Add(e.name, e.thumbs...)
			if tw := l.TextStyle.Rectangle(" " + e.name).Max.X; tw > lw {
				lw = tw
			}
		}
		// The page may draw the text in a wider face than the one
		// measured here (DejaVu Sans where Liberation Sans is missing).
		lw = lw*1.2 + l.ThumbnailWidth + 10
		if lw > w/3 {
			lw = w / 3
		}
		l.YOffs = -p.Title.TextStyle.Rectangle("Mg").Max.Y - 2*p.Title.Padding
		l.Draw(draw.Crop(dc, w-lw+6, 0, 0, 0))
		dc = draw.Crop(dc, 0, -lw, 0, 0)
	}
	p.Draw(dc)
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return "", err
	}
	s := b.String()
	i := strings.Index(s, "<svg")
	if i < 0 {
		return "", fmt.Errorf("drawing chart %s: no <svg> element in the output", id)
	}
	attrs := fmt.Sprintf(`<svg id="%s" class="%s" role="img" aria-label="%s"`,
		html.EscapeString(id), html.EscapeString(class), html.EscapeString(label))
	return attrs + s[i+len("<svg"):], nil
}

// unit scales nanoseconds for an axis.
type unit struct {
	ns   float64
	name string
}

var (
	unitMS  = unit{1e6, "ms"}
	unitS   = unit{1e9, "s"}
	unitMin = unit{60e9, "min"}
)

func (u unit) of(ns float64) float64 { return ns / u.ns }

// timeUnit picks the unit of a capture-time axis reaching maxNS.
func timeUnit(maxNS float64) unit {
	if maxNS >= 10*60e9 {
		return unitMin
	}
	return unitS
}

// lagUnit picks the unit of a lag axis spanning maxAbsNS.
func lagUnit(maxAbsNS float64) unit {
	if maxAbsNS >= 10e9 {
		return unitS
	}
	return unitMS
}

// hline is a horizontal line at y across [x0, x1].
func hline(x0, x1, y float64, c color.Color, width vg.Length, dashes ...vg.Length) *plotter.Line {
	l, _ := plotter.NewLine(plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}})
	l.Color, l.Width, l.Dashes = c, width, dashes
	return l
}

// vline is a vertical line at x across [y0, y1].
func vline(x, y0, y1 float64, c color.Color, width vg.Length, dashes ...vg.Length) *plotter.Line {
	l, _ := plotter.NewLine(plotter.XYs{{X: x, Y: y0}, {X: x, Y: y1}})
	l.Color, l.Width, l.Dashes = c, width, dashes
	return l
}

func scatter(xys plotter.XYs, sty draw.GlyphStyle) *plotter.Scatter {
	s, _ := plotter.NewScatter(xys)
	s.GlyphStyle = sty
	return s
}

// lagSplit sorts lag points by how they compare with the budget.
type lagSplit struct {
	ahead, within, late plotter.XYs
}

func splitLags(pts []diff.LagPoint, budget time.Duration, tu, lu unit) lagSplit {
	var s lagSplit
	for _, p := range pts {
		xy := plotter.XY{X: tu.of(float64(p.T)), Y: lu.of(float64(p.Lag))}
		switch {
		case p.Lag <= 0:
			s.ahead = append(s.ahead, xy)
		case budget > 0 && p.Lag > budget:
			s.late = append(s.late, xy)
		default:
			s.within = append(s.within, xy)
		}
	}
	return s
}

// lagScale is what a lag axis must show: the lags (and the p99), zero,
// and the budget when it is on the same scale as the lags. A budget far
// above every lag would squash them into a line at the bottom; it is then
// named in the legend instead ("above the scale").
type lagScale struct {
	lo, hi        float64 // ns
	budgetOnScale bool
	unit          unit
}

func scaleLags(f *diff.FeatureResult, budget time.Duration) lagScale {
	lo, hi := math.Min(0, float64(f.Lag.P99)), math.Max(0, float64(f.Lag.P99))
	for _, p := range f.LagSeries {
		lo, hi = math.Min(lo, float64(p.Lag)), math.Max(hi, float64(p.Lag))
	}
	s := lagScale{lo: lo, hi: hi}
	if budget > 0 && hi >= float64(budget)/3 {
		s.budgetOnScale = true
		s.hi = math.Max(hi, float64(budget))
	}
	s.unit = lagUnit(math.Max(-s.lo, s.hi))
	return s
}

// budgetEntry is the legend entry of the budget line.
func budgetEntry(budget time.Duration, s lagScale, l *plotter.Line, off string) legendEntry {
	name := "budget " + budget.String()
	if !s.budgetOnScale {
		name += " (" + off + ")"
	}
	return legendEntry{name, []plot.Thumbnailer{l}}
}

// lagChart draws a feature's lag over capture time: one point per matched
// value (WS delivery − REST's first observation), zero, the budget and the
// p99. span is the capture time the x axis reaches, the same for every
// time chart of the report.
func lagChart(id, feature string, f *diff.FeatureResult, budget time.Duration, span int64) chart {
	c := chart{ID: id}
	if len(f.LagSeries) == 0 {
		c.Note = "No lag data: no value was seen on both REST and WS, so freshness could not be measured."
		return c
	}
	span = max(span, f.LagSeries[len(f.LagSeries)-1].T)
	sc := scaleLags(f, budget)
	tu, lu := timeUnit(float64(span)), sc.unit
	x0, x1 := 0.0, tu.of(float64(span))
	if x1 <= x0 {
		x1 = 1
	}
	p := newPlot("Freshness: lag over the session ("+feature+")",
		"capture time ("+tu.name+" since the run started)",
		"lag ("+lu.name+"), < 0 = WS ahead")
	p.X.Min, p.X.Max = x0, x1
	var legend []legendEntry
	p.Add(hline(x0, x1, 0, colZero, 0.8))
	if budget > 0 {
		b := hline(x0, x1, lu.of(float64(budget)), colBudget, 1.2, 4, 3)
		if sc.budgetOnScale {
			p.Add(b)
		}
		legend = append(legend, budgetEntry(budget, sc, b, "above the scale"))
	}
	if f.Lag.N > 0 {
		q := hline(x0, x1, lu.of(float64(f.Lag.P99)), colP99, 1, 1.5, 2)
		p.Add(q)
		legend = append(legend, legendEntry{"p99 " + roundDur(f.Lag.P99), []plot.Thumbnailer{q}})
	}
	s := splitLags(f.LagSeries, budget, tu, lu)
	for _, set := range []struct {
		xys  plotter.XYs
		col  color.RGBA
		name string
	}{
		{s.ahead, colAhead, "WS ahead"},
		{s.within, colWithin, "WS later, in budget"},
		{s.late, colLate, "over budget"},
	} {
		if len(set.xys) == 0 {
			continue
		}
		pts := scatter(set.xys, draw.GlyphStyle{Color: withAlpha(set.col, 0xb0), Radius: 1.8, Shape: draw.CircleGlyph{}})
		p.Add(pts)
		legend = append(legend, legendEntry{fmt.Sprintf("%s (%d)", set.name, len(set.xys)), []plot.Thumbnailer{pts}})
	}
	pad := (sc.hi - sc.lo) * 0.05
	p.Y.Min, p.Y.Max = lu.of(sc.lo-pad), lu.of(sc.hi+pad)
	svg, err := render(p, legend, 460, 240, id, "chart chart-lag", "lag over capture time for "+feature)
	if err != nil {
		c.Note = err.Error()
		return c
	}
	c.SVG = svg
	return c
}

// lagDistChart draws a histogram of a feature's lags, coloured by how each
// bin compares with the budget, with lines at 0, the budget and the p99.
func lagDistChart(id, feature string, f *diff.FeatureResult, budget time.Duration) chart {
	c := chart{ID: id}
	if len(f.LagSeries) == 0 {
		c.Note = "No lag distribution: no matched values."
		return c
	}
	sc := scaleLags(f, budget)
	lu := sc.unit
	vals := make([]float64, len(f.LagSeries))
	for i, p := range f.LagSeries {
		vals[i] = lu.of(float64(p.Lag))
	}
	sort.Float64s(vals)
	b := lu.of(float64(budget))
	bins, width := lagBins(vals, b, sc.budgetOnScale)
	var ahead, within, late []plotter.HistogramBin
	var nAhead, nWithin, nLate int
	top := 0.0
	for _, bin := range bins {
		top = math.Max(top, bin.Weight)
		switch {
		case bin.Max <= 0:
			ahead, nAhead = append(ahead, bin), nAhead+int(bin.Weight)
		case budget > 0 && bin.Max > b:
			late, nLate = append(late, bin), nLate+int(bin.Weight)
		default:
			within, nWithin = append(within, bin), nWithin+int(bin.Weight)
		}
	}
	p := newPlot("Freshness: lag distribution ("+feature+")", "lag ("+lu.name+"), < 0 = WS ahead", "matched values")
	var legend []legendEntry
	for _, set := range []struct {
		bins []plotter.HistogramBin
		col  color.RGBA
		name string
		n    int
	}{
		{ahead, colAhead, "WS ahead", nAhead},
		{within, colWithin, "WS later, in budget", nWithin},
		{late, colLate, "over budget", nLate},
	} {
		if set.n == 0 {
			continue
		}
		h := &plotter.Histogram{Bins: set.bins, Width: width, FillColor: withAlpha(set.col, 0xc0), LineStyle: draw.LineStyle{Color: color.White, Width: 0.5}}
		p.Add(h)
		legend = append(legend, legendEntry{fmt.Sprintf("%s (%d)", set.name, set.n), []plot.Thumbnailer{h}})
	}
	p.Add(vline(0, 0, top, colZero, 0.8))
	if budget > 0 {
		l := vline(b, 0, top, colBudget, 1.2, 4, 3)
		if sc.budgetOnScale {
			p.Add(l)
		}
		legend = append(legend, budgetEntry(budget, sc, l, "right of the scale"))
	}
	if f.Lag.N > 0 {
		l := vline(lu.of(float64(f.Lag.P99)), 0, top, colP99, 1, 1.5, 2)
		p.Add(l)
		legend = append(legend, legendEntry{"p99 " + roundDur(f.Lag.P99), []plot.Thumbnailer{l}})
	}
	p.Y.Min, p.Y.Max = 0, top*1.05
	svg, err := render(p, legend, 460, 240, id, "chart chart-lagdist", "lag distribution for "+feature)
	if err != nil {
		c.Note = err.Error()
		return c
	}
	c.SVG = svg
	return c
}

// lagBins bins sorted lag values into about √n (5 to 40) bins (min, max]
// whose edges fall on 0 and, when it is on the scale and the bins are not
// wider than it, on the budget b: so a bin is wholly "WS ahead" (lag <= 0),
// "in budget" or "over budget", as the points of the lag chart are.
func lagBins(vals []float64, b float64, budgetOnScale bool) ([]plotter.HistogramBin, float64) {
	lo, hi := vals[0], vals[len(vals)-1]
	n := max(5, min(int(math.Sqrt(float64(len(vals)))), 40))
	w := (hi - lo) / float64(n)
	if w <= 0 {
		w = math.Max(math.Abs(lo)/10, 1e-3)
	}
	if budgetOnScale && b > 0 && b >= w {
		w = b / math.Ceil(b/w)
	}
	start := (math.Ceil(lo/w) - 1) * w // strictly below lo: bins are (min, max]
	count := max(1, int(math.Ceil((hi-start)/w)))
	bins := make([]plotter.HistogramBin, count)
	for i := range bins {
		bins[i].Min, bins[i].Max = start+float64(i)*w, start+float64(i+1)*w
	}
	for _, v := range vals {
		i := min(max(int(math.Ceil((v-start)/w))-1, 0), count-1)
		bins[i].Weight++
	}
	return bins, w
}

// timelineRow is one row of the findings timeline: a feature, or the run
// for findings no feature can claim.
type timelineRow struct {
	name     string
	findings []diff.Finding
}

// timelineChart draws every stored finding at its capture time, one row
// per feature, one glyph per kind; a subscriber_gap is a bar over its
// span.
func timelineChart(id string, rows []timelineRow, span int64) chart {
	c := chart{ID: id}
	maxT := float64(span)
	found := false
	for _, r := range rows {
		for _, f := range r.findings {
			found = true
			maxT = math.Max(maxT, float64(max(f.T, f.Until)))
		}
	}
	if !found {
		c.Note = "No findings anywhere in the session."
		return c
	}
	tu := timeUnit(maxT)
	p := newPlot("Findings over the session (all features)", "capture time ("+tu.name+" since the run started)", "")
	n := len(rows)
	byKind := map[string]plotter.XYs{}
	var ticks []plot.Tick
	for i, r := range rows {
		y := float64(n - 1 - i)
		ticks = append(ticks, plot.Tick{Value: y, Label: r.name})
		for _, f := range r.findings {
			if _, ok := kindStyle[f.Kind]; !ok {
				continue
			}
			x := tu.of(float64(f.T))
			byKind[f.Kind] = append(byKind[f.Kind], plotter.XY{X: x, Y: y})
			if f.Kind == diff.SubscriberGap && f.Until > f.T {
				p.Add(hline(x, tu.of(float64(f.Until)), y, withAlpha(kindStyle[f.Kind].Color.(color.RGBA), 0x80), 5))
			}
		}
	}
	var legend []legendEntry
	for _, k := range diff.Kinds {
		xys := byKind[k]
		if len(xys) == 0 {
			continue
		}
		sc := scatter(xys, kindStyle[k])
		p.Add(sc)
		legend = append(legend, legendEntry{fmt.Sprintf("%s (%d)", k, len(xys)), []plot.Thumbnailer{sc}})
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	p.X.Min, p.X.Max = 0, math.Max(tu.of(maxT), 1e-9)
	h := vg.Length(70 + 30*n)
	svg, err := render(p, legend, 860, h, id, "chart chart-timeline", "findings over the session by feature and kind")
	if err != nil {
		c.Note = err.Error()
		return c
	}
	c.SVG = svg
	return c
}

// deliveryChart draws, for one feature, which WS subscriber missed
// messages when (subscriber_gap spans), labelled with how many. It is the
// delivery evidence report.json holds; features without gaps get a note.
func deliveryChart(id, feature string, f *diff.FeatureResult, subscribers int, span int64) chart {
	c := chart{ID: id}
	var gaps []diff.Finding
	maxSub := subscribers - 1
	maxT := float64(span)
	for _, fd := range f.Findings {
		if fd.Kind == diff.SubscriberGap && fd.Subscriber >= 0 {
			gaps = append(gaps, fd)
			maxSub = max(maxSub, fd.Subscriber)
			maxT = math.Max(maxT, float64(max(fd.T, fd.Until)))
		}
	}
	if len(gaps) == 0 {
		c.Note = "no subscriber_gap: no connected WS subscriber missed a message of this feature that the others got."
		return c
	}
	tu := timeUnit(maxT)
	p := newPlot("Delivery: messages missed per subscriber ("+feature+")", "capture time ("+tu.name+" since the run started)", "")
	var ticks []plot.Tick
	for s := 0; s <= maxSub; s++ {
		ticks = append(ticks, plot.Tick{Value: float64(s), Label: fmt.Sprintf("ws:%d", s)})
	}
	var starts plotter.XYs
	var labels []string
	sty := kindStyle[diff.SubscriberGap]
	for _, g := range gaps {
		x0, x1, y := tu.of(float64(g.T)), tu.of(float64(max(g.T, g.Until))), float64(g.Subscriber)
		p.Add(hline(x0, x1, y, withAlpha(sty.Color.(color.RGBA), 0xa0), 7))
		starts = append(starts, plotter.XY{X: x0, Y: y})
		labels = append(labels, fmt.Sprintf(" %d missed", g.Missed))
	}
	sc := scatter(starts, sty)
	p.Add(sc)
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: starts, Labels: labels})
	if err == nil {
		for i := range lb.TextStyle {
			lb.TextStyle[i].Font = sansAt(7)
			lb.TextStyle[i].YAlign = draw.YBottom
		}
		lb.Offset = vg.Point{Y: 4}
		p.Add(lb)
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = -0.6, float64(maxSub)+0.6
	p.X.Min, p.X.Max = 0, math.Max(tu.of(maxT), 1e-9)
	p.Y.Scale = plot.InvertedScale{Normalizer: plot.LinearScale{}}
	svg, err := render(p, []legendEntry{{fmt.Sprintf("gap (%d)", len(gaps)), []plot.Thumbnailer{sc}}}, 460, vg.Length(80+26*(maxSub+1)), id, "chart chart-delivery", "messages missed per WS subscriber for "+feature)
	if err != nil {
		c.Note = err.Error()
		return c
	}
	c.SVG = svg
	return c
}

// niceTicks puts about n major ticks on 1, 2, 2.5 or 5 times a power of
// ten, labelled with no more decimals than the step needs, and minor
// ticks between them.
type niceTicks struct{ n int }

func (t niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) || math.IsNaN(hi-lo) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := (hi - lo) / float64(max(t.n, 1))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step, minors := 10*mag, 5
	for _, m := range []struct {
		f      float64
		minors int
	}{{1, 5}, {2, 4}, {2.5, 5}, {5, 5}} {
		if m.f*mag >= raw {
			step, minors = m.f*mag, m.minors
			break
		}
	}
	e := math.Floor(math.Log10(step) + 1e-9)
	extra := 0.0
	if r := step / math.Pow(10, e); math.Abs(r-2.5) < 1e-9 {
		extra = 1 // 2.5, 0.25: one digit more than the power of ten
	}
	decimals := max(0, int(extra-e))
	minor := step / float64(minors)
	var ticks []plot.Tick
	for i := math.Ceil(lo/minor - 1e-9); i*minor <= hi+minor*1e-9; i++ {
		v := i * minor
		if math.Abs(v) < minor*1e-9 {
			v = 0
		}
		tk := plot.Tick{Value: v}
		if q := v / step; math.Abs(q-math.Round(q)) < 1e-6 {
			tk.Label = strconv.FormatFloat(v, 'f', decimals, 64)
		}
		ticks = append(ticks, tk)
	}
	return ticks
}

func roundDur(d time.Duration) string {
	switch a := max(d, -d); {
	case a >= time.Second:
		return d.Round(time.Millisecond).String()
	case a >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}
