package capture

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	settled := true
	var want []Record
	add := func(r Record) {
		if err := w.Write(&r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
	}
	frame := func(src string, t int64, p string) Record {
		r := Record{K: KindWS, Src: src, T: t}
		r.SetPayload([]byte(p))
		return r
	}
	add(Record{K: KindStart, Meta: &Meta{RunID: "r1", Scenario: "s.yaml"}})
	add(frame("ws:0", 10, `{"type":"positions","seq":3,"data":{"qty":2}}`))
	add(frame("ws:1", 11, "{\"type\": \"positions\",\n \"seq\": 3}")) // pretty JSON is compacted
	add(frame("ws:0", 12, "not json at all"))
	add(frame("ws\"odd", 13, `{"a":1}`)) // a name needing escapes takes the slow path
	rest := Record{K: KindREST, Src: "rest:positions:0", Feature: "positions", Path: "/api/positions", T0: 5, T: 9, Status: 200}
	rest.SetPayload([]byte(`{"seq":3,"data":[]}`))
	add(rest)
	odd := Record{K: KindREST, Src: "rest:positions:1", Feature: "positions", Path: `/api/"odd"`, T0: 6, T: 10, Status: 200}
	odd.SetPayload([]byte(`{"seq":3,"data":[]}`)) // a path needing escapes takes the slow path
	add(odd)
	add(Record{K: KindREST, Src: "rest:positions:0", Feature: "positions", Path: "/api/positions", T0: 11, T: 12, Err: "timeout"})
	add(Record{K: KindConn, Src: "ws:2", T: 20, Err: "connect: refused"})
	add(Record{K: KindEnd, T: 30, Meta: &Meta{Ended: "complete", Settled: &settled}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want[2].Body = []byte(`{"type":"positions","seq":3}`)

	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c := *rec
		c.Body = append([]byte(nil), rec.Body...)
		if rec.Body == nil {
			c.Body = nil
		}
		got = append(got, c)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	if want[3].Text != "not json at all" || want[3].Body != nil {
		t.Errorf("non-JSON frame kept as %+v", want[3])
	}
}

func TestTruncatedCapture(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	w, _ := Create(path)
	for i := 0; i < 3; i++ {
		r := Record{K: KindWS, Src: "ws:0", T: int64(i)}
		r.SetPayload([]byte(`{"type":"x","data":{"a":{"b":1}}}`))
		_ = w.Write(&r)
	}
	_ = w.Close()
	b, _ := os.ReadFile(path)
	// Cut the last line after an inner '}' so it still ends like a record.
	cut := strings.LastIndex(string(b), "}}") + 1
	if err := os.WriteFile(path, b[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	r, _ := Open(path)
	defer r.Close()
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, ErrTruncated) {
			break
		}
		if err != nil {
			t.Fatalf("after %d records: %v", n, err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("read %d complete records before the cut, want 2", n)
	}
}

func BenchmarkReader(b *testing.B) {
	path := filepath.Join(b.TempDir(), FileName)
	w, _ := Create(path)
	const n = 100000
	for i := 0; i < n; i++ {
		r := Record{K: KindWS, Src: "ws:1", T: int64(i) * 1000}
		r.SetPayload([]byte(`{"type":"positions","seq":123456,"data":{"account_id":"ACC-1","symbol":"ES","qty":2,"avg_price":5123.25,"last":5124.5,"market_value":512450.00,"unrealized_pnl":125.00}}`))
		_ = w.Write(&r)
	}
	_ = w.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, _ := Open(path)
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
		r.Close()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
