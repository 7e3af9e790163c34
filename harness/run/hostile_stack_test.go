package run_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/refstack"
	"github.com/thor-trading/cutover-harness/harness/report"
	"github.com/thor-trading/cutover-harness/harness/run"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// hostile is a small stack that misbehaves in one way. Each handler may be
// nil: ingest then accepts anything, REST answers an empty valid list and
// WS upgrades and stays silent. Handlers that block must also return when
// quit is closed, so the server can be closed.
type hostile struct {
	ingest, rest, ws http.HandlerFunc
	quit             chan struct{}
	batches          atomic.Int64
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (h *hostile) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/__replay/events":
		h.batches.Add(1)
		if h.ingest != nil {
			h.ingest(w, r)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, `{"applied":1}`)
	case strings.HasPrefix(r.URL.Path, "/ws/"):
		if h.ws != nil {
			h.ws(w, r)
			return
		}
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	default:
		if h.rest != nil {
			h.rest(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"seq":0,"data":[]}`)
	}
}

// serveHostile starts h on loopback and returns a scenario that replays a
// short slice of the session into it as a url stack.
func serveHostile(t *testing.T, h *hostile) (*httptest.Server, *scenario.Scenario) {
	t.Helper()
	if h.quit == nil {
		h.quit = make(chan struct{})
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(h.quit) }) // runs first: blocked handlers return
	return srv, hostileScenario(t, strings.TrimPrefix(srv.URL, "http://"), hostileSession(t))
}

var (
	hostileOnce  sync.Once
	hostileSlice string
)

// hostileSession is the first 20 s of the short session, written once.
func hostileSession(t *testing.T) string {
	hostileOnce.Do(func() { hostileSlice = sliceSession(t, 20*time.Second) })
	if _, err := os.Stat(hostileSlice); err != nil { // the first test's temp dir is gone
		hostileSlice = sliceSession(t, 20*time.Second)
	}
	return hostileSlice
}

func hostileScenario(t *testing.T, addr, session string) *scenario.Scenario {
	t.Helper()
	src := fmt.Sprintf(`name: hostile
profile: thor
session: %s
speed: max
subscribers: 2
stack: {kind: url, rest: "http://%[2]s", ws: "ws://%[2]s/ws/dashboard/"}
settle: {quiet: 200ms, timeout: 5s}
features:
  account_balance: {rest: {poll: 100ms}, freshness_budget: 300ms}
  positions:       {rest: {poll: 100ms}, freshness_budget: 300ms}
`, session, addr)
	p := filepath.Join(t.TempDir(), "hostile.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// hostileLimit is how long a run against a hostile stack may take: the
// context's deadline is twice that, so a run that only ends because its
// context did is caught.
const hostileLimit = 30 * time.Second

// runHostile runs sc and checks it ended well before its context's
// deadline, was not PASS, left a readable capture, and gives a reason.
func runHostile(t *testing.T, sc *scenario.Scenario) *report.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*hostileLimit)
	defer cancel()
	dir := t.TempDir()
	start := time.Now()
	res, err := run.Run(ctx, sc, run.Options{Dir: dir, ConnectTimeout: 2 * time.Second})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("run failed after %s: %v", took, err)
	}
	r := res.Report
	t.Logf("%s in %s", verdicts(r), took.Round(time.Millisecond))
	if took > hostileLimit {
		t.Errorf("the run took %s (limit %s)", took, hostileLimit)
	}
	if r.Verdict == report.Pass {
		t.Fatalf("PASS against a hostile stack: %s", verdicts(r))
	}
	if r.Verdict == report.Inconclusive && len(r.Reasons) == 0 && !hasGateDetail(r) {
		t.Errorf("INCONCLUSIVE without a reason: %s", verdicts(r))
	}
	rd, err := capture.Open(filepath.Join(dir, capture.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var last *capture.Record
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("capture unreadable: %v", err)
		}
		last = rec
	}
	if last == nil || last.K != capture.KindEnd {
		t.Errorf("the capture does not end with an end record: %+v", last)
	}
	return r
}

func hasGateDetail(r *report.Report) bool {
	for _, f := range r.Features {
		for _, g := range f.Gates {
			if g.Verdict == report.Inconclusive && g.Detail != "" {
				return true
			}
		}
	}
	return false
}

// mentions reports whether the report's reasons, findings or gate details
// contain every one of want.
func mentions(r *report.Report, want ...string) bool {
	var b strings.Builder
	for _, s := range r.Reasons {
		b.WriteString(s + "\n")
	}
	for _, f := range r.Findings {
		b.WriteString(f.Detail + "\n")
	}
	for _, name := range r.Order {
		f := r.Features[name]
		for _, fd := range f.Findings {
			b.WriteString(fd.Kind + ": " + fd.Detail + "\n")
		}
		for _, g := range f.Gates {
			b.WriteString(g.Name + ": " + g.Measured + " " + g.Detail + "\n")
		}
	}
	for _, w := range want {
		if !strings.Contains(b.String(), w) {
			return false
		}
	}
	return true
}

// wsSending upgrades and sends frame every 20 ms until the peer leaves.
func wsSending(quit chan struct{}, typ int, frame func() []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		go func() { // read, so close frames are answered
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
		for {
			_ = c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if err := c.WriteMessage(typ, frame()); err != nil {
				return
			}
			select {
			case <-quit:
				return
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

func TestHostileStacks(t *testing.T) {
	big := []byte(`{"type":"positions","seq":1,"data":{"account_id":"ACC-1","symbol":"ES","pad":"` + strings.Repeat("x", 50<<20) + `"}}`)
	for _, tc := range []struct {
		name  string
		setup func(h *hostile)
		// want: the report must say all of these somewhere (reasons,
		// findings, gate details).
		want []string
	}{
		{"ws garbage frames", func(h *hostile) {
			h.ws = wsSending(h.quit, websocket.TextMessage, func() []byte { return []byte("<<garbage{{") })
		}, []string{"not JSON"}},
		{"ws binary frames", func(h *hostile) {
			h.ws = wsSending(h.quit, websocket.BinaryMessage, func() []byte { return []byte{0, 1, 2, 0xff} })
		}, []string{"binary frame"}},
		{"ws 50 MB frame", func(h *hostile) {
			h.ws = wsSending(h.quit, websocket.TextMessage, func() []byte { return big })
		}, []string{"frame larger than 16 MiB"}},
		{"ws never answers the upgrade", func(h *hostile) {
			h.ws = func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					return
				}
				defer conn.Close()
				<-h.quit
			}
		}, []string{"did not connect", "never connected", "no answer to the WebSocket upgrade"}},
		{"ws refuses the upgrade", func(h *hostile) {
			h.ws = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no websockets here", http.StatusNotFound) }
		}, []string{"did not connect", "bad handshake"}},
		{"rest returns HTML", func(h *hostile) {
			h.rest = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, "<html><body>Welcome to nginx!</body></html>")
			}
		}, []string{"body is not JSON", "nginx"}},
		{"rest answers 40 MB", func(h *hostile) {
			h.rest = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(40<<20))
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte(`{"seq":0,"data":[`)) // and never the rest
			}
		}, []string{"larger than 32 MiB"}},
		{"rest 500s", func(h *hostile) {
			h.rest = func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			}
		}, []string{"status 500"}},
		{"rest hangs", func(h *hostile) {
			h.rest = func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-h.quit:
				case <-r.Context().Done():
				}
			}
		}, []string{"unreachable"}},
		{"rest hangs after a while", func(h *hostile) {
			var n atomic.Int64
			h.rest = func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) > 20 {
					select {
					case <-h.quit:
					case <-r.Context().Done():
					}
					return
				}
				fmt.Fprint(w, `{"seq":0,"data":[]}`)
			}
		}, []string{"transport"}},
		{"rest closes mid-body", func(h *hostile) {
			h.rest = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", "1000")
				w.WriteHeader(http.StatusOK)
				fmt.Fprint(w, `{"seq":0,"data":[{"acc`)
				w.(http.Flusher).Flush()
				if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
					conn.Close()
				}
			}
		}, []string{"transport", "EOF"}},
		{"ingest 500s", func(h *hostile) {
			h.ingest = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) }
		}, []string{"the replay failed", "500"}},
		{"ingest closes the connection", func(h *hostile) {
			h.ingest = func(w http.ResponseWriter, r *http.Request) {
				if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
					conn.Close()
				}
			}
		}, []string{"the replay failed", "__replay/events"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &hostile{quit: make(chan struct{})}
			tc.setup(h)
			_, sc := serveHostile(t, h)
			r := runHostile(t, sc)
			if !mentions(r, tc.want...) {
				t.Errorf("the report does not say %q: %s", tc.want, verdicts(r))
			}
		})
	}
}

