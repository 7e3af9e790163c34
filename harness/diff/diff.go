package diff

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// MaxSubscribers is the most WS subscribers a capture may have for the diff
// (delivery is tracked in one 64-bit mask per message).
const MaxSubscribers = 64

// Timing of the fold, relative to the capture's clock.
const (
	// activeWindow: a subscriber that received nothing for this long does
	// not hold back seq alignment (it is dead or disconnected).
	activeWindow = 3 * int64(time.Second)
	// grace: once every active subscriber's seq is past a REST body's seq,
	// its values are compared this much later, so a message reordered by
	// one place still counts.
	grace = 100 * int64(time.Millisecond)
	// sweepEvery: how often WS traffic checks whether REST observations
	// can be judged (REST polls always do).
	sweepEvery = 50 * int64(time.Millisecond)
	// gapJoin joins messages a subscriber missed into one span when they
	// are this close.
	gapJoin = int64(time.Second)
	// maxEntries caps a key's kept WS history (values not yet passed by
	// REST); past it the oldest are retired, and a subscriber that has not
	// read one yet counts as having missed it. So the cap must hold what
	// one subscriber may trail another by: at a full-day replay's pace a
	// key changes thousands of times a second, and 2048 made a subscriber
	// reading a second behind look like a lossy one. About 5 MB a key at
	// most.
	maxEntries = 16384
)

// DiffFile diffs the capture file at path.
func DiffFile(sc *scenario.Scenario, path string) (*Result, error) {
	r, err := capture.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return Diff(sc, r.Next)
}

// Diff reads records from next, in capture order, until io.EOF, and diffs
// every feature of sc. An error wrapping capture.ErrTruncated ends the
// capture like io.EOF and sets Result.Truncated. Any other error from next,
// or a scenario the diff cannot interpret, is returned. What the stack
// sent, however malformed, never is: it becomes findings.
//
// Records (and their Body bytes) need only be valid until next is called
// again.
func Diff(sc *scenario.Scenario, next func() (*capture.Record, error)) (*Result, error) {
	d, err := newDiffer(sc)
	if err != nil {
		return nil, err
	}
	for {
		rec, err := next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, capture.ErrTruncated) {
			d.res.Truncated = true
			break
		}
		if err != nil {
			return nil, err
		}
		if err := d.record(rec); err != nil {
			return nil, err
		}
	}
	return d.finish(), nil
}

// differ is one diff in progress.
type differ struct {
	sc     *scenario.Scenario
	feats  []*feature
	byName map[string]*feature
	dec    *decoder
	cache  *msgCache

	res   Result
	fs    findings // findings of no feature
	now   int64
	first int64
	seen  bool

	// n is the number of subscribers (grows with the capture).
	n    int
	subs []subInfo
	// attr attributes WS losses once the capture shows a tap.
	attr *attribution
	// conv measures recovery from scheduled faults (nil without).
	conv *convergence
}

type subInfo struct {
	lastT int64
	seen  bool
	stats SubscriberStats
}

func newDiffer(sc *scenario.Scenario) (*differ, error) {
	if sc == nil || len(sc.Features) == 0 {
		return nil, errors.New("diff: the scenario has no features")
	}
	d := &differ{sc: sc, byName: map[string]*feature{}}
	var confs []*featureConf
	for _, name := range sc.FeatureNames() {
		c, err := newFeatureConf(name, sc.Features[name])
		if err != nil {
			return nil, fmt.Errorf("diff: %w", err)
		}
		f := newFeature(d, c)
		confs = append(confs, c)
		d.feats = append(d.feats, f)
		d.byName[name] = f
	}
	d.dec = newDecoder(confs)
	if sc.Subscribers > MaxSubscribers {
		return nil, fmt.Errorf("diff: %d subscribers: at most %d can be diffed", sc.Subscribers, MaxSubscribers)
	}
	d.grow(max(sc.Subscribers, 1))
	d.cache = newMsgCache(max(1024, 512*d.n))
	d.conv = newConvergence(d)
	return d, nil
}

// grow makes room for n subscribers.
func (d *differ) grow(n int) {
	for len(d.subs) < n {
		d.subs = append(d.subs, subInfo{stats: SubscriberStats{Src: "ws:" + strconv.Itoa(len(d.subs))}})
	}
	if n > d.n {
		d.n = n
		for _, f := range d.feats {
			f.grow(n)
		}
	}
}

// sub returns the subscriber index of a "ws:<n>" source.
func (d *differ) sub(src string) (int, error) {
	s, ok := strings.CutPrefix(src, "ws:")
	n, err := strconv.Atoi(s)
	if !ok || err != nil || n < 0 {
		return 0, fmt.Errorf("diff: record %d: source %q: want ws:<n>", d.res.Records, src)
	}
	if n >= MaxSubscribers {
		return 0, fmt.Errorf("diff: record %d: source %q: at most %d subscribers can be diffed", d.res.Records, src, MaxSubscribers)
	}
	if n >= d.n {
		d.grow(n + 1)
	}
	return n, nil
}

