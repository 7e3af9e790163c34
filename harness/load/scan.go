package load

import "bytes"

// scanner finds, in a frame's bytes, whether the frame is a message of the
// measured type and which event it came from, without decoding JSON. It
// reads the first occurrence of each field, which in the reference stack's
// messages (and most) is the top-level one. It allocates nothing and is
// safe for concurrent use.
type scanner struct {
	typeKey  []byte // `"type":`; nil when every frame is measured
	typeWant []byte // `"market_status"`, quotes included
	corrKey  []byte // `"seq":`
}

func newScanner(typeField, messageType, correlate string) *scanner {
	s := &scanner{corrKey: []byte(`"` + correlate + `":`)}
	if messageType != "" {
		s.typeKey = []byte(`"` + typeField + `":`)
		s.typeWant = []byte(`"` + messageType + `"`)
	}
	return s
}

// valueAt returns the bytes after key's first occurrence and any whitespace.
func valueAt(frame, key []byte) ([]byte, bool) {
	i := bytes.Index(frame, key)
	if i < 0 {
		return nil, false
	}
	v := frame[i+len(key):]
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t' || v[0] == '\n' || v[0] == '\r') {
		v = v[1:]
	}
	return v, true
}

// measured reports whether frame is a message of the measured type.
func (s *scanner) measured(frame []byte) bool {
	if s.typeKey == nil {
		return true
	}
	v, ok := valueAt(frame, s.typeKey)
	return ok && bytes.HasPrefix(v, s.typeWant)
}

// id returns the event id of frame: the correlation field's number, or the
// first run of digits in its string value ("L42" → 42).
func (s *scanner) id(frame []byte) (int64, bool) {
	v, ok := valueAt(frame, s.corrKey)
	if !ok || len(v) == 0 {
		return 0, false
	}
	if v[0] == '"' {
		v = v[1:]
		for len(v) > 0 && (v[0] < '0' || v[0] > '9') {
			if v[0] == '"' || v[0] == '\\' {
				return 0, false
			}
			v = v[1:]
		}
	}
	var n int64
	digits := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			break
		}
		if digits == 18 {
			return 0, false // does not fit; no id of ours is this long
		}
		n = n*10 + int64(c-'0')
		digits++
	}
	return n, digits > 0
}
