package refstack

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// maxBatchBytes bounds what a batchConn gathers before it writes.
const maxBatchBytes = 64 << 10

var batchBufs = sync.Pool{New: func() any { b := make([]byte, 0, maxBatchBytes+4096); return &b }}

// batchConn is the connection gorilla writes a client's frames to. Between
// begin and flush it gathers writes, so a writer's batch of prepared frames
// reaches the socket in one system call (at most maxBatchBytes each) instead
// of one per frame. Outside a batch, writes (control frames from other
// goroutines) go straight through. Each frame is still gorilla's own
// PreparedMessage framing.
type batchConn struct {
	net.Conn

	mu       sync.Mutex
	batching bool
	buf      *[]byte
	deadline time.Time // the write deadline last set on Conn
}

// SetDeadline passes t on and remembers it as the write deadline.
func (c *batchConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deadline = t
	return c.Conn.SetDeadline(t)
}

// SetWriteDeadline passes a changed deadline on. gorilla sets the deadline
// before every frame; the writer sets one per batch, so arming the socket's
// timer once per batch is enough.
func (c *batchConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Equal(c.deadline) {
		return nil
	}
	c.deadline = t
	return c.Conn.SetWriteDeadline(t)
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.batching {
		return c.Conn.Write(p)
	}
	if c.buf == nil {
		c.buf = batchBufs.Get().(*[]byte)
	}
	*c.buf = append(*c.buf, p...)
	if len(*c.buf) >= maxBatchBytes {
		if err := c.writeOut(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// begin starts gathering writes.
func (c *batchConn) begin() {
	c.mu.Lock()
	c.batching = true
	c.mu.Unlock()
}

// flush writes what was gathered and stops gathering.
func (c *batchConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = false
	err := c.writeOut()
	if c.buf != nil {
		batchBufs.Put(c.buf)
		c.buf = nil
	}
	return err
}

// writeOut writes the gathered bytes; the caller holds c.mu.
func (c *batchConn) writeOut() error {
	if c.buf == nil || len(*c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(*c.buf)
	*c.buf = (*c.buf)[:0]
	return err
}

// hijackBatch hands gorilla's Upgrade a batchConn in place of the hijacked
// connection.
type hijackBatch struct {
	http.ResponseWriter
	conn *batchConn
}

func (h *hijackBatch) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &batchConn{Conn: nc}
	return h.conn, brw, nil
}
