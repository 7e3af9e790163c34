package refstack

import (
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/thor-trading/cutover-harness/harness/session"
)

// benchEvents is a long session of the test shape (ticks, positions,
// accounts, market statuses).
var benchEvents = sync.OnceValue(func() []session.Event { return genSession(1 << 16) })

// BenchmarkApply measures the derivation model alone: events applied per
// second, messages included.
func BenchmarkApply(b *testing.B) {
	evs := benchEvents()
	m := NewModel()
	m.Reset(header())
	var msgs []Message
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % len(evs)
		if j == 0 && i > 0 {
			m.Reset(header())
		}
		msgs = m.appendApply(msgs[:0], evs[j])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkServerApply measures the stack's ingest path without HTTP and
// without subscribers: check, apply, render and frame every message, in
// batches of 100 events.
func BenchmarkServerApply(b *testing.B) {
	s, err := New(Config{Heartbeat: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	evs := benchEvents()
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		if err := s.Reset(header()); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(evs) && done < b.N; i += 100 {
			n := min(100, len(evs)-i, b.N-done)
			if _, err := s.ApplyEvents(evs[i : i+n]...); err != nil {
				b.Fatal(err)
			}
			done += n
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkBroadcast1000 measures fan-out: one message per event (a market
// status flip) broadcast to 1,000 WS subscribers on 127.0.0.1, each a
// gorilla client reading every frame. It reports deliveries (frames
// received, summed over subscribers) per second. Ingest keeps at most 1,000
// messages in flight ahead of the slowest subscriber.
func BenchmarkBroadcast1000(b *testing.B) {
	const subscribers = 1000
	s, err := New(Config{Heartbeat: -1, Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer s.Close()

	counts := make([]atomic.Int64, subscribers)
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, subscribers)
	for i := range conns {
		c, _, err := websocket.DefaultDialer.Dial(s.WSURL(), nil)
		if err != nil {
			b.Fatalf("subscriber %d: %v", i, err)
		}
		conns[i] = c
		wg.Add(1)
		go func(n *atomic.Int64) {
			defer wg.Done()
			for {
				_, r, err := c.NextReader()
				if err != nil {
					return
				}
				if _, err := io.Copy(io.Discard, r); err != nil {
					return
				}
				n.Add(1)
			}
		}(&counts[i])
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	}()
	for s.Stats().Connections < subscribers {
		time.Sleep(time.Millisecond)
	}
	slowest := func() int64 {
		lo := counts[0].Load()
		for i := range counts {
			lo = min(lo, counts[i].Load())
		}
		return lo
	}
	if err := s.Reset(header()); err != nil {
		b.Fatal(err)
	}
	statuses := []string{"OPEN", "CLOSED"}
	batch := make([]session.Event, 0, 100)
	t0 := at("14:30:00")
	start := s.Stats()
	b.ResetTimer()
	for sent := 0; sent < b.N; {
		batch = batch[:0]
		for k := 0; k < 100 && sent < b.N; k++ {
			sent++
			batch = append(batch, session.Event{Seq: int64(sent), T: t0, Type: session.TypeMarketStatus,
				MarketStatus: &session.MarketStatus{Market: "Tokyo", Status: statuses[sent%2]}})
		}
		if _, err := s.ApplyEvents(batch...); err != nil {
			b.Fatal(err)
		}
		for int64(sent)-slowest() > 1000 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for slowest() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("subscribers stuck at %d of %d (stats %+v)", slowest(), b.N, s.Stats())
		}
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	st := s.Stats()
	if st.SlowClientsCut != 0 {
		b.Fatalf("%d subscribers cut", st.SlowClientsCut)
	}
	b.ReportMetric(float64(st.Deliveries-start.Deliveries)/b.Elapsed().Seconds(), "deliveries/s")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
