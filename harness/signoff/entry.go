package signoff

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Verdicts a report carries at its top level.
const (
	VerdictPass         = "PASS"
	VerdictFail         = "FAIL"
	VerdictInconclusive = "INCONCLUSIVE"
)

// signedPrefix starts every signed message; it versions the encoding.
const signedPrefix = "thor-signoff/v1\n"

// Entry is one sign-off, one line of the ledger.
type Entry struct {
	Index        int       // position of the line in the ledger, from 0
	Phase        string    // the phase the report is evidence for
	Report       string    // report path, relative, slash-separated
	ReportSHA256 string    // hex sha256 of the report file's bytes
	Verdict      string    // the report's verdict when signed
	Signer       string    // a name in the signers file
	Time         time.Time // signer's clock, UTC, whole seconds
	Waiver       string    // why a non-PASS report was signed; "" if not waived
	Prev         string    // hex sha256 of the previous line's bytes; "" on line 1
	Signature    []byte    // ed25519 over SignedMessage
}

// Waived reports whether the entry signs a report despite its verdict.
func (e Entry) Waived() bool { return e.Waiver != "" }

// timeString is the one encoding of Time that is written and signed.
func (e Entry) timeString() string { return e.Time.UTC().Format(time.RFC3339) }

// SignedMessage is the canonical encoding the signature covers: every field
// but Signature, length-prefixed, in a fixed order (see the package doc).
func (e Entry) SignedMessage() []byte {
	var b bytes.Buffer
	b.WriteString(signedPrefix)
	field := func(name, v string) {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	field("index", strconv.Itoa(e.Index))
	field("phase", e.Phase)
	field("report", e.Report)
	field("report_sha256", e.ReportSHA256)
	field("verdict", e.Verdict)
	field("signer", e.Signer)
	field("time", e.timeString())
	field("waiver", e.Waiver)
	field("prev", e.Prev)
	return b.Bytes()
}

// Sign sets e.Signature (normalising Time to UTC whole seconds first).
func (e *Entry) Sign(key ed25519.PrivateKey) {
	e.Time = e.Time.UTC().Truncate(time.Second)
	e.Signature = ed25519.Sign(key, e.SignedMessage())
}

// Verify reports whether e.Signature is pub's signature of e.
func (e Entry) Verify(pub ed25519.PublicKey) bool {
	return len(pub) == ed25519.PublicKeySize && len(e.Signature) == ed25519.SignatureSize &&
		ed25519.Verify(pub, e.SignedMessage(), e.Signature)
}

// wireEntry is a ledger line; pointers tell missing fields from zero ones.
type wireEntry struct {
	Index        *int    `json:"index"`
	Phase        string  `json:"phase"`
	Report       string  `json:"report"`
	ReportSHA256 string  `json:"report_sha256"`
	Verdict      string  `json:"verdict"`
	Signer       string  `json:"signer"`
	Time         string  `json:"time"`
	Waiver       string  `json:"waiver,omitempty"`
	Prev         *string `json:"prev"`
	Signature    string  `json:"signature"`
}

// EncodeLine renders e as one ledger line, ending in "\n".
func EncodeLine(e Entry) ([]byte, error) {
	if err := e.check(); err != nil {
		return nil, err
	}
	idx, prev := e.Index, e.Prev
	w := wireEntry{
		Index: &idx, Phase: e.Phase, Report: e.Report, ReportSHA256: e.ReportSHA256,
		Verdict: e.Verdict, Signer: e.Signer, Time: e.timeString(), Waiver: e.Waiver,
		Prev: &prev, Signature: base64.StdEncoding.EncodeToString(e.Signature),
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// DecodeLine parses one ledger line (without its line terminator). It checks
// the line's form only: chain and signature are checked by the Ledger.
func DecodeLine(line []byte) (Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var w wireEntry
	if err := dec.Decode(&w); err != nil {
		return Entry{}, fmt.Errorf("not a sign-off object: %w", err)
	}
	if rest := bytes.TrimSpace(line[dec.InputOffset():]); len(rest) > 0 {
		return Entry{}, errors.New("trailing data after the sign-off object")
	}
	if w.Index == nil {
		return Entry{}, errors.New("index: missing")
	}
	if w.Prev == nil {
		return Entry{}, errors.New("prev: missing")
	}
	t, err := time.Parse(time.RFC3339, w.Time)
	if err != nil || t.UTC().Format(time.RFC3339) != w.Time {
		return Entry{}, fmt.Errorf("time %q: want RFC 3339 UTC to the second, e.g. 2026-03-02T18:00:00Z", w.Time)
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(w.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Entry{}, fmt.Errorf("signature: want base64 of %d bytes", ed25519.SignatureSize)
	}
	e := Entry{
		Index: *w.Index, Phase: w.Phase, Report: w.Report, ReportSHA256: w.ReportSHA256,
		Verdict: w.Verdict, Signer: w.Signer, Time: t.UTC(), Waiver: w.Waiver,
		Prev: *w.Prev, Signature: sig,
	}
	if err := e.check(); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// check validates the form of every field.
func (e Entry) check() error {
	if e.Index < 0 {
		return fmt.Errorf("index %d: want 0 or more", e.Index)
	}
	if err := checkText("phase", e.Phase, false); err != nil {
		return err
	}
	if err := checkText("report", e.Report, false); err != nil {
		return err
	}
	if !isHexSHA256(e.ReportSHA256) {
		return fmt.Errorf("report_sha256 %q: want 64 lowercase hex digits", e.ReportSHA256)
	}
	if !ValidVerdict(e.Verdict) {
		return fmt.Errorf("verdict %q: want PASS, FAIL or INCONCLUSIVE", e.Verdict)
	}
	if err := checkName(e.Signer); err != nil {
		return err
	}
	if e.Time.IsZero() {
		return errors.New("time: missing")
	}
	if e.Waiver != "" {
		if err := checkText("waiver", e.Waiver, true); err != nil {
			return err
		}
	}
	if e.Prev != "" && !isHexSHA256(e.Prev) {
		return fmt.Errorf("prev %q: want 64 lowercase hex digits or \"\"", e.Prev)
	}
	if len(e.Signature) != ed25519.SignatureSize {
		return fmt.Errorf("signature: %d bytes, want %d", len(e.Signature), ed25519.SignatureSize)
	}
	return nil
}

// checkText wants non-empty valid UTF-8 without control characters (newlines
// allowed in free text).
func checkText(name, v string, free bool) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("%s: missing", name)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s %q: not valid UTF-8", name, v)
	}
	for _, r := range v {
		if unicode.IsControl(r) && !(free && (r == '\n' || r == '\t')) {
			return fmt.Errorf("%s %q: control character %U", name, v, r)
		}
	}
	return nil
}

// ValidVerdict reports whether v is PASS, FAIL or INCONCLUSIVE.
func ValidVerdict(v string) bool {
	return v == VerdictPass || v == VerdictFail || v == VerdictInconclusive
}

func isHexSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// LineHash is the hex sha256 of a ledger line's bytes without its "\n" or
// "\r\n": the next line's prev.
func LineHash(line []byte) string {
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	sum := sha256.Sum256(line)
	return hex.EncodeToString(sum[:])
}

// CleanReportPath normalises a relative report path to the slash-separated
// form stored in the ledger; it refuses absolute paths.
func CleanReportPath(p string) (string, error) {
	if p == "" || filepath.IsAbs(p) {
		return "", fmt.Errorf("report path %q: want a path relative to the repository", p)
	}
	s := filepath.ToSlash(filepath.Clean(p))
	if s == "." || path.IsAbs(s) {
		return "", fmt.Errorf("report path %q: want a relative path to a file", p)
	}
	return s, nil
}
