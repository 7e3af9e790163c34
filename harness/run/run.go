package run

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/diff"
	"github.com/thor-trading/cutover-harness/harness/report"
	"github.com/thor-trading/cutover-harness/harness/scenario"
	"github.com/thor-trading/cutover-harness/harness/stack"
)

// Options configure a run.
type Options struct {
	// Dir is the run directory. Empty means reports/<run-id>.
	Dir string
	// Commit is the harness commit, for the report's provenance.
	Commit string
	// Progress receives progress lines; nil for none.
	Progress io.Writer
	// Terminal redraws the progress line in place; otherwise a plain line
	// is written every ProgressEvery.
	Terminal bool
	// ProgressEvery is the plain progress period. Zero means 5s.
	ProgressEvery time.Duration
	// ConnectTimeout bounds reaching the stack and connecting subscribers.
	// Zero means 10s.
	ConnectTimeout time.Duration
}

// Result is what a run produced.
type Result struct {
	Dir    string
	Report *report.Report
}

// ScenarioCopy is the scenario's name inside a run directory.
const ScenarioCopy = "scenario.yaml"

// Run carries out the scenario. See the package documentation.
func Run(ctx context.Context, sc *scenario.Scenario, opt Options) (*Result, error) {
	id := newID(sc.Name)
	dir := opt.Dir
	if dir == "" {
		dir = filepath.Join("reports", id)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the run directory: %w", err)
	}
	if src, err := os.ReadFile(sc.File); err == nil {
		if err := os.WriteFile(filepath.Join(dir, ScenarioCopy), src, 0o644); err != nil {
			return nil, err
		}
	}
	out, err := capture.Create(filepath.Join(dir, capture.FileName))
	if err != nil {
		return nil, fmt.Errorf("creating the capture: %w", err)
	}
	r := &runner{sc: sc, opt: opt, out: out, clock: capture.NewClock(), id: id, dir: dir}
	if r.opt.ConnectTimeout == 0 {
		r.opt.ConnectTimeout = 10 * time.Second
	}
	rep, err := r.run(ctx)
	if cerr := out.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("writing the capture: %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	if err := rep.Write(dir); err != nil {
		return nil, fmt.Errorf("writing the report: %w", err)
	}
	return &Result{Dir: dir, Report: rep}, nil
}

func newID(name string) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102-150405") + "-" + name + "-" + hex.EncodeToString(b)
}

type runner struct {
	sc    *scenario.Scenario
	opt   Options
	out   *capture.Writer
	clock *capture.Clock
	id    string
	dir   string

	problems []string
	// golden feeds a cleanup run's removed features their recorded REST view.
	golden *golden
	tap    *capture.Tap // the channel-layer tap, when the scenario has one
	// lastChange is the capture time of the last change REST or WS showed.
	lastChange atomic.Int64
}

// noStack ends a run whose stack did not start: that is evidence about
// the stack (or an interruption), not a failure of the harness, so the
// capture gets its start and end records and the report says why it is
// INCONCLUSIVE.
func (r *runner) noStack(ctx context.Context, started time.Time, err error) (*report.Report, error) {
	ended, reason := "error", "the stack did not start"
	if ctx.Err() != nil {
		ended, reason = "interrupted", "interrupted while the stack started"
	} else {
		r.problem("the stack did not start: %v", err)
	}
	desc := r.sc.Stack.Kind + " stack (did not start)"
	_ = r.out.Write(&capture.Record{K: capture.KindStart, Meta: &capture.Meta{
		RunID: r.id, Scenario: r.sc.File, Session: r.sc.Session, Stack: desc, Started: started.UTC().Format(time.RFC3339Nano),
	}})
	settled := false
	_ = r.out.Write(&capture.Record{K: capture.KindEnd, T: r.clock.Now(), Meta: &capture.Meta{Ended: ended, Reason: reason, Settled: &settled}})
	if err := r.out.Flush(); err != nil {
		return nil, err
	}
	res, err := diff.DiffFile(r.sc, filepath.Join(r.dir, capture.FileName))
	if err != nil {
		return nil, fmt.Errorf("diffing the capture: %w", err)
	}
	return report.Build(r.sc, res, report.Run{
		ID: r.id, Stack: desc, Commit: r.opt.Commit, Started: started, Finished: time.Now(), Problems: r.problems,
	}), nil
}

