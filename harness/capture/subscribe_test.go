package capture

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// wsServer sends "hello" on every connection, then holds it open.
func wsServer(t *testing.T, send bool) *httptest.Server {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		if send {
			c.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello"}`))
		}
		for {
			if _, _, err := c.NextReader(); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") }

// runSubscriber runs s until it received a frame or 5s passed, then
// returns the capture's records.
func runSubscriber(t *testing.T, s *Subscriber) []*Record {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{}, 1)
	s.Src, s.Clock, s.Out = "ws:0", NewClock(), w
	s.Dialer = &websocket.Dialer{HandshakeTimeout: time.Second}
	s.OnFrame = func([]byte) {
		select {
		case got <- struct{}{}:
		default:
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	select {
	case <-got:
	case <-ctx.Done():
		t.Error("no frame within 5s")
	}
	cancel()
	<-done
	w.Close()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs []*Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		c := *rec
		recs = append(recs, &c)
	}
}

// A subscriber whose first URL is dead moves to the next one, and its
// connection records say which URL they are about.
func TestSubscriberRotatesPastADeadURL(t *testing.T) {
	dead := wsServer(t, true)
	deadURL := wsURL(dead)
	dead.Close()
	live := wsServer(t, true)
	recs := runSubscriber(t, &Subscriber{URLs: []string{deadURL, wsURL(live)}})
	var conns []string
	for _, r := range recs {
		if r.K == KindConn {
			conns = append(conns, r.Path+" "+r.Err)
		}
	}
	if len(conns) < 2 || !strings.HasPrefix(conns[0], deadURL+" connect:") || conns[len(conns)-1] != wsURL(live)+" " {
		t.Errorf("connection records: %q", conns)
	}
}

// A connection that stays open but silent past IdleTimeout is given up
// for the next URL.
func TestSubscriberLeavesAnIdleConnection(t *testing.T) {
	silent, live := wsServer(t, false), wsServer(t, true)
	recs := runSubscriber(t, &Subscriber{URLs: []string{wsURL(silent), wsURL(live)}, IdleTimeout: 200 * time.Millisecond})
	var lost bool
	for _, r := range recs {
		if r.K == KindConn && r.Path == wsURL(silent) && strings.Contains(r.Err, "no frame for 200ms") {
			lost = true
		}
	}
	if !lost {
		t.Errorf("no idle record for the silent server: %+v", recs)
	}
}

// With one URL nothing changes: records carry no URL.
func TestSubscriberOneURL(t *testing.T) {
	live := wsServer(t, true)
	for _, r := range runSubscriber(t, &Subscriber{URL: wsURL(live)}) {
		if r.K == KindConn && r.Path != "" {
			t.Errorf("a one-URL subscriber's record names its URL: %+v", r)
		}
	}
}
