package scenario

import "time"

// Scenario is one scenario file, after defaults are applied. Paths in it
// are resolved against the scenario file's directory.
type Scenario struct {
	// Name labels reports; defaults to the file name without extension.
	Name string `yaml:"name"`
	// Description is free text shown in reports.
	Description string `yaml:"description"`
	// Profile fills in a known stack contract's defaults per feature:
	// "thor" (the design's table) or empty (write every feature out).
	Profile string `yaml:"profile"`
	// Session is the recorded session to replay (thor-session/v1, plain or .gz).
	// Required unless Driver.Kind is "none".
	Session string `yaml:"session"`
	// Speed is the replay speed: "1x" (event time), "10x", "0.5x" or "max".
	Speed Speed `yaml:"speed"`
	// Stack is the stack under test.
	Stack Stack `yaml:"stack"`
	// Driver is how events reach the stack.
	Driver Driver `yaml:"driver"`
	// Subscribers is the number of WS subscribers recording every frame
	// (at least 2: the second one is the A/A twin). Default 3.
	Subscribers int `yaml:"subscribers"`
	// Settle is how the run waits, after the last event, for REST and WS to
	// come to rest before the final comparison.
	Settle Settle `yaml:"settle"`
	// Golden is the file of REST expectations recorded during shadow
	// (harness run --record-golden); features whose REST endpoint is
	// removed are compared with it instead of REST.
	Golden string `yaml:"golden"`
	// Features maps a feature name to how it is observed and compared.
	Features map[string]*Feature `yaml:"features"`
	// Thresholds decide each feature's verdict.
	Thresholds Thresholds `yaml:"thresholds"`
	// Load, when present, load-tests the broadcast path (harness load).
	Load *LoadSpec `yaml:"load"`
	// Faults is the schedule of faults a containers stack suffers during
	// the replay (see containers.go), e.g. [{at: 10s, action: stop_redis, for: 3s}].
	Faults []Fault `yaml:"faults"`

	// File is the scenario's path as loaded (not in YAML).
	File string `yaml:"-"`
	// Dir is the directory paths are resolved against (not in YAML).
	Dir string `yaml:"-"`
	// SHA256 of the scenario file's bytes (not in YAML).
	SHA256 string `yaml:"-"`

	lines      map[string]int
	checkFiles bool
}

// Stack kinds.
const (
	StackEmbedded = "embedded"
	StackURL      = "url"
	StackProcess  = "process"
)

// Port is the placeholder for the port the harness chose, in a process
// stack's command, env, rest and ws.
const Port = "{port}"

