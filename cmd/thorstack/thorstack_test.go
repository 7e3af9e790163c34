package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/refstack"
)

// start runs thorstack in-process on a free port and returns the server
// and a stop function that cancels it (as SIGINT would) and returns the
// exit code and stderr.
func start(t *testing.T, vars map[string]string, args ...string) (*refstack.Server, func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	up := make(chan *refstack.Server, 1)
	done := make(chan int, 1)
	e := &env{
		args:    append([]string{"--addr", "127.0.0.1:0"}, args...),
		stdout:  io.Discard,
		stderr:  &stderr,
		getenv:  func(k string) string { return vars[k] },
		ctx:     ctx,
		started: func(s *refstack.Server) { up <- s },
	}
	go func() { done <- run(e) }()
	select {
	case s := <-up:
		return s, func() (int, string) {
			cancel()
			select {
			case code := <-done:
				return code, stderr.String()
			case <-time.After(5 * time.Second):
				t.Fatal("thorstack did not stop")
				return 0, ""
			}
		}
	case code := <-done:
		cancel()
		t.Fatalf("thorstack exited %d: %s", code, stderr.String())
	case <-time.After(5 * time.Second):
		t.Fatal("thorstack did not start")
	}
	return nil, nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServesAndStopsCleanly(t *testing.T) {
	s, stop := start(t, nil, "--replay", "--rest-removed", "positions", "--faults", "global_market:delay=1s", "--no-seq")
	if code, body := get(t, s.URL()+"/api/account/balance"); code != 200 || body != `{"data":[]}` {
		t.Errorf("balance: %d %s", code, body)
	}
	if code, _ := get(t, s.URL()+"/api/positions"); code != http.StatusGone {
		t.Errorf("removed positions: %d", code)
	}
	resp, err := http.Post(s.URL()+"/__replay/events", "application/json", strings.NewReader("[]"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("ingest: %d", resp.StatusCode)
	}
	code, stderr := stop()
	if code != exitOK || !strings.Contains(stderr, "serving http://127.0.0.1:") || !strings.Contains(stderr, "faults global_market:delay=1s") || !strings.Contains(stderr, "stopped") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestFeatureFlags(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"none", nil, nil, `{"account_balance":false,"positions":false,"intraday_bars":false,"global_market":false}`},
		{"from env", map[string]string{"WS_FEATURE_ACCOUNT_BALANCE": "true", "WS_FEATURE_INTRADAY": "1"}, nil,
			`{"account_balance":true,"positions":false,"intraday_bars":true,"global_market":false}`},
		{"flags override env", map[string]string{"WS_FEATURE_ACCOUNT_BALANCE": "true"},
			[]string{"--feature-account-balance=false", "--feature-global-market"},
			`{"account_balance":false,"positions":false,"intraday_bars":false,"global_market":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, stop := start(t, tt.env, tt.args...)
			_, body := get(t, s.URL()+"/api/features")
			if code, stderr := stop(); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if body != tt.want {
				t.Errorf("features %s, want %s", body, tt.want)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
		code int
	}{
		{"bad fault", nil, []string{"--faults", "positions:dorp=0.1"}, `did you mean "drop"`, exitBadInput},
		{"bad removed feature", nil, []string{"--rest-removed", "orders"}, `--rest-removed: unknown feature "orders"`, exitBadInput},
		{"bad env flag", map[string]string{"WS_FEATURE_POSITIONS": "maybe"}, nil, `WS_FEATURE_POSITIONS`, exitBadInput},
		{"unknown flag", nil, []string{"--nope"}, `unknown flag: --nope`, exitBadInput},
		{"stray argument", nil, []string{"serve"}, `unknown command "serve"`, exitBadInput},
		{"bad queue size", nil, []string{"--queue-size", "0"}, `--queue-size 0`, exitBadInput},
		{"address in use", nil, []string{"--addr", "256.0.0.1:1"}, `listen`, exitFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(&env{args: tt.args, stdout: io.Discard, stderr: &stderr, getenv: func(k string) string { return tt.env[k] }})
			if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tt.code, tt.want)
			}
		})
	}
}

func TestHelpDocumentsEverything(t *testing.T) {
	var stdout bytes.Buffer
	if code := run(&env{args: []string{"--help"}, stdout: &stdout, stderr: io.Discard}); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	help := stdout.String()
	for _, want := range []string{
		"--addr", "127.0.0.1:8000", "--replay", "--faults", "--rest-removed", "--no-seq", "--heartbeat",
		"--feature-account-balance", "--feature-positions", "--feature-intraday-bars", "--feature-global-market",
		"WS_FEATURE_ACCOUNT_BALANCE", "WS_FEATURE_POSITIONS", "WS_FEATURE_INTRADAY", "WS_FEATURE_GLOBAL_MARKET",
		"drop=P", "delay=D", "duplicate=P", "reorder", "round=N", "omit_field=F", "stale_rest=D",
		"/__replay/events", "/ws/dashboard/", "410 Gone", "Exit codes",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("--help does not mention %q", want)
		}
	}
}
