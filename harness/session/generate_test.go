package session

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func mustGenerate(t *testing.T, o Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Generate(&buf, o); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGenerateIsDeterministic(t *testing.T) {
	o := Options{Seed: 7, Duration: 5 * time.Minute, Accounts: 4}
	a, b := mustGenerate(t, o), mustGenerate(t, o)
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed and options gave different bytes")
	}
	o.Seed = 8
	if c := mustGenerate(t, o); bytes.Equal(a, c) {
		t.Fatal("seeds 7 and 8 gave the same bytes")
	}
	if !bytes.Contains(a, []byte(`"seed":7,`)) {
		t.Errorf("the header does not carry the seed: %s", a[:200])
	}
}

func TestGenerateOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"negative duration", Options{Duration: -time.Second}, "duration -1s is negative"},
		{"start between milliseconds", Options{Start: DefaultStart.Add(time.Microsecond)}, "is not a whole millisecond"},
		{"negative accounts", Options{Accounts: -1}, "accounts -1: want 1..1000"},
		{"negative rate", Options{Rate: -1}, "rate -1: want a scale above 0"},
		{"NaN rate", Options{Rate: math.NaN()}, "rate NaN"},
		{"rate too fine", Options{Rate: 0.0001}, "too small"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Generate(io.Discard, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// Sessions generated at different times of the week are valid and show
// what the calendar says.
func TestGenerateAroundTheWeek(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name     string
		o        Options
		ticks    bool              // whether anything trades
		statuses map[string]string // market → status at the end
	}{
		{"US open", Options{Seed: 1, Start: utc("2026-03-02T14:30:00Z"), Duration: 10 * time.Minute}, true,
			map[string]string{"NewYork": "OPEN", "Chicago": "OPEN", "London": "OPEN", "Tokyo": "CLOSED", "Seoul": "HOLIDAY"}},
		{"Asian morning (overnight in the US)", Options{Seed: 2, Start: utc("2026-03-03T01:00:00Z"), Duration: 2 * time.Hour}, true,
			// 03:00Z: lunch in Tokyo (12:00), not yet in Hong Kong or Shanghai (11:00).
			map[string]string{"NewYork": "CLOSED", "Chicago": "OPEN", "Tokyo": "CLOSED", "Seoul": "OPEN", "Hong Kong": "OPEN", "Shanghai": "OPEN"}},
		{"Saturday", Options{Seed: 3, Start: utc("2026-03-07T12:00:00Z"), Duration: 2 * time.Hour}, false,
			map[string]string{"NewYork": "CLOSED", "Chicago": "CLOSED", "London": "CLOSED"}},
		{"Sunday evening, US clocks just went forward", Options{Seed: 4, Start: utc("2026-03-08T21:30:00Z"), Duration: time.Hour}, true,
			// 22:30Z: 17:30 in Chicago (CDT), 09:30 on Monday in Sydney.
			map[string]string{"Chicago": "OPEN", "NewYork": "CLOSED", "Sydney": "PREMARKET"}},
		{"Good Friday", Options{Seed: 5, Start: utc("2026-04-03T13:00:00Z"), Duration: 30 * time.Minute}, true,
			map[string]string{"NewYork": "HOLIDAY", "London": "HOLIDAY", "Chicago": "OPEN", "Tokyo": "CLOSED"}},
		{"zero duration", Options{Seed: 6, Duration: time.Millisecond}, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := mustGenerate(t, tc.o)
			st, problems := ValidateStats(bytes.NewReader(out), tc.name)
			for _, p := range problems {
				t.Error(p)
			}
			if got := st.Types[TypeTick] > 0; got != tc.ticks {
				t.Errorf("ticks: %d, want some = %v", st.Types[TypeTick], tc.ticks)
			}
			for m, want := range tc.statuses {
				if got := st.Markets[m].Status; got != want {
					t.Errorf("%s is %s at the end, want %s", m, got, want)
				}
			}
			if st.Events > 0 && st.First.Before(tc.o.Start) {
				t.Errorf("first event at %s, before the start %s", st.First, tc.o.Start)
			}
		})
	}
}

