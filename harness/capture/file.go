package capture

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// FileName is the capture's name inside a run directory.
const FileName = "capture.jsonl"

// maxText is how much of a non-JSON body or frame is kept.
const maxText = 4 << 10

// FlushEvery is how often a Writer hands buffered records to the file, so
// a harness killed outright (SIGKILL, OOM) loses at most this much of its
// capture.
const FlushEvery = 200 * time.Millisecond

// Writer appends records to a capture file. It is safe for concurrent use;
// records are written in the order Write is called. Lines are flushed in
// large buffered writes, and at least every FlushEvery; Close syncs them to
// disk.
type Writer struct {
	mu   sync.Mutex
	f    *os.File
	w    *bufio.Writer
	buf  []byte
	err  error
	stop chan struct{} // closed by Close: ends the periodic flush
}

// Create creates (truncating) a capture file.
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	w := &Writer{f: f, w: bufio.NewWriterSize(f, 256<<10), stop: make(chan struct{})}
	go w.flushLoop()
	return w, nil
}

// flushLoop flushes buffered records every FlushEvery until Close.
func (w *Writer) flushLoop() {
	t := time.NewTicker(FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		w.mu.Lock()
		if w.err == nil && w.f != nil && w.w.Buffered() > 0 {
			w.err = w.w.Flush()
		}
		w.mu.Unlock()
	}
}

// Write appends one record.
func (w *Writer) Write(r *Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.buf = appendRecord(w.buf[:0], r)
	_, w.err = w.w.Write(w.buf)
	return w.err
}

// Flush writes buffered records to the file.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = w.w.Flush()
	}
	return w.err
}

// Close flushes, syncs and closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return w.err
	}
	close(w.stop)
	err := w.w.Flush()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	if w.err == nil {
		w.err = err
	}
	return err
}

// SetPayload stores a body or frame in r: compact JSON in Body when it is
// JSON, otherwise the first 4 KiB as Text. Size is set to len(p).
func (r *Record) SetPayload(p []byte) {
	r.Size = len(p)
	if json.Valid(p) {
		if bytes.IndexByte(p, '\n') < 0 && (len(p) == 0 || (p[0] != ' ' && p[len(p)-1] != ' ')) {
			r.Body = append(json.RawMessage(nil), p...)
			return
		}
		var b bytes.Buffer
		_ = json.Compact(&b, p)
		r.Body = b.Bytes()
		return
	}
	if len(p) > maxText {
		p = p[:maxText]
	}
	r.Text = string(bytes.ToValidUTF8(p, []byte("\uFFFD")))
}

// wsPrefix starts every WS frame record that carries a JSON body; the
// reader's fast path depends on this exact layout:
//
//	{"k":"ws","t":<int>,"src":"<string>","size":<int>,"body":<json>}
const wsPrefix = `{"k":"ws","t":`

// restPrefix starts every REST poll record that carries a JSON body, in
// the layout the reader's fast path reads:
//
//	{"k":"rest","t":<int>,"src":"<string>","f":"<string>","path":"<string>","t0":<int>,"status":<int>,"size":<int>,"body":<json>}
const restPrefix = `{"k":"rest","t":`

func appendRecord(b []byte, r *Record) []byte {
	if r.K == KindREST && r.Body != nil && r.Text == "" && !r.Binary && r.Err == "" && r.Seq == 0 && r.N == 0 && r.Meta == nil &&
		isPlain(r.Src) && isPlain(r.Feature) && isPlain(r.Path) {
		b = append(b, restPrefix...)
		b = strconv.AppendInt(b, r.T, 10)
		b = append(b, `,"src":"`...)
		b = append(b, r.Src...)
		b = append(b, `","f":"`...)
		b = append(b, r.Feature...)
		b = append(b, `","path":"`...)
		b = append(b, r.Path...)
		b = append(b, `","t0":`...)
		b = strconv.AppendInt(b, r.T0, 10)
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(r.Status), 10)
		b = append(b, `,"size":`...)
		b = strconv.AppendInt(b, int64(r.Size), 10)
		b = append(b, `,"body":`...)
		b = append(b, r.Body...)
		return append(b, "}\n"...)
	}
	if r.K == KindWS && r.Body != nil && r.Text == "" && !r.Binary && r.Err == "" && isPlain(r.Src) {
		b = append(b, wsPrefix...)
		b = strconv.AppendInt(b, r.T, 10)
		b = append(b, `,"src":"`...)
		b = append(b, r.Src...)
		b = append(b, `","size":`...)
		b = strconv.AppendInt(b, int64(r.Size), 10)
		b = append(b, `,"body":`...)
		b = append(b, r.Body...)
		return append(b, "}\n"...)
	}
	j, err := json.Marshal(r)
	if err != nil { // only a Body that is not JSON; keep it as text
		c := *r
		c.Body, c.Text = nil, string(r.Body)
		j, _ = json.Marshal(&c)
	}
	b = append(b, j...)
	return append(b, '\n')
}

// isPlain reports whether s needs no escaping inside a JSON string.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// Reader reads a capture file record by record, in bounded memory.
type Reader struct {
	name string
	s    *bufio.Reader
	line int
	rec  Record
	f    *os.File
}

// Open opens a capture file for reading.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := NewReader(f, path)
	r.f = f
	return r, nil
}

