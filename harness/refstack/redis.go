package refstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Redis channel layer lets several replicas of the stack behind one
// load balancer serve the same session, the way Channels workers share
// group_send through channels_redis: ingest goes to one replica (the
// origin), which applies the events, answers, broadcasts to its own WS
// clients and publishes the session lines on Redis; every other replica
// applies the same lines in the same order and broadcasts the messages they
// derive to its own clients. Every replica therefore has the same model and
// seq, REST reads the same state on each, and each WS client gets every
// message once, from the replica it is connected to.
//
// Pub/sub delivers only to subscribers connected at the time, as
// channels_redis does: a replica that loses Redis misses what was published
// meanwhile, and its clients miss those messages (a gap the harness must
// see). It does not stay wrong: every message says which seq it follows
// (prev), the origin publishes its seq (a tip) twice a second, and a
// replica that finds itself behind asks for a catch-up; the origin, which
// keeps the session's lines, publishes them again and the replica applies
// them silently (their broadcasts are lost, as Channels' would be). Then it
// follows the live messages again.
//
// Publishing never holds ingest up: messages queue (boundedly) for a
// publisher goroutine; what Redis does not take is dropped and repaired by
// catch-up.

// DefaultRedisChannel prefixes the layer's Redis channel names.
const DefaultRedisChannel = "thorstack"

// Timing of the layer.
const (
	layerTipEvery   = 500 * time.Millisecond // the origin's tip period
	layerAskEvery   = 500 * time.Millisecond // a lagging replica asks at most this often
	layerOpTimeout  = 5 * time.Second        // one Redis command: generous, a busy machine is not an outage
	layerIdle       = 2 * time.Second        // a subscription silent this long is pinged, twice this long given up
	layerQueue      = 8192                   // messages waiting for the publisher
	layerChunk      = 2000                   // most lines in one catch-up message
	layerMaxPending = 4096                   // messages held while a gap is open
)

// layerMsg is one message on the events channel.
type layerMsg struct {
	From  string `json:"from"`
	Epoch string `json:"epoch"`
	// Prev is the seq the first line follows (0 when Lines begins with a
	// header line, which starts a new session).
	Prev int64 `json:"prev"`
	// Lines is a JSON array of session lines, as ingest takes them.
	Lines json.RawMessage `json:"lines,omitempty"`
	// Catchup lines are applied without broadcasting.
	Catchup bool `json:"catchup,omitempty"`
}

// A message without lines is the origin's tip: Prev is its seq.

// syncReq asks the origin for the lines after Seq of session Epoch.
type syncReq struct {
	From  string `json:"from"`
	Epoch string `json:"epoch"`
	Seq   int64  `json:"seq"`
}

type outMsg struct {
	channel string
	payload []byte
}

// LayerStats are counters of the Redis channel layer.
type LayerStats struct {
	Published     int64 // messages Redis took
	PublishFailed int64 // messages lost because Redis did not take them or the queue was full
	Received      int64 // messages received from other replicas
	CatchupAsks   int64 // catch-ups this replica asked for
	CatchupsSent  int64 // catch-up messages this replica published
	Subscribed    bool  // the subscription is live now
}

type redisLayer struct {
	s      *Server
	id     string
	client *redis.Client
	events string
	sync   string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	out    chan outMsg

	subscribed atomic.Bool
	psMu       sync.Mutex
	ps         *redis.PubSub // the live subscription, closed by close
	stats      struct{ published, failed, received, asks, sent atomic.Int64 }

	// Guarded by s.pubMu (the lock that serializes every apply).
	epoch   string
	origin  bool              // this replica ingested the current session
	log     []json.RawMessage // origin: the session's lines, header first
	logSeq  []int64           // seq of each line of log (0 for the header)
	pending []*layerMsg
	lastAsk time.Time
}

func newRedisLayer(s *Server, url, prefix string) (*redisLayer, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis URL %q: %w (want e.g. redis://redis:6379/0)", url, err)
	}
	opt.DialTimeout = 2 * time.Second
	opt.ReadTimeout = layerOpTimeout
	opt.WriteTimeout = layerOpTimeout
	opt.MaxRetries = 1
	opt.ContextTimeoutEnabled = true
	opt.DisableIndentity = true // no CLIENT SETINFO: any Redis version will do
	if prefix == "" {
		prefix = DefaultRedisChannel
	}
	quietRedisLog()
	l := &redisLayer{
		s: s, id: newLayerID(), client: redis.NewClient(opt),
		events: prefix + ":events", sync: prefix + ":sync",
		out: make(chan outMsg, layerQueue),
	}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	return l, nil
}

var quietOnce sync.Once

// quietRedisLog keeps go-redis from printing: a package does not print, and
// the layer counts what goes wrong instead.
func quietRedisLog() {
	quietOnce.Do(func() { redis.SetLogger(discardLogger{}) })
}

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}

