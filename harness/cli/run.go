package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/thor-trading/cutover-harness/harness/report"
	"github.com/thor-trading/cutover-harness/harness/run"
	"github.com/thor-trading/cutover-harness/harness/scenario"
	"github.com/thor-trading/cutover-harness/harness/session"
	"github.com/thor-trading/cutover-harness/harness/stack"
)

func newRunCmd(env *Env) *cobra.Command {
	var out, speed, golden string
	cmd := &cobra.Command{
		Use:   "run SCENARIO.yaml",
		Short: "Replay a session into a stack, capture REST and WS, diff them and write a report",
		Long: `run replays the scenario's recorded session into its stack, polls the REST
endpoints and records every WS frame on several subscribers, diffs the two views
per feature and writes capture.jsonl, report.json and report.md into the run
directory (reports/<run-id>/ unless --out is given).

Exit codes: 0 PASS, 1 FAIL, 2 bad scenario or flags, 3 INCONCLUSIVE (missing
evidence, unreachable stack, interrupted run), 4 the harness failed.`,
		Args: exactArgs(1, "a scenario file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := scenario.Load(args[0])
			if err != nil {
				return badInput(err)
			}
			if speed != "" {
				s, err := scenario.ParseSpeed(speed)
				if err != nil {
					return badInput(fmt.Errorf("--speed: %w", err))
				}
				sc.Speed = s
			}
			if err := precheck(sc); err != nil {
				return badInput(err)
			}
			res, err := run.Run(env.Context, sc, run.Options{
				Dir: out, Commit: commit(), Progress: env.Stderr, Terminal: env.Terminal,
			})
			if err != nil {
				var se *scenario.Error
				if errors.As(err, &se) {
					return badInput(err)
				}
				return &ExitError{Code: ExitInternal, Err: err}
			}
			if golden != "" {
				if golden == "auto" {
					golden = run.GoldenPath(sc)
				}
				n, err := run.RecordGolden(sc, res.Dir, golden, res.Report.Verdict)
				if err != nil {
					fmt.Fprintf(env.Stderr, "harness: golden expectations not recorded: %v\n", err)
				} else {
					fmt.Fprintf(env.Stdout, "golden: %d REST bodies recorded in %s\n", n, golden)
				}
			}
			return finish(env, res.Report, res.Dir)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "run directory (default reports/<run-id>)")
	cmd.Flags().StringVar(&speed, "speed", "", "override the scenario's speed: max, 1x, 10x, 0.5x")
	cmd.Flags().StringVar(&golden, "record-golden", "", "after a PASS run, record its REST bodies as golden expectations for cleanup scenarios (default file: next to the session, SESSION.golden.jsonl)")
	cmd.Flags().Lookup("record-golden").NoOptDefVal = "auto"
	return cmd
}

// precheck finds bad input a run would only meet once it is under way,
// before it starts anything or creates its run directory: a session that
// does not read to its end (the replay would fail halfway and call the run
// INCONCLUSIVE), an embedded stack's configuration the reference stack
// rejects.
func precheck(sc *scenario.Scenario) error {
	if sc.Stack.Kind == scenario.StackEmbedded {
		if _, err := stack.EmbeddedConfig(sc); err != nil {
			return err
		}
	}
	if sc.Driver.Kind != scenario.DriverHTTP {
		return nil
	}
	path := sc.Path(sc.Session)
	f, err := os.Open(path)
	if err != nil {
		return sc.Errorf("session", "cannot read %s: %v", path, err)
	}
	defer f.Close()
	problems := session.Validate(f, path)
	if len(problems) == 0 {
		return nil
	}
	const shown = 5
	var b strings.Builder
	fmt.Fprintf(&b, "%s (the scenario's session, %s:%d) cannot be replayed:", path, sc.File, sc.Line("session"))
	for i, p := range problems {
		if i == shown {
			fmt.Fprintf(&b, "\n  ... %d more", len(problems)-shown)
			break
		}
		fmt.Fprintf(&b, "\n  %s", p)
	}
	fmt.Fprintf(&b, "\nfix the session or name another; harness session validate %s lists every problem", path)
	return errors.New(b.String())
}

// finish prints a report's summary and where it is, and turns its verdict
// into the exit code.
func finish(env *Env, rep *report.Report, dir string) error {
	fmt.Fprint(env.Stdout, rep.Summary())
	fmt.Fprintf(env.Stdout, "report: %s/report.html (also report.md, report.json, junit.xml)\n", dir)
	if code := report.ExitCode(rep.Verdict); code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// commit is the harness's git commit, when it runs from a checkout.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// exactArgs is cobra.ExactArgs with a message that says what is missing.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < n:
			return badInput(fmt.Errorf("%s needs %s (see %s --help)", cmd.CommandPath(), what, cmd.CommandPath()))
		case len(args) > n:
			return badInput(fmt.Errorf("%s needs %s, got %d arguments: %q (see %s --help)", cmd.CommandPath(), what, len(args), args, cmd.CommandPath()))
		}
		return nil
	}
}
