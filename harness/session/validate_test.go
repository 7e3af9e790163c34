package session

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ev builds an event line at second s of the test session.
func ev(seq int, s int, typ, data string) string {
	return fmt.Sprintf(`{"seq":%d,"t":"2026-03-02T14:30:%02d.000Z","type":%q,"data":%s}`, seq, s, typ, data)
}

func tick(seq, s int, sym string, price float64) string {
	return ev(seq, s, "tick", fmt.Sprintf(`{"symbol":%q,"price":%v,"size":1}`, sym, price))
}

func TestValidate(t *testing.T) {
	h := testHeader
	tests := []struct {
		name  string
		lines []string
		want  []string // problems as printed, "f:" prefix left out
	}{
		{"valid", []string{h, tick(1, 0, "ES", 5000), tick(2, 1, "CL", 66.57),
			ev(3, 1, "account", `{"account_id":"ACC-1","cash":1,"buying_power":4}`),
			ev(4, 1, "position", `{"account_id":"ACC-1","symbol":"ES","qty":-1,"avg_price":5000.0625}`),
			ev(5, 2, "market_status", `{"market":"NewYork","status":"CLOSED"}`)}, nil},
		{"empty", nil, []string{"1: missing header: the file is empty"}},
		{"header only", []string{h}, nil},
		{"first seq is not 1", []string{h, tick(2, 0, "ES", 1)}, []string{`2: field "seq": the first event has seq 2, want 1`}},
		{"gap", []string{h, tick(1, 0, "ES", 1), tick(2, 0, "ES", 1), tick(5, 0, "ES", 1), tick(6, 0, "ES", 1)},
			[]string{`4: field "seq": gap: got 5, want 3 (seq 3..4 missing)`}},
		{"repeat", []string{h, tick(1, 0, "ES", 1), tick(2, 0, "ES", 1), tick(2, 0, "ES", 1), tick(3, 0, "ES", 1)},
			[]string{`4: field "seq": got 2 after 2: seq repeats or goes back`}},
		{"unreadable seq counts as the next", []string{h, tick(1, 0, "ES", 1), strings.Replace(tick(2, 0, "ES", 1), `"seq":2`, `"seq":"2"`, 1), tick(3, 0, "ES", 1)},
			[]string{`3: field "seq": want an integer, got the string "2"`}},
		{"time goes back", []string{h, tick(1, 5, "ES", 1), tick(2, 4, "ES", 1), tick(3, 4, "ES", 1)},
			[]string{`3: field "t": time goes back: 2026-03-02T14:30:04.000Z is before 2026-03-02T14:30:05.000Z (line 2)`}},
		{"unknown symbol", []string{h, tick(1, 0, "ZN", 1)},
			[]string{`2: field "data.symbol": symbol "ZN" is not in the header's instruments (CL, ES)`}},
		{"negative price", []string{h, tick(1, 0, "ES", -1)}, []string{`2: field "data.price": negative price -1`}},
		{"off the tick grid", []string{h, tick(1, 0, "ES", 5000.1), tick(2, 0, "CL", 66.575)},
			[]string{`2: field "data.price": 5000.1 is not on the tick grid of ES (tick size 0.25)`,
				`3: field "data.price": 66.575 is not on the tick grid of CL (tick size 0.01)`}},
		{"size zero", []string{h, ev(1, 0, "tick", `{"symbol":"ES","price":1,"size":0}`)}, []string{`2: field "data.size": must be at least 1, got 0`}},
		{"unknown account and market", []string{h,
			ev(1, 0, "account", `{"account_id":"ACC-9","cash":1,"buying_power":4}`),
			ev(2, 0, "market_status", `{"market":"Tokyo","status":"OPEN"}`)},
			[]string{`2: field "data.account_id": account "ACC-9" is not in the header's accounts`,
				`3: field "data.market": market "Tokyo" is not in the header's markets`}},
		{"several problems on one line", []string{h, ev(1, 0, "position", `{"account_id":"ACC-1","symbol":"ZN","qty":"1","avg_price":-2}`)},
			[]string{`2: field "data.qty": want an integer, got the string "1"`,
				`2: field "data.symbol": symbol "ZN" is not in the header's instruments (CL, ES)`,
				`2: field "data.avg_price": negative price -2`}},
		{"missing header", []string{tick(1, 0, "ES", 1), tick(2, 0, "ES", 1)},
			[]string{`1: missing header: line 1 must be the thor-session/v1 header, it is an event`}},
		{"header problems", []string{`{"format":"thor-session/v0","instruments":{"ES":{"multiplier":0,"tick_size":0.25}},"markets":["A","A"]}`},
			[]string{`1: field "format": unsupported format "thor-session/v0" (want "thor-session/v1")`,
				`1: field "instruments.ES.multiplier": must be positive, got 0`,
				`1: field "markets": "A" is listed twice`}},
		{"no instruments: said once", []string{`{"format":"thor-session/v1"}`, tick(1, 0, "ES", 1), tick(2, 0, "NQ", 1)},
			[]string{`1: field "instruments": missing: the header must list the instruments the ticks and positions use`}},
		{"bad JSON and the lines around it", []string{h, tick(1, 0, "ES", 1), `{"seq":2,`, tick(3, 0, "ES", 1)},
			[]string{`3: bad JSON at byte 9: unexpected end of JSON input`}},
		{"unknown type and status", []string{h, ev(1, 0, "trade", `{}`), ev(2, 0, "market_status", `{"market":"NewYork","status":"SHUT"}`)},
			[]string{`2: field "type": unknown event type "trade" (want tick, account, position or market_status)`,
				`3: field "data.status": unknown status "SHUT" (want one of OPEN, CLOSED, PREMARKET, POSTMARKET, HOLIDAY)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Join(tc.lines, "\n")
			if in != "" {
				in += "\n"
			}
			var got []string
			for _, p := range Validate(strings.NewReader(in), "f") {
				got = append(got, strings.TrimPrefix(p.String(), "f:"))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}