func newLayerID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (l *redisLayer) start() {
	l.wg.Add(3)
	go l.publishLoop()
	go l.subscribeLoop()
	go l.tipLoop()
}

func (l *redisLayer) close() {
	l.cancel()
	l.psMu.Lock()
	if l.ps != nil {
		l.ps.Close() // ends a receive in progress
	}
	l.psMu.Unlock()
	l.wg.Wait()
	l.client.Close()
}

func (l *redisLayer) Stats() LayerStats {
	return LayerStats{
		Published: l.stats.published.Load(), PublishFailed: l.stats.failed.Load(),
		Received: l.stats.received.Load(), CatchupAsks: l.stats.asks.Load(), CatchupsSent: l.stats.sent.Load(),
		Subscribed: l.subscribed.Load(),
	}
}

// enqueue hands a message to the publisher without waiting.
func (l *redisLayer) enqueue(channel string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		l.stats.failed.Add(1)
		return
	}
	select {
	case l.out <- outMsg{channel, b}:
	default:
		l.stats.failed.Add(1)
	}
}

func (l *redisLayer) publishLoop() {
	defer l.wg.Done()
	for {
		select {
		case <-l.ctx.Done():
			return
		case m := <-l.out:
			ctx, cancel := context.WithTimeout(l.ctx, layerOpTimeout)
			err := l.client.Publish(ctx, m.channel, m.payload).Err()
			cancel()
			if err != nil {
				l.stats.failed.Add(1)
				continue
			}
			l.stats.published.Add(1)
		}
	}
}

// ingested is called, under s.pubMu, after this replica applied lines from
// its own ingest; prev is the seq before them. It logs them and publishes
// them for the other replicas.
func (l *redisLayer) ingested(lines []Line, prev int64) {
	start := 0
	flush := func(end int) {
		if end <= start {
			return
		}
		raw := make([]json.RawMessage, 0, end-start)
		for _, ln := range lines[start:end] {
			b, seq, err := encodeLine(ln)
			if err != nil {
				l.stats.failed.Add(1)
				return
			}
			raw = append(raw, b)
			l.log = append(l.log, b)
			l.logSeq = append(l.logSeq, seq)
		}
		arr, _ := json.Marshal(raw)
		l.enqueue(l.events, &layerMsg{From: l.id, Epoch: l.epoch, Prev: prev, Lines: arr})
		if ev := lines[end-1].Event; ev != nil {
			prev = ev.Seq
		}
	}
	for i, ln := range lines {
		if ln.Header == nil {
			continue
		}
		flush(i)
		// A header starts a new session with this replica as its origin.
		l.epoch, l.origin = newLayerID(), true
		l.log, l.logSeq, l.pending = nil, nil, nil
		start, prev = i, 0
	}
	if l.epoch == "" {
		// Events without a session header: this replica is the origin of
		// whatever it holds.
		l.epoch, l.origin = newLayerID(), true
	}
	flush(len(lines))
}

func encodeLine(ln Line) (json.RawMessage, int64, error) {
	if ln.Header != nil {
		if ln.Header.Raw != nil {
			return ln.Header.Raw, 0, nil
		}
		b, err := json.Marshal(ln.Header)
		return b, 0, err
	}
	b, err := json.Marshal(*ln.Event)
	return b, ln.Event.Seq, err
}

func (l *redisLayer) tipLoop() {
	defer l.wg.Done()
	t := time.NewTicker(layerTipEvery)
	defer t.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return
		case <-t.C:
		}
		l.s.pubMu.Lock()
		if l.origin {
			l.enqueue(l.events, &layerMsg{From: l.id, Epoch: l.epoch, Prev: l.s.model.Seq()})
		}
		l.s.pubMu.Unlock()
	}
}

