package session

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Writer writes a session: the header first, then events, one line each.
// It writes events as given (Raw verbatim when set, the canonical form
// otherwise) and does not check seq or time order; Validate does. A Writer
// is not safe for concurrent use.
type Writer struct {
	bw          *bufio.Writer
	gz          *gzip.Writer
	file        *os.File // set by Create
	line        []byte
	wroteHeader bool
	err         error // sticky
}

// NewWriter writes a plain session to w. Close flushes; it does not close w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{bw: bufio.NewWriterSize(w, 64<<10)}
}

// NewGzipWriter writes a gzip-compressed session to w. Close ends the gzip
// stream; it does not close w.
func NewGzipWriter(w io.Writer) *Writer {
	gz := gzip.NewWriter(w)
	return &Writer{bw: bufio.NewWriterSize(gz, 64<<10), gz: gz}
}

// Create creates (or truncates) a session file, gzip-compressed when path
// ends in ".gz". Close the Writer to complete the file.
func Create(path string) (*Writer, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	var w *Writer
	if strings.HasSuffix(path, ".gz") {
		w = NewGzipWriter(f)
	} else {
		w = NewWriter(f)
	}
	w.file = f
	return w, nil
}

// WriteHeader writes line 1. It must come first, once. A Format left empty
// is filled in; any other format than thor-session/v1 is refused.
func (w *Writer) WriteHeader(h Header) error {
	if w.err != nil {
		return w.err
	}
	if w.wroteHeader {
		return errors.New("session: WriteHeader called twice")
	}
	var b []byte
	var err error
	if h.Raw != nil {
		b, err = oneLine(h.Raw)
	} else {
		b, err = encodeHeader(&h)
	}
	if err != nil {
		return err
	}
	w.wroteHeader = true
	return w.writeLine(b)
}

// Write writes one event line: Raw verbatim when set (compacted to one line
// if needed), the canonical form otherwise.
func (w *Writer) Write(e Event) error {
	if w.err != nil {
		return w.err
	}
	if !w.wroteHeader {
		return errors.New("session: Write before WriteHeader")
	}
	var err error
	if e.Raw != nil {
		var b []byte
		if b, err = oneLine(e.Raw); err != nil {
			return fmt.Errorf("event seq %d: %w", e.Seq, err)
		}
		return w.writeLine(b)
	}
	if w.line, err = appendEvent(w.line[:0], &e); err != nil {
		return err
	}
	return w.writeLine(w.line)
}

// WriteLine writes one event line that is already JSON (a line from
// Reader.NextRaw, for instance), compacted to one line if needed.
func (w *Writer) WriteLine(line []byte) error {
	if w.err != nil {
		return w.err
	}
	if !w.wroteHeader {
		return errors.New("session: WriteLine before WriteHeader")
	}
	b, err := oneLine(line)
	if err != nil {
		return err
	}
	return w.writeLine(b)
}

func (w *Writer) writeLine(b []byte) error {
	if _, err := w.bw.Write(b); err != nil {
		w.err = err
		return err
	}
	if err := w.bw.WriteByte('\n'); err != nil {
		w.err = err
		return err
	}
	return nil
}

// oneLine returns raw JSON as a single line.
func oneLine(raw []byte) ([]byte, error) {
	raw = bytes.TrimSpace(raw)
	if bytes.IndexByte(raw, '\n') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return raw, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("raw line is not JSON: %w", err)
	}
	return buf.Bytes(), nil
}

// Flush writes buffered lines through to the underlying writer (for gzip,
// as far as the compressor lets it).
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = err
		return err
	}
	if w.gz != nil {
		if err := w.gz.Flush(); err != nil {
			w.err = err
			return err
		}
	}
	return nil
}

// Close flushes, ends the gzip stream and, for Create, closes the file.
// The Writer cannot be used afterwards.
func (w *Writer) Close() error {
	err := w.err
	if err == nil {
		err = w.bw.Flush()
	}
	if w.gz != nil {
		if gerr := w.gz.Close(); err == nil {
			err = gerr
		}
	}
	if w.file != nil {
		if ferr := w.file.Close(); err == nil {
			err = ferr
		}
		w.file = nil
	}
	if w.err == nil {
		w.err = errors.New("session: Writer is closed")
	}
	return err
}
