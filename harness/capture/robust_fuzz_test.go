package capture

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzCaptureReader feeds arbitrary bytes to the capture reader, as a
// capture cut short, damaged or not a capture at all would be. It must
// never panic; every error names the file and the line; a truncated record
// ends the capture; and the reader's fast path for WS frames must read a
// line as the JSON decoder does whenever both accept it (or keep a body that
// is not JSON, which the diff reports, never a different valid one).
func FuzzCaptureReader(f *testing.F) {
	path := filepath.Join(f.TempDir(), FileName)
	w, err := Create(path)
	if err != nil {
		f.Fatal(err)
	}
	settled := true
	recs := []Record{
		{K: KindStart, Meta: &Meta{RunID: "r1", Scenario: "s.yaml", Started: "2026-03-02T14:30:00Z"}},
		{K: KindConn, Src: "ws:0", T0: 1, T: 2},
		{K: KindREST, Src: "rest:positions:0", Feature: "positions", Path: "/api/positions", T0: 5, T: 9, Status: 200},
		{K: KindWS, Src: "ws:0", T: 10},
		{K: KindWS, Src: "ws:1", T: 11},
		{K: KindWS, Src: "ws:1", T: 12, Binary: true, Size: 3, Text: "\x00\x01\x02", Err: "binary frame"},
		{K: KindReplay, T0: 12, T: 13, Seq: 500, N: 500},
		{K: KindConn, Src: "ws:2", T: 20, Err: "lost: EOF"},
		{K: KindEnd, T: 30, Meta: &Meta{Ended: "complete", Settled: &settled, SettledAt: 25}},
	}
	recs[2].SetPayload([]byte(`{"seq":3,"data":[{"account_id":"ACC-1","symbol":"ES","qty":2}]}`))
	recs[3].SetPayload([]byte(`{"type":"positions","seq":3,"data":{"account_id":"ACC-1","symbol":"ES","qty":2}}`))
	recs[4].SetPayload([]byte("<html>not json</html>"))
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			f.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	whole, err := readFile(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(whole)
	lines := bytes.SplitAfter(whole, []byte("\n"))
	for i, l := range lines {
		f.Add(l)
		f.Add(bytes.Join(lines[:i], nil))
		if len(l) > 4 {
			f.Add(append(bytes.Join(lines[:i], nil), l[:len(l)/2]...)) // cut mid-record
		}
	}
	for _, s := range []string{
		"", "\n", "\n\n\n", "{}", "{}\n", "[]\n", "null\n", `{"k":"ws"`,
		`{"k":"ws","t":1,"src":"a\\","size":1,"body":1}` + "\n",
		`{"k":"ws","t":1,"src":"a\\\\","size":1,"body":1}` + "\n",
		`{"k":"ws","t":007,"src":"ws:0","size":1,"body":1}` + "\n",
		`{"k":"ws","t":-1,"src":"ws:0","size":-1,"body": {"a":1} }` + "\n",
		`{"k":"ws","t":99999999999999999999,"src":"ws:0","size":1,"body":1}` + "\n",
		`{"k":"ws","t":1,"src":"ws:0","size":1,"body":}` + "\n",
		`{"k":"ws","t":1,"src":"ws:0","size":1,"body":{"a":1}}}` + "\n",
		`{"k":"rest","t":1,"body":"\ud800"}` + "\n",
		`{"k":"rest","t":1,"src":"rest:a:0","f":"a","path":"/x?s=ES","t0":0,"status":200,"size":2,"body":{}}` + "\n",
		`{"k":"rest","t":1,"src":"rest:a:0","f":"a\\","path":"/x","t0":0,"status":200,"size":2,"body":{}}` + "\n",
		`{"k":"rest","t":1,"src":"rest:a:0","f":"a","path":"/x","t0":0,"status":99999999999999999999,"size":2,"body":{}}` + "\n",
		`{"k":"rest","t":1,"src":"rest:a:0","f":"a","path":"/x","status":200,"t0":0,"size":2,"body":{}}` + "\n",
		`{"k":"end","meta":{"settled":"yes"}}` + "\n",
		strings.Repeat("x", 2<<20) + "\n", // longer than the reader's buffer
	} {
		f.Add([]byte(s))
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), "fuzz.jsonl")
		last := 0
		for n := 0; ; n++ {
			rec, err := r.Next()
			if r.Line() < last {
				t.Fatalf("line went back from %d to %d", last, r.Line())
			}
			last = r.Line()
			if err == io.EOF {
				if _, err := r.Next(); err != io.EOF {
					t.Fatalf("Next after EOF: %v", err)
				}
				break
			}
			if err != nil {
				if !strings.HasPrefix(err.Error(), "fuzz.jsonl:") {
					t.Fatalf("error does not name the file and line: %v", err)
				}
				if errors.Is(err, ErrTruncated) {
					if _, err := r.Next(); err != io.EOF {
						t.Fatalf("a truncated record is not the end: Next says %v", err)
					}
				}
				break
			}
			if rec == nil {
				t.Fatal("no record and no error")
			}
			if n > len(data) {
				t.Fatalf("%d records from %d bytes", n, len(data))
			}
		}

		// The fast path and the JSON decoder agree on every line both read.
		for _, line := range bytes.Split(data, []byte("\n")) {
			var fast, slow Record
			switch {
			case bytes.HasPrefix(line, []byte(wsPrefix)) && parseWS(line, &fast):
			case bytes.HasPrefix(line, []byte(restPrefix)) && parseREST(line, &fast):
			default:
				continue
			}
			if json.Unmarshal(line, &slow) != nil {
				continue
			}
			fast.Body = bytes.TrimSpace(fast.Body)
			slow.Body = bytes.TrimSpace(slow.Body)
			if !json.Valid(fast.Body) {
				// Fields after the body (never written so): the fast path
				// keeps them in the body, which is then not JSON, and the
				// diff reports the frame as a protocol error.
				continue
			}
			if d := cmp.Diff(slow, fast); d != "" {
				t.Fatalf("the fast path reads %q differently (-json +fast):\n%s", line, d)
			}
		}
	})
}

func readFile(path string) ([]byte, error) {
	r, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r.f)
}
