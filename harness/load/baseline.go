package load

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/thor-trading/cutover-harness/harness/scenario"
	"github.com/thor-trading/cutover-harness/harness/session"
)

// Baseline is the REST polling load of as many dashboards as the WS test
// has subscribers: each polls every path at its interval.
type Baseline struct {
	Dashboards  int           `json:"dashboards"` // all shards
	Polls       []Poll        `json:"polls"`      // one dashboard's
	PlannedRate float64       `json:"planned_rate"`
	Seeded      int64         `json:"seeded_events"` // session events ingested first
	SeedError   string        `json:"seed_error,omitempty"`
	Complete    bool          `json:"complete"`
	Duration    time.Duration `json:"duration_ns"` // planned, per shard

	Requests    int64            `json:"requests"`
	OK          int64            `json:"ok"`
	Failed      int64            `json:"failed"`
	StatusCodes map[string]int64 `json:"status_codes,omitempty"`
	Errors      map[string]int64 `json:"errors,omitempty"`
	BytesIn     int64            `json:"bytes_in"`
	Rate        float64          `json:"rate"` // requests/s, sum of the shards' rates
	ErrorRatio  float64          `json:"error_ratio"`
	Latency     Latency          `json:"latency"`
	PerPath     []PathStats      `json:"per_path"`
	Parts       []BaselinePart   `json:"parts"`
	// StackCPU is the stack's CPU while it answered the polling, per
	// request, where it can be read.
	StackCPU *StackCPU `json:"stack_cpu,omitempty"`
}

// Poll is one path a dashboard polls.
type Poll struct {
	Path  string        `json:"path"`
	Every time.Duration `json:"every_ns"`
}

// PathStats is one polled path's share of the baseline.
type PathStats struct {
	Path     string  `json:"path"`
	Requests int64   `json:"requests"`
	Failed   int64   `json:"failed"`
	Latency  Latency `json:"latency"`
}

// BaselinePart is one shard's baseline.
type BaselinePart struct {
	Shard    Shard           `json:"shard"`
	Duration time.Duration   `json:"duration_ns"` // measured
	Requests int64           `json:"requests"`
	CPU      CPU             `json:"harness_cpu"`
	Vegeta   *vegeta.Metrics `json:"vegeta,omitempty"`
}