// Stack says where the stack under test is.
type Stack struct {
	// Kind is "embedded" (the reference stack in-process on 127.0.0.1, the
	// default), "url" (a stack already running), "process" (a command the
	// harness starts and stops, e.g. Daphne serving a Django project) or
	// "containers" (Redis and N replicas the harness brings up in Docker).
	Kind string `yaml:"kind"`
	// REST is the REST base URL (kinds url and process), e.g.
	// http://127.0.0.1:8000. Process default: http://127.0.0.1:{port}.
	REST string `yaml:"rest"`
	// WS is the WebSocket URL (kinds url and process), e.g.
	// ws://127.0.0.1:8000/ws/dashboard/. Process default:
	// ws://127.0.0.1:{port}/ws/dashboard/.
	WS string `yaml:"ws"`
	// Command is a process stack's command line, run without a shell;
	// "{port}" in it becomes the free loopback port the harness chose, e.g.
	// [python3, -m, daphne, -b, 127.0.0.1, -p, "{port}", thor.asgi:application].
	Command []string `yaml:"command"`
	// Dir is the process's working directory, relative to the scenario
	// file. Default: the scenario file's directory.
	Dir string `yaml:"dir"`
	// Env adds to the environment the process inherits from the harness
	// ("{port}" replaced), e.g. {THOR_REPLAY: "1"}. A process stack is
	// configured here: its flags, faults and channel layer.
	Env map[string]string `yaml:"env"`
	// Ready is the path polled until it answers 200, relative to REST.
	// Default /healthz.
	Ready string `yaml:"ready"`
	// ReadyTimeout bounds the wait for Ready. Default 60s.
	ReadyTimeout Duration `yaml:"ready_timeout"`
	// StopGrace is how long the process group has to exit after SIGTERM
	// before it is killed. Default 5s.
	StopGrace Duration `yaml:"stop_grace"`
	// Tap, when set, also receives every broadcast the stack makes on its
	// Redis channel layer (kinds url and process), so a WS loss can be told
	// apart: never broadcast, or broadcast and not delivered.
	Tap *Tap `yaml:"tap"`
	// Faults is the reference stack's fault SPEC (kind embedded), e.g.
	// "positions:drop=0.05,global_market:delay=2s".
	Faults string `yaml:"faults"`
	// Flags sets the reference stack's WS_FEATURE_* flags (kind embedded).
	Flags map[string]bool `yaml:"flags"`
	// RESTRemoved lists features whose REST endpoint the embedded stack has
	// deleted (410 Gone).
	RESTRemoved []string `yaml:"rest_removed"`
	// NoSeq makes the embedded stack omit "seq" everywhere.
	NoSeq bool `yaml:"no_seq"`
	// Containers configures a containers stack (kind containers): images,
	// replicas, Redis, readiness. See containers.go.
	Containers *Containers `yaml:"containers"`
}

// Channel layer kinds of a tap.
const (
	LayerCore   = "core"   // channels_redis.core.RedisChannelLayer
	LayerPubSub = "pubsub" // channels_redis.pubsub.RedisPubSubChannelLayer
)

// Tap is a stack's channels_redis channel layer, as its CHANNEL_LAYERS
// setting has it: the harness joins the group like one more consumer and
// records every message broadcast to it.
type Tap struct {
	// Redis is the layer's Redis URL (its "hosts"), e.g.
	// redis://127.0.0.1:6379/0. Required.
	Redis string `yaml:"redis"`
	// Group is the group the backend broadcasts to with group_send.
	// Required.
	Group string `yaml:"group"`
	// Prefix is the layer's "prefix". Default "asgi".
	Prefix string `yaml:"prefix"`
	// Layer is "core" (RedisChannelLayer, the default) or "pubsub"
	// (RedisPubSubChannelLayer).
	Layer string `yaml:"layer"`
	// Message is the gjson path, in a channel-layer message, of the WS
	// message the consumer sends its client, e.g. "message" for
	// group_send(group, {"type": "dashboard.message", "message": {...}}).
	// "@this": the channel-layer message itself. Default "message".
	Message string `yaml:"message"`
}

// Driver kinds.
const (
	DriverHTTP = "http"
	DriverNone = "none"
)

// Driver says how the session's events reach the stack.
type Driver struct {
	// Kind is "http" (POST batches to Ingest, the default) or "none"
	// (observe a stack that runs on live data for Duration).
	Kind string `yaml:"kind"`
	// Ingest is the ingest URL, absolute or relative to Stack.REST.
	// Default "/__replay/events".
	Ingest string `yaml:"ingest"`
	// Batch is the most events sent in one request. Default 500.
	Batch int `yaml:"batch"`
	// Duration is how long to observe with kind "none".
	Duration Duration `yaml:"duration"`
}

// Settle bounds the wait for the stack to come to rest after the replay.
type Settle struct {
	// Quiet is how long REST and WS must show no change. Default 1s.
	Quiet Duration `yaml:"quiet"`
	// Timeout is the longest wait; past it the run settles as it is and
	// the report says so. Default 30s.
	Timeout Duration `yaml:"timeout"`
}

// Feature kinds.
const (
	KindState  = "state"
	KindEvents = "events"
)

