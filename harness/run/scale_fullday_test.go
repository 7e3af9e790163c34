package run_test

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/capture"
)

// fullDayRSSLimit is the most resident memory `harness run` may use on the
// full-day scenario: the capture streams to disk and the diff folds it in
// bounded memory, so the peak must not grow with the session.
const fullDayRSSLimit = 300 << 20

// BenchmarkFullDay runs the real binary on scenarios/fullday.yaml: the
// whole regular session (113k events) at max speed into the embedded
// reference stack with ten subscribers, over a million WS frames. It
// reports the harness process's peak resident memory (getrusage's
// ru_maxrss of the child: the harness with its embedded stack), the frames
// captured and the capture's size, and checks the peak stays under 300 MB
// and the capture reads to its end. `make bench-fullday` runs it once.
func BenchmarkFullDay(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "harness")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/harness").CombinedOutput(); err != nil {
		b.Fatalf("building the harness: %v\n%s", err, out)
	}
	scenario, _ := filepath.Abs("../../scenarios/fullday.yaml")
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "run")
		cmd := exec.Command(bin, "run", scenario, "--out", dir)
		cmd.Env = append(os.Environ(), "CI=1")
		b.StartTimer()
		start := time.Now()
		out, err := cmd.CombinedOutput()
		took := time.Since(start)
		b.StopTimer()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			b.Fatalf("harness run: %v\n%s", err, out)
		}
		code := cmd.ProcessState.ExitCode()
		if code != 0 && code != 1 && code != 3 {
			b.Fatalf("harness run exit %d:\n%s", code, out)
		}
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
		var rep struct {
			Verdict  string `json:"verdict"`
			WSFrames int64  `json:"ws_frames"`
			Records  int64  `json:"records"`
		}
		j, err := os.ReadFile(filepath.Join(dir, "report.json"))
		if err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(j, &rep); err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, capture.FileName))
		if err != nil {
			b.Fatal(err)
		}
		n := countRecords(b, filepath.Join(dir, capture.FileName))
		b.Logf("%s in %s: peak RSS %.1f MB, %d WS frames, %d records (%d read back), capture %.0f MB",
			rep.Verdict, took.Round(100*time.Millisecond), float64(rss)/(1<<20), rep.WSFrames, rep.Records, n, float64(fi.Size())/(1<<20))
		b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MB")
		b.ReportMetric(float64(rep.WSFrames), "ws-frames")
		b.ReportMetric(float64(fi.Size())/(1<<20), "capture-MB")
		if rss > fullDayRSSLimit {
			b.Errorf("peak RSS %.1f MB, over %d MB", float64(rss)/(1<<20), fullDayRSSLimit>>20)
		}
		if rep.WSFrames < 1_000_000 {
			b.Errorf("%d WS frames captured, want at least a million", rep.WSFrames)
		}
		if n != rep.Records {
			b.Errorf("the capture reads back %d records, the report counted %d", n, rep.Records)
		}
		if rep.Verdict != "PASS" {
			b.Logf("verdict %s (the clean reference stack; see %s/report.md)\n%s", rep.Verdict, dir, out)
		}
	}
}

// countRecords reads a capture to its end and counts its records.
func countRecords(b *testing.B, path string) int64 {
	r, err := capture.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var n int64
	for {
		_, err := r.Next()
		if err == io.EOF {
			return n
		}
		if err != nil {
			b.Fatalf("the capture does not read to its end: %v", err)
		}
		n++
	}
}
