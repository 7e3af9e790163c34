package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/capture"
)

const robustSession = `{"format":"thor-session/v1","name":"robust","start":"2026-03-02T14:30:00Z","instruments":{"ES":{"multiplier":50,"tick_size":0.25}},"accounts":["ACC-1"],"markets":["NewYork"]}
{"seq":1,"t":"2026-03-02T14:30:00.000Z","type":"market_status","data":{"market":"NewYork","status":"OPEN"}}
{"seq":2,"t":"2026-03-02T14:30:00.250Z","type":"tick","data":{"symbol":"ES","price":5123.25,"size":3}}
{"seq":3,"t":"2026-03-02T14:30:30.000Z","type":"tick","data":{"symbol":"ES","price":5123.50,"size":1}}
`

func robustReplay(t *testing.T, h http.HandlerFunc) (*HTTP, func()) {
	t.Helper()
	quit := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(w, r.WithContext(ctxOr(r.Context(), quit)))
	}))
	dir := t.TempDir()
	sess := filepath.Join(dir, "s.jsonl")
	if err := os.WriteFile(sess, []byte(robustSession), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := capture.Create(filepath.Join(dir, capture.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = out.Close() })
	return &HTTP{URL: srv.URL + "/__replay/events", Session: sess, Batch: 2, Client: srv.Client(), Clock: capture.NewClock(), Out: out},
		func() { close(quit); srv.Close() }
}

// ctxOr is ctx, also done when quit is closed.
func ctxOr(ctx context.Context, quit chan struct{}) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-quit:
		case <-ctx.Done():
		}
		cancel()
	}()
	return ctx
}

// TestReplayAgainstABrokenIngest: whatever the ingest does, the replay
// returns within bounded time, with an error that names the ingest and
// what went wrong.
func TestReplayAgainstABrokenIngest(t *testing.T) {
	hang := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		timeout time.Duration
		want    []string
	}{
		{"never answers", hang, 300 * time.Millisecond, []string{"/__replay/events", "did not answer a batch within 300ms"}},
		{"answers 500", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "boom: "+strings.Repeat("x", 10000), http.StatusInternalServerError)
		}, 0, []string{"answered 500 Internal Server Error", "boom"}},
		{"answers 413", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
		}, 0, []string{"413", "too large"}},
		{"closes the connection", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				c.Close()
			}
		}, 0, []string{"/__replay/events", "EOF"}},
		{"answers headers then hangs", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, 300 * time.Millisecond, nil}, // 2xx: the batch was applied; a stuck body is not waited for past the timeout
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, stop := robustReplay(t, tc.handler)
			defer stop()
			h.Timeout = tc.timeout
			start := time.Now()
			err := h.Run(context.Background())
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %s", took)
			}
			if tc.want == nil {
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if len(err.Error()) > 5000 {
				t.Errorf("error of %d bytes: the ingest's answer is not clipped", len(err.Error()))
			}
		})
	}
}

// TestReplayStopsWhenCancelled: at real time the replay waits for the
// next event's time; cancelling it returns at once, with the context's
// error, also while a batch is in flight.
func TestReplayStopsWhenCancelled(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"waiting for the next event", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			fmt.Fprint(w, `{"applied":1}`)
		}},
		{"batch in flight", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, stop := robustReplay(t, tc.handler)
			defer stop()
			h.Speed = 1 // the third event is 30 s of session time away
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := h.Run(ctx)
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("took %s to stop", took)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want the context's", err)
			}
		})
	}
}
