package refstack

import (
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"
)

// redisServer is a redis-server process for the channel layer's tests.
type redisServer struct {
	t    testing.TB
	port int
	cmd  *exec.Cmd
}

// startRedis runs Debian's redis-server on a free port of 127.0.0.1. The
// test fails, saying how to install it, when it is missing.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: run `make deps` (apt-get install redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &redisServer{t: t, port: ln.Addr().(*net.TCPAddr).Port}
	ln.Close()
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("redis-server on port %d: %v", r.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop kills the server (a crash, not a shutdown) and waits for it.
func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}

// startReplicas starts n stacks sharing one Redis channel layer and waits
// until each is subscribed.
func startReplicas(t *testing.T, r *redisServer, n int) []*Server {
	t.Helper()
	var out []*Server
	for i := 0; i < n; i++ {
		out = append(out, startStack(t, Config{Redis: r.url(), RedisChannel: "test-" + t.Name(), Heartbeat: 20 * time.Millisecond}))
	}
	for _, s := range out {
		waitFor(t, "the layer subscribed", func() bool { st, _ := s.Layer(); return st.Subscribed })
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sameREST checks that every replica's REST bodies are byte for byte the
// first one's.
func sameREST(t *testing.T, replicas []*Server) {
	t.Helper()
	for _, f := range Features {
		path := f.RESTPath()
		_, want := get(t, replicas[0].URL()+path)
		for i, s := range replicas[1:] {
			if _, got := get(t, s.URL()+path); got != want {
				t.Errorf("GET %s: replica %d answers\n%s\nreplica 0 answers\n%s", path, i+1, got, want)
			}
		}
	}
}

func TestRedisLayerReplicasShareBroadcasts(t *testing.T) {
	r := startRedis(t)
	reps := startReplicas(t, r, 3)
	var subs []*wsClient
	for _, s := range reps {
		subs = append(subs, dialWS(t, s.WSURL()))
	}
	bs := batches(header(), genSession(600), 50)
	for _, b := range bs {
		mustPost(t, reps[0], b...)
	}
	last := lastSeq(bs[len(bs)-1])
	want := subs[0].until(last)
	if len(want) == 0 {
		t.Fatal("the ingesting replica broadcast nothing")
	}
	for i, c := range subs[1:] {
		if got := c.until(last); !slices.Equal(raws(got), raws(want)) {
			t.Errorf("replica %d's client got %d frames, replica 0's %d; first difference at %d", i+1, len(got), len(want), firstDiff(raws(got), raws(want)))
		}
	}
	for i, s := range reps {
		if s.Seq() != last {
			t.Errorf("replica %d: seq %d, want %d", i, s.Seq(), last)
		}
	}
	sameREST(t, reps)
	if st, _ := reps[1].Layer(); st.CatchupAsks != 0 {
		t.Errorf("a replica that missed nothing asked for %d catch-ups", st.CatchupAsks)
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// A replica that loses Redis misses the broadcasts published meanwhile
// (its clients lose them, as with channels_redis), then catches up
// silently: its REST and seq equal the origin's again, and it broadcasts
// what follows.
func TestRedisLayerCatchesUpAfterAnOutage(t *testing.T) {
	r := startRedis(t)
	reps := startReplicas(t, r, 2)
	a, b := dialWS(t, reps[0].WSURL()), dialWS(t, reps[1].WSURL())
	bs := batches(header(), genSession(900), 50)
	third := len(bs) / 3
	for _, x := range bs[:third] {
		mustPost(t, reps[0], x...)
	}
	s1 := lastSeq(bs[third-1])
	a1, b1 := a.until(s1), b.until(s1)
	if !slices.Equal(raws(a1), raws(b1)) {
		t.Fatalf("before the outage the replicas' clients differ (%d vs %d frames)", len(a1), len(b1))
	}

	r.stop()
	waitFor(t, "the replica noticing Redis is gone", func() bool { st, _ := reps[1].Layer(); return !st.Subscribed })
	for _, x := range bs[third : 2*third] {
		mustPost(t, reps[0], x...) // ingest does not wait for Redis
	}
	s2 := lastSeq(bs[2*third-1])
	if got := a.until(s2); len(got) == 0 {
		t.Fatal("the origin's own clients got nothing during the outage")
	}
	if reps[1].Seq() != s1 {
		t.Fatalf("the cut-off replica is at seq %d during the outage, want %d", reps[1].Seq(), s1)
	}

	r.start()
	waitFor(t, "the replica catching up", func() bool { return reps[1].Seq() == reps[0].Seq() })
	sameREST(t, reps)
	if st, _ := reps[1].Layer(); st.CatchupAsks == 0 {
		t.Error("the replica caught up without asking")
	}
	// What B's client got meanwhile: nothing of the outage's messages.
	if got := b.collect(100 * time.Millisecond); len(got) != 0 {
		t.Errorf("the catch-up broadcast %d frames; its messages were lost with the outage", len(got))
	}

	for _, x := range bs[2*third:] {
		mustPost(t, reps[0], x...)
	}
	last := lastSeq(bs[len(bs)-1])
	a3, b3 := a.until(last), b.until(last)
	if len(a3) == 0 || !slices.Equal(raws(a3), raws(b3)) {
		t.Errorf("after the catch-up the clients differ: %d vs %d frames", len(a3), len(b3))
	}
	sameREST(t, reps)
}

// A replica that starts mid-session asks for the whole session and serves
// the same REST as the origin.
func TestRedisLayerLateReplica(t *testing.T) {
	r := startRedis(t)
	reps := startReplicas(t, r, 1)
	bs := batches(header(), genSession(300), 40)
	for _, x := range bs {
		mustPost(t, reps[0], x...)
	}
	late := startReplicas(t, r, 1)[0]
	waitFor(t, "the late replica catching up", func() bool { return late.Seq() == reps[0].Seq() })
	sameREST(t, []*Server{reps[0], late})
}

func TestRedisLayerBadURL(t *testing.T) {
	if _, err := New(Config{Redis: "http://x"}); err == nil {
		t.Fatal("New accepted a Redis URL of another scheme")
	}
}

func TestHealthzWaitsForTheLayer(t *testing.T) {
	s := startStack(t, Config{Redis: "redis://127.0.0.1:1/0"}) // nothing listens on port 1
	if code, body := get(t, s.URL()+HealthPath); code != 503 {
		t.Fatalf("healthz without a subscription: %d %s, want 503", code, body)
	}
	plain := startStack(t, Config{})
	if code, _ := get(t, plain.URL()+HealthPath); code != 200 {
		t.Fatalf("healthz of the in-memory layer: %d, want 200", code)
	}
}
