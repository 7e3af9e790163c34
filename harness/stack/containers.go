package stack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	dnetwork "github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/thor-trading/cutover-harness/harness/refstack"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// Labels on every container, network and built image a containers stack
// creates, so that whatever the harness started can be found and removed
// (Ryuk, testcontainers' reaper, is off: nothing to pull it from).
const (
	// LabelHarness is "1" on everything the harness creates.
	LabelHarness = "cutover-harness"
	// LabelStack is the stack's ID: `harness stack down` removes by it.
	LabelStack = "cutover-harness.stack"
	// LabelPID is the process that created it: a test suite checks by it
	// that it left nothing behind.
	LabelPID = "cutover-harness.pid"
	// LabelRole is redis, replica-<n>, network or build.
	LabelRole = "cutover-harness.role"
)

// RedisURL is the Redis service's URL inside a containers stack's network.
const RedisURL = "redis://redis:6379/0"

// Timeouts of the containers stack.
const (
	// removeTimeout bounds removing the stack, which runs on a fresh
	// context: a cancelled run must still clean up.
	removeTimeout = 60 * time.Second
	// stopGrace is how long a container gets between SIGTERM and SIGKILL.
	stopGrace = 2 * time.Second
)

// ContainersOptions are settings of StartContainers that a scenario does
// not carry.
type ContainersOptions struct {
	// Log receives testcontainers' log lines. Nil: discarded.
	Log io.Writer
	// ID names the stack in its labels and container names. "": random.
	ID string
}

// Containers is a containers stack: a network, a Redis service and N
// replicas of the stack under test, started with testcontainers-go.
type Containers struct {
	id     string
	cli    *testcontainers.DockerClient
	net    *testcontainers.DockerNetwork
	redis  testcontainers.Container
	reps   []*replica
	built  string // image built from the scenario's build context
	ingest int
	ready  string // readiness path
	desc   string
	logger tclog.Logger

	hostOnce sync.Once
	host     string // where published ports are reached
	hostErr  error

	mu     sync.Mutex // guards paused and closed
	paused map[string]bool
	closed bool
}

type replica struct {
	c        testcontainers.Container
	rest, ws string
	ports    map[int]string // published container port → host:port
}

// ContainersInfo describes a running containers stack: what `harness stack
// up` prints and writes for `harness stack down`.
type ContainersInfo struct {
	ID         string            `json:"id"`
	Network    string            `json:"network"`
	Redis      string            `json:"redis,omitempty"` // container name
	REST       string            `json:"rest"`
	WS         string            `json:"ws"`
	Replicas   []ReplicaInfo     `json:"replicas"`
	Ingest     int               `json:"ingest_replica"`
	Labels     map[string]string `json:"labels"`
	BuiltImage string            `json:"built_image,omitempty"`
}

// ReplicaInfo is one replica of ContainersInfo.
type ReplicaInfo struct {
	Name  string            `json:"name"`
	REST  string            `json:"rest"`
	WS    string            `json:"ws"`
	Ports map[string]string `json:"ports,omitempty"` // other published ports: container port → host:port
}

// writerLogger serializes testcontainers' log lines (replicas start in
// parallel) into one writer.
type writerLogger struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l writerLogger) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
}

