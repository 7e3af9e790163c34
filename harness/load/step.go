package load

import (
	"context"
	"fmt"
	"math"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// stepRun is the step subscribers record for: its seq table and its times
// on the run clock. Read-only once subscribers see it.
type stepRun struct {
	table     *seqTable
	start     int64 // input began
	warmupEnd int64 // measured events were sent at or after this
	end       int64 // planned end of the input (the measured window's end)
}

// runStep connects the step's subscribers, paces its input, drains and
// accounts it.
func (r *runner) runStep(ctx context.Context, p stepPlan) *Step {
	l := r.sc.Load
	total := p.pace
	total.rate, total.slope, total.amp = p.totalRate, total.slope*float64(r.shard.Count), total.amp*float64(r.shard.Count)
	step := &Step{Index: p.index, Value: p.value, Subscribers: p.totalSubs, Rate: p.totalRate, Pacer: total.String(), Complete: true}

	r.progressf("step %d: connecting %d subscribers at %s/s", p.index+1, p.subscribers, fmtRate(l.ConnectRate/float64(r.shard.Count)))
	cs := r.pool.ensure(ctx, p.subscribers, l.ConnectRate/float64(r.shard.Count))
	var subs []*subscriber // connected when the input begins
	for _, s := range r.pool.subs[:p.subscribers] {
		if s.live.Load() {
			subs = append(subs, s)
		}
	}
	step.Connect = Connect{Attempts: cs.attempts, Failures: cs.failures, Errors: cs.errors, Connected: len(subs), Latency: summarize(cs.hist, true)}

	st := &stepRun{table: newSeqTable(p.index, r.shard, p.pace.batch, p.pace.requestsBound(p.warmup+p.duration))}
	st.start = r.clock.now()
	st.warmupEnd = st.start + int64(p.warmup)
	st.end = st.warmupEnd + int64(p.duration)
	r.pool.setStep(st)
	acc := &ingestAcc{hist: newHist()}
	if ctx.Err() == nil {
		r.progressf("step %d: %d subscribers, input %s for %s (+%s warm-up)", p.index+1, len(subs), p.pace, p.duration, p.warmup)
		atk := vegeta.NewAttacker(vegeta.Client(r.client), vegeta.Workers(uint64(min(10, l.MaxWorkers))),
			vegeta.MaxWorkers(uint64(l.MaxWorkers)), vegeta.MaxBody(512))
		cpu0 := r.readStackCPUAfter(ctx, p.warmup) // the measured window starts after the warm-up
		results := atk.Attack(r.targeter(st), p.pace.pacer(), p.warmup+p.duration, "ingest")
		stop := context.AfterFunc(ctx, func() { atk.Stop() })
		acc = r.collect(st, results)
		if !stop() {
			step.Complete = false
		}
		step.StackCPU = stackCPUBetween(<-cpu0, r.readStackCPU(ctx))
	} else {
		step.Complete = false
	}
	end := r.clock.now()
	measuredEnd := min(end, st.start+int64(p.warmup+p.duration))

	accepted := st.table.acceptedTimes(st.warmupEnd)
	r.drain(ctx, subs, int64(len(accepted)), p.drain)
	if ctx.Err() != nil {
		step.Complete = false
	}
	drained := r.clock.now()
	r.cpu.sample()

	// The subscribers' side.
	d := &step.Delivery
	d.DisconnectReasons = map[string]int64{}
	hist := newHist()
	var perSec []int64
	for _, s := range subs {
		s.mu.Lock()
		c := s.c
		// A subscriber connected when the input began expects every measured
		// event: one the stack cut off misses what followed, as a dashboard
		// would (attach clears lostAt, so a reason here is this connection's).
		why := ""
		if s.lostAt != 0 {
			why = s.lostReason
		}
		exp := countIn(accepted, max(s.connectedAt, st.warmupEnd), math.MaxInt64)
		hist.Merge(s.hist)
		ss := SubscriberStats{ID: r.subID(s.id), Expected: exp, Delivered: c.Measured, Lost: max(0, exp-c.Measured),
			Duplicates: c.Duplicates, OutOfOrder: c.OutOfOrder, Uncorrelated: c.Uncorrelated, Connect: time.Duration(s.connectTook), Disconnected: why}
		if s.hist.TotalCount() > 0 {
			ss.P50, ss.P99, ss.Max = us(s.hist.ValueAtQuantile(50)), us(s.hist.ValueAtQuantile(99)), us(s.hist.Max())
		}
		for i, n := range s.perSec {
			for len(perSec) <= i {
				perSec = append(perSec, 0)
			}
			perSec[i] += n
		}
		s.step = nil
		s.mu.Unlock()

		step.PerSubscriber = append(step.PerSubscriber, ss)
		d.Expected += ss.Expected
		d.Delivered += ss.Delivered
		d.Lost += ss.Lost
		d.Duplicates += c.Duplicates
		d.OutOfOrder += c.OutOfOrder
		d.Stale += c.Stale
		d.Foreign += c.Foreign
		d.Sibling += c.Sibling
		d.Fanout += c.Fanout
		d.Ignored += c.Ignored
		d.Uncorrelated += c.Uncorrelated
		d.Frames += c.Frames
		if why != "" {
			d.Disconnects++
			d.DisconnectReasons[why]++
		}
	}
	r.pool.setStep(nil)
	for _, s := range r.pool.subs[:p.subscribers] {
		if !contains(subs, s) {
			step.PerSubscriber = append(step.PerSubscriber, SubscriberStats{ID: r.subID(s.id), Disconnected: "not connected when the input began"})
		}
	}
	d.Latency = summarize(hist, true)

	// The input side.
	in := &step.Ingest
	in.Requests, in.OK, in.Failed, in.Events, in.HarnessErrors = acc.requests, acc.ok, acc.failed, acc.events, acc.harnessErrors
	in.StatusCodes, in.Errors, in.FailedSample, in.Latency = acc.codes, acc.errs, acc.failedSample, summarize(acc.hist, true)

	part := Part{Shard: r.shard, Subscribers: p.subscribers, Duration: time.Duration(measuredEnd - st.warmupEnd),
		PlannedEvents: p.pace.events(time.Duration(measuredEnd-st.start)) - p.pace.events(p.warmup),
		SentEvents:    acc.events, Requests: acc.requests, Delivered: d.Delivered, Fanout: d.Fanout,
		CPU: r.cpu.window(st.warmupEnd, measuredEnd)}
	if part.Duration < 0 {
		part.Duration, part.PlannedEvents = 0, 0
	}
	if acc.metrics.Requests > 0 {
		part.Vegeta = &acc.metrics
	}
	step.Parts = []Part{part}

	cpu := r.cpu.perSecond(st.start, drained)
	n := max(len(acc.sent), len(perSec), len(cpu))
	for i := range n {
		sec := Second{T: i}
		if i < len(acc.sent) {
			sec.Sent, sec.Failed = acc.sent[i], acc.failSec[i]
		}
		if i < len(perSec) {
			sec.Delivered = perSec[i]
		}
		if i < len(cpu) {
			sec.CPU = cpu[i]
		}
		step.Series = append(step.Series, sec)
	}
	step.totals()
	return step
}

func contains(subs []*subscriber, s *subscriber) bool {
	for _, x := range subs {
		if x == s {
			return true
		}
	}
	return false
}

// subID names a subscriber in results: its index, after its shard when the
// test is sharded.
func (r *runner) subID(id int) string {
	if r.shard.Count > 1 {
		return fmt.Sprintf("%s:%d", r.shard, id)
	}
	return fmt.Sprint(id)
}

// drain waits until every connected subscriber has the want measured
// events, the drain time has passed or ctx is done.
func (r *runner) drain(ctx context.Context, subs []*subscriber, want int64, d time.Duration) {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		missing := false
		for _, s := range subs {
			if s.live.Load() && s.got.Load() < want {
				missing = true
				break
			}
		}
		if !missing || !time.Now().Before(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// totals derives a step's ratios and rates from its counts and parts: a
// rate over shards is the sum of each shard's count over its own measured
// duration, never a count over a wall-clock span.
func (st *Step) totals() {
	in, d := &st.Ingest, &st.Delivery
	in.Rate, in.EventRate, in.PlannedRate, d.Rate, d.FanoutRate = 0, 0, 0, 0, 0
	var planned float64
	var sent int64
	for _, p := range st.Parts {
		planned += p.PlannedEvents
		sent += p.SentEvents
		if s := p.Duration.Seconds(); s > 0 {
			in.Rate += float64(p.Requests) / s
			in.EventRate += float64(p.SentEvents) / s
			in.PlannedRate += p.PlannedEvents / s
			d.Rate += float64(p.Delivered) / s
			d.FanoutRate += float64(p.Fanout) / s
		}
	}
	in.Achieved = 0
	if planned > 0 {
		in.Achieved = float64(sent) / planned
	}
	in.ErrorRatio = ratio(in.Failed, in.Requests)
	d.Loss = ratio(d.Lost, d.Expected)
	st.StackCPU.per(d.FanoutRate)
}
