package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const testHeader = `{"format":"thor-session/v1","name":"t","start":"2026-03-02T14:30:00Z","instruments":{"ES":{"multiplier":50,"tick_size":0.25},"CL":{"multiplier":1000,"tick_size":0.01}},"accounts":["ACC-1"],"markets":["NewYork"]}`

func at(ms int64) time.Time { return time.UnixMilli(1772461800000 + ms).UTC() } // 2026-03-02T14:30:00Z + ms

// sampleEvents has one event of each type, and money and prices that
// test the number formats.
func sampleEvents() []Event {
	return []Event{
		{Seq: 1, T: at(12), Type: TypeMarketStatus, MarketStatus: &MarketStatus{Market: "NewYork", Status: "OPEN"}},
		{Seq: 2, T: at(250), Type: TypeTick, Tick: &Tick{Symbol: "ES", Price: 5123.25, Size: 3}},
		{Seq: 3, T: at(1000), Type: TypeAccount, Account: &Account{AccountID: "ACC-1", Cash: 100000.07, BuyingPower: 400000.28}},
		{Seq: 4, T: at(1500), Type: TypePosition, Position: &Position{AccountID: "ACC-1", Symbol: "ES", Qty: -2, AvgPrice: 5123.0625}},
		{Seq: 5, T: at(1500), Type: TypeTick, Tick: &Tick{Symbol: "CL", Price: 66.57, Size: 1}},
		{Seq: 6, T: at(1501), Type: TypePosition, Position: &Position{AccountID: "ACC-1", Symbol: "CL", Qty: 0, AvgPrice: 0}},
	}
}

func sampleHeader() Header {
	return Header{
		Format: Format, Name: "t", Start: at(0), Seed: 42,
		Instruments: map[string]Instrument{"ES": {50, 0.25}, "CL": {1000, 0.01}},
		Accounts:    []string{"ACC-1"}, Markets: []string{"NewYork"},
	}
}

