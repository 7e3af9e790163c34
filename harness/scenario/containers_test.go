package scenario

import (
	"strings"
	"testing"
	"time"
)

func TestContainersDefaults(t *testing.T) {
	sc, err := Load(writeScenario(t, minimal+`stack: {kind: containers}
speed: 60x
faults:
  - {at: 10s, action: stop_redis, for: 3s}
  - {session_at: 5m, action: kill_replica, replica: 1}
thresholds: {convergence: 10s}
`))
	if err != nil {
		t.Fatal(err)
	}
	c := sc.Stack.Containers
	if c == nil || c.Image != DefaultStackImage || c.Replicas != 2 || c.Port != 8000 || c.WSPath != "/ws/dashboard/" ||
		c.Ready != "/healthz" || c.ReadyTimeout.D() != time.Minute || c.Redis.Image != DefaultRedisImage || c.IngestReplica != 0 {
		t.Errorf("containers defaults: %+v", c)
	}
	if len(sc.Faults) != 2 || sc.Faults[0].Start(sc.Speed) != 10*time.Second || sc.Faults[1].Start(sc.Speed) != 5*time.Second {
		t.Errorf("faults: %+v", sc.Faults)
	}
	if got := sc.Faults[1].String(); got != "kill_replica 1" {
		t.Errorf("String = %q", got)
	}
	if sc.Thresholds.Convergence.D() != 10*time.Second {
		t.Errorf("convergence threshold %v", sc.Thresholds.Convergence)
	}
}

func TestContainersErrors(t *testing.T) {
	stack := func(s string) string { return minimal + "stack:\n  kind: containers\n" + s }
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"faults need containers", minimal + "faults: [{at: 1s, action: stop_redis, for: 1s}]\n",
			[]string{`"faults"`, "stack.kind: containers"}},
		{"containers need the kind", minimal + "stack:\n  containers: {replicas: 2}\n",
			[]string{"sc.yaml:6:", `"stack.containers"`, "kind: containers"}},
		{"misspelled field", stack("  containers: {replica: 2}\n"),
			[]string{"sc.yaml:7:", `"stack.containers.replica"`, `did you mean "replicas"`}},
		{"no address", stack("  rest: http://x\n"), []string{`"stack.rest"`, "from Docker"}},
		{"replicas without redis", stack("  containers: {replicas: 2, redis: {disabled: true}}\n"),
			[]string{`"stack.containers.redis.disabled"`, "through Redis"}},
		{"image and build", stack("  containers: {image: x, build: {context: .}}\n"),
			[]string{`"stack.containers.image"`, "not both"}},
		{"missing build dir", stack("  containers: {build: {context: nope}}\n"),
			[]string{`"stack.containers.build.context"`, "nope"}},
		{"command and faults", stack("  faults: positions:drop=0.1\n  containers: {command: [x]}\n"),
			[]string{`"stack.faults"`, "command or env"}},
		{"bad ingest replica", stack("  containers: {replicas: 2, ingest_replica: 2}\n"),
			[]string{`"stack.containers.ingest_replica"`, "0 to 1"}},
		{"unknown action", stack("faults: [{at: 1s, action: stop_reddis, for: 1s}]\n"),
			[]string{`"faults[0].action"`, `did you mean "stop_redis"`}},
		{"no time", stack("faults: [{action: stop_redis, for: 1s}]\n"), []string{`"faults[0]"`, "say when"}},
		{"session time at max", stack("faults: [{session_at: 1m, action: stop_redis, for: 1s}]\n"),
			[]string{`"faults[0].session_at"`, "speed"}},
		{"no duration", stack("faults: [{at: 1s, action: stop_redis}]\n"), []string{`"faults[0].for"`, "how long"}},
		{"no replica", stack("faults: [{at: 1s, action: kill_replica}]\n"), []string{`"faults[0].replica"`, "missing"}},
		{"replica out of range", stack("faults: [{at: 1s, action: kill_replica, replica: 5}]\n"),
			[]string{`"faults[0].replica"`, "0 to 1"}},
		{"ingest replica", stack("faults: [{at: 1s, action: kill_replica, replica: 0}]\n"),
			[]string{`"faults[0].replica"`, "ingest"}},
		{"replica on redis", stack("faults: [{at: 1s, action: pause_redis, replica: 1, for: 1s}]\n"),
			[]string{`"faults[0].replica"`, "acts on Redis"}},
		{"negative convergence", minimal + "thresholds: {convergence: -1s}\n", []string{`"thresholds.convergence"`, "negative"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(writeScenario(t, tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			at := 0
			for _, w := range tc.want {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error %q lacks %q (in order)", msg, w)
				}
				at += i + len(w)
			}
		})
	}
}
