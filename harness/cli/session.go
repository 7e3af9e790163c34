package cli

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/thor-trading/cutover-harness/harness/session"
)

func newSessionCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "session",
		Short: "Generate, inspect and validate recorded market sessions (thor-session/v1)",
		Long: `session works on recorded market sessions: thor-session/v1 JSON Lines, plain
or gzip-compressed (.jsonl.gz, recognised by content). A FILE of "-" is
standard input.`,
	}
	cmd.AddCommand(newSessionGenCmd(env), newSessionInspectCmd(env), newSessionValidateCmd(env))
	return cmd
}

func newSessionGenCmd(env *Env) *cobra.Command {
	var (
		opts           session.Options
		start, out     string
		durationString string
	)
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Generate a seeded, realistic session",
		Long: `gen writes a seeded session: ES, NQ, CL and GC ticks on their tick grids
(U-shaped intensity over the US regular session), accounts opening, adding to,
reducing, closing and flipping positions with cash following realized P&L and
fees, and 24 global markets following their local schedules. The same flags
give the same bytes.

--out ending in .gz writes gzip. Without --out (or with -) the session goes to
standard output. The summary (events, bytes, sha256 of the JSON Lines) goes to
standard error.`,
		Example: `  harness session gen --seed 20260302 --duration 30m --start 2026-03-02T14:30:00Z --out rth-short.jsonl
  harness session gen --seed 7 --duration 6h30m --out day.jsonl.gz`,
		Args: sessionNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if start != "" {
				t, err := time.Parse(time.RFC3339Nano, start)
				if err != nil {
					return badInput(fmt.Errorf("--start %q: want an RFC 3339 time such as 2026-03-02T14:30:00Z", start))
				}
				opts.Start = t
			}
			d, err := time.ParseDuration(durationString)
			if err != nil || d <= 0 {
				return badInput(fmt.Errorf("--duration %q: want a positive duration such as 30m or 6h30m", durationString))
			}
			opts.Duration = d
			if opts.Accounts <= 0 {
				return badInput(fmt.Errorf("--accounts %d: want 1 or more", opts.Accounts))
			}
			if !(opts.Rate > 0) {
				return badInput(fmt.Errorf("--rate %v: want a scale above 0", opts.Rate))
			}
			return sessionGen(env, opts, out)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&opts.Seed, "seed", 1, "seed: the same seed and flags give the same bytes")
	f.StringVar(&start, "start", session.DefaultStart.Format(time.RFC3339), "start of the session clock (RFC 3339)")
	f.StringVar(&durationString, "duration", session.DefaultDuration.String(), "length of the session")
	f.StringVar(&opts.Name, "name", "", `session name in the header (default "session-" and the start)`)
	f.IntVar(&opts.Accounts, "accounts", session.DefaultAccounts, "number of trading accounts")
	f.Float64Var(&opts.Rate, "rate", 1, "scale of tick and fill intensity")
	f.StringVarP(&out, "out", "o", "-", "output file; .gz compresses; - is standard output")
	return cmd
}

// sessionGen writes the session to out, through a temporary file so a
// failed run leaves nothing half-written.
func sessionGen(env *Env, opts session.Options, out string) error {
	sum := sha256.New()
	count := &sessionLineCounter{}
	if out == "-" || out == "" {
		if err := session.Generate(io.MultiWriter(env.Stdout, sum, count), opts); err != nil {
			return badInput(err)
		}
		fmt.Fprintf(env.Stderr, "generated %d events, %d bytes, sha256 %s\n", count.lines-1, count.bytes, hex.EncodeToString(sum.Sum(nil)))
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		return badInput(err)
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing left to remove
	var dst io.Writer = tmp
	var gz *gzip.Writer
	if strings.HasSuffix(out, ".gz") {
		gz, _ = gzip.NewWriterLevel(tmp, gzip.BestCompression) // the level is valid
		dst = gz
	}
	if err := session.Generate(io.MultiWriter(dst, sum, count), opts); err != nil {
		tmp.Close()
		return badInput(err)
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			tmp.Close()
			return &ExitError{Code: ExitInternal, Err: err}
		}
	}
	if err := tmp.Close(); err != nil {
		return &ExitError{Code: ExitInternal, Err: err}
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return &ExitError{Code: ExitInternal, Err: err}
	}
	size := int64(count.bytes)
	if fi, err := os.Stat(out); err == nil {
		size = fi.Size()
	}
	fmt.Fprintf(env.Stderr, "wrote %s: %d events, %d bytes (JSON Lines: %d bytes, sha256 %s)\n",
		out, count.lines-1, size, count.bytes, hex.EncodeToString(sum.Sum(nil)))
	return nil
}

// sessionLineCounter counts the bytes and lines written through it.
type sessionLineCounter struct{ bytes, lines int }

func (c *sessionLineCounter) Write(p []byte) (int, error) {
	c.bytes += len(p)
	for _, b := range p {
		if b == '\n' {
			c.lines++
		}
	}
	return len(p), nil
}