// seed ingests up to n events of the scenario's session (header first), so
// the REST bodies the baseline polls have a real dashboard's size.
func (r *runner) seed(ctx context.Context, n int) (int64, error) {
	if n <= 0 || r.sc.Session == "" {
		return 0, nil
	}
	rd, err := session.Open(r.sc.Path(r.sc.Session))
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	batch := max(1, r.sc.Driver.Batch)
	var buf bytes.Buffer
	var sent, inBatch int64
	buf.WriteByte('[')
	buf.Write(rd.Header().Raw)
	empty := false // the buffer holds a line
	flush := func() error {
		buf.WriteByte(']')
		if err := r.post(ctx, buf.Bytes()); err != nil {
			return err
		}
		sent += inBatch
		buf.Reset()
		buf.WriteByte('[')
		inBatch, empty = 0, true
		return nil
	}
	for sent+inBatch < int64(n) {
		line, _, err := rd.NextRaw()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return sent, err
		}
		if !empty {
			buf.WriteByte(',')
		}
		buf.Write(line)
		inBatch++
		empty = false
		if inBatch >= int64(batch) {
			if err := flush(); err != nil {
				return sent, err
			}
		}
	}
	if !empty {
		if err := flush(); err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func (r *runner) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.ingestURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("ingest %s: %w", r.ingestURL, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("ingest %s answered %s: %s", r.ingestURL, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// pollTargeter hands out the polls of many dashboards in their proportions:
// each path is due every `every`, and the path due earliest goes next, so
// the mix is exact over any second.
func pollTargeter(base string, polls []scenario.LoadPoll) vegeta.Targeter {
	var mu sync.Mutex
	next := make([]float64, len(polls))
	step := make([]float64, len(polls))
	urls := make([]string, len(polls))
	for i, p := range polls {
		step[i] = p.Every.D().Seconds()
		next[i] = step[i] / 2
		urls[i] = base + p.Path
	}
	return func(tgt *vegeta.Target) error {
		mu.Lock()
		best := 0
		for i := range next {
			if next[i] < next[best] {
				best = i
			}
		}
		next[best] += step[best]
		mu.Unlock()
		*tgt = vegeta.Target{Method: http.MethodGet, URL: urls[best]}
		return nil
	}
}

// baseline seeds the stack, then makes this shard's share of the REST
// polling load for the baseline's duration.
func (r *runner) baseline(ctx context.Context) *Baseline {
	l := r.sc.Load
	bl := &l.Baseline
	b := &Baseline{Dashboards: bl.Dashboards, Duration: bl.Duration.D(), StatusCodes: map[string]int64{}, Errors: map[string]int64{}}
	perDashboard := 0.0
	for _, p := range bl.Polls {
		b.Polls = append(b.Polls, Poll{Path: p.Path, Every: p.Every.D()})
		perDashboard += 1 / p.Every.D().Seconds()
	}
	b.PlannedRate = perDashboard * float64(bl.Dashboards)
	r.progressf("baseline: seeding up to %d session events", *bl.SeedEvents)
	seeded, err := r.seed(ctx, *bl.SeedEvents)
	b.Seeded = seeded
	if err != nil && ctx.Err() == nil {
		b.SeedError = err.Error()
	}
	if ctx.Err() != nil {
		return b
	}
	rate := b.PlannedRate / float64(r.shard.Count)
	r.progressf("baseline: %d dashboards polling %d paths: %s requests/s for %s", bl.Dashboards, len(bl.Polls), fmtRate(b.PlannedRate), b.Duration)
	atk := vegeta.NewAttacker(vegeta.Client(r.client), vegeta.Workers(10), vegeta.MaxWorkers(uint64(l.MaxWorkers)), vegeta.MaxBody(-1))
	cpu0 := r.readStackCPU(ctx)
	start := r.clock.now()
	results := atk.Attack(pollTargeter(r.restBase, bl.Polls), vegeta.ConstantPacer(vegetaRate(rate)), b.Duration, "rest-baseline")
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	var m vegeta.Metrics
	hist := newHist()
	paths := map[string]*pathAcc{}
	for res := range results {
		res.Body, res.Headers = nil, nil
		m.Add(res)
		recordDur(hist, res.Latency)
		b.Requests++
		b.BytesIn += int64(res.BytesIn)
		b.StatusCodes[strconv.Itoa(int(res.Code))]++
		pa := paths[res.URL]
		if pa == nil {
			pa = &pathAcc{hist: newHist()}
			paths[res.URL] = pa
		}
		pa.requests++
		recordDur(pa.hist, res.Latency)
		if res.Error == "" && res.Code >= 200 && res.Code < 300 {
			b.OK++
			continue
		}
		b.Failed++
		pa.failed++
		e := res.Error
		if e == "" {
			e = "status " + strconv.Itoa(int(res.Code))
		}
		if len(b.Errors) < 20 || b.Errors[e] > 0 {
			b.Errors[e]++
		}
	}
	interrupted := !stop()
	end := r.clock.now()
	b.StackCPU = stackCPUBetween(cpu0, r.readStackCPU(ctx))
	m.Close()
	b.Complete = !interrupted && ctx.Err() == nil
	dur := time.Duration(min(end, start+int64(b.Duration)) - start)
	r.cpu.sample()
	part := BaselinePart{Shard: r.shard, Duration: dur, Requests: b.Requests, CPU: r.cpu.window(start, end), Vegeta: &m}
	b.Parts = []BaselinePart{part}
	b.Latency = summarize(hist, true)
	for _, p := range bl.Polls {
		pa := paths[r.restBase+p.Path]
		if pa == nil {
			pa = &pathAcc{hist: newHist()}
		}
		b.PerPath = append(b.PerPath, PathStats{Path: p.Path, Requests: pa.requests, Failed: pa.failed, Latency: summarize(pa.hist, true)})
	}
	b.totals()
	return b
}

type pathAcc struct {
	requests, failed int64
	hist             *hdrhistogram.Histogram
}

// totals derives the rates from the parts.
func (b *Baseline) totals() {
	b.Rate = 0
	for _, p := range b.Parts {
		if p.Duration > 0 {
			b.Rate += float64(p.Requests) / p.Duration.Seconds()
		}
	}
	b.ErrorRatio = ratio(b.Failed, b.Requests)
	b.StackCPU.per(b.Rate)
}
