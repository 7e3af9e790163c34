package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/thor-trading/cutover-harness/harness/refstack"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailed   = 1 // the server could not start or failed while serving
	exitBadInput = 2 // bad flags, environment or fault SPEC
)

// env is everything the command touches of its process, so tests run it
// in-process.
type env struct {
	args    []string
	stdout  io.Writer
	stderr  io.Writer
	getenv  func(string) string
	ctx     context.Context // cancelled on SIGINT/SIGTERM
	started func(*refstack.Server)
}

func osEnv() *env {
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return &env{args: os.Args[1:], stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, ctx: ctx}
}

type badInput struct{ error }

func (e badInput) Unwrap() error { return e.error }

// featureFlagNames maps each feature to its --feature-* flag.
var featureFlagNames = map[refstack.Feature]string{
	refstack.AccountBalance: "feature-account-balance",
	refstack.Positions:      "feature-positions",
	refstack.IntradayBars:   "feature-intraday-bars",
	refstack.GlobalMarket:   "feature-global-market",
}

const long = `thorstack serves the reference trading stack: the Go stand-in for the
dashboard backend that the cutover harness verifies. It derives account
balances, positions, 1-minute bars and market status from session events and
serves them over REST and one WebSocket, all JSON, every body and message
carrying "seq" (the last session event applied).

Endpoints:
  GET  /api/account/balance           {"seq":N,"data":[balance...]}
  GET  /api/positions                 {"seq":N,"data":[position...]}
  GET  /api/intraday/bars?symbol=ES   {"seq":N,"data":[closed bar...]} (all symbols without ?symbol)
  GET  /api/global-markets/status     {"seq":N,"data":[market...]}
  GET  /api/features                  the four feature flags
  GET  /healthz                       200 ok
  GET  /ws/dashboard/                 WebSocket: {"type":T,"seq":N,"data":{item}} per changed item,
                                      T in account_balance, positions, intraday_bar, market_status,
                                      plus {"type":"heartbeat","seq":N,"ts":...} every --heartbeat
  POST /__replay/events               only with --replay: a JSON array of thor-session/v1 lines
                                      (a header line resets the state); answers {"applied":N,"seq":S}

--redis URL shares broadcasts with other replicas through Redis pub/sub, as
channels_redis does for Channels workers: the replica that ingests applies the
events and publishes them; every replica applies them and broadcasts to its own
WS clients, so every replica's REST and seq are the same. A replica that missed
messages (Redis down) catches up silently; its clients lose those messages.
/healthz answers 503 until the layer is subscribed.

Feature flags (reported by /api/features; broadcasts flow regardless, as in
shadow mode) come from the environment, overridden by --feature-* flags:
  WS_FEATURE_ACCOUNT_BALANCE   --feature-account-balance
  WS_FEATURE_POSITIONS         --feature-positions
  WS_FEATURE_INTRADAY          --feature-intraday-bars
  WS_FEATURE_GLOBAL_MARKET     --feature-global-market
Values: true/false, 1/0, yes/no, on/off.

--rest-removed takes a comma-separated list of features whose REST endpoint
answers 410 Gone (the cleanup phase): account_balance, positions,
intraday_bars, global_market.

--faults SPEC switches on fault modes that imitate bugs, for showing that the
harness catches them. ` + refstack.FaultsHelp + `

Exit codes: 0 stopped cleanly (SIGINT/SIGTERM), 1 could not serve,
2 bad flags, environment or SPEC.`

const examples = `  thorstack --replay
  thorstack --replay --addr 127.0.0.1:9000 --faults positions:drop=0.05,global_market:delay=2s
  WS_FEATURE_POSITIONS=true thorstack --rest-removed account_balance --feature-account-balance`