// StartContainers brings up the scenario's containers stack: a private
// network, the Redis service (alias "redis"), then the replicas (aliases
// replica-0, …), each waited for until its readiness path answers 200. The
// images must be here already (`make images` builds the reference ones);
// nothing is pulled. On any failure, or when ctx is cancelled, whatever was
// started is removed before it returns.
func StartContainers(ctx context.Context, sc *scenario.Scenario, opt ContainersOptions) (_ *Containers, err error) {
	c := sc.Stack.Containers
	if sc.Stack.Kind != scenario.StackContainers || c == nil {
		return nil, sc.Errorf("stack.kind", "not a containers stack")
	}
	args, err := replicaCommand(sc)
	if err != nil {
		return nil, err
	}
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		// The reaper is an image to pull; the harness removes what it
		// starts itself.
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	s := &Containers{id: opt.ID, ingest: c.IngestReplica, ready: c.Ready, paused: map[string]bool{}}
	if s.id == "" {
		s.id = newStackID()
	}
	if opt.Log != nil {
		s.logger = writerLogger{new(sync.Mutex), opt.Log}
	} else {
		s.logger = discardLogger{}
	}
	s.cli, err = testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, fmt.Errorf("the Docker engine: %w (the containers stack needs one)", err)
	}
	defer func() {
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("%w (interrupted: %v)", err, ctx.Err())
			}
			if cerr := s.Close(); cerr != nil {
				err = fmt.Errorf("%w; removing what was started: %v", err, cerr)
			}
		}
	}()
	img := c.Image
	if c.Build != nil {
		if img, err = s.build(ctx, sc); err != nil {
			return nil, err
		}
		s.built = img
	} else if err := s.haveImage(ctx, img, "stack.containers.image"); err != nil {
		return nil, err
	}
	if !c.Redis.Disabled {
		if err := s.haveImage(ctx, c.Redis.Image, "stack.containers.redis.image"); err != nil {
			return nil, err
		}
	}

	s.net, err = network.New(ctx, network.WithLabels(s.labels("network")))
	if err != nil {
		return nil, fmt.Errorf("creating the stack's network: %w", err)
	}
	if !c.Redis.Disabled {
		s.redis, err = testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{
			ContainerRequest: testcontainers.ContainerRequest{
				Image:          c.Redis.Image,
				Name:           s.name("redis"),
				Labels:         s.labels("redis"),
				Networks:       []string{s.net.Name},
				NetworkAliases: map[string][]string{s.net.Name: {"redis"}},
				WaitingFor:     wait.ForLog("Ready to accept connections").WithStartupTimeout(c.ReadyTimeout.D()),
			},
			Started: true,
			Logger:  s.logger,
		})
		if err != nil {
			return nil, fmt.Errorf("starting Redis (%s): %w", c.Redis.Image, err)
		}
	}

	local := s.localDocker()
	s.reps = make([]*replica, c.Replicas)
	errs := make([]error, c.Replicas)
	var wg sync.WaitGroup
	for i := range c.Replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.reps[i], errs[i] = s.startReplica(ctx, sc, img, args, i, local)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.desc = fmt.Sprintf("containers: %d × %s", c.Replicas, img)
	if !c.Redis.Disabled {
		s.desc += " on " + c.Redis.Image
	}
	if sc.Stack.Faults != "" {
		s.desc += " with faults " + sc.Stack.Faults
	}
	s.desc += fmt.Sprintf(" (replica %d takes ingest and REST)", s.ingest)
	return s, nil
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

func newStackID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Containers) name(role string) string { return "cutover-" + s.id + "-" + role }

func (s *Containers) labels(role string) map[string]string {
	return map[string]string{
		LabelHarness: "1",
		LabelStack:   s.id,
		LabelPID:     strconv.Itoa(os.Getpid()),
		LabelRole:    role,
	}
}

// haveImage fails, saying what to do, when img is not in the engine: it
// would otherwise be pulled, and there is no registry.
func (s *Containers) haveImage(ctx context.Context, img, field string) error {
	if _, err := s.cli.ImageInspect(ctx, img); err != nil {
		return fmt.Errorf("image %s (%s) is not in the Docker engine: build it (`make images` builds cutover-harness/thorstack:dev and cutover-harness/redis:dev); images are never pulled: %w", img, field, err)
	}
	return nil
}

func (s *Containers) build(ctx context.Context, sc *scenario.Scenario) (string, error) {
	b := sc.Stack.Containers.Build
	p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(s.logger), testcontainers.WithDefaultBridgeNetwork(testcontainers.Bridge))
	if err != nil {
		return "", err
	}
	defer p.Close()
	args := map[string]*string{}
	for k, v := range b.Args {
		args[k] = &v
	}
	req := &testcontainers.ContainerRequest{
		FromDockerfile: testcontainers.FromDockerfile{
			Context: sc.Path(b.Context), Dockerfile: b.Dockerfile, BuildArgs: args,
			Repo: "cutover-harness-build/" + s.id, Tag: "latest", KeepImage: true,
			BuildOptionsModifier: func(o *build.ImageBuildOptions) {
				o.Labels = s.labels("build")
				o.PullParent = false
			},
		},
	}
	tag, err := p.BuildImage(ctx, req)
	if err != nil {
		return "", fmt.Errorf("building %s (stack.containers.build): %w", sc.Path(b.Context), err)
	}
	return tag, nil
}

// localDocker reports whether the engine runs on this machine (a unix
// socket), so the harness can choose the host ports: a replica then keeps
// its port across a restart. A remote engine chooses them.
func (s *Containers) localDocker() bool {
	return strings.HasPrefix(s.cli.DaemonHost(), "unix://")
}

