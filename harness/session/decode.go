package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is the one decoder of session lines: Reader, Validate and
// Event.UnmarshalJSON all use it, so a line means the same everywhere.
//
// A line is checked with json.Valid first; the walk below then only has to
// split a valid object into members, which keeps it small and fast (no
// reflection, no map per line). Every problem of a line is collected, so
// Validate can report all of them; Reader reports the first.

// fieldProblem is one problem of one line. field is a dotted path
// ("data.price"), empty when the problem is about the whole line.
type fieldProblem struct {
	field string
	err   error
}

func (p fieldProblem) String() string {
	if p.field == "" {
		return p.err.Error()
	}
	return fmt.Sprintf("field %q: %v", p.field, p.err)
}

// fieldError is what Event.UnmarshalJSON returns: the same text as a
// LineError without its FILE:LINE prefix.
type fieldError struct{ fieldProblem }

func (e *fieldError) Error() string { return e.fieldProblem.String() }
func (e *fieldError) Unwrap() error { return e.err }

var errMissing = errors.New("missing")

// The fields of an event line that decoded well, for the checks that need them.
type decoded uint8

const (
	okSeq decoded = 1 << iota
	okT
	okType // a known event type
	okData // every required data field is present and well typed
)

// problems collects the problems of one line.
type problems []fieldProblem

func (ps *problems) add(field string, err error) { *ps = append(*ps, fieldProblem{field, err}) }

func (ps *problems) addf(field, format string, args ...any) {
	*ps = append(*ps, fieldProblem{field, fmt.Errorf(format, args...)})
}

// syntaxProblem explains why line is not valid JSON.
func syntaxProblem(line []byte) fieldProblem {
	var v any
	err := json.Unmarshal(line, &v)
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fieldProblem{"", fmt.Errorf("bad JSON at byte %d: %v", se.Offset, strings.TrimPrefix(se.Error(), "json: "))}
	case err != nil:
		return fieldProblem{"", fmt.Errorf("bad JSON: %v", err)}
	default:
		return fieldProblem{"", errors.New("bad JSON")}
	}
}

// decodeEvent decodes one event line into e (Raw is left to the caller) and
// appends every problem it finds to ps. It reports which parts decoded well.
// strs interns the strings of repeated values (symbols, accounts, markets);
// it may be nil.
func decodeEvent(line []byte, e *Event, ps *problems, strs *interner) decoded {
	*e = Event{}
	if !json.Valid(line) {
		*ps = append(*ps, syntaxProblem(line))
		return 0
	}
	it, ok := newMembers(line)
	if !ok {
		ps.addf("", "want a JSON object, got %s", kindOf(line))
		return 0
	}
	var seq, t, typ, data []byte
	for {
		key, val, more := it.next()
		if !more {
			break
		}
		switch string(keyBytes(key)) {
		case "seq":
			seq = val
		case "t":
			t = val
		case "type":
			typ = val
		case "data":
			data = val
		}
	}
	var got decoded
	if v, ok := intField(seq, "seq", ps); ok {
		e.Seq = v
		got |= okSeq
	}
	if v, ok := timeField(t, "t", ps); ok {
		e.T = v
		got |= okT
	}
	typeName, typeOK := stringField(typ, "type", ps, strs)
	e.Type = typeName
	if typeOK {
		switch typeName {
		case TypeTick, TypeAccount, TypePosition, TypeMarketStatus:
			got |= okType
		case "":
			ps.add("type", errMissing)
		default:
			ps.addf("type", "unknown event type %q (want tick, account, position or market_status)", typeName)
		}
	}
	if isAbsent(data) {
		ps.add("data", errMissing)
		return got
	}
	dit, ok := newMembers(data)
	if !ok {
		ps.addf("data", "want an object, got %s", kindOf(data))
		return got
	}
	if got&okType == 0 {
		return got
	}
	if decodeData(typeName, dit, e, ps, strs) {
		got |= okData
	}
	return got
}

