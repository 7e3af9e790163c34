package gate

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/signoff"
)

const testPhases = `phases:
  - name: shadow
    requires: []
    scenarios: [scenarios/shadow.yaml]
  - name: cutover/account_balance
    requires: [shadow]
    scenarios: [scenarios/cutover-account_balance.yaml]
  - name: cutover/positions
    requires: [cutover/account_balance]
  - name: cleanup/account_balance
    requires: [shadow, cutover/account_balance, cutover/positions]
`

func key(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

var (
	alice   = key(1)
	bob     = key(2)
	mallory = key(9)
)

// fixture is a repository in a temp dir: reports, a ledger, signers.
type fixture struct {
	t      *testing.T
	base   string
	ledger string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	base := t.TempDir()
	signers := signoff.SignerLine("alice", alice.Public().(ed25519.PublicKey)) + "\n" +
		signoff.SignerLine("bob", bob.Public().(ed25519.PublicKey)) + "\n"
	if err := os.WriteFile(filepath.Join(base, "signers.txt"), []byte(signers), 0o644); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, base: base, ledger: filepath.Join(base, "reports", "signoffs.jsonl")}
}

// report writes a report with a verdict and returns its relative path.
func (f *fixture) report(name, verdict string) string {
	f.t.Helper()
	rel := "reports/" + name + "/report.json"
	p := filepath.Join(f.base, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(`{"format":"cutover-report/v1","verdict":"`+verdict+`","run":"`+name+`"}`), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return rel
}

// sign appends a sign-off of the report at rel (as signer, with key).
func (f *fixture) sign(phase, rel, signer string, k ed25519.PrivateKey, waiver string) {
	f.t.Helper()
	r, err := signoff.ReadReport(filepath.Join(f.base, rel))
	if err != nil {
		f.t.Fatal(err)
	}
	_, err = signoff.Append(f.ledger, signoff.Entry{
		Phase: phase, Report: rel, ReportSHA256: r.SHA256, Verdict: r.Verdict,
		Signer: signer, Time: time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC), Waiver: waiver,
	}, k)
	if err != nil {
		f.t.Fatal(err)
	}
}

// signPass writes a PASS report for phase and signs it as alice.
func (f *fixture) signPass(phase string) string {
	rel := f.report(strings.ReplaceAll(phase, "/", "-"), signoff.VerdictPass)
	f.sign(phase, rel, "alice", alice, "")
	return rel
}

func (f *fixture) lines() []string {
	f.t.Helper()
	data, err := os.ReadFile(f.ledger)
	if err != nil {
		f.t.Fatal(err)
	}
	return strings.SplitAfter(strings.TrimSuffix(string(data), "\n"), "\n")
}

