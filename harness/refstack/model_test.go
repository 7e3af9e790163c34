package refstack

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/thor-trading/cutover-harness/harness/session"
)

// TestModelApply checks the derivation rules against hand-computed
// expectations: each row applies its events in order and lists, per event,
// the messages that event must cause (nil: none).
func TestModelApply(t *testing.T) {
	type step struct {
		ev   session.Event
		want []string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "price before any tick uses avg_price",
			steps: []step{
				{acct(1, "14:30:00.100", "ACC-1", 100000, 400000), []string{
					`{"type":"account_balance","seq":1,"data":{"account_id":"ACC-1","cash":100000,"buying_power":400000,"net_liq":100000}}`,
				}},
				// last = avg_price 5123: market_value = 2*5123*50, pnl 0, net_liq unchanged.
				{pos(2, "14:30:00.200", "ACC-1", "ES", 2, 5123), []string{
					`{"type":"positions","seq":2,"data":{"account_id":"ACC-1","symbol":"ES","qty":2,"avg_price":5123,"last":5123,"market_value":512300,"unrealized_pnl":0}}`,
				}},
				// pnl = (5123.25-5123)*2*50 = 25; net_liq = 100025.
				{tick(3, "14:30:00.250", "ES", 5123.25, 3), []string{
					`{"type":"positions","seq":3,"data":{"account_id":"ACC-1","symbol":"ES","qty":2,"avg_price":5123,"last":5123.25,"market_value":512325,"unrealized_pnl":25}}`,
					`{"type":"account_balance","seq":3,"data":{"account_id":"ACC-1","cash":100000,"buying_power":400000,"net_liq":100025}}`,
				}},
				// Same price again: only the open bar changes, no message.
				{tick(4, "14:30:00.500", "ES", 5123.25, 1), nil},
			},
		},
		{
			name: "positions alone create no balance",
			steps: []step{
				{pos(1, "14:30:00", "ACC-1", "ES", 1, 100), []string{
					`{"type":"positions","seq":1,"data":{"account_id":"ACC-1","symbol":"ES","qty":1,"avg_price":100,"last":100,"market_value":5000,"unrealized_pnl":0}}`,
				}},
				{tick(2, "14:30:01", "ES", 101, 1), []string{
					`{"type":"positions","seq":2,"data":{"account_id":"ACC-1","symbol":"ES","qty":1,"avg_price":100,"last":101,"market_value":5050,"unrealized_pnl":50}}`,
				}},
				// The first account event: net_liq already counts the open position.
				{acct(3, "14:30:02", "ACC-1", 1000, 4000), []string{
					`{"type":"account_balance","seq":3,"data":{"account_id":"ACC-1","cash":1000,"buying_power":4000,"net_liq":1050}}`,
				}},
			},
		},
		{
			name: "rounding half away from zero, long and short",
			steps: []step{
				{acct(1, "14:30:00", "ACC-1", 100.005, -0.005), []string{
					`{"type":"account_balance","seq":1,"data":{"account_id":"ACC-1","cash":100.01,"buying_power":-0.01,"net_liq":100.01}}`,
				}},
				{pos(2, "14:30:00", "ACC-1", "X", 1, 0), []string{
					`{"type":"positions","seq":2,"data":{"account_id":"ACC-1","symbol":"X","qty":1,"avg_price":0,"last":0,"market_value":0,"unrealized_pnl":0}}`,
				}},
				{pos(3, "14:30:00", "ACC-2", "X", -1, 0), []string{
					`{"type":"positions","seq":3,"data":{"account_id":"ACC-2","symbol":"X","qty":-1,"avg_price":0,"last":0,"market_value":0,"unrealized_pnl":0}}`,
				}},
				// 1.005 → 1.01 and -1.005 → -1.01; net_liq 100.005+1.005 = 101.01.
				{tick(4, "14:30:01", "X", 1.005, 1), []string{
					`{"type":"positions","seq":4,"data":{"account_id":"ACC-1","symbol":"X","qty":1,"avg_price":0,"last":1.005,"market_value":1.01,"unrealized_pnl":1.01}}`,
					`{"type":"positions","seq":4,"data":{"account_id":"ACC-2","symbol":"X","qty":-1,"avg_price":0,"last":1.005,"market_value":-1.01,"unrealized_pnl":-1.01}}`,
					`{"type":"account_balance","seq":4,"data":{"account_id":"ACC-1","cash":100.01,"buying_power":-0.01,"net_liq":101.01}}`,
				}},
				// 2.675 → 2.68, -2.68; net_liq 102.68.
				{tick(5, "14:30:02", "X", 2.675, 1), []string{
					`{"type":"positions","seq":5,"data":{"account_id":"ACC-1","symbol":"X","qty":1,"avg_price":0,"last":2.675,"market_value":2.68,"unrealized_pnl":2.68}}`,
					`{"type":"positions","seq":5,"data":{"account_id":"ACC-2","symbol":"X","qty":-1,"avg_price":0,"last":2.675,"market_value":-2.68,"unrealized_pnl":-2.68}}`,
					`{"type":"account_balance","seq":5,"data":{"account_id":"ACC-1","cash":100.01,"buying_power":-0.01,"net_liq":102.68}}`,
				}},
				// A change below the rounding: 2.6751 outputs like 2.675 except last.
				{tick(6, "14:30:03", "X", 2.6751, 1), []string{
					`{"type":"positions","seq":6,"data":{"account_id":"ACC-1","symbol":"X","qty":1,"avg_price":0,"last":2.6751,"market_value":2.68,"unrealized_pnl":2.68}}`,
					`{"type":"positions","seq":6,"data":{"account_id":"ACC-2","symbol":"X","qty":-1,"avg_price":0,"last":2.6751,"market_value":-2.68,"unrealized_pnl":-2.68}}`,
				}},
			},
		},
		{
			name: "net_liq sums the account's open positions only",
			steps: []step{
				{acct(1, "14:30:00", "ACC-1", 1000.5, 2000), []string{
					`{"type":"account_balance","seq":1,"data":{"account_id":"ACC-1","cash":1000.5,"buying_power":2000,"net_liq":1000.5}}`,
				}},
				{pos(2, "14:30:00", "ACC-1", "ES", 2, 5000), []string{
					`{"type":"positions","seq":2,"data":{"account_id":"ACC-1","symbol":"ES","qty":2,"avg_price":5000,"last":5000,"market_value":500000,"unrealized_pnl":0}}`,
				}},
				{pos(3, "14:30:00", "ACC-1", "NQ", -1, 18000), []string{
					`{"type":"positions","seq":3,"data":{"account_id":"ACC-1","symbol":"NQ","qty":-1,"avg_price":18000,"last":18000,"market_value":-360000,"unrealized_pnl":0}}`,
				}},
				{pos(4, "14:30:00", "ACC-2", "ES", 5, 4000), []string{
					`{"type":"positions","seq":4,"data":{"account_id":"ACC-2","symbol":"ES","qty":5,"avg_price":4000,"last":4000,"market_value":1000000,"unrealized_pnl":0}}`,
				}},
				// ES: ACC-1 pnl (5001-5000)*2*50 = 100; ACC-2 has no balance.
				// The ES tick sets last for both ES positions.
				{tick(5, "14:30:01", "ES", 5001, 1), []string{
					`{"type":"positions","seq":5,"data":{"account_id":"ACC-1","symbol":"ES","qty":2,"avg_price":5000,"last":5001,"market_value":500100,"unrealized_pnl":100}}`,
					`{"type":"positions","seq":5,"data":{"account_id":"ACC-2","symbol":"ES","qty":5,"avg_price":4000,"last":5001,"market_value":1250250,"unrealized_pnl":250250}}`,
					`{"type":"account_balance","seq":5,"data":{"account_id":"ACC-1","cash":1000.5,"buying_power":2000,"net_liq":1100.5}}`,
				}},
				// NQ short: pnl (17990-18000)*-1*20 = 200; net_liq 1000.5+100+200.
				{tick(6, "14:30:02", "NQ", 17990, 1), []string{
					`{"type":"positions","seq":6,"data":{"account_id":"ACC-1","symbol":"NQ","qty":-1,"avg_price":18000,"last":17990,"market_value":-359800,"unrealized_pnl":200}}`,
					`{"type":"account_balance","seq":6,"data":{"account_id":"ACC-1","cash":1000.5,"buying_power":2000,"net_liq":1300.5}}`,
				}},
			},
		},
		{
			name: "closed position stays listed with qty 0",
			steps: []step{
				{acct(1, "14:30:00", "ACC-1", 1000, 4000), []string{
					`{"type":"account_balance","seq":1,"data":{"account_id":"ACC-1","cash":1000,"buying_power":4000,"net_liq":1000}}`,
				}},
				{tick(2, "14:30:00", "ES", 101, 1), nil},
				{pos(3, "14:30:01", "ACC-1", "ES", 2, 100), []string{
					`{"type":"positions","seq":3,"data":{"account_id":"ACC-1","symbol":"ES","qty":2,"avg_price":100,"last":101,"market_value":10100,"unrealized_pnl":100}}`,
					`{"type":"account_balance","seq":3,"data":{"account_id":"ACC-1","cash":1000,"buying_power":4000,"net_liq":1100}}`,
				}},
				{pos(4, "14:30:02", "ACC-1", "ES", 0, 100), []string{
					`{"type":"positions","seq":4,"data":{"account_id":"ACC-1","symbol":"ES","qty":0,"avg_price":100,"last":101,"market_value":0,"unrealized_pnl":0}}`,
					`{"type":"account_balance","seq":4,"data":{"account_id":"ACC-1","cash":1000,"buying_power":4000,"net_liq":1000}}`,
				}},
				// last is still shown for the closed position; net_liq is not moved.
				{tick(5, "14:30:03", "ES", 102, 1), []string{
					`{"type":"positions","seq":5,"data":{"account_id":"ACC-1","symbol":"ES","qty":0,"avg_price":100,"last":102,"market_value":0,"unrealized_pnl":0}}`,
				}},
			},
		},
		{
			name: "bars close at the first event of a later minute",
			steps: []step{
				{tick(1, "14:30:00.250", "ES", 10, 1), nil},
				{tick(2, "14:30:30", "ES", 12, 2), nil},
				{tick(3, "14:30:40", "NQ", 50, 7), nil},
				{tick(4, "14:30:59.999", "ES", 9, 3), nil},
				// Exactly at :00.000 belongs to the next minute: it closes 14:30
				// (both symbols, by symbol) and opens ES 14:31.
				{tick(5, "14:31:00", "ES", 11, 4), []string{
					`{"type":"intraday_bar","seq":5,"data":{"symbol":"ES","start":"2026-03-02T14:30:00Z","open":10,"high":12,"low":9,"close":9,"volume":6}}`,
					`{"type":"intraday_bar","seq":5,"data":{"symbol":"NQ","start":"2026-03-02T14:30:00Z","open":50,"high":50,"low":50,"close":50,"volume":7}}`,
				}},
				// A non-tick event of a later minute closes the bar; the market
				// status of the same event goes first.
				{mkt(6, "14:32:10", "NewYork", "OPEN"), []string{
					`{"type":"market_status","seq":6,"data":{"market":"NewYork","status":"OPEN"}}`,
					`{"type":"intraday_bar","seq":6,"data":{"symbol":"ES","start":"2026-03-02T14:31:00Z","open":11,"high":11,"low":11,"close":11,"volume":4}}`,
				}},
				// Nothing open: a later minute closes nothing.
				{mkt(7, "14:35:00", "NewYork", "CLOSED"), []string{
					`{"type":"market_status","seq":7,"data":{"market":"NewYork","status":"CLOSED"}}`,
				}},
			},
		},
		{
			name: "one event's messages in the contract's order",
			steps: []step{
				{acct(1, "14:30:00", "ACC-2", 10, 10), []string{
					`{"type":"account_balance","seq":1,"data":{"account_id":"ACC-2","cash":10,"buying_power":10,"net_liq":10}}`,
				}},
				{acct(2, "14:30:00", "ACC-1", 20, 20), []string{
					`{"type":"account_balance","seq":2,"data":{"account_id":"ACC-1","cash":20,"buying_power":20,"net_liq":20}}`,
				}},
				{pos(3, "14:30:00", "ACC-2", "ES", 1, 1), []string{
					`{"type":"positions","seq":3,"data":{"account_id":"ACC-2","symbol":"ES","qty":1,"avg_price":1,"last":1,"market_value":50,"unrealized_pnl":0}}`,
				}},
				{pos(4, "14:30:00", "ACC-1", "ES", 1, 1), []string{
					`{"type":"positions","seq":4,"data":{"account_id":"ACC-1","symbol":"ES","qty":1,"avg_price":1,"last":1,"market_value":50,"unrealized_pnl":0}}`,
				}},
				{tick(5, "14:30:10", "NQ", 3, 1), nil},
				{tick(6, "14:30:20", "ES", 2, 1), []string{
					`{"type":"positions","seq":6,"data":{"account_id":"ACC-1","symbol":"ES","qty":1,"avg_price":1,"last":2,"market_value":100,"unrealized_pnl":50}}`,
					`{"type":"positions","seq":6,"data":{"account_id":"ACC-2","symbol":"ES","qty":1,"avg_price":1,"last":2,"market_value":100,"unrealized_pnl":50}}`,
					`{"type":"account_balance","seq":6,"data":{"account_id":"ACC-1","cash":20,"buying_power":20,"net_liq":70}}`,
					`{"type":"account_balance","seq":6,"data":{"account_id":"ACC-2","cash":10,"buying_power":10,"net_liq":60}}`,
				}},
				// Bars closed by the minute first, then positions, then balances.
				{tick(7, "14:31:00", "ES", 3, 1), []string{
					`{"type":"intraday_bar","seq":7,"data":{"symbol":"ES","start":"2026-03-02T14:30:00Z","open":2,"high":2,"low":2,"close":2,"volume":1}}`,
					`{"type":"intraday_bar","seq":7,"data":{"symbol":"NQ","start":"2026-03-02T14:30:00Z","open":3,"high":3,"low":3,"close":3,"volume":1}}`,
					`{"type":"positions","seq":7,"data":{"account_id":"ACC-1","symbol":"ES","qty":1,"avg_price":1,"last":3,"market_value":150,"unrealized_pnl":100}}`,
					`{"type":"positions","seq":7,"data":{"account_id":"ACC-2","symbol":"ES","qty":1,"avg_price":1,"last":3,"market_value":150,"unrealized_pnl":100}}`,
					`{"type":"account_balance","seq":7,"data":{"account_id":"ACC-1","cash":20,"buying_power":20,"net_liq":120}}`,
					`{"type":"account_balance","seq":7,"data":{"account_id":"ACC-2","cash":10,"buying_power":10,"net_liq":110}}`,
				}},
			},
		},
		{
			name: "market status is the latest per market, sent when changed",
			steps: []step{
				{mkt(1, "14:30:00", "Tokyo", "CLOSED"), []string{`{"type":"market_status","seq":1,"data":{"market":"Tokyo","status":"CLOSED"}}`}},
				{mkt(2, "14:30:00", "London", "OPEN"), []string{`{"type":"market_status","seq":2,"data":{"market":"London","status":"OPEN"}}`}},
				{mkt(3, "14:30:01", "London", "OPEN"), nil},
				{mkt(4, "14:30:02", "London", "POSTMARKET"), []string{`{"type":"market_status","seq":4,"data":{"market":"London","status":"POSTMARKET"}}`}},
			},
		},
		{
			name: "an unchanged account update is not sent",
			steps: []step{
				{acct(1, "14:30:00", "ACC-1", 10, 20), []string{`{"type":"account_balance","seq":1,"data":{"account_id":"ACC-1","cash":10,"buying_power":20,"net_liq":10}}`}},
				{acct(2, "14:30:01", "ACC-1", 10.001, 20), nil},
				{pos(3, "14:30:02", "ACC-1", "ES", 0, 0), []string{`{"type":"positions","seq":3,"data":{"account_id":"ACC-1","symbol":"ES","qty":0,"avg_price":0,"last":0,"market_value":0,"unrealized_pnl":0}}`}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewModel()
			m.Reset(header())
			for _, st := range tt.steps {
				got := renderAll(m.Apply(st.ev))
				if len(got) == 0 {
					got = nil
				}
				if diff := cmp.Diff(st.want, got); diff != "" {
					t.Fatalf("seq %d (%s): messages (-want +got):\n%s", st.ev.Seq, st.ev.Type, diff)
				}
			}
		})
	}
}

