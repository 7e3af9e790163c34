package signoff

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testKey is a deterministic key, so tests need no entropy and stay fast.
func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

var t0 = time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)

func entry(phase string, verdict, waiver string) Entry {
	sum := sha256.Sum256([]byte(phase))
	return Entry{
		Phase: phase, Report: "reports/" + phase + "/report.json",
		ReportSHA256: hex.EncodeToString(sum[:]),
		Verdict:      verdict, Signer: "alice", Time: t0, Waiver: waiver,
	}
}

func TestParseSigners(t *testing.T) {
	alice := SignerLine("alice", pub(testKey(1)))
	bob := SignerLine("bob", pub(testKey(2)))
	tests := []struct {
		name    string
		in      string
		names   []string
		wantErr string
	}{
		{name: "two signers", in: alice + "\n" + bob + "\n", names: []string{"alice", "bob"}},
		{name: "comments and blanks", in: "# team QA\n\n" + alice + "  # lead\n", names: []string{"alice"}},
		{name: "empty", in: "", names: nil},
		{name: "one field", in: "# x\nalice\n", wantErr: "signers.txt:2: want"},
		{name: "three fields", in: alice + " extra\n", wantErr: "signers.txt:1: want"},
		{name: "no prefix", in: "alice AAAA\n", wantErr: "signers.txt:1: public key"},
		{name: "bad base64", in: "alice ed25519:!!!\n", wantErr: "signers.txt:1: public key"},
		{name: "short key", in: "alice ed25519:AAAA\n", wantErr: "signers.txt:1: public key \"ed25519:AAAA\": 3 bytes"},
		{name: "bad name", in: "al ice" + alice[5:] + "\n", wantErr: "signers.txt:1:"},
		{name: "name with slash", in: "a/b" + alice[5:] + "\n", wantErr: "signers.txt:1: signer name"},
		{name: "duplicate", in: alice + "\n" + bob + "\n" + alice + "\n", wantErr: "signers.txt:3: signer \"alice\" is already listed on line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseSigners(strings.NewReader(tt.in), "signers.txt")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, sg := range s.All() {
				got = append(got, sg.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.names, ",") {
				t.Fatalf("names = %v, want %v", got, tt.names)
			}
		})
	}
}

func TestPrivateKeyFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "alice.key")
	k := testKey(1)
	if err := WritePrivateKey(p, k); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v, want 0600", fi.Mode().Perm())
	}
	got, err := ReadPrivateKey(p)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(k) {
		t.Error("key read back differs")
	}
	if err := WritePrivateKey(p, testKey(2)); !errors.Is(err, fs.ErrExist) {
		t.Errorf("overwrite: err = %v, want fs.ErrExist", err)
	}
	if again, _ := ReadPrivateKey(p); !again.Equal(k) {
		t.Error("refused overwrite still changed the key")
	}
	for name, data := range map[string]string{
		"not PEM":   "hello",
		"wrong PEM": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
	} {
		if _, err := ParsePrivateKey([]byte(data)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestDecodeLine(t *testing.T) {
	e := entry("shadow", VerdictPass, "")
	e.Sign(testKey(1))
	good, err := EncodeLine(e)
	if err != nil {
		t.Fatal(err)
	}
	good = bytes.TrimSuffix(good, []byte("\n"))
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("line has no %q: %s", old, good)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	tests := []struct {
		name    string
		line    []byte
		wantErr string
	}{
		{name: "valid", line: good},
		{name: "not JSON", line: []byte("hello"), wantErr: "not a sign-off object"},
		{name: "empty", line: nil, wantErr: "not a sign-off object"},
		{name: "array", line: []byte("[]"), wantErr: "not a sign-off object"},
		{name: "unknown field", line: replace(`{"index"`, `{"extra":1,"index"`), wantErr: "unknown field"},
		{name: "missing index", line: replace(`"index":0,`, ``), wantErr: "index: missing"},
		{name: "missing prev", line: replace(`"prev":"",`, ``), wantErr: "prev: missing"},
		{name: "float index", line: replace(`"index":0`, `"index":0.5`), wantErr: "not a sign-off object"},
		{name: "negative index", line: replace(`"index":0`, `"index":-1`), wantErr: "index -1"},
		{name: "bad sha", line: replace(`"report_sha256":"`, `"report_sha256":"X`), wantErr: "report_sha256"},
		{name: "bad verdict", line: replace(`"PASS"`, `"pass"`), wantErr: "verdict"},
		{name: "time with fraction", line: replace(`18:00:00Z`, `18:00:00.5Z`), wantErr: "time"},
		{name: "time with offset", line: replace(`2026-03-02T18:00:00Z`, `2026-03-02T19:00:00+01:00`), wantErr: "time"},
		{name: "short signature", line: replace(`"signature":"`, `"signature":"AAAA`), wantErr: "signature"},
		{name: "trailing data", line: append(append([]byte{}, good...), " {}"...), wantErr: "trailing data"},
		{name: "bad signer", line: replace(`"alice"`, `"al ice"`), wantErr: "signer name"},
		{name: "empty phase", line: replace(`"phase":"shadow"`, `"phase":""`), wantErr: "phase: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeLine(tt.line)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Verify(pub(testKey(1))) {
				t.Error("decoded entry does not verify")
			}
		})
	}
}