func (f *fixture) writeLines(ls ...string) {
	f.t.Helper()
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(strings.TrimSuffix(l, "\n") + "\n")
	}
	if err := os.WriteFile(f.ledger, []byte(b.String()), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) edit(rel string, fn func([]byte) []byte) {
	f.t.Helper()
	p := filepath.Join(f.base, filepath.FromSlash(rel))
	data, err := os.ReadFile(p)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, fn(data), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) check(phase string) (Result, error) {
	f.t.Helper()
	phases, err := ParsePhases([]byte(testPhases), "phases.yaml")
	if err != nil {
		f.t.Fatal(err)
	}
	signers, err := signoff.LoadSigners(filepath.Join(f.base, "signers.txt"))
	if err != nil {
		f.t.Fatal(err)
	}
	ledger, err := signoff.ReadLedger(f.ledger)
	if err != nil {
		f.t.Fatal(err)
	}
	g := &Gate{Phases: phases, Ledger: ledger, Signers: signers, BaseDir: f.base}
	return g.Check(phase)
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		phase   string
		setup   func(f *fixture)
		ok      bool
		kinds   []Kind   // every kind must appear among reasons or ledger problems
		msgs    []string // every string must appear in some message
		waivers int
	}{
		{
			name: "no prerequisites", phase: "shadow", setup: func(*fixture) {}, ok: true,
		},
		{
			name: "signed PASS", phase: "cutover/account_balance", ok: true,
			setup: func(f *fixture) { f.signPass("shadow") },
		},
		{
			name: "no ledger", phase: "cutover/account_balance", setup: func(*fixture) {},
			kinds: []Kind{NoSignOff}, msgs: []string{"does not exist"},
		},
		{
			name: "other phase signed only", phase: "cutover/positions",
			setup: func(f *fixture) { f.signPass("shadow") },
			kinds: []Kind{NoSignOff}, msgs: []string{"no trusted sign-off for phase cutover/account_balance"},
		},
		{
			name: "report one byte edited", phase: "cutover/account_balance",
			setup: func(f *fixture) {
				rel := f.signPass("shadow")
				f.edit(rel, func(b []byte) []byte { b[len(b)-2] ^= 1; return b })
			},
			kinds: []Kind{ReportChanged}, msgs: []string{"reports/shadow/report.json changed since it was signed"},
		},
		{
			name: "report deleted", phase: "cutover/account_balance",
			setup: func(f *fixture) {
				rel := f.signPass("shadow")
				os.Remove(filepath.Join(f.base, rel))
			},
			kinds: []Kind{ReportMissing}, msgs: []string{"reports/shadow/report.json", "is missing"},
		},
		{
			name: "unknown signer", phase: "cutover/account_balance",
			setup: func(f *fixture) { f.sign("shadow", f.report("shadow", "PASS"), "mallory", mallory, "") },
			kinds: []Kind{UnknownSigner, NoSignOff}, msgs: []string{`signer "mallory" is not in`},
		},
		{
			name: "forged: trusted name, other key", phase: "cutover/account_balance",
			setup: func(f *fixture) { f.sign("shadow", f.report("shadow", "PASS"), "alice", mallory, "") },
			kinds: []Kind{BadSignature, NoSignOff}, msgs: []string{"signoffs.jsonl:1: signature does not verify with alice's key"},
		},
		{
			name: "field altered after signing", phase: "cutover/account_balance",
			setup: func(f *fixture) {
				rel := f.report("shadow", "FAIL")
				f.sign("shadow", rel, "alice", alice, "flaky")
				l := f.lines()
				f.writeLines(strings.Replace(strings.Replace(l[0], `"verdict":"FAIL"`, `"verdict":"PASS"`, 1), `,"waiver":"flaky"`, ``, 1))
				f.edit(rel, func(b []byte) []byte { return bytes.Replace(b, []byte("FAIL"), []byte("PASS"), 1) })
			},
			kinds: []Kind{BadSignature, NoSignOff}, msgs: []string{"edited after signing"},
		},
		{
			name: "report path altered after signing", phase: "cutover/account_balance",
			setup: func(f *fixture) {
				f.signPass("shadow")
				f.report("other", "PASS")
				l := f.lines()
				f.writeLines(strings.Replace(l[0], "reports/shadow/", "reports/other/", 1))
			},
			kinds: []Kind{BadSignature},
		},
		{
			name: "removed ledger line", phase: "cutover/positions",
			setup: func(f *fixture) {
				f.signPass("shadow")
				f.signPass("cutover/account_balance")
				f.signPass("cutover/positions")
				l := f.lines()
				f.writeLines(l[0], l[2])
			},
			kinds: []Kind{ChainBroken, NoSignOff}, msgs: []string{"signoffs.jsonl:2: ledger chain broken: index is 2, want 1"},
		},
		{
			name: "removed line unrelated to the phase still fails", phase: "cutover/account_balance",
			setup: func(f *fixture) {
				f.signPass("shadow")
				f.signPass("cutover/account_balance")
				f.signPass("cutover/positions")
				l := f.lines()
				f.writeLines(l[0], l[2])
			},
			kinds: []Kind{ChainBroken}, msgs: []string{"signoffs.jsonl:2:"},
		},
		{
			name: "reordered ledger lines", phase: "cleanup/account_balance",
			setup: func(f *fixture) {
				f.signPass("shadow")
				f.signPass("cutover/account_balance")
				f.signPass("cutover/positions")
				l := f.lines()
				f.writeLines(l[0], l[2], l[1])
			},
			kinds: []Kind{ChainBroken, AfterBreak}, msgs: []string{"signoffs.jsonl:2: ledger chain broken", "signoffs.jsonl:3: sign-off by alice is at or after the chain break at line 2"},
		},
		{
			name: "edited middle line", phase: "cleanup/account_balance",
			setup: func(f *fixture) {
				f.signPass("shadow")
				f.signPass("cutover/account_balance")
				f.signPass("cutover/positions")
				l := f.lines()
				f.writeLines(l[0], strings.Replace(l[1], `"signer":"alice"`, `"signer":"bob"`, 1), l[2])
			},
			kinds: []Kind{ChainBroken, BadSignature, AfterBreak}, msgs: []string{"signoffs.jsonl:3: ledger chain broken", "line 2 was edited"},
		},
		{
			name: "FAIL report with waiver", phase: "cutover/account_balance", ok: true, waivers: 1,
			setup: func(f *fixture) {
				f.sign("shadow", f.report("shadow", "FAIL"), "bob", bob, "known flaky feed; approved by QA lead")
			},
		},
		{
			name: "INCONCLUSIVE signed without waiver by another tool", phase: "cutover/account_balance",
			setup: func(f *fixture) {
				// Append refuses this, so write the line by hand.
				rel := f.report("shadow", "INCONCLUSIVE")
				r, _ := signoff.ReadReport(filepath.Join(f.base, rel))
				e := signoff.Entry{Phase: "shadow", Report: rel, ReportSHA256: r.SHA256, Verdict: r.Verdict, Signer: "alice",
					Time: time.Date(2026, 3, 2, 18, 0, 0, 0, time.UTC)}
				e.Sign(alice)
				line, err := signoff.EncodeLine(e)
				if err != nil {
					f.t.Fatal(err)
				}
				os.MkdirAll(filepath.Dir(f.ledger), 0o755)
				os.WriteFile(f.ledger, line, 0o644)
			},
			kinds: []Kind{NotPass}, msgs: []string{"has verdict INCONCLUSIVE and the sign-off has no waiver"},
		},
		{
			name: "latest trusted sign-off counts", phase: "cutover/account_balance", ok: true,
			setup: func(f *fixture) {
				f.sign("shadow", f.report("shadow-1", "FAIL"), "alice", alice, "first run waived")
				f.sign("shadow", f.report("shadow-2", "PASS"), "bob", bob, "")
			},
		},
		{
			name: "latest sign-off with changed report fails, older does not stand in", phase: "cutover/account_balance",
			setup: func(f *fixture) {
				f.sign("shadow", f.report("shadow-1", "PASS"), "alice", alice, "")
				rel := f.report("shadow-2", "PASS")
				f.sign("shadow", rel, "alice", alice, "")
				f.edit(rel, func(b []byte) []byte { return append(b, ' ') })
			},
			kinds: []Kind{ReportChanged}, msgs: []string{"reports/shadow-2/report.json changed"},
		},
		{
			name: "later forged sign-off is ignored", phase: "cutover/account_balance", ok: true,
			setup: func(f *fixture) {
				f.signPass("shadow")
				f.sign("shadow", f.report("evil", "FAIL"), "alice", mallory, "nope")
			},
		},
		{
			name: "several prerequisites, each reason", phase: "cleanup/account_balance",
			setup: func(f *fixture) {
				f.signPass("shadow")
				rel := f.signPass("cutover/account_balance")
				os.Remove(filepath.Join(f.base, rel))
			},
			kinds: []Kind{ReportMissing, NoSignOff},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.setup(f)
			res, err := f.check(tt.phase)
			if err != nil {
				t.Fatal(err)
			}
			var kinds []Kind
			var msgs []string
			collect := func(rs []Reason) {
				for _, r := range rs {
					kinds = append(kinds, r.Kind)
					msgs = append(msgs, r.Message)
					if r.Message == "" {
						t.Errorf("reason %s without a message", r.Kind)
					}
				}
			}
			collect(res.LedgerProblems)
			for _, p := range res.Requires {
				collect(p.Reasons)
				collect(p.Ignored)
				if p.Satisfied != (len(p.Reasons) == 0) {
					t.Errorf("%s: satisfied=%v with reasons %v", p.Phase, p.Satisfied, p.Reasons)
				}
			}
			all := strings.Join(msgs, "\n")
			if res.OK != tt.ok {
				t.Fatalf("OK = %v, want %v; reasons:\n%s", res.OK, tt.ok, all)
			}
			for _, k := range tt.kinds {
				found := false
				for _, got := range kinds {
					found = found || got == k
				}
				if !found {
					t.Errorf("no %s reason; got %v:\n%s", k, kinds, all)
				}
			}
			for _, m := range tt.msgs {
				if !strings.Contains(all, m) {
					t.Errorf("no reason mentions %q:\n%s", m, all)
				}
			}
			if len(res.Waivers) != tt.waivers {
				t.Errorf("waivers = %+v, want %d", res.Waivers, tt.waivers)
			}
		})
	}
}

