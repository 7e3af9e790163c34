package capture

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// defaultHandshakeTimeout bounds a dial and upgrade when the Dialer sets
// no HandshakeTimeout.
var defaultHandshakeTimeout = 10 * time.Second

// maxFrame is the largest WS frame a subscriber accepts; a larger one is
// recorded as a connection error and the subscriber reconnects.
const maxFrame = 16 << 20

// Subscriber holds one WS connection to the stack, records every frame it
// receives and reconnects with backoff and jitter when the connection is
// lost. Fill every field before Run.
//
// With several URLs (replicas of one stack) it moves to the next URL when
// a dial fails or the connection went idle, so a subscriber of a dead
// replica ends up on a live one. Its connection records carry the URL
// (Record.Path) they are about.
type Subscriber struct {
	// Src names the subscriber in the capture, e.g. "ws:0".
	Src string
	// URL is the WS endpoint.
	URL string
	// URLs, when set, are the endpoints to rotate through, URLs[0] first;
	// URL is then not used. Nil: URL only.
	URLs []string
	// IdleTimeout ends a connection that received no frame for this long
	// (a frozen peer keeps its socket open) and moves to the next URL.
	// Zero: no limit.
	IdleTimeout time.Duration
	// Dialer dials (nil: websocket.DefaultDialer); its HandshakeTimeout
	// bounds the dial and the upgrade, 10s when it sets none.
	Dialer *websocket.Dialer
	// Clock and Out: where records go.
	Clock *Clock
	Out   *Writer
	// OnFrame, when set, is called with every frame after it was recorded.
	OnFrame func(frame []byte)
	// OnConnect, when set, is called after each successful connection.
	OnConnect func()
	// MaxBackoff caps the reconnect backoff. Zero means 2s.
	MaxBackoff time.Duration
}

// Run connects and records until ctx is done.
func (s *Subscriber) Run(ctx context.Context) {
	backoff := 50 * time.Millisecond
	maxBackoff := s.MaxBackoff
	if maxBackoff == 0 {
		maxBackoff = 2 * time.Second
	}
	urls := s.URLs
	if len(urls) == 0 {
		urls = []string{s.URL}
	}
	next := 0
	for ctx.Err() == nil {
		connected, idle := s.session(ctx, urls[next])
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = 50 * time.Millisecond
		}
		if !connected || idle {
			next = (next + 1) % len(urls)
		}
		// Full jitter keeps reconnecting subscribers from arriving in step.
		wait := time.Duration(rand.Int64N(int64(backoff))) + backoff/2
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(backoff*2, maxBackoff)
	}
}

// session runs one connection to url; it reports whether the dial
// succeeded and whether the connection ended for being idle.
func (s *Subscriber) session(ctx context.Context, url string) (connected, idle bool) {
	// Records name the URL only when there is a choice of URLs.
	path := ""
	if len(s.URLs) > 0 {
		path = url
	}
	t0 := s.Clock.Now()
	dialer := s.Dialer
	if dialer == nil {
		dialer = websocket.DefaultDialer
	}
	// The dial and the upgrade are bounded even when the Dialer is not: a
	// stack that accepts the connection and never answers must not hold
	// the subscriber.
	dctx := ctx
	if dialer.HandshakeTimeout == 0 {
		var cancel context.CancelFunc
		dctx, cancel = context.WithTimeout(ctx, defaultHandshakeTimeout)
		defer cancel()
	}
	conn, resp, err := dialCancelable(dctx, dialer, url)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		now := s.Clock.Now()
		switch {
		case ctx.Err() == nil:
			_ = s.Out.Write(&Record{K: KindConn, Src: s.Src, Path: path, T0: t0, T: now, Err: "connect: " + err.Error()})
		case now-t0 > int64(time.Second):
			// Stopped while the stack kept it waiting: that is evidence too
			// (a stack that never answers the upgrade), not the run's doing.
			_ = s.Out.Write(&Record{K: KindConn, Src: s.Src, Path: path, T0: t0, T: now,
				Err: "connect: no answer to the WebSocket upgrade after " + time.Duration(now-t0).Round(time.Millisecond).String() + " (the run ended)"})
		}
		return false, false
	}
	conn.SetReadLimit(maxFrame)
	_ = s.Out.Write(&Record{K: KindConn, Src: s.Src, Path: path, T0: t0, T: s.Clock.Now()})
	if s.OnConnect != nil {
		s.OnConnect()
	}
	stop := context.AfterFunc(ctx, func() {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		_ = conn.Close()
	})
	defer stop()
	defer conn.Close()
	for {
		if s.IdleTimeout > 0 {
			conn.SetReadDeadline(time.Now().Add(s.IdleTimeout))
		}
		typ, frame, err := conn.ReadMessage()
		now := s.Clock.Now()
		if errors.Is(err, websocket.ErrReadLimit) && ctx.Err() == nil {
			// The stack sent a frame the subscriber will not hold: that is
			// a frame lost to the capture, and the stack's fault, so it is
			// recorded as a frame (a protocol error in the diff), not only
			// as a lost connection.
			_ = s.Out.Write(&Record{K: KindWS, Src: s.Src, T: now, Err: fmt.Sprintf("frame larger than %d MiB, the most a subscriber reads: not recorded, the connection was closed", maxFrame>>20)})
		}
		if err != nil {
			var ne net.Error
			idle := s.IdleTimeout > 0 && errors.As(err, &ne) && ne.Timeout()
			if ctx.Err() == nil {
				msg := "lost: " + err.Error()
				if idle {
					msg = "lost: no frame for " + s.IdleTimeout.String()
				}
				_ = s.Out.Write(&Record{K: KindConn, Src: s.Src, Path: path, T: now, Err: msg})
			}
			return true, idle
		}
		rec := Record{K: KindWS, Src: s.Src, T: now}
		if typ == websocket.BinaryMessage {
			rec.Binary = true
			rec.Size = len(frame)
			rec.Text = string(frame[:min(len(frame), maxText)])
			rec.Err = "binary frame"
		} else {
			rec.SetPayload(frame)
		}
		_ = s.Out.Write(&rec)
		if s.OnFrame != nil {
			s.OnFrame(frame)
		}
	}
}

// dialCancelable is dialer.DialContext, also cut short when ctx is done
// during the upgrade: the websocket package bounds the upgrade by ctx's
// deadline only, so a stack that never answers it would hold a stopping
// subscriber for the whole handshake timeout.
func dialCancelable(ctx context.Context, dialer *websocket.Dialer, url string) (*websocket.Conn, *http.Response, error) {
	d := *dialer
	var (
		mu     sync.Mutex
		dialed []net.Conn
	)
	netDial := d.NetDialContext
	if netDial == nil {
		if nd := d.NetDial; nd != nil {
			netDial = func(_ context.Context, network, addr string) (net.Conn, error) { return nd(network, addr) }
		} else {
			netDial = (&net.Dialer{}).DialContext
		}
	}
	d.NetDialContext = func(c context.Context, network, addr string) (net.Conn, error) {
		conn, err := netDial(c, network, addr)
		if err == nil {
			mu.Lock()
			dialed = append(dialed, conn)
			mu.Unlock()
		}
		return conn, err
	}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range dialed {
			_ = c.SetDeadline(time.Now()) // the upgrade's read or write returns
		}
	})
	defer stop()
	return d.DialContext(ctx, url, http.Header{})
}
