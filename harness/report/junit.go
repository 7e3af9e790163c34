package report

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/thor-trading/cutover-harness/harness/diff"
)

// junitFindings is how many findings a failed findings gate quotes in its
// <failure> body; report.html and report.json have the rest.
const junitFindings = 5

// JUnit renders the report as JUnit XML (junit.xml), for CI to show and
// count:
//
//   - one <testsuite> per report, named after the scenario, inside a
//     <testsuites> root; its <properties> carry the provenance and the
//     overall verdict;
//   - one <testcase> per feature gate, classname = the feature, name = the
//     gate: a FAIL gate has a <failure> whose message is the measured value
//     vs the threshold and the detail, an INCONCLUSIVE gate is <skipped>
//     with the same message, a PASS gate is empty;
//   - one run-level <testcase> named "run" (classname = the scenario):
//     <failure> when the report has findings no feature can claim
//     (Counts), else <skipped> when the run is incomplete or lacks evidence
//     as a whole (Incomplete, Reasons), else it passes.
//
// Run-level reasons and every warning go to the suite's <system-out>.
func (r *Report) JUnit() ([]byte, error) {
	suite := junitSuite{Name: r.Source.ScenarioName}
	if suite.Name == "" {
		suite.Name = r.Source.Scenario
	}
	s := r.Source
	if !s.Started.IsZero() {
		suite.Timestamp = s.Started.UTC().Format("2006-01-02T15:04:05")
	}
	if !s.Started.IsZero() && !s.Finished.IsZero() {
		suite.Time = seconds(s.Finished.Sub(s.Started).Seconds())
	}
	for _, p := range []junitProperty{
		{"verdict", r.Verdict}, {"incomplete", strconv.FormatBool(r.Incomplete)}, {"run_id", r.RunID},
		{"scenario", s.Scenario}, {"scenario_sha256", s.ScenarioSHA256}, {"session", s.Session},
		{"speed", s.Speed}, {"stack", s.Stack}, {"commit", s.Commit}, {"capture_ended", s.Ended},
	} {
		if p.Value != "" {
			suite.Properties = append(suite.Properties, p)
		}
	}

	run := junitCase{Classname: suite.Name, Name: "run"}
	switch n := total(r.Counts); {
	case n > 0:
		var b strings.Builder
		fmt.Fprintf(&b, "%d WS frames no feature can claim (%s): any of them fails the run.\n", n, kindsLine(nonZero(r.Counts)))
		writeFindings(&b, r.Findings, n)
		run.Failure = &junitResult{Type: Fail, Message: fmt.Sprintf("%d run-level finding%s (%s)", n, plural(n), kindsLine(nonZero(r.Counts))), Text: xmlText(b.String())}
	case r.Incomplete || len(r.Reasons) > 0:
		msg := "INCONCLUSIVE: " + strings.Join(r.Reasons, "; ")
		if len(r.Reasons) == 0 {
			msg = "INCONCLUSIVE: the run did not complete"
		}
		run.Skipped = &junitResult{Message: msg}
	}
	suite.Cases = append(suite.Cases, run)

	var out []string
	for _, reason := range r.Reasons {
		out = append(out, "reason: "+reason)
	}
	for _, w := range r.Warnings {
		out = append(out, "warning: "+w)
	}
	for _, name := range r.Order {
		fr := r.Features[name]
		if fr == nil {
			continue
		}
		for _, w := range fr.Warnings {
			out = append(out, name+": warning: "+w)
		}
		for _, g := range fr.Gates {
			c := junitCase{Classname: name, Name: g.Name}
			msg := fmt.Sprintf("measured %s, threshold %s", g.Measured, g.Threshold)
			if g.Detail != "" {
				msg += ": " + g.Detail
			}
			switch g.Verdict {
			case Fail:
				c.Failure = &junitResult{Type: Fail, Message: msg, Text: xmlText(gateBody(name, g, fr))}
			case Inconclusive:
				c.Skipped = &junitResult{Message: "INCONCLUSIVE: " + msg}
			}
			suite.Cases = append(suite.Cases, c)
		}
	}
	if len(out) > 0 {
		suite.SystemOut = strings.Join(out, "\n") + "\n"
	}
	for _, c := range suite.Cases {
		suite.Tests++
		switch {
		case c.Failure != nil:
			suite.Failures++
		case c.Skipped != nil:
			suite.Skipped++
		}
	}
	doc := junitSuites{
		Name: "cutover-harness", Tests: suite.Tests, Failures: suite.Failures, Skipped: suite.Skipped,
		Time: suite.Time, Suites: []junitSuite{suite},
	}
	b, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("rendering junit.xml: %w", err)
	}
	return append(append([]byte(xml.Header), b...), '\n'), nil
}

