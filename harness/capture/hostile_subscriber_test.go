package capture

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// hostileRecords runs a subscriber against url for d and returns what it
// recorded.
func hostileRecords(t *testing.T, url string, dialer *websocket.Dialer, d time.Duration) []Record {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	s := &Subscriber{Src: "ws:0", URL: url, Dialer: dialer, Clock: NewClock(), Out: w, MaxBackoff: 100 * time.Millisecond}
	// Cancelled, as a run stops its subscribers (a deadline would also
	// bound the dial's socket and race the cancellation).
	ctx, cancel := context.WithCancel(context.Background())
	defer time.AfterFunc(d, cancel).Stop()
	start := time.Now()
	s.Run(ctx)
	if took := time.Since(start); took > d+2*time.Second {
		t.Errorf("the subscriber took %s to stop after %s", took, d)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		c := *rec
		c.Body = append([]byte(nil), rec.Body...)
		out = append(out, c)
	}
}

// silentListener accepts connections and never says a word.
func silentListener(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return "ws://" + l.Addr().String() + "/ws/dashboard/"
}

// TestSubscriberUpgradeNeverAnswered: a stack that accepts the connection
// and never answers the upgrade holds a subscriber no longer than the
// handshake timeout, also when its Dialer sets none; the failures are
// recorded, the one cut short by the run's end as well.
func TestSubscriberUpgradeNeverAnswered(t *testing.T) {
	url := silentListener(t)
	defer func(d time.Duration) { defaultHandshakeTimeout = d }(defaultHandshakeTimeout)
	defaultHandshakeTimeout = 300 * time.Millisecond
	recs := hostileRecords(t, url, &websocket.Dialer{}, 1500*time.Millisecond)
	var fails int
	for _, r := range recs {
		if r.K == KindConn && r.Err == "" {
			t.Fatalf("connected to a listener that never answers: %+v", r)
		}
		if r.K == KindConn && strings.HasPrefix(r.Err, "connect: ") {
			fails++
		}
	}
	if fails < 2 {
		t.Errorf("%d failed dials recorded in 1.5 s with a 300 ms handshake timeout: %+v", fails, recs)
	}

	// Cut short by the run's end after more than a second: recorded too.
	recs = hostileRecords(t, url, &websocket.Dialer{HandshakeTimeout: time.Minute}, 1500*time.Millisecond)
	if len(recs) != 1 || !strings.Contains(recs[0].Err, "no answer to the WebSocket upgrade") {
		t.Errorf("a dial the run's end cut short: %+v", recs)
	}
}

// TestSubscriberOversizedFrame: a frame over the limit is recorded as a
// frame the capture lost, then the subscriber reconnects.
func TestSubscriberOversizedFrame(t *testing.T) {
	srv := wsServerSending(t, websocket.TextMessage, []byte(`{"type":"x","pad":"`+strings.Repeat("x", maxFrame)+`"}`))
	recs := hostileRecords(t, wsURL(srv), &websocket.Dialer{HandshakeTimeout: time.Second}, time.Second)
	var lost, connects int
	for _, r := range recs {
		switch {
		case r.K == KindWS && strings.Contains(r.Err, "frame larger than 16 MiB") && r.Body == nil:
			lost++
		case r.K == KindWS:
			t.Errorf("an oversized frame recorded as %+v", r)
		case r.K == KindConn && r.Err == "":
			connects++
		}
	}
	if lost == 0 || connects < 2 {
		t.Errorf("%d oversized frames recorded, %d connections: %+v", lost, connects, recs)
	}
}

// wsServerSending upgrades and sends frame once on every connection.
func wsServerSending(t *testing.T, typ int, frame []byte) *httptest.Server {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.WriteMessage(typ, frame)
		for {
			if _, _, err := c.NextReader(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}
