package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/thor-trading/cutover-harness/harness/diff"
)

// maxHTMLFindings is how many findings per feature report.html shows;
// report.json has every stored one.
const maxHTMLFindings = 50

// openFindings: a feature's finding list starts unfolded up to this many.
const openFindings = 20

// HTML renders the report as one self-contained page (report.html):
// inline CSS, charts as inline SVG, no script, nothing fetched. The verdict
// comes first, then what it rests on: run-level reasons, a summary per
// feature, the findings over time, each feature's gates (measured value vs
// threshold), freshness charts and findings with their diffs, and the
// run's provenance. A Content-Security-Policy forbids every fetch, so the
// page stays self-contained even if a value in it looks like a URL.
func (r *Report) HTML() ([]byte, error) {
	v := r.htmlView()
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("rendering report.html: %w", err)
	}
	return b.Bytes(), nil
}

type htmlView struct {
	Scenario     string
	Verdict      string
	VerdictClass string
	VerdictLine  string
	MetaLine     string
	Incomplete   bool
	Ended        string
	EndReason    string
	Reasons      []string
	Warnings     []string
	RunFindings  findingsView
	Summary      []summaryRow
	Timeline     svgChart
	Features     []featureView
	Provenance   []kv
}

// svgChart is a chart as the template sees it: trusted SVG markup made by
// render (gonum escapes every text it draws; id, class and label are
// escaped there), or a note.
type svgChart struct {
	ID   string
	SVG  template.HTML
	Note string
}

func toSVGChart(c chart) svgChart {
	return svgChart{ID: c.ID, SVG: template.HTML(c.SVG), Note: c.Note}
}

type kv struct{ K, V string }

type summaryRow struct {
	Name, Anchor, Verdict, Class string
	REST, WS, Matched, Findings  string
	P99, Gain                    string
	FindingsClass                string
}

type gateView struct {
	Name, Verdict, Class, Measured, Threshold, Detail string
}

type featureView struct {
	Name, Anchor, Verdict, Class string
	Kind                         string
	Gates                        []gateView
	Warnings                     []string
	Evidence                     []kv
	Lag                          []kv
	Budget                       string
	LagChart, DistChart          svgChart
	Delivery                     svgChart
	Noisy                        []diff.NoisyField
	Ignores                      []diff.IgnoreUse
	Findings                     findingsView
}

type findingsView struct {
	Total    int // counted, exact
	Stored   int // kept in report.json
	Kinds    string
	Shown    []findingView
	More     int // stored but not shown here
	Unstored int // counted but not stored anywhere
	Open     bool
	// MaxStored is how many findings of a kind the diff keeps.
	MaxStored int
}

type findingView struct {
	Kind, Key, Seq, Sub, At, Span, Detail string
	Diff                                  []diffLine
	REST, WS                              string
}

type diffLine struct{ Class, Text string }

var verdictClass = map[string]string{Pass: "v-pass", Fail: "v-fail", Inconclusive: "v-inconclusive"}

func classOf(verdict string) string {
	if c, ok := verdictClass[verdict]; ok {
		return c
	}
	return "v-inconclusive"
}

