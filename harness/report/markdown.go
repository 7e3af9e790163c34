package report

import (
	"fmt"
	"strings"
	"time"
)

// maxMarkdownFindings is how many findings per feature report.md shows;
// report.json has all the stored ones.
const maxMarkdownFindings = 10

var badge = map[string]string{Pass: "✅ PASS", Fail: "❌ FAIL", Inconclusive: "⚠️ INCONCLUSIVE"}

// Markdown renders the report for people: fit for a pull-request comment.
func (r *Report) Markdown() string {
	var b strings.Builder
	title := r.Verdict
	if r.Incomplete {
		title += " (INCOMPLETE)"
	}
	fmt.Fprintf(&b, "# Cutover report: %s — %s\n\n", r.Source.ScenarioName, title)
	fmt.Fprintf(&b, "**Verdict: %s**", badge[r.Verdict])
	if r.Incomplete {
		b.WriteString(" — **INCOMPLETE**: the run did not finish; this report covers what was captured.")
	}
	b.WriteString("\n\n")
	for _, s := range r.Reasons {
		fmt.Fprintf(&b, "- %s\n", s)
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(&b, "- warning: %s\n", s)
	}
	if n := total(r.Counts); n > 0 {
		fmt.Fprintf(&b, "- %d WS frames no feature can claim (%s), e.g. %s\n", n, kindsLine(r.Counts), r.Findings[0].Detail)
	}
	if len(r.Reasons)+len(r.Warnings)+total(r.Counts) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("| feature | verdict | REST polls | WS items | findings | freshness p99 | median gain |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|\n")
	for _, name := range r.Order {
		f := r.Features[name]
		p99, gain := "–", "–"
		if f.Lag.N > 0 {
			p99, gain = dur(int64(f.Lag.P99)), dur(int64(f.Lag.Gain))
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %s | %s |\n", name, badge[f.Verdict], f.RESTOK, f.WSItems, total(f.Counts), p99, gain)
	}
	b.WriteString("\n")
	for _, name := range r.Order {
		f := r.Features[name]
		fmt.Fprintf(&b, "## %s — %s\n\n", name, badge[f.Verdict])
		b.WriteString("| gate | verdict | measured | threshold | detail |\n|---|---|---|---|---|\n")
		for _, g := range f.Gates {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", g.Name, g.Verdict, esc(g.Measured), esc(g.Threshold), esc(g.Detail))
		}
		b.WriteString("\n")
		for _, w := range f.Warnings {
			fmt.Fprintf(&b, "- warning: %s\n", w)
		}
		if len(f.Findings) > 0 {
			fmt.Fprintf(&b, "<details><summary>%d findings (%s)</summary>\n\n", total(f.Counts), kindsLine(f.Counts))
			for i, fd := range f.Findings {
				if i == maxMarkdownFindings {
					fmt.Fprintf(&b, "… %d more in report.json\n\n", len(f.Findings)-i)
					break
				}
				fmt.Fprintf(&b, "- **%s** key `%s`", fd.Kind, fd.Key)
				if fd.Seq != 0 {
					fmt.Fprintf(&b, " seq %d", fd.Seq)
				}
				if fd.Subscriber >= 0 {
					fmt.Fprintf(&b, " subscriber ws:%d", fd.Subscriber)
				}
				fmt.Fprintf(&b, " at %s", dur(fd.T))
				if fd.Detail != "" {
					fmt.Fprintf(&b, ": %s", fd.Detail)
				}
				b.WriteString("\n")
				if fd.Diff != "" {
					fmt.Fprintf(&b, "\n  ```diff\n  %s\n  ```\n", strings.ReplaceAll(strings.TrimRight(fd.Diff, "\n"), "\n", "\n  "))
				}
			}
			b.WriteString("\n</details>\n\n")
		}
	}
	s := r.Source
	b.WriteString("## Provenance\n\n")
	fmt.Fprintf(&b, "- scenario: `%s` (%s, sha256 `%s`)\n", s.Scenario, s.ScenarioName, short(s.ScenarioSHA256))
	if s.Session != "" {
		fmt.Fprintf(&b, "- session: `%s` at speed %s\n", s.Session, s.Speed)
	}
	fmt.Fprintf(&b, "- stack: %s\n", s.Stack)
	if s.Commit != "" {
		fmt.Fprintf(&b, "- harness commit: `%s`\n", s.Commit)
	}
	fmt.Fprintf(&b, "- run `%s`: %s → %s (%s), capture ended %s; %d subscribers, %d WS frames, %d REST polls\n",
		r.RunID, s.Started.Format(time.RFC3339), s.Finished.Format(time.RFC3339), s.Finished.Sub(s.Started).Round(time.Millisecond),
		s.Ended, r.Subscribers, r.WSFrames, r.RESTPolls)
	return b.String()
}

// Summary is the few lines a run prints on stdout.
func (r *Report) Summary() string {
	var b strings.Builder
	v := r.Verdict
	if r.Incomplete {
		v += " (INCOMPLETE)"
	}
	fmt.Fprintf(&b, "%s: %s\n", r.Source.ScenarioName, v)
	for _, name := range r.Order {
		f := r.Features[name]
		line := fmt.Sprintf("  %-16s %-12s", name, f.Verdict)
		if n := total(f.Counts); n > 0 {
			line += " " + kindsLine(f.Counts)
		} else if f.Lag.N > 0 {
			line += fmt.Sprintf(" freshness p99 %s, median gain %s", dur(int64(f.Lag.P99)), dur(int64(f.Lag.Gain)))
		}
		for _, g := range f.Gates {
			if g.Verdict == Inconclusive && g.Detail != "" {
				line += " (" + g.Detail + ")"
				break
			}
		}
		b.WriteString(line + "\n")
	}
	for _, s := range r.Reasons {
		fmt.Fprintf(&b, "  ! %s\n", s)
	}
	return b.String()
}

func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

func kindsLine(counts map[string]int) string {
	var parts []string
	for _, k := range SortedKinds(counts) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, counts[k]))
	}
	return strings.Join(parts, ", ")
}

func dur(ns int64) string { return time.Duration(ns).Round(time.Microsecond).String() }

func esc(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