// openFixture reads a committed fixture.
func openFixture(t *testing.T, name string) *Reader {
	t.Helper()
	r, err := Open(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// The accounting of the generated fills, checked from the session alone:
// every position change is a fill at the price of a print of that size just
// before it; the average price follows the weighted-average rules with 4
// decimals; the account event after it moves cash by exactly the realized
// P&L less the commission; buying power is 4× cash. And the accounts open,
// add to, reduce, close and flip positions.
func TestGeneratedAccounting(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			r := openFixture(t, fx.file)
			h := r.Header()
			spec := map[string]*instrumentSpec{}
			for i := range instrumentSpecs {
				spec[instrumentSpecs[i].symbol] = &instrumentSpecs[i]
			}
			type print struct {
				t     time.Time
				price int64
				size  int64
			}
			type key struct{ acct, sym string }
			recent := map[string][]print{} // recent prints per symbol
			pos := map[key]holding{}
			cash := map[string]int64{}
			expect := map[string]int64{} // cash change expected at the next account event
			actions := map[string]int{}
			units := func(v float64, per float64, what string, e Event) int64 {
				u := math.Round(v * per)
				if math.Abs(v*per-u) > 1e-6 {
					t.Fatalf("seq %d: %s %v has more decimals than %v allows", e.Seq, what, v, per)
				}
				return int64(u)
			}
			for {
				e, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case e.Tick != nil:
					p := print{e.T, units(e.Tick.Price, priceUnit, "price", e), e.Tick.Size}
					rs := append(recent[e.Tick.Symbol], p)
					if len(rs) > 20 {
						rs = rs[1:]
					}
					recent[e.Tick.Symbol] = rs
				case e.Position != nil:
					p := e.Position
					k := key{p.AccountID, p.Symbol}
					avg := units(p.AvgPrice, priceUnit, "avg_price", e)
					prev, seen := pos[k]
					pos[k] = holding{p.Qty, avg}
					if !seen && e.T.Equal(h.Start) {
						continue // carried from the day before
					}
					q, f := prev.qty, p.Qty-prev.qty
					abs, fabs := abs64(q), abs64(f)
					sp := spec[p.Symbol]
					var action string
					switch {
					case q == 0:
						action = "open"
					case p.Qty == 0:
						action = "close"
					case (q > 0) != (p.Qty > 0):
						action = "flip"
					case abs64(p.Qty) > abs:
						action = "add"
					default:
						action = "reduce"
					}
					actions[action]++
					// Find the fill's print: same size, within the lag.
					var ok bool
					var realized int64
					for _, pr := range recent[p.Symbol] {
						if pr.size != fabs || e.T.Sub(pr.t) > fillLagMs*time.Millisecond {
							continue
						}
						px := pr.price
						var wantAvg int64
						realized = 0
						switch action {
						case "open", "add":
							wantAvg = divRound(prev.avg*abs+px*fabs, abs+fabs)
						default:
							closed := min(abs, fabs)
							sign := int64(1)
							if q < 0 {
								sign = -1
							}
							realized = divRound((px-prev.avg)*closed*sign*sp.multiplier, priceUnit/100)
							switch action {
							case "reduce":
								wantAvg = prev.avg
							case "close":
								wantAvg = 0
							case "flip":
								wantAvg = px
							}
						}
						if wantAvg == avg {
							ok = true
							break
						}
					}
					if !ok {
						t.Fatalf("seq %d: %s %s %d→%d avg %v: no print of size %d in the %d ms before fits the average-price rules",
							e.Seq, p.AccountID, action, q, p.Qty, p.AvgPrice, fabs, fillLagMs)
					}
					expect[p.AccountID] += realized - sp.feeCents*fabs
				case e.Account != nil:
					a := e.Account
					c := units(a.Cash, 100, "cash", e)
					if bp := units(a.BuyingPower, 100, "buying_power", e); bp != 4*c {
						t.Fatalf("seq %d: buying power %v is not 4 × cash %v", e.Seq, a.BuyingPower, a.Cash)
					}
					if prev, seen := cash[a.AccountID]; seen {
						if got, want := c-prev, expect[a.AccountID]; got != want {
							t.Fatalf("seq %d: %s cash moved by %d cents, want %d (realized P&L less fees)", e.Seq, a.AccountID, got, want)
						}
					}
					cash[a.AccountID] = c
					expect[a.AccountID] = 0
				}
			}
			for _, a := range []string{"open", "add", "reduce", "close", "flip"} {
				if actions[a] == 0 {
					t.Errorf("no fill does %q (actions: %v)", a, actions)
				}
			}
			if len(cash) < 2 {
				t.Errorf("%d accounts trade, want 2 or more", len(cash))
			}
			t.Logf("fills: %v", actions)
		})
	}
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// Ticks cluster at the open and the close of the US regular session.
func TestGeneratedIntensityIsUShaped(t *testing.T) {
	r := openFixture(t, "rth-full.jsonl.gz")
	start := r.Header().Start
	var open, mid, close int
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Type != TypeTick {
			continue
		}
		switch d := e.T.Sub(start); {
		case d < 10*time.Minute:
			open++
		case d >= 3*time.Hour && d < 3*time.Hour+10*time.Minute:
			mid++
		case d >= 6*time.Hour+20*time.Minute:
			close++
		}
	}
	t.Logf("ticks in 10 minutes: %d after the open, %d mid-session, %d before the close", open, mid, close)
	if open < 2*mid || close < 2*mid {
		t.Errorf("not U-shaped: %d at the open, %d mid-session, %d at the close", open, mid, close)
	}
}

