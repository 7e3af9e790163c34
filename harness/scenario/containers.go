package scenario

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// StackContainers is the stack kind brought up by the harness in
// containers (testcontainers-go): a Redis service and N replicas on a
// private network.
const StackContainers = "containers"

// Defaults of the containers stack.
const (
	DefaultStackImage = "cutover-harness/thorstack:dev"
	DefaultRedisImage = "cutover-harness/redis:dev"
	DefaultStackPort  = 8000
	// RedisPlaceholder in a replica's command or env becomes the Redis
	// service's URL inside the network, redis://redis:6379/0.
	RedisPlaceholder = "{redis}"
	// ReplicaPlaceholder becomes the replica's index (0, 1, …).
	ReplicaPlaceholder = "{replica}"
)

// Containers configures a containers stack: the image of the stack under
// test (or a build context), how many replicas run behind Redis, and how
// they are started and waited for. Zero values are the reference stack
// (cmd/thorstack) built by `make images`.
type Containers struct {
	// Image is the stack's image. Default cutover-harness/thorstack:dev;
	// ignored when Build is set. Images are never pulled: build them first.
	Image string `yaml:"image"`
	// Build builds the image from a Dockerfile instead; the image is
	// removed when the stack is.
	Build *Build `yaml:"build"`
	// Replicas is the number of stack containers. Default 2.
	Replicas int `yaml:"replicas"`
	// Port is the container port that serves REST and WS. Default 8000.
	Port int `yaml:"port"`
	// Expose lists more container ports to publish on 127.0.0.1 (e.g. a
	// metrics port); `harness stack up` prints where they are.
	Expose []int `yaml:"expose"`
	// WSPath is the WebSocket path. Default /ws/dashboard/.
	WSPath string `yaml:"ws_path"`
	// Command replaces the image's command ("{redis}" and "{replica}"
	// replaced). Empty: the reference stack's flags, made from stack.faults,
	// stack.flags, stack.rest_removed and stack.no_seq, with --redis when
	// there is a Redis service.
	Command []string `yaml:"command"`
	// Env is the replicas' environment ("{redis}" and "{replica}"
	// replaced), e.g. {REDIS_URL: "{redis}", DJANGO_SETTINGS_MODULE: thor.settings}.
	Env map[string]string `yaml:"env"`
	// Ready is the HTTP path that answers 200 once a replica can serve.
	// Default /healthz.
	Ready string `yaml:"ready"`
	// ReadyTimeout bounds the wait for each container. Default 60s.
	ReadyTimeout Duration `yaml:"ready_timeout"`
	// Redis is the Redis service; `redis: {disabled: true}` runs without
	// one (then replicas must be 1).
	Redis Redis `yaml:"redis"`
	// IngestReplica is the replica REST polling and ingest go to. Default 0.
	IngestReplica int `yaml:"ingest_replica"`
	// WSIdleTimeout makes a subscriber that receives nothing for this long
	// drop the connection and reconnect (to the next replica): a paused
	// replica keeps its sockets open. Zero: wait for the socket to fail.
	// Set it above the stack's heartbeat period.
	WSIdleTimeout Duration `yaml:"ws_idle_timeout"`
}

// Build is a Docker build context.
type Build struct {
	// Context is the build context directory, relative to the scenario.
	Context string `yaml:"context"`
	// Dockerfile is the Dockerfile's path inside the context. Default
	// "Dockerfile".
	Dockerfile string `yaml:"dockerfile"`
	// Args are build arguments.
	Args map[string]string `yaml:"args"`
}

// Redis is the containers stack's Redis service, reachable from the
// replicas as redis:6379.
type Redis struct {
	// Disabled runs no Redis.
	Disabled bool `yaml:"disabled"`
	// Image is Redis's image. Default cutover-harness/redis:dev.
	Image string `yaml:"image"`
}

// Fault actions.
const (
	FaultStopRedis      = "stop_redis"      // stop the Redis container for `for`, then start it
	FaultPauseRedis     = "pause_redis"     // freeze Redis for `for` (sockets stay open)
	FaultKillReplica    = "kill_replica"    // SIGKILL a replica; with `for`, start it again after
	FaultRestartReplica = "restart_replica" // stop a replica gracefully, start it after `for`
	FaultPauseReplica   = "pause_replica"   // freeze a replica for `for`
)

