package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/thor-trading/cutover-harness/harness/scenario"
	"github.com/thor-trading/cutover-harness/harness/stack"
)

// Options configure a load run.
type Options struct {
	// Shard is this host's part of a sharded test. Zero: the whole test.
	Shard Shard
	// Stack is a stack that is already running (e.g. one harness run
	// brought up). Nil: Run starts the scenario's stack and stops it.
	Stack stack.Stack
	// Progress receives progress lines; nil for none.
	Progress io.Writer
}

// runner is one Run's state.
type runner struct {
	sc    *scenario.Scenario
	opt   Options
	shard Shard
	clock *clock
	cpu   *cpuSampler
	meter stack.CPUMeter // the stack's CPU, where the harness can read it
	scan  *scanner
	pool  *pool

	client                     *http.Client
	restBase, ingestURL, wsURL string
}

// Run carries out the scenario's load section against the scenario's stack
// (or opt.Stack) and returns the result. A cancelled ctx or an exhausted
// time budget stops it promptly; the result is then marked incomplete and
// INCONCLUSIVE, and Run still returns it. Errors are for a test that could
// not start: a bad scenario (a *scenario.Error), a stack that would not
// come up, an address that is not allowed.
func Run(ctx context.Context, sc *scenario.Scenario, opt Options) (*Result, error) {
	l := sc.Load
	if l == nil {
		return nil, sc.Errorf("load", "missing: the scenario has no load section (see scenarios/load.yaml)")
	}
	sh := opt.Shard.norm()
	if sh.Index < 0 || sh.Index >= sh.Count {
		return nil, fmt.Errorf("load: shard %d of %d does not exist", sh.Index+1, sh.Count)
	}
	started := time.Now()
	stk := opt.Stack
	if stk == nil {
		var err error
		if stk, err = stack.Start(ctx, sc); err != nil {
			return nil, err
		}
		defer stk.Close()
	}
	r := &runner{sc: sc, opt: opt, shard: sh, clock: newClock(), restBase: strings.TrimRight(stk.REST(), "/"), wsURL: stk.WS(), meter: meterOf(stk)}
	var err error
	if r.ingestURL, err = resolve(r.restBase, sc.Driver.Ingest); err != nil {
		return nil, sc.Errorf("driver.ingest", "%v", err)
	}
	for _, u := range []string{r.restBase, r.wsURL, r.ingestURL} {
		if err := allowed(u, l.AllowHosts); err != nil {
			return nil, sc.Errorf("stack", "%v", err)
		}
	}
	res := newResult(sc, sh, stk, r)
	res.Source.Started = started

	r.client = &http.Client{
		Timeout: l.IngestTimeout.D(),
		Transport: &http.Transport{
			Proxy:               nil, // straight to the stack
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: max(100, l.MaxWorkers),
			IdleConnTimeout:     30 * time.Second,
		},
	}
	defer r.client.CloseIdleConnections()
	r.scan = newScanner(l.TypeField, l.MessageType, l.Correlate)
	r.cpu = startCPUSampler(r.clock, 250*time.Millisecond)
	defer r.cpu.close()

	budget := r.budget()
	rctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	interrupted := func() bool {
		if rctx.Err() == nil {
			return false
		}
		res.Complete = false
		if ctx.Err() != nil {
			res.Interrupted = "cancelled (" + context.Cause(ctx).Error() + ")"
		} else {
			res.Interrupted = fmt.Sprintf("the run's time budget (%s) ran out", budget)
		}
		return true
	}
	defer func() {
		res.Source.Finished = time.Now()
	}()

	if err := stack.WaitReachable(rctx, r.client, r.restBase+"/", 10*time.Second); err != nil {
		if !interrupted() {
			res.Complete, res.Interrupted = false, "the stack did not answer: "+err.Error()
		}
		res.Source.Finished = time.Now()
		res.finish()
		return res, nil
	}

	if l.BaselineEnabled() {
		res.Baseline = r.baseline(rctx)
		if res.Baseline.SeedError != "" {
			res.Warnings = append(res.Warnings, "seeding the baseline's state failed (REST bodies may be smaller than a real dashboard's): "+res.Baseline.SeedError)
		}
		if res.Baseline.Failed > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("the REST baseline had %d failed requests of %d", res.Baseline.Failed, res.Baseline.Requests))
		}
	}

	r.pool = newPool(r.wsURL, l.ConnectTimeout.D(), r.clock, r.scan)
	defer r.pool.close()
	begin := time.Now()
	var last time.Duration // the last step's wall time
	for i, p := range plans(l, sh) {
		if interrupted() {
			break
		}
		if l.Step != nil && i > 0 {
			// The next step takes about as long as the last, plus connecting
			// its new subscribers.
			prev := plans(l, sh)[i-1]
			est := last + time.Duration(float64(p.subscribers-prev.subscribers)/(l.ConnectRate/float64(sh.Count))*float64(time.Second))
			if time.Since(begin)+est > l.Step.MaxTime.D() {
				res.Warnings = append(res.Warnings, fmt.Sprintf("the search stopped before step %d: it would end after load.step.max_time (%s)", i+1, l.Step.MaxTime.D()))
				break
			}
		}
		t0 := time.Now()
		st := r.runStep(rctx, p)
		last = time.Since(t0)
		st.evaluate(res.Thresholds)
		res.Steps = append(res.Steps, st)
		r.progressf("step %d: %s (delivered %d of %d, p99 %s, loss %s, %s messages/s received)",
			i+1, st.Verdict, st.Delivery.Delivered, st.Delivery.Expected, fmtDur(st.Delivery.Latency.P99), pct(st.Delivery.Loss), fmtRate(st.Delivery.FanoutRate))
		if interrupted() {
			break
		}
		if l.Step != nil && st.Verdict != Pass {
			if sh.Count == 1 {
				break
			}
			if i == 0 {
				res.Warnings = append(res.Warnings, "sharded capacity search: shards cannot agree on where to stop, so each runs every step; the merged result decides")
			}
		}
	}
	res.Source.Finished = time.Now()
	res.finish()
	return res, nil
}

