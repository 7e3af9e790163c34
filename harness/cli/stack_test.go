package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thor-trading/cutover-harness/harness/stack"
)

// containersScenarioFile copies scenarios/containers.yaml (two replicas on
// Redis) with the session path made absolute.
func containersScenarioFile(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("../../scenarios/containers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("../../fixtures/sessions/rth-short.jsonl")
	s := strings.ReplaceAll(string(src), "../fixtures/sessions/rth-short.jsonl", abs)
	p := filepath.Join(t.TempDir(), "containers.yaml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// stack up brings the scenario's containers up, prints where they are and
// leaves them running; stack down removes every one of them.
func TestStackUpDown(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.json")
	code, out, errs := runCLI(t, "stack", "up", containersScenarioFile(t), "--state", state)
	if code != ExitPass {
		t.Fatalf("stack up exit %d\n%s\n%s", code, out, errs)
	}
	var st stackState
	b, err := os.ReadFile(state)
	if err == nil {
		err = json.Unmarshal(b, &st)
	}
	if err != nil || st.ID == "" || len(st.Replicas) != 2 {
		t.Fatalf("state file: %v %s", err, b)
	}
	t.Cleanup(func() { stack.RemoveStack(context.Background(), st.ID) }) // if down fails
	for _, want := range []string{"stack " + st.ID + " up", "rest  " + st.REST, "ws    " + st.WS, "replica 1", "harness stack down"} {
		if !strings.Contains(out, want) {
			t.Errorf("stack up output lacks %q:\n%s", want, out)
		}
	}
	for _, r := range st.Replicas {
		resp, err := http.Get(r.REST + "/healthz")
		if err != nil {
			t.Fatalf("replica %s after stack up: %v", r.Name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "ok" {
			t.Errorf("replica %s healthz %q", r.Name, body)
		}
	}
	if code, _, errs := runCLI(t, "stack", "up", containersScenarioFile(t), "--state", state); code != ExitBadInput || !strings.Contains(errs, "exists") {
		t.Errorf("a second stack up on the same state: exit %d %s", code, errs)
	}

	code, out, errs = runCLI(t, "stack", "down", "--state", state)
	if code != ExitPass || !strings.Contains(out, "stack "+st.ID+" removed") {
		t.Fatalf("stack down exit %d\n%s\n%s", code, out, errs)
	}
	if left, _ := stack.Leftovers(context.Background(), stack.LabelStack+"="+st.ID); len(left) > 0 {
		t.Errorf("after stack down: %v", left)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("the state file is still there: %v", err)
	}
}

func TestStackErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"up needs containers", []string{"stack", "up", "../../scenarios/shadow.yaml", "--state", filepath.Join(t.TempDir(), "s.json")}, "containers stacks"},
		{"down without state", []string{"stack", "down", "--state", filepath.Join(t.TempDir(), "none.json")}, "no stack is up"},
		{"up without scenario", []string{"stack", "up"}, "needs a scenario file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(t, tc.args...)
			if code != ExitBadInput || !strings.Contains(errs, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, ExitBadInput, tc.want)
			}
		})
	}
}
