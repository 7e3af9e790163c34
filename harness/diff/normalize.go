package diff

import (
	"encoding/json"
	"hash/maphash"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// maxDepth bounds the recursion into nested items; deeper JSON is kept as
// its raw text.
const maxDepth = 32

var hashSeed = maphash.MakeSeed()

// value is a normalised item: ignored fields dropped, object members sorted
// by name (see canon.go). Two values are equal when their raw JSON is the
// same, or when their shapes (the canonical form with every number
// replaced) hash equal and their numbers are within the tolerance of each
// other, in order. Without ignore rules the canonical form is made only
// when first needed: REST and WS usually send equal values as equal bytes.
type value struct {
	raw   string
	canon string
	shape uint64
	// lazy computes canon and shape on first use; nil once they are set.
	lazy *normalizer
}

func (a *value) norm() {
	if n := a.lazy; n != nil {
		a.canon, a.shape = n.canonOf(a.raw)
		a.lazy = nil
	}
}

// equal reports whether a and b are the same value within tol.
func (a *value) equal(b *value, tol float64) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	if a.raw == b.raw {
		return true
	}
	if a.lazy != nil || b.lazy != nil {
		// Most values differ in a number at the same place, or not at all
		// but in how numbers are written: no need to sort anything.
		if eq, sure := lockstep(a.raw, b.raw, tol); sure {
			return eq
		}
	}
	a.norm()
	b.norm()
	if a.shape != b.shape {
		return false
	}
	return a.canon == b.canon || equalCanon(a.canon, b.canon, tol)
}

func numEqual(x, y, tol float64) bool {
	return x == y || math.Abs(x-y) <= tol
}

// any decodes the value for a finding (and go-cmp).
func (a *value) any() any {
	if a == nil {
		return nil
	}
	a.norm()
	var v any
	if err := json.Unmarshal([]byte(a.canon), &v); err != nil {
		return a.canon
	}
	return v
}

// ignoreRule is one compiled ignore rule: path segments, "*" matching any
// member name and "#" any array index.
type ignoreRule struct {
	field, reason string
	segs          []string
}

func compileIgnore(field string) []string {
	var segs []string
	cur := []byte{}
	for i := 0; i < len(field); i++ {
		switch c := field[i]; {
		case c == '\\' && i+1 < len(field):
			i++
			cur = append(cur, field[i])
		case c == '.':
			segs = append(segs, string(cur))
			cur = cur[:0]
		default:
			cur = append(cur, c)
		}
	}
	return append(segs, string(cur))
}

// matchSegs reports whether a rule's segments match a path.
func matchSegs(rule, path []string) bool {
	if len(rule) != len(path) {
		return false
	}
	for i, s := range rule {
		if s != path[i] && s != "*" && !(s == "#" && path[i] == "#") {
			return false
		}
	}
	return true
}

// normalizer turns items into keys and values for one feature. It keeps
// scratch buffers: not safe for concurrent use.
type normalizer struct {
	keys []string
	// simpleKeys: every key field is a plain top-level member name, read
	// while the item is canonicalised (else with gjson).
	simpleKeys bool
	top        []string
	// topKeys: the canonicalisation under way fills top.
	topKeys bool
	ignore  []ignoreRule
	tol     float64

	canon, shape []byte
	path         []string
	spans        [][]span
	// hits counts ignore rule matches of the item being normalised.
	hits []int32
}

func newNormalizer(keys []string, ignore []ignoreRule, tol float64) *normalizer {
	n := &normalizer{keys: keys, ignore: ignore, tol: tol, hits: make([]int32, len(ignore)), top: make([]string, len(keys))}
	n.simpleKeys = true
	for _, k := range keys {
		if k == "" || strings.ContainsAny(k, `.*?#|@\!{}[]`) {
			n.simpleKeys = false
		}
	}
	return n
}

// key joins the item's key fields; it returns a problem when one is
// missing or null. raw is valid JSON.
func (n *normalizer) key(raw string) (string, string) {
	if n.simpleKeys {
		if i := skipWS(raw, 0); i < len(raw) && raw[i] == '{' {
			clear(n.top)
			scanMembers(raw[i:], n.keys, n.top)
			return n.joinTop()
		}
	}
	if len(n.keys) == 1 {
		return keyOf(gjson.Get(raw, n.keys[0]), n.keys[0])
	}
	var b strings.Builder
	for i, k := range n.keys {
		part, bad := keyOf(gjson.Get(raw, k), k)
		if bad != "" {
			return "", bad
		}
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(part)
	}
	return b.String(), ""
}

