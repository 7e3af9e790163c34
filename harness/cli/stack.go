package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/thor-trading/cutover-harness/harness/scenario"
	"github.com/thor-trading/cutover-harness/harness/stack"
)

// DefaultStackState is where `harness stack up` records the stack it
// brought up, for `harness stack down`.
const DefaultStackState = "reports/stack/state.json"

// stackState is the state file.
type stackState struct {
	Scenario string    `json:"scenario"`
	Started  time.Time `json:"started"`
	stack.ContainersInfo
}

func newStackCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "stack",
		Short: "Bring a scenario's containers stack up by hand, and down again",
		Long: `stack up brings up the containers stack a scenario describes (Redis and its
replicas, from images built here: make images), waits until every replica is
ready, prints the REST and WS URLs and writes a state file; the stack keeps
running after the command returns. stack down removes it: its containers, its
network and any image built for it.

Exit codes: 0 done, 2 bad scenario, flags or state file, 4 Docker failed.`,
	}
	cmd.AddCommand(newStackUpCmd(env), newStackDownCmd(env))
	return cmd
}

func newStackUpCmd(env *Env) *cobra.Command {
	var state string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "up SCENARIO.yaml",
		Short: "Bring up the scenario's containers stack and leave it running",
		Args:  exactArgs(1, "a scenario file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := scenario.Load(args[0])
			if err != nil {
				return badInput(err)
			}
			if sc.Stack.Kind != scenario.StackContainers {
				return badInput(sc.Errorf("stack.kind", "%q: harness stack up brings up containers stacks (stack.kind: containers)", sc.Stack.Kind))
			}
			if _, err := os.Stat(state); err == nil {
				return badInput(fmt.Errorf("%s exists: a stack is up already (harness stack down --state %s), or name another --state", state, state))
			}
			if err := os.MkdirAll(filepath.Dir(state), 0o755); err != nil {
				return badInput(err)
			}
			st, err := stack.StartContainers(env.Context, sc, stack.ContainersOptions{})
			if err != nil {
				var se *scenario.Error
				if errors.As(err, &se) {
					return badInput(err)
				}
				return &ExitError{Code: ExitInternal, Err: err}
			}
			info := st.Info()
			b, err := json.MarshalIndent(stackState{Scenario: args[0], Started: time.Now().UTC(), ContainersInfo: info}, "", "  ")
			if err == nil {
				err = os.WriteFile(state, append(b, '\n'), 0o644)
			}
			if err != nil {
				st.Close()
				return &ExitError{Code: ExitInternal, Err: fmt.Errorf("writing %s: %w (the stack was removed)", state, err)}
			}
			st.Detach()
			if asJSON {
				fmt.Fprintf(env.Stdout, "%s\n", b)
				return nil
			}
			fmt.Fprintf(env.Stdout, "stack %s up: %s\n", info.ID, st.Describe())
			fmt.Fprintf(env.Stdout, "rest  %s\nws    %s\n", info.REST, info.WS)
			for i, r := range info.Replicas {
				fmt.Fprintf(env.Stdout, "replica %d  %s  rest %s  ws %s", i, r.Name, r.REST, r.WS)
				for p, hp := range r.Ports {
					fmt.Fprintf(env.Stdout, "  %s→%s", p, hp)
				}
				fmt.Fprintln(env.Stdout)
			}
			if info.Redis != "" {
				fmt.Fprintf(env.Stdout, "redis %s (%s inside network %s)\n", info.Redis, stack.RedisURL, info.Network)
			}
			fmt.Fprintf(env.Stdout, "state %s (harness stack down --state %s removes it)\n", state, state)
			return nil
		},
	}
	cmd.Flags().StringVar(&state, "state", DefaultStackState, "state file naming the stack, for stack down")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the state (URLs, containers) as JSON instead")
	return cmd
}

func newStackDownCmd(env *Env) *cobra.Command {
	var state string
	var all bool
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Remove the stack stack up brought up (its containers, network and built image)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := ""
			if !all {
				b, err := os.ReadFile(state)
				if errors.Is(err, fs.ErrNotExist) {
					return badInput(fmt.Errorf("%s does not exist: no stack is up (or name its --state; --all removes every stack the harness started)", state))
				}
				if err != nil {
					return badInput(err)
				}
				var s stackState
				if err := json.Unmarshal(b, &s); err != nil || s.ID == "" {
					return badInput(fmt.Errorf("%s is not a stack state file (%v)", state, err))
				}
				id = s.ID
			}
			ctx, cancel := context.WithTimeout(context.WithoutCancel(env.Context), 2*time.Minute)
			defer cancel()
			if err := stack.RemoveStack(ctx, id); err != nil {
				return &ExitError{Code: ExitInternal, Err: err}
			}
			if err := os.Remove(state); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return &ExitError{Code: ExitInternal, Err: err}
			}
			if all {
				fmt.Fprintln(env.Stdout, "removed every containers stack the harness started")
			} else {
				fmt.Fprintf(env.Stdout, "stack %s removed\n", id)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&state, "state", DefaultStackState, "state file stack up wrote")
	cmd.Flags().BoolVar(&all, "all", false, "remove every containers stack the harness started (by label), state file or not")
	return cmd
}
