package refstack

import (
	"strconv"
	"time"

	"github.com/thor-trading/cutover-harness/harness/internal/jsonw"
)

// Balance is an account_balance item. Money fields hold the unrounded
// derived values; they are rounded at output (MarshalJSON, REST, WS).
type Balance struct {
	AccountID   string
	Cash        float64
	BuyingPower float64
	NetLiq      float64 // cash + Σ unrealized_pnl over the account's open positions
}

// Position is a positions item. AvgPrice and Last are prices, output as
// given; MarketValue and UnrealizedPnL are money, rounded at output.
type Position struct {
	AccountID     string
	Symbol        string
	Qty           int64
	AvgPrice      float64
	Last          float64
	MarketValue   float64
	UnrealizedPnL float64
}

// Bar is a closed 1-minute intraday_bar item (prices as ticked).
type Bar struct {
	Symbol string
	Start  time.Time // minute floor, UTC
	Open   float64
	High   float64
	Low    float64
	Close  float64
	Volume int64
}

// Market is a market_status item.
type Market struct {
	Market string
	Status string
}

// Rounded returns b with its money rounded to n decimals.
func (b Balance) Rounded(n int) Balance {
	b.Cash = RoundMoney(b.Cash, n)
	b.BuyingPower = RoundMoney(b.BuyingPower, n)
	b.NetLiq = RoundMoney(b.NetLiq, n)
	return b
}

// Rounded returns p with its money rounded to n decimals.
func (p Position) Rounded(n int) Position {
	p.MarketValue = RoundMoney(p.MarketValue, n)
	p.UnrealizedPnL = RoundMoney(p.UnrealizedPnL, n)
	return p
}

// Message is one WS message the model derived: one item of one feature,
// stamped with the seq of the event that caused it. Exactly one item
// pointer is set, matching Feature.
type Message struct {
	Feature  Feature
	Seq      int64
	Balance  *Balance
	Position *Position
	Bar      *Bar
	Market   *Market
}

// Key is the message's stream key: account_id (balance), account_id/symbol
// (positions), symbol (bars), market (market status).
func (m Message) Key() string {
	switch {
	case m.Balance != nil:
		return m.Balance.AccountID
	case m.Position != nil:
		return m.Position.AccountID + "/" + m.Position.Symbol
	case m.Bar != nil:
		return m.Bar.Symbol
	case m.Market != nil:
		return m.Market.Market
	}
	return ""
}

// MarshalJSON writes the message as the contract sends it:
// {"type":T,"seq":N,"data":{item}} with money at 2 decimals.
func (m Message) MarshalJSON() ([]byte, error) {
	return appendMessage(nil, m, contractRender), nil
}

// MarshalJSON writes the item as the contract does (money at 2 decimals).
func (b Balance) MarshalJSON() ([]byte, error) { return appendBalance(nil, b, contractRender), nil }

// MarshalJSON writes the item as the contract does (money at 2 decimals).
func (p Position) MarshalJSON() ([]byte, error) { return appendPosition(nil, p, contractRender), nil }

// MarshalJSON writes the item as the contract does.
func (b Bar) MarshalJSON() ([]byte, error) { return appendBar(nil, b, contractRender), nil }

// MarshalJSON writes the item as the contract does.
func (m Market) MarshalJSON() ([]byte, error) { return appendMarket(nil, m, contractRender), nil }

// render says how items are written: money decimals, a field left out,
// whether seq is written.
type render struct {
	decimals int
	omit     string
	noSeq    bool
}

var contractRender = render{decimals: MoneyDecimals}

// obj writes one JSON object's members.
type obj struct {
	b    []byte
	n    int
	omit string
}

func (o *obj) key(k string) bool {
	if k == o.omit {
		return false
	}
	if o.n > 0 {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
	return true
}

func (o *obj) str(k, v string) {
	if o.key(k) {
		o.b = jsonw.AppendString(o.b, v)
	}
}

func (o *obj) num(k string, v float64) {
	if o.key(k) {
		o.b = jsonw.AppendFloat(o.b, v)
	}
}

func (o *obj) int(k string, v int64) {
	if o.key(k) {
		o.b = strconv.AppendInt(o.b, v, 10)
	}
}

func appendBalance(dst []byte, b Balance, r render) []byte {
	b = b.Rounded(r.decimals)
	o := obj{b: append(dst, '{'), omit: r.omit}
	o.str("account_id", b.AccountID)
	o.num("cash", b.Cash)
	o.num("buying_power", b.BuyingPower)
	o.num("net_liq", b.NetLiq)
	return append(o.b, '}')
}

func appendPosition(dst []byte, p Position, r render) []byte {
	p = p.Rounded(r.decimals)
	o := obj{b: append(dst, '{'), omit: r.omit}
	o.str("account_id", p.AccountID)
	o.str("symbol", p.Symbol)
	o.int("qty", p.Qty)
	o.num("avg_price", p.AvgPrice)
	o.num("last", p.Last)
	o.num("market_value", p.MarketValue)
	o.num("unrealized_pnl", p.UnrealizedPnL)
	return append(o.b, '}')
}

func appendBar(dst []byte, b Bar, r render) []byte {
	o := obj{b: append(dst, '{'), omit: r.omit}
	o.str("symbol", b.Symbol)
	if o.key("start") {
		o.b = append(o.b, '"')
		o.b = b.Start.UTC().AppendFormat(o.b, time.RFC3339)
		o.b = append(o.b, '"')
	}
	o.num("open", b.Open)
	o.num("high", b.High)
	o.num("low", b.Low)
	o.num("close", b.Close)
	o.int("volume", b.Volume)
	return append(o.b, '}')
}

func appendMarket(dst []byte, m Market, r render) []byte {
	o := obj{b: append(dst, '{'), omit: r.omit}
	o.str("market", m.Market)
	o.str("status", m.Status)
	return append(o.b, '}')
}

func appendItem(dst []byte, m Message, r render) []byte {
	switch {
	case m.Balance != nil:
		return appendBalance(dst, *m.Balance, r)
	case m.Position != nil:
		return appendPosition(dst, *m.Position, r)
	case m.Bar != nil:
		return appendBar(dst, *m.Bar, r)
	case m.Market != nil:
		return appendMarket(dst, *m.Market, r)
	}
	return append(dst, "null"...)
}

// appendMessage writes {"type":T,"seq":N,"data":{item}}.
func appendMessage(dst []byte, m Message, r render) []byte {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, m.Feature.MessageType()...)
	dst = append(dst, '"')
	if !r.noSeq {
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendInt(dst, m.Seq, 10)
	}
	dst = append(dst, `,"data":`...)
	dst = appendItem(dst, m, r)
	return append(dst, '}')
}

// appendHeartbeat writes {"type":"heartbeat","seq":N,"ts":"<RFC3339Nano>"}.
func appendHeartbeat(dst []byte, seq int64, ts time.Time, noSeq bool) []byte {
	dst = append(dst, `{"type":"heartbeat"`...)
	if !noSeq {
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendInt(dst, seq, 10)
	}
	dst = append(dst, `,"ts":"`...)
	dst = ts.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, `"}`...)
}
