package session

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxLineBytes is the longest line a Reader accepts.
const MaxLineBytes = 16 << 20

// LineError is a problem at one line of a session file. It prints as
// FILE:LINE: field "x": why (without the field part when Field is empty).
type LineError struct {
	File  string
	Line  int    // 1-based; line 1 is the header
	Field string // dotted JSON path such as "data.price"; empty for the whole line
	Err   error
}

func (e *LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: field %q: %v", e.File, e.Line, e.Field, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

// Reader reads a session one event at a time, holding one line in memory.
// It checks the shape of every line (JSON, required fields and their types,
// known event types and statuses) but not how lines relate (seq, time order,
// symbols the header lists): that is Validate's job. A Reader is not safe
// for concurrent use.
type Reader struct {
	name   string
	br     *bufio.Reader
	gz     *gzip.Reader
	file   *os.File // set by Open
	header Header
	line   int    // number of the last line read
	buf    []byte // a line longer than the bufio buffer is assembled here
	err    error  // sticky: a read error, or io.EOF
	ps     problems
	strs   interner
}

// Open opens a session file, plain or gzip-compressed (recognised by its
// magic bytes, whatever its name), and reads its header. Close the Reader.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.file = f
	return r, nil
}

// NewReader reads a session from src, plain or gzip-compressed (recognised
// by its magic bytes), and reads its header. name is the file name used in
// errors. Close releases the gzip decoder; it does not close src.
func NewReader(src io.Reader, name string) (*Reader, error) {
	r, err := newLineReader(src, name)
	if err != nil {
		return nil, err
	}
	line, err := r.readLine()
	if err == io.EOF {
		return nil, &LineError{File: name, Line: 1, Err: fmt.Errorf("missing header: the file is empty")}
	}
	if err != nil {
		return nil, err
	}
	r.ps = r.ps[:0]
	if decodeHeader(line, &r.header, &r.ps); len(r.ps) > 0 {
		p := r.ps[0]
		return nil, &LineError{File: name, Line: r.line, Field: p.field, Err: p.err}
	}
	r.header.Raw = append([]byte(nil), line...)
	return r, nil
}

// newLineReader sets up decompression; it reads no line.
func newLineReader(src io.Reader, name string) (*Reader, error) {
	br := bufio.NewReaderSize(src, 64<<10)
	r := &Reader{name: name, br: br}
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, &LineError{File: name, Line: 1, Err: fmt.Errorf("gzip: %w", err)}
		}
		r.gz = gz
		r.br = bufio.NewReaderSize(gz, 64<<10)
	}
	return r, nil
}

// Name is the file name used in errors.
func (r *Reader) Name() string { return r.name }

// Header is line 1 of the session.
func (r *Reader) Header() Header { return r.header }

// Line is the number of the last line read (1 after NewReader).
func (r *Reader) Line() int { return r.line }

// Next returns the next event, with Raw holding its line (a copy the event
// owns). At the end it returns io.EOF. A line that does not decode gives a
// *LineError; Next may be called again to go on with the following line.
// Any other error (a read or gzip error, a truncated file) is final.
func (r *Reader) Next() (Event, error) {
	line, e, err := r.NextRaw()
	if err != nil {
		return Event{}, err
	}
	e.Raw = append([]byte(nil), line...)
	return e, nil
}

// NextRaw is Next for replaying: it returns the line as read (without its
// newline) alongside the decoded event, so the line can be forwarded
// verbatim without being encoded again. The line is only valid until the
// next call; the event's Raw is nil.
func (r *Reader) NextRaw() ([]byte, Event, error) {
	line, err := r.readLine()
	if err != nil {
		return nil, Event{}, err
	}
	var e Event
	r.ps = r.ps[:0]
	decodeEvent(line, &e, &r.ps, &r.strs)
	if len(r.ps) > 0 {
		p := r.ps[0]
		return nil, Event{}, &LineError{File: r.name, Line: r.line, Field: p.field, Err: p.err}
	}
	return line, e, nil
}

// readLine returns the next line that is not blank, with surrounding white
// space (and a CR before the newline) removed. Blank lines are skipped.
func (r *Reader) readLine() ([]byte, error) {
	for {
		if r.err != nil {
			return nil, r.err
		}
		line, err := r.readRawLine()
		if err != nil {
			r.err = err
			if err != io.EOF {
				return nil, err
			}
			if len(line) == 0 {
				return nil, err
			}
			// The last line has no newline: return it now, EOF next time.
		}
		r.line++
		if line = bytes.TrimSpace(line); len(line) > 0 {
			return line, nil
		}
	}
}

// readRawLine reads up to and including the next newline; at the end of
// the input it returns what is left with io.EOF.
func (r *Reader) readRawLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == nil || err == io.EOF && len(line) == 0 {
		return line, err
	}
	if err != bufio.ErrBufferFull && err != io.EOF {
		return nil, r.readError(err)
	}
	// Longer than the buffer (or the last line): assemble it.
	r.buf = append(r.buf[:0], line...)
	for err == bufio.ErrBufferFull {
		if len(r.buf) > MaxLineBytes {
			return nil, &LineError{File: r.name, Line: r.line + 1, Err: fmt.Errorf("line longer than %d bytes", MaxLineBytes)}
		}
		line, err = r.br.ReadSlice('\n')
		r.buf = append(r.buf, line...)
	}
	if err != nil && err != io.EOF {
		return nil, r.readError(err)
	}
	return r.buf, err
}

func (r *Reader) readError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("the file is truncated (%w)", err)
	}
	return &LineError{File: r.name, Line: r.line + 1, Err: fmt.Errorf("reading: %w", err)}
}

// Close releases the Reader and, when it came from Open, closes the file.
func (r *Reader) Close() error {
	var err error
	if r.gz != nil {
		err = r.gz.Close()
	}
	if r.file != nil {
		if cerr := r.file.Close(); err == nil {
			err = cerr
		}
		r.file = nil
	}
	return err
}
