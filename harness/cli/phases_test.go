package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMigrationWalkthrough walks the whole migration on the reference stack
// with the shipped scenarios and phases: shadow → sign → cutover of each
// feature (flag on) → cleanup of each (REST removed, WS compared with the
// golden expectations) → complete, with gate refusing every step taken out
// of order.
func TestMigrationWalkthrough(t *testing.T) {
	timingVerdicts(t)
	repo, _ := filepath.Abs("../..")
	base := t.TempDir()
	key := filepath.Join(base, "qa.key")
	signers := filepath.Join(base, "signers.txt")
	ledger := filepath.Join(base, "signoffs.jsonl")
	phases := filepath.Join(repo, "scenarios", "phases.yaml")
	code, pub, errs := runCLI(t, "keygen", "--name", "qa-lead", "--out", key)
	if code != 0 {
		t.Fatalf("keygen: %s", errs)
	}
	if err := os.WriteFile(signers, []byte(pub), 0o644); err != nil {
		t.Fatal(err)
	}
	gateArgs := func(phase string) []string {
		return []string{"gate", "--phase", phase, "--phases", phases, "--ledger", ledger, "--signers", signers, "--base", base}
	}
	mayStart := func(phase string) {
		t.Helper()
		if code, out, errs := runCLI(t, gateArgs(phase)...); code != ExitPass {
			t.Fatalf("gate %s refused: exit %d\n%s%s", phase, code, out, errs)
		}
	}
	refused := func(phase string) {
		t.Helper()
		if code, out, _ := runCLI(t, gateArgs(phase)...); code != ExitFail {
			t.Fatalf("gate %s let an out-of-order step through: exit %d\n%s", phase, code, out)
		}
	}
	// step runs a phase's scenario, expects PASS and signs the report.
	step := func(phase, scenarioFile string) {
		t.Helper()
		mayStart(phase)
		dir := filepath.Join(base, strings.ReplaceAll(phase, "/", "-"))
		code, out, errs := runCLI(t, "run", filepath.Join(repo, "scenarios", scenarioFile), "--out", dir)
		if code != ExitPass {
			t.Fatalf("%s: run exit %d\n%s%s", phase, code, out, errs)
		}
		code, out, errs = runCLI(t, "signoff", filepath.Join(dir, "report.json"), "--phase", phase, "--by", "qa-lead",
			"--key", key, "--ledger", ledger, "--signers", signers, "--phases", phases, "--base", base)
		if code != 0 {
			t.Fatalf("%s: signoff exit %d\n%s%s", phase, code, out, errs)
		}
	}

	features := []string{"account_balance", "positions", "intraday_bars", "global_market"}
	refused("cutover/account_balance")
	step("shadow", "shadow.yaml")
	for i, f := range features {
		if i+1 < len(features) {
			refused("cutover/" + features[i+1])
		}
		refused("cleanup/account_balance")
		step("cutover/"+f, "cutover-"+f+".yaml")
	}
	for i, f := range features {
		if i+1 < len(features) {
			refused("cleanup/" + features[i+1])
		}
		refused("complete")
		step("cleanup/"+f, "cleanup-"+f+".yaml")
	}
	mayStart("complete")

	// Tampering with one signed report takes the whole chain after it down.
	rep := filepath.Join(base, "cleanup-positions", "report.json")
	b, _ := os.ReadFile(rep)
	if err := os.WriteFile(rep, append(b, ' '), 0o644); err != nil {
		t.Fatal(err)
	}
	refused("cleanup/intraday_bars")
	code, out, _ := runCLI(t, "status", "--phases", phases, "--ledger", ledger, "--signers", signers, "--base", base)
	if code != 0 || !strings.Contains(out, "positions        cutover/positions") || !strings.Contains(out, "changed since it was signed") {
		t.Errorf("status after tampering:\n%s", out)
	}
}

// TestCleanupCatchesFaults: a cleanup run fails when the endpoint still
// answers, or when WS no longer matches what REST showed during shadow.
func TestCleanupCatchesFaults(t *testing.T) {
	src, err := os.ReadFile("../../scenarios/cleanup-account_balance.yaml")
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("../../fixtures/sessions")
	base := strings.ReplaceAll(string(src), "../fixtures/sessions", abs)
	for _, tc := range []struct{ name, from, to, want string }{
		{"endpoint still served", "rest_removed: [account_balance]", "rest_removed: []", "rest removed"},
		{"ws rounds money", "rest_removed: [account_balance]", "rest_removed: [account_balance]\n  faults: \"account_balance:round=0\"", "value_mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "cleanup.yaml")
			if err := os.WriteFile(p, []byte(strings.Replace(base, tc.from, tc.to, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			code, out, errs := runCLI(t, "run", p, "--out", dir)
			if code != ExitFail {
				t.Fatalf("exit %d, want FAIL\n%s%s", code, out, errs)
			}
			rep, _ := os.ReadFile(filepath.Join(dir, "report.json"))
			if !strings.Contains(string(rep), tc.want) || !strings.Contains(out, "account_balance  FAIL") {
				t.Errorf("report lacks %q or account_balance FAIL:\n%s", tc.want, out)
			}
		})
	}
}
