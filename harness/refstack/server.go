package refstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/thor-trading/cutover-harness/harness/session"
)

// Defaults of Config.
const (
	DefaultAddr      = "127.0.0.1:0"
	DefaultHeartbeat = time.Second
	DefaultQueueSize = 4096
)

// Config configures a reference stack. The zero Config is a clean stack on
// 127.0.0.1 (random port) without the ingest endpoint.
type Config struct {
	// Addr is where Start listens. "" means 127.0.0.1:0 (a free port).
	Addr string
	// Replay exposes POST /__replay/events. False: that path answers 404.
	Replay bool
	// Flags are the feature flags GET /api/features reports. Zero: all off.
	// Broadcasts flow whatever the flags say (shadow mode).
	Flags Flags
	// RESTRemoved lists features whose REST endpoint answers 410 Gone.
	// Nil: every endpoint answers.
	RESTRemoved []Feature
	// Faults switches fault modes on per feature. Nil: a clean stack.
	Faults Faults
	// NoSeq leaves "seq" out of every REST body, WS message and ingest
	// answer. False: every one carries it.
	NoSeq bool
	// Heartbeat is the period of the WS heartbeat message. Zero means one
	// second; negative means no heartbeat.
	Heartbeat time.Duration
	// QueueSize bounds each WS client's queue of frames not yet written; a
	// client whose queue is full is cut off. Zero means 4096.
	QueueSize int
	// Seed seeds the RNG of the drop and duplicate faults (per feature).
	// Zero is a seed like any other: the same faults every run.
	Seed int64
	// Redis is the URL of a Redis server (redis://host:6379/0) whose pub/sub
	// is the channel layer shared with other replicas: the replica that
	// ingests publishes the session lines, every replica applies them and
	// broadcasts to its own WS clients (see redis.go). "" is the in-memory
	// layer: this process only.
	Redis string
	// RedisChannel prefixes the layer's channel names, so several stacks
	// can share one Redis. "" means "thorstack".
	RedisChannel string
}

// Stats are counters of a running stack.
type Stats struct {
	Connections         int   // WS clients connected now
	ConnectionsAccepted int64 // WS clients accepted since New
	MessagesBroadcast   int64 // frames handed to the hub once each (items, duplicates, heartbeats)
	Deliveries          int64 // frames written to clients (one per client per frame)
	SlowClientsCut      int64 // clients cut off because their queue was full
	EventsApplied       int64 // session events applied (header lines not counted)
}

// Server is a running reference stack: model, REST, WS, hub and faults.
type Server struct {
	cfg       Config
	removed   [4]bool
	flags     atomic.Pointer[Flags]
	handler   http.Handler
	heartbeat time.Duration

	pubMu sync.Mutex   // serializes ingest (check, apply, send) and heartbeats
	mu    sync.RWMutex // guards model against REST reads
	model *Model
	msgs  []Message

	pipe  *pipeline
	hub   *hub
	stale *staleStore
	layer *redisLayer // nil: the in-memory layer

	stop     chan struct{}
	bg       sync.WaitGroup
	lifeMu   sync.Mutex
	started  bool
	closed   bool
	srv      *http.Server
	ln       net.Listener
	serveErr chan error
}

// New builds a stack and starts its background work (heartbeat, delayed
// faults). Serve it with Start, or mount Handler on your own server; either
// way call Close.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.QueueSize < 0 {
		return nil, fmt.Errorf("refstack: QueueSize %d: want a positive size (0 means %d)", cfg.QueueSize, DefaultQueueSize)
	}
	if err := cfg.Faults.Validate(); err != nil {
		return nil, fmt.Errorf("refstack: %w", err)
	}
	s := &Server{cfg: cfg, model: NewModel(), stop: make(chan struct{}), heartbeat: cfg.Heartbeat}
	if s.heartbeat == 0 {
		s.heartbeat = DefaultHeartbeat
	}
	for _, f := range cfg.RESTRemoved {
		i := f.index()
		if i < 0 {
			return nil, fmt.Errorf("refstack: RESTRemoved: unknown feature %q (want account_balance, positions, intraday_bars or global_market)", f)
		}
		s.removed[i] = true
	}
	fl := cfg.Flags
	s.flags.Store(&fl)
	s.hub = newHub(cfg.QueueSize)
	s.pipe = newPipeline(s.hub, cfg.Faults, cfg.NoSeq, cfg.Seed)
	s.stale = newStaleStore(cfg.Faults, s.model, time.Now())
	s.handler = s.routes()

	if cfg.Redis != "" {
		l, err := newRedisLayer(s, cfg.Redis, cfg.RedisChannel)
		if err != nil {
			return nil, fmt.Errorf("refstack: %w", err)
		}
		s.layer = l
		l.start()
	}
	s.pipe.start(s.stop, &s.bg)
	if s.heartbeat > 0 {
		s.bg.Add(1)
		go s.heartbeatLoop()
	}
	return s, nil
}

// Config returns the configuration the server runs with (defaults filled).
func (s *Server) Config() Config { return s.cfg }

// Handler serves the stack's REST, WS and ingest endpoints.
func (s *Server) Handler() http.Handler { return s.handler }

// Start listens on Config.Addr and serves in the background.
func (s *Server) Start() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return errors.New("refstack: Start after Close")
	}
	if s.started {
		return errors.New("refstack: already started")
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("refstack: listen: %w", err)
	}
	s.ln, s.started = ln, true
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // packages do not print
	}
	s.serveErr = make(chan error, 1)
	go func() { s.serveErr <- s.srv.Serve(ln) }()
	return nil
}