func (d *differ) record(rec *capture.Record) error {
	d.res.Records++
	if !d.seen {
		d.first, d.seen = rec.T, true
	}
	if rec.T > d.now {
		d.now = rec.T
	}
	if d.conv != nil {
		d.conv.record(rec)
	}
	switch rec.K {
	case capture.KindWS:
		d.res.WSFrames++
		s, err := d.sub(rec.Src)
		if err != nil {
			return err
		}
		si := &d.subs[s]
		si.lastT, si.seen = rec.T, true
		si.stats.Frames++
		if rec.Binary || rec.Body == nil {
			d.frameProblem(s, rec)
			return nil
		}
		m := d.cache.get(rec.Body, d.dec)
		if m.feat < 0 {
			if len(m.problems) > 0 {
				d.frameProblem(s, rec)
			}
			return nil
		}
		d.feats[m.feat].ws(s, m, rec.T)
		if d.attr != nil {
			d.attr.ws(m.feat, s, m, rec.T)
		}
	case capture.KindREST:
		d.res.RESTPolls++
		if f := d.byName[rec.Feature]; f != nil {
			if strings.HasPrefix(rec.Src, GoneSrc) {
				f.gone(rec)
			} else {
				f.rest(rec)
			}
		}
	case capture.KindConn:
		s, err := d.sub(rec.Src)
		if err != nil {
			return err
		}
		st := &d.subs[s].stats
		if rec.Err == "" {
			st.Connects++
		} else {
			st.Failures++
			st.LastError = rec.Err
		}
	case capture.KindTap:
		if d.attr == nil {
			d.attr = newAttribution(d)
		}
		d.attr.tap(rec)
	case capture.KindEnd:
		if rec.Meta != nil {
			d.res.Ended = rec.Meta.Ended
			d.res.Settled = rec.Meta.Settled != nil && *rec.Meta.Settled
			for _, f := range d.feats {
				f.settledAt = rec.Meta.SettledAt
			}
		}
	}
	return nil
}

// frameProblem records a frame that is binary or not JSON: its feature
// cannot be told, so it belongs to the run.
func (d *differ) frameProblem(s int, rec *capture.Record) {
	d.fs.add(ProtocolError, func() Finding {
		f := Finding{T: rec.T, Subscriber: s}
		switch {
		case rec.Binary:
			f.Detail = fmt.Sprintf("binary frame (%d bytes): %s", rec.Size, clip(strconv.Quote(rec.Text), 120))
		case rec.Body != nil:
			f.Detail = "frame is not valid JSON: " + clip(string(rec.Body), 200)
		case rec.Err != "":
			f.Detail = rec.Err
		default:
			f.Detail = "frame is not JSON: " + clip(rec.Text, 200)
		}
		return f
	})
}

// active reports whether subscriber s received anything lately.
func (d *differ) active(s int, now int64) bool {
	si := &d.subs[s]
	return si.seen && now-si.lastT <= activeWindow
}

func (d *differ) finish() *Result {
	for _, f := range d.feats {
		f.finish()
		if d.attr != nil {
			d.attr.finish(f)
		}
		d.res.Features = append(d.res.Features, f.result())
	}
	d.res.Subscribers = d.n
	if d.conv != nil {
		d.conv.finish(&d.res)
	}
	if d.seen {
		d.res.Duration = time.Duration(d.now - d.first)
	}
	d.res.Findings = d.fs.list()
	d.res.Counts = d.fs.countMap()
	for _, s := range d.subs[:d.n] {
		d.res.SubscriberStats = append(d.res.SubscriberStats, s.stats)
	}
	return &d.res
}

// fmtT renders a capture time for details.
func fmtT(t int64) string {
	return strconv.FormatFloat(float64(t)/1e9, 'f', 3, 64) + "s"
}

func fmtD(ns int64) string { return time.Duration(ns).Round(time.Microsecond).String() }

// subList renders a subscriber mask as "ws:0, ws:2".
func subList(mask uint64) string {
	var b strings.Builder
	for s := 0; s < 64; s++ {
		if mask&(1<<s) != 0 {
			if b.Len() > 0 {
				b.WriteString(", ")
			}
			b.WriteString("ws:")
			b.WriteString(strconv.Itoa(s))
		}
	}
	return b.String()
}

func lowestSub(mask uint64) int {
	for s := 0; s < 64; s++ {
		if mask&(1<<s) != 0 {
			return s
		}
	}
	return -1
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
