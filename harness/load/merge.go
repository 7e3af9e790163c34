package load

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Merge combines the results of a sharded test's shards into the test's
// result: counts add, histograms merge exactly, each rate is the sum of the
// shards' rates (each over its own measured duration), checks and verdicts
// are evaluated again on the totals. The shards must come from the same
// scenario (same SHA-256) and be distinct; a step is merged when every
// shard ran it.
func Merge(results ...*Result) (*Result, error) {
	if len(results) == 0 {
		return nil, errors.New("load: nothing to merge")
	}
	first := results[0]
	out := &Result{
		Format: Format, Complete: true, Source: first.Source, Mode: first.Mode, Plan: first.Plan,
		Thresholds: first.Thresholds, StackCPU: first.StackCPU,
	}
	seen := map[Shard]bool{}
	steps := map[int][]*Step{}
	var baselines []*Baseline
	for i, r := range results {
		if r.Format != Format {
			return nil, fmt.Errorf("load: result %d is %q, not a %s result", i+1, r.Format, Format)
		}
		if r.Source.ScenarioSHA256 != first.Source.ScenarioSHA256 {
			return nil, fmt.Errorf("load: result %d comes from another scenario (sha256 %.12s…, not %.12s…)", i+1, r.Source.ScenarioSHA256, first.Source.ScenarioSHA256)
		}
		if r.Mode != first.Mode || r.Thresholds != first.Thresholds {
			return nil, fmt.Errorf("load: result %d was run with another mode or other thresholds", i+1)
		}
		for _, sh := range r.Shards {
			if seen[sh] {
				return nil, fmt.Errorf("load: shard %s appears twice", sh)
			}
			seen[sh] = true
			out.Shards = append(out.Shards, sh)
		}
		if !r.Complete {
			out.Complete = false
			out.Interrupted = joinNote(out.Interrupted, fmt.Sprintf("shard %s: %s", shardsString(r.Shards), r.Interrupted))
		}
		for _, w := range r.Warnings {
			if !slices.Contains(out.Warnings, w) {
				out.Warnings = append(out.Warnings, w)
			}
		}
		if r.Source.Started.Before(out.Source.Started) {
			out.Source.Started = r.Source.Started
		}
		if r.Source.Finished.After(out.Source.Finished) {
			out.Source.Finished = r.Source.Finished
		}
		for _, st := range r.Steps {
			steps[st.Index] = append(steps[st.Index], st)
		}
		if r.Baseline != nil {
			baselines = append(baselines, r.Baseline)
		}
	}
	sort.Slice(out.Shards, func(i, j int) bool { return out.Shards[i].Index < out.Shards[j].Index })
	if n := out.Shards[0].Count; len(out.Shards) != n {
		out.Warnings = append(out.Warnings, fmt.Sprintf("only %d of %d shards were merged: the totals cover part of the test", len(out.Shards), n))
	}
	for _, idx := range slices.Sorted(maps.Keys(steps)) {
		group := steps[idx]
		if len(group) != len(results) {
			out.Warnings = append(out.Warnings, fmt.Sprintf("step %d was run by %d of %d shards and is left out", idx+1, len(group), len(results)))
			continue
		}
		st, err := mergeSteps(group)
		if err != nil {
			return nil, fmt.Errorf("load: step %d: %w", idx+1, err)
		}
		st.evaluate(out.Thresholds)
		out.Steps = append(out.Steps, st)
	}
	if len(baselines) > 0 {
		b, err := mergeBaselines(baselines)
		if err != nil {
			return nil, fmt.Errorf("load: baseline: %w", err)
		}
		out.Baseline = b
	}
	out.finish()
	return out, nil
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func shardsString(shs []Shard) string {
	s := make([]string, len(shs))
	for i, sh := range shs {
		s[i] = sh.String()
	}
	return strings.Join(s, ", ")
}

func addCounts(dst *map[string]int64, src map[string]int64) {
	if len(src) == 0 {
		return
	}
	if *dst == nil {
		*dst = map[string]int64{}
	}
	for k, v := range src {
		(*dst)[k] += v
	}
}

func mergeSteps(group []*Step) (*Step, error) {
	f := group[0]
	st := &Step{Index: f.Index, Value: f.Value, Subscribers: f.Subscribers, Rate: f.Rate, Pacer: f.Pacer, Complete: true, StackCPU: firstStackCPU(group, func(s *Step) *StackCPU { return s.StackCPU })}
	var cl, il, dl []Latency
	for _, g := range group {
		st.Complete = st.Complete && g.Complete
		st.Parts = append(st.Parts, g.Parts...)
		c := &st.Connect
		c.Attempts += g.Connect.Attempts
		c.Failures += g.Connect.Failures
		c.Connected += g.Connect.Connected
		addCounts(&c.Errors, g.Connect.Errors)
		cl = append(cl, g.Connect.Latency)

		in := &st.Ingest
		in.Requests += g.Ingest.Requests
		in.OK += g.Ingest.OK
		in.Failed += g.Ingest.Failed
		in.Events += g.Ingest.Events
		in.HarnessErrors += g.Ingest.HarnessErrors
		addCounts(&in.StatusCodes, g.Ingest.StatusCodes)
		addCounts(&in.Errors, g.Ingest.Errors)
		in.FailedSample = append(in.FailedSample, g.Ingest.FailedSample...)
		il = append(il, g.Ingest.Latency)

		d, gd := &st.Delivery, &g.Delivery
		d.Expected += gd.Expected
		d.Delivered += gd.Delivered
		d.Lost += gd.Lost
		d.Duplicates += gd.Duplicates
		d.OutOfOrder += gd.OutOfOrder
		d.Stale += gd.Stale
		d.Foreign += gd.Foreign
		d.Sibling += gd.Sibling
		d.Fanout += gd.Fanout
		d.Ignored += gd.Ignored
		d.Uncorrelated += gd.Uncorrelated
		d.Frames += gd.Frames
		d.Disconnects += gd.Disconnects
		addCounts(&d.DisconnectReasons, gd.DisconnectReasons)
		dl = append(dl, gd.Latency)

		for _, s := range g.Series {
			for len(st.Series) <= s.T {
				st.Series = append(st.Series, Second{T: len(st.Series)})
			}
			x := &st.Series[s.T]
			x.Sent += s.Sent
			x.Failed += s.Failed
			x.Delivered += s.Delivered
			x.CPU = max(x.CPU, s.CPU)
		}
		st.PerSubscriber = append(st.PerSubscriber, g.PerSubscriber...)
	}
	var err error
	if st.Connect.Latency, err = mergeLatency(cl...); err != nil {
		return nil, err
	}
	if st.Ingest.Latency, err = mergeLatency(il...); err != nil {
		return nil, err
	}
	if st.Delivery.Latency, err = mergeLatency(dl...); err != nil {
		return nil, err
	}
	if len(st.Ingest.FailedSample) > 5 {
		st.Ingest.FailedSample = st.Ingest.FailedSample[:5]
	}
	st.totals()
	return st, nil
}

func mergeBaselines(bs []*Baseline) (*Baseline, error) {
	f := bs[0]
	out := &Baseline{Dashboards: f.Dashboards, Polls: f.Polls, PlannedRate: f.PlannedRate, Duration: f.Duration, Complete: true, StackCPU: firstStackCPU(bs, func(b *Baseline) *StackCPU { return b.StackCPU })}
	var ls []Latency
	paths := map[string][]PathStats{}
	var order []string
	for _, b := range bs {
		out.Seeded = max(out.Seeded, b.Seeded)
		if b.SeedError != "" {
			out.SeedError = b.SeedError
		}
		out.Complete = out.Complete && b.Complete
		out.Requests += b.Requests
		out.OK += b.OK
		out.Failed += b.Failed
		out.BytesIn += b.BytesIn
		addCounts(&out.StatusCodes, b.StatusCodes)
		addCounts(&out.Errors, b.Errors)
		ls = append(ls, b.Latency)
		out.Parts = append(out.Parts, b.Parts...)
		for _, p := range b.PerPath {
			if _, ok := paths[p.Path]; !ok {
				order = append(order, p.Path)
			}
			paths[p.Path] = append(paths[p.Path], p)
		}
	}
	var err error
	if out.Latency, err = mergeLatency(ls...); err != nil {
		return nil, err
	}
	for _, path := range order {
		ps := PathStats{Path: path}
		var pl []Latency
		for _, p := range paths[path] {
			ps.Requests += p.Requests
			ps.Failed += p.Failed
			pl = append(pl, p.Latency)
		}
		if ps.Latency, err = mergeLatency(pl...); err != nil {
			return nil, err
		}
		out.PerPath = append(out.PerPath, ps)
	}
	out.totals()
	return out, nil
}

// firstStackCPU is the first shard's reading of the stack's CPU: every
// shard reads the same stack, so readings are not added. PerUnit is
// recomputed from the merged rate.
func firstStackCPU[T any](parts []T, get func(T) *StackCPU) *StackCPU {
	for _, p := range parts {
		if s := get(p); s != nil {
			c := *s
			c.PerUnit = 0
			return &c
		}
	}
	return nil
}