// gateBody is a failed gate's <failure> text: the gate in full, and for
// the findings and freshness gates the evidence behind it.
func gateBody(feature string, g Gate, fr *FeatureReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, gate %q: %s\nmeasured:  %s\nthreshold: %s\n", feature, g.Name, g.Verdict, g.Measured, g.Threshold)
	if g.Detail != "" {
		fmt.Fprintf(&b, "detail:    %s\n", g.Detail)
	}
	f := fr.FeatureResult
	if f == nil {
		return b.String()
	}
	switch g.Name {
	case "findings":
		writeFindings(&b, f.Findings, max(total(f.Counts), len(f.Findings)))
	case "freshness p99":
		l := f.Lag
		fmt.Fprintf(&b, "lag over %d values: min %s, p50 %s, p90 %s, p99 %s, max %s; median gain %s (negative lag = WS ahead)\n",
			l.N, roundDur(l.Min), roundDur(l.P50), roundDur(l.P90), roundDur(l.P99), roundDur(l.Max), roundDur(l.Gain))
	}
	return b.String()
}

// writeFindings quotes the first junitFindings findings with their diffs.
func writeFindings(b *strings.Builder, fs []diff.Finding, n int) {
	if len(fs) == 0 {
		return
	}
	k := min(len(fs), junitFindings)
	fmt.Fprintf(b, "first %d of %d findings (all in report.html and report.json):\n", k, n)
	for _, f := range fs[:k] {
		fmt.Fprintf(b, "- %s", f.Kind)
		if f.Key != "" {
			fmt.Fprintf(b, " key %s", f.Key)
		}
		if f.Seq != 0 {
			fmt.Fprintf(b, " seq %d", f.Seq)
		}
		if f.Subscriber >= 0 {
			fmt.Fprintf(b, " subscriber ws:%d", f.Subscriber)
		}
		fmt.Fprintf(b, " at %s", at(f.T))
		if f.Detail != "" {
			fmt.Fprintf(b, ": %s", f.Detail)
		}
		b.WriteString("\n")
		if d := strings.TrimRight(f.Diff, "\n"); d != "" {
			b.WriteString("    " + strings.ReplaceAll(d, "\n", "\n    ") + "\n")
		}
	}
}

// xmlText replaces what XML 1.0 cannot carry (control characters other
// than tab and newline, invalid UTF-8) with U+FFFD. Attributes need no
// such care: encoding/xml escapes them.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t', r == '\n', r == '\r':
			return r
		case r < 0x20, r == utf8.RuneError, r >= 0xFFFE && r <= 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return '\uFFFD'
		}
		return r
	}, s)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func seconds(s float64) string { return strconv.FormatFloat(s, 'f', 3, 64) }

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr,omitempty"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr,omitempty"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string       `xml:"classname,attr"`
	Name      string       `xml:"name,attr"`
	Failure   *junitResult `xml:"failure,omitempty"`
	Skipped   *junitResult `xml:"skipped,omitempty"`
}

type junitResult struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	// Text is written as CDATA so diffs keep their lines and tabs;
	// xmlText has removed what XML cannot carry.
	Text string `xml:",cdata"`
}
