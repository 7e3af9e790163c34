package stack_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/scenario"
	"github.com/thor-trading/cutover-harness/harness/stack"
)

// These tests run real containers on this machine's Docker engine, from
// the images `make images` builds; they never skip. TestMain checks that
// the suite left no container, network or image behind.
func TestMain(m *testing.M) {
	code := m.Run()
	if left := leftovers(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "the suite left Docker resources behind (label %s=%d):\n  %s\n",
			stack.LabelPID, os.Getpid(), strings.Join(left, "\n  "))
		code = 1
	}
	os.Exit(code)
}

func leftovers() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	left, err := stack.Leftovers(ctx, stack.LabelPID+"="+strconv.Itoa(os.Getpid()))
	if err != nil {
		return []string{"cannot list: " + err.Error()}
	}
	return left
}

var fixture, _ = filepath.Abs("../../fixtures/sessions/rth-short.jsonl")

// containersScenario parses a containers scenario; body is the YAML below
// "stack:\n  kind: containers\n".
func containersScenario(t testing.TB, body string) *scenario.Scenario {
	t.Helper()
	dir := t.TempDir()
	src := "profile: thor\nsession: " + fixture + "\nfeatures: {positions: {}}\nstack:\n  kind: containers\n" + body
	sc, err := scenario.Parse(filepath.Join(dir, "containers.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func startContainers(t *testing.T, sc *scenario.Scenario) *stack.Containers {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var log bytes.Buffer
	st, err := stack.StartContainers(ctx, sc, stack.ContainersOptions{Log: &log})
	if err != nil {
		t.Fatalf("%v\ntestcontainers log:\n%s", err, log.String())
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return st
}

// ingest posts the first n events of the fixture (header first) to url.
func ingest(t *testing.T, url string, n int) {
	t.Helper()
	b, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")[:n+1]
	for i := 0; i < len(lines); i += 500 {
		batch := "[" + strings.Join(lines[i:min(i+500, len(lines))], ",") + "]"
		resp, err := http.Post(url+"/__replay/events", "application/json", strings.NewReader(batch))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("ingest: %s %s", resp.Status, body)
		}
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	return string(b)
}

var paths = []string{"/api/account/balance", "/api/positions", "/api/intraday/bars?symbol=ES", "/api/global-markets/status"}

// Two replicas on Redis: ingest goes to replica 0, and replica 1 serves
// the same REST, seq included, byte for byte.
func TestContainersReplicasServeTheSameState(t *testing.T) {
	st := startContainers(t, containersScenario(t, "  containers: {replicas: 2}\n"))
	rests := st.RESTURLs()
	if len(rests) != 2 || len(st.WSURLs()) != 2 || st.REST() != rests[0] || !strings.HasSuffix(st.WS(), "/ws/dashboard/") {
		t.Fatalf("URLs: rest %v ws %v (REST %s WS %s)", rests, st.WSURLs(), st.REST(), st.WS())
	}
	cpu0, err := st.CPUTime(context.Background())
	if err != nil || cpu0 <= 0 {
		t.Fatalf("CPUTime: %v, %v", cpu0, err)
	}
	ingest(t, st.REST(), 2000)
	if cpu1, err := st.CPUTime(context.Background()); err != nil || cpu1 <= cpu0 {
		t.Errorf("CPUTime after 2000 events: %v (before %v), %v", cpu1, cpu0, err)
	}
	if src := st.CPUSource(); !strings.Contains(src, "3 containers") {
		t.Errorf("CPUSource() = %q, want the two replicas and Redis", src)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range paths {
		want := get(t, rests[0]+p)
		if !strings.Contains(want, `"seq":2000`) {
			t.Fatalf("replica 0 %s after 2000 events: %.200s", p, want)
		}
		for {
			got := get(t, rests[1]+p)
			if got == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica 1 %s differs from replica 0:\n%.300s\n%.300s", p, got, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	info := st.Info()
	if info.ID != st.ID() || len(info.Replicas) != 2 || info.Redis == "" || info.Network == "" {
		t.Errorf("info: %+v", info)
	}
}

// An image that is not here fails at once, saying how to build it, and
// leaves nothing behind.
func TestContainersMissingImage(t *testing.T) {
	sc := containersScenario(t, "  containers: {image: cutover-harness/none:missing}\n")
	_, err := stack.StartContainers(context.Background(), sc, stack.ContainersOptions{ID: "missing" + strconv.Itoa(os.Getpid())})
	if err == nil || !strings.Contains(err.Error(), "make images") || !strings.Contains(err.Error(), "never pulled") {
		t.Fatalf("err = %v, want one that says to run make images", err)
	}
}

// Interrupted while starting (Ctrl-C: the context is cancelled as the
// replicas are being created, Redis already running), the stack removes
// what it had started before it returns.
func TestContainersInterruptedStart(t *testing.T) {
	sc := containersScenario(t, "  containers: {replicas: 2}\n")
	id := "int" + strconv.Itoa(os.Getpid())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &cancelOn{what: "Creating container for image " + scenario.DefaultStackImage, cancel: cancel}
	st, err := stack.StartContainers(ctx, sc, stack.ContainersOptions{ID: id, Log: log})
	if err == nil {
		st.Close()
		t.Fatal("the stack came up although its start was interrupted")
	}
	if !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("err = %v, want it to say it was interrupted", err)
	}
	left, lerr := stack.Leftovers(context.Background(), stack.LabelStack+"="+id)
	if lerr != nil || len(left) > 0 {
		t.Errorf("left behind: %v %v", left, lerr)
	}
}

// cancelOn cancels when a log line contains what.
type cancelOn struct {
	what   string
	cancel func()
}

func (c *cancelOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.what) {
		c.cancel()
	}
	return len(p), nil
}

// A build context is built once for every replica, and the image is
// removed with the stack.
func TestContainersBuildContext(t *testing.T) {
	dir := t.TempDir()
	df := "FROM " + scenario.DefaultStackImage + "\nLABEL cutover-harness.test=build\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
		t.Fatal(err)
	}
	sc := containersScenario(t, "  containers:\n    build: {context: "+dir+"}\n    replicas: 1\n    redis: {disabled: true}\n")
	st := startContainers(t, sc)
	built := st.Info().BuiltImage
	if !strings.HasPrefix(built, "cutover-harness-build/") {
		t.Fatalf("built image %q", built)
	}
	if got := get(t, st.REST()+"/healthz"); got != "ok" {
		t.Errorf("healthz %q", got)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if left, _ := stack.Leftovers(context.Background(), stack.LabelStack+"="+st.ID()); len(left) > 0 {
		t.Errorf("after Close: %v", left)
	}
}

// RemoveStack finds a stack by its label from anywhere: `harness stack
// down` in another process.
func TestContainersRemoveStack(t *testing.T) {
	sc := containersScenario(t, "  containers: {replicas: 1}\n")
	st := startContainers(t, sc)
	if err := stack.RemoveStack(context.Background(), st.ID()); err != nil {
		t.Fatal(err)
	}
	if left, _ := stack.Leftovers(context.Background(), stack.LabelStack+"="+st.ID()); len(left) > 0 {
		t.Errorf("after RemoveStack: %v", left)
	}
}
