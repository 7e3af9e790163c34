package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeScenario writes src as a scenario next to an empty session file.
func writeScenario(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "s.jsonl"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "sc.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const minimal = `profile: thor
session: s.jsonl
features:
  positions: {}
`

func TestLoadDefaults(t *testing.T) {
	sc, err := Load(writeScenario(t, minimal))
	if err != nil {
		t.Fatal(err)
	}
	f := sc.Features["positions"]
	if sc.Name != "sc" || sc.Stack.Kind != StackEmbedded || sc.Driver.Kind != DriverHTTP || sc.Subscribers != 3 || sc.Speed != Max {
		t.Errorf("scenario defaults: %+v", sc)
	}
	if f.Kind != KindState || f.WS.Type != "positions" || strings.Join(f.Key, ",") != "account_id,symbol" ||
		f.REST.Paths[0] != "/api/positions" || *f.REST.Seq != "seq" || f.REST.Poll.D() != time.Second {
		t.Errorf("feature defaults: %+v", f)
	}
	if sc.Line("features.positions") != 4 {
		t.Errorf("line of features.positions = %d, want 4", sc.Line("features.positions"))
	}
}

func TestShippedScenarios(t *testing.T) {
	files, _ := filepath.Glob("../../scenarios/*.yaml")
	if len(files) == 0 {
		t.Fatal("no scenarios shipped")
	}
	for _, f := range files {
		if filepath.Base(f) == "phases.yaml" {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f); err != nil && !strings.Contains(err.Error(), "cannot read") {
				t.Fatal(err)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // substrings of the error, in order
	}{
		{"misspelled field", "profile: thor\nsession: s.jsonl\nspeeed: max\nfeatures: {positions: {}}\n",
			[]string{"sc.yaml:3:", `field "speeed"`, `did you mean "speed"`}},
		{"misspelled nested", "profile: thor\nsession: s.jsonl\nfeatures:\n  positions:\n    rest: {pol: 1s}\n",
			[]string{"sc.yaml:5:", `"features.positions.rest.pol"`, `did you mean "poll"`}},
		{"bad duration", "profile: thor\nsession: s.jsonl\nfeatures:\n  positions:\n    rest: {poll: 250}\n",
			[]string{"sc.yaml:5:", `"features.positions.rest.poll"`, "no unit", "250ms"}},
		{"bad speed", minimal + "speed: fast\n", []string{"sc.yaml:5:", `"speed"`, "max, 1x"}},
		{"wrong type", minimal + "subscribers: many\n", []string{"sc.yaml:5:", `"subscribers"`, "whole number"}},
		{"missing session file", "profile: thor\nsession: nope.jsonl\nfeatures: {positions: {}}\n", []string{"sc.yaml:2:", `"session"`, "nope.jsonl"}},
		{"duplicate feature", "profile: thor\nsession: s.jsonl\nfeatures:\n  positions: {}\n  positions: {}\n", []string{"sc.yaml:5:", "appears twice"}},
		{"unknown kind", minimal + "stack: {kind: docker}\n", []string{"sc.yaml:5:", `"stack.kind"`, "embedded, url"}},
		{"url without addresses", minimal + "stack: {kind: url}\n", []string{`"stack.rest"`, "REST base URL"}},
		{"ignore without reason", "profile: thor\nsession: s.jsonl\nfeatures:\n  positions:\n    ignore: [{field: last}]\n",
			[]string{"sc.yaml:5:", "reason", "say why"}},
		{"negative threshold", minimal + "thresholds: {max_findings: -1}\n", []string{"sc.yaml:5:", "max_findings", "negative"}},
		{"unknown feature without profile", "session: s.jsonl\nfeatures:\n  pos: {}\n", []string{`"features.pos.rest.paths"`, "missing", `"features.pos.ws.type"`}},
		{"not yaml", "session: [\n", []string{"sc.yaml:"}},
		{"empty", "", []string{"empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeScenario(t, tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			at := 0
			for _, w := range tc.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error %q lacks %q (after offset %d)", msg, w, at)
				}
				at += i
			}
		})
	}
}
