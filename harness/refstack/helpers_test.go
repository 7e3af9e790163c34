package refstack

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/session"
)

// day is the session date of the hand-built events: at("14:30:00.250") is
// 2026-03-02T14:30:00.250Z.
func at(clock string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, "2026-03-02T"+clock+"Z")
	if err != nil {
		panic(err)
	}
	return t
}

func header() session.Header {
	return session.Header{
		Format: session.Format,
		Name:   "test",
		Start:  at("14:30:00"),
		Instruments: map[string]session.Instrument{
			"ES": {Multiplier: 50, TickSize: 0.25},
			"NQ": {Multiplier: 20, TickSize: 0.25},
			"X":  {Multiplier: 1, TickSize: 0.001},
		},
		Accounts: []string{"ACC-1", "ACC-2"},
		Markets:  []string{"Tokyo", "London", "NewYork"},
	}
}

func tick(seq int64, clock, sym string, price float64, size int64) session.Event {
	return session.Event{Seq: seq, T: at(clock), Type: session.TypeTick, Tick: &session.Tick{Symbol: sym, Price: price, Size: size}}
}

func acct(seq int64, clock, id string, cash, bp float64) session.Event {
	return session.Event{Seq: seq, T: at(clock), Type: session.TypeAccount, Account: &session.Account{AccountID: id, Cash: cash, BuyingPower: bp}}
}

func pos(seq int64, clock, id, sym string, qty int64, avg float64) session.Event {
	return session.Event{Seq: seq, T: at(clock), Type: session.TypePosition, Position: &session.Position{AccountID: id, Symbol: sym, Qty: qty, AvgPrice: avg}}
}

func mkt(seq int64, clock, market, status string) session.Event {
	return session.Event{Seq: seq, T: at(clock), Type: session.TypeMarketStatus, MarketStatus: &session.MarketStatus{Market: market, Status: status}}
}

// batchJSON renders session lines (a session.Header or session.Event each)
// as an ingest body.
func batchJSON(t testing.TB, lines ...any) []byte {
	t.Helper()
	b, err := json.Marshal(lines)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// renderAll renders messages as the contract does, one JSON text each.
func renderAll(msgs []Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		b, _ := m.MarshalJSON()
		out[i] = string(b)
	}
	return out
}