// decodeData decodes the data object of a known event type into e.
func decodeData(typ string, it members, e *Event, ps *problems, strs *interner) bool {
	var (
		symbol, price, size, accountID, cash, buyingPower []byte
		qty, avgPrice, market, status                     []byte
	)
	for {
		key, val, more := it.next()
		if !more {
			break
		}
		switch string(keyBytes(key)) {
		case "symbol":
			symbol = val
		case "price":
			price = val
		case "size":
			size = val
		case "account_id":
			accountID = val
		case "cash":
			cash = val
		case "buying_power":
			buyingPower = val
		case "qty":
			qty = val
		case "avg_price":
			avgPrice = val
		case "market":
			market = val
		case "status":
			status = val
		}
	}
	n := len(*ps)
	switch typ {
	case TypeTick:
		var d Tick
		d.Symbol, _ = requiredString(symbol, "data.symbol", ps, strs)
		d.Price, _ = floatField(price, "data.price", ps)
		d.Size, _ = intField(size, "data.size", ps)
		e.Tick = &d
	case TypeAccount:
		var d Account
		d.AccountID, _ = requiredString(accountID, "data.account_id", ps, strs)
		d.Cash, _ = floatField(cash, "data.cash", ps)
		d.BuyingPower, _ = floatField(buyingPower, "data.buying_power", ps)
		e.Account = &d
	case TypePosition:
		var d Position
		d.AccountID, _ = requiredString(accountID, "data.account_id", ps, strs)
		d.Symbol, _ = requiredString(symbol, "data.symbol", ps, strs)
		d.Qty, _ = intField(qty, "data.qty", ps)
		d.AvgPrice, _ = floatField(avgPrice, "data.avg_price", ps)
		e.Position = &d
	case TypeMarketStatus:
		var d MarketStatus
		d.Market, _ = requiredString(market, "data.market", ps, strs)
		if s, ok := requiredString(status, "data.status", ps, strs); ok {
			d.Status = s
			if !slices.Contains(MarketStatuses, s) {
				ps.addf("data.status", "unknown status %q (want one of %s)", s, strings.Join(MarketStatuses, ", "))
			}
		}
		e.MarketStatus = &d
	}
	return len(*ps) == n
}

// isAbsent reports whether a member is missing or null (null counts as missing).
func isAbsent(val []byte) bool { return val == nil || string(val) == "null" }

func intField(val []byte, field string, ps *problems) (int64, bool) {
	if isAbsent(val) {
		ps.add(field, errMissing)
		return 0, false
	}
	v, err := parseInt(val)
	if err != nil {
		ps.add(field, err)
		return 0, false
	}
	return v, true
}

func floatField(val []byte, field string, ps *problems) (float64, bool) {
	if isAbsent(val) {
		ps.add(field, errMissing)
		return 0, false
	}
	if !isNumber(val) {
		ps.addf(field, "want a number, got %s", kindOf(val))
		return 0, false
	}
	v, err := strconv.ParseFloat(string(val), 64)
	if err != nil {
		ps.addf(field, "number %s is out of range", quoteShort(val))
		return 0, false
	}
	return v, true
}

func stringField(val []byte, field string, ps *problems, strs *interner) (string, bool) {
	if isAbsent(val) {
		ps.add(field, errMissing)
		return "", false
	}
	s, ok := parseString(val, strs)
	if !ok {
		ps.addf(field, "want a string, got %s", kindOf(val))
		return "", false
	}
	return s, true
}

// requiredString is stringField that also refuses the empty string.
func requiredString(val []byte, field string, ps *problems, strs *interner) (string, bool) {
	s, ok := stringField(val, field, ps, strs)
	if ok && s == "" {
		ps.addf(field, "empty")
		return "", false
	}
	return s, ok
}

func timeField(val []byte, field string, ps *problems) (time.Time, bool) {
	if isAbsent(val) {
		ps.add(field, errMissing)
		return time.Time{}, false
	}
	if t, ok := parseUTC(val); ok {
		return t, true
	}
	s, ok := parseString(val, nil)
	if !ok {
		ps.addf(field, "want an RFC 3339 time string, got %s", kindOf(val))
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		ps.addf(field, "want an RFC 3339 time such as 2026-03-02T14:30:00.250Z, got %s", quoteShort(val))
		return time.Time{}, false
	}
	return t.UTC(), true
}