func (r *Report) htmlView() *htmlView {
	v := &htmlView{
		Scenario: r.Source.ScenarioName, Verdict: r.Verdict, VerdictClass: classOf(r.Verdict),
		Incomplete: r.Incomplete, Ended: orNone(r.Source.Ended), EndReason: r.Source.EndReason,
		Reasons: r.Reasons, Warnings: r.Warnings,
		RunFindings: findingsOf(r.Findings, r.Counts),
	}
	if v.Scenario == "" {
		v.Scenario = r.Source.Scenario
	}
	span := r.span()
	tally := map[string]int{}
	anchors := map[string]bool{}
	rows := []timelineRow{}
	for i, name := range r.Order {
		fr := r.Features[name]
		if fr == nil {
			continue
		}
		f := fr.FeatureResult
		if f == nil {
			f = &diff.FeatureResult{Name: name}
		}
		tally[fr.Verdict]++
		a := anchorFor(name, i, anchors)
		fv := featureView{
			Name: name, Anchor: a, Verdict: fr.Verdict, Class: classOf(fr.Verdict), Kind: f.Kind,
			Warnings: fr.Warnings, Noisy: f.Noisy, Ignores: f.Ignores,
			Findings: findingsOf(f.Findings, f.Counts),
		}
		for _, g := range fr.Gates {
			fv.Gates = append(fv.Gates, gateView{g.Name, g.Verdict, classOf(g.Verdict), g.Measured, g.Threshold, g.Detail})
		}
		fv.Evidence = []kv{
			{"REST polls", fmt.Sprintf("%d ok of %d (%d errors)", f.RESTOK, f.RESTPolls, f.RESTErrors)},
			{"WS (subscriber ws:0)", fmt.Sprintf("%d items in %d messages", f.WSItems, f.WSMessages)},
			{"keys", strconv.Itoa(f.Keys)},
			{"REST values matched on WS", strconv.Itoa(f.Matched)},
			{"aligned by seq", yesNo(f.SeqAligned)},
			{"final values", finalLine(f)},
		}
		budget := freshnessThreshold(fr)
		if budget > 0 {
			fv.Budget = budget.String()
		}
		if f.Lag.N > 0 {
			l := f.Lag
			fv.Lag = []kv{
				{"matched values", strconv.Itoa(l.N)}, {"min", roundDur(l.Min)}, {"p50", roundDur(l.P50)},
				{"p90", roundDur(l.P90)}, {"p99", roundDur(l.P99)}, {"max", roundDur(l.Max)},
				{"mean", roundDur(l.Mean)}, {"median gain (WS ahead)", roundDur(l.Gain)},
			}
		}
		fv.LagChart = toSVGChart(lagChart("chart-lag-"+a, name, f, budget, span))
		fv.DistChart = toSVGChart(lagDistChart("chart-lagdist-"+a, name, f, budget))
		fv.Delivery = toSVGChart(deliveryChart("chart-delivery-"+a, name, f, r.Subscribers, span))
		v.Features = append(v.Features, fv)

		row := summaryRow{
			Name: name, Anchor: a, Verdict: fr.Verdict, Class: classOf(fr.Verdict),
			REST: fmt.Sprintf("%d / %d", f.RESTOK, f.RESTPolls), WS: strconv.Itoa(f.WSItems),
			Matched: strconv.Itoa(f.Matched), Findings: strconv.Itoa(fv.Findings.Total), P99: "–", Gain: "–",
		}
		if fv.Findings.Total > 0 {
			row.FindingsClass = "bad"
		}
		if f.Lag.N > 0 {
			row.P99, row.Gain = roundDur(f.Lag.P99), roundDur(f.Lag.Gain)
		}
		v.Summary = append(v.Summary, row)
		rows = append(rows, timelineRow{name: name, findings: f.Findings})
	}
	if len(r.Findings) > 0 {
		rows = append(rows, timelineRow{name: "(run)", findings: r.Findings})
	}
	v.Timeline = toSVGChart(timelineChart("chart-timeline", rows, span))

	var parts []string
	for _, verdict := range []string{Pass, Fail, Inconclusive} {
		if n := tally[verdict]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, verdict))
		}
	}
	v.VerdictLine = fmt.Sprintf("%d features: %s", len(v.Features), strings.Join(parts, ", "))
	if n := v.RunFindings.Total; n > 0 {
		v.VerdictLine += fmt.Sprintf(" · %d run-level finding%s", n, plural(n))
	}

	s := r.Source
	meta := []string{"run " + r.RunID}
	if !s.Finished.IsZero() {
		meta = append(meta, "finished "+stamp(s.Finished))
	}
	if s.Stack != "" {
		meta = append(meta, "stack "+s.Stack)
	}
	if s.Commit != "" {
		meta = append(meta, "harness "+s.Commit)
	}
	v.MetaLine = strings.Join(meta, " · ")
	v.Provenance = []kv{
		{"scenario", s.Scenario}, {"scenario name", s.ScenarioName}, {"scenario sha256", s.ScenarioSHA256},
		{"session", s.Session}, {"speed", s.Speed}, {"stack", s.Stack}, {"harness commit", s.Commit},
		{"run id", r.RunID}, {"started", stamp(s.Started)}, {"finished", stamp(s.Finished)},
	}
	if !s.Started.IsZero() && !s.Finished.IsZero() {
		v.Provenance = append(v.Provenance, kv{"duration", s.Finished.Sub(s.Started).Round(time.Millisecond).String()})
	}
	ended := orNone(s.Ended)
	if s.EndReason != "" {
		ended += " (" + s.EndReason + ")"
	}
	v.Provenance = append(v.Provenance,
		kv{"capture ended", ended},
		kv{"captured", fmt.Sprintf("%d records: %d WS frames, %d REST polls; %d WS subscribers", r.Records, r.WSFrames, r.RESTPolls, r.Subscribers)},
		kv{"report format", r.Format},
	)
	return v
}

