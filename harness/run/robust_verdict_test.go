package run_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/diff"
	"github.com/thor-trading/cutover-harness/harness/report"
	"github.com/thor-trading/cutover-harness/harness/run"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// TestNeverAFalsePass takes the capture of a clean run (PASS) and takes
// evidence away from it, one way at a time, the way a broken run would:
// none of them may PASS, and each must say why.
func TestNeverAFalsePass(t *testing.T) {
	// Five minutes of the session: enough traffic for every feature, little
	// enough to diff a dozen times under the race detector.
	slice := sliceSession(t, 5*time.Minute)
	sc := fastScenario(t, "")
	sc.Session = slice
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := run.Run(ctx, sc, run.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Verdict != report.Pass {
		t.Fatalf("the clean run is not PASS: %s", verdicts(res.Report))
	}
	lines := captureLines(t, filepath.Join(dir, capture.FileName))
	half := trafficAt(t, lines, 0.5)
	tails := map[string]int64{} // per subscriber, the time of its 50th last feature frame
	for _, src := range []string{"ws:0", "ws:1", "ws:2"} {
		tails[src] = tailOf(t, lines, src, 50)
	}

	for _, tc := range []struct {
		name string
		// keep says whether a record stays; edit may change it.
		keep func(rec *capture.Record) bool
		// cut, when set, ends the capture at this fraction of its bytes.
		cut  float64
		edit func(sc *scenario.Scenario)
		want string // in the reasons or a gate's detail
	}{
		{name: "a subscriber that never connected", keep: func(r *capture.Record) bool { return r.Src != "ws:2" },
			want: "ws:2 never connected"},
		{name: "a subscriber gone halfway", keep: func(r *capture.Record) bool { return r.Src != "ws:2" || r.T < half },
			want: "subscriber_gap"},
		{name: "a subscriber that missed its last 50 frames", keep: func(r *capture.Record) bool { return r.Src != "ws:2" || r.T < tails["ws:2"] },
			want: "subscriber_gap"},
		{name: "every subscriber missed its last 50 frames", keep: func(r *capture.Record) bool { return r.K != capture.KindWS || r.T < tails[r.Src] },
			want: "final values: different"},
		{name: "a feature without WS items", keep: func(r *capture.Record) bool {
			return r.K != capture.KindWS || !bytes.Contains(r.Body, []byte(`"type":"market_status"`))
		}, want: "too few WS items"},
		{name: "a feature without REST samples", keep: func(r *capture.Record) bool { return r.Feature != "positions" },
			want: "too few successful REST polls"},
		{name: "no end record (run cut short)", keep: func(r *capture.Record) bool { return r.K != capture.KindEnd },
			want: "did not complete"},
		{name: "capture cut mid-record", cut: 0.5, want: "ends mid-record"},
		{name: "interrupted", keep: func(r *capture.Record) bool {
			if r.K == capture.KindEnd {
				r.Meta.Ended, r.Meta.Reason = "interrupted", "interrupted during the replay"
			}
			return true
		}, want: "did not complete (interrupted)"},
		{name: "not settled", keep: func(r *capture.Record) bool {
			if r.K == capture.KindEnd {
				no := false
				r.Meta.Settled = &no
			}
			return true
		}, want: "did not come to rest"},
		{name: "a feature no message carries", edit: func(sc *scenario.Scenario) {
			g := *sc.Features["global_market"]
			g.WS.Type = "ghost"
			sc.Features["ghost"] = &g
		}, want: "too few"},
		{name: "a convergence threshold with no fault to measure", edit: func(sc *scenario.Scenario) {
			sc.Thresholds.Convergence = scenario.Duration(time.Second)
		}, want: "nothing to measure recovery by"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := fastScenario(t, "")
			sc.Session = slice
			if tc.edit != nil {
				tc.edit(sc)
			}
			path := filepath.Join(t.TempDir(), capture.FileName)
			writeLines(t, path, lines, tc.keep, tc.cut)
			res, err := diff.DiffFile(sc, path)
			if err != nil {
				t.Fatal(err)
			}
			r := report.Build(sc, res, report.Run{ID: "x"})
			if r.Verdict == report.Pass {
				t.Fatalf("PASS: %s", verdicts(r))
			}
			if !mentions(r, tc.want) {
				t.Errorf("%s, and it does not say %q", verdicts(r), tc.want)
			}
		})
	}
}

func captureLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))
}

// trafficAt is the time of the WS frame that carries a feature (not a
// heartbeat) frac of the way through what the subscribers received.
func trafficAt(t *testing.T, lines [][]byte, frac float64) int64 {
	t.Helper()
	var ts []int64
	for _, l := range lines {
		var r capture.Record
		if json.Unmarshal(l, &r) == nil && r.K == capture.KindWS && !bytes.Contains(r.Body, []byte(`"heartbeat"`)) {
			ts = append(ts, r.T)
		}
	}
	if len(ts) == 0 {
		t.Fatal("no WS frames in the capture")
	}
	return ts[int(float64(len(ts)-1)*frac)]
}

// tailOf is the time of subscriber src's n-th last frame that carries a
// feature.
func tailOf(t *testing.T, lines [][]byte, src string, n int) int64 {
	t.Helper()
	var ts []int64
	for _, l := range lines {
		var r capture.Record
		if json.Unmarshal(l, &r) == nil && r.K == capture.KindWS && r.Src == src && !bytes.Contains(r.Body, []byte(`"heartbeat"`)) {
			ts = append(ts, r.T)
		}
	}
	if len(ts) < n {
		t.Fatalf("%s got %d feature frames, fewer than %d", src, len(ts), n)
	}
	return ts[len(ts)-n]
}

// writeLines writes the records keep keeps (edited as it left them), or
// the first cut fraction of the bytes.
func writeLines(t *testing.T, path string, lines [][]byte, keep func(*capture.Record) bool, cut float64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	if cut > 0 {
		all := bytes.Join(lines, nil)
		n := int(float64(len(all)) * cut)
		for n < len(all) && (all[n] == '\n' || all[n-1] == '\n') {
			n++ // end inside a record
		}
		_, _ = w.Write(all[:n])
	} else {
		rd := capture.NewReader(bytes.NewReader(bytes.Join(lines, nil)), "capture")
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if keep == nil || keep(rec) {
				_, _ = w.Write(append(mustJSON(t, rec), '\n'))
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, rec *capture.Record) []byte {
	t.Helper()
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
