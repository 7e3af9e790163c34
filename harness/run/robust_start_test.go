package run_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/report"
	"github.com/thor-trading/cutover-harness/harness/run"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// processScenario is a scenario whose process stack runs command.
func processScenario(t *testing.T, command string) *scenario.Scenario {
	t.Helper()
	src := fmt.Sprintf(`name: start
profile: thor
session: %s
stack:
  kind: process
  command: %s
  ready_timeout: 30s
  stop_grace: 1s
features:
  positions: {}
`, shortSession, command)
	p := filepath.Join(t.TempDir(), "start.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestStackThatNeverStarts: a stack that does not come up is evidence
// about the stack, not a failure of the harness: the run writes a capture
// harness diff can read and a report, INCONCLUSIVE, saying why; and an
// interruption while the stack starts is an INCOMPLETE run, stopped within
// seconds, with the stack's processes gone.
func TestStackThatNeverStarts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		command string
		cancel  time.Duration // interrupt after this long (0: never)
		want    string
		ended   string
	}{
		{"exits at once", `[/bin/sh, -c, "echo the settings are wrong; exit 3"]`, 0, "the settings are wrong", "error"},
		{"interrupted while it starts", `[/bin/sleep, "60"]`, time.Second, "interrupted", "interrupted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := processScenario(t, tc.command)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if tc.cancel > 0 {
				time.AfterFunc(tc.cancel, cancel)
			}
			dir := t.TempDir()
			start := time.Now()
			res, err := run.Run(ctx, sc, run.Options{Dir: dir})
			if took := time.Since(start); took > 15*time.Second {
				t.Errorf("took %s", took)
			}
			if err != nil {
				t.Fatalf("a stack that does not start is a harness error: %v", err)
			}
			r := res.Report
			if r.Verdict != report.Inconclusive || !r.Incomplete || r.Source.Ended != tc.ended {
				t.Fatalf("verdict %s, incomplete %v, ended %q: %s", r.Verdict, r.Incomplete, r.Source.Ended, verdicts(r))
			}
			if !strings.Contains(strings.Join(r.Reasons, "\n"), tc.want) {
				t.Errorf("the reasons do not say %q: %q", tc.want, r.Reasons)
			}
			rd, err := capture.Open(filepath.Join(dir, capture.FileName))
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			if rec, err := rd.Next(); err != nil || rec.K != capture.KindStart {
				t.Errorf("the capture does not begin with a start record: %v %+v", err, rec)
			}
		})
	}
}
