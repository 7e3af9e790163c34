package session

import (
	"bytes"
	"encoding/json"
	"time"
)

// Format is the value of the header's "format" field this package reads and writes.
const Format = "thor-session/v1"

// Event types of thor-session/v1.
const (
	TypeTick         = "tick"
	TypeAccount      = "account"
	TypePosition     = "position"
	TypeMarketStatus = "market_status"
)

// Market statuses a market_status event may carry.
var MarketStatuses = []string{"OPEN", "CLOSED", "PREMARKET", "POSTMARKET", "HOLIDAY"}

// Header is line 1 of a session.
type Header struct {
	Format      string                `json:"format"`
	Name        string                `json:"name"`
	Start       time.Time             `json:"start"`
	Seed        int64                 `json:"seed,omitempty"`
	Instruments map[string]Instrument `json:"instruments"`
	Accounts    []string              `json:"accounts"`
	Markets     []string              `json:"markets"`

	// Raw is line 1 as read, unknown fields included; Reader sets it and
	// Writer.WriteHeader writes it back verbatim when it is set (clear it
	// after changing a field). Nil for headers built in Go.
	Raw json.RawMessage `json:"-"`
}

// Instrument is the contract data the stack needs to value a position.
type Instrument struct {
	Multiplier float64 `json:"multiplier"`
	TickSize   float64 `json:"tick_size"`
}

// Tick is the data of a "tick" event: a trade print.
type Tick struct {
	Symbol string  `json:"symbol"`
	Price  float64 `json:"price"`
	Size   int64   `json:"size"`
}

// Account is the data of an "account" event: the account's cash after a fill or transfer.
type Account struct {
	AccountID   string  `json:"account_id"`
	Cash        float64 `json:"cash"`
	BuyingPower float64 `json:"buying_power"`
}

// Position is the data of a "position" event; Qty 0 closes the position
// (it stays listed with qty 0).
type Position struct {
	AccountID string  `json:"account_id"`
	Symbol    string  `json:"symbol"`
	Qty       int64   `json:"qty"`
	AvgPrice  float64 `json:"avg_price"`
}

// MarketStatus is the data of a "market_status" event.
type MarketStatus struct {
	Market string `json:"market"`
	Status string `json:"status"`
}

// Event is one line after the header. Exactly one of the typed data pointers
// is set, matching Type. Raw holds the line as read (unknown fields included),
// so an event read from a file is written back byte for byte; it is nil for
// events built in Go.
type Event struct {
	Seq  int64     `json:"seq"`
	T    time.Time `json:"t"`
	Type string    `json:"type"`

	Tick         *Tick         `json:"-"`
	Account      *Account      `json:"-"`
	Position     *Position     `json:"-"`
	MarketStatus *MarketStatus `json:"-"`

	Raw json.RawMessage `json:"-"`
}

// MarshalJSON writes Raw when the event was read from a file, the canonical
// form otherwise (see Writer).
func (e Event) MarshalJSON() ([]byte, error) {
	if e.Raw != nil {
		return e.Raw, nil
	}
	return appendEvent(nil, &e)
}

// UnmarshalJSON decodes an event line, keeping it in Raw. It is the decoder
// Reader uses: unknown fields are ignored, and a missing or mistyped field,
// an unknown type or an unknown market status is an error naming the field
// (`field "data.price": missing`).
func (e *Event) UnmarshalJSON(b []byte) error {
	var ps problems
	decodeEvent(b, e, &ps, nil)
	if len(ps) > 0 {
		*e = Event{}
		return &fieldError{ps[0]}
	}
	e.Raw = append(json.RawMessage(nil), bytes.TrimSpace(b)...)
	return nil
}