// FaultActions lists every fault action.
var FaultActions = []string{FaultStopRedis, FaultPauseRedis, FaultKillReplica, FaultRestartReplica, FaultPauseReplica}

// Fault is one fault of the schedule a containers stack runs during the
// replay.
type Fault struct {
	// At is when the fault starts: wall-clock time since the replay began.
	At Duration `yaml:"at"`
	// SessionAt is when the fault starts in the recorded session's time
	// (since its first event), converted with the scenario's speed; it
	// needs a speed other than max. Use At or SessionAt.
	SessionAt Duration `yaml:"session_at"`
	// Action is one of FaultActions.
	Action string `yaml:"action"`
	// Replica is the target of a *_replica action.
	Replica *int `yaml:"replica"`
	// For is how long the fault lasts (required for stop_redis and the
	// pauses; kill_replica without it leaves the replica dead).
	For Duration `yaml:"for"`
}

// Start is when the fault starts since the replay began, at speed.
func (f Fault) Start(speed Speed) time.Duration {
	if f.SessionAt > 0 && speed > 0 {
		return time.Duration(float64(f.SessionAt) / float64(speed))
	}
	return f.At.D()
}

// String describes the fault, e.g. "kill_replica 1 for 3s".
func (f Fault) String() string {
	s := f.Action
	if f.Replica != nil {
		s += fmt.Sprintf(" %d", *f.Replica)
	}
	if f.For > 0 {
		s += " for " + f.For.D().String()
	}
	return s
}

// containersDefaults fills in a containers stack's defaults.
func (sc *Scenario) containersDefaults() {
	if sc.Stack.Kind != StackContainers {
		return
	}
	if sc.Stack.Containers == nil {
		sc.Stack.Containers = &Containers{}
	}
	c := sc.Stack.Containers
	if c.Image == "" && c.Build == nil {
		c.Image = DefaultStackImage
	}
	if c.Build != nil && c.Build.Dockerfile == "" {
		c.Build.Dockerfile = "Dockerfile"
	}
	if c.Replicas == 0 {
		c.Replicas = 2
	}
	if c.Port == 0 {
		c.Port = DefaultStackPort
	}
	if c.WSPath == "" {
		c.WSPath = "/ws/dashboard/"
	}
	if c.Ready == "" {
		c.Ready = "/healthz"
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = Duration(60 * time.Second)
	}
	if !c.Redis.Disabled && c.Redis.Image == "" {
		c.Redis.Image = DefaultRedisImage
	}
}

func statDir(p string) (bool, error) {
	st, err := os.Stat(p)
	if err != nil {
		return false, fmt.Errorf("cannot read %s: %v", p, unwrapPath(err))
	}
	return st.IsDir(), nil
}