func newSessionInspectCmd(env *Env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Summarise a session: events per type, symbols, accounts, markets, span, rate",
		Args:  sessionArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, name, closeSrc, err := sessionOpen(env, args[0])
			if err != nil {
				return badInput(err)
			}
			defer closeSrc()
			r, err := session.NewReader(src, name)
			if err != nil {
				return badInput(err)
			}
			defer r.Close()
			st, err := session.Inspect(r)
			if err != nil {
				return badInput(fmt.Errorf("%w (harness session validate %s lists every problem)", err, name))
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			printSessionStats(env.Stdout, st)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the statistics as JSON")
	return cmd
}

func printSessionStats(w io.Writer, st *session.Stats) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "file\t%s\n", st.File)
	fmt.Fprintf(tw, "format\t%s\n", st.Format)
	fmt.Fprintf(tw, "name\t%s\n", st.Name)
	if st.Seed != 0 {
		fmt.Fprintf(tw, "seed\t%d\n", st.Seed)
	}
	if !st.Start.IsZero() {
		fmt.Fprintf(tw, "start\t%s\n", st.Start.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(tw, "events\t%d\n", st.Events)
	if st.Events > 0 {
		fmt.Fprintf(tw, "seq\t%d..%d\n", st.FirstSeq, st.LastSeq)
		fmt.Fprintf(tw, "time\t%s .. %s (%s)\n", st.First.UTC().Format(sessionStampMillis), st.Last.UTC().Format(sessionStampMillis), st.Span())
		fmt.Fprintf(tw, "rate\t%.2f events/s on average, peak %d in the second from %s\n",
			st.EventsPerSecond, st.PeakPerSecond, st.PeakSecond.UTC().Format(time.RFC3339))
	}
	var types []string
	for _, t := range sessionSortedKeys(st.Types) {
		types = append(types, fmt.Sprintf("%s %d", t, st.Types[t]))
	}
	fmt.Fprintf(tw, "types\t%s\n", strings.Join(types, ", "))
	tw.Flush()

	fmt.Fprintf(w, "\nsymbols (%d)\n", len(st.Symbols))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  symbol\tticks\tvolume\tfirst\tlow\thigh\tlast\tposition events")
	for _, s := range sessionSortedKeys(st.Symbols) {
		x := st.Symbols[s]
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%v\t%v\t%v\t%v\t%d\n", s, x.Ticks, x.Volume, x.First, x.Low, x.High, x.Last, x.Positions)
	}
	tw.Flush()

	fmt.Fprintf(w, "\naccounts (%d)\n", len(st.Accounts))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  account\taccount events\tposition events\topen positions\tcash\tbuying power")
	for _, a := range sessionSortedKeys(st.Accounts) {
		x := st.Accounts[a]
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%.2f\t%.2f\n", a, x.Balances, x.Positions, x.Open, x.Cash, x.BuyingPower)
	}
	tw.Flush()

	fmt.Fprintf(w, "\nmarkets (%d)\n", len(st.Markets))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  market\tevents\tlast status")
	for _, m := range sessionSortedKeys(st.Markets) {
		x := st.Markets[m]
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", m, x.Events, x.Status)
	}
	tw.Flush()
}

const sessionStampMillis = "2006-01-02T15:04:05.000Z07:00"

func sessionSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func newSessionValidateCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check sessions and list every problem, one line each (FILE:LINE: ...)",
		Long: `validate reads each session to its end and prints every problem it finds as
FILE:LINE: what is wrong: bad JSON, a missing or wrong header, seq gaps and
repeats, time going back, unknown event types or statuses, missing fields,
symbols, accounts or markets the header does not list, negative prices.

Exit codes: 0 every file is valid, 2 a file has problems or cannot be read.`,
		Args: sessionArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var bad []string
			for _, arg := range args {
				src, name, closeSrc, err := sessionOpen(env, arg)
				if err != nil {
					return badInput(err)
				}
				st, problems := session.ValidateStats(src, name)
				closeSrc()
				for _, p := range problems {
					fmt.Fprintln(env.Stdout, p)
				}
				if len(problems) > 0 {
					bad = append(bad, fmt.Sprintf("%s: %d %s", name, len(problems), sessionPlural(len(problems), "problem", "problems")))
					continue
				}
				fmt.Fprintf(env.Stdout, "%s: ok, %d events checked\n", name, st.Events)
			}
			if len(bad) > 0 {
				return badInput(fmt.Errorf("%s", strings.Join(bad, "; ")))
			}
			return nil
		},
	}
}

func sessionPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// sessionOpen opens a session argument: a path, or - for standard input.
func sessionOpen(env *Env, arg string) (io.Reader, string, func(), error) {
	if arg == "-" {
		if env.Stdin == nil {
			return nil, "", nil, fmt.Errorf("-: no standard input")
		}
		return env.Stdin, "-", func() {}, nil
	}
	f, err := os.Open(arg)
	if err != nil {
		return nil, "", nil, err
	}
	return f, arg, func() { f.Close() }, nil
}

// sessionArgs accepts min..max arguments (max < 0: no limit), saying what
// is missing.
func sessionArgs(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < min:
			return badInput(fmt.Errorf("%s: want a session FILE (- for standard input)", cmd.CommandPath()))
		case max >= 0 && len(args) > max:
			return badInput(fmt.Errorf("%s: want %d FILE argument, got %d", cmd.CommandPath(), max, len(args)))
		}
		return nil
	}
}

func sessionNoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return badInput(fmt.Errorf("%s takes no arguments (got %q); see --help", cmd.CommandPath(), args))
	}
	return nil
}
