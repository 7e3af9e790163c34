package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit codes of the harness.
const (
	ExitPass         = 0
	ExitFail         = 1
	ExitBadInput     = 2
	ExitInconclusive = 3
	ExitInternal     = 4
)

// Env is everything a command may touch of its process.
type Env struct {
	Args   []string // without the program name
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Terminal reports whether Stderr is a terminal (progress lines redraw in
	// place there; CI gets plain periodic lines).
	Terminal bool
	// Context is cancelled on SIGINT/SIGTERM.
	Context context.Context
}

// OSEnv is the Env of the running process.
func OSEnv() *Env {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	ctx := stopOnSignals(sig, os.Stderr, os.Exit)
	return &Env{
		Args:     os.Args[1:],
		Stdin:    os.Stdin,
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Getenv:   os.Getenv,
		Terminal: term.IsTerminal(int(os.Stderr.Fd())) && os.Getenv("CI") == "",
		Context:  ctx,
	}
}

// ExitForced is the exit code of a second interrupt (128 + SIGINT).
const ExitForced = 130

// stopOnSignals returns a context cancelled by the first signal on sig: the
// command stops and writes what it has (a partial report marked
// INCOMPLETE). A second signal exits at once through exit, for a user who
// will not wait for that; the capture on disk stays readable by
// `harness diff`.
func stopOnSignals(sig <-chan os.Signal, stderr io.Writer, exit func(int)) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		s := <-sig
		fmt.Fprintf(stderr, "harness: %v: stopping, writing what was captured (again to exit at once)\n", s)
		cancel()
		s = <-sig
		fmt.Fprintf(stderr, "harness: %v again: exiting now, without a report; the capture so far stays readable by harness diff; harness stack down --all removes a containers stack left up\n", s)
		exit(ExitForced)
	}()
	return ctx
}

// ExitError carries an exit code out of a command.
type ExitError struct {
	Code int
	Err  error // may be nil when the command already printed why
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// badInput marks err as bad input or configuration (exit 2).
func badInput(err error) error { return &ExitError{Code: ExitBadInput, Err: err} }

// Main runs the harness command line and returns the process exit code.
func Main(env *Env) int {
	if env.Context == nil {
		env.Context = context.Background()
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	root := newRoot(env)
	root.SetArgs(env.Args)
	err := root.ExecuteContext(env.Context)
	if err == nil {
		return ExitPass
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintln(env.Stderr, "harness:", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintln(env.Stderr, "harness:", err)
	// cobra's own argument and flag errors are usage errors.
	return ExitBadInput
}

func newRoot(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "harness",
		Short: "Evidence for moving a trading dashboard from REST polling to WebSocket push",
		Long: `harness replays recorded market sessions into a trading stack, captures its
REST polls and WebSocket frames side by side, diffs them per feature, load-tests
the broadcast path and writes sign-off reports that gate each cutover phase.

Exit codes: 0 PASS, 1 FAIL, 2 bad input or configuration, 3 INCONCLUSIVE,
4 the harness itself failed, 130 a second Ctrl-C (exit at once).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// A flag cobra cannot parse is bad input; say where the flags are.
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return badInput(fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
	})
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetIn(env.Stdin)
	root.AddCommand(
		// Commands are added here, one constructor per file: newXxxCmd(env).
		newSessionCmd(env),
		newKeygenCmd(env), newSignoffCmd(env), newGateCmd(env),
		newRunCmd(env),
		newDiffCmd(env),
		newStatusCmd(env),
		newLoadCmd(env),
		newStackCmd(env),
	)
	return root
}
