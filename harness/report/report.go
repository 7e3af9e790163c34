package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/thor-trading/cutover-harness/harness/diff"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// Format names this report layout in report.json.
const Format = "cutover-report/v1"

// Verdicts.
const (
	Pass         = "PASS"
	Fail         = "FAIL"
	Inconclusive = "INCONCLUSIVE"
)

// Report is one run's sign-off report.
type Report struct {
	Format  string `json:"format"`
	RunID   string `json:"run_id"`
	Verdict string `json:"verdict"`
	// Incomplete marks a run that was interrupted or failed before it
	// finished; its verdict is INCONCLUSIVE.
	Incomplete bool `json:"incomplete,omitempty"`
	// Reasons say why the run as a whole is not PASS.
	Reasons []string `json:"reasons,omitempty"`
	// Warnings are facts a reviewer should see that do not change the verdict.
	Warnings []string `json:"warnings,omitempty"`

	Source   Source                    `json:"source"`
	Features map[string]*FeatureReport `json:"features"`
	// Order lists the features in the order the report shows them.
	Order []string `json:"order"`

	// Findings and Counts belong to no feature: WS frames that are not
	// JSON or are binary. Any of them fails the run.
	Findings []diff.Finding `json:"findings,omitempty"`
	Counts   map[string]int `json:"counts,omitempty"`

	Subscribers int   `json:"subscribers"`
	Records     int64 `json:"records"`
	WSFrames    int64 `json:"ws_frames"`
	RESTPolls   int64 `json:"rest_polls"`
}

// Source says where the run came from.
type Source struct {
	Scenario       string    `json:"scenario"`
	ScenarioName   string    `json:"scenario_name"`
	ScenarioSHA256 string    `json:"scenario_sha256"`
	Session        string    `json:"session,omitempty"`
	Speed          string    `json:"speed,omitempty"`
	Stack          string    `json:"stack"`
	Commit         string    `json:"commit,omitempty"`
	Started        time.Time `json:"started"`
	Finished       time.Time `json:"finished"`
	// Ended is how the capture ended: complete, interrupted or error.
	Ended     string `json:"ended"`
	EndReason string `json:"end_reason,omitempty"`
}

// FeatureReport is one feature's verdict, the gates behind it and the
// diff's evidence.
type FeatureReport struct {
	Verdict string `json:"verdict"`
	Gates   []Gate `json:"gates"`
	// Warnings: noisy fields without an ignore rule, ignore rules that
	// matched nothing.
	Warnings []string `json:"warnings,omitempty"`
	*diff.FeatureResult
}

// Gate is one check behind a verdict.
type Gate struct {
	Name      string `json:"name"`
	Verdict   string `json:"verdict"`
	Measured  string `json:"measured"`
	Threshold string `json:"threshold"`
	Detail    string `json:"detail,omitempty"`
}

// Run describes the run a report is built for.
type Run struct {
	ID       string
	Stack    string
	Commit   string
	Started  time.Time
	Finished time.Time
	// Problems are run-level facts that take away evidence (stack
	// unreachable, subscribers that never connected, replay failed).
	Problems []string
}

