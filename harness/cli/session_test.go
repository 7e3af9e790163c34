package cli

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/thor-trading/cutover-harness/harness/session"
)

// runSession runs the harness in-process and returns its exit code and
// its standard output and error.
func runSession(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(&Env{Args: args, Stdin: stdin, Stdout: &stdout, Stderr: &stderr})
	return code, stdout.String(), stderr.String()
}

const shortFixture = "../../fixtures/sessions/rth-short.jsonl"

func TestSessionGen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		out    string // file written, "" for stdout
		events int
	}{
		{"plain file", []string{"--seed", "3", "--duration", "2m"}, "a.jsonl", 0},
		{"gzip file", []string{"--seed", "3", "--duration", "2m"}, "a.jsonl.gz", 0},
		{"stdout", []string{"--seed", "3", "--duration", "2m"}, "", 0},
	}
	var sessions []string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"session", "gen"}, tc.args...)
			if tc.out != "" {
				args = append(args, "--out", filepath.Join(dir, tc.out))
			}
			code, stdout, stderr := runSession(t, nil, args...)
			if code != ExitPass {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !regexp.MustCompile(`\d+ events, \d+ bytes.*sha256 [0-9a-f]{64}`).MatchString(stderr) {
				t.Errorf("stderr = %q, want a summary with events, bytes and sha256", stderr)
			}
			var data []byte
			if tc.out == "" {
				data = []byte(stdout)
			} else {
				if stdout != "" {
					t.Errorf("stdout = %q, want nothing", stdout)
				}
				raw, err := os.ReadFile(filepath.Join(dir, tc.out))
				if err != nil {
					t.Fatal(err)
				}
				if gz := bytes.HasPrefix(raw, []byte{0x1f, 0x8b}); gz != strings.HasSuffix(tc.out, ".gz") {
					t.Fatalf("gzip = %v for %s", gz, tc.out)
				}
				if strings.HasSuffix(tc.out, ".gz") {
					zr, err := gzip.NewReader(bytes.NewReader(raw))
					if err != nil {
						t.Fatal(err)
					}
					if raw, err = io.ReadAll(zr); err != nil {
						t.Fatal(err)
					}
				}
				data = raw
			}
			if problems := session.Validate(bytes.NewReader(data), tc.name); len(problems) > 0 {
				t.Errorf("invalid session: %v", problems[0])
			}
			sessions = append(sessions, string(data))
		})
	}
	for i := 1; i < len(sessions); i++ {
		if sessions[i] != sessions[0] {
			t.Errorf("%s and %s differ: the same flags must give the same session", tests[0].name, tests[i].name)
		}
	}
}

// gen makes exactly what Generate makes: the fixture's command gives the
// fixture.
func TestSessionGenMakesTheFixture(t *testing.T) {
	out := filepath.Join(t.TempDir(), "rth-short.jsonl")
	code, _, stderr := runSession(t, nil, "session", "gen", "--seed", "20260302", "--start", "2026-03-02T14:30:00Z",
		"--duration", "30m", "--name", "rth-short-2026-03-02", "--accounts", "3", "--rate", "0.4", "--out", out)
	if code != ExitPass {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(out)
	want, err := os.ReadFile(shortFixture)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("the README's command does not make rth-short.jsonl")
	}
}

func TestSessionGenBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad start", []string{"--start", "monday"}, `--start "monday": want an RFC 3339 time`},
		{"bad duration", []string{"--duration", "forever"}, `--duration "forever": want a positive duration`},
		{"negative duration", []string{"--duration", "-5m"}, `--duration "-5m"`},
		{"no accounts", []string{"--accounts", "0"}, `--accounts 0: want 1 or more`},
		{"zero rate", []string{"--rate", "0"}, `--rate 0: want a scale above 0`},
		{"start between milliseconds", []string{"--start", "2026-03-02T14:30:00.0001Z"}, "not a whole millisecond"},
		{"stray argument", []string{"out.jsonl"}, "takes no arguments"},
		{"unknown flag", []string{"--sead", "1"}, "unknown flag: --sead"},
		{"unwritable out", []string{"--out", "/nonexistent/dir/x.jsonl"}, "/nonexistent/dir"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runSession(t, nil, append([]string{"session", "gen"}, tc.args...)...)
			if code != ExitBadInput {
				t.Errorf("exit %d, want %d", code, ExitBadInput)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tc.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

func TestSessionInspect(t *testing.T) {
	code, stdout, stderr := runSession(t, nil, "session", "inspect", shortFixture)
	if code != ExitPass {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		`(?m)^name\s+rth-short-2026-03-02$`,
		`(?m)^seed\s+20260302$`,
		`(?m)^events\s+5637$`,
		`(?m)^seq\s+1\.\.5637$`,
		`(?m)^time\s+2026-03-02T14:30:00\.000Z \.\. 2026-03-02T15:00:00\.000Z \(30m0s\)$`,
		`(?m)^rate\s+3\.13 events/s on average, peak 42 in the second from 2026-03-02T14:30:00Z$`,
		`(?m)^types\s+account 67, market_status 26, position 67, tick 5477$`,
		`(?m)^symbols \(4\)$`, `(?m)^accounts \(3\)$`, `(?m)^markets \(24\)$`,
		`(?m)^  ES\s+2135\s+\d+\s+[\d.]+`,
		`(?m)^  ACC-2\s+\d+\s+\d+\s+\d+\s+[\d.]+\s+[\d.]+$`,
		`(?m)^  Seoul\s+2\s+CLOSED$`,
		`(?m)^  NewYork\s+1\s+OPEN$`,
	} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("output does not match %s:\n%s", want, stdout)
		}
	}
}

