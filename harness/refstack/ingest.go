package refstack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/thor-trading/cutover-harness/harness/session"
)

// Line is one element of an ingest batch: a session header (which resets
// the state) or an event. Exactly one pointer is set.
type Line struct {
	Header *session.Header
	Event  *session.Event
}

// BatchError says why an ingest batch was refused: the element (0-based
// index in the array), the field (dotted, "" for the element as a whole) and
// what is wrong. A refused batch applies nothing.
type BatchError struct {
	Index int
	Field string
	Msg   string
}

func (e *BatchError) Error() string {
	if e.Index < 0 {
		return "body: " + e.Msg
	}
	if e.Field == "" {
		return fmt.Sprintf("element %d: %s", e.Index, e.Msg)
	}
	return fmt.Sprintf("element %d: field %q: %s", e.Index, e.Field, e.Msg)
}

// DecodeBatch decodes an ingest body: a JSON array of session lines, each a
// header (it has "format") or an event. Unknown fields are ignored. It checks
// the form of each line (CheckBatch checks their order against the state).
func DecodeBatch(body []byte) ([]Line, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return nil, &BatchError{Index: -1, Msg: "want a JSON array of session lines: " + err.Error()}
	}
	lines := make([]Line, len(raws))
	for i, raw := range raws {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 || raw[0] != '{' {
			return nil, &BatchError{Index: i, Msg: "want a JSON object (a session header or event line)"}
		}
		if isHeader(raw) {
			h := new(session.Header)
			if err := json.Unmarshal(raw, h); err != nil {
				return nil, decodeError(i, err, "start")
			}
			if err := checkHeader(h); err != nil {
				err.Index = i
				return nil, err
			}
			lines[i].Header = h
			continue
		}
		ev := new(session.Event)
		if err := json.Unmarshal(raw, ev); err != nil {
			return nil, decodeError(i, err, "t")
		}
		if err := checkEventData(ev); err != nil {
			err.Index = i
			return nil, err
		}
		lines[i].Event = ev
	}
	return lines, nil
}

// CheckBatch checks that the events of lines follow each other and the state
// (last seq prevSeq at time prevT): seq rises, t never goes back. A header
// line starts over from seq 0.
func CheckBatch(lines []Line, prevSeq int64, prevT time.Time) error {
	for i, l := range lines {
		if l.Header != nil {
			prevSeq, prevT = 0, time.Time{}
			continue
		}
		ev := l.Event
		if ev == nil {
			return &BatchError{Index: i, Msg: "neither header nor event"}
		}
		if err := checkEventData(ev); err != nil {
			err.Index = i
			return err
		}
		if ev.Seq <= prevSeq {
			return &BatchError{Index: i, Field: "seq", Msg: fmt.Sprintf("%d does not follow %d (seq must rise; a header line starts a new session)", ev.Seq, prevSeq)}
		}
		if ev.T.Before(prevT) {
			return &BatchError{Index: i, Field: "t", Msg: fmt.Sprintf("%s goes back before %s (t never goes back)", ev.T.Format(time.RFC3339Nano), prevT.Format(time.RFC3339Nano))}
		}
		prevSeq, prevT = ev.Seq, ev.T
	}
	return nil
}

func isHeader(raw []byte) bool {
	if !bytes.Contains(raw, []byte(`"format"`)) {
		return false
	}
	var probe struct {
		Format *string `json:"format"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.Format != nil
}

func checkHeader(h *session.Header) *BatchError {
	if h.Format != session.Format {
		return &BatchError{Field: "format", Msg: fmt.Sprintf("%q is not %q", h.Format, session.Format)}
	}
	syms := make([]string, 0, len(h.Instruments))
	for sym := range h.Instruments {
		syms = append(syms, sym)
	}
	slices.Sort(syms)
	for _, sym := range syms {
		if in := h.Instruments[sym]; !(in.Multiplier > 0) {
			return &BatchError{Field: "instruments." + sym + ".multiplier", Msg: fmt.Sprintf("%v: want a positive number", in.Multiplier)}
		}
	}
	return nil
}

func checkEventData(ev *session.Event) *BatchError {
	bad := func(field, msg string) *BatchError { return &BatchError{Field: field, Msg: msg} }
	if ev.Seq < 1 {
		return bad("seq", fmt.Sprintf("%d: want 1 or more", ev.Seq))
	}
	if ev.T.IsZero() {
		return bad("t", "missing")
	}
	switch ev.Type {
	case session.TypeTick:
		switch {
		case ev.Tick == nil:
			return bad("data", "missing")
		case ev.Tick.Symbol == "":
			return bad("data.symbol", "missing")
		case ev.Tick.Size < 0:
			return bad("data.size", fmt.Sprintf("%d: want 0 or more", ev.Tick.Size))
		}
	case session.TypeAccount:
		switch {
		case ev.Account == nil:
			return bad("data", "missing")
		case ev.Account.AccountID == "":
			return bad("data.account_id", "missing")
		}
	case session.TypePosition:
		switch {
		case ev.Position == nil:
			return bad("data", "missing")
		case ev.Position.AccountID == "":
			return bad("data.account_id", "missing")
		case ev.Position.Symbol == "":
			return bad("data.symbol", "missing")
		}
	case session.TypeMarketStatus:
		switch {
		case ev.MarketStatus == nil:
			return bad("data", "missing")
		case ev.MarketStatus.Market == "":
			return bad("data.market", "missing")
		case !slices.Contains(session.MarketStatuses, ev.MarketStatus.Status):
			return bad("data.status", fmt.Sprintf("%q: want one of %s", ev.MarketStatus.Status, strings.Join(session.MarketStatuses, ", ")))
		}
	default:
		return bad("type", fmt.Sprintf("unknown event type %q (want tick, account, position or market_status)", ev.Type))
	}
	return nil
}

// decodeError turns a decoding error into a BatchError naming the field.
// timeField is the field a time parse error is about.
func decodeError(i int, err error, timeField string) *BatchError {
	msg := err.Error()
	prefix := ""
	if rest, ok := strings.CutPrefix(msg, `field "`); ok {
		// The session package names the field: `field "data": ...`.
		if name, tail, ok := strings.Cut(rest, `": `); ok {
			prefix, msg = name, tail
		}
	}
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) && ute.Field != "" {
		field := ute.Field
		if prefix != "" {
			field = prefix + "." + field
		}
		return &BatchError{Index: i, Field: field, Msg: fmt.Sprintf("cannot use JSON %s as %s", ute.Value, ute.Type)}
	}
	var pe *time.ParseError
	if errors.As(err, &pe) && prefix == "" {
		return &BatchError{Index: i, Field: timeField, Msg: fmt.Sprintf("%q: want an RFC 3339 time", pe.Value)}
	}
	return &BatchError{Index: i, Field: prefix, Msg: msg}
}
