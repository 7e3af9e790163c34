package refstack

import (
	"bytes"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/thor-trading/cutover-harness/harness/session"
)

// TestSlowClientCutWithoutStallingOthers: a subscriber that stops reading
// fills its queue and is cut off; a reading subscriber gets every message
// meanwhile, never waiting on the stuck one.
func TestSlowClientCutWithoutStallingOthers(t *testing.T) {
	s := startStack(t, Config{QueueSize: 32, Heartbeat: -1})

	// The stuck client never reads.
	stuck, _, err := websocket.DefaultDialer.Dial(s.WSURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()

	var got atomic.Int64
	good := dialWS(t, s.WSURL())
	go func() {
		for range good.frames {
			got.Add(1)
		}
	}()
	for s.Stats().Connections < 2 {
		time.Sleep(time.Millisecond)
	}

	payload := bytes.Repeat([]byte("x"), 32<<10)
	var sent int64
	// publish sends one message; the reading client keeps up, never more
	// than a few behind whatever the stuck one does.
	publish := func(data []byte) {
		t.Helper()
		msg := append([]byte(`{"type":"market_status","seq":`+strconv.FormatInt(sent, 10)+`,"data":"`), data...)
		s.hub.publish(s.pipe.prepareRaw(append(msg, `"}`...)))
		sent++
		waitUntil := time.Now().Add(2 * time.Second)
		for sent-got.Load() > 8 {
			if time.Now().After(waitUntil) {
				t.Fatalf("reading client stalled at %d of %d (stats %+v)", got.Load(), sent, s.Stats())
			}
			time.Sleep(50 * time.Microsecond)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().SlowClientsCut == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("stuck client never cut after %d messages (stats %+v)", sent, s.Stats())
		}
		publish(payload)
	}
	// After the cut the reading client still gets everything.
	for i := 0; i < 50; i++ {
		publish(nil)
	}
	waitUntil := time.Now().Add(2 * time.Second)
	for got.Load() < sent && time.Now().Before(waitUntil) {
		time.Sleep(time.Millisecond)
	}
	st := s.Stats()
	if got.Load() != sent || st.SlowClientsCut != 1 || st.Connections != 1 {
		t.Fatalf("reading client got %d of %d; stats %+v", got.Load(), sent, st)
	}
	// The stuck client, reading at last, finds its connection closed.
	stuck.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := stuck.ReadMessage(); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("stuck client's connection still open")
			}
			break
		}
	}
}

// TestBurstDoesNotCutReadingClient: one ingest whose messages exceed the
// queue many times over reaches a reading client whole (ingest waits for
// it to catch up instead of cutting it).
func TestBurstDoesNotCutReadingClient(t *testing.T) {
	s := startStack(t, Config{QueueSize: 64})
	ws := dialWS(t, s.WSURL())
	lines := []any{header()}
	statuses := []string{"OPEN", "CLOSED"}
	for i := 1; i <= 3000; i++ {
		lines = append(lines, session.Event{Seq: int64(i), T: at("14:30:00"), Type: session.TypeMarketStatus,
			MarketStatus: &session.MarketStatus{Market: "Tokyo", Status: statuses[i%2]}})
	}
	mustPost(t, s, lines...)
	if got := len(ws.until(3000)); got != 3000 {
		t.Fatalf("got %d of 3000 messages", got)
	}
	if st := s.Stats(); st.SlowClientsCut != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestDelayedBurstDoesNotCutReadingClient: delayed messages that fall due
// together are paced like an ingest burst.
func TestDelayedBurstDoesNotCutReadingClient(t *testing.T) {
	s := startStack(t, Config{QueueSize: 64, Faults: Faults{GlobalMarket: {Delay: 50 * time.Millisecond}}})
	ws := dialWS(t, s.WSURL())
	lines := []any{header()}
	statuses := []string{"OPEN", "CLOSED"}
	for i := 1; i <= 2000; i++ {
		lines = append(lines, session.Event{Seq: int64(i), T: at("14:30:00"), Type: session.TypeMarketStatus,
			MarketStatus: &session.MarketStatus{Market: "Tokyo", Status: statuses[i%2]}})
	}
	mustPost(t, s, lines...)
	got := 0
	for timeout := time.After(5 * time.Second); got < 2000; {
		select {
		case f, ok := <-ws.frames:
			if !ok {
				t.Fatalf("cut after %d of 2000 delayed messages (stats %+v)", got, s.Stats())
			}
			if f.Type == "market_status" {
				got++
			}
		case <-timeout:
			t.Fatalf("got %d of 2000 delayed messages (stats %+v)", got, s.Stats())
		}
	}
	if st := s.Stats(); st.SlowClientsCut != 0 {
		t.Fatalf("stats %+v", st)
	}
}
