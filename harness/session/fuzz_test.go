package session

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// FuzzReader feeds arbitrary bytes to the decoder. It must never panic; a
// session Validate finds no problem in must read without errors; and an
// event that decodes must survive being written in the canonical form and
// read again.
func FuzzReader(f *testing.F) {
	fx, err := os.Open(filepath.Join(fixtureDir, "rth-short.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(fx)
	sc.Buffer(nil, MaxLineBytes)
	var header []byte
	for n := 0; n < 40 && sc.Scan(); n++ {
		line := append([]byte(nil), sc.Bytes()...)
		if n == 0 {
			header = line
			f.Add(line)
			continue
		}
		f.Add(append(append(append([]byte(nil), header...), '\n'), line...))
	}
	fx.Close()
	f.Add([]byte(testHeader + "\n" + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"E\u0053","price":-0,"size":1e0}}`))
	f.Add([]byte(testHeader + "\n" + `{"se\u0071":1,"t":"2026-03-02T14:30:00+01:00","type":"tick","data":{"symbol":"\xff","price":1E3,"size":1,"x":[{"]":"}"}]}}`))
	f.Add([]byte("\x1f\x8b"))
	f.Add([]byte(""))

	f.Fuzz(func(t *testing.T, data []byte) {
		valid := len(Validate(bytes.NewReader(data), "fuzz")) == 0
		r, err := NewReader(bytes.NewReader(data), "fuzz")
		if err != nil {
			if valid {
				t.Fatalf("Validate finds no problem, NewReader says %v", err)
			}
			return
		}
		defer r.Close()
		for range 1000 {
			e, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if valid {
					t.Fatalf("Validate finds no problem, Next says %v", err)
				}
				if _, ok := err.(*LineError); !ok {
					return // a read error ends the stream
				}
				continue
			}
			line, err := appendEvent(nil, &e)
			if err != nil {
				t.Fatalf("decoded %s but cannot write it: %v", e.Raw, err)
			}
			var back Event
			if err := back.UnmarshalJSON(line); err != nil {
				t.Fatalf("wrote %s (from %s), cannot read it back: %v", line, e.Raw, err)
			}
			if diff := cmp.Diff(e, back, ignoreRaw); diff != "" {
				t.Fatalf("%s → %s changed it (-read +reread):\n%s", e.Raw, line, diff)
			}
		}
	})
}

// FuzzParseUTC checks the fast time parser against time.Parse: where it
// answers, it answers what time.Parse does.
func FuzzParseUTC(f *testing.F) {
	for _, s := range []string{"2026-03-02T14:30:00.250Z", "2026-03-02T14:30:00Z", "2024-02-29T23:59:59.999999999Z",
		"2026-02-29T00:00:00Z", "2026-03-02T24:00:00Z", "2026-03-02T14:30:00.Z", "2026-03-02T14:30:00+01:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := parseUTC([]byte(`"` + s + `"`))
		if !ok {
			return
		}
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("parseUTC(%q) = %v, time.Parse fails: %v", s, got, err)
		}
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("parseUTC(%q) = %v, time.Parse %v", s, got, want)
		}
	})
}
