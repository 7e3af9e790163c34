package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thor-trading/cutover-harness/harness/load"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

func newLoadCmd(env *Env) *cobra.Command {
	var (
		out, shard, duration string
		subscribers          int
		rate                 float64
		noBaseline           bool
	)
	cmd := &cobra.Command{
		Use:   "load SCENARIO.yaml",
		Short: "Load-test the broadcast path: paced ingest, many WS subscribers, a REST baseline",
		Long: `load runs the scenario's load section against its stack (the embedded
reference stack unless the scenario names another): vegeta paces events into
the ingest endpoint, N WebSocket subscribers time every event's message (HDR
histograms: p50, p90, p99, p99.9, max), count loss, duplicates, out-of-order
deliveries, connect failures and disconnects, and the same number of
dashboards' REST polling runs first as a baseline. With load.step it raises
subscribers or rate until a threshold breaks and names the capacity.

It writes result.json (with encoded histograms, mergeable) and result.md into
--out (default reports/<id>-load/) and prints a summary. The harness watches
its own CPU: a saturated load generator gives INCONCLUSIVE, not a verdict about
the stack. Traffic goes only to loopback or hosts listed in load.allow_hosts.
Ctrl-C stops promptly and still writes the (incomplete) result.

--shard i/n runs this host's share of subscribers and rate; merge the shards'
result.json files with "harness load merge".

Exit codes: 0 PASS, 1 FAIL, 2 bad scenario or flags, 3 INCONCLUSIVE
(interrupted, saturated generator, too little evidence), 4 the harness failed.`,
		Example: `  harness load scenarios/load.yaml
  harness load scenarios/load-capacity.yaml --out reports/capacity
  harness load scenarios/load.yaml --shard 1/2 --out shard1   # on host A
  harness load scenarios/load.yaml --shard 2/2 --out shard2   # on host B
  harness load merge shard1/result.json shard2/result.json --out merged.json`,
		Args: exactArgs(1, "a scenario file with a load section"),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := scenario.Load(args[0])
			if err != nil {
				return badInput(err)
			}
			if sc.Load == nil {
				return badInput(sc.Errorf("load", "missing: %s has no load section (see scenarios/load.yaml)", args[0]))
			}
			opt := load.Options{Progress: env.Stderr}
			if shard != "" {
				if opt.Shard, err = load.ParseShard(shard); err != nil {
					return badInput(fmt.Errorf("--shard: %w", err))
				}
			}
			if err := overrideLoad(cmd, sc, subscribers, rate, duration, noBaseline); err != nil {
				return badInput(err)
			}
			dir := out
			if dir == "" {
				dir = filepath.Join("reports", loadID(sc.Name)+"-load")
				if opt.Shard.Count > 1 {
					dir += fmt.Sprintf("-shard-%d-of-%d", opt.Shard.Index+1, opt.Shard.Count)
				}
			}
			res, err := load.Run(env.Context, sc, opt)
			if err != nil {
				var se *scenario.Error
				if errors.As(err, &se) {
					return badInput(err)
				}
				return &ExitError{Code: ExitInternal, Err: err}
			}
			if err := res.WriteDir(dir); err != nil {
				return &ExitError{Code: ExitInternal, Err: fmt.Errorf("writing the result: %w", err)}
			}
			return finishLoad(env, res, filepath.Join(dir, load.ResultJSON), filepath.Join(dir, load.ResultMarkdown))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "out", "o", "", "result directory (default reports/<id>-load)")
	f.StringVar(&shard, "shard", "", "run shard i of n (1-based), e.g. 1/2")
	f.IntVar(&subscribers, "subscribers", 0, "override load.subscribers")
	f.Float64Var(&rate, "rate", 0, "override load.rate (events/s)")
	f.StringVar(&duration, "duration", "", "override load.duration, e.g. 30s")
	f.BoolVar(&noBaseline, "no-baseline", false, "skip the REST polling baseline")
	cmd.AddCommand(newLoadMergeCmd(env))
	return cmd
}

