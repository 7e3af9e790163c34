package session

import (
	"testing"
	"time"
)

func TestMarketSchedules(t *testing.T) {
	ms, err := loadMarkets()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 20 {
		t.Fatalf("%d markets, want 20 or more", len(ms))
	}
	tests := []struct {
		name   string
		market string
		at     string // UTC
		want   string
	}{
		{"Tokyo morning session", "Tokyo", "2026-03-03T01:00:00Z", "OPEN"},
		{"Tokyo lunch break", "Tokyo", "2026-03-03T03:00:00Z", "CLOSED"},
		{"Tokyo afternoon", "Tokyo", "2026-03-03T03:30:00Z", "OPEN"},
		{"Tokyo pre-open", "Tokyo", "2026-03-02T23:30:00Z", "PREMARKET"},
		{"Tokyo New Year", "Tokyo", "2026-01-02T01:00:00Z", "HOLIDAY"},
		{"Hong Kong closing auction", "Hong Kong", "2026-03-03T08:05:00Z", "POSTMARKET"},
		{"Mumbai open (UTC+5:30)", "Mumbai", "2026-03-03T03:45:00Z", "OPEN"},
		{"Mumbai before the open", "Mumbai", "2026-03-03T03:44:00Z", "PREMARKET"},
		{"Seoul substitute holiday", "Seoul", "2026-03-02T03:00:00Z", "HOLIDAY"},
		{"Seoul the day after", "Seoul", "2026-03-02T15:00:00Z", "CLOSED"},
		{"London opens at 08:00 GMT", "London", "2026-03-02T08:00:00Z", "OPEN"},
		{"London still pre-open at 07:59", "London", "2026-03-02T07:59:59Z", "PREMARKET"},
		{"London opens at 08:00 BST", "London", "2026-03-30T07:00:00Z", "OPEN"},
		{"Frankfurt late session", "Frankfurt", "2026-03-02T20:00:00Z", "POSTMARKET"},
		{"Frankfurt closed at night", "Frankfurt", "2026-03-02T21:30:00Z", "CLOSED"},
		{"NewYork opens 14:30Z in winter", "NewYork", "2026-03-06T14:30:00Z", "OPEN"},
		{"NewYork opens 13:30Z after the clocks change", "NewYork", "2026-03-09T13:30:00Z", "OPEN"},
		{"NewYork pre-market", "NewYork", "2026-03-09T13:29:59Z", "PREMARKET"},
		{"NewYork after hours", "NewYork", "2026-03-02T22:00:00Z", "POSTMARKET"},
		{"NewYork Good Friday", "NewYork", "2026-04-03T15:00:00Z", "HOLIDAY"},
		{"NewYork Saturday after Good Friday", "NewYork", "2026-04-04T15:00:00Z", "CLOSED"},
		{"NewYork Saturday", "NewYork", "2026-03-07T15:00:00Z", "CLOSED"},
		{"Chicago Globex overnight", "Chicago", "2026-03-03T03:00:00Z", "OPEN"},
		{"Chicago daily halt", "Chicago", "2026-03-02T22:30:00Z", "CLOSED"},
		{"Chicago pre-open after the halt", "Chicago", "2026-03-02T22:50:00Z", "PREMARKET"},
		{"Chicago reopens", "Chicago", "2026-03-02T23:00:00Z", "OPEN"},
		{"Chicago Friday close", "Chicago", "2026-03-06T22:30:00Z", "CLOSED"},
		{"Chicago Saturday", "Chicago", "2026-03-07T12:00:00Z", "CLOSED"},
		{"Chicago Sunday pre-open", "Chicago", "2026-03-01T22:30:00Z", "PREMARKET"},
		{"Chicago Sunday open (CST)", "Chicago", "2026-03-01T23:00:00Z", "OPEN"},
		{"Chicago Sunday open (CDT)", "Chicago", "2026-03-08T22:00:00Z", "OPEN"},
		{"Sydney pre-open, Monday local", "Sydney", "2026-03-02T20:30:00Z", "PREMARKET"},
		{"Sao Paulo (no DST)", "Sao Paulo", "2026-03-02T13:00:00Z", "OPEN"},
		{"Mexico City (no DST) opens 14:30Z", "Mexico City", "2026-03-02T14:30:00Z", "OPEN"},
		{"Moscow evening session", "Moscow", "2026-03-02T17:00:00Z", "POSTMARKET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := findMarket(ms, tc.market)
			if m == nil {
				t.Fatalf("no market %s", tc.market)
			}
			at, err := time.Parse(time.RFC3339, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := m.statusAt(at); got != tc.want {
				t.Errorf("%s at %s = %s, want %s", tc.market, tc.at, got, tc.want)
			}
		})
	}
}

// The cursor the generator walks agrees with statusAt at every change over
// two weeks, for every market.
func TestCursorAgreesWithSchedule(t *testing.T) {
	ms, err := loadMarkets()
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC) // across the European clock change
	to := from.Add(14 * 24 * time.Hour).UnixMilli()
	for _, m := range ms {
		c := newCursor(m, from.UnixMilli())
		changes := 0
		for c.until < to {
			c.advance()
			changes++
			at := time.UnixMilli(c.since)
			if got, _ := m.statusAt(at); got != c.status {
				t.Errorf("%s at %s: cursor says %s, schedule %s", m.name, at.UTC(), c.status, got)
			}
			if before, _ := m.statusAt(at.Add(-time.Millisecond)); before == c.status {
				t.Errorf("%s at %s: a change to %s from %s", m.name, at.UTC(), c.status, before)
			}
		}
		if changes < 10 {
			t.Errorf("%s: %d changes in two weeks", m.name, changes)
		}
	}
}
