package diff

import (
	"fmt"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/thor-trading/cutover-harness/harness/scenario"
)

const (
	kindState  = 0
	kindEvents = 1
)

// Defaults for zero values, the same the scenario loader fills in.
const (
	defaultTolerance = 1e-6
	defaultBudget    = 2 * time.Second
)

// featureConf is a feature's scenario entry with defaults resolved.
type featureConf struct {
	name    string
	kind    int
	kindStr string

	restItems, restSeq string
	typeField, wsType  string
	wsItems, wsSeq     string
	seqMode            bool

	order  string
	stream []string

	tol    float64
	budget int64 // ns

	ignore []ignoreRule
	norm   *normalizer // WS items (used by the decoder)
	rnorm  *normalizer // REST items
}

func seqPath(p *string) string {
	if p == nil {
		return "seq"
	}
	return *p
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func newFeatureConf(name string, f *scenario.Feature) (*featureConf, error) {
	if f == nil {
		f = &scenario.Feature{}
	}
	c := &featureConf{
		name:      name,
		restItems: orDefault(f.REST.Items, "data"),
		restSeq:   seqPath(f.REST.Seq),
		typeField: orDefault(f.WS.TypeField, "type"),
		wsType:    f.WS.Type,
		wsItems:   orDefault(f.WS.Items, "data"),
		wsSeq:     seqPath(f.WS.Seq),
		order:     f.Order,
		tol:       f.Tolerance,
		budget:    int64(f.FreshnessBudget),
	}
	switch f.Kind {
	case "", scenario.KindState:
		c.kind, c.kindStr = kindState, scenario.KindState
	case scenario.KindEvents:
		c.kind, c.kindStr = kindEvents, scenario.KindEvents
	default:
		return nil, fmt.Errorf("feature %s: kind %q: want %q or %q", name, f.Kind, scenario.KindState, scenario.KindEvents)
	}
	if c.wsType == "" {
		return nil, fmt.Errorf("feature %s: ws.type is empty: the diff cannot tell its messages", name)
	}
	if len(f.Key) == 0 {
		return nil, fmt.Errorf("feature %s: no key fields: the diff cannot tell items apart", name)
	}
	c.seqMode = c.restSeq != "" && c.wsSeq != ""
	if c.tol <= 0 {
		c.tol = defaultTolerance
	}
	if c.budget <= 0 {
		c.budget = int64(defaultBudget)
	}
	c.stream = f.Stream
	if c.kind == kindEvents && len(c.stream) == 0 {
		for _, k := range f.Key {
			if k != f.Order {
				c.stream = append(c.stream, k)
			}
		}
	}
	for _, ig := range f.Ignore {
		if strings.TrimSpace(ig.Field) == "" {
			return nil, fmt.Errorf("feature %s: an ignore rule has no field", name)
		}
		c.ignore = append(c.ignore, ignoreRule{field: ig.Field, reason: ig.Reason, segs: compileIgnore(ig.Field)})
	}
	c.norm = newNormalizer(f.Key, c.ignore, c.tol)
	c.rnorm = newNormalizer(f.Key, c.ignore, c.tol)
	return c, nil
}

// streamOf names an events item's ordered stream.
func (c *featureConf) streamOf(raw string) string {
	switch len(c.stream) {
	case 0:
		return ""
	case 1:
		return keyPart(gjson.Get(raw, c.stream[0]))
	}
	var b strings.Builder
	for i, s := range c.stream {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(keyPart(gjson.Get(raw, s)))
	}
	return b.String()
}

// coveredBy returns the ignore rule covering a field path, "" for none.
func (c *featureConf) coveredBy(path string) string {
	segs := compileIgnore(path)
	for _, r := range c.ignore {
		if matchSegs(r.segs, segs) {
			return r.field
		}
	}
	return ""
}