func keyOf(r gjson.Result, field string) (string, string) {
	if !r.Exists() || r.Type == gjson.Null {
		return "", "item has no key field " + strconv.Quote(field)
	}
	return keyPart(r), ""
}

func keyPart(r gjson.Result) string {
	if r.Type == gjson.String {
		return r.Str
	}
	return r.Raw
}

// joinTop joins the key fields found in n.top.
func (n *normalizer) joinTop() (string, string) {
	for k, t := range n.top {
		if t == "" || t == "null" {
			return "", "item has no key field " + strconv.Quote(n.keys[k])
		}
	}
	if len(n.keys) == 1 {
		return rawKeyPart(n.top[0]), ""
	}
	var b strings.Builder
	for k, t := range n.top {
		if k > 0 {
			b.WriteByte('|')
		}
		b.WriteString(rawKeyPart(t))
	}
	return b.String(), ""
}

// rawKeyPart is keyPart for a value's raw JSON.
func rawKeyPart(raw string) string {
	if len(raw) >= 2 && raw[0] == '"' {
		if strings.IndexByte(raw, '\\') < 0 {
			return raw[1 : len(raw)-1]
		}
		var s string
		if json.Unmarshal([]byte(raw), &s) == nil {
			return s
		}
	}
	return raw
}

// item normalises one item (raw JSON) into its key and value; problem says
// why it cannot be used. n.hits holds the ignore rules it matched.
func (n *normalizer) item(raw string) (key string, v value, problem string) {
	// raw comes from a document already validated.
	i := skipWS(raw, 0)
	end := len(raw)
	for end > i && strings.IndexByte(" \t\r\n", raw[end-1]) >= 0 {
		end--
	}
	if i >= end || raw[i] != '{' {
		return "", v, "item is not an object: " + clip(raw, 80)
	}
	clear(n.top)
	var shape uint64
	if len(n.ignore) == 0 {
		// Lazy: find the key fields only.
		v = value{raw: raw, lazy: n}
		if n.simpleKeys {
			scanMembers(raw[i:end], n.keys, n.top)
		}
	} else {
		n.canonicalise(raw, i, end, true)
		shape = maphash.Bytes(hashSeed, n.shape)
		v = value{raw: raw, shape: shape}
	}
	if !n.simpleKeys {
		if v.lazy == nil {
			v.canon = string(n.canon)
		}
		key, problem = n.key(raw)
		if problem != "" {
			problem += ": " + clip(raw, 200)
		}
		return key, v, problem
	}
	for k, t := range n.top {
		if t == "" || t == "null" {
			return "", v, "item has no key field " + strconv.Quote(n.keys[k]) + ": " + clip(raw, 200)
		}
	}
	if v.lazy != nil {
		if len(n.keys) == 1 {
			return rawKeyPart(n.top[0]), v, ""
		}
		b := n.canon[:0]
		for k, t := range n.top {
			if k > 0 {
				b = append(b, '|')
			}
			b = append(b, rawKeyPart(t)...)
		}
		n.canon = b
		return string(b), v, ""
	}
	if len(n.keys) == 1 {
		v.canon = string(n.canon)
		return rawKeyPart(n.top[0]), v, ""
	}
	// One allocation for the canonical form and the joined key.
	lc := len(n.canon)
	b := n.canon
	for k, t := range n.top {
		if k > 0 {
			b = append(b, '|')
		}
		b = append(b, rawKeyPart(t)...)
	}
	n.canon = b
	both := string(b)
	v.canon = both[:lc]
	return both[lc:], v, ""
}

// canonicalise writes the canonical form of the valid object raw[i:end]
// into n.canon and n.shape, counting ignore rule matches in n.hits, and
// with keys the simple key fields' values into n.top.
func (n *normalizer) canonicalise(raw string, i, end int, keys bool) {
	n.canon, n.shape, n.path = n.canon[:0], n.shape[:0], n.path[:0]
	clear(n.hits)
	n.topKeys = keys && n.simpleKeys
	n.canonValue(raw, i, end, 0)
}

