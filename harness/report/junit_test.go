package report_test

import (
	"bytes"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/thor-trading/cutover-harness/harness/report"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func fixtures(t *testing.T) []struct {
	name string
	r    *report.Report
} {
	return []struct {
		name string
		r    *report.Report
	}{
		{"pass", passReport(t)},
		{"fail", failReport(t)},
		{"incomplete", incompleteReport(t)},
	}
}

// TestJUnitGolden pins junit.xml byte for byte for each fixture report;
// refresh with `go test ./harness/report -run TestJUnitGolden -update`.
func TestJUnitGolden(t *testing.T) {
	for _, c := range fixtures(t) {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.r.JUnit()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", c.name+".junit.xml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("junit.xml differs from %s (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
			}
		})
	}
}

// The JUnit schema as a CI server reads it, written independently of the
// package's own types.
type jSuites struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []jSuite `xml:"testsuite"`
}

type jSuite struct {
	Name       string  `xml:"name,attr"`
	Tests      int     `xml:"tests,attr"`
	Failures   int     `xml:"failures,attr"`
	Errors     int     `xml:"errors,attr"`
	Skipped    int     `xml:"skipped,attr"`
	Time       string  `xml:"time,attr"`
	Properties []jProp `xml:"properties>property"`
	Cases      []jCase `xml:"testcase"`
	SystemOut  string  `xml:"system-out"`
}

type jProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type jCase struct {
	Classname string   `xml:"classname,attr"`
	Name      string   `xml:"name,attr"`
	Failure   *jResult `xml:"failure"`
	Skipped   *jResult `xml:"skipped"`
}

type jResult struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// TestJUnitMapping parses junit.xml back and checks that a testcase fails
// exactly where a gate FAILed, is skipped exactly where a gate was
// INCONCLUSIVE, and passes everywhere else; and that the run-level case
// follows the run-level findings and Incomplete.
func TestJUnitMapping(t *testing.T) {
	for _, c := range fixtures(t) {
		t.Run(c.name, func(t *testing.T) {
			r := c.r
			b, err := r.JUnit()
			if err != nil {
				t.Fatal(err)
			}
			var doc jSuites
			if err := xml.Unmarshal(b, &doc); err != nil {
				t.Fatalf("junit.xml does not parse: %v\n%s", err, b)
			}
			if len(doc.Suites) != 1 {
				t.Fatalf("%d testsuites, want 1", len(doc.Suites))
			}
			s := doc.Suites[0]
			if s.Name != r.Source.ScenarioName {
				t.Errorf("testsuite name %q, want the scenario's %q", s.Name, r.Source.ScenarioName)
			}
			props := map[string]string{}
			for _, p := range s.Properties {
				props[p.Name] = p.Value
			}
			if props["verdict"] != r.Verdict || props["run_id"] != r.RunID || props["scenario_sha256"] != r.Source.ScenarioSHA256 {
				t.Errorf("properties %v do not carry the verdict, run id and scenario sha256", props)
			}

			type want struct{ fail, skip bool }
			wants := map[[2]string]want{}
			var order [][2]string
			run := [2]string{r.Source.ScenarioName, "run"}
			runFindings := 0
			for _, n := range r.Counts {
				runFindings += n
			}
			wants[run] = want{fail: runFindings > 0, skip: runFindings == 0 && (r.Incomplete || len(r.Reasons) > 0)}
			order = append(order, run)
			gates := map[[2]string]report.Gate{}
			for _, name := range r.Order {
				for _, g := range r.Features[name].Gates {
					k := [2]string{name, g.Name}
					wants[k] = want{fail: g.Verdict == report.Fail, skip: g.Verdict == report.Inconclusive}
					gates[k] = g
					order = append(order, k)
				}
			}
			var got [][2]string
			var failures, skipped int
			for _, tc := range s.Cases {
				k := [2]string{tc.Classname, tc.Name}
				got = append(got, k)
				w, ok := wants[k]
				if !ok {
					t.Errorf("testcase %s.%s matches no gate", k[0], k[1])
					continue
				}
				if (tc.Failure != nil) != w.fail {
					t.Errorf("testcase %s.%s: failure %v, want %v", k[0], k[1], tc.Failure != nil, w.fail)
				}
				if (tc.Skipped != nil) != w.skip {
					t.Errorf("testcase %s.%s: skipped %v, want %v", k[0], k[1], tc.Skipped != nil, w.skip)
				}
				g, isGate := gates[k]
				for _, res := range []*jResult{tc.Failure, tc.Skipped} {
					if res == nil {
						continue
					}
					if isGate && !(strings.Contains(res.Message, "measured "+g.Measured) && strings.Contains(res.Message, "threshold "+g.Threshold) && strings.Contains(res.Message, g.Detail)) {
						t.Errorf("testcase %s.%s: message %q lacks measured %q, threshold %q or detail %q", k[0], k[1], res.Message, g.Measured, g.Threshold, g.Detail)
					}
					if res.Message == "" {
						t.Errorf("testcase %s.%s: empty message", k[0], k[1])
					}
				}
				if tc.Failure != nil {
					failures++
				}
				if tc.Skipped != nil {
					skipped++
				}
			}
			if diff := cmp.Diff(order, got); diff != "" {
				t.Errorf("testcases (-want +got):\n%s", diff)
			}
			if s.Tests != len(s.Cases) || s.Failures != failures || s.Skipped != skipped || s.Errors != 0 {
				t.Errorf("testsuite counts tests=%d failures=%d skipped=%d errors=%d, want %d %d %d 0", s.Tests, s.Failures, s.Skipped, s.Errors, len(s.Cases), failures, skipped)
			}
			if doc.Tests != s.Tests || doc.Failures != s.Failures || doc.Skipped != s.Skipped {
				t.Errorf("testsuites counts %d/%d/%d differ from the suite's", doc.Tests, doc.Failures, doc.Skipped)
			}
		})
	}
}

// TestJUnitFailingGatesOnly pins, for the FAIL fixture, where the failures
// are: nowhere but the gates the report FAILed and the run case.
func TestJUnitFailingGatesOnly(t *testing.T) {
	b, err := failReport(t).JUnit()
	if err != nil {
		t.Fatal(err)
	}
	var doc jSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, tc := range doc.Suites[0].Cases {
		if tc.Failure != nil {
			failed = append(failed, tc.Classname+"."+tc.Name)
		}
	}
	want := []string{"shadow.run", "positions.findings", "positions.final values", "positions.freshness p99", "intraday_bars.findings"}
	if diff := cmp.Diff(want, failed); diff != "" {
		t.Errorf("failing testcases (-want +got):\n%s", diff)
	}
}
