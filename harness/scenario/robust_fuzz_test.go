package scenario

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzScenario feeds arbitrary bytes to the strict scenario decoder and its
// checks. It must never panic or hang; a scenario it rejects is rejected
// with errors that each name the file (and a line when the problem has
// one); and a scenario it accepts is complete: defaults applied, every
// feature with a kind, paths, a message type and a key, and the same
// result when parsed again.
func FuzzScenario(f *testing.F) {
	shipped, _ := filepath.Glob("../../scenarios/*.yaml")
	for _, p := range shipped {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		minimal,
		"",
		"---\n",
		"~\n",
		"[]\n",
		"profile: thor\nsession: s.jsonl\nfeatures: {positions: {rest: {poll: 250}}}\n",
		"profile: thor\nsession: s.jsonl\nfeatures: &f {positions: {}}\nthresholds: *f\n",
		"profile: thor\nsession: s.jsonl\nfeatures:\n  positions: &p {key: [a]}\n  balances: *p\n",
		"profile: thor\nsession: s.jsonl\nspeed: 1e308x\nfeatures: {positions: {tolerance: .nan}}\n",
		"profile: thor\nsession: s.jsonl\nsubscribers: 99999999999999999999\nfeatures: {positions: {}}\n",
		"profile: thor\nsession: s.jsonl\nfeatures: {positions: {rest: {seq: ~}, ws: {seq: \"\"}}}\n",
		"profile: thor\nsession: s.jsonl\nfeatures: {positions: {}}\nstack: {kind: process, command: [\"\"], env: {A: ~}}\n",
		"profile: thor\nsession: s.jsonl\nfeatures: {intraday_bars: {stream: [start], order: start}}\n",
		"profile: thor\nsession: s.jsonl\nfeatures: {? [a] : b}\n",
		"profile: !!binary aGVsbG8=\n",
		"a: &a [*a]\n",
		"profile: thor\nsession: s.jsonl\nfeatures:\n\tpositions: {}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		sc, err := parse("fuzz.yaml", data, false)
		if took := time.Since(start); took > 10*time.Second {
			t.Fatalf("parsing %d bytes took %s", len(data), took)
		}
		if err != nil {
			if sc != nil {
				t.Fatalf("an error (%v) and a scenario", err)
			}
			var one *Error
			var all Errors
			switch {
			case errors.As(err, &all):
				if len(all) == 0 {
					t.Fatal("an empty error list")
				}
				for _, e := range all {
					checkFuzzError(t, e)
				}
			case errors.As(err, &one):
				checkFuzzError(t, one)
			default:
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if sc.Subscribers < 2 || sc.Settle.Timeout <= sc.Settle.Quiet || sc.Thresholds.MaxFindings == nil || *sc.Thresholds.MaxFindings < 0 {
			t.Fatalf("accepted with unchecked settings: %+v", sc)
		}
		for name, feat := range sc.Features {
			if feat == nil || (feat.Kind != KindState && feat.Kind != KindEvents) || len(feat.REST.Paths) == 0 ||
				feat.WS.Type == "" || len(feat.Key) == 0 || feat.REST.Seq == nil || feat.WS.Seq == nil || feat.REST.Poll <= 0 {
				t.Fatalf("feature %q accepted incomplete: %+v", name, feat)
			}
		}
		again, err := parse("fuzz.yaml", data, false)
		if err != nil || again.SHA256 != sc.SHA256 || len(again.Features) != len(sc.Features) || again.Name != sc.Name {
			t.Fatalf("parsed again: %v", err)
		}
	})
}

func checkFuzzError(t *testing.T, e *Error) {
	t.Helper()
	if e == nil || e.File != "fuzz.yaml" || e.Line < 0 || strings.TrimSpace(e.Msg) == "" {
		t.Fatalf("error without a file or a message: %#v", e)
	}
	if !strings.HasPrefix(e.Error(), "fuzz.yaml") {
		t.Fatalf("error does not start with the file: %v", e)
	}
}

// TestAliasExpansionIsBounded: an 87 KB scenario whose aliases expand to
// millions of values is rejected at once, not decoded for a minute.
func TestAliasExpansionIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("description: &I [")
	for i := 0; i < 2000; i++ {
		b.WriteString("{field: a, reason: b},")
	}
	b.WriteString("]\nfeatures:\n")
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "  f%d: {ignore: *I}\n", i)
	}
	start := time.Now()
	_, err := parse("big.yaml", []byte(b.String()), false)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s", took)
	}
	if err == nil || !strings.Contains(err.Error(), "expands to more than") || !strings.Contains(err.Error(), "big.yaml:") {
		t.Fatalf("error: %.300v", err)
	}
}
