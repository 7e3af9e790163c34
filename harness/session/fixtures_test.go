package session

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the fixtures under fixtures/sessions from the generator")

const fixtureDir = "../../fixtures/sessions"

// fixtures are the committed sessions and the options that make them; the
// README of fixtures/sessions gives the same as harness commands.
var fixtures = []struct {
	file string
	opts Options
}{
	{"rth-short.jsonl", Options{
		Seed: 20260302, Start: time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC), Duration: 30 * time.Minute,
		Name: "rth-short-2026-03-02", Accounts: 3, Rate: 0.4,
	}},
	{"rth-full.jsonl.gz", Options{
		Seed: 20260302, Start: time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC), Duration: 6*time.Hour + 30*time.Minute,
		Name: "rth-2026-03-02", Accounts: 3, Rate: 1,
	}},
}

// TestFixturesMatchGenerator regenerates every fixture from its options and
// compares: byte for byte for plain files, the sha256 of the JSON Lines for
// gzip files (compressed bytes may differ between Go versions), against
// both the committed file and its committed .sha256. With -update it
// rewrites them instead.
func TestFixturesMatchGenerator(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			path := filepath.Join(fixtureDir, fx.file)
			gz := strings.HasSuffix(fx.file, ".gz")
			if *update {
				writeFixture(t, path, gz, fx.opts)
			}
			if !gz {
				var got bytes.Buffer
				if err := Generate(&got, fx.opts); err != nil {
					t.Fatal(err)
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (go test ./harness/session -run TestFixturesMatchGenerator -update writes it)", err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Fatalf("%s drifted from the generator: %s\nregenerate it (-update) if the change is intended", path, firstDifference(want, got.Bytes()))
				}
				return
			}
			gen := sha256.New()
			if err := Generate(gen, fx.opts); err != nil {
				t.Fatal(err)
			}
			want := hex.EncodeToString(gen.Sum(nil))
			f, err := os.Open(path)
			if err != nil {
				t.Fatalf("%v (go test ./harness/session -run TestFixturesMatchGenerator -update writes it)", err)
			}
			defer f.Close()
			zr, err := gzip.NewReader(f)
			if err != nil {
				t.Fatal(err)
			}
			file := sha256.New()
			if _, err := io.Copy(file, zr); err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(file.Sum(nil)); got != want {
				t.Errorf("%s drifted from the generator: its JSON Lines have sha256 %s, the generator makes %s; regenerate it (-update) if the change is intended", path, got, want)
			}
			sumFile := strings.TrimSuffix(path, ".gz") + ".sha256"
			b, err := os.ReadFile(sumFile)
			if err != nil {
				t.Fatal(err)
			}
			if got, _, _ := strings.Cut(string(b), " "); got != want {
				t.Errorf("%s says %s, the generator makes %s", sumFile, got, want)
			}
		})
	}
}

func writeFixture(t *testing.T, path string, gz bool, opts Options) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if gz {
		zw, _ = gzip.NewWriterLevel(f, gzip.BestCompression) // as harness session gen does
		w = zw
	}
	sum := sha256.New()
	if err := Generate(io.MultiWriter(w, sum), opts); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if gz {
		line := hex.EncodeToString(sum.Sum(nil)) + "  " + strings.TrimSuffix(filepath.Base(path), ".gz") + "\n"
		if err := os.WriteFile(strings.TrimSuffix(path, ".gz")+".sha256", []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// firstDifference names the first line where two sessions differ.
func firstDifference(want, got []byte) string {
	ws := bufio.NewScanner(bytes.NewReader(want))
	gs := bufio.NewScanner(bytes.NewReader(got))
	ws.Buffer(nil, MaxLineBytes)
	gs.Buffer(nil, MaxLineBytes)
	for n := 1; ; n++ {
		wok, gok := ws.Scan(), gs.Scan()
		switch {
		case !wok && !gok:
			return "same lines, different bytes"
		case !wok:
			return "the generator makes more lines, from line " + strconv.Itoa(n) + ": " + gs.Text()
		case !gok:
			return "the generator makes fewer lines, from line " + strconv.Itoa(n)
		case ws.Text() != gs.Text():
			return "line " + strconv.Itoa(n) + ":\n  file:      " + ws.Text() + "\n  generator: " + gs.Text()
		}
	}
}

// TestFixturesValid checks the committed fixtures with Validate and that
// they are what the README promises: sizes and event counts in range.
func TestFixturesValid(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join(fixtureDir, fx.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, problems := ValidateStats(f, fx.file)
			for _, p := range problems {
				t.Error(p)
			}
			fi, _ := f.Stat()
			t.Logf("%s: %d bytes, %d events, %.2f events/s, peak %d/s", fx.file, fi.Size(), st.Events, st.EventsPerSecond, st.PeakPerSecond)
			if strings.HasSuffix(fx.file, ".gz") {
				if fi.Size() < 500<<10 || fi.Size() > 3<<20 {
					t.Errorf("%s is %d bytes, want about 1–3 MB", fx.file, fi.Size())
				}
			} else if st.Events < 2000 || st.Events > 10000 {
				t.Errorf("%s has %d events, want a few thousand (at most 10k)", fx.file, st.Events)
			}
		})
	}
}