func run(e *env) int {
	if e.ctx == nil {
		e.ctx = context.Background()
	}
	if e.getenv == nil {
		e.getenv = func(string) string { return "" }
	}
	cmd := newCommand(e)
	cmd.SetArgs(e.args)
	err := cmd.ExecuteContext(e.ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(e.stderr, "thorstack:", err)
	var bad badInput
	if errors.As(err, &bad) || !errors.As(err, new(serveError)) {
		return exitBadInput // ours, or cobra's own flag errors
	}
	return exitFailed
}

type serveError struct{ error }

func (e serveError) Unwrap() error { return e.error }

func newCommand(e *env) *cobra.Command {
	var (
		cfg         refstack.Config
		faults      string
		removed     string
		heartbeat   time.Duration
		featureFlag = map[refstack.Feature]*bool{}
	)
	cmd := &cobra.Command{
		Use:           "thorstack [flags]",
		Short:         "The reference trading stack for the cutover harness",
		Long:          long,
		Example:       examples,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Faults, err = refstack.ParseFaults(faults); err != nil {
				return badInput{fmt.Errorf("--faults: %w", err)}
			}
			if cfg.RESTRemoved, err = refstack.ParseFeatureList(removed); err != nil {
				return badInput{fmt.Errorf("--rest-removed: %w", err)}
			}
			if cfg.Flags, err = refstack.FlagsFromEnv(e.getenv); err != nil {
				return badInput{err}
			}
			for f, name := range featureFlagNames {
				if cmd.Flags().Changed(name) {
					cfg.Flags.Set(f, *featureFlag[f])
				}
			}
			switch {
			case heartbeat < 0:
				return badInput{fmt.Errorf("--heartbeat %v: want a positive duration, or 0 for none", heartbeat)}
			case heartbeat == 0:
				cfg.Heartbeat = -1
			default:
				cfg.Heartbeat = heartbeat
			}
			if cfg.QueueSize <= 0 {
				return badInput{fmt.Errorf("--queue-size %d: want a positive size", cfg.QueueSize)}
			}
			return serve(cmd.Context(), e, cfg)
		},
	}
	cmd.SetOut(e.stdout)
	cmd.SetErr(e.stderr)
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&cfg.Addr, "addr", "127.0.0.1:8000", "listen address (host:port; port 0 picks a free one)")
	fl.BoolVar(&cfg.Replay, "replay", false, "expose POST /__replay/events (ingest of session lines)")
	fl.StringVar(&faults, "faults", "", "fault modes, `SPEC` = feature:mode[=param],... (see above)")
	fl.StringVar(&removed, "rest-removed", "", "features whose REST endpoint answers 410 Gone (comma-separated)")
	fl.BoolVar(&cfg.NoSeq, "no-seq", false, `leave "seq" out of every body and message`)
	for _, f := range refstack.Features {
		featureFlag[f] = fl.Bool(featureFlagNames[f], false, fmt.Sprintf("report the %s flag on (overrides %s)", f, f.EnvVar()))
	}
	fl.DurationVar(&heartbeat, "heartbeat", refstack.DefaultHeartbeat, "WS heartbeat period (0: none)")
	fl.IntVar(&cfg.QueueSize, "queue-size", refstack.DefaultQueueSize, "frames queued per WS client before it is cut off as slow")
	fl.Int64Var(&cfg.Seed, "seed", 0, "seed of the drop and duplicate faults")
	fl.StringVar(&cfg.Redis, "redis", "", "Redis `URL` of a channel layer shared with other replicas, e.g. redis://redis:6379/0 (default: in-memory, this process only)")
	fl.StringVar(&cfg.RedisChannel, "redis-channel", refstack.DefaultRedisChannel, "prefix of the channel layer's Redis channels")
	return cmd
}

func serve(ctx context.Context, e *env, cfg refstack.Config) error {
	s, err := refstack.New(cfg)
	if err != nil {
		return badInput{err}
	}
	if err := s.Start(); err != nil {
		s.Close()
		return serveError{err}
	}
	var notes []string
	if cfg.Replay {
		notes = append(notes, "ingest "+s.URL()+refstack.IngestPath)
	}
	if f := cfg.Faults.String(); f != "" {
		notes = append(notes, "faults "+f)
	}
	if len(cfg.RESTRemoved) > 0 {
		notes = append(notes, fmt.Sprintf("REST removed %v", cfg.RESTRemoved))
	}
	if cfg.NoSeq {
		notes = append(notes, "no seq")
	}
	if cfg.Redis != "" {
		notes = append(notes, "channel layer "+cfg.Redis)
	}
	fmt.Fprintf(e.stderr, "thorstack: serving %s, WS %s\n", s.URL(), s.WSURL())
	if len(notes) > 0 {
		fmt.Fprintf(e.stderr, "thorstack: %s\n", strings.Join(notes, "; "))
	}
	if e.started != nil {
		e.started(s)
	}
	<-ctx.Done()
	err = s.Close()
	st := s.Stats()
	fmt.Fprintf(e.stderr, "thorstack: stopped after %d events, %d messages broadcast, %d deliveries, %d connections (%d cut as slow)\n",
		st.EventsApplied, st.MessagesBroadcast, st.Deliveries, st.ConnectionsAccepted, st.SlowClientsCut)
	if err != nil {
		return serveError{err}
	}
	return nil
}