// parseUTC parses the quoted time every writer of sessions uses,
// "2006-01-02T15:04:05Z" with 0 to 9 fractional digits, without the
// allocation time.Parse needs for its string. Anything else (offsets,
// escapes, out-of-range fields) is left to time.Parse: ok is false.
func parseUTC(val []byte) (time.Time, bool) {
	n := len(val)
	if n < 22 || val[0] != '"' || val[n-1] != '"' || val[n-2] != 'Z' {
		return time.Time{}, false
	}
	b := val[1 : n-2] // 2006-01-02T15:04:05[.999999999]
	if b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		v := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, false
	}
	nsec := 0
	if frac := b[19:]; len(frac) > 0 {
		if len(frac) < 2 || len(frac) > 10 || frac[0] != '.' {
			return time.Time{}, false
		}
		f, ok := num(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			f *= 10
		}
		nsec = f
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseInt parses a JSON number that must be an integer.
func parseInt(val []byte) (int64, error) {
	if !isNumber(val) {
		return 0, fmt.Errorf("want an integer, got %s", kindOf(val))
	}
	if bytes.ContainsAny(val, ".eE") {
		return 0, fmt.Errorf("want an integer, got %s", quoteShort(val))
	}
	v, err := strconv.ParseInt(string(val), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("integer %s is out of range", quoteShort(val))
	}
	return v, nil
}

func isNumber(val []byte) bool {
	return len(val) > 0 && (val[0] == '-' || '0' <= val[0] && val[0] <= '9')
}

// parseString decodes a JSON string value. Plain ASCII strings without
// escapes (nearly all of them) are taken as they are; anything else goes
// through encoding/json, so escapes and invalid UTF-8 are handled as
// encoding/json handles them.
func parseString(val []byte, strs *interner) (string, bool) {
	if len(val) < 2 || val[0] != '"' {
		return "", false
	}
	body := val[1 : len(val)-1]
	for _, c := range body {
		if c == '\\' || c >= 0x80 {
			var s string
			if err := json.Unmarshal(val, &s); err != nil {
				return "", false
			}
			return s, true
		}
	}
	return strs.get(body), true
}

// kindOf names the JSON kind of a value for messages.
func kindOf(val []byte) string {
	if len(val) == 0 {
		return "nothing"
	}
	switch c := val[0]; {
	case c == '"':
		return "the string " + quoteShort(val)
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return string(val)
	case c == 'n':
		return "null"
	default:
		return "the number " + quoteShort(val)
	}
}

// quoteShort shows a raw JSON value, shortened to keep messages one line.
func quoteShort(val []byte) string {
	const max = 40
	if len(val) > max {
		return string(val[:max]) + "…"
	}
	return string(val)
}

// members walks the members of a JSON object that json.Valid accepted.
type members struct {
	b []byte
	i int
}

// newMembers starts a walk over val, which must be valid JSON; ok is false
// when val is not an object.
func newMembers(val []byte) (members, bool) {
	i := skipSpace(val, 0)
	if i >= len(val) || val[i] != '{' {
		return members{}, false
	}
	return members{b: val, i: i + 1}, true
}

// next returns the next member: its raw key (with quotes) and raw value.
func (m *members) next() (key, val []byte, ok bool) {
	b := m.b
	i := skipSpace(b, m.i)
	if i < len(b) && b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		m.i = len(b)
		return nil, nil, false
	}
	end := skipString(b, i)
	key = b[i:end]
	i = skipSpace(b, end)
	if i >= len(b) || b[i] != ':' {
		m.i = len(b)
		return nil, nil, false
	}
	i = skipSpace(b, i+1)
	vend := skipValue(b, i)
	val = b[i:vend]
	m.i = vend
	return key, val, true
}

// keyBytes returns the text of a raw key. Call sites only compare it
// (switch string(keyBytes(k))), which costs no allocation.
func keyBytes(key []byte) []byte {
	if len(key) < 2 {
		return nil
	}
	if bytes.IndexByte(key, '\\') < 0 {
		return key[1 : len(key)-1]
	}
	var s string
	if err := json.Unmarshal(key, &s); err != nil {
		return nil
	}
	return []byte(s)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = skipString(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	default:
		j := i
		for j < len(b) {
			switch b[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j
			}
			j++
		}
		return j
	}
}

// interner shares the strings a session repeats on every line (symbols,
// account ids, markets, event types), so reading does not allocate them
// again and again. The zero of *interner (nil) interns nothing.
type interner struct{ m map[string]string }

const internMax = 4096

func (in *interner) get(b []byte) string {
	if in == nil {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok {
		return s
	}
	s := string(b)
	if in.m == nil {
		in.m = make(map[string]string)
	}
	if len(in.m) < internMax {
		in.m[s] = s
	}
	return s
}

// finite reports whether f can be written as JSON.
func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