// span is the latest capture time any lag point or finding of the report
// has: the x axis every time chart shares, so they line up.
func (r *Report) span() int64 {
	var t int64
	see := func(fs []diff.Finding) {
		for _, f := range fs {
			t = max(t, f.T, f.Until)
		}
	}
	see(r.Findings)
	for _, fr := range r.Features {
		if fr == nil || fr.FeatureResult == nil {
			continue
		}
		see(fr.Findings)
		if n := len(fr.LagSeries); n > 0 {
			t = max(t, fr.LagSeries[n-1].T)
		}
	}
	return t
}

// freshnessThreshold reads the freshness p99 gate's threshold ("<= 2s"):
// the line the lag charts draw. Zero when the gate is missing.
func freshnessThreshold(fr *FeatureReport) time.Duration {
	for _, g := range fr.Gates {
		if g.Name != "freshness p99" {
			continue
		}
		d, err := time.ParseDuration(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(g.Threshold), "<=")))
		if err == nil {
			return d
		}
	}
	return 0
}

// anchorFor makes a unique HTML id for a feature out of its name.
func anchorFor(name string, i int, seen map[string]bool) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	a := b.String()
	if a == "" || seen[a] {
		a = fmt.Sprintf("%s-%d", a, i)
	}
	seen[a] = true
	return a
}

func findingsOf(list []diff.Finding, counts map[string]int) findingsView {
	v := findingsView{Total: max(total(counts), len(list)), Stored: len(list), Kinds: kindsLine(nonZero(counts)), MaxStored: diff.MaxStored}
	n := min(len(list), maxHTMLFindings)
	for _, f := range list[:n] {
		v.Shown = append(v.Shown, findingOf(f))
	}
	v.More = len(list) - n
	v.Unstored = v.Total - len(list)
	v.Open = n <= openFindings
	return v
}

func nonZero(counts map[string]int) map[string]int {
	out := map[string]int{}
	for k, n := range counts {
		if n > 0 {
			out[k] = n
		}
	}
	return out
}

func findingOf(f diff.Finding) findingView {
	v := findingView{Kind: f.Kind, Key: f.Key, At: at(f.T), Detail: f.Detail}
	if f.Seq != 0 {
		v.Seq = strconv.FormatInt(f.Seq, 10)
	}
	if f.Subscriber >= 0 {
		v.Sub = fmt.Sprintf("ws:%d", f.Subscriber)
	}
	if f.Until > f.T {
		v.Span = fmt.Sprintf("until %s, %d messages missed", at(f.Until), f.Missed)
	}
	if d := strings.TrimRight(f.Diff, "\n"); d != "" {
		for _, line := range strings.Split(d, "\n") {
			c := "ctx"
			switch {
			case strings.HasPrefix(line, "-"):
				c = "del"
			case strings.HasPrefix(line, "+"):
				c = "add"
			}
			v.Diff = append(v.Diff, diffLine{c, line})
		}
	} else {
		v.REST, v.WS = compactJSON(f.REST), compactJSON(f.WS)
	}
	return v
}

// compactJSON shows a finding's value in one line, cut at 400 bytes.
func compactJSON(x any) string {
	if x == nil {
		return ""
	}
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprint(x)
	}
	if len(b) > 400 {
		return string(b[:400]) + " …"
	}
	return string(b)
}

