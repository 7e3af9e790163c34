package capture

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"
)

// startRedis runs Debian's redis-server on a free loopback port with its
// files in a temporary directory (removed with the test) and returns its
// URL. A missing redis-server fails the test: `make deps` installs it.
func startRedis(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: run `make deps` (apt-get install redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", t.TempDir(),
		"--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	opt, _ := redis.ParseURL(url)
	c := redis.NewClient(opt)
	defer c.Close()
	for deadline := time.Now().Add(5 * time.Second); c.Ping(context.Background()).Err() != nil; {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d did not answer", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return url
}

// packMap packs key/value pairs as a msgpack map, in order, as Python's
// msgpack packs a dict.
func packMap(t *testing.T, kv ...any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := msgpack.NewEncoder(&b)
	if err := enc.EncodeMapLen(len(kv) / 2); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(kv); i += 2 {
		if err := enc.Encode(kv[i]); err != nil {
			t.Fatal(err)
		}
		if err := enc.Encode(kv[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// groupSend does what channels_redis's RedisChannelLayer.group_send does:
// every channel of the group gets the message, with its name in
// "__asgi_channel__", behind 12 random bytes, scored by the time.
func groupSend(t *testing.T, c *redis.Client, prefix, group string, payload func(channel string) []byte) {
	t.Helper()
	ctx := context.Background()
	chans, err := c.ZRange(ctx, prefix+":group:"+group, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range chans {
		member := make([]byte, 12)
		rand.Read(member)
		member = append(member, payload(ch)...)
		if err := c.ZAdd(ctx, prefix+ch, redis.Z{Score: float64(time.Now().UnixNano()) / 1e9, Member: member}).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

func readTap(t *testing.T, path string) (bodies []string, notes []string) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.K != KindTap || rec.Src != TapSrc {
			t.Fatalf("record %+v: want kind and src tap", rec)
		}
		switch {
		case rec.Err != "":
			t.Errorf("tap error: %s", rec.Err)
		case rec.Body != nil:
			bodies = append(bodies, string(rec.Body))
		default:
			notes = append(notes, rec.Text)
		}
	}
}

func TestTapCoreLayer(t *testing.T) {
	url := startRedis(t)
	opt, _ := redis.ParseURL(url)
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	// A consumer of the backend is in the group already.
	c.ZAdd(ctx, "asgi:group:dashboard", redis.Z{Score: 1, Member: "specific.abc!def"})

	path := filepath.Join(t.TempDir(), FileName)
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tap := &Tap{Redis: url, Group: "dashboard", Prefix: "asgi", Clock: NewClock(), Out: w}
	if err := tap.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.ZCard(ctx, "asgi:group:dashboard").Result(); n != 2 {
		t.Fatalf("the group has %d channels, want the consumer's and the tap's", n)
	}
	const n = 500
	for i := 1; i <= n; i++ {
		groupSend(t, c, "asgi", "dashboard", func(ch string) []byte {
			return packMap(t, "type", "dashboard.message", "message",
				map[string]any{"seq": i}, "__asgi_channel__", []string{ch})
		})
	}
	// Something Python packs that JSON must keep in order: nested maps,
	// floats written as the contract writes them, a bool and a null.
	groupSend(t, c, "asgi", "dashboard", func(ch string) []byte {
		var b bytes.Buffer
		enc := msgpack.NewEncoder(&b)
		enc.EncodeMapLen(3)
		enc.EncodeString("type")
		enc.EncodeString("dashboard.message")
		enc.EncodeString("message")
		enc.EncodeMapLen(4)
		for _, kv := range []any{"type", "positions", "seq", 7, "data", nil} {
			enc.Encode(kv)
		}
		enc.EncodeString("vals")
		enc.EncodeArrayLen(4)
		enc.EncodeFloat64(100000)
		enc.EncodeFloat64(-12.5)
		enc.EncodeFloat64(0.1)
		enc.EncodeBool(true)
		enc.EncodeString("__asgi_channel__")
		enc.Encode([]string{ch})
		return b.Bytes()
	})
	deadline := time.Now().Add(5 * time.Second)
	for tap.Stats().Messages < n+1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st := tap.Stop()
	tap.Stop() // twice is fine
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st.Messages != n+1 || st.Errors != 0 {
		t.Fatalf("stats %+v: want %d messages, no errors", st, n+1)
	}
	bodies, notes := readTap(t, path)
	if len(bodies) != n+1 {
		t.Fatalf("%d bodies, want %d", len(bodies), n+1)
	}
	for i := 0; i < n; i++ {
		if want := fmt.Sprintf(`{"type":"dashboard.message","message":{"seq":%d}}`, i+1); bodies[i] != want {
			t.Fatalf("body %d = %s, want %s (in order, without __asgi_channel__)", i, bodies[i], want)
		}
	}
	if want := `{"type":"dashboard.message","message":{"type":"positions","seq":7,"data":null,"vals":[100000,-12.5,0.1,true]}}`; bodies[n] != want {
		t.Errorf("body = %s\nwant   %s", bodies[n], want)
	}
	if len(notes) != 2 || !strings.HasPrefix(notes[0], "joined group dashboard") || !strings.HasPrefix(notes[1], "left the group") {
		t.Errorf("notes %q: want joined, left", notes)
	}
	// The tap left: the group has only the consumer, its channel is gone.
	if m, _ := c.ZRange(ctx, "asgi:group:dashboard", 0, -1).Result(); len(m) != 1 || m[0] != "specific.abc!def" {
		t.Errorf("group after Stop: %q", m)
	}
	if keys, _ := c.Keys(ctx, "asgicutover-harness*").Result(); len(keys) != 0 {
		t.Errorf("the tap left keys behind: %q", keys)
	}
}

func TestTapPubSubLayer(t *testing.T) {
	url := startRedis(t)
	opt, _ := redis.ParseURL(url)
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	tap := &Tap{Redis: url, Group: "dashboard", Prefix: "asgi", PubSub: true, Clock: NewClock(), Out: w}
	if err := tap.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		if err := c.Publish(ctx, "asgi__group__dashboard", packMap(t, "type", "dashboard.message", "message", map[string]any{"seq": i})).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// Garbage on the channel is an error record, not the end of the tap.
	c.Publish(ctx, "asgi__group__dashboard", "\xc1")
	c.Publish(ctx, "asgi__group__dashboard", packMap(t, "type", "last"))
	deadline := time.Now().Add(5 * time.Second)
	for tap.Stats().Messages < 51 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st := tap.Stop()
	w.Close()
	if st.Messages != 51 || st.Errors != 1 {
		t.Fatalf("stats %+v: want 51 messages and 1 error", st)
	}
	r, _ := Open(path)
	defer r.Close()
	var got []string
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		if rec.Body != nil {
			got = append(got, string(rec.Body))
		}
	}
	if len(got) != 51 || got[0] != `{"type":"dashboard.message","message":{"seq":1}}` || got[50] != `{"type":"last"}` {
		t.Errorf("bodies: %d, first %s, last %s", len(got), got[0], got[len(got)-1])
	}
}

func TestTapUnreachable(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	w, _ := Create(filepath.Join(t.TempDir(), FileName))
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tap := &Tap{Redis: "redis://" + addr + "/0", Group: "g", Prefix: "asgi", Clock: NewClock(), Out: w}
	err := tap.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "cannot reach") {
		t.Fatalf("err = %v, want cannot reach", err)
	}
	tap.Stop() // nothing to stop
}

func TestMsgpackJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"map in order", packMapNoT("b", 1, "a", "x"), `{"b":1,"a":"x"}`},
		{"negative and big ints", packMapNoT("n", -5, "u", uint64(1<<63)), `{"n":-5,"u":9223372036854775808}`},
		{"float forms", packMapNoT("a", 1e21, "b", 1e-7, "c", 123456789.125, "d", -0.0), `{"a":1e+21,"b":1e-07,"c":123456789.125,"d":0}`},
		{"escapes", packMapNoT("s", "a\"b\\c\n<é>"), `{"s":"a\"b\\c\n\u003cé\u003e"}`},
		{"bytes", packMapNoT("utf8", []byte("hi"), "bin", []byte{0xff, 0}), `{"utf8":"hi","bin":"/wA="}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MsgpackJSON(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	for _, bad := range [][]byte{nil, {0xc1}, {0x81}, append(packMapNoT("a", 1), 0x01)} {
		if _, err := MsgpackJSON(bad); err == nil {
			t.Errorf("%x: no error", bad)
		}
	}
}

func packMapNoT(kv ...any) []byte {
	var b bytes.Buffer
	enc := msgpack.NewEncoder(&b)
	enc.EncodeMapLen(len(kv) / 2)
	for _, x := range kv {
		enc.Encode(x)
	}
	return b.Bytes()
}