// Every market status in the full fixture is what the market's schedule
// says at that time, and the transitions a dashboard would show happen.
func TestGeneratedMarketStatuses(t *testing.T) {
	r := openFixture(t, "rth-full.jsonl.gz")
	h := r.Header()
	ms, err := loadMarkets()
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Markets) < 20 {
		t.Errorf("%d markets, want 20 or more", len(h.Markets))
	}
	seen := map[string]bool{}
	initial := 0
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.MarketStatus == nil {
			continue
		}
		m := findMarket(ms, e.MarketStatus.Market)
		if want, _ := m.statusAt(e.T); want != e.MarketStatus.Status {
			t.Errorf("seq %d: %s %s at %s, the schedule says %s", e.Seq, m.name, e.MarketStatus.Status, e.T, want)
		}
		if e.T.Equal(h.Start) {
			initial++
		}
		seen[e.MarketStatus.Market+" "+e.MarketStatus.Status+" "+e.T.Format("15:04")] = true
	}
	if initial != len(h.Markets) {
		t.Errorf("%d statuses at the start, want one per market (%d)", initial, len(h.Markets))
	}
	for _, want := range []string{
		"Seoul HOLIDAY 14:30", "NewYork OPEN 14:30", "Mexico City OPEN 14:30",
		"Seoul CLOSED 15:00", // the day after the holiday begins
		"London POSTMARKET 16:30", "London CLOSED 16:40", "Frankfurt POSTMARKET 16:30",
		"Sydney PREMARKET 20:00", "NewYork POSTMARKET 21:00", "Toronto POSTMARKET 21:00",
	} {
		if !seen[want] {
			t.Errorf("no %s", want)
		}
	}
}

// Generate streams: what it holds does not grow with the session.
func TestGenerateHoldsLittle(t *testing.T) {
	g, err := newGenerator(io.Discard, Options{Seed: 1, Duration: 2 * time.Hour, Rate: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.run(); err != nil {
		t.Fatal(err)
	}
	if g.seq < 50000 {
		t.Fatalf("only %d events", g.seq)
	}
	if g.mostPending > 200 {
		t.Errorf("up to %d events waited in memory", g.mostPending)
	}
}

func TestFixtureIsTheShortOneDescribed(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtureDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, fx := range fixtures {
		if !strings.Contains(string(b), fx.file) {
			t.Errorf("README.md does not describe %s", fx.file)
		}
		if !strings.Contains(string(b), "--seed "+strconv.FormatInt(fx.opts.Seed, 10)) {
			t.Errorf("README.md does not give the seed of %s", fx.file)
		}
	}
}

// Ticks follow CME Globex: none before the Sunday open.
func TestNoTicksBeforeGlobexOpens(t *testing.T) {
	start := time.Date(2026, 3, 8, 21, 0, 0, 0, time.UTC) // 16:00 CDT
	out := mustGenerate(t, Options{Seed: 9, Start: start, Duration: 2 * time.Hour})
	r, err := NewReader(bytes.NewReader(out), "sunday")
	if err != nil {
		t.Fatal(err)
	}
	open := time.Date(2026, 3, 8, 22, 0, 0, 0, time.UTC)
	ticks := 0
	for {
		e, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if e.Tick != nil {
			ticks++
			if e.T.Before(open) {
				t.Fatalf("tick at %s, before Globex opens at %s", e.T, open)
			}
		}
	}
	if ticks == 0 {
		t.Error("no ticks after the open")
	}
}

// A status change exactly at the end is in the session, also when the
// generator skips ahead over a closed market to reach it.
func TestGenerateKeepsTheChangeAtTheEnd(t *testing.T) {
	// From Saturday noon in Chicago to the Globex open on Sunday, 17:00 CDT
	// (the clocks went forward at 02:00 that Sunday).
	start := time.Date(2026, 3, 7, 18, 0, 0, 0, time.UTC)
	end := time.Date(2026, 3, 8, 22, 0, 0, 0, time.UTC)
	out := mustGenerate(t, Options{Seed: 1, Start: start, Duration: end.Sub(start)})
	st, problems := ValidateStats(bytes.NewReader(out), "weekend")
	for _, p := range problems {
		t.Error(p)
	}
	if got := st.Markets["Chicago"].Status; got != "OPEN" || !st.Last.Equal(end) {
		t.Errorf("Chicago is %s at the end, the last event at %s; want OPEN at %s", got, st.Last, end)
	}
}