// newResult starts a result for sc's load section.
func newResult(sc *scenario.Scenario, sh Shard, stk stack.Stack, r *runner) *Result {
	l := sc.Load
	t := l.Thresholds
	res := &Result{
		Format: Format, Complete: true,
		Source: Source{Scenario: sc.File, ScenarioName: sc.Name, ScenarioSHA256: sc.SHA256, Stack: stk.Describe()},
		Shards: []Shard{sh}, Mode: ModeFixed,
		Plan: Plan{Subscribers: l.Subscribers, ConnectRate: l.ConnectRate, Rate: l.Rate, Batch: l.Batch,
			Pacer:  plans(l, Shard{})[0].pace.String(),
			Warmup: l.Warmup.D(), Duration: l.Duration.D(), Drain: l.Drain.D(), MessageType: l.MessageType, Correlate: l.Correlate,
			IngestURL: r.ingestURL, WSURL: r.wsURL, BaselineEnable: l.BaselineEnabled()},
		Thresholds: Thresholds{DeliveryP99: t.DeliveryP99.D(), MaxLoss: *t.MaxLoss, MaxErrors: *t.MaxErrors,
			MaxConnectFailures: *t.MaxConnectFailures, MinDeliveries: int64(t.MinDeliveries), MinRateAchieved: t.MinRateAchieved},
		StackCPU: "not measured: the harness did not start this stack (read its CPU on its own host)",
	}
	if _, ok := stk.(*stack.Embedded); ok {
		res.StackCPU = "not separable: the embedded reference stack runs inside the harness process, so the harness CPU figures include the stack's and the two cannot be told apart"
	}
	if r.meter != nil {
		res.StackCPU = "measured per step and for the REST baseline: " + r.meter.CPUSource()
	}
	if s := l.Step; s != nil {
		res.Mode = ModeStep
		res.Plan.Vary, res.Plan.StepStart, res.Plan.StepAdd, res.Plan.StepFactor = s.Vary, s.Start, s.Add, s.Factor
		res.Plan.MaxSteps, res.Plan.MaxTime, res.Plan.MinCapacity = s.MaxSteps, s.MaxTime.D(), s.MinCapacity
	}
	return res
}

// stepEstimate is how long a step takes at most, for the time budget.
func (r *runner) stepEstimate(p stepPlan) time.Duration {
	l := r.sc.Load
	connect := time.Duration(float64(p.subscribers)/(l.ConnectRate/float64(r.shard.Count))*float64(time.Second)) + l.ConnectTimeout.D()
	return connect + p.warmup + p.duration + l.IngestTimeout.D() + p.drain
}

// budget bounds the whole run: a run that outlives it stops as interrupted.
func (r *runner) budget() time.Duration {
	l := r.sc.Load
	b := 30 * time.Second
	if l.BaselineEnabled() {
		b += l.Baseline.Duration.D() + l.IngestTimeout.D() + 30*time.Second
	}
	ps := plans(l, r.shard)
	if l.Step != nil {
		return b + l.Step.MaxTime.D() + r.stepEstimate(ps[len(ps)-1])
	}
	return b + r.stepEstimate(ps[0])
}

func (r *runner) progressf(format string, args ...any) {
	if r.opt.Progress == nil {
		return
	}
	prefix := "load: "
	if r.shard.Count > 1 {
		prefix = "load " + r.shard.String() + ": "
	}
	fmt.Fprintf(r.opt.Progress, prefix+format+"\n", args...)
}

// resolve makes ingest absolute against the REST base.
func resolve(base, ingest string) (string, error) {
	b, err := url.Parse(base + "/")
	if err != nil {
		return "", err
	}
	u, err := b.Parse(strings.TrimPrefix(ingest, "/"))
	if strings.HasPrefix(ingest, "http://") || strings.HasPrefix(ingest, "https://") {
		u, err = url.Parse(ingest)
	}
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// allowed refuses traffic to anything but loopback and the allowed hosts.
func allowed(raw string, allow []string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Hostname() == "" {
		return errors.New(raw + " names no host")
	}
	if !scenario.LoadHostAllowed(u.Hostname(), allow) {
		return fmt.Errorf("a load test sends traffic only to loopback or the project's own stacks: %s is neither (list it in load.allow_hosts if it is one of ours)", u.Hostname())
	}
	return nil
}
