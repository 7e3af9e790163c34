package cli

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thor-trading/cutover-harness/harness/gate"
	"github.com/thor-trading/cutover-harness/harness/signoff"
)

func newSignoffCmd(env *Env) *cobra.Command {
	var phase, by, keyPath, ledgerPath, waive, signersPath, phasesPath, base string
	cmd := &cobra.Command{
		Use:   "signoff REPORT --phase P --by NAME --key FILE",
		Short: "Sign a report for a phase into the QA sign-off ledger",
		Long: `signoff appends a signed line to the sign-off ledger (` + signoff.DefaultLedger + `):
the phase, REPORT's path and sha256, its verdict, NAME and the time, chained to
the line before. REPORT is a report.json written by harness run or diff; its
path is stored relative to --base (the repository root).

A report whose verdict is not PASS is refused (exit 2) unless --waive gives the
reason it is accepted anyway; the gate then lists it as a waiver. The ledger is
only ever appended to; a ledger whose chain is broken is refused.

Signing needs only the key; the gate trusts the line only if NAME and the key's
public half are in the signers file (` + signoff.DefaultSigners + `), so signoff warns
when they are not.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return badInput(fmt.Errorf("signoff needs one REPORT, got %d (see harness signoff --help)", len(args)))
			}
			var missing []string
			for _, f := range []struct{ flag, v string }{{"--phase", phase}, {"--by", by}, {"--key", keyPath}} {
				if f.v == "" {
					missing = append(missing, f.flag)
				}
			}
			if len(missing) > 0 {
				return badInput(fmt.Errorf("signoff needs %s", strings.Join(missing, ", ")))
			}
			phases, err := loadPhases(phasesPath)
			if err != nil {
				return badInput(err)
			}
			if _, err := phases.Phase(phase); err != nil {
				return badInput(fmt.Errorf("--phase: %w", err))
			}
			if !signoff.ValidName(by) {
				return badInput(fmt.Errorf("--by %q: want letters, digits and . _ @ + - (starting with a letter or digit)", by))
			}
			key, err := signoff.ReadPrivateKey(keyPath)
			if err != nil {
				return badInput(fmt.Errorf("--key: %w", err))
			}
			if fi, err := os.Stat(keyPath); err == nil && fi.Mode().Perm()&0o077 != 0 {
				signoffWarn(env, "%s is readable by others (mode %v); chmod 600 it", keyPath, fi.Mode().Perm())
			}
			rel, err := signoffReportPath(base, args[0])
			if err != nil {
				return badInput(err)
			}
			rep, err := signoff.ReadReport(filepath.Join(base, filepath.FromSlash(rel)))
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return badInput(fmt.Errorf("report %s: no such file under %s", rel, base))
				}
				return badInput(err)
			}
			waived := cmd.Flags().Changed("waive")
			switch {
			case waived && strings.TrimSpace(waive) == "":
				return badInput(errors.New("--waive needs a reason"))
			case rep.Verdict != signoff.VerdictPass && !waived:
				return badInput(fmt.Errorf("report %s has verdict %s: refusing to sign it; if QA accepts it anyway, sign it with --waive REASON", rel, rep.Verdict))
			case rep.Verdict == signoff.VerdictPass && waived:
				return badInput(fmt.Errorf("report %s has verdict PASS: --waive is only for FAIL or INCONCLUSIVE reports", rel))
			}
			warnUntrusted(env, signersPath, by, key.Public().(ed25519.PublicKey))

			e, err := signoff.Append(ledgerPath, signoff.Entry{
				Phase: phase, Report: rel, ReportSHA256: rep.SHA256, Verdict: rep.Verdict,
				Signer: by, Time: time.Now(), Waiver: waive,
			}, key)
			if err != nil {
				var cb *signoff.ChainBreak
				var np *signoff.NotPassError
				switch {
				case errors.As(err, &cb):
					return badInput(fmt.Errorf("%w; restore the ledger from version control, then sign again", err))
				case errors.As(err, &np):
					return badInput(err)
				}
				return &ExitError{Code: ExitInternal, Err: err}
			}
			line, err := signoff.EncodeLine(e)
			if err != nil {
				return &ExitError{Code: ExitInternal, Err: err}
			}
			fmt.Fprintf(env.Stdout, "signed %s (%s, sha256 %s) for phase %s as %s at %s\n",
				rel, rep.Verdict, e.ReportSHA256, e.Phase, e.Signer, e.Time.Format(time.RFC3339))
			if e.Waived() {
				fmt.Fprintf(env.Stdout, "WAIVED: %s\n", e.Waiver)
			}
			fmt.Fprintf(env.Stdout, "appended line %d to %s:\n%s", e.Index+1, ledgerPath, line)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&phase, "phase", "", "the phase the report is evidence for (see --phases)")
	f.StringVar(&by, "by", "", "signer name, as in the signers file")
	f.StringVar(&keyPath, "key", "", "the signer's private key file (from harness keygen)")
	f.StringVar(&ledgerPath, "ledger", signoff.DefaultLedger, "sign-off ledger to append to")
	f.StringVar(&waive, "waive", "", "sign a FAIL or INCONCLUSIVE report anyway, for this reason")
	f.StringVar(&signersPath, "signers", signoff.DefaultSigners, "trusted signers file (only to warn when NAME is not trusted)")
	f.StringVar(&phasesPath, "phases", gate.DefaultPhases, "phases file")
	f.StringVar(&base, "base", ".", "directory report paths are relative to (the repository root)")
	return cmd
}

// signoffReportPath turns the REPORT argument into the relative, slash-separated
// path stored in the ledger. An absolute path is accepted when it is under
// base.
func signoffReportPath(base, p string) (string, error) {
	if filepath.IsAbs(p) {
		absBase, err := filepath.Abs(base)
		if err != nil {
			return "", err
		}
		rel, err := filepath.Rel(absBase, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return "", fmt.Errorf("report %s is not under --base %s: the ledger stores paths relative to it", p, base)
		}
		p = rel
	}
	return signoff.CleanReportPath(p)
}

// warnUntrusted warns when the gate would not trust a sign-off by name with pub.
func warnUntrusted(env *Env, signersPath, name string, pub ed25519.PublicKey) {
	signers, err := signoff.LoadSigners(signersPath)
	if err != nil {
		signoffWarn(env, "cannot check that %s is a trusted signer: %v", name, err)
		return
	}
	sg, ok := signers.Lookup(name)
	switch {
	case !ok:
		signoffWarn(env, "%s is not in %s: the gate will not trust this sign-off until this line is added and committed:\n  %s",
			name, signersPath, signoff.SignerLine(name, pub))
	case !sg.Key.Equal(pub):
		signoffWarn(env, "this key is not %s's key in %s:%d: the gate will reject this sign-off as forged", name, signersPath, sg.Line)
	}
}

func signoffWarn(env *Env, format string, args ...any) {
	fmt.Fprintf(env.Stderr, "harness: warning: "+format+"\n", args...)
}
