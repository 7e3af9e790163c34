package stack

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/thor-trading/cutover-harness/harness/refstack"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// Stack is a running stack under test.
type Stack interface {
	// REST is the REST base URL, without a trailing slash.
	REST() string
	// WS is the WebSocket URL subscribers dial.
	WS() string
	// Describe says what the stack is, for reports.
	Describe() string
	// Close stops whatever the harness started for this stack.
	Close() error
}

// Optional capabilities, found by type assertion.

// Replicas is implemented by stacks that run several replicas behind one
// contract: subscribers spread across them and move between them.
type Replicas interface {
	// WSURLs lists every replica's WebSocket URL, by replica index.
	WSURLs() []string
	// RESTURLs lists every replica's REST base, by replica index.
	RESTURLs() []string
}

// FaultInjector is implemented by stacks that can suffer a scheduled fault.
type FaultInjector interface {
	// Inject starts fault f and returns once it has taken effect. restore,
	// when not nil, ends the fault (starts what was stopped, unfreezes what
	// was paused) and returns once the stack serves again; it is nil for a
	// fault without an end (kill_replica without for).
	Inject(ctx context.Context, f scenario.Fault) (restore func(context.Context) error, err error)
}

// Start brings up the scenario's stack.
func Start(ctx context.Context, sc *scenario.Scenario) (Stack, error) {
	switch sc.Stack.Kind {
	case scenario.StackURL:
		return &urlStack{rest: strings.TrimRight(sc.Stack.REST, "/"), ws: sc.Stack.WS}, nil
	case scenario.StackEmbedded:
		return startEmbedded(sc)
	case scenario.StackContainers:
		return StartContainers(ctx, sc, ContainersOptions{})
	case scenario.StackProcess:
		return StartProcess(ctx, sc, Options{})
	}
	return nil, sc.Errorf("stack.kind", "unknown stack kind %q", sc.Stack.Kind)
}

type urlStack struct{ rest, ws string }

func (s *urlStack) REST() string     { return s.rest }
func (s *urlStack) WS() string       { return s.ws }
func (s *urlStack) Describe() string { return "url " + s.rest + " " + s.ws }
func (s *urlStack) Close() error     { return nil }

// Embedded is the reference stack running in this process.
type Embedded struct {
	srv  *refstack.Server
	desc string
}

// EmbeddedConfig turns a scenario's stack section into the reference
// stack's configuration; errors name the scenario field.
func EmbeddedConfig(sc *scenario.Scenario) (refstack.Config, error) {
	cfg := refstack.Config{Replay: true, NoSeq: sc.Stack.NoSeq}
	faults, err := refstack.ParseFaults(sc.Stack.Faults)
	if err != nil {
		return cfg, sc.Errorf("stack.faults", "%v", err)
	}
	cfg.Faults = faults
	for name, on := range sc.Stack.Flags {
		f, err := refstack.ParseFeature(name)
		if err != nil {
			return cfg, sc.Errorf("stack.flags."+name, "%v", err)
		}
		cfg.Flags.Set(f, on)
	}
	for i, name := range sc.Stack.RESTRemoved {
		f, err := refstack.ParseFeature(name)
		if err != nil {
			return cfg, sc.Errorf(fmt.Sprintf("stack.rest_removed[%d]", i), "%v", err)
		}
		cfg.RESTRemoved = append(cfg.RESTRemoved, f)
	}
	return cfg, nil
}

func startEmbedded(sc *scenario.Scenario) (*Embedded, error) {
	cfg, err := EmbeddedConfig(sc)
	if err != nil {
		return nil, err
	}
	srv, err := refstack.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("starting the embedded stack: %w", err)
	}
	desc := "embedded reference stack"
	if s := cfg.Faults.String(); s != "" {
		desc += " with faults " + s
	}
	if cfg.NoSeq {
		desc += " without seq"
	}
	return &Embedded{srv: srv, desc: desc}, nil
}

func (e *Embedded) REST() string     { return strings.TrimRight(e.srv.URL(), "/") }
func (e *Embedded) WS() string       { return e.srv.WSURL() }
func (e *Embedded) Describe() string { return e.desc }
func (e *Embedded) Close() error     { return e.srv.Close() }

// Server is the embedded reference stack, for tests and statistics.
func (e *Embedded) Server() *refstack.Server { return e.srv }

// WaitReachable polls url until it answers any HTTP status, ctx is done or
// timeout passes. It returns the last transport error.
func WaitReachable(ctx context.Context, client *http.Client, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer within %s: %w", url, timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// CPUMeter is implemented by stacks whose CPU use the harness can read: a
// process it started (its whole process group) or the containers it runs.
type CPUMeter interface {
	// CPUTime is the CPU time (user and system) the stack has used so far;
	// differences between two readings are what it spent in between.
	CPUTime(ctx context.Context) (time.Duration, error)
	// CPUSource says what is measured, for reports.
	CPUSource() string
}
