package signoff

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Ledger is a ledger file as read, with its chain checked.
type Ledger struct {
	Path   string
	Exists bool        // false: no file, so no sign-offs
	Lines  []Line      // every line, in file order
	Break  *ChainBreak // the first line where the chain breaks; nil if intact
}

// Line is one line of a ledger.
type Line struct {
	Number int    // from 1
	Raw    []byte // without the line terminator
	Entry  Entry  // valid only when Err is nil
	Err    error  // why the line does not decode
}

// ChainBreak is where a ledger's hash chain breaks: that line and every later
// line are not trusted.
type ChainBreak struct {
	Path   string
	Line   int // from 1
	Reason string
}

func (b *ChainBreak) Error() string {
	return fmt.Sprintf("%s:%d: ledger chain broken: %s; this line and every later one are not trusted", b.Path, b.Line, b.Reason)
}

// ReadLedger reads and chain-checks the ledger at path. A missing file is an
// empty ledger (Exists false), not an error.
func ReadLedger(path string) (*Ledger, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Ledger{Path: path}, nil
	}
	if err != nil {
		return nil, err
	}
	l := ParseLedger(path, data)
	l.Exists = true
	return l, nil
}

// ParseLedger splits data into lines and checks the chain; path names it in
// messages. It never fails: problems are recorded in Break and Line.Err.
func ParseLedger(path string, data []byte) *Ledger {
	l := &Ledger{Path: path, Exists: true}
	data = bytes.TrimSuffix(data, []byte("\n"))
	if len(data) == 0 {
		return l
	}
	prev := ""
	for i, raw := range bytes.Split(data, []byte("\n")) {
		raw = bytes.TrimSuffix(raw, []byte("\r"))
		ln := Line{Number: i + 1, Raw: raw}
		ln.Entry, ln.Err = DecodeLine(raw)
		if ln.Err != nil {
			ln.Entry = Entry{}
		}
		if l.Break == nil {
			switch {
			case ln.Err != nil:
				l.Break = &ChainBreak{Path: path, Line: ln.Number, Reason: "malformed line: " + ln.Err.Error()}
			case ln.Entry.Index != i:
				l.Break = &ChainBreak{Path: path, Line: ln.Number, Reason: fmt.Sprintf(
					"index is %d, want %d (a line was removed, inserted or reordered)", ln.Entry.Index, i)}
			case ln.Entry.Prev != prev:
				what := "a line was inserted before it"
				if i > 0 {
					what = fmt.Sprintf("line %d was edited, or lines were removed or reordered", i)
				}
				l.Break = &ChainBreak{Path: path, Line: ln.Number, Reason: fmt.Sprintf(
					"prev does not match the hash of the line before (%s)", what)}
			}
		}
		prev = LineHash(raw)
		l.Lines = append(l.Lines, ln)
	}
	return l
}

// Trust is what verification concluded about one ledger line.
type Trust string

const (
	Trusted       Trust = "trusted"        // chain intact up to here, trusted signer, signature verifies
	Malformed     Trust = "malformed"      // the line does not decode
	AfterBreak    Trust = "after_break"    // at or after the chain break
	UnknownSigner Trust = "unknown_signer" // signer not in the signers file
	BadSignature  Trust = "bad_signature"  // forged, or edited after signing
)

// Checked is one ledger line after verification.
type Checked struct {
	Line    int   // from 1
	Entry   Entry // zero when Trust is Malformed
	Trust   Trust
	Problem string // why the line is not trusted; "" when Trusted
}