// writeLedger appends entries to a new ledger and returns its path and bytes.
func writeLedger(t *testing.T, entries ...Entry) (string, []byte) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "reports", "signoffs.jsonl")
	for _, e := range entries {
		if _, err := Append(p, e, testKey(1)); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, data
}

func TestLedgerTamper(t *testing.T) {
	_, data := writeLedger(t,
		entry("shadow", VerdictPass, ""),
		entry("cutover/account_balance", VerdictPass, ""),
		entry("cutover/positions", VerdictFail, "flaky feed, accepted by QA lead"),
	)
	lines := strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("ledger has %d lines, want 3", len(lines))
	}
	join := func(ls ...string) []byte {
		s := ""
		for _, l := range ls {
			s += strings.TrimSuffix(l, "\n") + "\n"
		}
		return []byte(s)
	}
	signers, err := ParseSigners(strings.NewReader(SignerLine("alice", pub(testKey(1)))), "signers.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		data      []byte
		breakLine int    // 0: intact
		breakMsg  string // part of the break reason
		trust     []Trust
	}{
		{name: "intact", data: data, trust: []Trust{Trusted, Trusted, Trusted}},
		{name: "intact CRLF", data: bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")), trust: []Trust{Trusted, Trusted, Trusted}},
		{name: "no final newline", data: bytes.TrimSuffix(data, []byte("\n")), trust: []Trust{Trusted, Trusted, Trusted}},
		{name: "last line removed", data: join(lines[0], lines[1]), trust: []Trust{Trusted, Trusted}},
		{name: "middle line removed", data: join(lines[0], lines[2]), breakLine: 2, breakMsg: "index is 2, want 1",
			trust: []Trust{Trusted, AfterBreak}},
		{name: "first line removed", data: join(lines[1], lines[2]), breakLine: 1, breakMsg: "index is 1, want 0",
			trust: []Trust{AfterBreak, AfterBreak}},
		{name: "lines reordered", data: join(lines[0], lines[2], lines[1]), breakLine: 2, breakMsg: "index is 2, want 1",
			trust: []Trust{Trusted, AfterBreak, AfterBreak}},
		{name: "line duplicated", data: join(lines[0], lines[0], lines[1]), breakLine: 2, breakMsg: "index is 0, want 1",
			trust: []Trust{Trusted, AfterBreak, AfterBreak}},
		{name: "middle line edited", data: join(lines[0], strings.Replace(lines[1], `"PASS"`, `"FAIL"`, 1), lines[2]),
			breakLine: 3, breakMsg: "line 2 was edited", trust: []Trust{Trusted, BadSignature, AfterBreak}},
		{name: "last line edited", data: join(lines[0], lines[1], strings.Replace(lines[2], "flaky", "FLAKY", 1)),
			trust: []Trust{Trusted, Trusted, BadSignature}},
		{name: "torn last line", data: append(append([]byte{}, data...), `{"index":3,"pha`...), breakLine: 4, breakMsg: "malformed line",
			trust: []Trust{Trusted, Trusted, Trusted, Malformed}},
		{name: "blank line", data: join(lines[0], "", lines[1]), breakLine: 2, breakMsg: "malformed line",
			trust: []Trust{Trusted, Malformed, AfterBreak}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ParseLedger("signoffs.jsonl", tt.data)
			switch {
			case tt.breakLine == 0 && l.Break != nil:
				t.Fatalf("unexpected break: %v", l.Break)
			case tt.breakLine != 0 && l.Break == nil:
				t.Fatalf("no break, want one at line %d", tt.breakLine)
			case tt.breakLine != 0:
				if l.Break.Line != tt.breakLine || !strings.Contains(l.Break.Error(), tt.breakMsg) {
					t.Fatalf("break = %v, want line %d with %q", l.Break, tt.breakLine, tt.breakMsg)
				}
				if want := "signoffs.jsonl:" + strconv.Itoa(tt.breakLine) + ":"; !strings.HasPrefix(l.Break.Error(), want) {
					t.Errorf("break message %q does not start with %q", l.Break.Error(), want)
				}
			}
			var got []Trust
			for _, c := range l.Verify(signers) {
				got = append(got, c.Trust)
				if c.Trust != Trusted && c.Problem == "" {
					t.Errorf("line %d: %s without a problem", c.Line, c.Trust)
				}
			}
			if len(got) != len(tt.trust) {
				t.Fatalf("trust = %v, want %v", got, tt.trust)
			}
			for i := range got {
				if got[i] != tt.trust[i] {
					t.Fatalf("trust = %v, want %v", got, tt.trust)
				}
			}
		})
	}
}

