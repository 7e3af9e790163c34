package load

import (
	"fmt"
	"sort"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// maxSeriesRows bounds the per-second table in Markdown (JSON has it all).
const maxSeriesRows = 300

// Markdown renders the result for people: verdict, plan, per-threshold
// verdicts, the step table, capacity, latency percentiles, REST polling next
// to WS push, throughput per second and the worst subscribers. The report
// package embeds it; its headings start at level 2.
func (r *Result) Markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("## Load: %s — **%s**\n\n", r.Source.ScenarioName, r.Verdict)
	w("- scenario: `%s` (sha256 %.12s…)\n", r.Source.Scenario, r.Source.ScenarioSHA256)
	w("- stack: %s\n", r.Source.Stack)
	w("- stack CPU: %s\n", r.StackCPU)
	w("- shards: %s", shardsString(r.Shards))
	if !r.Source.Started.IsZero() {
		w("; started %s, took %s", r.Source.Started.UTC().Format(time.RFC3339), r.Source.Finished.Sub(r.Source.Started).Round(time.Second))
	}
	w("\n")
	p := r.Plan
	w("- plan: %d subscribers (connecting %s/s), input %s in requests of %s, %s warm-up + %s measured, drain up to %s; each event's `%s` message is matched to its send time by `%s`\n",
		p.Subscribers, fmtRate(p.ConnectRate), p.Pacer, plural(p.Batch, "event"), p.Warmup, p.Duration, p.Drain, p.MessageType, p.Correlate)
	if r.Mode == ModeStep {
		how := fmt.Sprintf("×%s", fmtRate(p.StepFactor))
		if p.StepAdd > 0 {
			how = "+" + fmtRate(p.StepAdd)
		}
		w("- capacity search: %s from %s, %s per step, at most %d steps and %s\n", p.Vary, fmtRate(p.StepStart), how, p.MaxSteps, p.MaxTime)
	}
	if !r.Complete {
		w("- **incomplete**: %s\n", r.Interrupted)
	}
	w("\n")
	if len(r.Reasons) > 0 {
		w("**Why not PASS**\n\n")
		for _, s := range r.Reasons {
			w("- %s\n", s)
		}
		w("\n")
	}
	if len(r.Warnings) > 0 {
		w("**Warnings**\n\n")
		for _, s := range r.Warnings {
			w("- %s\n", s)
		}
		w("\n")
	}

	focus := r.focus()
	if focus != nil {
		w("### Verdict per threshold (step %d)\n\n", focus.Index+1)
		w("| check | verdict | measured | threshold | note |\n|---|---|---|---|---|\n")
		for _, c := range focus.Checks {
			w("| %s | %s | %s | %s | %s |\n", c.Name, c.Verdict, cell(c.Measured), cell(c.Threshold), cell(c.Note))
		}
		w("\n")
	}

	if len(r.Steps) > 0 {
		w("### Steps\n\n")
		w("| step | subscribers | input events/s (planned → sent) | messages/s received | p50 | p99 | p99.9 | max | loss | duplicates | out of order | ingest errors | connect failures | harness CPU | stack CPU | verdict |\n")
		w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, st := range r.Steps {
			d, in := st.Delivery, st.Ingest
			w("| %d | %d | %s → %s | %s | %s | %s | %s | %s | %s | %d | %d | %d/%d | %d/%d | %s | %s | %s |\n",
				st.Index+1, st.Connect.Connected, fmtRate(in.PlannedRate), fmtRate(in.EventRate), fmtRate(d.FanoutRate),
				fmtDur(d.Latency.P50), fmtDur(d.Latency.P99), fmtDur(d.Latency.P999), fmtDur(d.Latency.Max),
				pct(d.Loss), d.Duplicates, d.OutOfOrder, in.Failed, in.Requests, st.Connect.Failures, st.Connect.Attempts,
				cpuCell(st.Parts), stackCPUCell(st.StackCPU, "message"), st.Verdict)
		}
		w("\nOut of order counts deliveries below the highest seq already seen; concurrent ingest requests may reach the stack out of seq order, so it is informational.\n\n")
	}

	if c := r.Capacity; c != nil {
		w("### Capacity\n\n")
		switch {
		case c.Step < 0:
			w("No step passed. %s\n\n", c.Reason)
		case c.Found:
			w("**%s %s** (step %d): %s\n\n", fmtRate(c.Value), c.Vary, c.Step+1, c.Reason)
		default:
			w("**at least %s %s** (step %d): %s\n\n", fmtRate(c.Value), c.Vary, c.Step+1, c.Reason)
		}
	}

	if len(r.Steps) > 0 {
		w("### Latency percentiles\n\n")
		w("| what | step | count | p50 | p90 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|---|\n")
		for _, st := range r.Steps {
			latRow(w, "WS delivery (event sent → message received)", st.Index+1, st.Delivery.Latency)
		}
		for _, st := range r.Steps {
			latRow(w, "ingest request", st.Index+1, st.Ingest.Latency)
		}
		for _, st := range r.Steps {
			if st.Connect.Latency.Count > 0 {
				latRow(w, "WS connect (dial + upgrade)", st.Index+1, st.Connect.Latency)
			}
		}
		if bl := r.Baseline; bl != nil {
			w("| REST poll (baseline) | – | %d | %s | %s | %s | %s | %s |\n", bl.Latency.Count, fmtDur(bl.Latency.P50), fmtDur(bl.Latency.P90),
				fmtDur(bl.Latency.P99), fmtDur(bl.Latency.P999), fmtDur(bl.Latency.Max))
		}
		w("\nHDR histograms, two significant digits (exact below 256µs, within 1%% above); JSON keeps them encoded for merging.\n\n")
	}

	if focus != nil {
		var rows []string
		for _, p := range focus.Parts {
			if m := p.Vegeta; m != nil {
				rows = append(rows, vegetaRow("ingest, step "+fmt.Sprint(focus.Index+1), p.Shard, m))
			}
		}
		if bl := r.Baseline; bl != nil {
			for _, p := range bl.Parts {
				if m := p.Vegeta; m != nil {
					rows = append(rows, vegetaRow("REST baseline", p.Shard, m))
				}
			}
		}
		if len(rows) > 0 {
			w("### vegeta's own metrics\n\n")
			w("| attack | shard | requests | rate/s | throughput/s | success | mean | p50 | p95 | p99 | max | status codes |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
			for _, row := range rows {
				w("%s", row)
			}
			w("\nvegeta's quantiles are estimates (t-digest) and do not merge across shards; the tables above use the HDR histograms.\n\n")
		}
	}

	if bl := r.Baseline; bl != nil && focus != nil {
		d, in := focus.Delivery, focus.Ingest
		w("### REST polling vs WS push\n\n")
		w("| | REST polling (baseline) | WS push (step %d) |\n|---|---|---|\n", focus.Index+1)
		w("| dashboards | %d, each polling %s | %d subscribers |\n", bl.Dashboards, plural(len(bl.Polls), "path"), focus.Connect.Connected)
		w("| work | %s requests/s (planned %s) | %s messages/s received from %s events/s |\n", fmtRate(bl.Rate), fmtRate(bl.PlannedRate), fmtRate(d.FanoutRate), fmtRate(in.EventRate))
		w("| latency p50 / p99 | %s / %s (request → answer) | %s / %s (event sent → on the dashboard) |\n",
			fmtDur(bl.Latency.P50), fmtDur(bl.Latency.P99), fmtDur(d.Latency.P50), fmtDur(d.Latency.P99))
		w("| errors | %d of %d requests | %d lost of %d, %d duplicates, %d failed ingest requests, %d disconnects |\n",
			bl.Failed, bl.Requests, d.Lost, d.Expected, d.Duplicates, in.Failed, d.Disconnects)
		w("| bytes received | %s | – |\n", fmtBytes(bl.BytesIn))
		var bcpu []Part
		for _, p := range bl.Parts {
			bcpu = append(bcpu, Part{CPU: p.CPU})
		}
		w("| harness CPU (mean) | %s | %s |\n", cpuCell(bcpu), cpuCell(focus.Parts))
		if bl.StackCPU != nil || focus.StackCPU != nil {
			w("| stack CPU | %s | %s |\n", stackCPUCell(bl.StackCPU, "request"), stackCPUCell(focus.StackCPU, "message"))
		} else {
			w("| stack CPU | %s | |\n", cell(r.StackCPU))
		}
		if bl.Seeded > 0 {
			w("\nThe baseline polled a stack seeded with %d session events.\n", bl.Seeded)
		}
		w("\n")
	}

	if focus != nil && len(focus.Series) > 0 {
		w("### Throughput over time (step %d)\n\n", focus.Index+1)
		w("Seconds since the step's input began (the first %s are warm-up, not measured).\n\n", r.Plan.Warmup)
		w("| s | events sent | events failed | delivered | harness CPU |\n|---|---|---|---|---|\n")
		for i, s := range focus.Series {
			if i == maxSeriesRows {
				w("| … | %d more seconds in result.json | | | |\n", len(focus.Series)-i)
				break
			}
			w("| %d | %d | %d | %d | %s |\n", s.T, s.Sent, s.Failed, s.Delivered, pct(s.CPU))
		}
		w("\n")
	}

	if focus != nil && len(focus.PerSubscriber) > 0 {
		d := focus.Delivery
		w("### Subscribers (step %d)\n\n", focus.Index+1)
		w("%d subscribers connected, %d disconnected during the step.", focus.Connect.Connected, d.Disconnects)
		for _, k := range sortedKeys(focus.Connect.Errors) {
			w(" Connect failures: %d × %s.", focus.Connect.Errors[k], k)
		}
		for _, k := range sortedKeys(d.DisconnectReasons) {
			w(" Disconnects: %d × %s.", d.DisconnectReasons[k], k)
		}
		w("\n\nWorst subscribers (by loss, then p99):\n\n")
		subs := append([]SubscriberStats(nil), focus.PerSubscriber...)
		sort.SliceStable(subs, func(i, j int) bool {
			if subs[i].Lost != subs[j].Lost {
				return subs[i].Lost > subs[j].Lost
			}
			return subs[i].P99 > subs[j].P99
		})
		w("| subscriber | connect | expected | delivered | lost | duplicates | p50 | p99 | max | disconnected |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range subs[:min(5, len(subs))] {
			w("| %s | %s | %d | %d | %d | %d | %s | %s | %s | %s |\n", s.ID, fmtDur(s.Connect), s.Expected, s.Delivered, s.Lost, s.Duplicates,
				fmtDur(s.P50), fmtDur(s.P99), fmtDur(s.Max), cell(s.Disconnected))
		}
		w("\n")
	}
	return b.String()
}

// focus is the step the detail sections show: the only one, the capacity
// step of a search, or the first step when none passed.
func (r *Result) focus() *Step {
	if len(r.Steps) == 0 {
		return nil
	}
	if c := r.Capacity; c != nil && c.Step >= 0 {
		for _, st := range r.Steps {
			if st.Index == c.Step {
				return st
			}
		}
	}
	return r.Steps[0]
}

func vegetaRow(attack string, sh Shard, m *vegeta.Metrics) string {
	codes := make([]string, 0, len(m.StatusCodes))
	for c, n := range m.StatusCodes {
		codes = append(codes, fmt.Sprintf("%s×%d", c, n))
	}
	sort.Strings(codes)
	l := m.Latencies
	return fmt.Sprintf("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", attack, sh, m.Requests, fmtRate(m.Rate), fmtRate(m.Throughput),
		pct(m.Success), fmtDur(l.Mean), fmtDur(l.P50), fmtDur(l.P95), fmtDur(l.P99), fmtDur(l.Max), strings.Join(codes, " "))
}

func latRow(w func(string, ...any), what string, step int, l Latency) {
	w("| %s | %d | %d | %s | %s | %s | %s | %s |\n", what, step, l.Count, fmtDur(l.P50), fmtDur(l.P90), fmtDur(l.P99), fmtDur(l.P999), fmtDur(l.Max))
}

func cpuCell(parts []Part) string {
	if len(parts) == 0 {
		return "–"
	}
	var s []string
	for _, p := range parts {
		c := p.CPU
		switch {
		case !c.Available:
			s = append(s, "n/a")
		case c.Saturated:
			s = append(s, pct(c.Mean)+" of "+fmt.Sprint(c.Cores)+" cores (saturated)")
		default:
			s = append(s, pct(c.Mean)+" of "+fmt.Sprint(c.Cores)+" cores")
		}
	}
	return strings.Join(s, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// stackCPUCell renders the stack's CPU over a window: cores, and CPU per
// unit of work.
func stackCPUCell(s *StackCPU, unit string) string {
	switch {
	case s == nil:
		return "–"
	case s.Error != "":
		return cell("not read: " + s.Error)
	case s.PerUnit > 0:
		return fmt.Sprintf("%.2f cores, %s per %s", s.Cores, fmtDur(s.PerUnit), unit)
	}
	return fmt.Sprintf("%.2f cores", s.Cores)
}
