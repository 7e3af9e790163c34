package session

import (
	"container/heap"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"
)

// Options say what session Generate makes. The zero of each field has the
// meaning its comment gives.
type Options struct {
	// Seed makes the session: the same seed and options give the same
	// bytes, on every platform (the generator uses integer arithmetic only).
	Seed int64
	// Start is the start of the session clock; a whole millisecond.
	// Zero: DefaultStart, the US open of Monday 2026-03-02.
	Start time.Time
	// Duration of the session. Ticks and fills happen in
	// [Start, Start+Duration); market status changes in
	// [Start, Start+Duration], so a session that ends at a close shows the
	// close, and that last event closes the last minute bar.
	// Zero: DefaultDuration, one US regular session.
	Duration time.Duration
	// Name is the header's name. Zero: "session-" and the start as
	// 20060102T1504Z.
	Name string
	// Accounts is how many accounts trade (ACC-1 … ACC-n). Zero: 3.
	Accounts int
	// Rate scales the tick and fill intensity. Zero: 1, which is about 4
	// ticks a second across the four symbols in mid-session, 5 times that
	// at the US open and 4 times at the close, and one fill a minute per
	// account in mid-session. A symbol never ticks more than 100 times a
	// second.
	Rate float64
}

// Defaults of Options.
var DefaultStart = time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)

const (
	DefaultDuration = 6*time.Hour + 30*time.Minute
	DefaultAccounts = 3
)

// instrumentSpec is a traded future. Prices are in units of 1e-4 (the
// finest decimal avg_price carries), money in cents, so every derivation
// of the session is exact.
type instrumentSpec struct {
	symbol     string
	multiplier int64
	tick       int64 // tick size, in price units
	level      int64 // price level the session starts around
	feeCents   int64 // commission per contract per fill
	rate       int64 // ticks per second in mid-session, in millionths
	maxStep    int   // largest price move of one tick, in ticks
	flatPct    int   // share of ticks that do not move the price
	maxOpen    int64 // largest opening or adding fill
	weight     int   // share of the fills
}

const priceUnit = 10000 // price units per dollar

var instrumentSpecs = []instrumentSpec{
	{"ES", 50, 2500, 6850 * priceUnit, 225, 1_600_000, 1, 55, 5, 40},
	{"NQ", 20, 2500, 24800 * priceUnit, 225, 1_200_000, 3, 35, 3, 25},
	{"CL", 1000, 100, 66_5000, 250, 800_000, 2, 40, 4, 20},
	{"GC", 100, 1000, 4100 * priceUnit, 250, 500_000, 4, 35, 3, 15},
}

const (
	slotMs       = 10            // the generator decides per 10 ms of session clock
	fillRate     = 16_667        // fills per second per account in mid-session, in millionths
	boostOpen    = 4000          // extra intensity at the US open, per mille
	boostClose   = 3000          // extra intensity at the US close, per mille
	boostTau     = 8 * 60 * 1000 // how fast the boosts fade, ms
	overnight    = 150           // intensity outside US regular hours, per mille
	maxPosition  = 10            // largest position, contracts
	buyingPowerX = 4             // buying power is this many times cash
	fillLagMs    = 20            // a position event follows its fill by at most this
	balanceLagMs = 5             // an account event follows its position event by at most this
	endMarginMs  = fillLagMs + balanceLagMs + 1
)

var accountCash = []int64{100_000_00, 250_000_00, 500_000_00, 1_000_000_00}

// Generate writes a seeded, realistic session to w (plain JSON Lines; wrap
// w in gzip for .jsonl.gz). It streams: memory does not grow with Duration.
//
// The session has ticks for ES, NQ, CL and GC on their tick grids,
// random-walking around realistic levels, while CME Globex is open, with a
// U-shaped intensity over the US regular session; accounts that open, add
// to, reduce, close and flip positions at the market, their cash moving by
// realized P&L and commissions (buying power 4× cash); and the status of
// 24 global markets following their local schedules, from their status at
// Start on.
func Generate(w io.Writer, opts Options) error {
	g, err := newGenerator(w, opts)
	if err != nil {
		return err
	}
	if err := g.run(); err != nil {
		g.w.Close()
		return err
	}
	return g.w.Close()
}

type symbolState struct {
	spec  *instrumentSpec
	price int64
}

type holding struct {
	qty int64
	avg int64 // price units; 0 when flat
}

type accountState struct {
	id   string
	cash int64 // cents
	pos  []holding
}

type marketCursor struct {
	name string
	cursor
}

