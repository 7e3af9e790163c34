package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/load"
)

// fastLoad copies scenarios/load.yaml with a small, short load (and extra
// lines appended to its load section).
func fastLoad(t *testing.T, file, extra string) string {
	t.Helper()
	src, err := os.ReadFile("../../scenarios/" + file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, r := range [][2]string{
		{"subscribers: 200 ", "subscribers: 20 "}, {"subscribers: 100\n", "subscribers: 20\n"},
		{"duration: 10s", "duration: 1s"}, {"duration: 5s", "duration: 1s"}, {"warmup: 1s", "warmup: 200ms"},
		{"rate: 50 ", "rate: 20 "},
	} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	abs, _ := filepath.Abs("../../fixtures/sessions/rth-short.jsonl")
	s = strings.ReplaceAll(s, "../fixtures/sessions/rth-short.jsonl", abs)
	p := filepath.Join(t.TempDir(), file)
	if err := os.WriteFile(p, []byte(s+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadCommand(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		args       []string
		code       int
		out        []string
	}{
		{"clean stack passes", "load.yaml", nil, ExitPass, []string{"load load: PASS", "REST baseline: 20 dashboards", "result.md"}},
		{"dropping stack fails", "load-drop.yaml", nil, ExitFail, []string{"load-drop: FAIL", "loss FAIL"}},
		{"overrides", "load.yaml", []string{"--subscribers", "5", "--rate", "10", "--duration", "500ms", "--no-baseline"}, ExitPass,
			[]string{"step 1: 5 subscribers"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, out, errs := runCLI(t, append([]string{"load", fastLoad(t, tc.file, ""), "--out", dir}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, out, errs)
			}
			for _, w := range tc.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, f := range []string{load.ResultJSON, load.ResultMarkdown} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Error(err)
				}
			}
			if !strings.Contains(errs, "load: step 1:") {
				t.Errorf("no progress on stderr:\n%s", errs)
			}
		})
	}
}

func TestLoadCommandBadInput(t *testing.T) {
	noLoad := filepath.Join(t.TempDir(), "x.yaml")
	_ = os.WriteFile(noLoad, []byte("profile: thor\ndriver: {kind: none, duration: 1s}\nfeatures: {positions: {}}\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no scenario", []string{"load"}, "needs a scenario file"},
		{"missing file", []string{"load", "nope.yaml"}, "cannot read"},
		{"no load section", []string{"load", noLoad}, "no load section"},
		{"bad shard", []string{"load", "SCENARIO", "--shard", "3/2"}, "--shard"},
		{"bad override", []string{"load", "SCENARIO", "--subscribers", "0"}, "--subscribers"},
		{"bad duration", []string{"load", "SCENARIO", "--duration", "forever"}, "--duration"},
		{"merge without files", []string{"load", "merge", "--out", "x.json"}, "result.json files"},
		{"merge without out", []string{"load", "merge", "a.json"}, "--out"},
		{"merge unreadable", []string{"load", "merge", noLoad, "--out", filepath.Join(t.TempDir(), "m.json")}, "not a load result"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, a := range tc.args {
				if a == "SCENARIO" {
					tc.args[i] = fastLoad(t, "load.yaml", "")
				}
			}
			code, out, errs := runCLI(t, tc.args...)
			if code != ExitBadInput || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q (want 2 and %q); stdout %q", code, errs, tc.want, out)
			}
		})
	}
}

// TestLoadShardsAndMerge runs a test as two shards and merges their results.
func TestLoadShardsAndMerge(t *testing.T) {
	sc := fastLoad(t, "load.yaml", "")
	dir := t.TempDir()
	var files []string
	for _, sh := range []string{"1/2", "2/2"} {
		out := filepath.Join(dir, strings.ReplaceAll(sh, "/", "of"))
		code, stdout, errs := runCLI(t, "load", sc, "--shard", sh, "--out", out)
		if code != ExitPass {
			t.Fatalf("shard %s: exit %d\n%s\n%s", sh, code, stdout, errs)
		}
		files = append(files, filepath.Join(out, load.ResultJSON))
	}
	merged := filepath.Join(dir, "merged.json")
	code, out, errs := runCLI(t, append([]string{"load", "merge"}, append(files, "--out", merged)...)...)
	if code != ExitPass || !strings.Contains(out, "PASS") {
		t.Fatalf("merge: exit %d\n%s\n%s", code, out, errs)
	}
	r, err := load.ReadResult(merged)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Shards) != 2 || r.Steps[0].Connect.Connected != 20 {
		t.Errorf("merged %v shards, %d subscribers", r.Shards, r.Steps[0].Connect.Connected)
	}
	if _, err := os.Stat(filepath.Join(dir, "merged.md")); err != nil {
		t.Error(err)
	}
	// The same shard twice is refused.
	if code, _, errs := runCLI(t, "load", "merge", files[0], files[0], "--out", merged); code != ExitBadInput || !strings.Contains(errs, "twice") {
		t.Errorf("merging a shard with itself: exit %d %s", code, errs)
	}
}

// TestLoadCommandInterrupted: Ctrl-C stops the test promptly, writes the
// incomplete result and exits INCONCLUSIVE.
func TestLoadCommandInterrupted(t *testing.T) {
	sc := fastLoad(t, "load.yaml", "")
	src, _ := os.ReadFile(sc)
	_ = os.WriteFile(sc, bytes.Replace(src, []byte("duration: 1s"), []byte("duration: 1m"), 1), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1500*time.Millisecond, cancel)
	dir := t.TempDir()
	var out, errb bytes.Buffer
	start := time.Now()
	code := Main(&Env{Args: []string{"load", sc, "--out", dir, "--no-baseline"}, Stdout: &out, Stderr: &errb, Context: ctx})
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("took %s to stop", took)
	}
	if code != ExitInconclusive || !strings.Contains(out.String(), "incomplete") {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	r, err := load.ReadResult(filepath.Join(dir, load.ResultJSON))
	if err != nil || r.Complete || r.Verdict != load.Inconclusive {
		t.Fatalf("result: %v complete %v verdict %s", err, r != nil && r.Complete, r.Verdict)
	}
}
