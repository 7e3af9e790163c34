package diff

import (
	"encoding/json"
	"strconv"
	"strings"
)

// The canonical form of an item: compact JSON, object members sorted by
// name, ignored members dropped, strings in one escaping, numbers as
// written. Numbers are compared within the tolerance only when two canonical
// forms with the same shape differ in their bytes, so decoding a message
// parses no number.

// span is a member of an object being canonicalised: its name's JSON
// token (canonical escaping) and its value's bytes.
type span struct {
	name string // canonical token, quotes included
	v0   int32
	v1   int32
}

// skipWS returns the index of the first non-space byte at or after i.
func skipWS(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the end of the JSON value starting at s[i] (no leading
// space), or -1 when it is not valid JSON.
func skipValue(s string, i, depth int) int {
	if i >= len(s) || depth > 512 {
		return -1
	}
	switch c := s[i]; {
	case c == '"':
		end, _ := skipString(s, i)
		return end
	case c == '{':
		i = skipWS(s, i+1)
		if i < len(s) && s[i] == '}' {
			return i + 1
		}
		for {
			if i >= len(s) || s[i] != '"' {
				return -1
			}
			if i, _ = skipString(s, i); i < 0 {
				return -1
			}
			i = skipWS(s, i)
			if i >= len(s) || s[i] != ':' {
				return -1
			}
			if i = skipValue(s, skipWS(s, i+1), depth+1); i < 0 {
				return -1
			}
			i = skipWS(s, i)
			if i >= len(s) {
				return -1
			}
			if s[i] == '}' {
				return i + 1
			}
			if s[i] != ',' {
				return -1
			}
			i = skipWS(s, i+1)
		}
	case c == '[':
		i = skipWS(s, i+1)
		if i < len(s) && s[i] == ']' {
			return i + 1
		}
		for {
			if i = skipValue(s, i, depth+1); i < 0 {
				return -1
			}
			i = skipWS(s, i)
			if i >= len(s) {
				return -1
			}
			if s[i] == ']' {
				return i + 1
			}
			if s[i] != ',' {
				return -1
			}
			i = skipWS(s, i+1)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(s, i)
	case c == 't':
		return lit(s, i, "true")
	case c == 'f':
		return lit(s, i, "false")
	case c == 'n':
		return lit(s, i, "null")
	}
	return -1
}

func lit(s string, i int, w string) int {
	if len(s)-i >= len(w) && s[i:i+len(w)] == w {
		return i + len(w)
	}
	return -1
}

// strPlain marks the bytes a string token can hold without a closer look.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return
}()

// skipString returns the end of the string token at s[i] (a quote) and
// whether it has escapes; -1 when it is not valid.
func skipString(s string, i int) (int, bool) {
	esc := false
	for i++; i < len(s); i++ {
		for i < len(s) && strPlain[s[i]] {
			i++
		}
		if i >= len(s) {
			break
		}
		switch c := s[i]; {
		case c == '"':
			return i + 1, esc
		case c == '\\':
			esc = true
			i++
			if i >= len(s) {
				return -1, esc
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s) {
					return -1, esc
				}
				for _, h := range []byte(s[i+1 : i+5]) {
					if !isHex(h) {
						return -1, esc
					}
				}
				i += 4
			default:
				return -1, esc
			}
		default: // a control character
			return -1, esc
		}
	}
	return -1, esc
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipNumber returns the end of the number at s[i] per the JSON grammar,
// -1 when it is not one.
func skipNumber(s string, i int) int {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return -1
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return -1
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return -1
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i
}

// canonString returns the canonical token of the string token tok: itself
// when it has no escapes, else re-encoded.
func canonString(tok string, esc bool) string {
	if !esc {
		return tok
	}
	var s string
	if err := json.Unmarshal([]byte(tok), &s); err != nil {
		return tok
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// canon appends the canonical form of the valid JSON value s[i:end] to
// n.canon (and its shape, numbers as '#', to n.shape). The top level of an
// item also fills n.top with the values of the simple key fields.
func (n *normalizer) canonValue(s string, i, end, depth int) {
	i = skipWS(s, i)
	switch c := s[i]; {
	case c == '{':
		if depth >= maxDepth {
			n.both(compactRaw(s[i:end]))
			return
		}
		n.canonObject(s, i, depth)
	case c == '[':
		if depth >= maxDepth {
			n.both(compactRaw(s[i:end]))
			return
		}
		n.both("[")
		n.path = append(n.path, "#") // only read with ignore rules
		j := skipWS(s, i+1)
		first := true
		for j < len(s) && s[j] != ']' {
			e := skipValue(s, j, depth)
			if !first {
				n.both(",")
			}
			first = false
			n.canonValue(s, j, e, depth+1)
			j = skipWS(s, e)
			if s[j] == ',' {
				j = skipWS(s, j+1)
			}
		}
		n.path = n.path[:len(n.path)-1]
		n.both("]")
	case c == '"':
		e, esc := skipString(s, i)
		n.both(canonString(s[i:e], esc))
	case c == '-' || isDigit(c):
		e := skipNumber(s, i)
		n.canon = append(n.canon, s[i:e]...)
		n.shape = append(n.shape, '#')
	default: // true, false, null
		n.both(s[i:end])
	}
}

// compactRaw drops insignificant space from valid JSON (deep values kept
// as they are).
func compactRaw(s string) string {
	var out []byte
	in := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if in {
			out = append(out, c)
			if c == '\\' && i+1 < len(s) {
				i++
				out = append(out, s[i])
			} else if c == '"' {
				in = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			in = true
		}
		out = append(out, c)
	}
	return string(out)
}

func (n *normalizer) canonObject(s string, i, depth int) {
	for len(n.spans) <= depth {
		n.spans = append(n.spans, nil)
	}
	ms := n.spans[depth][:0]
	j := skipWS(s, i+1)
	for j < len(s) && s[j] == '"' {
		ne, esc := skipString(s, j)
		name := canonString(s[j:ne], esc)
		v0 := skipWS(s, skipWS(s, ne)+1)
		v1 := skipValue(s, v0, depth+1)
		ms = append(ms, span{name: name, v0: int32(v0), v1: int32(v1)})
		j = skipWS(s, v1)
		if s[j] == ',' {
			j = skipWS(s, j+1)
		}
	}
	// Insertion sort: objects are small, and often already in order.
	for a := 1; a < len(ms); a++ {
		for b := a; b > 0 && ms[b].name < ms[b-1].name; b-- {
			ms[b], ms[b-1] = ms[b-1], ms[b]
		}
	}
	n.spans[depth] = ms
	n.both("{")
	first := true
	for _, m := range ms {
		name := m.name[1 : len(m.name)-1]
		if depth == 0 && n.topKeys {
			for k, key := range n.keys {
				if key == name && n.top[k] == "" {
					n.top[k] = s[m.v0:m.v1]
				}
			}
		}
		if len(n.ignore) > 0 {
			n.path = append(n.path, name)
			ign := n.ignored()
			n.path = n.path[:len(n.path)-1]
			if ign {
				continue
			}
		}
		if !first {
			n.both(",")
		}
		first = false
		n.both(m.name)
		n.both(":")
		if len(n.ignore) > 0 {
			n.path = append(n.path, name)
			n.canonValue(s, int(m.v0), int(m.v1), depth+1)
			n.path = n.path[:len(n.path)-1]
		} else {
			n.canonValue(s, int(m.v0), int(m.v1), depth+1)
		}
	}
	n.both("}")
	n.spans[depth] = ms[:0]
}

// equalCanon compares two canonical forms of the same shape: their bytes
// outside numbers are the same; numbers must be within tol.
func equalCanon(a, b string, tol float64) bool {
	eq, _ := lockstep(a, b, tol)
	return eq
}

// lockstep walks two JSON texts together. Equal bytes with numbers within
// tol: equal. Equal bytes up to two numbers that differ by more than tol:
// not equal, and sure of it (the same path holds different numbers). Any
// other difference: not equal, and not sure (the texts may order members
// differently: compare canonical forms).
func lockstep(a, b string, tol float64) (equal, sure bool) {
	i, j := 0, 0
	in := false
	for i < len(a) && j < len(b) {
		c := a[i]
		if in {
			if c != b[j] {
				return false, false
			}
			switch c {
			case '\\':
				i++
				j++
				if i >= len(a) || j >= len(b) || a[i] != b[j] {
					return false, false
				}
			case '"':
				in = false
			}
			i++
			j++
			continue
		}
		if c == '-' || isDigit(c) {
			ea, eb := skipNumber(a, i), skipNumber(b, j)
			if ea < 0 || eb < 0 {
				return false, false
			}
			if a[i:ea] != b[j:eb] {
				x, err1 := strconv.ParseFloat(a[i:ea], 64)
				y, err2 := strconv.ParseFloat(b[j:eb], 64)
				if err1 != nil || err2 != nil || !numEqual(x, y, tol) {
					return false, err1 == nil && err2 == nil
				}
			}
			i, j = ea, eb
			continue
		}
		if c != b[j] {
			return false, false
		}
		if c == '"' {
			in = true
		}
		i++
		j++
	}
	if i == len(a) && j == len(b) {
		return true, true
	}
	return false, false
}

// isSimpleName reports whether a gjson path is one plain member name.
func isSimpleName(p string) bool {
	return p != "" && !strings.ContainsAny(p, `.*?#|@\!{}[]`)
}

// scanTop validates the JSON document s and, when it is an object, sets
// out[k] to the raw value of its top-level member names[k] (the last one
// when a name repeats). It reports whether s is valid JSON and whether it
// is an object.
func scanTop(s string, names, out []string) (valid, object bool) {
	i := skipWS(s, 0)
	if i >= len(s) {
		return false, false
	}
	if s[i] != '{' {
		e := skipValue(s, i, 0)
		return e >= 0 && skipWS(s, e) == len(s), false
	}
	j := skipWS(s, i+1)
	if j < len(s) && s[j] == '}' {
		return skipWS(s, j+1) == len(s), true
	}
	for {
		if j >= len(s) || s[j] != '"' {
			return false, true
		}
		ne, esc := skipString(s, j)
		if ne < 0 {
			return false, true
		}
		name := s[j+1 : ne-1]
		if esc {
			name = rawKeyPart(s[j:ne])
		}
		j = skipWS(s, ne)
		if j >= len(s) || s[j] != ':' {
			return false, true
		}
		v0 := skipWS(s, j+1)
		v1 := skipValue(s, v0, 1)
		if v1 < 0 {
			return false, true
		}
		for k, n := range names {
			if n == name {
				out[k] = s[v0:v1]
			}
		}
		j = skipWS(s, v1)
		if j >= len(s) {
			return false, true
		}
		if s[j] == '}' {
			return skipWS(s, j+1) == len(s), true
		}
		if s[j] != ',' {
			return false, true
		}
		j = skipWS(s, j+1)
	}
}

// eachElement calls fn with the raw JSON of each element of the valid
// array raw.
func eachElement(raw string, fn func(string)) {
	j := skipWS(raw, 1)
	for j < len(raw) && raw[j] != ']' {
		e := skipValue(raw, j, 1)
		if e < 0 {
			return
		}
		fn(raw[j:e])
		j = skipWS(raw, e)
		if j < len(raw) && raw[j] == ',' {
			j = skipWS(raw, j+1)
		}
	}
}

// rawInt reads a JSON number token as an int64 (truncating a fraction).
func rawInt(raw string) (int64, bool) {
	if raw == "" || (raw[0] != '-' && !isDigit(raw[0])) || skipNumber(raw, 0) != len(raw) {
		return 0, false
	}
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || f != f || f > 9.2e18 || f < -9.2e18 {
		return 0, false
	}
	return int64(f), true
}

// skipFast returns the end of the value at s[i] in a document already
// validated, without checking it again.
func skipFast(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '"':
		for i++; i < len(s); i++ {
			for i < len(s) && strPlain[s[i]] {
				i++
			}
			if i >= len(s) {
				return i
			}
			if s[i] == '\\' {
				i++
				continue
			}
			if s[i] == '"' {
				return i + 1
			}
		}
		return i
	case '{', '[':
		depth := 0
		for ; i < len(s); i++ {
			switch s[i] {
			case '"':
				i = skipFast(s, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(s) && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\n' && s[i] != '\t' && s[i] != '\r' {
		i++
	}
	return i
}

// scanMembers sets out[k] to the raw value of the first top-level member
// named names[k] of the object s (already validated; out cleared), and
// stops once all are found.
func scanMembers(s string, names, out []string) {
	left := len(names)
	j := skipWS(s, 1)
	for left > 0 && j < len(s) && s[j] == '"' {
		ne := skipFast(s, j)
		if ne < j+2 || ne > len(s) {
			return
		}
		name := s[j+1 : ne-1]
		v0 := skipWS(s, skipWS(s, ne)+1)
		v1 := skipFast(s, v0)
		for k, n := range names {
			if n == name && out[k] == "" {
				out[k] = s[v0:v1]
				left--
			}
		}
		j = skipWS(s, v1)
		if j < len(s) && s[j] == ',' {
			j = skipWS(s, j+1)
		}
	}
}