// Feature says how one feature is observed over REST and WS and compared.
type Feature struct {
	// Kind is "state" (items upserted by key) or "events" (each item
	// delivered once, e.g. bars).
	Kind string `yaml:"kind"`
	// REST says how the feature is polled.
	REST REST `yaml:"rest"`
	// WS says which messages carry the feature.
	WS WS `yaml:"ws"`
	// Key lists the item fields (gjson paths) that identify an item.
	Key []string `yaml:"key"`
	// Order is the item field that must increase per stream (events
	// features, e.g. "start"); empty for none.
	Order string `yaml:"order"`
	// Stream lists the key fields that name an ordered stream (events
	// features: "symbol"); defaults to Key minus Order.
	Stream []string `yaml:"stream"`
	// Ignore lists fields left out of the comparison, each with its reason.
	Ignore []Ignore `yaml:"ignore"`
	// Tolerance is the absolute difference under which two numbers are
	// equal. Default 0.000001.
	Tolerance float64 `yaml:"tolerance"`
	// FreshnessBudget is the most WS may trail REST before a value is
	// "late" (and REST may trail WS before it is "stale_rest"). Default 2s.
	FreshnessBudget Duration `yaml:"freshness_budget"`
}

// REST says how a feature is polled.
type REST struct {
	// Paths are polled in turn, each every Poll; their items together
	// form the feature's REST view. Relative to Stack.REST.
	Paths []string `yaml:"paths"`
	// Poll is the UI's polling interval per path. Default 1s.
	Poll Duration `yaml:"poll"`
	// Items is the gjson path to the item list in the body. Default "data";
	// "@this" for a body that is the list itself.
	Items string `yaml:"items"`
	// Seq is the gjson path to the body's seq; "" when the stack has none.
	// Default "seq".
	Seq *string `yaml:"seq"`
	// Removed says the endpoint has been deleted (cleanup): its paths must
	// answer 404 or 410, and WS is compared with the scenario's golden
	// expectations instead of REST.
	Removed bool `yaml:"removed"`
}

// WS says which WS messages carry a feature and where its items are.
type WS struct {
	// TypeField is the gjson path of the message type. Default "type".
	TypeField string `yaml:"type_field"`
	// Type is the TypeField value of this feature's messages.
	Type string `yaml:"type"`
	// Items is the gjson path to the item (an object) or items (an array)
	// in a message. Default "data".
	Items string `yaml:"items"`
	// Seq is the gjson path to the message's seq; "" when none. Default "seq".
	Seq *string `yaml:"seq"`
}

// Ignore leaves a field out of the comparison. Every rule needs a reason,
// and a rule that never matched is reported.
type Ignore struct {
	// Field is the item field (gjson path) to drop.
	Field string `yaml:"field"`
	// Reason says why this field may differ.
	Reason string `yaml:"reason"`
}

// Thresholds decide each feature's verdict.
type Thresholds struct {
	// MaxFindings is the most findings (of any failing kind) a feature may
	// have and pass. Default 0.
	MaxFindings *int `yaml:"max_findings"`
	// FreshnessP99 is the most the 99th percentile of WS-minus-REST lag may
	// be. Default: the feature's freshness budget.
	FreshnessP99 Duration `yaml:"freshness_p99"`
	// MinRESTSamples is the fewest successful REST polls a feature needs
	// for a verdict other than INCONCLUSIVE. Default 3.
	MinRESTSamples int `yaml:"min_rest_samples"`
	// MinWSItems is the fewest WS items a feature needs. Default 1.
	MinWSItems int `yaml:"min_ws_items"`
	// Convergence is the longest a WS subscriber's state may take, after a
	// scheduled fault ended, to equal REST's again (state features). Zero:
	// measured and reported, not gated.
	Convergence Duration `yaml:"convergence"`
}

// Duration is a time.Duration written as "250ms", "2s", "1m30s".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Speed is the replay speed: a factor of event time, 0 meaning "max".
type Speed float64

// Max is as fast as the stack acknowledges.
const Max Speed = 0
