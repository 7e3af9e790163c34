package refstack

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// writeTimeout bounds one batch of writes to a client; a client that
// accepts nothing for this long is gone.
const writeTimeout = 10 * time.Second

// hub fans broadcast messages out to WS clients. A message is encoded once
// (a PreparedMessage, framed once); publish appends it to every client's
// bounded queue and wakes the client's writer goroutine, which drains its
// queue in batches. A client whose queue cannot take a publish is cut off
// (counted in slowCut) instead of stalling anyone.
//
// publish calls are serialized, so every client gets the same order.
type hub struct {
	queueSize int

	pubMu sync.Mutex // serializes publish: one order for all clients

	mu      sync.Mutex // guards changes to clients and closed
	closed  bool
	clients atomic.Pointer[[]*client] // copy on write

	wg sync.WaitGroup // client writers and readers

	broadcasts atomic.Int64
	deliveries atomic.Int64
	slowCut    atomic.Int64
	accepted   atomic.Int64
}

type client struct {
	h    *hub
	conn *websocket.Conn
	bc   *batchConn // conn's network side: gathers a batch into one write

	mu    sync.Mutex
	q     []*websocket.PreparedMessage // waiting to be written
	spare []*websocket.PreparedMessage // the writer's last batch, reused
	dead  bool

	notify chan struct{} // cap 1: the queue has something
	done   chan struct{} // closed when the client is gone
	once   sync.Once
}

func newHub(queueSize int) *hub {
	h := &hub{queueSize: queueSize}
	h.clients.Store(new([]*client))
	return h
}

// reserve registers a client before its handshake is answered, as a
// Channels consumer joins its group before accepting: a message published
// after the client saw the answer cannot miss it. Publishes queue up until
// attach starts the writer. It returns nil when the hub is closed.
func (h *hub) reserve() *client {
	c := &client{h: h, notify: make(chan struct{}, 1), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	old := *h.clients.Load()
	next := make([]*client, len(old), len(old)+1)
	copy(next, old)
	next = append(next, c)
	h.clients.Store(&next)
	return c
}

// attach gives a reserved client its connection, starts its writer and
// reads the connection until it ends. It runs in the connection's HTTP
// handler. A client cut while it was reserved (slow, or the hub closed)
// only has its connection closed.
func (h *hub) attach(c *client, conn *websocket.Conn, bc *batchConn) {
	c.mu.Lock()
	c.conn, c.bc = conn, bc
	dead := c.dead
	c.mu.Unlock()
	h.mu.Lock()
	if dead || h.closed {
		h.mu.Unlock()
		c.shut(0, "")
		conn.Close()
		return
	}
	h.wg.Add(2) // writer and reader
	h.mu.Unlock()
	h.accepted.Add(1)
	go c.writeLoop()
	defer h.wg.Done()
	c.readLoop()
}

func (h *hub) remove(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	old := *h.clients.Load()
	next := make([]*client, 0, len(old))
	for _, o := range old {
		if o != c {
			next = append(next, o)
		}
	}
	h.clients.Store(&next)
}

// publish queues pms, in order, for every client.
func (h *hub) publish(pms ...*websocket.PreparedMessage) {
	if len(pms) == 0 {
		return
	}
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	h.broadcasts.Add(int64(len(pms)))
	for _, c := range *h.clients.Load() {
		c.mu.Lock()
		if c.dead {
			c.mu.Unlock()
			continue
		}
		if len(c.q)+len(pms) > h.queueSize {
			c.dead = true
			c.mu.Unlock()
			h.slowCut.Add(1)
			c.shut(websocket.ClosePolicyViolation, "slow consumer: send queue full")
			continue
		}
		c.q = append(c.q, pms...)
		c.mu.Unlock()
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
}

// backlog is the longest queue of a live client.
func (h *hub) backlog() int {
	n := 0
	for _, c := range *h.clients.Load() {
		c.mu.Lock()
		if !c.dead {
			n = max(n, len(c.q))
		}
		c.mu.Unlock()
	}
	return n
}

// waitRoom waits until every live client's queue is at most limit long, or
// until deadline. It is the ingest's bounded back-pressure: a burst does not
// cut clients that are merely catching up, and a stuck client holds the
// ingest up to the deadline only.
func (h *hub) waitRoom(limit int, deadline time.Time) {
	for h.backlog() > limit && time.Now().Before(deadline) {
		time.Sleep(200 * time.Microsecond)
	}
}

// publishPaced publishes pms in chunks of a quarter queue, waiting before
// each (until deadline at most) while a client is over half a queue behind,
// so a burst does not overflow clients that keep reading.
func (h *hub) publishPaced(pms []*websocket.PreparedMessage, deadline time.Time) {
	chunk := max(1, h.queueSize/4)
	for len(pms) > 0 {
		n := min(chunk, len(pms))
		h.waitRoom(h.queueSize/2, deadline)
		h.publish(pms[:n]...)
		pms = pms[n:]
	}
}

func (h *hub) connections() int { return len(*h.clients.Load()) }

// close cuts every client with "going away" and waits for their goroutines.
func (h *hub) close() {
	h.mu.Lock()
	h.closed = true
	clients := *h.clients.Load()
	h.mu.Unlock()
	for _, c := range clients {
		c.shut(websocket.CloseGoingAway, "server shutting down")
	}
	h.wg.Wait()
}

// shut ends the client once: it leaves the hub, gets a close frame if it
// still takes one within a moment, and its connection is closed (which ends
// its reader and writer).
func (c *client) shut(code int, reason string) {
	c.once.Do(func() {
		close(c.done)
		c.h.remove(c)
		c.mu.Lock()
		c.dead = true
		c.q = nil
		conn := c.conn
		c.mu.Unlock()
		if conn == nil {
			return // reserved, never attached: attach closes the connection
		}
		// Not inline: the peer may not be reading, and shut runs inside
		// publish. The close frame gets 100ms; a writer stuck on a full
		// socket is unblocked by closing the connection regardless.
		go func() {
			if code != 0 {
				t := time.AfterFunc(150*time.Millisecond, func() { conn.Close() })
				_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(100*time.Millisecond))
				t.Stop()
			}
			conn.Close()
		}()
	})
}

func (c *client) writeLoop() {
	defer c.h.wg.Done()
	for {
		select {
		case <-c.notify:
		case <-c.done:
			return
		}
		c.mu.Lock()
		batch := c.q
		c.q, c.spare = c.spare[:0], nil
		c.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		c.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		c.bc.begin()
		for _, pm := range batch {
			if err := c.conn.WritePreparedMessage(pm); err != nil {
				c.bc.flush()
				c.shut(0, "")
				return
			}
		}
		if err := c.bc.flush(); err != nil {
			c.shut(0, "")
			return
		}
		c.h.deliveries.Add(int64(len(batch)))
		clear(batch)
		c.mu.Lock()
		if c.spare == nil && !c.dead {
			c.spare = batch[:0]
		}
		c.mu.Unlock()
	}
}

// readLoop reads and discards client frames (answering pings and noticing
// the close) until the connection ends, then shuts the client.
func (c *client) readLoop() {
	c.conn.SetReadLimit(64 << 10)
	for {
		if _, _, err := c.conn.NextReader(); err != nil {
			break
		}
	}
	c.shut(0, "")
}