// canonOf returns the canonical form and shape hash of a valid item.
func (n *normalizer) canonOf(raw string) (string, uint64) {
	i := skipWS(raw, 0)
	end := len(raw)
	for end > i && strings.IndexByte(" \t\r\n", raw[end-1]) >= 0 {
		end--
	}
	if i >= end {
		return raw, 0
	}
	n.canonicalise(raw, i, end, false)
	return string(n.canon), maphash.Bytes(hashSeed, n.shape)
}

func (n *normalizer) both(s string) {
	n.canon = append(n.canon, s...)
	n.shape = append(n.shape, s...)
}

func (n *normalizer) ignored() bool {
	for i := range n.ignore {
		if matchSegs(n.ignore[i].segs, n.path) {
			n.hits[i]++
			return true
		}
	}
	return false
}

// fieldDiff appends the paths (indexes as "#") where a and b differ, with
// both raw values; numbers within tol are equal. A field on one side only
// differs too (its other value is "(absent)").
func fieldDiff(a, b gjson.Result, tol float64, path string, depth int, out []fieldDelta) []fieldDelta {
	if depth > maxDepth {
		if a.Raw != b.Raw {
			out = append(out, fieldDelta{path, a.Raw, b.Raw})
		}
		return out
	}
	switch {
	case a.IsObject() && b.IsObject():
		am := a.Map()
		bm := b.Map()
		names := make([]string, 0, len(am)+len(bm))
		for k := range am {
			names = append(names, k)
		}
		for k := range bm {
			if _, ok := am[k]; !ok {
				names = append(names, k)
			}
		}
		slices.Sort(names)
		for _, k := range names {
			p := k
			if path != "" {
				p = path + "." + escapePath(k)
			} else {
				p = escapePath(k)
			}
			av, aok := am[k]
			bv, bok := bm[k]
			switch {
			case !aok:
				out = append(out, fieldDelta{p, absent, bv.Raw})
			case !bok:
				out = append(out, fieldDelta{p, av.Raw, absent})
			default:
				out = fieldDiff(av, bv, tol, p, depth+1, out)
			}
		}
	case a.IsArray() && b.IsArray():
		aa, ba := a.Array(), b.Array()
		p := "#"
		if path != "" {
			p = path + ".#"
		}
		if len(aa) != len(ba) {
			return append(out, fieldDelta{p, a.Raw, b.Raw})
		}
		for i := range aa {
			out = fieldDiff(aa[i], ba[i], tol, p, depth+1, out)
		}
	case a.Type == gjson.Number && b.Type == gjson.Number:
		if a.Num != b.Num && !(math.Abs(a.Num-b.Num) <= tol) {
			out = append(out, fieldDelta{path, a.Raw, b.Raw})
		}
	case a.Type == gjson.String && b.Type == gjson.String:
		if a.Str != b.Str {
			out = append(out, fieldDelta{path, a.Raw, b.Raw})
		}
	default:
		if a.Type != b.Type || a.Raw != b.Raw {
			out = append(out, fieldDelta{path, a.Raw, b.Raw})
		}
	}
	return out
}

const absent = "(absent)"

type fieldDelta struct {
	path string
	a, b string
}

func escapePath(k string) string {
	if !strings.ContainsAny(k, `.\*?#|@`) {
		return k
	}
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		if strings.IndexByte(`.\*?#|@`, k[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(k[i])
	}
	return b.String()
}

// missingFields lists the fields (dotted paths) of rest absent from ws and
// of ws absent from rest, for a finding's detail.
func missingFields(rest, ws any, path string, inWS, inREST []string) ([]string, []string) {
	rm, ok1 := rest.(map[string]any)
	wm, ok2 := ws.(map[string]any)
	if !ok1 || !ok2 {
		return inWS, inREST
	}
	names := make([]string, 0, len(rm))
	for k := range rm {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		p := k
		if path != "" {
			p = path + "." + k
		}
		wv, ok := wm[k]
		if !ok {
			inWS = append(inWS, p)
			continue
		}
		inWS, inREST = missingFields(rm[k], wv, p, inWS, inREST)
	}
	names = names[:0]
	for k := range wm {
		if _, ok := rm[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		p := k
		if path != "" {
			p = path + "." + k
		}
		inREST = append(inREST, p)
	}
	return inWS, inREST
}
