package run_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/diff"
	"github.com/thor-trading/cutover-harness/harness/report"
	"github.com/thor-trading/cutover-harness/harness/run"
	"github.com/thor-trading/cutover-harness/harness/scenario"
	"github.com/thor-trading/cutover-harness/harness/stack"
)

// These tests run the containers stack on this machine's Docker engine
// (images from `make images`): two replicas of the reference stack on
// Redis, four subscribers spread across them. They never skip.

var fixtureSession, _ = filepath.Abs("../../fixtures/sessions/rth-short.jsonl")

// containersScenario is shadow.yaml on a two-replica containers stack;
// extra is appended (speed, faults, thresholds).
func containersScenario(t *testing.T, extra string) *scenario.Scenario {
	t.Helper()
	src := fmt.Sprintf(`name: containers-test
profile: thor
session: %s
subscribers: 4
driver: {batch: 200}
stack:
  kind: containers
  containers: {replicas: 2, ws_idle_timeout: 5s}
settle: {quiet: 500ms, timeout: 30s}
features:
  account_balance: {rest: {poll: 250ms}, freshness_budget: 2s}
  positions:       {rest: {poll: 250ms}, freshness_budget: 2s}
  intraday_bars:   {rest: {poll: 500ms}, freshness_budget: 2s}
  global_market:   {rest: {poll: 500ms}, freshness_budget: 2s}
%s`, fixtureSession, extra)
	p := filepath.Join(t.TempDir(), "containers.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// runContainers runs sc and checks that nothing the run started is left
// in Docker afterwards.
func runContainers(t *testing.T, sc *scenario.Scenario) (*report.Report, string) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := run.Run(ctx, sc, run.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("run took %s; report %s", time.Since(start).Round(time.Millisecond), filepath.Join(dir, "report.md"))
	left, err := stack.Leftovers(context.Background(), stack.LabelPID+"="+strconv.Itoa(os.Getpid()))
	if err != nil || len(left) > 0 {
		t.Errorf("the run left Docker resources behind: %v %v", left, err)
	}
	return res.Report, dir
}

// connections returns, per subscriber, the URLs it connected to, in order.
func connections(t *testing.T, dir string) map[string][]string {
	t.Helper()
	r, err := capture.Open(filepath.Join(dir, capture.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	out := map[string][]string{}
	for {
		rec, err := r.Next()
		if err != nil {
			return out
		}
		if rec.K == capture.KindConn && rec.Err == "" {
			out[rec.Src] = append(out[rec.Src], rec.Path)
		}
	}
}

func gaps(rep *report.Report, feature string) []diff.Finding {
	var out []diff.Finding
	for _, f := range rep.Features[feature].Findings {
		if f.Kind == diff.SubscriberGap {
			out = append(out, f)
		}
	}
	return out
}

func gate(rep *report.Report, feature, name string) *report.Gate {
	for i, g := range rep.Features[feature].Gates {
		if g.Name == name {
			return &rep.Features[feature].Gates[i]
		}
	}
	return nil
}

// Two replicas on Redis pass the shadow checks: every feature PASS with
// subscribers on both replicas.
func TestContainersTwoReplicasPassShadow(t *testing.T) {
	timingVerdicts(t)
	rep, dir := runContainers(t, containersScenario(t, "speed: max\n"))
	if rep.Verdict != report.Pass {
		t.Errorf("verdict %s, reasons %v:\n%s", rep.Verdict, rep.Reasons, rep.Summary())
	}
	for _, name := range rep.Order {
		if v := rep.Features[name].Verdict; v != report.Pass {
			t.Errorf("%s: %s %+v", name, v, rep.Features[name].Gates)
		}
	}
	conns := connections(t, dir)
	replicas := map[string]bool{}
	for sub, urls := range conns {
		if len(urls) != 1 {
			t.Errorf("%s connected %d times (%v) on a healthy stack", sub, len(urls), urls)
		}
		replicas[urls[0]] = true
	}
	if len(conns) != 4 || len(replicas) != 2 {
		t.Errorf("subscribers on replicas: %v, want 4 subscribers on 2 replicas", conns)
	}
	if !strings.Contains(rep.Source.Stack, "containers: 2 ×") {
		t.Errorf("stack described as %q", rep.Source.Stack)
	}
}

// Redis stopped, then a replica killed, mid-session (one run, to keep the
// suite short; at 60x the faults fall between the session's market-status
// changes, so every state feature can converge).
//
// Redis: the replica cut off from it misses what was published meanwhile,
// so its subscribers (ws:1, ws:3) have a subscriber_gap with its span and
// the messages lost; after Redis returns the replica catches up and their
// views equal REST again within the budget.
//
// The killed replica: its subscribers move to the other one, the report
// says who moved where, and their views converge.
func TestContainersFaultsAreReportedAndConverge(t *testing.T) {
	sc := containersScenario(t, `speed: 60x
faults:
  - {session_at: 1m, action: stop_redis, for: 3s}
  - {session_at: 15m, action: kill_replica, replica: 1}
thresholds: {convergence: 10s}
`)
	rep, dir := runContainers(t, sc)
	if rep.Verdict != report.Fail {
		t.Errorf("verdict %s: the gaps must fail the run; reasons %v", rep.Verdict, rep.Reasons)
	}
	conns := connections(t, dir)
	if len(conns["ws:0"]) == 0 || len(conns["ws:1"]) == 0 {
		t.Fatalf("connections %v", conns)
	}
	replica0, replica1 := conns["ws:0"][0], conns["ws:1"][0]

	// When each fault ended, from the convergence measurements.
	cv := rep.Features["positions"].Convergence
	if len(cv) != 2 {
		t.Fatalf("positions convergence %+v, want one per fault", cv)
	}
	redisEnd := cv[0].End

	t.Run("redis stop", func(t *testing.T) {
		var stop string
		for _, w := range rep.Warnings {
			if strings.HasPrefix(w, "fault stop_redis for 3s from") {
				stop = w
			}
		}
		if stop == "" || strings.Contains(stop, "moved") {
			t.Errorf("warnings %q: want the Redis stop, with nobody moving", rep.Warnings)
		}
		// Replica 1's subscribers lose what was published during the
		// outage; the ingest replica's own clients lose nothing.
		got := map[int]bool{}
		for _, f := range gaps(rep, "positions") {
			if f.T > redisEnd {
				continue // the kill's
			}
			span := time.Duration(f.Until - f.T)
			if f.Subscriber%2 != 1 || f.Missed == 0 || span < time.Second || span > 20*time.Second {
				t.Errorf("gap %+v: want one of replica 1's subscribers, with the outage's span and messages lost", f)
			}
			got[f.Subscriber] = true
		}
		if !got[1] || !got[3] {
			t.Errorf("no subscriber_gap over the outage on positions for ws:1 and ws:3: %v", rep.Features["positions"].Findings)
		}
	})

	t.Run("killed replica", func(t *testing.T) {
		for _, sub := range []string{"ws:1", "ws:3"} {
			if urls := conns[sub]; len(urls) != 2 || urls[0] != replica1 || urls[1] != replica0 {
				t.Errorf("%s connected to %v, want %s, then %s", sub, urls, replica1, replica0)
			}
		}
		for _, sub := range []string{"ws:0", "ws:2"} {
			if len(conns[sub]) != 1 {
				t.Errorf("%s on the live replica reconnected: %v", sub, conns[sub])
			}
		}
		moved := -1
		for _, w := range rep.Warnings {
			if strings.HasPrefix(w, "fault kill_replica 1 from") {
				moved = strings.Count(w, "moved from "+replica1+" to "+replica0)
			}
		}
		if moved != 2 {
			t.Errorf("warnings %q: want the kill with ws:1 and ws:3 moved to replica 0", rep.Warnings)
		}
		// What they missed while moving is theirs only.
		for _, f := range gaps(rep, "positions") {
			if f.T > redisEnd {
				if f.Subscriber%2 != 1 {
					t.Errorf("gap %+v: a subscriber of the live replica lost messages", f)
				}
				t.Logf("moving cost: %s", f.Detail)
			}
		}
	})

	t.Run("convergence", func(t *testing.T) {
		for _, name := range []string{"account_balance", "positions", "global_market"} {
			cg := gate(rep, name, report.GateConvergence)
			if cg == nil || cg.Verdict != report.Pass {
				t.Errorf("%s convergence gate %+v, want PASS within 10s", name, cg)
			}
			cv := rep.Features[name].Convergence
			if len(cv) != 2 {
				t.Fatalf("%s convergence %+v, want one per fault", name, cv)
			}
			for _, c := range cv {
				if !c.Converged || c.Polls == 0 {
					t.Errorf("%s after %s: %s", name, c.Fault, c.Describe())
				}
			}
		}
	})
}