// TestHostileIngestHangsInterrupted: an ingest that never answers holds the
// replay until the run is interrupted; the interruption still stops it
// within seconds, INCOMPLETE.
func TestHostileIngestHangsInterrupted(t *testing.T) {
	h := &hostile{}
	h.ingest = func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-h.quit:
		case <-r.Context().Done():
		}
	}
	_, sc := serveHostile(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	res, err := run.Run(ctx, sc, run.Options{Dir: t.TempDir(), ConnectTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 13*time.Second {
		t.Errorf("an interrupted run took %s to stop", took)
	}
	if r := res.Report; !r.Incomplete || r.Verdict != report.Inconclusive {
		t.Fatalf("interrupted during a hung ingest: incomplete=%v %s", r.Incomplete, verdicts(r))
	}
}

// TestStackDiesMidRun: the stack goes away halfway through the replay (a
// url stack's server closed; the reference stack closed). The run ends
// within bounded time, INCONCLUSIVE, saying the replay failed.
func TestStackDiesMidRun(t *testing.T) {
	t.Run("httptest server closed", func(t *testing.T) {
		h := &hostile{}
		var srv *httptest.Server
		var once sync.Once
		h.ingest = func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			if h.batches.Load() >= 3 {
				once.Do(func() {
					go func() { srv.CloseClientConnections(); srv.Listener.Close() }()
				})
			}
			fmt.Fprint(w, `{"applied":1}`)
		}
		var sc *scenario.Scenario
		srv, sc = serveHostile(t, h)
		sc.Driver.Batch = 50
		r := runHostile(t, sc)
		if !mentions(r, "the replay failed") {
			t.Errorf("the report does not say the replay failed: %s", verdicts(r))
		}
	})
	t.Run("reference stack closed", func(t *testing.T) {
		srv, err := refstack.New(refstack.Config{Replay: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		addr := strings.TrimPrefix(strings.TrimRight(srv.URL(), "/"), "http://")
		sc := hostileScenario(t, addr, shortSession)
		sc.Speed = 20 // 30 minutes of session time take 90 s: closed long before the end
		time.AfterFunc(2*time.Second, func() { _ = srv.Close() })
		r := runHostile(t, sc)
		if !mentions(r, "the replay failed") {
			t.Errorf("the report does not say the replay failed: %s", verdicts(r))
		}
	})
}