// subscribeLoop keeps a subscription to both channels, redialling when
// Redis goes away, and handles what arrives.
func (l *redisLayer) subscribeLoop() {
	defer l.wg.Done()
	defer l.subscribed.Store(false)
	backoff := 50 * time.Millisecond
	for l.ctx.Err() == nil {
		ps := l.client.Subscribe(l.ctx, l.events, l.sync)
		l.psMu.Lock()
		if l.ctx.Err() != nil {
			l.psMu.Unlock()
			ps.Close()
			return
		}
		l.ps = ps
		l.psMu.Unlock()
		l.receive(ps)
		l.psMu.Lock()
		l.ps = nil
		l.psMu.Unlock()
		ps.Close()
		l.subscribed.Store(false)
		select {
		case <-l.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// receive handles one subscription until it fails: an error, or a ping
// left unanswered for a receive timeout (a paused or unreachable Redis).
func (l *redisLayer) receive(ps *redis.PubSub) {
	pinged := false
	for l.ctx.Err() == nil {
		v, err := ps.ReceiveTimeout(l.ctx, layerIdle)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || pinged {
				return
			}
			pinged = true
			if ps.Ping(l.ctx) != nil {
				return
			}
			continue
		}
		pinged = false
		switch m := v.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Count == 2 {
				l.subscribed.Store(true)
			}
		case *redis.Message:
			l.handle(m.Channel, []byte(m.Payload))
		}
	}
}

func (l *redisLayer) handle(channel string, payload []byte) {
	if channel == l.sync {
		var r syncReq
		if json.Unmarshal(payload, &r) != nil || r.From == l.id {
			return
		}
		l.s.pubMu.Lock()
		l.answer(r)
		l.s.pubMu.Unlock()
		return
	}
	m := new(layerMsg)
	if json.Unmarshal(payload, m) != nil || m.From == l.id {
		return
	}
	l.stats.received.Add(1)
	l.s.pubMu.Lock()
	defer l.s.pubMu.Unlock()
	if m.Lines == nil {
		if m.Epoch != l.epoch || m.Prev > l.s.model.Seq() {
			l.ask()
		}
		return
	}
	l.take(m)
}

// take applies m if it follows the model, holds it if a gap comes first.
// The caller holds s.pubMu.
func (l *redisLayer) take(m *layerMsg) {
	lines, err := DecodeBatch(m.Lines)
	if err != nil || len(lines) == 0 {
		return
	}
	if lines[0].Header != nil {
		// A new session: whatever came before is over (drain drops
		// what is held of it).
		l.epoch, l.origin = m.Epoch, false
		l.log, l.logSeq = nil, nil
		l.s.applyLayer(lines, !m.Catchup)
		l.drain()
		return
	}
	if m.Epoch != l.epoch || m.Prev > l.s.model.Seq() {
		l.hold(m)
		l.ask()
		return
	}
	seq := l.s.model.Seq()
	i := 0
	for i < len(lines) && lines[i].Event != nil && lines[i].Event.Seq <= seq {
		i++
	}
	if i < len(lines) {
		l.s.applyLayer(lines[i:], !m.Catchup)
	}
	l.drain()
}

func (l *redisLayer) hold(m *layerMsg) {
	if len(l.pending) >= layerMaxPending {
		l.pending = l.pending[1:]
	}
	l.pending = append(l.pending, m)
}

// drain applies held messages that now follow the model.
func (l *redisLayer) drain() {
	for {
		sort.SliceStable(l.pending, func(i, j int) bool { return l.pending[i].Prev < l.pending[j].Prev })
		seq := l.s.model.Seq()
		i := 0
		for i < len(l.pending) && (l.pending[i].Epoch != l.epoch || l.pending[i].Prev <= seq) {
			i++
		}
		ready := l.pending[:i]
		l.pending = l.pending[i:]
		if len(ready) == 0 {
			return
		}
		for _, m := range ready {
			if m.Epoch == l.epoch {
				l.takeFollowing(m)
			}
		}
	}
}

// takeFollowing applies the part of m past the model's seq; m.Prev is at
// or below it.
func (l *redisLayer) takeFollowing(m *layerMsg) {
	lines, err := DecodeBatch(m.Lines)
	if err != nil {
		return
	}
	seq := l.s.model.Seq()
	i := 0
	for i < len(lines) && lines[i].Event != nil && lines[i].Event.Seq <= seq {
		i++
	}
	if i < len(lines) {
		l.s.applyLayer(lines[i:], !m.Catchup)
	}
}

// ask requests a catch-up from the origin, at most every layerAskEvery.
func (l *redisLayer) ask() {
	if time.Since(l.lastAsk) < layerAskEvery {
		return
	}
	l.lastAsk = time.Now()
	l.stats.asks.Add(1)
	l.enqueue(l.sync, &syncReq{From: l.id, Epoch: l.epoch, Seq: l.s.model.Seq()})
}

// answer publishes, if this replica is the origin, the lines r lacks: the
// ones after r.Seq, or the whole session when r has another one.
func (l *redisLayer) answer(r syncReq) {
	if !l.origin || len(l.log) == 0 {
		return
	}
	from, prev := 0, int64(0)
	if r.Epoch == l.epoch {
		if r.Seq >= l.s.model.Seq() {
			return
		}
		from = sort.Search(len(l.logSeq), func(i int) bool { return l.logSeq[i] > r.Seq })
		if from == 0 {
			from = 1 // the header is not resent within a session
		}
		prev = l.logSeq[from-1]
	}
	for from < len(l.log) {
		end := min(from+layerChunk, len(l.log))
		arr, _ := json.Marshal(l.log[from:end])
		l.enqueue(l.events, &layerMsg{From: l.id, Epoch: l.epoch, Prev: prev, Lines: arr, Catchup: true})
		l.stats.sent.Add(1)
		prev = l.logSeq[end-1]
		from = end
	}
}
