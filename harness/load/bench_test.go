package load

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// benchLoad is the benchmarks' load section: 1,000 subscribers, 250 events
// per second (250,000 messages/s to deliver) in ingest requests of 5 events
// (50 requests/s). LOAD_BENCH_RATE and LOAD_BENCH_BATCH change the input.
func benchLoad() string {
	rate, batch := "250", "5"
	if v := os.Getenv("LOAD_BENCH_RATE"); v != "" {
		rate = v
	}
	if v := os.Getenv("LOAD_BENCH_BATCH"); v != "" {
		batch = v
	}
	return fmt.Sprintf(`
subscribers: 1000
connect_rate: 5000
rate: %s
batch: %s
duration: 4s
warmup: 1s
drain: 3s
baseline: {enabled: false}
thresholds: {delivery_p99: 1s, min_rate_achieved: 0.5}
`, rate, batch)
}

// benchMetrics accumulates what the benchmarks report per run.
type benchMetrics struct {
	n                           int
	fanout, p50, p99, cpuPerMsg float64
	lost, expected              int64
	stackPerMsg, harnessPerMsg  float64
	stackRuns                   int
}

func (m *benchMetrics) add(b *testing.B, res *Result) {
	st := res.Steps[0]
	d := st.Delivery
	m.n++
	m.fanout += d.FanoutRate
	m.lost += d.Lost
	m.expected += d.Expected
	m.p50 = max(m.p50, float64(d.Latency.P50)/float64(time.Millisecond))
	m.p99 = max(m.p99, float64(d.Latency.P99)/float64(time.Millisecond))
	if p := st.Parts[0]; d.Fanout > 0 {
		m.cpuPerMsg += p.CPU.Mean * float64(p.CPU.Cores) * p.Duration.Seconds() * 1e9 / float64(d.Fanout)
	}
	if testing.Verbose() {
		b.Log(res.Summary())
	}
}

func (m *benchMetrics) report(b *testing.B, cpuUnit string) {
	n := float64(max(m.n, 1))
	b.ReportMetric(m.fanout/n, "msgs/s")
	b.ReportMetric(m.p50, "p50-ms")
	b.ReportMetric(m.p99, "p99-ms")
	b.ReportMetric(float64(m.lost)/float64(max(m.expected, 1)), "loss")
	b.ReportMetric(m.cpuPerMsg/n, cpuUnit)
	if m.stackRuns > 0 {
		b.ReportMetric(m.harnessPerMsg/float64(m.stackRuns), "harness-cpu-ns/msg")
		b.ReportMetric(m.stackPerMsg/float64(m.stackRuns), "stack-window-cpu-ns/msg")
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkBroadcast1000 pushes events through the embedded reference stack
// to 1,000 subscribers and reports the broadcast throughput (msgs/s),
// delivery p50/p99 (worst run), loss, and the process's CPU per delivered
// message over the measured window: stack and harness together, since the
// embedded stack shares the process (BenchmarkBroadcast1000Process tells
// them apart).
func BenchmarkBroadcast1000(b *testing.B) {
	sc := loadScenario(b, "", benchLoad())
	var m benchMetrics
	for b.Loop() {
		m.add(b, run(b, sc, Options{}))
	}
	m.report(b, "process-cpu-ns/msg")
}

// BenchmarkBroadcast1000Process is BenchmarkBroadcast1000 against the
// reference stack in its own process (cmd/thorstack, built once, started by
// the harness as a process stack), so the harness's CPU per delivered
// message and the stack's can be told apart: the harness's from getrusage
// over the whole run (warm-up included) per message sent to every
// subscriber, the stack's as the load result reads it (its process group
// from /proc over the measured window, per message received).
func BenchmarkBroadcast1000Process(b *testing.B) {
	bin := buildThorstack(b)
	sc := loadScenario(b, fmt.Sprintf("stack: {kind: process, command: [%q, --replay, --addr, \"127.0.0.1:{port}\"]}\n", bin), benchLoad())
	var m benchMetrics
	for b.Loop() {
		h0, _ := processCPU()
		res := run(b, sc, Options{})
		h1, _ := processCPU()
		m.add(b, res)
		st := res.Steps[0]
		var sent int64
		for _, s := range st.Series {
			sent += s.Sent
		}
		if frames := float64(sent) * float64(st.Connect.Connected); frames > 0 && st.StackCPU != nil && st.StackCPU.Error == "" {
			m.stackRuns++
			m.harnessPerMsg += float64(h1-h0) / frames
			m.stackPerMsg += float64(st.StackCPU.PerUnit)
		}
	}
	m.report(b, "harness-window-cpu-ns/msg")
}

// buildThorstack builds cmd/thorstack into a temporary directory.
func buildThorstack(b testing.TB) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "thorstack")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "build", "-o", bin, "../../cmd/thorstack").CombinedOutput()
	if err != nil {
		b.Fatalf("building thorstack: %v\n%s", err, out)
	}
	return bin
}
