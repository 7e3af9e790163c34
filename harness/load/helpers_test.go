package load

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// testSession is a small valid session: the baseline seeds the stack with it.
func testSession() string {
	var b strings.Builder
	b.WriteString(`{"format":"thor-session/v1","name":"load-test","start":"2026-03-02T14:30:00Z","instruments":{"ES":{"multiplier":50,"tick_size":0.25}},"accounts":["ACC-1"],"markets":["Tokyo","London","NewYork"]}` + "\n")
	t0 := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	seq := 0
	ev := func(d time.Duration, typ, data string) {
		seq++
		fmt.Fprintf(&b, `{"seq":%d,"t":"%s","type":"%s","data":%s}`+"\n", seq, t0.Add(d).Format(time.RFC3339Nano), typ, data)
	}
	ev(0, "market_status", `{"market":"NewYork","status":"OPEN"}`)
	ev(time.Second, "account", `{"account_id":"ACC-1","cash":100000,"buying_power":400000}`)
	ev(2*time.Second, "position", `{"account_id":"ACC-1","symbol":"ES","qty":2,"avg_price":5123}`)
	for i := range 200 {
		ev(3*time.Second+time.Duration(i)*10*time.Second, "tick", fmt.Sprintf(`{"symbol":"ES","price":%d.25,"size":1}`, 5120+i%7))
	}
	return b.String()
}

// loadScenario writes a scenario with the given load section (and stack
// section, when not empty) and loads it.
func loadScenario(t testing.TB, stackYAML, loadYAML string) *scenario.Scenario {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.jsonl"), []byte(testSession()), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "name: loadtest\nprofile: thor\nsession: s.jsonl\n" + stackYAML + "load:\n" + indent(loadYAML)
	p := filepath.Join(dir, "load.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Load(p)
	if err != nil {
		t.Fatalf("scenario:\n%s\n%v", src, err)
	}
	return sc
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// run runs a scenario's load test with a generous test timeout.
func run(t testing.TB, sc *scenario.Scenario, opt Options) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if testing.Verbose() {
		opt.Progress = os.Stderr
	}
	res, err := Run(ctx, sc, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func check(res *Result, name string) *Check {
	for _, st := range res.Steps {
		for i := range st.Checks {
			if st.Checks[i].Name == name {
				return &st.Checks[i]
			}
		}
	}
	return nil
}

// writeTemp writes a scenario file next to an empty session file.
func writeTemp(t testing.TB, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.jsonl"), []byte(testSession()), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "load.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