// checkContainers checks the containers section and the fault schedule.
func (sc *Scenario) checkContainers() Errors {
	var errs Errors
	bad := func(field, format string, args ...any) {
		errs = append(errs, sc.Errorf(field, format, args...))
	}
	if sc.Thresholds.Convergence < 0 {
		bad("thresholds.convergence", "must not be negative")
	}
	if sc.Stack.Kind != StackContainers {
		if sc.Line("stack.containers") > 0 {
			bad("stack.containers", "only a containers stack has containers; set stack.kind: containers")
		}
		if len(sc.Faults) > 0 {
			bad("faults", "a fault schedule needs a stack the harness brings up in containers (stack.kind: containers)")
		}
		return errs
	}
	for _, f := range []string{"rest", "ws"} {
		if sc.Line("stack."+f) > 0 {
			bad("stack."+f, "a containers stack gets its addresses from Docker; remove this field")
		}
	}
	c := sc.Stack.Containers
	if len(c.Command) > 0 {
		for _, f := range []string{"faults", "flags", "rest_removed", "no_seq"} {
			if sc.Line("stack."+f) > 0 {
				bad("stack."+f, "with stack.containers.command the harness does not make the stack's command line; pass this in the command or env")
			}
		}
	}
	if c.Build != nil {
		if c.Build.Context == "" {
			bad("stack.containers.build.context", "missing: the directory to build the image from")
		} else if sc.checkFiles {
			if st, err := statDir(sc.Path(c.Build.Context)); err != nil {
				bad("stack.containers.build.context", "%v", err)
			} else if !st {
				bad("stack.containers.build.context", "%s is not a directory", sc.Path(c.Build.Context))
			}
		}
		if sc.Line("stack.containers.image") > 0 {
			bad("stack.containers.image", "use image or build, not both")
		}
	}
	if c.Replicas < 1 || c.Replicas > 16 {
		bad("stack.containers.replicas", "%d: want 1 to 16 replicas", c.Replicas)
	}
	if c.Redis.Disabled && c.Replicas > 1 {
		bad("stack.containers.redis.disabled", "%d replicas share their broadcasts through Redis: keep the Redis service or run 1 replica", c.Replicas)
	}
	if c.Port < 1 || c.Port > 65535 {
		bad("stack.containers.port", "%d is not a port", c.Port)
	}
	for i, p := range c.Expose {
		if p < 1 || p > 65535 || p == c.Port {
			bad(fmt.Sprintf("stack.containers.expose[%d]", i), "%d: want a port other than stack.containers.port", p)
		}
	}
	for field, p := range map[string]string{"ws_path": c.WSPath, "ready": c.Ready} {
		if !strings.HasPrefix(p, "/") {
			bad("stack.containers."+field, "%q must start with /", p)
		}
	}
	if c.IngestReplica < 0 || c.IngestReplica >= c.Replicas {
		bad("stack.containers.ingest_replica", "%d: want a replica from 0 to %d", c.IngestReplica, c.Replicas-1)
	}
	if c.WSIdleTimeout < 0 {
		bad("stack.containers.ws_idle_timeout", "must not be negative")
	}
	for i, f := range sc.Faults {
		p := fmt.Sprintf("faults[%d]", i)
		if !slices.Contains(FaultActions, f.Action) {
			msg := fmt.Sprintf("%q is not one of %s", f.Action, strings.Join(FaultActions, ", "))
			if s := suggest(f.Action, FaultActions); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			bad(p+".action", "%s", msg)
			continue
		}
		switch {
		case sc.Line(p+".at") > 0 && sc.Line(p+".session_at") > 0:
			bad(p+".session_at", "use at or session_at, not both")
		case f.At < 0 || f.SessionAt < 0:
			bad(p+".at", "must not be negative")
		case sc.Line(p+".at") == 0 && sc.Line(p+".session_at") == 0:
			bad(p, "say when: at (time since the replay began, e.g. 10s) or session_at (session time, e.g. 5m)")
		case f.SessionAt > 0 && sc.Speed == Max:
			bad(p+".session_at", "needs a replay speed (speed: max has no session clock); use at, or e.g. speed: 60x")
		}
		if f.For < 0 {
			bad(p+".for", "must not be negative")
		}
		onRedis := f.Action == FaultStopRedis || f.Action == FaultPauseRedis
		if onRedis {
			if c.Redis.Disabled {
				bad(p+".action", "%s needs the Redis service (stack.containers.redis)", f.Action)
			}
			if f.Replica != nil {
				bad(p+".replica", "%s acts on Redis, not on a replica", f.Action)
			}
		} else {
			switch {
			case f.Replica == nil:
				bad(p+".replica", "missing: the replica (0 to %d) to %s", c.Replicas-1, strings.TrimSuffix(f.Action, "_replica"))
			case *f.Replica < 0 || *f.Replica >= c.Replicas:
				bad(p+".replica", "%d: want a replica from 0 to %d", *f.Replica, c.Replicas-1)
			case *f.Replica == c.IngestReplica && f.Action != FaultPauseReplica:
				bad(p+".replica", "replica %d takes the ingest (stack.containers.ingest_replica): stopping it ends the replay; pick another replica", *f.Replica)
			}
		}
		if (f.Action == FaultStopRedis || f.Action == FaultPauseRedis || f.Action == FaultPauseReplica) && f.For <= 0 {
			bad(p+".for", "missing: how long %s lasts, e.g. 3s", f.Action)
		}
	}
	return errs
}