type generator struct {
	w           *Writer
	rng         *rand.PCG
	header      Header
	start       int64 // Unix ms
	end         int64
	rate        int64 // per mille
	seq         int64
	order       uint64
	pending     pendingEvents
	mostPending int // the most events pending at once, for tests
	symbols     []symbolState
	accounts    []accountState
	markets     []marketCursor
	ny, cme     cursor
}

func newGenerator(w io.Writer, opts Options) (*generator, error) {
	if opts.Start.IsZero() {
		opts.Start = DefaultStart
	}
	if opts.Start.Nanosecond()%int(time.Millisecond) != 0 {
		return nil, fmt.Errorf("start %s is not a whole millisecond", opts.Start.Format(time.RFC3339Nano))
	}
	if opts.Duration == 0 {
		opts.Duration = DefaultDuration
	}
	if opts.Duration < 0 {
		return nil, fmt.Errorf("duration %s is negative", opts.Duration)
	}
	if opts.Accounts == 0 {
		opts.Accounts = DefaultAccounts
	}
	if opts.Accounts < 0 || opts.Accounts > 1000 {
		return nil, fmt.Errorf("accounts %d: want 1..1000", opts.Accounts)
	}
	if opts.Rate == 0 {
		opts.Rate = 1
	}
	if !(opts.Rate > 0) || opts.Rate > 1000 {
		return nil, fmt.Errorf("rate %v: want a scale above 0, at most 1000", opts.Rate)
	}
	rate := int64(math.Round(opts.Rate * 1000))
	if rate == 0 {
		return nil, fmt.Errorf("rate %v is too small (the finest scale is 0.001)", opts.Rate)
	}
	if opts.Name == "" {
		opts.Name = "session-" + opts.Start.UTC().Format("20060102T1504Z")
	}
	ms, err := loadMarkets()
	if err != nil {
		return nil, err
	}

	g := &generator{
		w:     NewWriter(w),
		rng:   rand.NewPCG(uint64(opts.Seed), 0x74686f722d736573), // "thor-ses"
		start: opts.Start.UnixMilli(),
		rate:  rate,
	}
	g.end = g.start + opts.Duration.Milliseconds()
	g.header = Header{
		Format:      Format,
		Name:        opts.Name,
		Start:       opts.Start.UTC(),
		Seed:        opts.Seed,
		Instruments: map[string]Instrument{},
	}
	for i := range instrumentSpecs {
		spec := &instrumentSpecs[i]
		g.header.Instruments[spec.symbol] = Instrument{
			Multiplier: float64(spec.multiplier),
			TickSize:   float64(spec.tick) / priceUnit,
		}
		// Start within ±100 ticks of the level.
		g.symbols = append(g.symbols, symbolState{spec: spec, price: spec.level + int64(g.intn(201)-100)*spec.tick})
	}
	for i := 1; i <= opts.Accounts; i++ {
		a := accountState{
			id:   fmt.Sprintf("ACC-%d", i),
			cash: accountCash[g.intn(len(accountCash))],
			pos:  make([]holding, len(instrumentSpecs)),
		}
		g.accounts = append(g.accounts, a)
		g.header.Accounts = append(g.header.Accounts, a.id)
	}
	for _, m := range ms {
		g.markets = append(g.markets, marketCursor{m.name, newCursor(m, g.start)})
		g.header.Markets = append(g.header.Markets, m.name)
	}
	g.ny = newCursor(findMarket(ms, "NewYork"), g.start)
	g.cme = newCursor(findMarket(ms, "Chicago"), g.start)
	return g, nil
}

// intn returns a uniform int in [0, n) (n > 0). The modulo bias is below
// 1e-9 for the n used here; what matters is that the stream of values is
// fixed for a seed.
func (g *generator) intn(n int) int { return int(g.rng.Uint64() % uint64(n)) }

// perSlot turns a rate in millionths per second into the probability of
// one event in a slot, in units of 1e-8.
func perSlot(rate int64) int64 { return rate * slotMs / 10 }

// chance reports true with probability p/1e8.
func (g *generator) chance(p int64) bool { return int64(g.rng.Uint64()%100_000_000) < p }

