package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thor-trading/cutover-harness/harness/refstack"
)

func TestStatus(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "qa.key")
	signers := filepath.Join(dir, "signers.txt")
	ledger := filepath.Join(dir, "signoffs.jsonl")
	code, out, errs := runCLI(t, "keygen", "--name", "qa", "--out", key)
	if code != 0 {
		t.Fatalf("keygen: %d %s", code, errs)
	}
	_ = os.WriteFile(signers, []byte(out), 0o644)
	rep := filepath.Join(dir, "report.json")
	_ = os.WriteFile(rep, []byte(`{"verdict":"PASS"}`), 0o644)
	if code, _, errs := runCLI(t, "signoff", rep, "--phase", "shadow", "--by", "qa", "--key", key,
		"--ledger", ledger, "--signers", signers, "--phases", "../../scenarios/phases.yaml", "--base", dir); code != 0 {
		t.Fatalf("signoff: %d %s", code, errs)
	}

	srv, err := refstack.New(refstack.Config{Flags: refstack.Flags{AccountBalance: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	args := []string{"status", "--base", dir, "--ledger", ledger, "--signers", signers, "--phases", "../../scenarios/phases.yaml", "--stack", srv.URL()}
	code, out, errs = runCLI(t, args...)
	if code != 0 {
		t.Fatalf("status: %d %s", code, errs)
	}
	for _, want := range []string{"account_balance  shadow", "cutover/account_balance (may start)", "cutover/positions (blocked)", "qa "} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, append(args, "--json")...)
	var st statusOut
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status --json: %d %s", code, out)
	}
	if f := st.Features[0]; f.Feature != "account_balance" || f.Phase != "shadow" || f.Flag == nil || !*f.Flag || f.SignOff == nil || f.SignOff.Verdict != "PASS" {
		t.Errorf("account_balance status: %+v", f)
	}
	if f := st.Features[1]; f.Flag == nil || *f.Flag {
		t.Errorf("positions flag should be off: %+v", f)
	}

	// Editing the signed report takes the sign-off away.
	_ = os.WriteFile(rep, []byte(`{"verdict":"PASS" }`), 0o644)
	_, out, _ = runCLI(t, args...)
	if !strings.Contains(out, "account_balance  not started") || !strings.Contains(out, "changed since it was signed") {
		t.Errorf("status after tampering:\n%s", out)
	}
}