func TestVerifySigners(t *testing.T) {
	alice, mallory := testKey(1), testKey(9)
	trusted, err := ParseSigners(strings.NewReader(SignerLine("alice", pub(alice))), "signers.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		signer string
		key    ed25519.PrivateKey
		want   Trust
		msg    string
	}{
		{name: "trusted", signer: "alice", key: alice, want: Trusted},
		{name: "unknown signer", signer: "mallory", key: mallory, want: UnknownSigner, msg: `signer "mallory" is not in signers.txt`},
		{name: "forged as alice", signer: "alice", key: mallory, want: BadSignature, msg: "forged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "l.jsonl")
			e := entry("shadow", VerdictPass, "")
			e.Signer = tt.signer
			if _, err := Append(p, e, tt.key); err != nil {
				t.Fatal(err)
			}
			l, err := ReadLedger(p)
			if err != nil {
				t.Fatal(err)
			}
			c := l.Verify(trusted)
			if len(c) != 1 || c[0].Trust != tt.want || !strings.Contains(c[0].Problem, tt.msg) {
				t.Fatalf("verify = %+v, want %s with %q", c, tt.want, tt.msg)
			}
			if c := l.Verify(nil); c[0].Trust != UnknownSigner {
				t.Errorf("nil signers: %s, want %s", c[0].Trust, UnknownSigner)
			}
		})
	}
}

