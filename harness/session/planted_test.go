package session

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Plant several different errors in a copy of the short fixture and check
// that Validate reports each one, at its line, and nothing else.
func TestValidatePlantedErrors(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(fixtureDir, "rth-short.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(src), "\n"), "\n")
	if len(lines) < 2000 {
		t.Fatalf("fixture has %d lines", len(lines))
	}
	// Each plant rewrites one line (1-based) and expects one problem there.
	// Lines are chosen by type so the edits apply.
	find := func(from int, typ string) int {
		for n := from; n <= len(lines); n++ {
			if strings.Contains(lines[n-1], `"type":"`+typ+`"`) {
				return n
			}
		}
		t.Fatalf("no %s line after %d", typ, from)
		return 0
	}
	type plant struct {
		line  int
		edit  func(string) string
		field string
		msg   string
	}
	replace := func(old, new string) func(string) string {
		return func(s string) string {
			if !strings.Contains(s, old) {
				t.Fatalf("%q not in %s", old, s)
			}
			return strings.Replace(s, old, new, 1)
		}
	}
	drop := func(field string) func(string) string {
		return func(s string) string {
			i := strings.Index(s, `"`+field+`":`)
			if i < 0 {
				t.Fatalf("no %s in %s", field, s)
			}
			j := i + strings.IndexAny(s[i:], ",}")
			if s[j] == ',' {
				return s[:i] + s[j+1:]
			}
			return strings.TrimSuffix(s[:i], ",") + s[j:]
		}
	}
	seqOf := func(n int) int {
		var seq int
		fmt.Sscanf(lines[n-1], `{"seq":%d`, &seq)
		return seq
	}
	tickLine := find(100, "tick")
	posLine := find(400, "position")
	acctLine := find(800, "account")
	statusLine := find(2, "market_status")
	badTick := find(1500, "tick")
	negTick := find(2000, "tick")
	typeLine := find(2500, "tick")
	gapLine := 3000
	timeLine := find(3500, "tick")
	jsonLine := 4000
	plants := []plant{
		{tickLine, drop("price"), "data.price", "missing"},
		{posLine, replace(`"qty":`, `"qty":1.5,"was_qty":`), "data.qty", "want an integer, got 1.5"},
		{acctLine, drop("buying_power"), "data.buying_power", "missing"},
		{statusLine, replace(`"status":"`, `"status":"LUNCH_`), "data.status", `unknown status "LUNCH_`},
		{badTick, replace(`"symbol":"`, `"symbol":"ZZ`), "data.symbol", `symbol "ZZ`},
		{negTick, replace(`"price":`, `"price":-`), "data.price", "negative price"},
		{typeLine, replace(`"type":"tick"`, `"type":"trade"`), "type", `unknown event type "trade"`},
		{gapLine, replace(fmt.Sprintf(`{"seq":%d,`, seqOf(gapLine)), fmt.Sprintf(`{"seq":%d,`, seqOf(gapLine)+1)), "seq", "gap"},
		{timeLine, replace(`"t":"2026-03-02T14:`, `"t":"2026-03-02T13:`), "t", "time goes back"},
		{jsonLine, func(s string) string { return s[:len(s)/2] }, "", "bad JSON"},
	}
	// The line after the seq gap has the seq the gap line took, so it is
	// reported too (as a repeat). The time plant is reported once, at the
	// planted line: the line after goes forward again.
	for _, p := range plants {
		lines[p.line-1] = p.edit(lines[p.line-1])
	}
	path := filepath.Join(t.TempDir(), "planted.jsonl.gz")
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(strings.Join(lines, "\n") + "\n"))
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	problems := Validate(f, path)

	want := map[int]plant{}
	for _, p := range plants {
		want[p.line] = p
	}
	found := map[int]bool{}
	for _, pr := range problems {
		if pr.File != path {
			t.Errorf("problem names file %q, want %q", pr.File, path)
		}
		p, ok := want[pr.Line]
		switch {
		case ok && pr.Field == p.field && strings.Contains(pr.Msg, p.msg):
			found[pr.Line] = true
		case pr.Line == gapLine+1 && pr.Field == "seq":
			// The line after the gap repeats the planted seq: expected.
		case pr.Line == timeLine+1 && pr.Field == "t":
			t.Errorf("time plant reported twice: %s", pr)
		default:
			t.Errorf("unexpected problem: %s", pr)
		}
	}
	for _, p := range plants {
		if !found[p.line] {
			t.Errorf("line %d: %s: no problem with field %q and %q", p.line, lines[p.line-1], p.field, p.msg)
		}
	}
	if t.Failed() {
		for _, pr := range problems {
			t.Log(pr)
		}
	}
}
