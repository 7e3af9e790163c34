package refstack

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/thor-trading/cutover-harness/harness/session"
)

// Model derives what the stack shows from session events: balances,
// positions, intraday bars and market status. It knows nothing of HTTP; the
// server feeds it and renders what it returns. A Model is not safe for
// concurrent use.
//
// Rules (DESIGN.md):
//   - last[symbol] is the latest tick price; before any tick of the symbol a
//     position uses its own avg_price.
//   - position: market_value = qty*last*multiplier, unrealized_pnl =
//     (last-avg_price)*qty*multiplier; a closed position (qty 0) stays
//     listed with both 0.
//   - balance: net_liq = cash + Σ unrealized_pnl over the account's open
//     positions, summed unrounded; an account has a balance once its first
//     account event arrived.
//   - bars: 1-minute OHLCV per symbol by event time (minute floor, UTC) from
//     ticks; a bar closes when the first event of any type of a later minute
//     arrives.
//   - market status: the latest status per market.
//   - an instrument missing from the header has multiplier 1.
//
// Apply returns a message for every item whose output value (money at 2
// decimals) changed, in the contract's order: market status, bars closed by
// the event's minute, positions, balances; within a type by key.
type Model struct {
	seq         int64
	lastT       time.Time
	events      int64
	instruments map[string]session.Instrument

	last map[string]float64 // latest tick price per symbol

	accounts   map[string]*account
	balanceIDs []string // accounts with a balance, sorted

	positions map[[2]string]*position
	posList   []*position            // sorted by account, symbol
	bySymbol  map[string][]*position // sorted by account
	byAccount map[string][]*position

	open       map[string]*Bar // open bar per symbol, all of minute openMinute
	openSyms   []string        // sorted
	openMinute time.Time
	closed     map[string][]Bar // closed bars per symbol, by start; append-only within a session
	barSyms    []string         // symbols with closed bars, sorted

	markets     map[string]string
	marketNames []string // sorted
}

type account struct {
	cash, buyingPower float64
	has               bool // an account event arrived
	sent              bool // out was derived at least once
	out               Balance
}

type position struct {
	account, symbol string
	qty             int64
	avg             float64
	out             Position
}

// NewModel returns an empty model (no instruments, seq 0).
func NewModel() *Model {
	m := &Model{}
	m.Reset(session.Header{})
	return m
}

// Reset starts a new session: all state goes, instruments come from h.
func (m *Model) Reset(h session.Header) {
	*m = Model{
		events:      m.events,
		instruments: make(map[string]session.Instrument, len(h.Instruments)),
		last:        map[string]float64{},
		accounts:    map[string]*account{},
		positions:   map[[2]string]*position{},
		bySymbol:    map[string][]*position{},
		byAccount:   map[string][]*position{},
		open:        map[string]*Bar{},
		closed:      map[string][]Bar{},
		markets:     map[string]string{},
	}
	for sym, in := range h.Instruments {
		m.instruments[sym] = in
	}
}

// Seq is the seq of the last event applied (0 after Reset).
func (m *Model) Seq() int64 { return m.seq }

// LastTime is the time of the last event applied (zero after Reset).
func (m *Model) LastTime() time.Time { return m.lastT }

// Apply applies one event and returns the messages it causes. The event must
// be valid (see CheckEvent); Apply does not check it.
func (m *Model) Apply(ev session.Event) []Message { return m.appendApply(nil, ev) }

func (m *Model) appendApply(dst []Message, ev session.Event) []Message {
	m.seq, m.lastT = ev.Seq, ev.T
	m.events++
	minute := ev.T.UTC().Truncate(time.Minute)

	if ms := ev.MarketStatus; ms != nil {
		if old, ok := m.markets[ms.Market]; !ok || old != ms.Status {
			if !ok {
				m.marketNames = insertSorted(m.marketNames, ms.Market)
			}
			m.markets[ms.Market] = ms.Status
			dst = append(dst, Message{Feature: GlobalMarket, Seq: ev.Seq, Market: &Market{Market: ms.Market, Status: ms.Status}})
		}
	}

	if len(m.openSyms) > 0 && minute.After(m.openMinute) {
		for _, sym := range m.openSyms {
			bar := *m.open[sym]
			delete(m.open, sym)
			if _, ok := m.closed[sym]; !ok {
				m.barSyms = insertSorted(m.barSyms, sym)
			}
			m.closed[sym] = append(m.closed[sym], bar)
			dst = append(dst, Message{Feature: IntradayBars, Seq: ev.Seq, Bar: &bar})
		}
		m.openSyms = m.openSyms[:0]
	}

	switch {
	case ev.Tick != nil:
		dst = m.applyTick(dst, ev.Seq, minute, *ev.Tick)
	case ev.Account != nil:
		a := m.account(ev.Account.AccountID)
		a.cash, a.buyingPower = ev.Account.Cash, ev.Account.BuyingPower
		if !a.has {
			a.has = true
			m.balanceIDs = insertSorted(m.balanceIDs, ev.Account.AccountID)
		}
		dst = m.updateBalance(dst, ev.Seq, ev.Account.AccountID, a)
	case ev.Position != nil:
		dst = m.applyPosition(dst, ev.Seq, *ev.Position)
	}
	return dst
}

