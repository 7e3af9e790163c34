package refstack

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/thor-trading/cutover-harness/harness/session"
)

// frame is one WS message as a subscriber received it.
type frame struct {
	Type string          `json:"type"`
	Seq  *int64          `json:"seq"`
	Data json.RawMessage `json:"data"`
	TS   string          `json:"ts"`
	raw  string
	at   time.Time
}

// wsClient reads a subscription in the background.
type wsClient struct {
	t      testing.TB
	conn   *websocket.Conn
	frames chan frame
}

func dialWS(t testing.TB, url string) *wsClient {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	resp.Body.Close()
	c := &wsClient{t: t, conn: conn, frames: make(chan frame, 1<<16)}
	go func() {
		defer close(c.frames)
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				return
			}
			f := frame{raw: string(b), at: time.Now()}
			if err := json.Unmarshal(b, &f); err != nil {
				f.Type = "!bad json: " + err.Error()
			}
			c.frames <- f
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return c
}

// until returns the non-heartbeat frames received before the first heartbeat
// whose seq is at least seq: everything the stack sent for events up to seq.
func (c *wsClient) until(seq int64) []frame {
	c.t.Helper()
	var out []frame
	timeout := time.After(5 * time.Second)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("subscription ended waiting for seq %d", seq)
			}
			if f.Type == "heartbeat" {
				if f.Seq != nil && *f.Seq >= seq {
					return out
				}
				continue
			}
			out = append(out, f)
		case <-timeout:
			c.t.Fatalf("no heartbeat with seq >= %d within 5s", seq)
		}
	}
}

// next returns the next n non-heartbeat frames.
func (c *wsClient) next(n int) []frame {
	c.t.Helper()
	var out []frame
	timeout := time.After(5 * time.Second)
	for len(out) < n {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("subscription ended after %d of %d frames", len(out), n)
			}
			if f.Type != "heartbeat" {
				out = append(out, f)
			}
		case <-timeout:
			c.t.Fatalf("%d of %d frames within 5s", len(out), n)
		}
	}
	return out
}

// collect returns the non-heartbeat frames received during d.
func (c *wsClient) collect(d time.Duration) []frame {
	var out []frame
	timeout := time.After(d)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				return out
			}
			if f.Type != "heartbeat" {
				out = append(out, f)
			}
		case <-timeout:
			return out
		}
	}
}

// startStack starts a stack on 127.0.0.1:0 with a fast heartbeat and ingest.
func startStack(t testing.TB, cfg Config) *Server {
	t.Helper()
	cfg.Replay = true
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = 5 * time.Millisecond
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// post sends an ingest batch and returns the status and body.
func post(t testing.TB, s *Server, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(s.URL()+IngestPath, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// mustPost posts lines and fails unless the stack applied them.
func mustPost(t testing.TB, s *Server, lines ...any) {
	t.Helper()
	if code, body := post(t, s, batchJSON(t, lines...)); code != http.StatusOK {
		t.Fatalf("ingest: %d %s", code, body)
	}
}

func get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// restBody is a decoded REST body.
type restBody struct {
	Seq  *int64            `json:"seq"`
	Data []json.RawMessage `json:"data"`
}

func getREST(t testing.TB, s *Server, path string) restBody {
	t.Helper()
	code, body := get(t, s.URL()+path)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	var rb restBody
	if err := json.Unmarshal([]byte(body), &rb); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
	return rb
}

// genSession builds a small deterministic session: ticks on ES and NQ,
// positions and accounts of two accounts, market statuses, over a few
// minutes. It is hand-built in shape (a fixed cycle), not random.
func genSession(n int) []session.Event {
	var evs []session.Event
	t0 := at("14:30:00")
	statuses := []string{"PREMARKET", "OPEN", "OPEN", "POSTMARKET", "CLOSED"}
	markets := []string{"London", "NewYork", "Tokyo"}
	for i := 0; i < n; i++ {
		seq := int64(i + 1)
		ts := t0.Add(time.Duration(i) * 1500 * time.Millisecond)
		var ev session.Event
		switch k := i % 10; {
		case i < 2:
			ev = session.Event{Type: session.TypeAccount, Account: &session.Account{AccountID: []string{"ACC-1", "ACC-2"}[i], Cash: 100000 + float64(i)*0.005, BuyingPower: 400000}}
		case k == 3:
			ev = session.Event{Type: session.TypePosition, Position: &session.Position{AccountID: []string{"ACC-1", "ACC-2"}[i/10%2], Symbol: []string{"ES", "NQ"}[i/20%2], Qty: int64(i/10%5) - 2, AvgPrice: 5000 + float64(i%7)*0.25}}
		case k == 6:
			ev = session.Event{Type: session.TypeMarketStatus, MarketStatus: &session.MarketStatus{Market: markets[i/10%3], Status: statuses[i/30%5]}}
		case k == 8:
			ev = session.Event{Type: session.TypeAccount, Account: &session.Account{AccountID: []string{"ACC-1", "ACC-2"}[i/10%2], Cash: 100000 - float64(i)*1.005, BuyingPower: 400000 - float64(i)}}
		default:
			sym := []string{"ES", "NQ"}[i%2]
			ev = session.Event{Type: session.TypeTick, Tick: &session.Tick{Symbol: sym, Price: 5000 + float64((i*7)%13)*0.25, Size: int64(i%5 + 1)}}
		}
		ev.Seq, ev.T = seq, ts
		evs = append(evs, ev)
	}
	return evs
}

// batches splits a session into ingest batches of size n, the header first.
func batches(h session.Header, evs []session.Event, n int) [][]any {
	var out [][]any
	cur := []any{h}
	for _, ev := range evs {
		cur = append(cur, ev)
		if len(cur) >= n {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func lastSeq(lines []any) int64 {
	for i := len(lines) - 1; i >= 0; i-- {
		if ev, ok := lines[i].(session.Event); ok {
			return ev.Seq
		}
	}
	return 0
}

func byType(frames []frame, typ string) []frame {
	return slices.DeleteFunc(slices.Clone(frames), func(f frame) bool { return f.Type != typ })
}

func raws(frames []frame) []string {
	out := make([]string, len(frames))
	for i, f := range frames {
		out[i] = f.raw
	}
	return out
}