func TestCheckUnknownPhase(t *testing.T) {
	f := newFixture(t)
	_, err := f.check("cutover/typo")
	var up *UnknownPhaseError
	if !errors.As(err, &up) {
		t.Fatalf("err = %v, want *UnknownPhaseError", err)
	}
	if !strings.Contains(err.Error(), "shadow, cutover/account_balance, cutover/positions") {
		t.Errorf("error does not list the known phases: %v", err)
	}
}

func TestParsePhases(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		names   []string
		wantErr string
	}{
		{name: "ok", in: testPhases, names: []string{"shadow", "cutover/account_balance", "cutover/positions", "cleanup/account_balance"}},
		{name: "empty", in: "", wantErr: `phases.yaml: the file is empty: want a "phases:" list`},
		{name: "no phases", in: "phases: []\n", wantErr: "phases.yaml:1: no phases"},
		{name: "unknown field", in: "phases:\n  - name: shadow\n    require: []\n", wantErr: `phases.yaml:3: field "phases[0].require": unknown field (did you mean "requires"?)`},
		{name: "unknown top-level field", in: "phase:\n  - name: shadow\n", wantErr: `phases.yaml:1: field "phase": unknown field (did you mean "phases"?)`},
		{name: "syntax error", in: "phases:\n  - name: [shadow\n", wantErr: "phases.yaml:"},
		{name: "wrong type", in: "phases:\n  - name: shadow\n    requires: shadow\n", wantErr: `phases.yaml:3: field "phases[0].requires": want a list, got "shadow"`},
		{name: "missing name", in: "phases:\n  - requires: []\n", wantErr: "phases.yaml:2: phase without a name"},
		{name: "bad name", in: "phases:\n  - name: Shadow Phase\n", wantErr: "phases.yaml:2: phase name"},
		{name: "duplicate", in: "phases:\n  - name: shadow\n  - name: shadow\n", wantErr: "phases.yaml:3: phase \"shadow\" is already defined on line 2"},
		{name: "unknown requirement", in: "phases:\n  - name: shadow\n  - name: cutover/a\n    requires:\n      - shadow\n      - shadw\n", wantErr: `phases.yaml:6: phase "cutover/a" requires unknown phase "shadw" (defined above: shadow)`},
		{name: "requirement after", in: "phases:\n  - name: a\n    requires: [b]\n  - name: b\n", wantErr: `phases.yaml:3: phase "a" requires "b", which comes after it`},
		{name: "requires itself", in: "phases:\n  - name: a\n    requires: [a]\n", wantErr: `requires itself`},
		{name: "requires twice", in: "phases:\n  - name: a\n  - name: b\n    requires: [a, a]\n", wantErr: `requires "a" twice`},
		{name: "every problem at once", in: "phases:\n  - nam: shadow\n    scenarios: 5\n  - name: b\n    requires: {a: 1}\n",
			wantErr: "phases.yaml:2: field \"phases[0].nam\": unknown field (did you mean \"name\"?)\nphases.yaml:3: field \"phases[0].scenarios\": want a list, got \"5\"\nphases.yaml:5: field \"phases[1].requires\": want a list, got a mapping"},
		{name: "two documents", in: "phases:\n  - name: a\n---\nphases: []\n", wantErr: "a second YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := ParsePhases([]byte(tt.in), "phases.yaml")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ps.Names(), ","); got != strings.Join(tt.names, ",") {
				t.Fatalf("names = %s", got)
			}
		})
	}
}