// NewReader reads records from rd; name labels errors.
func NewReader(rd io.Reader, name string) *Reader {
	return &Reader{name: name, s: bufio.NewReaderSize(rd, 1<<20)}
}

// Close closes the file opened by Open.
func (r *Reader) Close() error {
	if r.f != nil {
		return r.f.Close()
	}
	return nil
}

// ErrTruncated is returned (wrapped) when the last line of a capture is
// incomplete, as after a crash: every complete record before it was read.
var ErrTruncated = errors.New("capture ends in an incomplete record")

// Next returns the next record, valid until the next call (Body aliases
// the reader's buffer). It returns io.EOF at the end, and an error wrapping
// ErrTruncated when the file ends mid-record.
func (r *Reader) Next() (*Record, error) {
	for {
		line, err := r.readLine()
		if err == io.EOF && len(line) == 0 {
			return nil, io.EOF
		}
		r.line++
		if err == io.EOF { // no final newline: the writer died mid-line
			if rec, ok := r.parse(line); ok == nil && json.Valid(line) {
				return rec, nil
			}
			return nil, fmt.Errorf("%s:%d: %w", r.name, r.line, ErrTruncated)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.name, err)
		}
		if len(line) == 0 {
			continue
		}
		rec, perr := r.parse(line)
		if perr != nil {
			return nil, fmt.Errorf("%s:%d: %w", r.name, r.line, perr)
		}
		return rec, nil
	}
}

// Line is the line number of the record Next returned last.
func (r *Reader) Line() int { return r.line }

func (r *Reader) readLine() ([]byte, error) {
	line, err := r.s.ReadSlice('\n')
	if err == bufio.ErrBufferFull { // a line longer than the buffer
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = r.s.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	return line, err
}

func (r *Reader) parse(line []byte) (*Record, error) {
	r.rec = Record{}
	if bytes.HasPrefix(line, []byte(wsPrefix)) && parseWS(line, &r.rec) {
		return &r.rec, nil
	}
	if bytes.HasPrefix(line, []byte(restPrefix)) && parseREST(line, &r.rec) {
		return &r.rec, nil
	}
	r.rec = Record{}
	if err := json.Unmarshal(line, &r.rec); err != nil {
		return nil, fmt.Errorf("not a capture record: %w", err)
	}
	return &r.rec, nil
}

// parseWS parses the WS layout written by appendRecord without a JSON
// decoder; it reports false for anything else, which then goes the slow way.
func parseWS(line []byte, rec *Record) bool {
	p := line[len(wsPrefix):]
	t, p, ok := cutInt(p)
	src, p, ok2 := cutString(p, `,"src":"`)
	size, p, ok3 := cutField(p, `,"size":`)
	body, ok4 := cutBody(p)
	if !ok || !ok2 || !ok3 || !ok4 {
		return false
	}
	rec.K, rec.T, rec.Src, rec.Size, rec.Body = KindWS, t, src, int(size), body
	return true
}

// parseREST parses the REST layout written by appendRecord, as parseWS.
func parseREST(line []byte, rec *Record) bool {
	p := line[len(restPrefix):]
	t, p, ok := cutInt(p)
	src, p, ok2 := cutString(p, `,"src":"`)
	feat, p, ok3 := cutString(p, `,"f":"`)
	path, p, ok4 := cutString(p, `,"path":"`)
	t0, p, ok5 := cutField(p, `,"t0":`)
	status, p, ok6 := cutField(p, `,"status":`)
	size, p, ok7 := cutField(p, `,"size":`)
	body, ok8 := cutBody(p)
	if !ok || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 || !ok8 || status != int64(int(status)) || size != int64(int(size)) {
		return false
	}
	rec.K, rec.T, rec.Src, rec.Feature, rec.Path = KindREST, t, src, feat, path
	rec.T0, rec.Status, rec.Size, rec.Body = t0, int(status), int(size), body
	return true
}

// cutString reads key (ending in the string's opening quote) and a string
// that needs no escaping; anything else is left to the JSON decoder.
func cutString(p []byte, key string) (string, []byte, bool) {
	if !bytes.HasPrefix(p, []byte(key)) {
		return "", p, false
	}
	p = p[len(key):]
	q := bytes.IndexByte(p, '"')
	if q < 0 || !isPlain(string(p[:q])) {
		return "", p, false
	}
	return string(p[:q]), p[q+1:], true
}

// cutField reads key and a whole number after it.
func cutField(p []byte, key string) (int64, []byte, bool) {
	if !bytes.HasPrefix(p, []byte(key)) {
		return 0, p, false
	}
	return cutInt(p[len(key):])
}

// cutBody reads the last field, the JSON body, up to the record's closing
// brace.
func cutBody(p []byte) ([]byte, bool) {
	const key = `,"body":`
	if !bytes.HasPrefix(p, []byte(key)) || len(p) < len(key)+2 || p[len(p)-1] != '}' {
		return nil, false
	}
	return p[len(key) : len(p)-1], true
}

func cutInt(p []byte) (int64, []byte, bool) {
	i := 0
	if i < len(p) && p[i] == '-' {
		i++
	}
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(string(p[:i]), 10, 64)
	return n, p[i:], err == nil
}
