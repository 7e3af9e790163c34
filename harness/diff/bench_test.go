package diff

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

var benchFeatures = []string{"account_balance", "positions", "intraday_bars", "global_market"}

// genCapture writes a realistic clean capture: msgs stack messages (each
// received by subs subscribers) at rate per second of capture time, mostly
// positions and balances, bars closing every 6s per symbol, market status
// now and then; every feature polled every 250ms by the primary and the
// twin, then a settle phase and the final round. It returns the number of
// WS frames.
func genCapture(tb testing.TB, path string, subs, msgs, rate int) int {
	tb.Helper()
	w, err := capture.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	state := map[string]map[string]string{}
	for _, f := range benchFeatures {
		state[f] = map[string]string{}
	}
	accounts := []string{"ACC-1", "ACC-2", "ACC-3"}
	symbols := []string{"ES", "NQ", "CL", "GC"}
	markets := []string{"Tokyo", "London", "NewYork"}
	last := map[string]float64{"ES": 5100, "NQ": 18000, "CL": 78, "GC": 2300}
	minute := map[string]int{}
	var seq int64
	frames := 0
	write := func(r *capture.Record) {
		if err := w.Write(r); err != nil {
			tb.Fatal(err)
		}
	}
	send := func(t int64, feat, key, item string) {
		seq++
		state[feat][key] = item
		body := fmt.Sprintf(`{"type":%q,"seq":%d,"data":%s}`, simTypes[feat], seq, item)
		for s := 0; s < subs; s++ {
			r := capture.Record{K: capture.KindWS, T: t + int64(s)*20_000, Src: fmt.Sprintf("ws:%d", s)}
			r.SetPayload([]byte(body))
			write(&r)
			frames++
		}
	}
	poll := func(t int64, feat, role string) {
		items := state[feat]
		keys := make([]string, 0, len(items))
		for k := range items {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		paths := []string{simPaths[feat]}
		if feat == "intraday_bars" {
			paths = nil
			for _, s := range symbols {
				paths = append(paths, "/api/intraday/bars?symbol="+s)
			}
		}
		for _, p := range paths {
			var list []string
			for _, k := range keys {
				if feat != "intraday_bars" || strings.HasPrefix(k, strings.TrimPrefix(p, "/api/intraday/bars?symbol=")+"|") {
					list = append(list, items[k])
				}
			}
			r := capture.Record{K: capture.KindREST, T0: t - int64(time.Millisecond), T: t, Src: "rest:" + feat + ":" + role, Feature: feat, Path: p, Status: 200}
			r.SetPayload(fmt.Appendf(nil, `{"seq":%d,"data":[%s]}`, seq, strings.Join(list, ",")))
			write(&r)
		}
	}
	write(&capture.Record{K: capture.KindStart, Meta: &capture.Meta{RunID: "bench"}})
	step := int64(time.Second) / int64(rate)
	pollEvery := int64(250 * time.Millisecond)
	var t, nextPoll, nextTwin int64 = 0, 0, pollEvery / 2
	for i := 0; i < msgs; i++ {
		t += step
		for nextPoll <= t {
			for _, f := range benchFeatures {
				poll(nextPoll, f, "0")
			}
			nextPoll += pollEvery
		}
		for nextTwin <= t {
			for _, f := range benchFeatures {
				poll(nextTwin, f, "1")
			}
			nextTwin += pollEvery
		}
		sym := symbols[rng.IntN(len(symbols))]
		last[sym] += float64(rng.IntN(9)-4) * 0.25
		if m := int(t / int64(6*time.Second)); m > minute[sym] {
			minute[sym] = m
			send(t, "intraday_bars", fmt.Sprintf("%s|%d", sym, m), fmt.Sprintf(`{"symbol":%q,"start":"2026-03-02T%02d:%02d:00Z","open":%.2f,"high":%.2f,"low":%.2f,"close":%.2f,"volume":%d}`,
				sym, 10+m/60, m%60, last[sym], last[sym]+1, last[sym]-1, last[sym], 100+i%50))
			continue
		}
		switch r := rng.IntN(100); {
		case r < 60:
			acct := accounts[rng.IntN(len(accounts))]
			send(t, "positions", acct+"|"+sym, pos(acct, sym, 1+rng.IntN(5), last[sym]))
		case r < 98:
			acct := accounts[rng.IntN(len(accounts))]
			send(t, "account_balance", acct, bal(acct, 100000+float64(rng.IntN(100000))/100))
		default:
			mk := markets[rng.IntN(len(markets))]
			send(t, "global_market", mk, mkt(mk, []string{"OPEN", "CLOSED", "PREMARKET"}[rng.IntN(3)]))
		}
	}
	settledAt := t
	for i := 0; i < 8; i++ {
		t += pollEvery / 2
		for _, f := range benchFeatures {
			poll(t, f, []string{"0", "1"}[i%2])
		}
	}
	t += int64(time.Millisecond)
	for _, f := range benchFeatures {
		poll(t, f, "final")
	}
	settled := true
	write(&capture.Record{K: capture.KindEnd, T: t + 1, Meta: &capture.Meta{Ended: "complete", Settled: &settled, SettledAt: settledAt}})
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return frames
}

// benchScenario is the thor profile with four bar paths.
func benchScenario(subs int) *scenario.Scenario {
	sc := simScenario(subs, false, benchFeatures...)
	sc.Features["intraday_bars"].REST.Paths = []string{
		"/api/intraday/bars?symbol=ES", "/api/intraday/bars?symbol=NQ", "/api/intraday/bars?symbol=CL", "/api/intraday/bars?symbol=GC"}
	return sc
}

func BenchmarkDiff(b *testing.B) {
	path := filepath.Join(b.TempDir(), "capture.jsonl")
	frames := genCapture(b, path, 3, 100_000, 1000)
	sc := benchScenario(3)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		res, err := DiffFile(sc, path)
		if err != nil {
			b.Fatal(err)
		}
		if n := totalFindings(res); n != 0 {
			b.Fatalf("%d findings on a clean capture:\n%s", n, dumpFindings(res))
		}
	}
	b.ReportMetric(float64(frames)*float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	// Frames per CPU second: what one core does, whatever else the
	// machine is busy with (run with GOMAXPROCS=1).
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(frames)*float64(b.N)/cpu.Seconds(), "frames/cpu-s")
	}
	b.ReportMetric(float64(frames), "frames/op")
}

func totalFindings(r *Result) int {
	n := 0
	for _, c := range r.Counts {
		n += c
	}
	for _, f := range r.Features {
		for _, c := range f.Counts {
			n += c
		}
	}
	return n
}

// BenchmarkReadCapture reads BenchmarkDiff's capture without diffing it:
// the capture reader's share of BenchmarkDiff.
func BenchmarkReadCapture(b *testing.B) {
	path := filepath.Join(b.TempDir(), "capture.jsonl")
	frames := genCapture(b, path, 3, 100_000, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		r, err := capture.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
		r.Close()
	}
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(frames)*float64(b.N)/cpu.Seconds(), "frames/cpu-s")
	}
}
