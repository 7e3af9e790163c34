package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/diff"
	"github.com/thor-trading/cutover-harness/harness/report"
	"github.com/thor-trading/cutover-harness/harness/run"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

func newDiffCmd(env *Env) *cobra.Command {
	var scPath, out string
	cmd := &cobra.Command{
		Use:   "diff RUN_DIR",
		Short: "Diff a run's capture again, offline, and rewrite its report",
		Long: `diff reads RUN_DIR/capture.jsonl and the scenario copy kept beside it (or
--scenario, e.g. with new ignore rules), diffs it again without any stack and
writes report.json and report.md into RUN_DIR (or --out). A capture cut short
by a crash is read up to its last complete record; the report is then
INCOMPLETE and INCONCLUSIVE.`,
		Args: exactArgs(1, "a run directory"),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if scPath == "" {
				scPath = filepath.Join(dir, run.ScenarioCopy)
			}
			sc, err := scenario.LoadCopy(scPath)
			if err != nil {
				return badInput(err)
			}
			capPath := filepath.Join(dir, capture.FileName)
			meta, err := startMeta(capPath)
			if err != nil {
				return badInput(err)
			}
			if sc.Line("name") == 0 && meta.Scenario != "" { // named after the original file, not the copy
				sc.Name = strings.TrimSuffix(filepath.Base(meta.Scenario), filepath.Ext(meta.Scenario))
			}
			res, err := diff.DiffFile(sc, capPath)
			if err != nil {
				return badInput(err)
			}
			started, _ := time.Parse(time.RFC3339Nano, meta.Started)
			rep := report.Build(sc, res, report.Run{ID: meta.RunID, Stack: meta.Stack, Started: started, Finished: started.Add(time.Duration(res.Duration))})
			if out == "" {
				out = dir
			}
			if err := rep.Write(out); err != nil {
				return &ExitError{Code: ExitInternal, Err: err}
			}
			return finish(env, rep, out)
		},
	}
	cmd.Flags().StringVar(&scPath, "scenario", "", "scenario to diff with (default RUN_DIR/scenario.yaml)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "where to write the report (default RUN_DIR)")
	return cmd
}

// startMeta reads the capture's start record.
func startMeta(path string) (*capture.Meta, error) {
	r, err := capture.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: no capture here: is this a run directory?", path)
		}
		return nil, err
	}
	defer r.Close()
	rec, err := r.Next()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: the capture is empty", path)
	}
	if err != nil {
		return nil, err
	}
	if rec.K != capture.KindStart || rec.Meta == nil {
		return nil, fmt.Errorf("%s:1: not a capture (the first record is not a start record)", path)
	}
	return rec.Meta, nil
}
