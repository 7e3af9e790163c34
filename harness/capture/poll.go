package capture

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// maxBody is the most of a REST body a poll reads; a larger body is
// recorded as an error, not read into memory.
const maxBody = 32 << 20

// Poller polls one feature's REST paths at a fixed interval and records
// every answer. The zero value is not usable; fill every field.
type Poller struct {
	// Src names the poller in the capture, e.g. "rest:positions:0".
	Src string
	// Feature is the feature the paths serve.
	Feature string
	// Base is the stack's REST base URL, e.g. http://127.0.0.1:8000.
	Base string
	// Paths are polled, each every Interval.
	Paths []string
	// Interval between polls of one path.
	Interval time.Duration
	// Offset delays the first poll (the A/A twin polls half an interval later).
	Offset time.Duration
	// Timeout bounds one request. Zero means 5s.
	Timeout time.Duration
	// Client makes the requests.
	Client *http.Client
	// Clock and Out: where records go.
	Clock *Clock
	Out   *Writer
	// OnBody, when set, is called with each path's body after it was
	// recorded (the run watches for REST coming to rest).
	OnBody func(path string, status int, body []byte)
}

// Run polls until ctx is done.
func (p *Poller) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, path := range p.Paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.loop(ctx, path)
		}()
	}
	wg.Wait()
}

func (p *Poller) loop(ctx context.Context, path string) {
	if p.Offset > 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(p.Offset):
		}
	}
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		p.Poll(ctx, path, p.Src)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Poll makes one request and records it under src.
func (p *Poller) Poll(ctx context.Context, path, src string) {
	timeout := p.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rec := Record{K: KindREST, Src: src, Feature: p.Feature, Path: path, T0: p.Clock.Now()}
	body, status, err := get(ctx, p.Client, p.Base+path)
	rec.T, rec.Status = p.Clock.Now(), status
	if err != nil {
		if ctx.Err() != nil && rec.T-rec.T0 < int64(timeout)-int64(time.Millisecond) {
			return // the run is stopping: not an observation of the stack
		}
		rec.Err = err.Error()
	}
	if body != nil {
		rec.SetPayload(body)
	}
	_ = p.Out.Write(&rec)
	if p.OnBody != nil && err == nil {
		p.OnBody(path, status, body)
	}
}

func get(ctx context.Context, c *http.Client, url string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.ContentLength > maxBody { // announced too large: not read at all
		return nil, resp.StatusCode, fmt.Errorf("body of %d bytes, larger than %d MiB", resp.ContentLength, maxBody>>20)
	}
	var b bytes.Buffer
	n, err := io.Copy(&b, io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return b.Bytes(), resp.StatusCode, fmt.Errorf("reading the body: %w", err)
	}
	if n > maxBody {
		return nil, resp.StatusCode, fmt.Errorf("body larger than %d MiB", maxBody>>20)
	}
	return b.Bytes(), resp.StatusCode, nil
}