// The committed phases file loads and follows the design's order.
func TestRepositoryPhases(t *testing.T) {
	ps, err := LoadPhases(filepath.Join("..", "..", "scenarios", "phases.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want := "shadow cutover/account_balance cutover/positions cutover/intraday_bars cutover/global_market " +
		"cleanup/account_balance cleanup/positions cleanup/intraday_bars cleanup/global_market complete"
	if got := strings.Join(ps.Names(), " "); got != want {
		t.Fatalf("phases = %s\nwant     %s", got, want)
	}
	cleanup, _ := ps.Lookup("cleanup/account_balance")
	if len(cleanup.Requires) != 4 {
		t.Errorf("cleanup/account_balance requires %v, want all four cutovers", cleanup.Requires)
	}
}

func FuzzParsePhases(f *testing.F) {
	f.Add([]byte(testPhases))
	f.Add([]byte("phases:\n  - name: a\n    requires: [a]\n"))
	f.Add([]byte("phases: {}\n"))
	f.Add([]byte("- a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := ParsePhases(b, "f.yaml")
		if err != nil {
			return
		}
		for i, p := range ps {
			for _, r := range p.Requires {
				if j, ok := phaseIndex(ps[:i], r); !ok || j >= i {
					t.Fatalf("phase %s requires %s, not defined above", p.Name, r)
				}
			}
		}
	})
}
