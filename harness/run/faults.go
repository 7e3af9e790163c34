package run

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/scenario"
	"github.com/thor-trading/cutover-harness/harness/stack"
)

// faultSchedule runs the scenario's faults against the stack while the
// replay runs. Each fault is recorded in the capture (capture.KindFault)
// when it is over: T0 when it began, T when the stack served again (the
// moment convergence is measured from), Text what it was, Err what went
// wrong. A fault that could not be injected takes the run's evidence
// away: it becomes a problem of the run.
type faultSchedule struct {
	r      *runner
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	problems []string
}

// startFaults starts the schedule now (the replay's start) and returns the
// function that ends it: faults not yet due are dropped, a fault still
// under way is left to the stack's Close, and problems join the run's.
func (r *runner) startFaults(ctx context.Context, st stack.Stack) func() {
	if len(r.sc.Faults) == 0 {
		return func() {}
	}
	inj, ok := st.(stack.FaultInjector)
	if !ok {
		r.problem("the scenario schedules %d faults, but the stack (%s) cannot inject them (use stack.kind: containers)", len(r.sc.Faults), st.Describe())
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	fs := &faultSchedule{r: r, cancel: cancel}
	faults := make([]scenario.Fault, len(r.sc.Faults))
	copy(faults, r.sc.Faults)
	sort.SliceStable(faults, func(i, j int) bool { return faults[i].Start(r.sc.Speed) < faults[j].Start(r.sc.Speed) })
	begin := time.Now()
	for i, f := range faults {
		fs.wg.Add(1)
		go func() {
			defer fs.wg.Done()
			fs.run(ctx, inj, i, f, begin.Add(f.Start(r.sc.Speed)))
		}()
	}
	return func() {
		cancel()
		fs.wg.Wait()
		r.problems = append(r.problems, fs.problems...)
	}
}

func (fs *faultSchedule) problem(format string, args ...any) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.problems = append(fs.problems, fmt.Sprintf(format, args...))
}

// run carries out fault f at due.
func (fs *faultSchedule) run(ctx context.Context, inj stack.FaultInjector, i int, f scenario.Fault, due time.Time) {
	select {
	case <-ctx.Done():
		return // the run ended first: the fault never began
	case <-time.After(time.Until(due)):
	}
	clock, out := fs.r.clock, fs.r.out
	rec := &capture.Record{K: capture.KindFault, Src: fmt.Sprintf("fault:%d", i), Text: f.String(), T0: clock.Now()}
	defer func() {
		if rec.T == 0 {
			rec.T = clock.Now()
		}
		_ = out.Write(rec)
	}()
	restore, err := inj.Inject(ctx, f)
	if err != nil {
		rec.Err = "inject: " + err.Error()
		if ctx.Err() == nil {
			fs.problem("fault %s at %s could not be injected: %v", f, fmtSince(rec.T0), err)
		}
		return
	}
	if restore == nil {
		return // no end: it is over once injected (a kill)
	}
	select {
	case <-ctx.Done():
		rec.Err = "still under way when the run ended"
		return
	case <-time.After(f.For.D()):
	}
	if err := restore(ctx); err != nil {
		rec.Err = "restore: " + err.Error()
		if ctx.Err() == nil {
			fs.problem("after fault %s the stack did not serve again: %v", f, err)
		}
	}
}

func fmtSince(ns int64) string { return time.Duration(ns).Round(time.Millisecond).String() }
