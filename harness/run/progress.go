package run

import (
	"fmt"
	"sync"
	"time"

	"github.com/thor-trading/cutover-harness/harness/replay"
)

// progress prints replay progress: redrawn in place on a terminal, a plain
// line every few seconds elsewhere (CI logs).
type progress struct {
	opt  Options
	mu   sync.Mutex
	last time.Time
	line string
}

func newProgress(opt Options) *progress {
	if opt.ProgressEvery == 0 {
		opt.ProgressEvery = 5 * time.Second
	}
	return &progress{opt: opt, last: time.Now()}
}

func (p *progress) update(s replay.Progress) {
	if p.opt.Progress == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rate := 0.0
	if s.Elapsed > 0 {
		rate = float64(s.Events) / s.Elapsed.Seconds()
	}
	p.line = fmt.Sprintf("replay: %d events (seq %d), session time %s, %.0f events/s, %s elapsed",
		s.Events, s.Seq, s.Session.Round(time.Second), rate, s.Elapsed.Round(100*time.Millisecond))
	switch {
	case p.opt.Terminal:
		if time.Since(p.last) > 100*time.Millisecond || s.Done {
			fmt.Fprintf(p.opt.Progress, "\r\033[K%s", p.line)
			p.last = time.Now()
		}
	case time.Since(p.last) >= p.opt.ProgressEvery || s.Done:
		fmt.Fprintln(p.opt.Progress, p.line)
		p.last = time.Now()
	}
}

func (p *progress) done() {
	if p.opt.Progress != nil && p.opt.Terminal && p.line != "" {
		fmt.Fprintln(p.opt.Progress)
	}
}
