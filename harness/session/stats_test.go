package session

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestInspect(t *testing.T) {
	in := strings.Join([]string{
		testHeader,
		ev(1, 0, "market_status", `{"market":"NewYork","status":"OPEN"}`),
		tick(2, 0, "ES", 5000),
		tick(3, 0, "ES", 4999.75),
		tick(4, 1, "ES", 5000.5),
		ev(5, 1, "account", `{"account_id":"ACC-1","cash":1000.5,"buying_power":4002}`),
		ev(6, 2, "position", `{"account_id":"ACC-1","symbol":"ES","qty":2,"avg_price":5000.25}`),
		ev(7, 3, "position", `{"account_id":"ACC-1","symbol":"CL","qty":0,"avg_price":0}`),
		ev(8, 4, "market_status", `{"market":"NewYork","status":"POSTMARKET"}`),
	}, "\n") + "\n"
	r, err := NewReader(strings.NewReader(in), "f")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Inspect(r)
	if err != nil {
		t.Fatal(err)
	}
	want := &Stats{
		File: "f", Format: Format, Name: "t", Start: at(0),
		Events: 8, FirstSeq: 1, LastSeq: 8, First: at(0), Last: at(4000),
		Types:       map[string]int64{"tick": 3, "account": 1, "position": 2, "market_status": 2},
		SpanSeconds: 4, EventsPerSecond: 2, PeakPerSecond: 3, PeakSecond: at(0),
		Symbols: map[string]*SymbolStats{
			"ES": {Ticks: 3, Volume: 3, First: 5000, Last: 5000.5, Low: 4999.75, High: 5000.5, Positions: 1},
			"CL": {Positions: 1},
		},
		Accounts: map[string]*AccountStats{"ACC-1": {Balances: 1, Positions: 2, Cash: 1000.5, BuyingPower: 4002, Open: 1}},
		Markets:  map[string]*MarketStats{"NewYork": {Events: 2, Status: "POSTMARKET"}},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Stats{}, AccountStats{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got.Span() != 4*time.Second {
		t.Errorf("Span = %s", got.Span())
	}
}

func TestInspectStopsAtABadLine(t *testing.T) {
	in := testHeader + "\n" + tick(1, 0, "ES", 1) + "\n{\n"
	r, err := NewReader(strings.NewReader(in), "f")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(r); err == nil || !strings.HasPrefix(err.Error(), "f:3: bad JSON") {
		t.Errorf("err = %v, want f:3: bad JSON…", err)
	}
}
