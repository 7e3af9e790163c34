package load

import (
	"runtime"
	"sync"
	"time"
)

// saturation is the share of the available cores above which the harness
// process counts as saturated: its measurements then say more about the
// load generator than about the stack.
const saturation = 0.9

// CPU is the harness process's CPU use over a window, as a share of the
// cores it may use (1 = every core busy all the time).
type CPU struct {
	Cores int `json:"cores"`
	// Available is false where the process's CPU time cannot be read.
	Available bool `json:"available"`
	// Mean is the share over the whole window, Max the highest over one
	// sampling interval (250ms).
	Mean      float64 `json:"mean"`
	Max       float64 `json:"max"`
	Saturated bool    `json:"saturated"`
	// Host is the whole machine's busy share over the window, every
	// process included (-1 where it cannot be read). A busy host with an
	// idle harness means neighbours took the CPU: latencies then include
	// waiting for it.
	Host float64 `json:"host"`
}

// cpuSampler samples the process's cumulative CPU time every interval,
// from one goroutine, until stopped.
type cpuSampler struct {
	clock    *clock
	cores    int
	ok       bool
	interval time.Duration

	mu      sync.Mutex
	samples []cpuSample

	stop chan struct{}
	done chan struct{}
}

type cpuSample struct {
	t, cpu          int64 // run clock, process CPU ns
	hostBusy, hostN int64 // machine CPU ticks, busy and total
}

func startCPUSampler(c *clock, interval time.Duration) *cpuSampler {
	s := &cpuSampler{clock: c, cores: min(runtime.GOMAXPROCS(0), runtime.NumCPU()), interval: interval,
		stop: make(chan struct{}), done: make(chan struct{})}
	_, s.ok = processCPU()
	s.sample()
	go s.loop()
	return s
}

func (s *cpuSampler) sample() {
	v, _ := processCPU()
	busy, total, _ := hostCPU()
	s.mu.Lock()
	s.samples = append(s.samples, cpuSample{t: s.clock.now(), cpu: int64(v), hostBusy: busy, hostN: total})
	s.mu.Unlock()
}

func (s *cpuSampler) loop() {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sample()
		}
	}
}

func (s *cpuSampler) close() {
	close(s.stop)
	<-s.done
}

// window is the CPU use between run clock times from and to, from the
// samples taken so far (call sample first for a window ending now).
func (s *cpuSampler) window(from, to int64) CPU {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := CPU{Cores: s.cores, Available: s.ok, Host: -1}
	if !s.ok || to <= from {
		return c
	}
	var first, last *cpuSample
	for i := range s.samples {
		x := &s.samples[i]
		if x.t <= from || first == nil {
			first = x
		}
		if x.t <= to || last == nil {
			last = x
		}
		if i > 0 && x.t > from && s.samples[i-1].t < to {
			p := s.samples[i-1]
			if dt := x.t - p.t; dt > 0 {
				c.Max = max(c.Max, float64(x.cpu-p.cpu)/float64(dt)/float64(s.cores))
			}
		}
	}
	if dt := last.t - first.t; dt > 0 {
		c.Mean = float64(last.cpu-first.cpu) / float64(dt) / float64(s.cores)
	}
	if dn := last.hostN - first.hostN; dn > 0 {
		c.Host = float64(last.hostBusy-first.hostBusy) / float64(dn)
	}
	c.Saturated = c.Mean > saturation
	return c
}

// perSecond is the CPU share in each second since start, up to end.
func (s *cpuSampler) perSecond(start, end int64) []float64 {
	var out []float64
	for t := start; t < end; t += int64(time.Second) {
		w := s.window(t, min(t+int64(time.Second), end))
		out = append(out, w.Mean)
	}
	return out
}
