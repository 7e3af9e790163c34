package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thor-trading/cutover-harness/harness/gate"
	"github.com/thor-trading/cutover-harness/harness/signoff"
)

func newGateCmd(env *Env) *cobra.Command {
	var phase, phasesPath, ledgerPath, signersPath, base string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "gate --phase P",
		Short: "Tell whether a phase may start: exit 0 only if its prerequisites are signed off",
		Long: `gate checks each phase that P requires (in the phases file, directly, not
transitively): its latest trusted sign-off in the ledger must be by a signer in
the signers file, with a valid signature, before any break of the ledger's hash
chain, of a report that still exists unchanged (same sha256) and is PASS or was
signed with a waiver. A broken ledger chain fails every gate.

Exit codes: 0 the phase may start, 1 it may not (every reason is printed),
2 bad input (unknown phase, unreadable phases or signers file).
--json prints the result as JSON on stdout instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			phases, err := loadPhases(phasesPath)
			if err != nil {
				return badInput(err)
			}
			if phase == "" {
				return badInput(fmt.Errorf("gate needs --phase (known: %s)", strings.Join(phases.Names(), ", ")))
			}
			if _, err := phases.Phase(phase); err != nil {
				return badInput(err)
			}
			signers, err := signoff.LoadSigners(signersPath)
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return badInput(fmt.Errorf("signers file %s does not exist: it lists the trusted QA keys (see harness keygen)", signersPath))
				}
				return badInput(err)
			}
			ledger, err := signoff.ReadLedger(ledgerPath)
			if err != nil {
				return badInput(err)
			}
			g := &gate.Gate{Phases: phases, Ledger: ledger, Signers: signers, BaseDir: base}
			res, err := g.Check(phase)
			if err != nil {
				return badInput(err)
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return &ExitError{Code: ExitInternal, Err: err}
				}
			} else {
				printGate(env.Stdout, res)
			}
			if !res.OK {
				return &ExitError{Code: ExitFail, Err: fmt.Errorf("phase %s may not start", phase)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&phase, "phase", "", "the phase that wants to start")
	f.StringVar(&phasesPath, "phases", gate.DefaultPhases, "phases file")
	f.StringVar(&ledgerPath, "ledger", signoff.DefaultLedger, "sign-off ledger")
	f.StringVar(&signersPath, "signers", signoff.DefaultSigners, "trusted signers file")
	f.StringVar(&base, "base", ".", "directory report paths in the ledger are relative to (the repository root)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// printGate writes the result for people: the answer, then each
// prerequisite with every reason.
func printGate(w io.Writer, res gate.Result) {
	answer := "may start"
	if !res.OK {
		answer = "may NOT start"
	}
	fmt.Fprintf(w, "phase %s %s\n", res.Phase, answer)
	for _, r := range res.LedgerProblems {
		fmt.Fprintf(w, "  ledger: %s\n", r.Message)
	}
	if len(res.Requires) == 0 {
		fmt.Fprintf(w, "  (no prerequisites)\n")
	}
	for _, p := range res.Requires {
		if p.Satisfied {
			s := p.SignOff
			fmt.Fprintf(w, "  ok   %s: %s %s, signed by %s at %s (ledger line %d)\n",
				p.Phase, s.Report, s.Verdict, s.Signer, s.Time.Format(time.RFC3339), s.Line)
		} else {
			fmt.Fprintf(w, "  FAIL %s:\n", p.Phase)
		}
		for _, r := range p.Reasons {
			fmt.Fprintf(w, "         - %s\n", r.Message)
		}
		for _, r := range p.Ignored {
			fmt.Fprintf(w, "         ignored: %s\n", r.Message)
		}
	}
	for _, wv := range res.Waivers {
		fmt.Fprintf(w, "  waiver %s: %s report %s accepted by %s (ledger line %d): %s\n",
			wv.Phase, wv.Verdict, wv.Report, wv.Signer, wv.Line, wv.Reason)
	}
}

// loadPhases is gate.LoadPhases with a message that says what to do when
// the file cannot be read at all.
func loadPhases(path string) (gate.Phases, error) {
	phases, err := gate.LoadPhases(path)
	var pe *fs.PathError
	switch {
	case err == nil:
		return phases, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("phases file %s does not exist: name it with --phases (default %s, relative to the repository root)", path, gate.DefaultPhases)
	case errors.As(err, &pe):
		return nil, fmt.Errorf("phases file %s cannot be read (%v): name a phases file with --phases", path, pe.Err)
	}
	return nil, err
}
