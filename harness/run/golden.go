package run

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/tidwall/gjson"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// Golden expectations are the REST bodies a shadow run saw, kept so that a
// cleanup run (REST deleted) can still compare WS with what REST said. The
// file is a capture holding only REST records: the primary poller's
// distinct bodies, each carrying the seq it was produced at, and the final
// round ("rest:<feature>:final").
//
// A cleanup run injects them into its own capture as that feature's REST
// view: a body of seq S as soon as the replay has had S acknowledged, the
// final ones in the final round. The diff then compares WS with them
// exactly as it would with live REST polls.

// GoldenPath is where --record-golden writes by default: next to the
// session fixture, e.g. fixtures/sessions/rth-short.golden.jsonl.
func GoldenPath(sc *scenario.Scenario) string {
	p := sc.Path(sc.Session)
	p = strings.TrimSuffix(p, ".gz")
	p = strings.TrimSuffix(p, filepath.Ext(p))
	return p + ".golden.jsonl"
}

// RecordGolden writes the golden expectations of a finished run's capture
// (in runDir) to path. Only a PASS run may be recorded: golden expectations
// from a stack that disagreed with itself would encode the disagreement.
func RecordGolden(sc *scenario.Scenario, runDir, path string, verdict string) (int, error) {
	if verdict != "PASS" {
		return 0, fmt.Errorf("golden expectations come only from a PASS run; this one is %s", verdict)
	}
	in, err := capture.Open(filepath.Join(runDir, capture.FileName))
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := capture.Create(path)
	if err != nil {
		return 0, err
	}
	last := map[string]string{} // feature|path → last body kept
	n := 0
	for {
		rec, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out.Close()
			return n, err
		}
		if rec.K != capture.KindREST || rec.Status/100 != 2 || rec.Body == nil {
			continue
		}
		final := strings.HasSuffix(rec.Src, ":final")
		if !final && !strings.HasSuffix(rec.Src, ":0") {
			continue
		}
		k := rec.Feature + "|" + rec.Path
		if !final && last[k] == string(rec.Body) {
			continue
		}
		last[k] = string(rec.Body)
		g := capture.Record{K: capture.KindREST, Src: rec.Src, Feature: rec.Feature, Path: rec.Path, Status: rec.Status,
			Body: append([]byte(nil), rec.Body...)}
		if err := out.Write(&g); err != nil {
			out.Close()
			return n, err
		}
		n++
	}
	return n, out.Close()
}

// golden feeds recorded expectations into a cleanup run's capture.
type golden struct {
	mu      sync.Mutex
	pending []goldenRec // in seq order
	final   []goldenRec
}

type goldenRec struct {
	seq int64
	rec capture.Record
}

// loadGolden reads the expectations for the scenario's removed features.
func loadGolden(sc *scenario.Scenario) (*golden, error) {
	removed := map[string]*scenario.Feature{}
	for name, f := range sc.Features {
		if f.REST.Removed {
			removed[name] = f
		}
	}
	if len(removed) == 0 {
		return nil, nil
	}
	path := sc.Path(sc.Golden)
	in, err := capture.Open(path)
	if err != nil {
		return nil, fmt.Errorf("golden expectations: %w", err)
	}
	defer in.Close()
	g := &golden{}
	found := map[string]bool{}
	for {
		rec, err := in.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("golden expectations: %w", err)
		}
		f := removed[rec.Feature]
		if rec.K != capture.KindREST || f == nil {
			continue
		}
		found[rec.Feature] = true
		c := *rec
		c.Body = append([]byte(nil), rec.Body...)
		if strings.HasSuffix(rec.Src, ":final") {
			g.final = append(g.final, goldenRec{rec: c})
			continue
		}
		var seq int64
		if p := *f.REST.Seq; p != "" {
			seq = gjson.GetBytes(c.Body, p).Int()
		}
		if seq == 0 {
			continue // without seq a body cannot be placed in time; the final round still counts
		}
		g.pending = append(g.pending, goldenRec{seq: seq, rec: c})
	}
	for name := range removed {
		if !found[name] {
			return nil, fmt.Errorf("golden expectations %s hold nothing for feature %s: record them from a shadow run that covers it", path, name)
		}
	}
	sort.SliceStable(g.pending, func(i, j int) bool { return g.pending[i].seq < g.pending[j].seq })
	return g, nil
}

// upTo writes the expectations of every seq up to the acknowledged one.
func (g *golden) upTo(seq int64, clock *capture.Clock, out *capture.Writer) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(g.pending) > 0 && g.pending[0].seq <= seq {
		rec := g.pending[0].rec
		rec.T0, rec.T = clock.Now(), clock.Now()
		_ = out.Write(&rec)
		g.pending = g.pending[1:]
	}
}

// finish writes what is left and the final round.
func (g *golden) finish(clock *capture.Clock, out *capture.Writer) {
	g.upTo(1<<62, clock, out)
	for _, f := range g.final {
		rec := f.rec
		rec.T0, rec.T = clock.Now(), clock.Now()
		_ = out.Write(&rec)
	}
}