func TestAppend(t *testing.T) {
	tests := []struct {
		name    string
		setup   string // ledger content before
		e       Entry
		wantErr string
		index   int
	}{
		{name: "first PASS", e: entry("shadow", VerdictPass, ""), index: 0},
		{name: "FAIL without waiver", e: entry("shadow", VerdictFail, ""), wantErr: "refusing to sign"},
		{name: "INCONCLUSIVE blank waiver", e: entry("shadow", VerdictInconclusive, "  "), wantErr: "refusing to sign"},
		{name: "FAIL with waiver", e: entry("shadow", VerdictFail, "known flake"), index: 0},
		{name: "PASS with waiver", e: entry("shadow", VerdictPass, "why"), wantErr: "only for FAIL or INCONCLUSIVE"},
		{name: "absolute report", e: func() Entry { e := entry("shadow", VerdictPass, ""); e.Report = "/etc/r.json"; return e }(), wantErr: "relative"},
		{name: "bad signer", e: func() Entry { e := entry("shadow", VerdictPass, ""); e.Signer = ""; return e }(), wantErr: "signer name"},
		{name: "broken ledger", setup: "garbage\n", e: entry("shadow", VerdictPass, ""), wantErr: "chain broken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "l.jsonl")
			if tt.setup != "" {
				if err := os.WriteFile(p, []byte(tt.setup), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := Append(p, tt.e, testKey(1))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				data, _ := os.ReadFile(p)
				if string(data) != tt.setup {
					t.Fatalf("refused append changed the ledger: %q", data)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Index != tt.index || !got.Verify(pub(testKey(1))) {
				t.Fatalf("appended %+v", got)
			}
		})
	}
	t.Run("not PASS error type", func(t *testing.T) {
		_, err := Append(filepath.Join(t.TempDir(), "l.jsonl"), entry("shadow", VerdictFail, ""), testKey(1))
		var np *NotPassError
		if !errors.As(err, &np) || np.Verdict != VerdictFail {
			t.Fatalf("err = %v, want *NotPassError", err)
		}
	})
	t.Run("after line without newline", func(t *testing.T) {
		p, data := writeLedger(t, entry("shadow", VerdictPass, ""))
		if err := os.WriteFile(p, bytes.TrimSuffix(data, []byte("\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Append(p, entry("cutover/positions", VerdictPass, ""), testKey(1)); err != nil {
			t.Fatal(err)
		}
		l, err := ReadLedger(p)
		if err != nil || l.Break != nil || len(l.Lines) != 2 {
			t.Fatalf("ledger %+v, %v", l, err)
		}
	})
}

// Concurrent sign-offs each get their own line: the flock serialises them.
func TestAppendConcurrent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "l.jsonl")
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := Append(p, entry("shadow", VerdictPass, ""), testKey(1))
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	l, err := ReadLedger(p)
	if err != nil {
		t.Fatal(err)
	}
	if l.Break != nil || len(l.Lines) != n {
		t.Fatalf("%d lines, break %v", len(l.Lines), l.Break)
	}
}

func TestReadReport(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		verdict string
		wantErr string
	}{
		{name: "pass", body: `{"verdict":"PASS","gates":[]}`, verdict: VerdictPass},
		{name: "fail", body: `{"verdict":"FAIL"}`, verdict: VerdictFail},
		{name: "inconclusive", body: `{"verdict":"INCONCLUSIVE"}`, verdict: VerdictInconclusive},
		{name: "lower case", body: `{"verdict":"pass"}`, wantErr: `is "pass"`},
		{name: "missing", body: `{"gates":[]}`, wantErr: `no top-level "verdict"`},
		{name: "not JSON", body: `PASS`, wantErr: "not a JSON report"},
		{name: "nested only", body: `{"gate":{"verdict":"PASS"}}`, wantErr: `no top-level "verdict"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "report.json")
			if err := os.WriteFile(p, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := ReadReport(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(tt.body))
			if r.Verdict != tt.verdict || r.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("report = %+v", r)
			}
		})
	}
	if _, err := ReadReport(filepath.Join(t.TempDir(), "none.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing report: err = %v, want fs.ErrNotExist", err)
	}
}

func TestCleanReportPath(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "plain", in: "reports/r.json", want: "reports/r.json"},
		{name: "dot prefix", in: "./reports/../reports/r.json", want: "reports/r.json"},
		{name: "absolute", in: "/reports/r.json"},
		{name: "empty", in: ""},
		{name: "dot", in: "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CleanReportPath(tt.in)
			if (err != nil) != (tt.want == "") || got != tt.want {
				t.Fatalf("CleanReportPath(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func FuzzLedgerLine(f *testing.F) {
	e := entry("shadow", VerdictFail, "waived: \"quoted\"\nline")
	e.Sign(testKey(1))
	line, err := EncodeLine(e)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.TrimSuffix(line, []byte("\n")))
	f.Add([]byte(`{"index":0}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"index":1e99,"prev":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeLine(b)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes to a line that decodes to the same entry.
		again, err := EncodeLine(e)
		if err != nil {
			t.Fatalf("decoded entry does not encode: %v", err)
		}
		e2, err := DecodeLine(bytes.TrimSuffix(again, []byte("\n")))
		if err != nil {
			t.Fatalf("re-encoded line does not decode: %v\n%s", err, again)
		}
		if !bytes.Equal(e.SignedMessage(), e2.SignedMessage()) || !bytes.Equal(e.Signature, e2.Signature) {
			t.Fatalf("round trip changed the entry:\n%q\n%q", e.SignedMessage(), e2.SignedMessage())
		}
		_ = ParseLedger("f.jsonl", b)
	})
}
