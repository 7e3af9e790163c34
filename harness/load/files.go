package load

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Names of a load result's files in its directory.
const (
	ResultJSON     = "result.json"
	ResultMarkdown = "result.md"
)

// WriteDir writes result.json and result.md into dir (created if needed).
func (r *Result) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := r.WriteJSON(filepath.Join(dir, ResultJSON)); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ResultMarkdown), []byte(r.Markdown()), 0o644)
}

// WriteJSON writes the result as indented JSON to path.
func (r *Result) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadResult reads a result.json.
func ReadResult(path string) (*Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a load result: %w", path, err)
	}
	if r.Format != Format {
		return nil, fmt.Errorf("%s: format %q, want %q", path, r.Format, Format)
	}
	return &r, nil
}

// Summary is a few lines for a terminal: verdict, capacity, the decisive
// step's figures and why the verdict is not PASS.
func (r *Result) Summary() string {
	s := fmt.Sprintf("load %s: %s", r.Source.ScenarioName, r.Verdict)
	if !r.Complete {
		s += " (incomplete: " + r.Interrupted + ")"
	}
	s += "\n"
	if f := r.focus(); f != nil {
		d := f.Delivery
		s += fmt.Sprintf("  step %d: %d subscribers, %s events/s → %s messages/s received; delivery p50 %s p99 %s max %s; loss %s (%d of %d); ingest errors %d of %d; harness CPU %s\n",
			f.Index+1, f.Connect.Connected, fmtRate(f.Ingest.EventRate), fmtRate(d.FanoutRate), fmtDur(d.Latency.P50), fmtDur(d.Latency.P99), fmtDur(d.Latency.Max),
			pct(d.Loss), d.Lost, d.Expected, f.Ingest.Failed, f.Ingest.Requests, cpuCell(f.Parts))
		if f.StackCPU != nil {
			s += "  stack CPU: " + stackCPUCell(f.StackCPU, "message") + "\n"
		}
	}
	if c := r.Capacity; c != nil {
		s += "  capacity: " + c.Reason + "\n"
		if c.Step >= 0 {
			prefix := "at least "
			if c.Found {
				prefix = ""
			}
			s += fmt.Sprintf("  capacity: %s%s %s\n", prefix, fmtRate(c.Value), c.Vary)
		}
	}
	if b := r.Baseline; b != nil {
		s += fmt.Sprintf("  REST baseline: %d dashboards, %s requests/s, p99 %s, %d of %d failed\n", b.Dashboards, fmtRate(b.Rate), fmtDur(b.Latency.P99), b.Failed, b.Requests)
		if b.StackCPU != nil {
			s += "  REST baseline stack CPU: " + stackCPUCell(b.StackCPU, "request") + "\n"
		}
	}
	for _, x := range r.Reasons {
		s += "  - " + x + "\n"
	}
	for _, x := range r.Warnings {
		s += "  ! " + x + "\n"
	}
	return s
}

// ExitCode is the harness's exit code for the verdict: 0 PASS, 1 FAIL,
// 3 INCONCLUSIVE.
func (r *Result) ExitCode() int {
	switch r.Verdict {
	case Pass:
		return 0
	case Fail:
		return 1
	}
	return 3
}
