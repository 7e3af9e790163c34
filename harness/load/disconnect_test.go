package load

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/refstack"
)

type connKey struct{}

// cuttingStack serves the reference stack and can cut the TCP connections
// of its first WS clients, as a crashing replica or a proxy would.
func cuttingStack(t *testing.T) (*httptest.Server, func(n int)) {
	t.Helper()
	srv, err := refstack.New(refstack.Config{Replay: true})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ws []net.Conn
	h := srv.Handler()
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == refstack.WSPath {
			mu.Lock()
			ws = append(ws, r.Context().Value(connKey{}).(net.Conn))
			mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	ts.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) }
	ts.Start()
	t.Cleanup(func() {
		srv.Close()
		ts.Close()
	})
	cut := func(n int) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range ws[:min(n, len(ws))] {
			c.Close()
		}
	}
	return ts, cut
}

// progressHook calls f once when a progress line contains s.
type progressHook struct {
	s    string
	f    func()
	once sync.Once
}

func (p *progressHook) Write(b []byte) (int, error) {
	if strings.Contains(string(b), p.s) {
		p.once.Do(p.f)
	}
	return len(b), nil
}

// TestDisconnects cuts five subscribers' connections in the middle of the
// measured window: they are counted as disconnects, with their reason, per
// subscriber and in total, and what they missed is loss.
func TestDisconnects(t *testing.T) {
	ts, cut := cuttingStack(t)
	stackYAML := "stack: {kind: url, rest: \"" + ts.URL + "\", ws: \"ws" + strings.TrimPrefix(ts.URL, "http") + refstack.WSPath + "\"}\n"
	sc := loadScenario(t, stackYAML, "subscribers: 20\nrate: 20\nduration: 2s\nwarmup: 200ms\ndrain: 1s\nbaseline: {enabled: false}\nthresholds: {delivery_p99: 1s}\n")
	hook := &progressHook{s: "input ", f: func() { time.AfterFunc(time.Second, func() { cut(5) }) }}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, sc, Options{Progress: hook})
	if err != nil {
		t.Fatal(err)
	}
	st := res.Steps[0]
	d := st.Delivery
	if d.Disconnects != 5 || len(d.DisconnectReasons) != 1 {
		t.Fatalf("disconnects %d %v, want 5 with one reason\n%s", d.Disconnects, d.DisconnectReasons, res.Summary())
	}
	var cutSubs int
	for _, s := range st.PerSubscriber {
		if s.Disconnected != "" {
			cutSubs++
			if s.Lost == 0 || s.Delivered == 0 {
				t.Errorf("cut subscriber %s: delivered %d, lost %d; want some of each", s.ID, s.Delivered, s.Lost)
			}
		} else if s.Lost != 0 {
			t.Errorf("subscriber %s lost %d without being cut", s.ID, s.Lost)
		}
	}
	if cutSubs != 5 || d.Lost == 0 || res.Verdict != Fail || check(res, CheckLoss).Verdict != Fail {
		t.Errorf("%d subscribers marked cut, lost %d, verdict %s", cutSubs, d.Lost, res.Verdict)
	}
	if testing.Verbose() {
		t.Log(d.DisconnectReasons)
	}
	if !strings.Contains(res.Markdown(), "Disconnects: 5 × ") {
		t.Errorf("markdown does not list the disconnects")
	}
}
