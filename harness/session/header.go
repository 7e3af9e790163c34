package session

import (
	"encoding/json"
	"sort"
)

// headerKind says what decodeHeader made of line 1.
type headerKind int

const (
	headerOK      headerKind = iota // a header (it may still have problems)
	headerIsEvent                   // an event line: the header is missing
	headerBad                       // not JSON, or not an object
)

// decodeHeader decodes line 1 into h and appends its problems to ps.
// Problems that only Validate reports (a non-positive multiplier, no
// instruments) are left to checkHeader.
func decodeHeader(line []byte, h *Header, ps *problems) headerKind {
	*h = Header{}
	if !json.Valid(line) {
		*ps = append(*ps, syntaxProblem(line))
		return headerBad
	}
	it, ok := newMembers(line)
	if !ok {
		ps.addf("", "want the %s header object, got %s", Format, kindOf(line))
		return headerBad
	}
	var format, name, start, seed, instruments, accounts, markets []byte
	var eventKeys bool
	for {
		key, val, more := it.next()
		if !more {
			break
		}
		switch string(keyBytes(key)) {
		case "format":
			format = val
		case "name":
			name = val
		case "start":
			start = val
		case "seed":
			seed = val
		case "instruments":
			instruments = val
		case "accounts":
			accounts = val
		case "markets":
			markets = val
		case "seq", "type", "data":
			eventKeys = true
		}
	}
	if format == nil && eventKeys {
		ps.addf("", "missing header: line 1 must be the %s header, it is an event", Format)
		return headerIsEvent
	}
	if f, ok := stringField(format, "format", ps, nil); ok {
		h.Format = f
		if f != Format {
			ps.addf("format", "unsupported format %q (want %q)", f, Format)
		}
	}
	if !isAbsent(name) {
		h.Name, _ = stringField(name, "name", ps, nil)
	}
	if !isAbsent(start) {
		h.Start, _ = timeField(start, "start", ps)
	}
	if !isAbsent(seed) {
		h.Seed, _ = intField(seed, "seed", ps)
	}
	if !isAbsent(instruments) {
		h.Instruments = decodeInstruments(instruments, ps)
	}
	if !isAbsent(accounts) {
		h.Accounts = stringList(accounts, "accounts", ps)
	}
	if !isAbsent(markets) {
		h.Markets = stringList(markets, "markets", ps)
	}
	return headerOK
}

func decodeInstruments(val []byte, ps *problems) map[string]Instrument {
	it, ok := newMembers(val)
	if !ok {
		ps.addf("instruments", "want an object of symbol → {multiplier, tick_size}, got %s", kindOf(val))
		return nil
	}
	out := map[string]Instrument{}
	for {
		key, v, more := it.next()
		if !more {
			break
		}
		sym, _ := parseString(key, nil)
		field := "instruments." + sym
		in, ok := newMembers(v)
		if !ok {
			ps.addf(field, "want an object {multiplier, tick_size}, got %s", kindOf(v))
			continue
		}
		var mult, tick []byte
		for {
			k, v, more := in.next()
			if !more {
				break
			}
			switch string(keyBytes(k)) {
			case "multiplier":
				mult = v
			case "tick_size":
				tick = v
			}
		}
		var ins Instrument
		ins.Multiplier, _ = floatField(mult, field+".multiplier", ps)
		ins.TickSize, _ = floatField(tick, field+".tick_size", ps)
		out[sym] = ins
	}
	return out
}

func stringList(val []byte, field string, ps *problems) []string {
	var out []string
	if err := json.Unmarshal(val, &out); err != nil {
		ps.addf(field, "want an array of strings, got %s", kindOf(val))
		return nil
	}
	return out
}

// checkHeader appends the problems of a decoded header that do not stop a
// Reader but make the session wrong.
func checkHeader(h *Header, ps *problems) {
	if len(h.Instruments) == 0 {
		ps.addf("instruments", "missing: the header must list the instruments the ticks and positions use")
	}
	syms := make([]string, 0, len(h.Instruments))
	for s := range h.Instruments {
		syms = append(syms, s)
	}
	sort.Strings(syms)
	for _, s := range syms {
		in := h.Instruments[s]
		if s == "" {
			ps.addf("instruments", "empty symbol")
		}
		if in.Multiplier <= 0 {
			ps.addf("instruments."+s+".multiplier", "must be positive, got %v", in.Multiplier)
		}
		if in.TickSize <= 0 {
			ps.addf("instruments."+s+".tick_size", "must be positive, got %v", in.TickSize)
		}
	}
	dupes := func(field string, list []string) {
		seen := map[string]bool{}
		for _, s := range list {
			if seen[s] {
				ps.addf(field, "%q is listed twice", s)
			}
			seen[s] = true
		}
	}
	dupes("accounts", h.Accounts)
	dupes("markets", h.Markets)
}
