package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thor-trading/cutover-harness/harness/cli"
)

// harness runs the CLI in-process.
func harness(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = cli.Main(&cli.Env{Args: args, Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

// The whole QA flow, one step per row, in order: keys, sign-offs, gates,
// tampering.
func TestSignoffAndGateCommands(t *testing.T) {
	dir := t.TempDir()
	phases, err := filepath.Abs("../../scenarios/phases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := func(rel string) string { return filepath.Join(dir, filepath.FromSlash(rel)) }
	writeReport := func(rel, verdict string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p(rel)), 0o755); err != nil {
			t.Fatal(err)
		}
		body := `{"format":"cutover-report/v1","verdict":"` + verdict + `","features":{}}` + "\n"
		if err := os.WriteFile(p(rel), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files := []string{"--ledger", p("reports/signoffs.jsonl"), "--signers", p("signers.txt"), "--phases", phases, "--base", dir}
	signoffArgs := func(report, phase, by string, extra ...string) []string {
		args := append([]string{"signoff", report, "--phase", phase, "--by", by, "--key", p(by + ".key")}, files...)
		return append(args, extra...)
	}
	gateArgs := func(phase string, extra ...string) []string {
		return append(append([]string{"gate", "--phase", phase}, files...), extra...)
	}

	steps := []struct {
		name   string
		before func(t *testing.T)
		args   []string
		code   int
		want   []string // each must appear in stdout or stderr
		after  func(t *testing.T, stdout string)
	}{
		{
			name: "keygen alice", args: []string{"keygen", "--name", "alice", "--out", p("alice.key")}, code: cli.ExitPass,
			want: []string{"alice ed25519:", "keep it secret"},
			after: func(t *testing.T, stdout string) {
				if fi, err := os.Stat(p("alice.key")); err != nil || fi.Mode().Perm() != 0o600 {
					t.Fatalf("key file: %v, %v", fi, err)
				}
				if err := os.WriteFile(p("signers.txt"), []byte("# QA\n"+stdout), 0o644); err != nil {
					t.Fatal(err)
				}
			},
		},
		{name: "keygen never overwrites", args: []string{"keygen", "--name", "alice", "--out", p("alice.key")}, code: cli.ExitBadInput, want: []string{"never overwrites"}},
		{name: "keygen bad name", args: []string{"keygen", "--name", "al ice", "--out", p("x.key")}, code: cli.ExitBadInput, want: []string{"--name"}},
		{name: "keygen without flags", args: []string{"keygen"}, code: cli.ExitBadInput, want: []string{"--name NAME and --out FILE"}},
		{name: "keygen mallory (not trusted)", args: []string{"keygen", "--name", "mallory", "--out", p("mallory.key")}, code: cli.ExitPass},
		{
			name: "gate before any sign-off", args: gateArgs("cutover/account_balance"), code: cli.ExitFail,
			want: []string{"may NOT start", "FAIL shadow", "no trusted sign-off for phase shadow", "does not exist"},
		},
		{name: "gate on the first phase", args: gateArgs("shadow"), code: cli.ExitPass, want: []string{"phase shadow may start", "no prerequisites"}},
		{
			name: "sign a PASS report", before: func(t *testing.T) { writeReport("reports/shadow/report.json", "PASS") },
			args: signoffArgs("reports/shadow/report.json", "shadow", "alice"), code: cli.ExitPass,
			want: []string{"signed reports/shadow/report.json (PASS", "appended line 1", `"index":0`},
		},
		{name: "gate passes", args: gateArgs("cutover/account_balance"), code: cli.ExitPass, want: []string{"may start", "ok   shadow: reports/shadow/report.json PASS, signed by alice"}},
		{
			name: "gate --json", args: gateArgs("cutover/account_balance", "--json"), code: cli.ExitPass,
			after: func(t *testing.T, stdout string) {
				var res struct {
					OK       bool
					Requires []struct {
						Phase     string
						Satisfied bool
					}
				}
				if err := json.Unmarshal([]byte(stdout), &res); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				if !res.OK || len(res.Requires) != 1 || !res.Requires[0].Satisfied {
					t.Fatalf("result %+v", res)
				}
			},
		},
		{name: "gate: next phase lacks its sign-off", args: gateArgs("cutover/positions"), code: cli.ExitFail, want: []string{"FAIL cutover/account_balance:", "no trusted sign-off"}},
		{
			name: "FAIL report refused without --waive", before: func(t *testing.T) { writeReport("reports/cutover-ab/report.json", "FAIL") },
			args: signoffArgs("reports/cutover-ab/report.json", "cutover/account_balance", "alice"), code: cli.ExitBadInput,
			want: []string{"verdict FAIL: refusing to sign", "--waive REASON"},
		},
		{name: "empty waiver refused", args: signoffArgs("reports/cutover-ab/report.json", "cutover/account_balance", "alice", "--waive", " "), code: cli.ExitBadInput, want: []string{"--waive needs a reason"}},
		{name: "waiver on a PASS report refused", args: signoffArgs("reports/shadow/report.json", "shadow", "alice", "--waive", "x"), code: cli.ExitBadInput, want: []string{"only for FAIL or INCONCLUSIVE"}},
		{
			name: "FAIL report signed with --waive", args: signoffArgs(p("reports/cutover-ab/report.json"), "cutover/account_balance", "alice", "--waive", "stale cache on one poller; accepted by QA lead"),
			code: cli.ExitPass, want: []string{"signed reports/cutover-ab/report.json (FAIL, sha256", "WAIVED: stale cache", "appended line 2"},
		},
		{name: "gate lists the waiver", args: gateArgs("cutover/positions"), code: cli.ExitPass, want: []string{"may start", "waiver cutover/account_balance: FAIL report reports/cutover-ab/report.json accepted by alice"}},
		{
			name: "untrusted signer warned at signing", before: func(t *testing.T) { writeReport("reports/cutover-pos/report.json", "PASS") },
			args: signoffArgs("reports/cutover-pos/report.json", "cutover/positions", "mallory"), code: cli.ExitPass,
			want: []string{"warning: mallory is not in", "mallory ed25519:"},
		},
		{name: "gate refuses the untrusted signer", args: gateArgs("cutover/intraday_bars"), code: cli.ExitFail, want: []string{`signer "mallory" is not in`}},
		{
			name: "forged: alice's name, mallory's key", args: append(signoffArgs("reports/cutover-pos/report.json", "cutover/positions", "alice"), "--key", p("mallory.key")),
			code: cli.ExitPass, want: []string{"warning: this key is not alice's key"},
		},
		{name: "gate refuses the forgery", args: gateArgs("cutover/intraday_bars"), code: cli.ExitFail, want: []string{"signoffs.jsonl:4: signature does not verify with alice's key"}},
		{
			name: "report edited after signing", before: func(t *testing.T) {
				b, err := os.ReadFile(p("reports/shadow/report.json"))
				if err != nil {
					t.Fatal(err)
				}
				b[len(b)-2] ^= 0x20 // one byte
				if err := os.WriteFile(p("reports/shadow/report.json"), b, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			args: gateArgs("cutover/account_balance"), code: cli.ExitFail, want: []string{"reports/shadow/report.json changed since it was signed", "phase cutover/account_balance may not start"},
		},
		{
			name: "ledger lines reordered", before: func(t *testing.T) {
				b, err := os.ReadFile(p("reports/signoffs.jsonl"))
				if err != nil {
					t.Fatal(err)
				}
				l := strings.SplitAfter(string(b), "\n")
				if err := os.WriteFile(p("reports/signoffs.jsonl"), []byte(l[1]+l[0]+strings.Join(l[2:], "")), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			args: gateArgs("cutover/positions"), code: cli.ExitFail, want: []string{"signoffs.jsonl:1: ledger chain broken: index is 1, want 0"},
		},
		{name: "signing refused on a broken ledger", args: signoffArgs("reports/cutover-pos/report.json", "cutover/positions", "alice"), code: cli.ExitBadInput, want: []string{"chain broken", "restore the ledger"}},
		{name: "gate: unknown phase", args: gateArgs("cutover/typo"), code: cli.ExitBadInput, want: []string{`unknown phase "cutover/typo"`, "shadow, cutover/account_balance"}},
		{name: "gate: no phase", args: gateArgs(""), code: cli.ExitBadInput, want: []string{"gate needs --phase"}},
		{name: "signoff: unknown phase", args: signoffArgs("reports/shadow/report.json", "shadw", "alice"), code: cli.ExitBadInput, want: []string{`unknown phase "shadw"`}},
		{name: "signoff: missing report", args: signoffArgs("reports/none.json", "shadow", "alice"), code: cli.ExitBadInput, want: []string{"no such file"}},
		{name: "signoff: report outside base", args: signoffArgs("/etc/hostname", "shadow", "alice"), code: cli.ExitBadInput, want: []string{"not under --base"}},
		{name: "signoff: missing flags", args: []string{"signoff", "r.json"}, code: cli.ExitBadInput, want: []string{"--phase, --by, --key"}},
		{name: "gate: missing signers file", args: []string{"gate", "--phase", "shadow", "--phases", phases, "--signers", p("none.txt")}, code: cli.ExitBadInput, want: []string{"does not exist"}},
		{
			name: "gate: malformed signers file", before: func(t *testing.T) {
				if err := os.WriteFile(p("bad-signers.txt"), []byte("# x\nalice\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			args: []string{"gate", "--phase", "shadow", "--phases", phases, "--signers", p("bad-signers.txt")}, code: cli.ExitBadInput, want: []string{"bad-signers.txt:2:"},
		},
	}
	for _, st := range steps {
		ok := t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before(t)
			}
			code, stdout, stderr := harness(st.args...)
			if code != st.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, st.code, stdout, stderr)
			}
			for _, w := range st.want {
				if !strings.Contains(stdout+stderr, w) {
					t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", w, stdout, stderr)
				}
			}
			if st.after != nil {
				st.after(t, stdout)
			}
		})
		if !ok {
			t.FailNow() // later steps build on this one
		}
	}
}