func (g *generator) run() error {
	if err := g.w.WriteHeader(g.header); err != nil {
		return err
	}
	if g.end <= g.start {
		return nil
	}
	// The state at Start: every market's status, every account's balance,
	// the positions some accounts carry from the day before.
	for i := range g.markets {
		g.push(g.start, marketEvent(g.markets[i].name, g.markets[i].status))
	}
	for i := range g.accounts {
		a := &g.accounts[i]
		g.push(g.start, a.balance())
		if g.intn(2) == 0 {
			k := g.intn(len(g.symbols))
			s := &g.symbols[k]
			qty := int64(1 + g.intn(int(s.spec.maxOpen)))
			if g.intn(2) == 0 {
				qty = -qty
			}
			// A carried average: any 1e-4 within 20 ticks of the price.
			avg := s.price - 20*s.spec.tick + int64(g.intn(int(40*s.spec.tick)+1))
			a.pos[k] = holding{qty: qty, avg: avg}
			g.push(g.start, a.position(k, s.spec.symbol))
		}
	}

	for s := g.start; s < g.end; {
		slotEnd := min(s+slotMs, g.end)
		next := slotEnd
		for i := range g.markets {
			c := &g.markets[i]
			for c.until < slotEnd {
				c.advance()
				g.push(c.since, marketEvent(c.name, c.status))
			}
		}
		g.ny.sync(s)
		g.cme.sync(s)
		if g.cme.status == statusOpen {
			g.trade(s, slotEnd)
		} else {
			// Nothing trades: jump to the slot of the next status change.
			wake := min(g.cme.until, g.end)
			for i := range g.markets {
				wake = min(wake, g.markets[i].until)
			}
			if wake > slotEnd {
				next = g.start + (wake-g.start)/slotMs*slotMs
				next = max(next, slotEnd)
			}
		}
		if err := g.emit(slotEnd); err != nil {
			return err
		}
		s = next
	}
	// A change exactly at the end belongs to the session: a session that
	// ends at a close shows it.
	for i := range g.markets {
		c := &g.markets[i]
		for c.until <= g.end {
			c.advance()
			g.push(c.since, marketEvent(c.name, c.status))
		}
	}
	return g.emit(g.end + 1)
}

// intensity is the per-mille scale of trading at ms t: U-shaped over the
// US regular session, low overnight.
func (g *generator) intensity(t int64) int64 {
	if g.ny.status != statusOpen {
		return overnight
	}
	x := t - g.ny.since // since the open
	y := g.ny.until - t // until the close
	const tau2 = int64(boostTau) * boostTau
	u := int64(1000)
	u += boostOpen * tau2 / ((x + boostTau) * (x + boostTau))
	u += boostClose * tau2 / ((y + boostTau) * (y + boostTau))
	return u
}

// trade decides the ticks and fills of the slot [s, slotEnd).
func (g *generator) trade(s, slotEnd int64) {
	u := g.intensity(s) * g.rate / 1000 // per mille
	for i := range g.symbols {
		sym := &g.symbols[i]
		if !g.chance(perSlot(sym.spec.rate * u / 1000)) {
			continue
		}
		t := s + int64(g.intn(int(slotEnd-s)))
		g.step(sym)
		g.push(t, tickEvent(sym.spec, sym.price, g.tickSize()))
	}
	for i := range g.accounts {
		if !g.chance(perSlot(fillRate * u / 1000)) {
			continue
		}
		t := s + int64(g.intn(int(slotEnd-s)))
		if t+endMarginMs >= g.end {
			continue // its position and balance would fall after the end
		}
		g.fill(&g.accounts[i], t)
	}
}

// step moves a symbol's price by a few ticks (or not at all), pulled back
// when it strays more than 3% from its level.
func (g *generator) step(s *symbolState) {
	if g.intn(100) < s.spec.flatPct {
		return
	}
	k := int64(1)
	for k < int64(s.spec.maxStep) && g.intn(100) < 35 {
		k++
	}
	down := g.intn(2) == 0
	switch drift := (s.price - s.spec.level) * 100 / s.spec.level; {
	case drift >= 3:
		down = g.intn(10) < 7
	case drift <= -3:
		down = g.intn(10) >= 7
	}
	if down {
		k = -k
	}
	if p := s.price + k*s.spec.tick; p > 0 {
		s.price = p
	}
}

// tickSize is the size of a trade print: mostly a few lots, now and then
// a block.
func (g *generator) tickSize() int64 {
	n := int64(1)
	for n < 25 && g.intn(100) < 45 {
		n++
	}
	if g.intn(100) < 2 {
		n += int64(10 + g.intn(90))
	}
	return n
}

