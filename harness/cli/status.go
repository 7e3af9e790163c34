package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/thor-trading/cutover-harness/harness/gate"
	"github.com/thor-trading/cutover-harness/harness/scenario"
	"github.com/thor-trading/cutover-harness/harness/signoff"
)

// featureStatus is one line of `harness status`.
type featureStatus struct {
	Feature string `json:"feature"`
	// Phase is the furthest phase of this feature with a valid sign-off
	// ("" when none, not even shadow).
	Phase string `json:"phase"`
	// Flag is what the stack's /api/features says (nil without --stack).
	Flag *bool `json:"flag,omitempty"`
	// SignOff is that phase's sign-off.
	SignOff *gate.SignOff `json:"signoff,omitempty"`
	// Next is the phase this feature moves to next, and Blocked why it
	// may not start yet.
	Next    string   `json:"next,omitempty"`
	Blocked []string `json:"blocked,omitempty"`
	// Invalid lists sign-offs of this feature's phases that no longer hold
	// (report changed or missing, signer no longer trusted, ...).
	Invalid []string `json:"invalid,omitempty"`
}

type statusOut struct {
	Features []featureStatus `json:"features"`
	Waivers  []gate.Waiver   `json:"waivers,omitempty"`
	Ledger   []string        `json:"ledger_problems,omitempty"`
	Stack    string          `json:"stack,omitempty"`
	StackErr string          `json:"stack_error,omitempty"`
}

func newStatusCmd(env *Env) *cobra.Command {
	var phasesPath, ledgerPath, signersPath, base, stackURL string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show, per feature, its signed-off phase, the stack's flag and what blocks the next phase",
		Long: `status reads the phases file, the sign-off ledger and the trusted signers and
prints, per feature: the furthest phase that has a valid sign-off (shadow,
cutover/<feature>, cleanup/<feature>, complete), the verdict and signer of that
sign-off, the next phase and what keeps it from starting. With --stack URL it
also asks the stack's /api/features which WS_FEATURE_* flags are on. Waivers
are listed every time. --json prints the same as JSON.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			phases, err := loadPhases(phasesPath)
			if err != nil {
				return badInput(err)
			}
			signers, err := signoff.LoadSigners(signersPath)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return badInput(err)
			}
			ledger, err := signoff.ReadLedger(ledgerPath)
			if err != nil {
				return badInput(err)
			}
			g := &gate.Gate{Phases: phases, Ledger: ledger, Signers: signers, BaseDir: base}
			out := statusOut{Stack: stackURL}
			var flags map[string]bool
			if stackURL != "" {
				if flags, err = readFlags(env.Context, stackURL); err != nil {
					out.StackErr = err.Error()
				}
			}
			signed := map[string]gate.Prerequisite{}
			for _, p := range phases {
				pr := g.SignedOff(p.Name)
				signed[p.Name] = pr
				if pr.Satisfied && pr.SignOff.Waiver != "" {
					out.Waivers = append(out.Waivers, gate.Waiver{Phase: p.Name, Line: pr.SignOff.Line, Signer: pr.SignOff.Signer,
						Report: pr.SignOff.Report, Verdict: pr.SignOff.Verdict, Reason: pr.SignOff.Waiver})
				}
			}
			if ledger.Break != nil {
				out.Ledger = append(out.Ledger, ledger.Break.Error())
			}
			for _, f := range scenario.ThorFeatures {
				st := featureStatus{Feature: f}
				if on, ok := flags[f]; ok {
					st.Flag = &on
				}
				for _, p := range phases {
					if !phaseOf(p.Name, f) {
						continue
					}
					pr := signed[p.Name]
					if pr.Satisfied {
						st.Phase, st.SignOff = p.Name, pr.SignOff
						continue
					}
					if pr.SignOff != nil {
						for _, r := range pr.Reasons {
							st.Invalid = append(st.Invalid, fmt.Sprintf("sign-off of %s does not hold: %s", p.Name, r.Message))
						}
					}
					if st.Next == "" {
						st.Next = p.Name
						res, err := g.Check(p.Name)
						if err == nil {
							for _, u := range res.Unsatisfied() {
								for _, r := range u.Reasons {
									st.Blocked = append(st.Blocked, r.Message)
								}
							}
							st.Blocked = append(st.Blocked, reasonsText(res.LedgerProblems)...)
						}
					}
				}
				out.Features = append(out.Features, st)
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			printStatus(env.Stdout, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&phasesPath, "phases", gate.DefaultPhases, "phases file")
	f.StringVar(&ledgerPath, "ledger", signoff.DefaultLedger, "sign-off ledger")
	f.StringVar(&signersPath, "signers", signoff.DefaultSigners, "trusted signers file")
	f.StringVar(&base, "base", ".", "directory the ledger's report paths are relative to")
	f.StringVar(&stackURL, "stack", "", "REST base URL of a stack whose /api/features to show")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// phaseOf reports whether phase concerns feature: shadow and complete
// concern every feature, cutover/<f> and cleanup/<f> only f.
func phaseOf(phase, feature string) bool {
	_, f, ok := strings.Cut(phase, "/")
	return !ok || f == feature
}

func reasonsText(rs []gate.Reason) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Message)
	}
	return out
}

func readFlags(ctx context.Context, base string) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	url := strings.TrimRight(base, "/") + "/api/features"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	var flags map[string]bool
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&flags); err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return flags, nil
}

func printStatus(w io.Writer, out statusOut) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FEATURE\tPHASE\tFLAG\tVERDICT\tSIGNED OFF\tNEXT")
	for _, f := range out.Features {
		phase, flag, verdict, by := "not started", "?", "-", "-"
		if f.Phase != "" {
			phase = f.Phase
		}
		if f.Flag != nil {
			flag = map[bool]string{true: "on", false: "off"}[*f.Flag]
		}
		if s := f.SignOff; s != nil {
			verdict = s.Verdict
			if s.Waiver != "" {
				verdict += " (waived)"
			}
			by = fmt.Sprintf("%s %s (line %d)", s.Signer, s.Time.Format("2006-01-02"), s.Line)
		}
		next := f.Next
		if next == "" {
			next = "-"
		} else if len(f.Blocked) > 0 {
			next += " (blocked)"
		} else {
			next += " (may start)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Feature, phase, flag, verdict, by, next)
	}
	tw.Flush()
	if out.StackErr != "" {
		fmt.Fprintf(w, "\nstack %s: %s\n", out.Stack, out.StackErr)
	}
	for _, wv := range out.Waivers {
		fmt.Fprintf(w, "\nwaiver: %s signed by %s over a %s report (%s): %s", wv.Phase, wv.Signer, wv.Verdict, wv.Report, wv.Reason)
	}
	if len(out.Waivers) > 0 {
		fmt.Fprintln(w)
	}
	for _, p := range out.Ledger {
		fmt.Fprintf(w, "\nledger: %s\n", p)
	}
	for _, f := range out.Features {
		for _, b := range f.Invalid {
			fmt.Fprintf(w, "%s: %s\n", f.Feature, b)
		}
		for _, b := range f.Blocked {
			fmt.Fprintf(w, "%s → %s blocked: %s\n", f.Feature, f.Next, b)
		}
	}
}
