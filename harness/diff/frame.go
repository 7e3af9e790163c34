package diff

import (
	"strconv"

	"github.com/tidwall/gjson"
)

// msg is one decoded WS message. Every subscriber receives the same bytes,
// so a message is decoded once and shared (see msgCache); nothing in it
// changes after decode.
type msg struct {
	// feat is the feature's index, -1 for a message of no feature
	// (heartbeats and the like).
	feat   int
	seq    int64
	hasSeq bool
	items  []msgItem
	one    [1]msgItem // items' storage for a message of one item
	// problems are protocol errors found in the message.
	problems []string
	// hits counts ignore rule matches over the message's items, per rule.
	hits []int32
}

// msgItem is one item of a message.
type msgItem struct {
	key string
	v   value
	// raw is the item's JSON, for A/A calibration.
	raw string
	// stream and order: events features' ordered stream, and the item's
	// Order value (raw JSON).
	stream string
	order  string
	// state and event: the feature's per-key record, found on first use.
	state *stateKey
	event *eventKey
}

// decoder decodes WS messages for every feature of a scenario.
type decoder struct {
	feats []*featureConf
	// simple: every path the decoder reads is a top-level member name,
	// found in one scan of the message (names; top holds their values).
	simple bool
	names  []string
	top    []string
	// per feature: the indexes in names of its seq and items.
	seqIdx, itemsIdx []int
	typeIdx          []int
	// typeFields are the distinct TypeField paths, with the features each
	// type value selects.
	typeFields []string
	byType     []map[string]int
}

func newDecoder(feats []*featureConf) *decoder {
	d := &decoder{feats: feats}
	for i, f := range feats {
		j := -1
		for k, tf := range d.typeFields {
			if tf == f.typeField {
				j = k
			}
		}
		if j < 0 {
			d.typeFields = append(d.typeFields, f.typeField)
			d.byType = append(d.byType, map[string]int{})
			j = len(d.typeFields) - 1
		}
		if _, dup := d.byType[j][f.wsType]; !dup {
			d.byType[j][f.wsType] = i
		}
	}
	d.simple = true
	idx := func(p string) int {
		if !isSimpleName(p) {
			d.simple = false
		}
		for k, n := range d.names {
			if n == p {
				return k
			}
		}
		d.names = append(d.names, p)
		return len(d.names) - 1
	}
	for _, tf := range d.typeFields {
		d.typeIdx = append(d.typeIdx, idx(tf))
	}
	for _, f := range feats {
		s := -1
		if f.seqMode {
			s = idx(f.wsSeq)
		}
		d.seqIdx = append(d.seqIdx, s)
		d.itemsIdx = append(d.itemsIdx, idx(f.wsItems))
	}
	d.top = make([]string, len(d.names))
	return d
}

// decodeSimple is decode for simple paths: one scan of the message.
func (d *decoder) decodeSimple(body string, m *msg) {
	clear(d.top)
	valid, object := scanTop(body, d.names, d.top)
	if !valid {
		m.problems = append(m.problems, "frame is not valid JSON")
		return
	}
	if !object {
		return
	}
	for i, k := range d.typeIdx {
		t := d.top[k]
		if len(t) < 2 || t[0] != '"' {
			continue
		}
		if fi, ok := d.byType[i][rawKeyPart(t)]; ok {
			m.feat = fi
			break
		}
	}
	if m.feat < 0 {
		return
	}
	f := d.feats[m.feat]
	if k := d.seqIdx[m.feat]; k >= 0 {
		if n, ok := rawInt(d.top[k]); ok {
			m.seq, m.hasSeq = n, true
		} else {
			m.problems = append(m.problems, "message has no number at seq path "+strconv.Quote(f.wsSeq))
		}
	}
	items := d.top[d.itemsIdx[m.feat]]
	switch {
	case items == "":
		m.problems = append(m.problems, "message has no items at "+strconv.Quote(f.wsItems))
	case items[0] == '[':
		eachElement(items, func(raw string) { d.item(f, m, raw) })
	default:
		d.item(f, m, items)
	}
}

// decode decodes one frame. body must stay unchanged for as long as the
// msg is used (its strings point into it).
func (d *decoder) decode(body string) *msg {
	m := &msg{feat: -1}
	m.items = m.one[:0]
	if d.simple {
		d.decodeSimple(body, m)
		return m
	}
	if i := skipValue(body, skipWS(body, 0), 0); i < 0 || skipWS(body, i) != len(body) {
		m.problems = append(m.problems, "frame is not valid JSON")
		return m
	}
	for i, tf := range d.typeFields {
		t := gjson.Get(body, tf)
		if t.Type != gjson.String {
			continue
		}
		if fi, ok := d.byType[i][t.Str]; ok {
			m.feat = fi
			break
		}
	}
	if m.feat < 0 {
		return m
	}
	f := d.feats[m.feat]
	if f.seqMode {
		s := gjson.Get(body, f.wsSeq)
		if s.Type != gjson.Number {
			m.problems = append(m.problems, "message has no number at seq path "+strconv.Quote(f.wsSeq))
		} else {
			m.seq, m.hasSeq = s.Int(), true
		}
	}
	items := gjson.Get(body, f.wsItems)
	switch {
	case !items.Exists():
		m.problems = append(m.problems, "message has no items at "+strconv.Quote(f.wsItems))
	case items.IsArray():
		items.ForEach(func(_, it gjson.Result) bool {
			d.item(f, m, it.Raw)
			return true
		})
	default:
		d.item(f, m, items.Raw)
	}
	return m
}

func (d *decoder) item(f *featureConf, m *msg, raw string) {
	n := f.norm
	key, v, bad := n.item(raw)
	if bad != "" {
		m.problems = append(m.problems, bad)
		return
	}
	mi := msgItem{key: key, raw: raw, v: v}
	if f.kind == kindEvents {
		mi.stream = f.streamOf(raw)
		if f.order != "" {
			o := gjson.Get(raw, f.order)
			mi.order = o.Raw
			if !o.Exists() {
				m.problems = append(m.problems, "item has no order field "+strconv.Quote(f.order)+": "+clip(raw, 200))
				return
			}
		}
	}
	for i, h := range n.hits {
		if h != 0 {
			if m.hits == nil {
				m.hits = make([]int32, len(n.hits))
			}
			m.hits[i] += h
		}
	}
	m.items = append(m.items, mi)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// msgCache maps frame bytes to decoded messages: the subscribers' copies of
// one message arrive close together, so a small ring of recent bodies
// decodes each distinct message once. A miss only costs a decode.
type msgCache struct {
	m    map[string]*msg
	ring []string
	next int
}

func newMsgCache(size int) *msgCache {
	return &msgCache{m: make(map[string]*msg, size), ring: make([]string, size)}
}

func (c *msgCache) get(body []byte, d *decoder) *msg {
	if m, ok := c.m[string(body)]; ok {
		return m
	}
	s := string(body)
	m := d.decode(s)
	if old := c.ring[c.next]; old != "" {
		delete(c.m, old)
	}
	c.ring[c.next] = s
	c.next = (c.next + 1) % len(c.ring)
	c.m[s] = m
	return m
}