// fill makes account a trade one symbol at the market at t: the print,
// then the position, then the balance.
func (g *generator) fill(a *accountState, t int64) {
	k := g.pickSymbol()
	sym := &g.symbols[k]
	spec := sym.spec
	h := a.pos[k]
	q := h.qty
	sign := int64(1)
	if q < 0 {
		sign = -1
	}
	abs := q * sign
	var f int64 // signed quantity filled
	switch r := g.intn(100); {
	case q == 0: // open
		f = int64(1 + g.intn(int(spec.maxOpen)))
		if g.intn(2) == 0 {
			f = -f
		}
	case r < 30 && abs < maxPosition: // add
		f = sign * int64(1+g.intn(int(min(spec.maxOpen, maxPosition-abs))))
	case r < 55 && abs > 1: // reduce
		f = -sign * int64(1+g.intn(int(abs-1)))
	case r < 80: // close
		f = -q
	default: // flip
		f = -q - sign*int64(1+g.intn(int(spec.maxOpen)))
	}
	px := sym.price
	fabs := f
	if fabs < 0 {
		fabs = -fabs
	}
	cash := -spec.feeCents * fabs
	switch {
	case q == 0 || (q > 0) == (f > 0): // open or add: weighted average
		h.avg = divRound(h.avg*abs+px*fabs, abs+fabs)
		h.qty = q + f
	default: // reduce, close or flip: realize the closed part
		closed := min(abs, fabs)
		pnl := (px - h.avg) * closed * sign * spec.multiplier // price units × contracts × multiplier
		cash += divRound(pnl, priceUnit/100)
		h.qty = q + f
		switch {
		case h.qty == 0:
			h.avg = 0
		case (h.qty > 0) != (q > 0): // flipped: the rest opened at the fill price
			h.avg = px
		}
	}
	a.pos[k] = h
	a.cash += cash

	g.push(t, tickEvent(spec, px, fabs))
	t += 1 + int64(g.intn(fillLagMs))
	g.push(t, a.position(k, spec.symbol))
	t += int64(g.intn(balanceLagMs + 1))
	g.push(t, a.balance())
}

func (g *generator) pickSymbol() int {
	total := 0
	for i := range g.symbols {
		total += g.symbols[i].spec.weight
	}
	r := g.intn(total)
	for i := range g.symbols {
		if r < g.symbols[i].spec.weight {
			return i
		}
		r -= g.symbols[i].spec.weight
	}
	return len(g.symbols) - 1
}

// divRound divides rounding half away from zero (b > 0).
func divRound(a, b int64) int64 {
	if a < 0 {
		return -((-a + b/2) / b)
	}
	return (a + b/2) / b
}

func tickEvent(spec *instrumentSpec, price, size int64) Event {
	return Event{Type: TypeTick, Tick: &Tick{Symbol: spec.symbol, Price: float64(price) / priceUnit, Size: size}}
}

func marketEvent(name, status string) Event {
	return Event{Type: TypeMarketStatus, MarketStatus: &MarketStatus{Market: name, Status: status}}
}

func (a *accountState) balance() Event {
	return Event{Type: TypeAccount, Account: &Account{
		AccountID:   a.id,
		Cash:        float64(a.cash) / 100,
		BuyingPower: float64(a.cash*buyingPowerX) / 100,
	}}
}

func (a *accountState) position(k int, symbol string) Event {
	h := a.pos[k]
	return Event{Type: TypePosition, Position: &Position{
		AccountID: a.id, Symbol: symbol, Qty: h.qty, AvgPrice: float64(h.avg) / priceUnit,
	}}
}

// push schedules e at ms t. Events at the same ms go out in push order.
func (g *generator) push(t int64, e Event) {
	g.order++
	heap.Push(&g.pending, pendingEvent{t: t, order: g.order, e: e})
	g.mostPending = max(g.mostPending, len(g.pending))
}

// emit writes every scheduled event before ms until, numbering them.
func (g *generator) emit(until int64) error {
	for len(g.pending) > 0 && g.pending[0].t < until {
		p := heap.Pop(&g.pending).(pendingEvent)
		g.seq++
		p.e.Seq = g.seq
		p.e.T = time.UnixMilli(p.t).UTC()
		if err := g.w.Write(p.e); err != nil {
			return err
		}
	}
	return nil
}

type pendingEvent struct {
	t     int64
	order uint64
	e     Event
}

// pendingEvents is a min-heap by (t, order).
type pendingEvents []pendingEvent

func (h pendingEvents) Len() int { return len(h) }
func (h pendingEvents) Less(i, j int) bool {
	if h[i].t != h[j].t {
		return h[i].t < h[j].t
	}
	return h[i].order < h[j].order
}
func (h pendingEvents) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pendingEvents) Push(x any)   { *h = append(*h, x.(pendingEvent)) }
func (h *pendingEvents) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
