package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/session"
)

// Progress is a snapshot of a replay, for progress lines.
type Progress struct {
	Events  int64         // events acknowledged so far
	Batches int64         // batches acknowledged so far
	Seq     int64         // last seq acknowledged
	Session time.Duration // session time of the last event sent
	Elapsed time.Duration // wall time since the replay began
	Done    bool
}

// HTTP posts a session's events in order to an ingest URL as JSON arrays of
// session lines, the first batch starting with the header line.
type HTTP struct {
	// URL is the ingest endpoint.
	URL string
	// Session is the session file (plain or gzip).
	Session string
	// Speed is the factor of event time; 0 means as fast as acknowledged.
	Speed float64
	// Batch is the most events in one request.
	Batch int
	// Client posts.
	Client *http.Client
	// Timeout bounds one batch: the stack must answer within it. Zero
	// means 60s.
	Timeout time.Duration
	// Clock and Out record each acknowledged batch.
	Clock *capture.Clock
	Out   *capture.Writer
	// Progress, when set, is called after each batch and at the end.
	Progress func(Progress)
}

// Run replays the whole session, or until ctx is done (then it returns
// ctx's error after the batch in flight is answered or abandoned).
func (h *HTTP) Run(ctx context.Context) error {
	r, err := session.Open(h.Session)
	if err != nil {
		return err
	}
	defer r.Close()
	hdr := []byte(r.Header().Raw) // forwarded as read, unknown fields included
	if len(hdr) == 0 {
		if hdr, err = json.Marshal(r.Header()); err != nil {
			return err
		}
	}
	start := time.Now()
	var (
		p        Progress
		first    time.Time
		buf      bytes.Buffer
		n        int
		lastSeq  int64
		sentHead bool
	)
	flush := func() error {
		if n == 0 && sentHead {
			return nil
		}
		buf.WriteByte(']')
		t0 := h.Clock.Now()
		if err := h.post(ctx, buf.Bytes()); err != nil {
			return err
		}
		_ = h.Out.Write(&capture.Record{K: capture.KindReplay, T0: t0, T: h.Clock.Now(), Seq: lastSeq, N: n})
		p.Events += int64(n)
		p.Batches++
		p.Seq = lastSeq
		p.Elapsed = time.Since(start)
		if h.Progress != nil {
			h.Progress(p)
		}
		buf.Reset()
		n = 0
		return nil
	}
	begin := func() {
		buf.WriteByte('[')
		if !sentHead {
			buf.Write(hdr)
			sentHead = true
		}
	}
	begin()
	for {
		line, ev, err := r.NextRaw()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if first.IsZero() {
			first = ev.T
		}
		at := ev.T.Sub(first)
		if h.Speed > 0 {
			due := start.Add(time.Duration(float64(at) / h.Speed))
			if wait := time.Until(due); wait > time.Millisecond {
				// Not due yet: send what is due first, then wait.
				if n > 0 || buf.Len() > 1 {
					if err := flush(); err != nil {
						return err
					}
					begin()
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(wait):
				}
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		buf.Write(line)
		n++
		lastSeq = ev.Seq
		p.Session = at
		if n >= h.Batch {
			if err := flush(); err != nil {
				return err
			}
			begin()
		}
	}
	if err := flush(); err != nil {
		return err
	}
	p.Done = true
	p.Elapsed = time.Since(start)
	if h.Progress != nil {
		h.Progress(p)
	}
	return nil
}

func (h *HTTP) post(ctx context.Context, body []byte) error {
	timeout := h.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	bctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(bctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if bctx.Err() != nil {
			return fmt.Errorf("ingest %s did not answer a batch within %s", h.URL, timeout)
		}
		return fmt.Errorf("ingest %s: %w", h.URL, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("ingest %s answered %s: %s", h.URL, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