func writeSession(t *testing.T, w *Writer, h Header, events []Event) {
	t.Helper()
	if err := w.WriteHeader(h); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, r *Reader) []Event {
	t.Helper()
	var out []Event
	for {
		e, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
}

var ignoreRaw = cmpopts.IgnoreFields(Event{}, "Raw")

func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"s.jsonl", "s.jsonl.gz"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			w, err := Create(path)
			if err != nil {
				t.Fatal(err)
			}
			want := sampleEvents()
			writeSession(t, w, sampleHeader(), want)

			raw, _ := os.ReadFile(path)
			if gz := len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b; gz != strings.HasSuffix(name, ".gz") {
				t.Fatalf("gzip-compressed = %v for %s", gz, name)
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			h := r.Header()
			if diff := cmp.Diff(sampleHeader(), h, cmpopts.IgnoreFields(Header{}, "Raw")); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			got := readAll(t, r)
			if diff := cmp.Diff(want, got, ignoreRaw); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCanonicalLines(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	writeSession(t, w, sampleHeader(), sampleEvents())
	want := `{"format":"thor-session/v1","name":"t","start":"2026-03-02T14:30:00Z","seed":42,"instruments":{"CL":{"multiplier":1000,"tick_size":0.01},"ES":{"multiplier":50,"tick_size":0.25}},"accounts":["ACC-1"],"markets":["NewYork"]}
{"seq":1,"t":"2026-03-02T14:30:00.012Z","type":"market_status","data":{"market":"NewYork","status":"OPEN"}}
{"seq":2,"t":"2026-03-02T14:30:00.250Z","type":"tick","data":{"symbol":"ES","price":5123.25,"size":3}}
{"seq":3,"t":"2026-03-02T14:30:01.000Z","type":"account","data":{"account_id":"ACC-1","cash":100000.07,"buying_power":400000.28}}
{"seq":4,"t":"2026-03-02T14:30:01.500Z","type":"position","data":{"account_id":"ACC-1","symbol":"ES","qty":-2,"avg_price":5123.0625}}
{"seq":5,"t":"2026-03-02T14:30:01.500Z","type":"tick","data":{"symbol":"CL","price":66.57,"size":1}}
{"seq":6,"t":"2026-03-02T14:30:01.501Z","type":"position","data":{"account_id":"ACC-1","symbol":"CL","qty":0,"avg_price":0}}
`
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Event.MarshalJSON writes the same canonical line.
	b, err := json.Marshal(sampleEvents()[1])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), strings.Split(want, "\n")[2]; got != want {
		t.Errorf("MarshalJSON = %s, want %s", got, want)
	}
}

func TestWriterFormats(t *testing.T) {
	tests := []struct {
		name string
		e    Event
		want string // a fragment of the line, or of the error
		err  bool
	}{
		{"sub-millisecond time keeps nanoseconds", Event{Seq: 1, T: at(0).Add(1500), Type: TypeMarketStatus, MarketStatus: &MarketStatus{"X", "OPEN"}}, `"t":"2026-03-02T14:30:00.000001500Z"`, false},
		{"time in another zone is written in UTC", Event{Seq: 1, T: at(0).In(time.FixedZone("EST", -5*3600)), Type: TypeMarketStatus, MarketStatus: &MarketStatus{"X", "OPEN"}}, `"t":"2026-03-02T14:30:00.000Z"`, false},
		{"tiny float as encoding/json", Event{Seq: 1, T: at(0), Type: TypeTick, Tick: &Tick{"ES", 1e-7, 1}}, `"price":1e-7`, false},
		{"large float as encoding/json", Event{Seq: 1, T: at(0), Type: TypeTick, Tick: &Tick{"ES", 1e21, 1}}, `"price":1e+21`, false},
		{"escaped strings", Event{Seq: 1, T: at(0), Type: TypeTick, Tick: &Tick{"E\"S<", 1, 1}}, `"symbol":"E\"S\u003c"`, false},
		{"NaN is refused", Event{Seq: 7, T: at(0), Type: TypeTick, Tick: &Tick{"ES", nanf(), 1}}, `event seq 7: field "data.price"`, true},
		{"type without data is refused", Event{Seq: 8, T: at(0), Type: TypeTick}, `event seq 8: type "tick" without its data`, true},
		{"unknown type is refused", Event{Seq: 9, T: at(0), Type: "trade"}, `unknown type "trade"`, true},
		{"year 10000 is refused", Event{Seq: 1, T: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Type: TypeMarketStatus, MarketStatus: &MarketStatus{"X", "OPEN"}}, `year 10000`, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf)
			if err := w.WriteHeader(Header{}); err != nil {
				t.Fatal(err)
			}
			err := w.Write(tc.e)
			w.Close()
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want one containing %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), tc.want) {
				t.Errorf("%s does not contain %s", buf.String(), tc.want)
			}
			// And it reads back to the same event.
			r, err := NewReader(&buf, "w")
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !got.T.Equal(tc.e.T) || got.Tick != nil && *got.Tick != *tc.e.Tick {
				t.Errorf("read back %+v, wrote %+v", got, tc.e)
			}
		})
	}
}

func nanf() float64 { var z float64; return z / z }

