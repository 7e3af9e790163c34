package run

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tidwall/gjson"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/replay"
	"github.com/thor-trading/cutover-harness/harness/scenario"
	"github.com/thor-trading/cutover-harness/harness/stack"
)

// subscribe starts the scenario's subscribers and waits until each has
// connected once; those that have not by the connect timeout are reported.
func (r *runner) subscribe(ctx, capCtx context.Context, st stack.Stack, wg *sync.WaitGroup) error {
	types := map[string]bool{}
	typeField := "type"
	for _, f := range r.sc.Features {
		types[f.WS.Type] = true
		typeField = f.WS.TypeField
	}
	dialer := &websocket.Dialer{HandshakeTimeout: 5 * time.Second, ReadBufferSize: 64 << 10}
	connected := make(chan string, r.sc.Subscribers)
	// Replicas: subscriber i starts on replica i mod N and moves on to the
	// next when its replica fails it.
	var replicas []string
	if rs, ok := st.(stack.Replicas); ok && len(rs.WSURLs()) > 1 {
		replicas = rs.WSURLs()
	}
	var idle time.Duration
	if c := r.sc.Stack.Containers; c != nil {
		idle = c.WSIdleTimeout.D()
	}
	for i := 0; i < r.sc.Subscribers; i++ {
		src := fmt.Sprintf("ws:%d", i)
		var once sync.Once
		var urls []string
		for j := range replicas {
			urls = append(urls, replicas[(i+j)%len(replicas)])
		}
		s := &capture.Subscriber{
			Src: src, URL: st.WS(), URLs: urls, IdleTimeout: idle, Dialer: dialer, Clock: r.clock, Out: r.out,
			OnConnect: func() { once.Do(func() { connected <- src }) },
			OnFrame: func(frame []byte) {
				if types[gjson.GetBytes(frame, typeField).String()] {
					r.lastChange.Store(r.clock.Now())
				}
			},
		}
		wg.Add(1)
		go func() { defer wg.Done(); s.Run(capCtx) }()
	}
	deadline := time.After(r.opt.ConnectTimeout)
	seen := map[string]bool{}
	for len(seen) < r.sc.Subscribers {
		select {
		case src := <-connected:
			seen[src] = true
		case <-ctx.Done():
			return nil
		case <-deadline:
			var missing []string
			for i := 0; i < r.sc.Subscribers; i++ {
				if src := fmt.Sprintf("ws:%d", i); !seen[src] {
					missing = append(missing, src)
				}
			}
			return fmt.Errorf("WS subscribers %s did not connect to %s within %s", strings.Join(missing, ", "), st.WS(), r.opt.ConnectTimeout)
		}
	}
	return nil
}

// restWatcher returns a poller callback that notes when a path's body
// changes, so settle knows when REST has come to rest.
func (r *runner) restWatcher() func(path string, status int, body []byte) {
	var mu sync.Mutex
	last := map[string][]byte{}
	return func(path string, status int, body []byte) {
		mu.Lock()
		defer mu.Unlock()
		if prev, ok := last[path]; !ok || !bytes.Equal(prev, body) {
			last[path] = append(prev[:0], body...)
			r.lastChange.Store(r.clock.Now())
		}
	}
}

// settle waits until neither REST nor WS has changed for settle.quiet, or
// settle.timeout passes; it reports whether the stack came to rest.
func (r *runner) settle(ctx context.Context) bool {
	quiet, timeout := QuietPeriod(r.sc), r.sc.Settle.Timeout.D()
	deadline := time.Now().Add(timeout)
	r.lastChange.Store(r.clock.Now())
	quietNS := int64(quiet)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if r.clock.Now()-r.lastChange.Load() >= quietNS {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

func (r *runner) replay(ctx context.Context, st stack.Stack, client *http.Client) error {
	switch r.sc.Driver.Kind {
	case scenario.DriverNone:
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.sc.Driver.Duration.D()):
			return nil
		}
	}
	url := r.sc.Driver.Ingest
	if strings.HasPrefix(url, "/") {
		url = st.REST() + url
	}
	pr := newProgress(r.opt)
	defer pr.done()
	h := &replay.HTTP{
		URL: url, Session: r.sc.Path(r.sc.Session), Speed: float64(r.sc.Speed), Batch: r.sc.Driver.Batch,
		Client: &http.Client{Transport: client.Transport, Timeout: 60 * time.Second},
		Clock:  r.clock, Out: r.out, Progress: func(p replay.Progress) {
			if r.golden != nil {
				r.golden.upTo(p.Seq, r.clock, r.out)
			}
			pr.update(p)
		},
	}
	return h.Run(ctx)
}

// QuietPeriod is how long REST and WS must show no change before the run
// counts them settled: settle.quiet, but at least two polls of the slowest
// path (a slower path could hide a change), plus twice the largest
// freshness budget: WS may trail REST by the budget and still be on time,
// and a message up to twice the budget late must still be captured, to be
// reported as late rather than missing.
func QuietPeriod(sc *scenario.Scenario) time.Duration {
	quiet, budget := sc.Settle.Quiet.D(), time.Duration(0)
	for _, f := range sc.Features {
		quiet = max(quiet, 2*f.REST.Poll.D())
		budget = max(budget, f.FreshnessBudget.D())
	}
	return quiet + 2*budget
}