func (r *runner) problem(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

func (r *runner) run(ctx context.Context) (*report.Report, error) {
	started := time.Now()
	st, err := stack.StartWith(ctx, r.sc, stack.Options{Dir: r.dir})
	if err != nil {
		var se *scenario.Error
		if errors.As(err, &se) {
			return nil, err // bad configuration: no report
		}
		return r.noStack(ctx, started, err)
	}
	defer st.Close()
	_ = r.out.Write(&capture.Record{K: capture.KindStart, Meta: &capture.Meta{
		RunID: r.id, Scenario: r.sc.File, Session: r.sc.Session, Stack: st.Describe(), Started: started.UTC().Format(time.RFC3339Nano),
	}})

	client := &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	}}
	defer client.CloseIdleConnections()

	if r.golden, err = loadGolden(r.sc); err != nil {
		return nil, r.sc.Errorf("golden", "%v", err)
	}
	ended, reason := "complete", ""
	settled := false
	var settledAt int64
	capCtx, stopCapture := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	pollers := map[string]*capture.Poller{}
	func() {
		first := r.sc.Features[r.sc.FeatureNames()[0]].REST.Paths[0]
		if err := stack.WaitReachable(ctx, client, st.REST()+first, r.opt.ConnectTimeout); err != nil {
			r.problem("the stack is unreachable: %v", err)
			ended, reason = "error", "stack unreachable"
			return
		}
		r.startTap(ctx, capCtx, &wg)
		if err := r.subscribe(ctx, capCtx, st, &wg); err != nil {
			r.problem("%v", err)
		}
		for _, name := range r.sc.FeatureNames() {
			f := r.sc.Features[name]
			if f.REST.Removed {
				// The endpoint is deleted: poll it only to see it stay gone.
				p := &capture.Poller{
					Src: diff.GoneSrc + name, Feature: name, Base: st.REST(), Paths: f.REST.Paths,
					Interval: f.REST.Poll.D(), Client: client, Clock: r.clock, Out: r.out,
				}
				pollers[name] = p
				wg.Add(1)
				go func() { defer wg.Done(); p.Run(capCtx) }()
				continue
			}
			for n := 0; n < 2; n++ {
				p := &capture.Poller{
					Src: fmt.Sprintf("rest:%s:%d", name, n), Feature: name, Base: st.REST(), Paths: f.REST.Paths,
					Interval: f.REST.Poll.D(), Offset: time.Duration(n) * f.REST.Poll.D() / 2,
					Client: client, Clock: r.clock, Out: r.out, OnBody: r.restWatcher(),
				}
				if n == 0 {
					pollers[name] = p
				}
				wg.Add(1)
				go func() { defer wg.Done(); p.Run(capCtx) }()
			}
		}
		defer r.startFaults(ctx, st)() // the schedule runs from the replay's start until the final round
		if err := r.replay(ctx, st, client); err != nil {
			if ctx.Err() != nil {
				ended, reason = "interrupted", "interrupted during the replay"
			} else {
				r.problem("the replay failed: %v", err)
				ended, reason = "error", err.Error()
			}
			return
		}
		settledAt = r.clock.Now()
		settled = r.settle(ctx)
		if ctx.Err() != nil {
			ended, reason = "interrupted", "interrupted while settling"
			return
		}
		for _, name := range r.sc.FeatureNames() {
			p := pollers[name]
			if r.sc.Features[name].REST.Removed {
				continue
			}
			for _, path := range p.Paths {
				p.Poll(capCtx, path, fmt.Sprintf("rest:%s:final", name))
			}
		}
		if r.golden != nil {
			r.golden.finish(r.clock, r.out)
		}
	}()
	stopCapture()
	wg.Wait()
	r.tapDone()
	_ = r.out.Write(&capture.Record{K: capture.KindEnd, T: r.clock.Now(), Meta: &capture.Meta{
		Ended: ended, Reason: reason, Settled: &settled, SettledAt: settledAt,
	}})
	if err := r.out.Flush(); err != nil {
		return nil, err
	}
	res, err := diff.DiffFile(r.sc, filepath.Join(r.dir, capture.FileName))
	if err != nil {
		return nil, fmt.Errorf("diffing the capture: %w", err)
	}
	return report.Build(r.sc, res, report.Run{
		ID: r.id, Stack: st.Describe(), Commit: r.opt.Commit, Started: started, Finished: time.Now(), Problems: r.problems,
	}), nil
}
