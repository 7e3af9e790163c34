package run_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/thor-trading/cutover-harness/harness/diff"
	"github.com/thor-trading/cutover-harness/harness/refstack"
	"github.com/thor-trading/cutover-harness/harness/report"
	"github.com/thor-trading/cutover-harness/harness/run"
	"github.com/thor-trading/cutover-harness/harness/scenario"
	"github.com/thor-trading/cutover-harness/harness/stack"
)

// These tests verify the real Django Channels fixture stack
// (fixtures/django-thor: Django, Channels, channels_redis on a Redis channel
// layer, served by Daphne) with the shipped scenarios/django-*.yaml, which
// the harness runs as process stacks, their channel layer tapped. They
// never skip: `make deps` installs Debian's packages. Each test starts its
// own redis-server on a free loopback port and replays the first three
// minutes of the short session, to keep the suite at about a minute.

// djangoPython is the interpreter that has Debian's Django packages (the
// scenarios' command uses it too).
const djangoPython = "/usr/bin/python3"

// startTestRedis runs redis-server on a free loopback port, its files in a
// temporary directory removed with the test, and returns its address.
func startTestRedis(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: run `make deps`")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", t.TempDir(),
		"--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// needDjango fails the test, saying how to fix it, when Debian's Django
// packages are missing.
func needDjango(t *testing.T) {
	t.Helper()
	out, err := exec.Command(djangoPython, "-c", "import django, channels, daphne, channels_redis").CombinedOutput()
	if err != nil {
		t.Fatalf("the Django stack needs Debian's python3-django python3-django-channels python3-daphne python3-channels-redis: run `make deps` (%v: %s)", err, out)
	}
}

// shortenedSession writes the first minutes of the short session (header
// included) to a temporary file.
func shortenedSession(t *testing.T, minutes int) string {
	t.Helper()
	in, err := os.Open(shortSession)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var b strings.Builder
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, 1<<20)
	end := fmt.Sprintf(`"t":"2026-03-02T14:%02d:`, 30+minutes)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, end) {
			break
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	p := filepath.Join(t.TempDir(), "session.jsonl")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// djangoScenario loads a shipped scenario and points it at the test's
// Redis (database db, so runs do not share the layer) and session.
func djangoScenario(t *testing.T, file, redisAddr string, db int, session string) *scenario.Scenario {
	t.Helper()
	sc, err := scenario.Load(filepath.Join("../../scenarios", file))
	if err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("redis://%s/%d", redisAddr, db)
	sc.Session = session
	sc.Stack.Env["THOR_REDIS_URL"] = url
	sc.Stack.Tap.Redis = url
	return sc
}

func runDjango(t *testing.T, sc *scenario.Scenario) (*report.Report, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t0 := time.Now()
	res, err := run.Run(ctx, sc, run.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %s in %s", sc.Name, verdicts(res.Report), time.Since(t0).Round(100*time.Millisecond))
	checkStopped(t, res.Report.Source.Stack)
	return res.Report, res.Dir
}

// checkStopped checks that the process stack a report names is gone.
func checkStopped(t *testing.T, desc string) {
	t.Helper()
	_, after, ok := strings.Cut(desc, "(pid ")
	if !ok {
		t.Fatalf("stack %q: not a process stack", desc)
	}
	pid, _ := strconv.Atoi(strings.SplitN(after, ",", 2)[0])
	if pid <= 0 {
		t.Fatalf("stack %q: no pid", desc)
	}
	if syscall.Kill(pid, 0) == nil {
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err != nil || !strings.Contains(string(st), ") Z ") {
			syscall.Kill(-pid, syscall.SIGKILL)
			t.Errorf("Daphne (pid %d) outlived the run", pid)
		}
	}
}

func feature(t *testing.T, r *report.Report, name string) *report.FeatureReport {
	t.Helper()
	f := r.Features[name]
	if f == nil || f.FeatureResult == nil {
		t.Fatalf("no feature %s in the report", name)
	}
	return f
}

func attribution(t *testing.T, f *report.FeatureReport) diff.Attribution {
	t.Helper()
	if f.Attribution == nil {
		t.Fatalf("%s: no attribution: the tap recorded nothing", f.Name)
	}
	return *f.Attribution
}

// TestDjangoStack runs the shipped Django scenarios against the fixture
// stack: clean, a message builder's rounding bug, and a consumer that drops
// messages; then the clean scenario against the reference stack, with only
// the stack section changed.
func TestDjangoStack(t *testing.T) {
	needDjango(t)
	redisAddr := startTestRedis(t)
	session := shortenedSession(t, 3)

	t.Run("clean", func(t *testing.T) {
		r, dir := runDjango(t, djangoScenario(t, "django-shadow.yaml", redisAddr, 1, session))
		if r.Verdict != report.Pass {
			t.Fatalf("clean Django stack: %s", verdicts(r))
		}
		for _, name := range r.Order {
			a := attribution(t, feature(t, r, name))
			if a.Broadcast == 0 || a.NotBroadcast != 0 || a.NotDelivered != 0 || a.Untapped != 0 {
				t.Errorf("%s: attribution %+v: want broadcasts, every one delivered", name, a)
			}
		}
		log, err := os.ReadFile(filepath.Join(dir, stack.ProcessLog))
		if err != nil || !strings.Contains(string(log), "WSCONNECT /ws/dashboard/") {
			t.Errorf("process.log lacks Daphne's access log (%v):\n%.500s", err, log)
		}
	})

	t.Run("message builder rounds", func(t *testing.T) {
		r, _ := runDjango(t, djangoScenario(t, "django-fault-round.yaml", redisAddr, 2, session))
		f := feature(t, r, "account_balance")
		if f.Verdict != report.Fail || f.Counts[diff.ValueMismatch] == 0 {
			t.Fatalf("account_balance: %s: want FAIL with value_mismatch", verdicts(r))
		}
		for _, fd := range f.Findings {
			if fd.Kind == diff.ValueMismatch && strings.Contains(fd.Detail, "before the channel layer (a job or message builder), not in a consumer") {
				goto placed
			}
		}
		t.Errorf("no value_mismatch says the backend broadcast the wrong value: %+v", f.Findings[0])
	placed:
		for _, name := range []string{"positions", "intraday_bars", "global_market"} {
			if v := feature(t, r, name).Verdict; v != report.Pass {
				t.Errorf("%s: %s, want PASS: %s", name, v, verdicts(r))
			}
		}
		if a := attribution(t, f); a.NotDelivered != 0 {
			t.Errorf("account_balance: %+v: the consumers delivered everything", a)
		}
	})

	// This one runs on channels_redis's pub/sub layer, tapped by SUBSCRIBE:
	// the attribution must not depend on the layer.
	t.Run("consumer drops, pub/sub layer", func(t *testing.T) {
		sc := djangoScenario(t, "django-fault-consumer-drop.yaml", redisAddr, 3, session)
		sc.Stack.Env["THOR_CHANNEL_LAYER"] = "pubsub"
		sc.Stack.Tap.Layer = scenario.LayerPubSub
		r, _ := runDjango(t, sc)
		f := feature(t, r, "positions")
		if f.Verdict != report.Fail || f.Counts[diff.MissingInWS]+f.Counts[diff.SubscriberGap] == 0 {
			t.Fatalf("positions: %s: want FAIL with missing_in_ws or subscriber_gap", verdicts(r))
		}
		a := attribution(t, f)
		if a.NotDelivered == 0 || a.NotBroadcast != 0 {
			t.Errorf("positions: attribution %+v: want the losses broadcast and not delivered, none unbroadcast", a)
		}
		for _, fd := range f.Findings {
			if (fd.Kind == diff.MissingInWS || fd.Kind == diff.SubscriberGap) && !strings.Contains(fd.Detail, "broadcast but not delivered") {
				t.Errorf("%s: detail does not blame the consumer side: %s", fd.Kind, fd.Detail)
			}
		}
		for _, name := range []string{"account_balance", "intraday_bars", "global_market"} {
			if v := feature(t, r, name).Verdict; v != report.Pass {
				t.Errorf("%s: %s, want PASS: %s", name, v, verdicts(r))
			}
		}
	})

	t.Run("same scenario on the reference stack", func(t *testing.T) {
		sc := djangoScenario(t, "django-shadow.yaml", redisAddr, 4, session)
		sc.Stack = scenario.Stack{Kind: scenario.StackEmbedded}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		res, err := run.Run(ctx, sc, run.Options{Dir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if res.Report.Verdict != report.Pass {
			t.Fatalf("django-shadow.yaml on the reference stack: %s", verdicts(res.Report))
		}
	})
}

// TestDjangoFixtureUnitTests runs the fixture's own Python unit tests
// (model, money, JSON).
func TestDjangoFixtureUnitTests(t *testing.T) {
	needDjango(t)
	cmd := exec.Command(djangoPython, "-m", "unittest", "-v", "dashboard.tests")
	cmd.Dir = "../../fixtures/django-thor"
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m unittest dashboard.tests: %v\n%s", err, out)
	}
}

// TestDjangoStackSameBytes replays the same events into the Django stack
// and the reference stack and compares what each serves: every REST body
// and every WS message (heartbeats aside), byte for byte. The contract
// (ARCHITECTURE.md) is one; so must be the bytes.
func TestDjangoStackSameBytes(t *testing.T) {
	needDjango(t)
	redisAddr := startTestRedis(t)
	session := shortenedSession(t, 3)
	sc := djangoScenario(t, "django-shadow.yaml", redisAddr, 5, session)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dj, err := stack.StartWith(ctx, sc, stack.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer dj.Close()
	ref, err := refstack.New(refstack.Config{Replay: true, Heartbeat: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := ref.Start(); err != nil {
		t.Fatal(err)
	}
	defer ref.Close()

	type side struct {
		name, rest, ws string
		mu             sync.Mutex
		frames         [][]byte
	}
	sides := []*side{{name: "django", rest: dj.REST(), ws: dj.WS()}, {name: "reference", rest: ref.URL(), ws: ref.WSURL()}}
	for _, sd := range sides {
		conn, _, err := websocket.DefaultDialer.DialContext(ctx, sd.ws, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		go func() {
			for {
				_, b, err := conn.ReadMessage()
				if err != nil {
					return
				}
				if bytes.Contains(b, []byte(`"type":"heartbeat"`)) {
					continue
				}
				sd.mu.Lock()
				sd.frames = append(sd.frames, b)
				sd.mu.Unlock()
			}
		}()
	}
	src, err := os.ReadFile(session)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	for _, sd := range sides {
		for i := 0; i < len(lines); i += 200 {
			body := "[" + strings.Join(lines[i:min(i+200, len(lines))], ",") + "]"
			resp, err := http.Post(sd.rest+"/__replay/events", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("%s ingest: %d %s", sd.name, resp.StatusCode, b)
			}
		}
	}
	count := func(sd *side) int { sd.mu.Lock(); defer sd.mu.Unlock(); return len(sd.frames) }
	for deadline := time.Now().Add(30 * time.Second); count(sides[0]) < count(sides[1]) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // nothing more may come
	snapshot := func(sd *side) [][]byte { sd.mu.Lock(); defer sd.mu.Unlock(); return slices.Clone(sd.frames) }
	a, b := snapshot(sides[0]), snapshot(sides[1])
	if len(a) != len(b) || len(b) == 0 {
		t.Errorf("WS messages: django %d, reference %d", len(a), len(b))
	}
	for i := range min(len(a), len(b)) {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("WS message %d differs:\n  django:    %s\n  reference: %s", i, a[i], b[i])
		}
	}
	paths := []string{"/api/account/balance", "/api/positions", "/api/intraday/bars", "/api/global-markets/status", "/api/features"}
	for _, sym := range []string{"ES", "NQ", "CL", "GC", "XX"} {
		paths = append(paths, "/api/intraday/bars?symbol="+sym)
	}
	for _, p := range paths {
		var bodies [2]string
		for i, sd := range sides {
			resp, err := http.Get(sd.rest + p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			bodies[i] = fmt.Sprintf("%d %s %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		if bodies[0] != bodies[1] {
			t.Errorf("GET %s differs:\n  django:    %.300s\n  reference: %.300s", p, bodies[0], bodies[1])
		}
	}
	t.Logf("%d WS messages and %d REST bodies the same", len(b), len(paths))
}