func at(ns int64) string { return "t+" + time.Duration(ns).Round(time.Millisecond).String() }

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05.000 MST")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func finalLine(f *diff.FeatureResult) string {
	switch {
	case !f.FinalCompared:
		return "not compared"
	case f.FinalEqual:
		return "compared, equal"
	}
	return "compared, different"
}

var pageTemplate = template.Must(template.New("report.html").Funcs(template.FuncMap{"s": plural}).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{{.Verdict}}{{if .Incomplete}} (INCOMPLETE){{end}} · {{.Scenario}} · cutover report</title>
<style>
:root{--pass:#1a7f37;--fail:#cf222e;--inc:#9a6700;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;color:var(--fg);background:#fff;font:14px/1.5 -apple-system,"Segoe UI","Liberation Sans",Arimo,Arial,Helvetica,sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px}
h1,h2,h3{line-height:1.25;margin:28px 0 10px}
h2{font-size:22px;border-bottom:1px solid var(--line);padding-bottom:6px}
h3{font-size:16px}
a{color:#0969da}
.verdict{border-radius:12px;padding:22px 28px;color:#fff}
.verdict .label{font-size:14px;opacity:.9;letter-spacing:.02em}
.verdict .word{font-size:56px;font-weight:800;letter-spacing:.04em;line-height:1.1;margin:4px 0}
.verdict .sub{font-size:15px;opacity:.95}
.verdict .meta{font-size:12px;opacity:.85;margin-top:6px}
.gates td:first-child{white-space:nowrap}
.v-pass{background:var(--pass)}.v-fail{background:var(--fail)}.v-inconclusive{background:var(--inc)}
.incomplete{margin:14px 0;padding:6px;border-radius:12px;background:repeating-linear-gradient(45deg,#ffd33d 0 14px,#1f2328 14px 28px)}
.incomplete div{background:#fff8c5;border-radius:8px;padding:12px 16px;font-size:16px}
.box{border:1px solid var(--line);border-radius:8px;padding:4px 16px;margin:16px 0}
.box h2{border:0;font-size:16px;margin:10px 0 4px}
.reasons{border-color:#d4a72c;background:#fff8c5}.warnings{background:var(--soft)}.runfindings{border-color:#ff8182;background:#ffebe9}
table{border-collapse:collapse;width:100%;margin:8px 0 12px}
th,td{border-bottom:1px solid var(--line);padding:6px 10px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600;font-size:13px}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.bad{color:var(--fail);font-weight:700}
.chip{display:inline-block;padding:1px 10px;border-radius:999px;font-weight:700;font-size:12px;color:#fff;white-space:nowrap}
.feature{margin-top:36px}
.feature h2 .chip{font-size:14px;vertical-align:middle;margin-left:8px}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 18px;margin:8px 0}
.kv dt{color:var(--muted)}.kv dd{margin:0;word-break:break-all}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:8px 28px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:16px;margin:8px 0}
figure{margin:0}
figcaption{color:var(--muted);font-size:12px;margin-top:4px}
svg.chart{display:block;max-width:100%;height:auto;background:#fff;border:1px solid var(--line);border-radius:6px}
svg.chart text{font-family:"Liberation Sans",Arimo,Arial,Helvetica,sans-serif!important}
.nodata{border:1px dashed var(--line);border-radius:6px;padding:28px 16px;color:var(--muted);text-align:center;background:var(--soft)}
details{margin:8px 0}
summary{cursor:pointer;font-weight:600}
ol.findings{padding-left:28px}
ol.findings li{margin:10px 0}
.kind{font-weight:700;font-family:ui-monospace,"DejaVu Sans Mono","Liberation Mono",monospace}
.k-value_mismatch{color:#cf222e}.k-missing_in_ws{color:#bc4c00}.k-extra_in_ws{color:#8250df}.k-duplicate{color:#0969da}
.k-out_of_order{color:#9a6700}.k-late{color:#bf3989}.k-stale_rest{color:#1b7c83}.k-subscriber_gap{color:#57606a}.k-protocol_error{color:#1f2328}
code,pre{font:12px/1.45 ui-monospace,"DejaVu Sans Mono","Liberation Mono",Menlo,monospace}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:8px 10px;overflow:auto;margin:6px 0;tab-size:4}
pre.diff span{display:block;min-height:1.45em;white-space:pre}
pre.diff .del{background:#ffebe9;color:#82071e}pre.diff .add{background:#dafbe1;color:#116329}
.muted{color:var(--muted)}
footer{margin:40px 0 8px;color:var(--muted);font-size:12px}
</style>
</head>
<body>
<main>
<header id="verdict" class="verdict {{.VerdictClass}}">
<div class="label">Cutover report · scenario <strong>{{.Scenario}}</strong></div>
<div class="word" id="verdict-word">{{.Verdict}}</div>
<div class="sub">{{.VerdictLine}}</div>
<div class="meta">{{.MetaLine}}</div>
</header>
{{if .Incomplete}}<div class="incomplete" id="incomplete"><div><strong>INCOMPLETE</strong>: the run did not finish (capture ended: {{.Ended}}{{with .EndReason}}, {{.}}{{end}}). This report covers only what was captured; its verdict is INCONCLUSIVE whatever the features show.</div></div>{{end}}
{{if .Reasons}}<section class="box reasons" id="reasons"><h2>Why the run as a whole is not PASS</h2><ul>{{range .Reasons}}<li>{{.}}</li>{{end}}</ul></section>{{end}}
{{if .Warnings}}<section class="box warnings" id="warnings"><h2>Warnings</h2><ul>{{range .Warnings}}<li>{{.}}</li>{{end}}</ul></section>{{end}}
{{if .RunFindings.Total}}<section class="box runfindings" id="run-findings"><h2>{{.RunFindings.Total}} WS frame{{s .RunFindings.Total}} no feature can claim ({{.RunFindings.Kinds}}): any of them fails the run</h2>{{template "findings" .RunFindings}}</section>{{end}}

<h2>Features</h2>
<table id="summary">
<thead><tr><th>feature</th><th>verdict</th><th class="num">REST polls ok / all</th><th class="num">WS items</th><th class="num">matched</th><th class="num">findings</th><th class="num">freshness p99</th><th class="num">median gain</th></tr></thead>
<tbody>
{{range .Summary}}<tr><td><a href="#{{.Anchor}}">{{.Name}}</a></td><td><span class="chip {{.Class}}">{{.Verdict}}</span></td><td class="num">{{.REST}}</td><td class="num">{{.WS}}</td><td class="num">{{.Matched}}</td><td class="num {{.FindingsClass}}">{{.Findings}}</td><td class="num">{{.P99}}</td><td class="num">{{.Gain}}</td></tr>
{{end}}</tbody>
</table>
<p class="muted">A feature FAILs when any of its gates fails; it is INCONCLUSIVE when a gate lacks evidence and none fails; the run is INCONCLUSIVE when it did not complete or lacks evidence as a whole. Freshness lag = WS delivery − REST's first observation of the same value: negative means WS showed it first; the median gain is how much earlier.</p>

<h2>Findings over the session</h2>
{{template "chart" .Timeline}}
<p class="muted">Every stored finding at the capture time it was observed, one row per feature; a bar is the span of a subscriber gap.</p>

{{range .Features}}
<section class="feature" id="{{.Anchor}}">
<h2>{{.Name}} <span class="chip {{.Class}}">{{.Verdict}}</span>{{with .Kind}} <span class="muted" style="font-size:13px;font-weight:400">{{.}} feature</span>{{end}}</h2>
<h3>Gates</h3>
<table class="gates">
<thead><tr><th>gate</th><th>verdict</th><th>measured</th><th>threshold</th><th>detail</th></tr></thead>
<tbody>
{{range .Gates}}<tr><td>{{.Name}}</td><td><span class="chip {{.Class}}">{{.Verdict}}</span></td><td>{{.Measured}}</td><td>{{.Threshold}}</td><td>{{.Detail}}</td></tr>
{{end}}</tbody>
</table>
{{if .Warnings}}<div class="box warnings"><h2>Warnings</h2><ul>{{range .Warnings}}<li>{{.}}</li>{{end}}</ul></div>{{end}}
<div class="cols">
<div><h3>Evidence</h3><dl class="kv">{{range .Evidence}}<dt>{{.K}}</dt><dd>{{.V}}</dd>{{end}}</dl></div>
<div><h3>Freshness lag</h3>{{if .Lag}}<dl class="kv">{{range .Lag}}<dt>{{.K}}</dt><dd>{{.V}}</dd>{{end}}{{with .Budget}}<dt>p99 threshold</dt><dd>{{.}}</dd>{{end}}</dl>{{else}}<p class="muted">No value was seen on both REST and WS: no lag to measure.</p>{{end}}</div>
</div>
<div class="charts">
{{template "chart" .LagChart}}
{{template "chart" .DistChart}}
</div>
{{if .Delivery.SVG}}<div class="charts">{{template "chart" .Delivery}}</div>{{else}}<p class="muted">Delivery: {{.Delivery.Note}}</p>{{end}}
{{if .Findings.Total}}<h3>Findings</h3>{{template "findings" .Findings}}{{else}}<p class="muted">No findings.</p>{{end}}
{{if or .Noisy .Ignores}}<div class="cols">
{{if .Noisy}}<div><h3>A/A calibration: noisy fields</h3><table><thead><tr><th>field</th><th>between</th><th class="num">pairs differing</th><th>ignored</th></tr></thead><tbody>
{{range .Noisy}}<tr><td><code>{{.Field}}</code></td><td>two {{.Source}} observers</td><td class="num">{{.Count}}</td><td>{{if .Ignored}}yes ({{.Rule}}){{else}}<strong>no</strong>{{end}}</td></tr>
{{end}}</tbody></table></div>{{end}}
{{if .Ignores}}<div><h3>Ignore rules</h3><table><thead><tr><th>field</th><th>reason</th><th class="num">matched</th></tr></thead><tbody>
{{range .Ignores}}<tr><td><code>{{.Field}}</code></td><td>{{.Reason}}</td><td class="num">{{.Matched}}</td></tr>
{{end}}</tbody></table></div>{{end}}
</div>{{end}}
</section>
{{end}}

<h2>Provenance</h2>
<dl class="kv" id="provenance">{{range .Provenance}}{{if .V}}<dt>{{.K}}</dt><dd>{{.V}}</dd>{{end}}{{end}}</dl>
<footer>Written by cutover-harness. QA signs report.json (its sha256); this page is a rendering of it and holds no data report.json lacks.</footer>
</main>
</body>
</html>
{{define "chart"}}{{if .SVG}}<figure>{{.SVG}}</figure>{{else}}<div class="nodata" id="{{.ID}}" data-nodata="true">{{.Note}}</div>{{end}}{{end}}
{{define "findings"}}<details{{if .Open}} open{{end}}><summary>{{.Total}} finding{{s .Total}}{{with .Kinds}} ({{.}}){{end}}{{if .More}}: the first {{len .Shown}} shown{{end}}</summary>
<ol class="findings">
{{range .Shown}}<li><span class="kind k-{{.Kind}}">{{.Kind}}</span>{{with .Key}} key <code>{{.}}</code>{{end}}{{with .Seq}} seq {{.}}{{end}}{{with .Sub}} subscriber {{.}}{{end}} at {{.At}}{{with .Span}} {{.}}{{end}}{{with .Detail}}: {{.}}{{end}}
{{if .Diff}}<pre class="diff" title="go-cmp diff (-rest +ws)">{{range .Diff}}<span class="{{.Class}}">{{.Text}}</span>{{end}}</pre>{{else}}{{with .REST}}<pre>rest: {{.}}</pre>{{end}}{{with .WS}}<pre>ws:   {{.}}</pre>{{end}}{{end}}</li>
{{end}}</ol>
{{if .More}}<p>… and {{.More}} more in report.json.</p>{{end}}
{{if .Unstored}}<p class="muted">{{.Unstored}} more were counted but not stored (report.json keeps the first {{.MaxStored}} of each kind; the counts are exact).</p>{{end}}
</details>{{end}}
`