// TestModelViews checks what REST lists after a few events: everything
// sorted by key, closed positions kept, only closed bars.
func TestModelViews(t *testing.T) {
	m := NewModel()
	m.Reset(header())
	for _, ev := range []session.Event{
		acct(1, "14:30:00", "ACC-2", 5, 5),
		acct(2, "14:30:00", "ACC-1", 7, 7),
		pos(3, "14:30:00", "ACC-2", "NQ", 1, 10),
		pos(4, "14:30:00", "ACC-1", "NQ", 1, 10),
		pos(5, "14:30:00", "ACC-1", "ES", 3, 10),
		pos(6, "14:30:01", "ACC-1", "ES", 0, 10),
		tick(7, "14:30:02", "NQ", 11, 1),
		tick(8, "14:30:03", "ES", 12, 2),
		mkt(9, "14:31:00", "Tokyo", "OPEN"),
		mkt(10, "14:31:00", "London", "PREMARKET"),
		tick(11, "14:31:05", "ES", 13, 1), // open bar: not listed
	} {
		m.Apply(ev)
	}
	render := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name string
		got  any
		want string
	}{
		{"balances", m.Balances(), `[{"account_id":"ACC-1","cash":7,"buying_power":7,"net_liq":27},{"account_id":"ACC-2","cash":5,"buying_power":5,"net_liq":25}]`},
		{"positions", m.Positions(), `[{"account_id":"ACC-1","symbol":"ES","qty":0,"avg_price":10,"last":13,"market_value":0,"unrealized_pnl":0},` +
			`{"account_id":"ACC-1","symbol":"NQ","qty":1,"avg_price":10,"last":11,"market_value":220,"unrealized_pnl":20},` +
			`{"account_id":"ACC-2","symbol":"NQ","qty":1,"avg_price":10,"last":11,"market_value":220,"unrealized_pnl":20}]`},
		{"bars ES", m.Bars("ES"), `[{"symbol":"ES","start":"2026-03-02T14:30:00Z","open":12,"high":12,"low":12,"close":12,"volume":2}]`},
		{"bars all", m.Bars(""), `[{"symbol":"ES","start":"2026-03-02T14:30:00Z","open":12,"high":12,"low":12,"close":12,"volume":2},` +
			`{"symbol":"NQ","start":"2026-03-02T14:30:00Z","open":11,"high":11,"low":11,"close":11,"volume":1}]`},
		{"bars unknown symbol", m.Bars("ZZ"), `null`},
		{"markets", m.Markets(), `[{"market":"London","status":"PREMARKET"},{"market":"Tokyo","status":"OPEN"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render(tt.got); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	if m.Seq() != 11 {
		t.Errorf("Seq = %d, want 11", m.Seq())
	}
	m.Reset(header())
	if m.Seq() != 0 || len(m.Balances())+len(m.Positions())+len(m.Bars(""))+len(m.Markets()) != 0 {
		t.Errorf("after Reset: seq %d, state %v %v %v %v", m.Seq(), m.Balances(), m.Positions(), m.Bars(""), m.Markets())
	}
}