// overrideLoad applies the command line's overrides to the load section,
// within its bounds. A default derived from an overridden value follows it.
func overrideLoad(cmd *cobra.Command, sc *scenario.Scenario, subscribers int, rate float64, duration string, noBaseline bool) error {
	l := sc.Load
	if cmd.Flags().Changed("subscribers") {
		if subscribers < 1 || subscribers > scenario.MaxLoadSubscribers {
			return fmt.Errorf("--subscribers %d: want 1 to %d", subscribers, scenario.MaxLoadSubscribers)
		}
		l.Subscribers = subscribers
		if sc.Line("load.baseline.dashboards") == 0 {
			l.Baseline.Dashboards = subscribers
		}
		if l.Step != nil && l.Step.Vary == scenario.VarySubscribers && sc.Line("load.step.start") == 0 {
			l.Step.Start = float64(subscribers)
		}
	}
	if cmd.Flags().Changed("rate") {
		if !(rate > 0) || rate > scenario.MaxLoadRate {
			return fmt.Errorf("--rate %v: want more than 0 and at most %d events/s", rate, scenario.MaxLoadRate)
		}
		if l.Pacer == scenario.PacerSine && l.Amplitude >= rate {
			return fmt.Errorf("--rate %v: the sine pacer's amplitude (%v) must stay below the rate", rate, l.Amplitude)
		}
		l.Rate = rate
		if l.Step != nil && l.Step.Vary == scenario.VaryRate && sc.Line("load.step.start") == 0 {
			l.Step.Start = rate
		}
	}
	if duration != "" {
		d, err := time.ParseDuration(duration)
		if err != nil || d < 100*time.Millisecond || d > scenario.MaxLoadDuration {
			return fmt.Errorf("--duration %q: want a duration from 100ms to %s, e.g. 30s", duration, scenario.MaxLoadDuration)
		}
		l.Duration = scenario.Duration(d)
	}
	if noBaseline {
		off := false
		l.Baseline.Enabled = &off
	}
	return nil
}

func newLoadMergeCmd(env *Env) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge RESULT.json... --out MERGED.json",
		Short: "Combine the result.json files of a sharded load test",
		Long: `merge combines the shards' result.json files into the test's result: counts
add, HDR histograms merge exactly, each rate is the sum of the shards' rates
(each over its own measured duration), and the thresholds are evaluated again
on the totals. It writes MERGED.json and, next to it, the Markdown (.md) and
prints the summary.

Exit codes: 0 PASS, 1 FAIL, 2 unreadable or mismatched results, 3 INCONCLUSIVE.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return badInput(fmt.Errorf("%s needs the shards' result.json files", cmd.CommandPath()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return badInput(errors.New("--out MERGED.json is required"))
			}
			var rs []*load.Result
			for _, a := range args {
				r, err := load.ReadResult(a)
				if err != nil {
					return badInput(err)
				}
				rs = append(rs, r)
			}
			merged, err := load.Merge(rs...)
			if err != nil {
				return badInput(err)
			}
			md := strings.TrimSuffix(out, filepath.Ext(out)) + ".md"
			if err := merged.WriteJSON(out); err != nil {
				return &ExitError{Code: ExitInternal, Err: err}
			}
			if err := os.WriteFile(md, []byte(merged.Markdown()), 0o644); err != nil {
				return &ExitError{Code: ExitInternal, Err: err}
			}
			return finishLoad(env, merged, out, md)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "merged result file (JSON; the Markdown goes next to it)")
	return cmd
}

// finishLoad prints a load result's summary and where it is, and turns its
// verdict into the exit code.
func finishLoad(env *Env, res *load.Result, jsonPath, mdPath string) error {
	fmt.Fprint(env.Stdout, res.Summary())
	fmt.Fprintf(env.Stdout, "result: %s (json: %s)\n", mdPath, jsonPath)
	if code := res.ExitCode(); code != 0 {
		return &ExitError{Code: code}
	}
	return nil
}

// loadID names a load test's result directory: time, scenario, a random tag.
func loadID(name string) string {
	b := make([]byte, 2)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102-150405") + "-" + name + "-" + hex.EncodeToString(b)
}
