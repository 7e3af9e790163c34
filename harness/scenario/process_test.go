package scenario

import (
	"strings"
	"testing"
	"time"
)

func TestProcessStackDefaults(t *testing.T) {
	sc, err := Load(writeScenario(t, minimal+`stack:
  kind: process
  command: [python3, -m, daphne, -p, "{port}", thor.asgi:application]
  env: {THOR_REPLAY: "1"}
  tap: {redis: "redis://127.0.0.1:6379/0", group: dashboard}
`))
	if err != nil {
		t.Fatal(err)
	}
	st := sc.Stack
	if st.REST != "http://127.0.0.1:{port}" || st.WS != "ws://127.0.0.1:{port}/ws/dashboard/" || st.Ready != "/healthz" ||
		st.ReadyTimeout.D() != time.Minute || st.StopGrace.D() != 5*time.Second || st.Env["THOR_REPLAY"] != "1" {
		t.Errorf("process defaults: %+v", st)
	}
	if tp := st.Tap; tp.Prefix != "asgi" || tp.Layer != LayerCore || tp.Message != "message" {
		t.Errorf("tap defaults: %+v", tp)
	}
}

func TestProcessStackErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"no command", minimal + "stack: {kind: process}\n", []string{"sc.yaml:5:", `"stack.command"`, "missing"}},
		{"harness-side faults", minimal + "stack:\n  kind: process\n  command: [x]\n  faults: positions:drop=0.1\n",
			[]string{"sc.yaml:8:", `"stack.faults"`, "through its env"}},
		{"missing dir", minimal + "stack: {kind: process, command: [x], dir: nope}\n", []string{`"stack.dir"`, "nope"}},
		{"bad ready", minimal + "stack: {kind: process, command: [x], ready: healthz}\n", []string{`"stack.ready"`, "must start with /"}},
		{"command on a url stack", minimal + "stack: {kind: url, rest: 'http://a', ws: 'ws://a', command: [x]}\n",
			[]string{`"stack.command"`, "only a process stack"}},
		{"tap on embedded", minimal + "stack: {tap: {redis: 'redis://127.0.0.1:6379/0', group: dashboard}}\n",
			[]string{`"stack.tap"`, "no Redis channel layer"}},
		{"tap on containers", minimal + "stack: {kind: containers, tap: {redis: 'redis://127.0.0.1:6379/0', group: dashboard}}\n",
			[]string{"sc.yaml:5:", `"stack.tap"`, "private network", "url or process stack"}},
		{"tap without group", minimal + "stack: {kind: process, command: [x], tap: {redis: 'redis://127.0.0.1:6379/0'}}\n",
			[]string{`"stack.tap.group"`}},
		{"tap bad url", minimal + "stack: {kind: process, command: [x], tap: {redis: '127.0.0.1:6379', group: g}}\n",
			[]string{`"stack.tap.redis"`, "redis://"}},
		{"tap bad layer", minimal + "stack: {kind: process, command: [x], tap: {redis: 'redis://h', group: g, layer: pubsb}}\n",
			[]string{`"stack.tap.layer"`, `did you mean "pubsub"`}},
		{"tap misspelled", minimal + "stack: {kind: process, command: [x], tap: {redis: 'redis://h', grup: g}}\n",
			[]string{`"stack.tap.grup"`, `did you mean "group"`}},
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
					t.Fatalf("error %q lacks %q (after offset %d)", msg, w, at)
				}
				at += i
			}
		})
	}
}