// Build evaluates a diff against the scenario's thresholds.
func Build(sc *scenario.Scenario, res *diff.Result, run Run) *Report {
	r := &Report{
		Format: Format,
		RunID:  run.ID,
		Source: Source{
			Scenario: sc.File, ScenarioName: sc.Name, ScenarioSHA256: sc.SHA256,
			Session: sc.Session, Speed: sc.Speed.String(), Stack: run.Stack, Commit: run.Commit,
			Started: run.Started.UTC(), Finished: run.Finished.UTC(), Ended: res.Ended,
		},
		Features:    map[string]*FeatureReport{},
		Subscribers: res.Subscribers,
		Records:     res.Records,
		WSFrames:    res.WSFrames,
		RESTPolls:   res.RESTPolls,
	}
	r.Reasons = append(r.Reasons, run.Problems...)
	switch {
	case res.Truncated:
		r.Incomplete = true
		r.Reasons = append(r.Reasons, "the capture ends mid-record, without an end record (the harness died): evidence is partial")
	case res.Ended != "complete":
		r.Incomplete = true
		r.Reasons = append(r.Reasons, fmt.Sprintf("the run did not complete (%s): evidence is partial", orNone(res.Ended)))
	}
	if res.Ended == "complete" && !res.Settled {
		r.Reasons = append(r.Reasons, fmt.Sprintf("REST and WS did not come to rest within settle.timeout (%s): final values are not comparable", sc.Settle.Timeout.D()))
	}
	for _, st := range res.SubscriberStats {
		if st.Connects == 0 {
			why := st.LastError
			if why == "" {
				why = "no connection attempt recorded"
			}
			r.Reasons = append(r.Reasons, fmt.Sprintf("WS subscriber %s never connected (%s): its view is missing", st.Src, why))
		}
	}
	r.Findings, r.Counts = res.Findings, res.Counts
	r.Warnings = append(r.Warnings, faultWarnings(res)...)
	runOK := len(r.Reasons) == 0
	byName := map[string]*diff.FeatureResult{}
	for _, f := range res.Features {
		byName[f.Name] = f
	}
	for _, name := range sc.FeatureNames() {
		f := byName[name]
		if f == nil {
			f = &diff.FeatureResult{Name: name, Kind: sc.Features[name].Kind}
		}
		fr := evaluate(sc, sc.Features[name], f, runOK)
		r.Features[name] = fr
		r.Order = append(r.Order, name)
	}
	r.Verdict = Pass
	for _, name := range r.Order {
		switch r.Features[name].Verdict {
		case Fail:
			r.Verdict = Fail
		case Inconclusive:
			if r.Verdict == Pass {
				r.Verdict = Inconclusive
			}
		}
	}
	if total(r.Counts) > 0 {
		// Frames no feature can claim (not JSON, binary) are a protocol
		// fault of the stack as a whole.
		r.Verdict = Fail
	}
	if r.Incomplete || !runOK {
		r.Verdict = Inconclusive
	}
	return r
}

func orNone(s string) string {
	if s == "" {
		return "no end record"
	}
	return s
}

// failing is every finding kind that counts against max_findings.
var failing = []string{
	diff.ValueMismatch, diff.MissingInWS, diff.ExtraInWS, diff.Duplicate, diff.OutOfOrder,
	diff.Late, diff.StaleREST, diff.SubscriberGap, diff.ProtocolError,
}