// Verify checks every line against the chain and the trusted signers.
func (l *Ledger) Verify(signers *Signers) []Checked {
	out := make([]Checked, 0, len(l.Lines))
	for _, ln := range l.Lines {
		c := Checked{Line: ln.Number, Entry: ln.Entry, Trust: Trusted}
		switch {
		case ln.Err != nil:
			c.Trust, c.Problem = Malformed, fmt.Sprintf("%s:%d: malformed line: %v", l.Path, ln.Number, ln.Err)
		case l.Break != nil && ln.Number >= l.Break.Line:
			c.Trust, c.Problem = AfterBreak, fmt.Sprintf("%s:%d: sign-off by %s is at or after the chain break at line %d, not trusted",
				l.Path, ln.Number, ln.Entry.Signer, l.Break.Line)
		default:
			sg, ok := signers.Lookup(ln.Entry.Signer)
			switch {
			case !ok:
				where := "the signers file"
				if signers != nil {
					where = signers.Path
				}
				c.Trust, c.Problem = UnknownSigner, fmt.Sprintf("%s:%d: signer %q is not in %s, not trusted",
					l.Path, ln.Number, ln.Entry.Signer, where)
			case !ln.Entry.Verify(sg.Key):
				c.Trust, c.Problem = BadSignature, fmt.Sprintf(
					"%s:%d: signature does not verify with %s's key (%s:%d): forged, or the line was edited after signing",
					l.Path, ln.Number, sg.Name, signers.Path, sg.Line)
			}
		}
		out = append(out, c)
	}
	return out
}

// NotPassError refuses to sign a report that did not PASS without a waiver.
type NotPassError struct {
	Report  string
	Verdict string
}

func (e *NotPassError) Error() string {
	return fmt.Sprintf("report %s has verdict %s: refusing to sign it without a waiver reason", e.Report, e.Verdict)
}

// Append signs e with key and appends it to the ledger at path, creating the
// file (and its directory) if needed. It fills Index and Prev from the
// ledger, Time with the current time if zero, and Signature, and returns the
// entry as written. It refuses (and writes nothing) when the entry is
// malformed, when a report that is not PASS has no waiver (*NotPassError) or
// a PASS report has one, and when the ledger's chain is broken
// (*ChainBreak): a line appended after a break would never be trusted.
func Append(path string, e Entry, key ed25519.PrivateKey) (Entry, error) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if e.Verdict != VerdictPass && strings.TrimSpace(e.Waiver) == "" {
		return Entry{}, &NotPassError{Report: e.Report, Verdict: e.Verdict}
	}
	if e.Verdict == VerdictPass && e.Waiver != "" {
		return Entry{}, fmt.Errorf("report %s has verdict PASS: a waiver is only for FAIL or INCONCLUSIVE reports", e.Report)
	}
	if _, err := CleanReportPath(e.Report); err != nil {
		return Entry{}, err
	}
	// Validate the form before touching the file (index, prev and signature
	// are filled below).
	probe := e
	probe.Index, probe.Prev, probe.Signature = 0, "", make([]byte, ed25519.SignatureSize)
	if err := probe.check(); err != nil {
		return Entry{}, err
	}

	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return Entry{}, err
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return Entry{}, err
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return Entry{}, fmt.Errorf("%s: lock: %w", path, err)
	}
	defer unlockFile(f)

	data, err := io.ReadAll(f)
	if err != nil {
		return Entry{}, fmt.Errorf("%s: %w", path, err)
	}
	l := ParseLedger(path, data)
	if l.Break != nil {
		return Entry{}, l.Break
	}
	e.Index = len(l.Lines)
	e.Prev = ""
	if n := len(l.Lines); n > 0 {
		e.Prev = LineHash(l.Lines[n-1].Raw)
	}
	e.Sign(key)
	line, err := EncodeLine(e)
	if err != nil {
		return Entry{}, err
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		line = append([]byte("\n"), line...) // the last line lacked its terminator
	}
	if _, err := f.Write(line); err != nil {
		return Entry{}, fmt.Errorf("%s: append: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return Entry{}, fmt.Errorf("%s: fsync: %w", path, err)
	}
	if len(data) == 0 {
		syncDir(filepath.Dir(path))
	}
	return e, nil
}

// syncDir makes a newly created file's directory entry durable (best effort).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
