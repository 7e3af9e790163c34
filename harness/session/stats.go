package session

import (
	"io"
	"math"
	"time"
)

// Stats summarises a session: what harness session inspect prints, and
// what a replay or load run needs to size itself (events, span, peak rate).
// Build one with NewStats and Add, or with Inspect or ValidateStats.
type Stats struct {
	File   string    `json:"file"`
	Format string    `json:"format"`
	Name   string    `json:"name"`
	Seed   int64     `json:"seed,omitempty"`
	Start  time.Time `json:"start"` // the header's start

	Events   int64            `json:"events"`
	Types    map[string]int64 `json:"types"` // events per type
	FirstSeq int64            `json:"first_seq"`
	LastSeq  int64            `json:"last_seq"`
	First    time.Time        `json:"first_t"` // time of the first event
	Last     time.Time        `json:"last_t"`  // time of the last event

	// SpanSeconds is Last − First. EventsPerSecond is Events over the span
	// (0 when the span is 0). PeakPerSecond is the most events in one
	// wall-clock second of event time, the second starting at PeakSecond.
	SpanSeconds     float64   `json:"span_seconds"`
	EventsPerSecond float64   `json:"events_per_second"`
	PeakPerSecond   int64     `json:"peak_per_second"`
	PeakSecond      time.Time `json:"peak_second"`

	// Per symbol, account and market, including those the header lists
	// that no event mentions.
	Symbols  map[string]*SymbolStats  `json:"symbols"`
	Accounts map[string]*AccountStats `json:"accounts"`
	Markets  map[string]*MarketStats  `json:"markets"`

	second      int64 // Unix second being counted
	secondCount int64
}

// SymbolStats is what the session says about one symbol.
type SymbolStats struct {
	Ticks     int64   `json:"ticks"`
	Volume    int64   `json:"volume"` // sum of tick sizes
	First     float64 `json:"first"`  // price of the first tick
	Last      float64 `json:"last"`   // price of the last tick
	Low       float64 `json:"low"`
	High      float64 `json:"high"`
	Positions int64   `json:"position_events"`
}

// AccountStats is what the session says about one account.
type AccountStats struct {
	Balances    int64   `json:"account_events"`
	Positions   int64   `json:"position_events"`
	Cash        float64 `json:"cash"`         // from the last account event
	BuyingPower float64 `json:"buying_power"` // from the last account event
	Open        int     `json:"open_positions"`

	qty map[string]int64
}

// MarketStats is what the session says about one market.
type MarketStats struct {
	Events int64  `json:"events"`
	Status string `json:"status"` // the last status
}

// NewStats starts the statistics of the session file named file with
// header h.
func NewStats(file string, h Header) *Stats {
	s := &Stats{
		File: file, Format: h.Format, Name: h.Name, Seed: h.Seed, Start: h.Start,
		Types:    map[string]int64{},
		Symbols:  map[string]*SymbolStats{},
		Accounts: map[string]*AccountStats{},
		Markets:  map[string]*MarketStats{},
	}
	for sym := range h.Instruments {
		s.symbol(sym)
	}
	for _, a := range h.Accounts {
		s.account(a)
	}
	for _, m := range h.Markets {
		s.market(m)
	}
	return s
}

func (s *Stats) symbol(sym string) *SymbolStats {
	st := s.Symbols[sym]
	if st == nil {
		st = &SymbolStats{}
		s.Symbols[sym] = st
	}
	return st
}

func (s *Stats) account(id string) *AccountStats {
	st := s.Accounts[id]
	if st == nil {
		st = &AccountStats{qty: map[string]int64{}}
		s.Accounts[id] = st
	}
	return st
}

func (s *Stats) market(m string) *MarketStats {
	st := s.Markets[m]
	if st == nil {
		st = &MarketStats{}
		s.Markets[m] = st
	}
	return st
}

// Add counts one event.
func (s *Stats) Add(e Event) {
	if s.Events == 0 {
		s.FirstSeq, s.First = e.Seq, e.T
	}
	s.Events++
	s.LastSeq, s.Last = e.Seq, e.T
	s.Types[e.Type]++

	if sec := e.T.Unix(); s.secondCount == 0 || sec != s.second {
		s.second, s.secondCount = sec, 1
	} else {
		s.secondCount++
	}
	if s.secondCount > s.PeakPerSecond {
		s.PeakPerSecond = s.secondCount
		s.PeakSecond = time.Unix(s.second, 0).UTC()
	}
	if span := s.Last.Sub(s.First); span > 0 {
		s.SpanSeconds = span.Seconds()
		s.EventsPerSecond = math.Round(float64(s.Events)/s.SpanSeconds*1000) / 1000
	}

	switch {
	case e.Tick != nil:
		st := s.symbol(e.Tick.Symbol)
		p := e.Tick.Price
		if st.Ticks == 0 {
			st.First, st.Low, st.High = p, p, p
		}
		st.Ticks++
		st.Volume += e.Tick.Size
		st.Last = p
		st.Low = min(st.Low, p)
		st.High = max(st.High, p)
	case e.Account != nil:
		st := s.account(e.Account.AccountID)
		st.Balances++
		st.Cash, st.BuyingPower = e.Account.Cash, e.Account.BuyingPower
	case e.Position != nil:
		p := e.Position
		s.symbol(p.Symbol).Positions++
		st := s.account(p.AccountID)
		st.Positions++
		st.qty[p.Symbol] = p.Qty
		st.Open = 0
		for _, q := range st.qty {
			if q != 0 {
				st.Open++
			}
		}
	case e.MarketStatus != nil:
		st := s.market(e.MarketStatus.Market)
		st.Events++
		st.Status = e.MarketStatus.Status
	}
}

// Span is the time from the first event to the last.
func (s *Stats) Span() time.Duration { return s.Last.Sub(s.First) }

// Inspect reads r to its end and returns its statistics. It stops at the
// first line that does not decode (Validate reports them all).
func Inspect(r *Reader) (*Stats, error) {
	s := NewStats(r.Name(), r.Header())
	for {
		_, e, err := r.NextRaw()
		if err == io.EOF {
			return s, nil
		}
		if err != nil {
			return s, err
		}
		s.Add(e)
	}
}