func TestWriterMisuse(t *testing.T) {
	w := NewWriter(io.Discard)
	if err := w.Write(sampleEvents()[0]); err == nil {
		t.Error("Write before WriteHeader: no error")
	}
	if err := w.WriteHeader(Header{Format: "thor-session/v2"}); err == nil || !strings.Contains(err.Error(), "unsupported format") {
		t.Errorf("WriteHeader(v2) = %v, want unsupported format", err)
	}
	if err := w.WriteHeader(Header{}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteHeader(Header{}); err == nil {
		t.Error("WriteHeader twice: no error")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(sampleEvents()[0]); err == nil {
		t.Error("Write after Close: no error")
	}
}

// Unknown fields are kept: a session read and written back is the same
// bytes, through Next and Write as through NextRaw and WriteLine.
func TestUnknownFieldsKeptVerbatim(t *testing.T) {
	in := `{"format":"thor-session/v1","x-recorder":"staging-2","instruments":{"ES":{"multiplier":50,"tick_size":0.25,"exchange":"CME"}}}
{"seq":1,"t":"2026-03-02T14:30:00.012Z","type":"tick","venue":"GLBX","data":{"symbol":"ES","price":5123.25,"size":3,"aggressor":"buy"}}
{"data":{"price":5123.5,"size":1,"symbol":"ES"},"type":"tick","t":"2026-03-02T14:30:00.013+00:00","seq":2}
`
	for _, raw := range []bool{false, true} {
		r, err := NewReader(strings.NewReader(in), "in")
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		w := NewWriter(&out)
		if err := w.WriteHeader(r.Header()); err != nil {
			t.Fatal(err)
		}
		for {
			var err error
			if raw {
				var line []byte
				if line, _, err = r.NextRaw(); err == nil {
					err = w.WriteLine(line)
				}
			} else {
				var e Event
				if e, err = r.Next(); err == nil {
					err = w.Write(e)
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		w.Close()
		if out.String() != in {
			t.Errorf("raw=%v: wrote\n%s\nwant\n%s", raw, out.String(), in)
		}
	}
}

func TestGzipRecognisedByContent(t *testing.T) {
	var plain bytes.Buffer
	writeSession(t, NewWriter(&plain), sampleHeader(), sampleEvents())
	var zipped bytes.Buffer
	writeSession(t, NewGzipWriter(&zipped), sampleHeader(), sampleEvents())

	dir := t.TempDir()
	tests := []struct {
		name, file string
		data       []byte
	}{
		{"gzip without .gz", "s.jsonl", zipped.Bytes()},
		{"plain with .gz", "s.jsonl.gz", plain.Bytes()},
		{"gzip with .gz", "t.jsonl.gz", zipped.Bytes()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if diff := cmp.Diff(sampleEvents(), readAll(t, r), ignoreRaw); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTruncatedGzip(t *testing.T) {
	var zipped bytes.Buffer
	writeSession(t, NewGzipWriter(&zipped), sampleHeader(), sampleEvents())
	cut := zipped.Bytes()[:zipped.Len()-6] // the checksum and size are gone
	r, err := NewReader(bytes.NewReader(cut), "cut.jsonl.gz")
	if err != nil {
		t.Fatal(err)
	}
	var last error
	for range 100 {
		if _, last = r.Next(); last != nil {
			break
		}
	}
	if last == io.EOF || last == nil || !strings.Contains(last.Error(), "cut.jsonl.gz:") {
		t.Fatalf("err = %v, want a read error naming the file", last)
	}
	if _, err := r.Next(); err != last {
		t.Errorf("after a read error Next gives %v, want the same error again", err)
	}
	problems := Validate(bytes.NewReader(cut), "cut.jsonl.gz")
	if n := len(problems); n == 0 || !strings.Contains(problems[n-1].String(), "the file is truncated") {
		t.Errorf("Validate = %v, want a last problem saying the file is truncated", problems)
	}
}

// Every decoding error names the file, the line and the field.
func TestLineErrors(t *testing.T) {
	const h = testHeader + "\n"
	const ok1 = `{"seq":1,"t":"2026-03-02T14:30:00.000Z","type":"tick","data":{"symbol":"ES","price":1,"size":1}}` + "\n"
	tests := []struct {
		name string
		in   string
		want string // the error of NewReader or of the first failing Next
	}{
		{"empty file", "", `f:1: missing header: the file is empty`},
		{"only blank lines", "\n  \n\n", `f:1: missing header: the file is empty`},
		{"header is not JSON", "{format: 1}\n", `f:1: bad JSON at byte 2: invalid character 'f' looking for beginning of object key string`},
		{"header is an array", "[1]\n", `f:1: want the thor-session/v1 header object, got an array`},
		{"header has another format", `{"format":"thor-session/v2"}` + "\n", `f:1: field "format": unsupported format "thor-session/v2" (want "thor-session/v1")`},
		{"header without format", `{"name":"x"}` + "\n", `f:1: field "format": missing`},
		{"no header", ok1, `f:1: missing header: line 1 must be the thor-session/v1 header, it is an event`},
		{"bad instrument", `{"format":"thor-session/v1","instruments":{"ES":{"multiplier":"50"}}}` + "\n", `f:1: field "instruments.ES.multiplier": want a number, got the string "50"`},
		{"bad start", `{"format":"thor-session/v1","start":"monday"}` + "\n", `f:1: field "start": want an RFC 3339 time such as 2026-03-02T14:30:00.250Z, got "monday"`},
		{"bad JSON", h + ok1 + `{"seq":2,` + "\n", `f:3: bad JSON at byte 9: unexpected end of JSON input`},
		{"not an object", h + "42\n", `f:2: want a JSON object, got the number 42`},
		{"blank lines count", h + "\n\n" + `{"seq":1}` + "\n", `f:4: field "t": missing`},
		{"missing seq", h + `{"t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"ES","price":1,"size":1}}`, `f:2: field "seq": missing`},
		{"seq is a string", h + `{"seq":"1","t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"ES","price":1,"size":1}}`, `f:2: field "seq": want an integer, got the string "1"`},
		{"seq is fractional", h + `{"seq":1.5,"t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"ES","price":1,"size":1}}`, `f:2: field "seq": want an integer, got 1.5`},
		{"seq overflows", h + `{"seq":99999999999999999999,"t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"ES","price":1,"size":1}}`, `f:2: field "seq": integer 99999999999999999999 is out of range`},
		{"bad time", h + `{"seq":1,"t":"2026-03-02 14:30","type":"tick","data":{"symbol":"ES","price":1,"size":1}}`, `f:2: field "t": want an RFC 3339 time such as 2026-03-02T14:30:00.250Z, got "2026-03-02 14:30"`},
		{"time is a number", h + `{"seq":1,"t":1772461800,"type":"tick","data":{"symbol":"ES","price":1,"size":1}}`, `f:2: field "t": want an RFC 3339 time string, got the number 1772461800`},
		{"missing type", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","data":{}}`, `f:2: field "type": missing`},
		{"unknown type", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"trade","data":{}}`, `f:2: field "type": unknown event type "trade" (want tick, account, position or market_status)`},
		{"missing data", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick"}`, `f:2: field "data": missing`},
		{"null data", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","data":null}`, `f:2: field "data": missing`},
		{"data is an array", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","data":[1]}`, `f:2: field "data": want an object, got an array`},
		{"tick without price", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"ES","size":1}}`, `f:2: field "data.price": missing`},
		{"tick with null size", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"ES","price":1,"size":null}}`, `f:2: field "data.size": missing`},
		{"tick with empty symbol", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"","price":1,"size":1}}`, `f:2: field "data.symbol": empty`},
		{"price is a string", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"ES","price":"5123.25","size":1}}`, `f:2: field "data.price": want a number, got the string "5123.25"`},
		{"price overflows", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"ES","price":1e999,"size":1}}`, `f:2: field "data.price": number 1e999 is out of range`},
		{"account without cash", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"account","data":{"account_id":"ACC-1","buying_power":1}}`, `f:2: field "data.cash": missing`},
		{"position without avg_price", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"position","data":{"account_id":"ACC-1","symbol":"ES","qty":1}}`, `f:2: field "data.avg_price": missing`},
		{"position qty fractional", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"position","data":{"account_id":"ACC-1","symbol":"ES","qty":1.5,"avg_price":1}}`, `f:2: field "data.qty": want an integer, got 1.5`},
		{"unknown status", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"market_status","data":{"market":"NewYork","status":"LUNCH"}}`, `f:2: field "data.status": unknown status "LUNCH" (want one of OPEN, CLOSED, PREMARKET, POSTMARKET, HOLIDAY)`},
		{"market missing", h + `{"seq":1,"t":"2026-03-02T14:30:00Z","type":"market_status","data":{"status":"OPEN"}}`, `f:2: field "data.market": missing`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tc.in), "f")
			for err == nil {
				_, err = r.Next()
			}
			if err == io.EOF {
				t.Fatalf("no error, want %s", tc.want)
			}
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("err = %T %v, want a *LineError", err, err)
			}
			if err.Error() != tc.want {
				t.Errorf("err  = %s\nwant = %s", err, tc.want)
			}
		})
	}
}

// After a line that does not decode, Next goes on with the next line.
func TestReaderGoesOnAfterLineError(t *testing.T) {
	in := testHeader + "\n" +
		`{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"ES","price":1,"size":1}}` + "\n" +
		`garbage` + "\n" +
		`{"seq":2,"t":"2026-03-02T14:30:01Z","type":"tick","data":{"symbol":"ES","price":2,"size":1}}` + "\r\n" +
		`{"seq":3,"t":"2026-03-02T14:30:02Z","type":"tick","data":{"symbol":"ES","price":3,"size":1}}` // no final newline
	r, err := NewReader(strings.NewReader(in), "f")
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	var lines []int
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f:3: bad JSON") {
				t.Errorf("err = %v, want f:3: bad JSON…", err)
			}
			continue
		}
		seqs = append(seqs, e.Seq)
		lines = append(lines, r.Line())
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, seqs); diff != "" {
		t.Errorf("seqs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2, 4, 5}, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

func TestLongLine(t *testing.T) {
	long := strings.Repeat("x", 200<<10) // several times the read buffer
	in := testHeader + "\n" +
		`{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","note":"` + long + `","data":{"symbol":"ES","price":1,"size":1}}` + "\n" +
		`{"seq":2,"t":"2026-03-02T14:30:01Z","type":"tick","data":{"symbol":"ES","price":2,"size":1}}` + "\n"
	r, err := NewReader(strings.NewReader(in), "f")
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, r)
	if len(got) != 2 || len(got[0].Raw) < 200<<10 || got[1].Tick.Price != 2 {
		t.Fatalf("read %d events", len(got))
	}
}

func TestNextRawMatchesNext(t *testing.T) {
	var buf bytes.Buffer
	writeSession(t, NewWriter(&buf), sampleHeader(), sampleEvents())
	r, err := NewReader(bytes.NewReader(buf.Bytes()), "f")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	for i := 1; ; i++ {
		line, e, err := r.NextRaw()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if string(line) != lines[i] {
			t.Errorf("line %d = %s, want %s", i+1, line, lines[i])
		}
		if e.Raw != nil {
			t.Errorf("NextRaw set Raw")
		}
		if diff := cmp.Diff(sampleEvents()[i-1], e, ignoreRaw); diff != "" {
			t.Errorf("event %d (-want +got):\n%s", i, diff)
		}
	}
}

func TestEventUnmarshalJSON(t *testing.T) {
	body := `[
	  {"seq":1,"t":"2026-03-02T14:30:00.012Z","type":"market_status","data":{"market":"NewYork","status":"OPEN"}},
	  {"seq":2,"t":"2026-03-02T14:30:00.250Z","type":"tick","data":{"symbol":"ES","price":5123.25,"size":3}}
	]`
	var evs []Event
	if err := json.Unmarshal([]byte(body), &evs); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sampleEvents()[:2], evs, ignoreRaw); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(string(evs[1].Raw), `{"seq":2,`) {
		t.Errorf("Raw = %s", evs[1].Raw)
	}
	var e Event
	err := json.Unmarshal([]byte(`{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"ES","size":1}}`), &e)
	if err == nil || err.Error() != `field "data.price": missing` {
		t.Errorf("err = %v, want field \"data.price\": missing", err)
	}
}

func TestGzipHeaderError(t *testing.T) {
	_, err := NewReader(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0}), "bad.gz")
	if err == nil || err.Error() != "bad.gz:1: gzip: unexpected EOF" {
		t.Errorf("err = %v, want bad.gz:1: gzip: unexpected EOF", err)
	}
	problems := Validate(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0}), "bad.gz")
	if len(problems) != 1 || problems[0].String() != "bad.gz:1: gzip: unexpected EOF" {
		t.Errorf("Validate = %v", problems)
	}
}