// Addr is the address Start listens on (host:port), "" before Start.
func (s *Server) Addr() string {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// URL is the REST base, e.g. http://127.0.0.1:8000; "" before Start.
func (s *Server) URL() string {
	if a := s.Addr(); a != "" {
		return "http://" + a
	}
	return ""
}

// WSURL is the dashboard WS URL, e.g. ws://127.0.0.1:8000/ws/dashboard/;
// "" before Start.
func (s *Server) WSURL() string {
	if a := s.Addr(); a != "" {
		return "ws://" + a + WSPath
	}
	return ""
}

// Close stops serving: in-flight requests get a moment to finish, WS
// clients get a "going away" close frame, background work stops. It waits
// for the stack's goroutines and may be called more than once.
func (s *Server) Close() error {
	s.lifeMu.Lock()
	if s.closed {
		s.lifeMu.Unlock()
		return nil
	}
	s.closed = true
	srv := s.srv
	s.lifeMu.Unlock()

	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if srv.Shutdown(ctx) != nil {
			srv.Close()
		}
		cancel()
		if e := <-s.serveErr; e != nil && !errors.Is(e, http.ErrServerClosed) {
			err = e
		}
	}
	s.hub.close()
	if s.layer != nil {
		s.layer.close()
	}
	close(s.stop)
	s.bg.Wait()
	return err
}

// Layer returns the Redis channel layer's counters; false with the
// in-memory layer.
func (s *Server) Layer() (LayerStats, bool) {
	if s.layer == nil {
		return LayerStats{}, false
	}
	return s.layer.Stats(), true
}

// ready reports whether the stack can serve its contract: with the Redis
// layer, once its subscription is live.
func (s *Server) ready() (bool, string) {
	if s.layer != nil && !s.layer.subscribed.Load() {
		return false, "redis channel layer not subscribed"
	}
	return true, ""
}

// Stats returns the current counters.
func (s *Server) Stats() Stats {
	s.mu.RLock()
	events := s.model.events
	s.mu.RUnlock()
	return Stats{
		Connections:         s.hub.connections(),
		ConnectionsAccepted: s.hub.accepted.Load(),
		MessagesBroadcast:   s.hub.broadcasts.Load(),
		Deliveries:          s.hub.deliveries.Load(),
		SlowClientsCut:      s.hub.slowCut.Load(),
		EventsApplied:       events,
	}
}

// Flags returns the feature flags /api/features reports now.
func (s *Server) Flags() Flags { return *s.flags.Load() }

// SetFlags changes the reported feature flags (a rollout or a rollback).
func (s *Server) SetFlags(fl Flags) { s.flags.Store(&fl) }

// Seq is the seq of the last event applied.
func (s *Server) Seq() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.model.Seq()
}

// ApplyLines checks and applies a batch as POST /__replay/events does: a
// header line resets the state, events apply in order, and their messages
// are broadcast. A batch that fails CheckBatch applies nothing. It returns
// the seq of the last event applied.
func (s *Server) ApplyLines(lines []Line) (int64, error) {
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	// Only holders of pubMu change the model, so it can be read here.
	if err := CheckBatch(lines, s.model.Seq(), s.model.LastTime()); err != nil {
		return s.model.Seq(), err
	}
	prev := s.model.Seq()
	seq := s.apply(lines, true)
	if s.layer != nil {
		s.layer.ingested(lines, prev)
	}
	return seq, nil
}

// applyLayer applies lines another replica published through the channel
// layer: checked like ingest, not published again, broadcast only when
// live (catch-up lines were broadcast while this replica missed them). The
// caller holds pubMu.
func (s *Server) applyLayer(lines []Line, broadcast bool) {
	if CheckBatch(lines, s.model.Seq(), s.model.LastTime()) != nil {
		return
	}
	s.apply(lines, broadcast)
}

// apply applies checked lines and broadcasts their messages if broadcast;
// the caller holds pubMu. It returns the seq of the last event applied.
func (s *Server) apply(lines []Line, broadcast bool) int64 {
	send := s.pipe.send
	if !broadcast {
		send = func([]Message) {}
	}
	msgs := s.msgs[:0]
	s.mu.Lock()
	for _, l := range lines {
		if l.Header != nil {
			send(msgs)
			msgs = msgs[:0]
			s.pipe.reset()
			s.model.Reset(*l.Header)
			continue
		}
		msgs = s.model.appendApply(msgs, *l.Event)
	}
	seq := s.model.Seq()
	s.mu.Unlock()
	s.stale.capture(s.model, time.Now())
	send(msgs)
	clear(msgs)
	s.msgs = msgs[:0]
	return seq
}

// ApplyEvents applies events as one batch (see ApplyLines).
func (s *Server) ApplyEvents(evs ...session.Event) (int64, error) {
	lines := make([]Line, len(evs))
	for i := range evs {
		lines[i].Event = &evs[i]
	}
	return s.ApplyLines(lines)
}

// Reset starts a new session with h's instruments, as a header line does.
func (s *Server) Reset(h session.Header) error {
	if err := checkHeader(&h); err != nil {
		return err
	}
	_, err := s.ApplyLines([]Line{{Header: &h}})
	return err
}

func (s *Server) heartbeatLoop() {
	defer s.bg.Done()
	t := time.NewTicker(s.heartbeat)
	defer t.Stop()
	var buf []byte
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.pubMu.Lock()
			buf = appendHeartbeat(buf[:0], s.model.Seq(), now, s.cfg.NoSeq)
			s.hub.publish(s.pipe.prepareRaw(buf))
			s.pubMu.Unlock()
		}
	}
}