func freeHostPort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

func (s *Containers) startReplica(ctx context.Context, sc *scenario.Scenario, img string, args []string, i int, local bool) (*replica, error) {
	c := sc.Stack.Containers
	fill := func(v string) string {
		v = strings.ReplaceAll(v, scenario.RedisPlaceholder, RedisURL)
		return strings.ReplaceAll(v, scenario.ReplicaPlaceholder, strconv.Itoa(i))
	}
	cmd := make([]string, len(args))
	for j, a := range args {
		cmd[j] = fill(a)
	}
	env := map[string]string{}
	for k, v := range c.Env {
		env[k] = fill(v)
	}
	ports := append([]int{c.Port}, c.Expose...)
	var exposed []string
	bindings := nat.PortMap{}
	for _, p := range ports {
		cp := nat.Port(strconv.Itoa(p) + "/tcp")
		exposed = append(exposed, string(cp))
		b := nat.PortBinding{}
		if local {
			hp, err := freeHostPort()
			if err != nil {
				return nil, err
			}
			// Every interface, as testcontainers publishes: the
			// harness may itself run in a container and reach the
			// engine's ports through its gateway (Host says where).
			b = nat.PortBinding{HostPort: hp}
		}
		bindings[cp] = []nat.PortBinding{b}
	}
	role := "replica-" + strconv.Itoa(i)
	main := nat.Port(strconv.Itoa(c.Port) + "/tcp")
	req := testcontainers.ContainerRequest{
		Image:          img,
		Name:           s.name(role),
		Cmd:            cmd,
		Env:            env,
		Labels:         s.labels(role),
		ExposedPorts:   exposed,
		Networks:       []string{s.net.Name},
		NetworkAliases: map[string][]string{s.net.Name: {role}},
		HostConfigModifier: func(hc *container.HostConfig) {
			hc.PortBindings = bindings
		},
	}
	if len(cmd) == 0 {
		req.Cmd = nil
	}
	ctr, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true, Logger: s.logger})
	r := &replica{c: ctr, ports: map[int]string{}}
	if err != nil {
		return r, fmt.Errorf("starting replica %d (%s): %w%s", i, img, err, s.tail(ctr))
	}
	host, err := s.reachHost(ctx, ctr, main)
	if err != nil {
		return r, fmt.Errorf("replica %d: %w", i, err)
	}
	// Ready when the readiness path answers 200 (a listening port is not
	// enough: the Redis layer subscribes after it listens).
	ready := wait.ForHTTP(c.Ready).WithPort(main).WithStartupTimeout(c.ReadyTimeout.D()).WithPollInterval(100 * time.Millisecond)
	if err := ready.WaitUntilReady(ctx, hostTarget{ctr, host}); err != nil {
		return r, fmt.Errorf("replica %d (%s) was not ready (GET %s answering 200) within %s: %w%s", i, img, c.Ready, c.ReadyTimeout.D(), err, s.tail(ctr))
	}
	for _, p := range ports {
		mp, err := ctr.MappedPort(ctx, nat.Port(strconv.Itoa(p)+"/tcp"))
		if err != nil {
			return r, fmt.Errorf("replica %d: port %d: %w", i, p, err)
		}
		r.ports[p] = net.JoinHostPort(host, mp.Port())
	}
	r.rest = "http://" + r.ports[c.Port]
	r.ws = "ws://" + r.ports[c.Port] + c.WSPath
	return r, nil
}

// hostTarget is a container whose published ports are reached at host.
type hostTarget struct {
	testcontainers.Container
	host string
}

func (t hostTarget) Host(context.Context) (string, error) { return t.host, nil }