func (m *Model) applyTick(dst []Message, seq int64, minute time.Time, t session.Tick) []Message {
	m.last[t.Symbol] = t.Price
	if b := m.open[t.Symbol]; b != nil {
		b.High = max(b.High, t.Price)
		b.Low = min(b.Low, t.Price)
		b.Close = t.Price
		b.Volume += t.Size
	} else {
		m.open[t.Symbol] = &Bar{Symbol: t.Symbol, Start: minute, Open: t.Price, High: t.Price, Low: t.Price, Close: t.Price, Volume: t.Size}
		m.openSyms = insertSorted(m.openSyms, t.Symbol)
		m.openMinute = minute
	}
	held := m.bySymbol[t.Symbol]
	for _, p := range held {
		dst = m.updatePosition(dst, seq, p, false)
	}
	for _, p := range held {
		if a := m.accounts[p.account]; a != nil && a.has {
			dst = m.updateBalance(dst, seq, p.account, a)
		}
	}
	return dst
}

func (m *Model) applyPosition(dst []Message, seq int64, ev session.Position) []Message {
	k := [2]string{ev.AccountID, ev.Symbol}
	p, ok := m.positions[k]
	if !ok {
		p = &position{account: ev.AccountID, symbol: ev.Symbol}
		m.positions[k] = p
		m.posList = insertSortedFunc(m.posList, p, comparePositions)
		m.bySymbol[ev.Symbol] = insertSortedFunc(m.bySymbol[ev.Symbol], p, comparePositions)
		m.byAccount[ev.AccountID] = append(m.byAccount[ev.AccountID], p)
	}
	p.qty, p.avg = ev.Qty, ev.AvgPrice
	dst = m.updatePosition(dst, seq, p, !ok)
	if a := m.accounts[ev.AccountID]; a != nil && a.has {
		dst = m.updateBalance(dst, seq, ev.AccountID, a)
	}
	return dst
}

func (m *Model) account(id string) *account {
	a := m.accounts[id]
	if a == nil {
		a = &account{}
		m.accounts[id] = a
	}
	return a
}

func (m *Model) multiplier(symbol string) float64 {
	if in, ok := m.instruments[symbol]; ok && in.Multiplier != 0 {
		return in.Multiplier
	}
	return 1
}

// derivePosition computes p's output from the current state, unrounded.
func (m *Model) derivePosition(p *position) Position {
	last, ok := m.last[p.symbol]
	if !ok {
		last = p.avg
	}
	out := Position{AccountID: p.account, Symbol: p.symbol, Qty: p.qty, AvgPrice: p.avg, Last: last}
	if p.qty != 0 {
		q, mult := float64(p.qty), m.multiplier(p.symbol)
		out.MarketValue = q * last * mult
		out.UnrealizedPnL = (last - p.avg) * q * mult
	}
	return out
}

func (m *Model) updatePosition(dst []Message, seq int64, p *position, isNew bool) []Message {
	out := m.derivePosition(p)
	changed := isNew || out.Rounded(MoneyDecimals) != p.out.Rounded(MoneyDecimals)
	p.out = out
	if changed {
		dst = append(dst, Message{Feature: Positions, Seq: seq, Position: &out})
	}
	return dst
}

func (m *Model) updateBalance(dst []Message, seq int64, id string, a *account) []Message {
	out := Balance{AccountID: id, Cash: a.cash, BuyingPower: a.buyingPower, NetLiq: a.cash}
	for _, p := range m.byAccount[id] {
		if p.qty != 0 {
			out.NetLiq += p.out.UnrealizedPnL
		}
	}
	changed := !a.sent || out.Rounded(MoneyDecimals) != a.out.Rounded(MoneyDecimals)
	a.out, a.sent = out, true
	if changed {
		dst = append(dst, Message{Feature: AccountBalance, Seq: seq, Balance: &out})
	}
	return dst
}

// Balances lists the balances, sorted by account_id (money unrounded).
func (m *Model) Balances() []Balance {
	out := make([]Balance, 0, len(m.balanceIDs))
	for _, id := range m.balanceIDs {
		out = append(out, m.accounts[id].out)
	}
	return out
}

// Positions lists the positions, closed ones included, sorted by
// account_id then symbol (money unrounded).
func (m *Model) Positions() []Position {
	out := make([]Position, 0, len(m.posList))
	for _, p := range m.posList {
		out = append(out, p.out)
	}
	return out
}

// Bars lists the closed bars of symbol by start; symbol "" lists every
// symbol's, by symbol then start. The open bar is not listed.
func (m *Model) Bars(symbol string) []Bar {
	if symbol != "" {
		return slices.Clone(m.closed[symbol])
	}
	var out []Bar
	for _, sym := range m.barSyms {
		out = append(out, m.closed[sym]...)
	}
	return out
}

// closedBars shares the closed-bar lists (read-only, append-only): a cheap
// snapshot.
func (m *Model) closedBars() map[string][]Bar {
	out := make(map[string][]Bar, len(m.closed))
	for sym, bars := range m.closed {
		out[sym] = slices.Clip(bars)
	}
	return out
}

// Markets lists the market statuses, sorted by market.
func (m *Model) Markets() []Market {
	out := make([]Market, 0, len(m.marketNames))
	for _, name := range m.marketNames {
		out = append(out, Market{Market: name, Status: m.markets[name]})
	}
	return out
}

func comparePositions(a, b *position) int {
	return cmp.Or(strings.Compare(a.account, b.account), strings.Compare(a.symbol, b.symbol))
}

func insertSorted(s []string, v string) []string {
	i, found := slices.BinarySearch(s, v)
	if found {
		return s
	}
	return slices.Insert(s, i, v)
}

func insertSortedFunc[T any](s []T, v T, cmp func(T, T) int) []T {
	i, _ := slices.BinarySearchFunc(s, v, cmp)
	return slices.Insert(s, i, v)
}
