package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/gorilla/websocket"
)

// maxFrame is the largest frame a subscriber reads; a larger one ends the
// connection (gorilla's read limit) and is counted as a disconnect.
const maxFrame = 1 << 20

// subscriber is one WS client. Its reader goroutine records every frame
// into the fields under mu; the coordinator swaps the step and harvests the
// results under mu between steps.
type subscriber struct {
	id   int
	got  atomic.Int64 // first deliveries of measured events this step (drain watches it)
	live atomic.Bool  // connected now

	mu          sync.Mutex
	conn        *websocket.Conn
	connectedAt int64 // run clock
	connectTook int64 // the connection's dial and upgrade, ns
	lostAt      int64 // run clock; 0 while connected
	lostReason  string
	step        *stepRun // nil: frames are not recorded
	hist        *hdrhistogram.Histogram
	win         window
	c           subCounts
	perSec      []int64 // measured first deliveries per second of the step
}

// subCounts count one subscriber's frames during one step.
type subCounts struct {
	Frames       int64 // every frame
	Ignored      int64 // not of the measured type (heartbeats, other features)
	Uncorrelated int64 // of the measured type but without a readable id
	Foreign      int64 // an id of another step or sender
	Sibling      int64 // an event of another shard of this step
	Fanout       int64 // frames of this step's events (any shard) received in the measured window
	Warmup       int64 // first deliveries of warm-up events
	Measured     int64 // first deliveries of measured events
	Duplicates   int64 // measured events delivered again
	OutOfOrder   int64 // measured events delivered after a later one
	Stale        int64 // measured events too late to tell from duplicates
}