// reachHost finds, once per stack, where the engine's published ports are
// reached: where testcontainers says (TESTCONTAINERS_HOST_OVERRIDE, or its
// guess), else the loopback. Its guess for a harness inside a container is
// the network's gateway, which is wrong when the engine runs in that same
// container.
func (s *Containers) reachHost(ctx context.Context, ctr testcontainers.Container, port nat.Port) (string, error) {
	s.hostOnce.Do(func() {
		guess, err := ctr.Host(ctx)
		if err != nil {
			s.hostErr = err
			return
		}
		mp, err := ctr.MappedPort(ctx, port)
		if err != nil {
			s.hostErr = err
			return
		}
		cands := []string{guess}
		if _, set := os.LookupEnv("TESTCONTAINERS_HOST_OVERRIDE"); !set && guess != "127.0.0.1" && guess != "localhost" {
			cands = append(cands, "127.0.0.1")
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			for _, h := range cands {
				c, err := (&net.Dialer{Timeout: 300 * time.Millisecond}).DialContext(ctx, "tcp", net.JoinHostPort(h, mp.Port()))
				if err == nil {
					c.Close()
					s.host = h
					return
				}
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				s.hostErr = fmt.Errorf("published port %s is reachable at none of %v (set TESTCONTAINERS_HOST_OVERRIDE to the engine's address)", mp.Port(), cands)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return s.host, s.hostErr
}

// tail is the end of a failed container's log, for the error.
func (s *Containers) tail(ctr testcontainers.Container) string {
	if ctr == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc, err := ctr.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 64<<10))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	if len(lines) == 0 || lines[0] == "" {
		return ""
	}
	return "\ncontainer log (last lines):\n  " + strings.Join(lines, "\n  ")
}

// replicaCommand is the replicas' command: the scenario's, or the
// reference stack's flags made from the scenario's stack section.
func replicaCommand(sc *scenario.Scenario) ([]string, error) {
	c := sc.Stack.Containers
	if len(c.Command) > 0 {
		return c.Command, nil
	}
	cfg, err := EmbeddedConfig(sc) // checks faults, flags and features
	if err != nil {
		return nil, err
	}
	args := []string{"--addr", "0.0.0.0:" + strconv.Itoa(c.Port), "--replay"}
	if sc.Stack.Faults != "" {
		args = append(args, "--faults", sc.Stack.Faults)
	}
	for _, f := range refstack.Features {
		if cfg.Flags.Get(f) {
			args = append(args, "--feature-"+strings.ReplaceAll(string(f), "_", "-")+"=true")
		}
	}
	if len(cfg.RESTRemoved) > 0 {
		var names []string
		for _, f := range cfg.RESTRemoved {
			names = append(names, string(f))
		}
		args = append(args, "--rest-removed", strings.Join(names, ","))
	}
	if cfg.NoSeq {
		args = append(args, "--no-seq")
	}
	if !c.Redis.Disabled {
		args = append(args, "--redis", scenario.RedisPlaceholder)
	}
	return args, nil
}

// REST is the ingest replica's REST base.
func (s *Containers) REST() string { return s.reps[s.ingest].rest }

// WS is the ingest replica's WebSocket URL.
func (s *Containers) WS() string { return s.reps[s.ingest].ws }

func (s *Containers) Describe() string { return s.desc }

// CPUTime is the CPU time the stack's containers (replicas and Redis) have
// used so far, from the Docker engine's stats.
func (s *Containers) CPUTime(ctx context.Context) (time.Duration, error) {
	var total time.Duration
	for _, c := range s.containers() {
		st, err := s.cli.ContainerStatsOneShot(ctx, c.GetContainerID())
		if err != nil {
			return 0, err
		}
		var v struct {
			CPU struct {
				Usage struct {
					Total uint64 `json:"total_usage"`
				} `json:"cpu_usage"`
			} `json:"cpu_stats"`
		}
		err = json.NewDecoder(st.Body).Decode(&v)
		st.Body.Close()
		if err != nil {
			return 0, fmt.Errorf("docker stats of %s: %w", c.GetContainerID()[:12], err)
		}
		if v.CPU.Usage.Total == 0 {
			return 0, fmt.Errorf("docker stats of %s: no CPU usage (container not running)", c.GetContainerID()[:12])
		}
		total += time.Duration(v.CPU.Usage.Total)
	}
	return total, nil
}

// CPUSource says what CPUTime measures.
func (s *Containers) CPUSource() string {
	return fmt.Sprintf("%d containers (replicas and Redis), read from the Docker engine's stats", len(s.containers()))
}

// containers is every container of the stack: the replicas, then Redis.
func (s *Containers) containers() []testcontainers.Container {
	var cs []testcontainers.Container
	for _, r := range s.reps {
		cs = append(cs, r.c)
	}
	if s.redis != nil {
		cs = append(cs, s.redis)
	}
	return cs
}

// WSURLs lists every replica's WebSocket URL.
func (s *Containers) WSURLs() []string {
	out := make([]string, len(s.reps))
	for i, r := range s.reps {
		out[i] = r.ws
	}
	return out
}

// RESTURLs lists every replica's REST base.
func (s *Containers) RESTURLs() []string {
	out := make([]string, len(s.reps))
	for i, r := range s.reps {
		out[i] = r.rest
	}
	return out
}

// ID is the stack's ID (its LabelStack value).
func (s *Containers) ID() string { return s.id }

// Info describes the running stack.
func (s *Containers) Info() ContainersInfo {
	in := ContainersInfo{ID: s.id, REST: s.REST(), WS: s.WS(), Ingest: s.ingest, BuiltImage: s.built,
		Labels: map[string]string{LabelStack: s.id}}
	if s.net != nil {
		in.Network = s.net.Name
	}
	if s.redis != nil {
		in.Redis = s.name("redis")
	}
	for i, r := range s.reps {
		ri := ReplicaInfo{Name: s.name("replica-" + strconv.Itoa(i)), REST: r.rest, WS: r.ws}
		var ps []int
		for p := range r.ports {
			ps = append(ps, p)
		}
		sort.Ints(ps)
		for _, p := range ps[1:] {
			if ri.Ports == nil {
				ri.Ports = map[string]string{}
			}
			ri.Ports[strconv.Itoa(p)] = r.ports[p]
		}
		in.Replicas = append(in.Replicas, ri)
	}
	return in
}

// Inject carries out one scheduled fault (see FaultInjector).
func (s *Containers) Inject(ctx context.Context, f scenario.Fault) (func(context.Context) error, error) {
	var target testcontainers.Container
	what := "Redis"
	switch f.Action {
	case scenario.FaultStopRedis, scenario.FaultPauseRedis:
		target = s.redis
	default:
		if f.Replica == nil || *f.Replica < 0 || *f.Replica >= len(s.reps) {
			return nil, fmt.Errorf("%s: no such replica", f)
		}
		target = s.reps[*f.Replica].c
		what = "replica " + strconv.Itoa(*f.Replica)
	}
	if target == nil {
		return nil, fmt.Errorf("%s: the stack has no Redis service", f)
	}
	id := target.GetContainerID()
	start := func(ctx context.Context) error {
		if err := target.Start(ctx); err != nil {
			return fmt.Errorf("starting %s again: %w", what, err)
		}
		return s.waitServing(ctx)
	}
	switch f.Action {
	case scenario.FaultStopRedis:
		d := stopGrace
		if err := target.Stop(ctx, &d); err != nil {
			return nil, fmt.Errorf("stopping Redis: %w", err)
		}
		return start, nil
	case scenario.FaultPauseRedis, scenario.FaultPauseReplica:
		if err := s.cli.ContainerPause(ctx, id); err != nil {
			return nil, fmt.Errorf("pausing %s: %w", what, err)
		}
		s.mu.Lock()
		s.paused[id] = true
		s.mu.Unlock()
		return func(ctx context.Context) error {
			if err := s.cli.ContainerUnpause(ctx, id); err != nil {
				return fmt.Errorf("unpausing %s: %w", what, err)
			}
			s.mu.Lock()
			delete(s.paused, id)
			s.mu.Unlock()
			return s.waitServing(ctx)
		}, nil
	case scenario.FaultKillReplica:
		if err := s.cli.ContainerKill(ctx, id, "KILL"); err != nil {
			return nil, fmt.Errorf("killing %s: %w", what, err)
		}
		if err := s.waitExited(ctx, id); err != nil {
			return nil, err
		}
	case scenario.FaultRestartReplica:
		d := stopGrace
		if err := target.Stop(ctx, &d); err != nil {
			return nil, fmt.Errorf("stopping %s: %w", what, err)
		}
	default:
		return nil, fmt.Errorf("unknown fault action %q", f.Action)
	}
	if f.For <= 0 && f.Action == scenario.FaultKillReplica {
		return nil, nil
	}
	return start, nil
}

func (s *Containers) waitExited(ctx context.Context, id string) error {
	for {
		in, err := s.cli.ContainerInspect(ctx, id)
		if err != nil {
			return err
		}
		if in.State != nil && !in.State.Running {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitServing waits until every running, unpaused replica's readiness path
// answers 200: after Redis returns, until each has subscribed again.
func (s *Containers) waitServing(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(60 * time.Second)
	for i, r := range s.reps {
		in, err := s.cli.ContainerInspect(ctx, r.c.GetContainerID())
		if err != nil {
			return err
		}
		if in.State == nil || !in.State.Running || in.State.Paused {
			continue
		}
		url := r.rest + s.ready
		for {
			resp, err := client.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("replica %d did not serve again within 60s", i)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// Detach lets the stack outlive this process (`harness stack up`): it
// releases the Docker client and removes nothing. RemoveStack removes the
// stack later, by its ID.
func (s *Containers) Detach() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cli.Close()
}

// Close removes every container, the network and a built image, with a
// fresh context (the run's may be cancelled) and a timeout. It may be
// called more than once.
func (s *Containers) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	paused := make([]string, 0, len(s.paused))
	for id := range s.paused {
		paused = append(paused, id)
	}
	s.mu.Unlock()
	if s.cli == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
	defer cancel()
	for _, id := range paused {
		_ = s.cli.ContainerUnpause(ctx, id) // a paused container does not stop
	}
	var ctrs []testcontainers.Container
	for _, r := range s.reps {
		if r != nil && r.c != nil {
			ctrs = append(ctrs, r.c)
		}
	}
	if s.redis != nil {
		ctrs = append(ctrs, s.redis)
	}
	errs := make([]error, len(ctrs))
	var wg sync.WaitGroup
	for i, c := range ctrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Gone already (`harness stack down`, a crash) is removed.
			errs[i] = dropNotFound(c.Terminate(ctx, testcontainers.StopTimeout(stopGrace)))
		}()
	}
	wg.Wait()
	if s.net != nil {
		errs = append(errs, dropNotFound(s.net.Remove(ctx)))
	}
	// Anything labelled with this stack that slipped through (a container
	// created by a start that failed half way).
	errs = append(errs, removeByLabel(ctx, s.cli, LabelStack+"="+s.id))
	if s.built != "" {
		if _, err := s.cli.ImageRemove(ctx, s.built, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
			errs = append(errs, fmt.Errorf("removing the built image %s: %w", s.built, err))
		}
	}
	s.cli.Close()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("removing the containers stack %s: %w", s.id, err)
	}
	return nil
}

// dropNotFound is err without its "no such container/network" parts.
func dropNotFound(err error) error {
	if err == nil || cerrdefs.IsNotFound(err) && !isJoined(err) {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var keep []error
		for _, e := range j.Unwrap() {
			if e = dropNotFound(e); e != nil {
				keep = append(keep, e)
			}
		}
		return errors.Join(keep...)
	}
	return err
}

func isJoined(err error) bool {
	_, ok := err.(interface{ Unwrap() []error })
	return ok
}

// removeByLabel removes the containers and networks carrying label
// (key=value), and the images built with it.
func removeByLabel(ctx context.Context, cli *testcontainers.DockerClient, label string) error {
	f := filters.NewArgs(filters.Arg("label", label))
	var errs []error
	ctrs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return err
	}
	for _, c := range ctrs {
		if err := cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, err)
		}
	}
	nets, err := cli.NetworkList(ctx, dnetwork.ListOptions{Filters: f})
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, n := range nets {
		if err := cli.NetworkRemove(ctx, n.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RemoveStack removes everything labelled with a containers stack's ID:
// `harness stack down`, possibly from another process than the one that
// brought it up. id "" removes every containers stack the harness started.
func RemoveStack(ctx context.Context, id string) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("the Docker engine: %w", err)
	}
	defer cli.Close()
	label := LabelStack
	if id != "" {
		label += "=" + id
	}
	errs := []error{removeByLabel(ctx, cli, label)}
	imgs, err := cli.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("label", label))})
	errs = append(errs, err)
	for _, im := range imgs {
		_, err := cli.ImageRemove(ctx, im.ID, image.RemoveOptions{Force: true, PruneChildren: true})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Leftovers lists what carries label (key=value): containers, networks
// and images, as "container NAME", "network NAME", "image TAG". A test
// suite calls it with LabelPID=<its pid> to prove it cleaned up.
func Leftovers(ctx context.Context, label string) ([]string, error) {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	f := filters.NewArgs(filters.Arg("label", label))
	var out []string
	ctrs, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, err
	}
	for _, c := range ctrs {
		out = append(out, "container "+strings.TrimPrefix(strings.Join(c.Names, ","), "/"))
	}
	nets, err := cli.NetworkList(ctx, dnetwork.ListOptions{Filters: f})
	if err != nil {
		return nil, err
	}
	for _, n := range nets {
		out = append(out, "network "+n.Name)
	}
	imgs, err := cli.ImageList(ctx, image.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, err
	}
	for _, im := range imgs {
		out = append(out, "image "+strings.Join(append(im.RepoTags, im.ID), " "))
	}
	return out, nil
}
