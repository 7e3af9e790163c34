package load

import (
	"context"
	"time"

	"github.com/thor-trading/cutover-harness/harness/stack"
)

// StackCPU is the stack's own CPU use over a measured window, where the
// harness can read it (a process or containers it started): what REST
// polling and WS push each cost the stack.
type StackCPU struct {
	CPU    time.Duration `json:"cpu_ns"`    // CPU time the stack spent in the window
	Window time.Duration `json:"window_ns"` // the window (wall clock)
	Cores  float64       `json:"cores"`     // CPU ÷ window
	// PerUnit is CPU time per delivered WS message (a step) or per REST
	// request (the baseline), from the window's rate over all shards.
	PerUnit time.Duration `json:"per_unit_ns,omitempty"`
	Error   string        `json:"error,omitempty"` // why it could not be read
}

// cpuReading is one reading of the stack's CPU time.
type cpuReading struct {
	cpu time.Duration
	at  int64 // on the run's clock
	err error
}

// readStackCPU reads the stack's CPU time now; nil when the stack cannot
// be measured.
func (r *runner) readStackCPU(ctx context.Context) *cpuReading {
	if r.meter == nil {
		return nil
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	cpu, err := r.meter.CPUTime(rctx)
	return &cpuReading{cpu: cpu, at: r.clock.now(), err: err}
}

// readStackCPUAfter reads the stack's CPU time once d has passed (or ctx
// is done), on a goroutine; the channel gets the reading (nil: no meter).
func (r *runner) readStackCPUAfter(ctx context.Context, d time.Duration) <-chan *cpuReading {
	ch := make(chan *cpuReading, 1)
	go func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		ch <- r.readStackCPU(ctx)
	}()
	return ch
}

// stackCPUBetween is the stack's CPU use between two readings.
func stackCPUBetween(a, b *cpuReading) *StackCPU {
	if a == nil || b == nil {
		return nil
	}
	s := &StackCPU{Window: time.Duration(b.at - a.at)}
	switch {
	case a.err != nil:
		s.Error = a.err.Error()
	case b.err != nil:
		s.Error = b.err.Error()
	case b.cpu < a.cpu:
		s.Error = "the stack's CPU time went back (a process or container restarted)"
	default:
		s.CPU = b.cpu - a.cpu
		if s.Window > 0 {
			s.Cores = s.CPU.Seconds() / s.Window.Seconds()
		}
	}
	return s
}

// per sets PerUnit from the rate of units (messages or requests) per
// second over the window.
func (s *StackCPU) per(rate float64) {
	if s == nil || s.Error != "" || rate <= 0 {
		return
	}
	s.PerUnit = time.Duration(s.Cores / rate * float64(time.Second))
}

// meterOf is the stack's CPU meter, if the harness can read its CPU.
func meterOf(stk stack.Stack) stack.CPUMeter {
	m, _ := stk.(stack.CPUMeter)
	return m
}