// record accounts one frame received at now. It is the hot path: no
// allocation, no JSON decoding.
func (s *subscriber) record(sc *scanner, frame []byte, now int64) {
	typed := sc.measured(frame)
	var id int64
	idOK := false
	if typed {
		id, idOK = sc.id(frame)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.step
	if st == nil {
		return
	}
	s.c.Frames++
	if !typed {
		s.c.Ignored++
		return
	}
	if !idOK {
		s.c.Uncorrelated++
		return
	}
	if !st.table.inSpan(id) {
		s.c.Foreign++
		return
	}
	if now >= st.warmupEnd && now < st.end {
		s.c.Fanout++
	}
	j, ok := st.table.index(id)
	if !ok {
		s.c.Sibling++
		return
	}
	at, sent := st.table.sentAt(j)
	if !sent {
		s.c.Foreign++
		return
	}
	dup, ooo, stale := s.win.add(j)
	if at < st.warmupEnd {
		if !dup {
			s.c.Warmup++
		}
		return
	}
	if dup {
		s.c.Duplicates++
		return
	}
	if ooo {
		s.c.OutOfOrder++
	}
	if stale {
		s.c.Stale++
	}
	s.c.Measured++
	s.got.Add(1)
	recordDur(s.hist, time.Duration(now-at))
	if sec := (now - st.start) / int64(time.Second); sec >= 0 && sec < 1<<20 {
		for int64(len(s.perSec)) <= sec {
			s.perSec = append(s.perSec, 0)
		}
		s.perSec[sec]++
	}
}

// pool is the run's subscribers and their connections.
type pool struct {
	url    string
	dialer *websocket.Dialer
	clock  *clock
	scan   *scanner

	subs    []*subscriber
	wg      sync.WaitGroup // reader goroutines
	closing atomic.Bool
}

func newPool(url string, connectTimeout time.Duration, c *clock, sc *scanner) *pool {
	return &pool{
		url: url, clock: c, scan: sc,
		dialer: &websocket.Dialer{
			// No Proxy: load goes straight to the stack, whatever the environment says.
			NetDialContext:   (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
			HandshakeTimeout: connectTimeout,
			ReadBufferSize:   4096,
			WriteBufferSize:  256, // a subscriber writes only control frames
		},
	}
}

// connectStats is one connect phase.
type connectStats struct {
	attempts, failures int64
	errors             map[string]int64
	hist               *hdrhistogram.Histogram
}

// ensure connects the first n subscribers that are not connected, at rate
// connections per second, and waits for every attempt.
func (p *pool) ensure(ctx context.Context, n int, rate float64) connectStats {
	for len(p.subs) < n {
		s := &subscriber{id: len(p.subs), hist: newHist()}
		s.win.reset()
		p.subs = append(p.subs, s)
	}
	cs := connectStats{errors: map[string]int64{}, hist: newHist()}
	var todo []*subscriber
	for _, s := range p.subs[:n] {
		if !s.live.Load() {
			todo = append(todo, s)
		}
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	begin := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
loop:
	for i, s := range todo {
		if wait := time.Until(begin.Add(time.Duration(i) * interval)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				break loop
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := p.clock.now()
			conn, resp, err := p.dialer.DialContext(ctx, p.url, nil)
			t1 := p.clock.now()
			if resp != nil && resp.Body != nil {
				resp.Body.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if ctx.Err() == nil {
					cs.attempts++
					cs.failures++
					cs.errors[reason(err)]++
				}
				return
			}
			cs.attempts++
			recordDur(cs.hist, time.Duration(t1-t0))
			p.attach(s, conn, t0, t1)
		}()
	}
	wg.Wait()
	return cs
}

// attach makes conn s's connection and starts its reader.
func (p *pool) attach(s *subscriber, conn *websocket.Conn, dialed, now int64) {
	conn.SetReadLimit(maxFrame)
	s.mu.Lock()
	s.conn, s.connectedAt, s.connectTook, s.lostAt, s.lostReason = conn, now, now-dialed, 0, ""
	s.mu.Unlock()
	s.live.Store(true)
	p.wg.Add(1)
	go p.read(s, conn)
}

// read is a connection's reader goroutine: it reads each frame into one
// reused buffer (NextReader, not ReadMessage) and records it.
func (p *pool) read(s *subscriber, conn *websocket.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 2048)
	for {
		_, r, err := conn.NextReader()
		if err != nil {
			p.lost(s, conn, err)
			return
		}
		n := 0
		for {
			if n == len(buf) {
				buf = append(buf, make([]byte, len(buf))...)
			}
			m, err := r.Read(buf[n:])
			n += m
			if err == io.EOF {
				break
			}
			if err != nil {
				p.lost(s, conn, err)
				return
			}
		}
		s.record(p.scan, buf[:n], p.clock.now())
	}
}

// lost records that s's connection ended (unless the pool is closing).
func (p *pool) lost(s *subscriber, conn *websocket.Conn, err error) {
	now := p.clock.now()
	s.live.Store(false)
	s.mu.Lock()
	if s.conn == conn {
		s.conn = nil
		if !p.closing.Load() {
			s.lostAt, s.lostReason = now, reason(err)
		}
	}
	s.mu.Unlock()
	conn.Close()
}

// setStep makes every subscriber record for st (nil: record nothing),
// starting from empty counts.
func (p *pool) setStep(st *stepRun) {
	for _, s := range p.subs {
		s.mu.Lock()
		s.step = st
		s.hist.Reset()
		s.win.reset()
		s.c = subCounts{}
		s.perSec = s.perSec[:0]
		s.got.Store(0)
		s.mu.Unlock()
	}
}

// close ends every connection with a close frame and waits for the readers.
func (p *pool) close() {
	p.closing.Store(true)
	for _, s := range p.subs {
		s.mu.Lock()
		conn := s.conn
		s.mu.Unlock()
		if conn != nil {
			_ = conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, "load test done"), time.Now().Add(50*time.Millisecond))
			conn.Close()
		}
	}
	p.wg.Wait()
}

// reason names an error for counting: without addresses, so that the same
// failure on many connections counts as one kind.
func reason(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code == websocket.CloseAbnormalClosure {
		return "connection closed without a close frame" // 1006 is gorilla's, never sent
	}
	if errors.As(err, &ce) {
		if ce.Text != "" {
			return fmt.Sprintf("closed by the stack: %d %s", ce.Code, ce.Text)
		}
		return fmt.Sprintf("closed by the stack: %d", ce.Code)
	}
	if errors.Is(err, websocket.ErrBadHandshake) {
		return "bad handshake (the WS URL did not upgrade)"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "connection closed without a close frame"
	}
	if errors.Is(err, websocket.ErrReadLimit) {
		return fmt.Sprintf("frame larger than %d bytes", maxFrame)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	msg := err.Error()
	for _, known := range []string{"connection refused", "connection reset by peer", "broken pipe", "too many open files", "use of closed network connection"} {
		if strings.Contains(msg, known) {
			return known
		}
	}
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}
