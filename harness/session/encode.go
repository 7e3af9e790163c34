package session

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// The canonical form of an event line, written by Writer and
// Event.MarshalJSON for events built in Go:
//
//	{"seq":2,"t":"2026-03-02T14:30:00.250Z","type":"tick","data":{"symbol":"ES","price":5123.25,"size":3}}
//
// Keys in this order, data keys in the order of the Go structs, t in UTC
// with exactly three fractional digits (nine when it is not a whole
// millisecond), numbers as encoding/json writes them (shortest form that
// reads back to the same float64).

// appendEvent appends the canonical line of e, without a newline.
func appendEvent(b []byte, e *Event) ([]byte, error) {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"t":`...)
	var err error
	if b, err = appendTime(b, e.T); err != nil {
		return nil, fmt.Errorf("event seq %d: field \"t\": %w", e.Seq, err)
	}
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"data":`...)
	switch e.Type {
	case TypeTick:
		d := e.Tick
		if d == nil {
			return nil, missingData(e)
		}
		b = append(b, `{"symbol":`...)
		b = appendString(b, d.Symbol)
		b = append(b, `,"price":`...)
		if b, err = appendFloat(b, d.Price, e, "price"); err != nil {
			return nil, err
		}
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, d.Size, 10)
	case TypeAccount:
		d := e.Account
		if d == nil {
			return nil, missingData(e)
		}
		b = append(b, `{"account_id":`...)
		b = appendString(b, d.AccountID)
		b = append(b, `,"cash":`...)
		if b, err = appendFloat(b, d.Cash, e, "cash"); err != nil {
			return nil, err
		}
		b = append(b, `,"buying_power":`...)
		if b, err = appendFloat(b, d.BuyingPower, e, "buying_power"); err != nil {
			return nil, err
		}
	case TypePosition:
		d := e.Position
		if d == nil {
			return nil, missingData(e)
		}
		b = append(b, `{"account_id":`...)
		b = appendString(b, d.AccountID)
		b = append(b, `,"symbol":`...)
		b = appendString(b, d.Symbol)
		b = append(b, `,"qty":`...)
		b = strconv.AppendInt(b, d.Qty, 10)
		b = append(b, `,"avg_price":`...)
		if b, err = appendFloat(b, d.AvgPrice, e, "avg_price"); err != nil {
			return nil, err
		}
	case TypeMarketStatus:
		d := e.MarketStatus
		if d == nil {
			return nil, missingData(e)
		}
		b = append(b, `{"market":`...)
		b = appendString(b, d.Market)
		b = append(b, `,"status":`...)
		b = appendString(b, d.Status)
	default:
		return nil, fmt.Errorf("event seq %d: unknown type %q (want tick, account, position or market_status)", e.Seq, e.Type)
	}
	return append(b, "}}"...), nil
}

func missingData(e *Event) error {
	return fmt.Errorf("event seq %d: type %q without its data (set the matching pointer field)", e.Seq, e.Type)
}

const (
	timeMillis = "2006-01-02T15:04:05.000Z07:00"
	timeNanos  = "2006-01-02T15:04:05.000000000Z07:00"
)

// appendTime appends t as a quoted RFC 3339 UTC time.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("year %d outside 0..9999", y)
	}
	layout := timeMillis
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		layout = timeNanos
	}
	b = append(b, '"')
	b = t.AppendFormat(b, layout)
	return append(b, '"'), nil
}

// appendFloat appends f as encoding/json would.
func appendFloat(b []byte, f float64, e *Event, field string) ([]byte, error) {
	if !finite(f) {
		return nil, fmt.Errorf("event seq %d: field \"data.%s\": %v cannot be written as JSON", e.Seq, field, f)
	}
	return appendNumber(b, f), nil
}

func appendNumber(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// 1e-07 → 1e-7, as encoding/json writes it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString appends s as a JSON string, escaped as encoding/json escapes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// headerLine is Header in the order of the header line, with Raw left out.
type headerLine struct {
	Format      string                `json:"format"`
	Name        string                `json:"name"`
	Start       time.Time             `json:"start"`
	Seed        int64                 `json:"seed,omitempty"`
	Instruments map[string]Instrument `json:"instruments"`
	Accounts    []string              `json:"accounts"`
	Markets     []string              `json:"markets"`
}

// encodeHeader returns the canonical header line of h (Raw is not used).
func encodeHeader(h *Header) ([]byte, error) {
	l := headerLine{
		Format: h.Format, Name: h.Name, Start: h.Start.UTC(), Seed: h.Seed,
		Instruments: h.Instruments, Accounts: h.Accounts, Markets: h.Markets,
	}
	if l.Format == "" {
		l.Format = Format
	}
	if l.Format != Format {
		return nil, fmt.Errorf("header: unsupported format %q (this writer writes %q)", l.Format, Format)
	}
	if l.Instruments == nil {
		l.Instruments = map[string]Instrument{}
	}
	if l.Accounts == nil {
		l.Accounts = []string{}
	}
	if l.Markets == nil {
		l.Markets = []string{}
	}
	b, err := json.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	return b, nil
}