func evaluate(sc *scenario.Scenario, fc *scenario.Feature, f *diff.FeatureResult, runOK bool) *FeatureReport {
	fr := &FeatureReport{FeatureResult: f}
	add := func(g Gate) { fr.Gates = append(fr.Gates, g) }
	th := sc.Thresholds

	// Evidence first: without it no other gate can pass.
	ev := Gate{Name: "evidence", Verdict: Pass,
		Measured:  fmt.Sprintf("%d REST polls ok, %d WS items", f.RESTOK, f.WSItems),
		Threshold: fmt.Sprintf(">= %d REST polls, >= %d WS items", th.MinRESTSamples, th.MinWSItems)}
	switch {
	case !runOK:
		ev.Verdict, ev.Detail = Inconclusive, "the run itself lacks evidence (see the report's reasons)"
	case f.RESTOK < th.MinRESTSamples:
		ev.Verdict, ev.Detail = Inconclusive, "too few successful REST polls"
	case f.WSItems < th.MinWSItems:
		ev.Verdict, ev.Detail = Inconclusive, "too few WS items"
	case !f.FinalCompared:
		ev.Verdict, ev.Detail = Inconclusive, "final REST and WS values were not compared"
	}
	add(ev)

	n := 0
	var kinds []string
	for _, k := range failing {
		if c := f.Counts[k]; c > 0 {
			n += c
			kinds = append(kinds, fmt.Sprintf("%s %d", k, c))
		}
	}
	g := Gate{Name: "findings", Verdict: Pass, Measured: fmt.Sprint(n), Threshold: fmt.Sprintf("<= %d", *th.MaxFindings)}
	if n > *th.MaxFindings {
		g.Verdict = Fail
	}
	if len(kinds) > 0 {
		g.Detail = joinComma(kinds)
	}
	add(g)

	if f.Kind == scenario.KindState || f.FinalCompared {
		g := Gate{Name: "final values", Verdict: Pass, Measured: "equal", Threshold: "equal once settled"}
		switch {
		case !f.FinalCompared:
			g.Verdict, g.Measured = Inconclusive, "not compared"
		case !f.FinalEqual:
			g.Verdict, g.Measured = Fail, "different"
		}
		add(g)
	}

	if fc.REST.Removed {
		add(goneGate(f.Gone))
	}

	budget := th.FreshnessP99.D()
	if budget == 0 {
		budget = fc.FreshnessBudget.D()
	}
	fg := Gate{Name: "freshness p99", Threshold: "<= " + budget.String()}
	if fc.REST.Removed {
		// Golden expectations carry no REST timing: freshness was judged
		// while REST still existed.
	} else if f.Lag.N == 0 {
		fg.Verdict, fg.Measured, fg.Detail = Inconclusive, "no matched values", "no value was seen on both REST and WS"
	} else {
		p99 := time.Duration(f.Lag.P99)
		fg.Measured = p99.Round(time.Microsecond).String()
		fg.Verdict = Pass
		if p99 > budget {
			fg.Verdict = Fail
		}
		ahead := "WS ahead of REST"
		if f.Lag.Gain < 0 {
			ahead = "WS behind REST"
		}
		fg.Detail = fmt.Sprintf("%d values, median freshness gain %s (%s)", f.Lag.N, f.Lag.Gain.Round(time.Microsecond), ahead)
	}
	if !fc.REST.Removed {
		add(fg)
	}

	for _, nf := range f.Noisy {
		if !nf.Ignored {
			fr.Warnings = append(fr.Warnings, fmt.Sprintf("field %q differs on its own between two %s observers (%d times): add an ignore rule with a reason if that is expected", nf.Field, nf.Source, nf.Count))
		}
	}
	for _, ig := range f.Ignores {
		if ig.Matched == 0 {
			fr.Warnings = append(fr.Warnings, fmt.Sprintf("ignore rule for %q (%s) matched nothing: remove it or fix the field name", ig.Field, ig.Reason))
		}
	}

	fr.convergence(sc)

	fr.Verdict = Pass
	for _, g := range fr.Gates {
		if g.Verdict == Fail {
			fr.Verdict = Fail
		}
	}
	// Evidence decides over everything: a FAIL needs evidence too, but a
	// finding is evidence of a fault, so a FAIL stands; a PASS without
	// evidence does not.
	if fr.Verdict == Pass {
		for _, g := range fr.Gates {
			if g.Verdict == Inconclusive {
				fr.Verdict = Inconclusive
			}
		}
	}
	return fr
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// Write writes report.json, report.md, report.html and junit.xml into
// dir. report.json, the record QA signs, is written first, so a rendering
// that fails cannot cost it.
func (r *Report) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(j, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(r.Markdown()), 0o644); err != nil {
		return err
	}
	h, err := r.HTML()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.html"), h, 0o644); err != nil {
		return err
	}
	x, err := r.JUnit()
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "junit.xml"), x, 0o644)
}

// Read loads a report.json.
func Read(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a report: %w", path, err)
	}
	return &r, nil
}

// ExitCode maps a verdict to the harness's exit codes.
func ExitCode(verdict string) int {
	switch verdict {
	case Pass:
		return 0
	case Fail:
		return 1
	}
	return 3
}

// SortedKinds returns the finding kinds of counts, most frequent first.
func SortedKinds(counts map[string]int) []string {
	var ks []string
	for k := range counts {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if counts[ks[i]] != counts[ks[j]] {
			return counts[ks[i]] > counts[ks[j]]
		}
		return ks[i] < ks[j]
	})
	return ks
}

// goneGate checks a removed REST endpoint answered 404 or 410 every time.
func goneGate(g *diff.GoneCheck) Gate {
	gate := Gate{Name: "rest removed", Threshold: "every poll answers 404 or 410"}
	switch {
	case g == nil || g.Polls == 0:
		gate.Verdict, gate.Measured, gate.Detail = Inconclusive, "no polls", "the removed endpoint was never polled"
	case g.Gone == g.Polls:
		gate.Verdict, gate.Measured = Pass, fmt.Sprintf("%d of %d polls gone", g.Gone, g.Polls)
	default:
		gate.Verdict, gate.Measured = Fail, fmt.Sprintf("%d of %d polls gone", g.Gone, g.Polls)
		var st []string
		for code, n := range g.Statuses {
			if code != 404 && code != 410 {
				st = append(st, fmt.Sprintf("%d×%d", code, n))
			}
		}
		sort.Strings(st)
		gate.Detail = "the endpoint still answers: " + joinComma(st)
	}
	return gate
}