func TestSessionInspectJSON(t *testing.T) {
	code, stdout, stderr := runSession(t, nil, "session", "inspect", "--json", shortFixture)
	if code != ExitPass {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var st session.Stats
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatalf("%v:\n%s", err, stdout)
	}
	if st.Events != 5637 || st.LastSeq != 5637 || len(st.Symbols) != 4 || len(st.Markets) != 24 || st.Types["tick"] == 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSessionInspectFromStdin(t *testing.T) {
	f, err := os.Open(shortFixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code, stdout, stderr := runSession(t, f, "session", "inspect", "-")
	if code != ExitPass || !regexp.MustCompile(`(?m)^file\s+-$`).MatchString(stdout) {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestSessionInspectBadInput(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.jsonl")
	src, _ := os.ReadFile(shortFixture)
	lines := strings.SplitAfter(string(src), "\n")
	lines[41] = "{not json\n"
	os.WriteFile(broken, []byte(strings.Join(lines, "")), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{filepath.Join(dir, "nope.jsonl")}, "no such file"},
		{"broken line", []string{broken}, broken + ":42: bad JSON"},
		{"no file", nil, "want a session FILE"},
		{"two files", []string{broken, broken}, "want 1 FILE argument, got 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runSession(t, nil, append([]string{"session", "inspect"}, tc.args...)...)
			if code != ExitBadInput {
				t.Errorf("exit %d, want %d", code, ExitBadInput)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tc.want)
			}
		})
	}
}

func TestSessionValidate(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(shortFixture)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(src), "\n")
	// Three problems: a missing price (line 100, a tick), an unknown type
	// (line 200) and bad JSON (line 300).
	plant := func(n int, old, new string) {
		t.Helper()
		if !strings.Contains(lines[n-1], old) {
			t.Fatalf("line %d has no %q: %s", n, old, lines[n-1])
		}
		lines[n-1] = strings.Replace(lines[n-1], old, new, 1)
	}
	plant(100, `"price":`, `"prize":`)
	plant(200, `"type":"`, `"type":"x`)
	plant(300, `{"seq"`, `{seq`)
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("valid", func(t *testing.T) {
		code, stdout, stderr := runSession(t, nil, "session", "validate", shortFixture)
		if code != ExitPass {
			t.Fatalf("exit %d: %s %s", code, stdout, stderr)
		}
		if want := shortFixture + ": ok, 5637 events checked\n"; stdout != want {
			t.Errorf("stdout = %q, want %q", stdout, want)
		}
	})
	t.Run("problems", func(t *testing.T) {
		code, stdout, stderr := runSession(t, nil, "session", "validate", bad)
		if code != ExitBadInput {
			t.Errorf("exit %d, want %d", code, ExitBadInput)
		}
		got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		want := []string{
			bad + `:100: field "data.price": missing`,
			bad + `:200: field "type": unknown event type "x`,
			bad + `:300: bad JSON at byte 2: invalid character 's' looking for beginning of object key string`,
		}
		if len(got) != len(want) {
			t.Fatalf("%d lines, want %d:\n%s", len(got), len(want), stdout)
		}
		for i := range want {
			if !strings.HasPrefix(got[i], want[i]) {
				t.Errorf("line %d = %s\nwant prefix %s", i+1, got[i], want[i])
			}
		}
		if !strings.Contains(stderr, bad+": 3 problems") {
			t.Errorf("stderr = %q, want the count of problems", stderr)
		}
	})
	t.Run("several files", func(t *testing.T) {
		code, stdout, _ := runSession(t, nil, "session", "validate", shortFixture, bad)
		if code != ExitBadInput || !strings.Contains(stdout, "ok, 5637 events") || !strings.Contains(stdout, bad+":300:") {
			t.Errorf("exit %d:\n%s", code, stdout)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		code, _, stderr := runSession(t, nil, "session", "validate", filepath.Join(dir, "nope"))
		if code != ExitBadInput || !strings.Contains(stderr, "no such file") {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
	t.Run("gzip from stdin", func(t *testing.T) {
		var zipped bytes.Buffer
		zw := gzip.NewWriter(&zipped)
		zw.Write([]byte(strings.Join(lines, "")))
		zw.Close()
		code, stdout, _ := runSession(t, &zipped, "session", "validate", "-")
		if code != ExitBadInput || !strings.HasPrefix(stdout, `-:100: field "data.price": missing`) {
			t.Errorf("exit %d:\n%s", code, stdout)
		}
	})
}
