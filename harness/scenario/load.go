package scenario

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/thor-trading/cutover-harness/harness/internal/strictyaml"
)

// Load reads, checks and completes a scenario file. Every problem is
// reported with the file, line and field, all at once (an Errors value).
func Load(path string) (*Scenario, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read the scenario: %v: name a scenario file, e.g. scenarios/shadow.yaml", unwrapPath(err))}
	}
	return Parse(path, src)
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// LoadCopy loads the copy of a scenario kept in a run directory, to diff
// the run again offline: its relative paths were relative to the original
// file, so they are not checked.
func LoadCopy(path string) (*Scenario, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("cannot read the scenario: %v", unwrapPath(err))}
	}
	return parse(path, src, false)
}

// Parse is Load for a scenario already in memory; path names it in errors
// and anchors its relative paths.
func Parse(path string, src []byte) (*Scenario, error) { return parse(path, src, true) }

func parse(path string, src []byte, checkFiles bool) (*Scenario, error) {
	sc := &Scenario{checkFiles: checkFiles}
	lines, err := strictyaml.Decode(path, src, sc, "a scenario names at least a session and its features (see scenarios/shadow.yaml)")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(src)
	sc.File, sc.Dir, sc.SHA256, sc.lines = path, filepath.Dir(path), hex.EncodeToString(sum[:]), lines
	sc.applyDefaults()
	sc.loadDefaults()
	errs := sc.check()
	errs = append(errs, sc.checkLoad()...)
	if len(errs) > 0 {
		return nil, errs
	}
	return sc, nil
}

// Line returns the line a field path was written on (0 when it was not
// written, e.g. a default).
func (sc *Scenario) Line(field string) int { return sc.lines[field] }

// Errorf makes an error about a field of this scenario, for checks done
// outside this package (e.g. a fault SPEC the stack rejects).
func (sc *Scenario) Errorf(field, format string, args ...any) *Error {
	line := sc.Line(field)
	for f := field; line == 0 && strings.Contains(f, "."); {
		f = f[:strings.LastIndex(f, ".")]
		line = sc.Line(f)
	}
	return &Error{File: sc.File, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Path resolves p against the scenario's directory.
func (sc *Scenario) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(sc.Dir, p)
}

// FeatureNames returns the features in a stable order: the thor profile's
// order first, then the others by name.
func (sc *Scenario) FeatureNames() []string {
	rank := map[string]int{}
	for i, f := range ThorFeatures {
		rank[f] = i + 1
	}
	names := make([]string, 0, len(sc.Features))
	for n := range sc.Features {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := rank[names[i]], rank[names[j]]
		if ri == 0 {
			ri = 1 << 20
		}
		if rj == 0 {
			rj = 1 << 20
		}
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})
	return names
}

func strp(s string) *string { return &s }

func (sc *Scenario) applyDefaults() {
	if sc.Name == "" {
		sc.Name = strings.TrimSuffix(filepath.Base(sc.File), filepath.Ext(sc.File))
	}
	if sc.Stack.Kind == "" {
		sc.Stack.Kind = StackEmbedded
	}
	sc.stackDefaults()
	sc.containersDefaults()
	if sc.Driver.Kind == "" {
		sc.Driver.Kind = DriverHTTP
	}
	if sc.Driver.Ingest == "" {
		sc.Driver.Ingest = "/__replay/events"
	}
	if sc.Driver.Batch == 0 {
		sc.Driver.Batch = 500
	}
	if sc.Subscribers == 0 {
		sc.Subscribers = 3
	}
	if sc.Settle.Quiet == 0 {
		sc.Settle.Quiet = Duration(time.Second)
	}
	if sc.Settle.Timeout == 0 {
		sc.Settle.Timeout = Duration(30 * time.Second)
	}
	if sc.Thresholds.MaxFindings == nil {
		zero := 0
		sc.Thresholds.MaxFindings = &zero
	}
	if sc.Thresholds.MinRESTSamples == 0 {
		sc.Thresholds.MinRESTSamples = 3
	}
	if sc.Thresholds.MinWSItems == 0 {
		sc.Thresholds.MinWSItems = 1
	}
	for name, f := range sc.Features {
		if f == nil {
			f = &Feature{}
			sc.Features[name] = f
		}
		if sc.Profile == ProfileThor {
			thorDefaults(name, f)
		}
		if f.Kind == "" {
			f.Kind = KindState
		}
		if f.REST.Poll == 0 {
			f.REST.Poll = Duration(time.Second)
		}
		if f.REST.Items == "" {
			f.REST.Items = "data"
		}
		// An embedded stack told to drop seq has none to find.
		seq := "seq"
		if sc.Stack.NoSeq {
			seq = ""
		}
		if f.REST.Seq == nil {
			f.REST.Seq = strp(seq)
		}
		if f.WS.TypeField == "" {
			f.WS.TypeField = "type"
		}
		if f.WS.Items == "" {
			f.WS.Items = "data"
		}
		if f.WS.Seq == nil {
			f.WS.Seq = strp(seq)
		}
		if f.Tolerance == 0 {
			f.Tolerance = 1e-6
		}
		if f.FreshnessBudget == 0 {
			f.FreshnessBudget = Duration(2 * time.Second)
		}
		if f.Kind == KindEvents && len(f.Stream) == 0 && f.Order != "" {
			for _, k := range f.Key {
				if k != f.Order {
					f.Stream = append(f.Stream, k)
				}
			}
		}
	}
}

func (sc *Scenario) check() Errors {
	var errs Errors
	bad := func(field, format string, args ...any) {
		errs = append(errs, sc.Errorf(field, format, args...))
	}
	oneOf := func(field, got string, want ...string) {
		for _, w := range want {
			if got == w {
				return
			}
		}
		msg := fmt.Sprintf("%q is not one of %s", got, strings.Join(want, ", "))
		if s := suggest(got, want); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		bad(field, "%s", msg)
	}
	if sc.Profile != "" {
		oneOf("profile", sc.Profile, ProfileThor)
	}
	oneOf("stack.kind", sc.Stack.Kind, StackEmbedded, StackURL, StackProcess, StackContainers)
	oneOf("driver.kind", sc.Driver.Kind, DriverHTTP, DriverNone)
	switch sc.Stack.Kind {
	case StackURL:
		if !strings.HasPrefix(sc.Stack.REST, "http://") && !strings.HasPrefix(sc.Stack.REST, "https://") {
			bad("stack.rest", "a url stack needs its REST base URL, e.g. http://127.0.0.1:8000")
		}
		if !strings.HasPrefix(sc.Stack.WS, "ws://") && !strings.HasPrefix(sc.Stack.WS, "wss://") {
			bad("stack.ws", "a url stack needs its WebSocket URL, e.g. ws://127.0.0.1:8000/ws/dashboard/")
		}
		for _, f := range []string{"faults", "flags", "rest_removed", "no_seq"} {
			if sc.Line("stack."+f) > 0 {
				bad("stack."+f, "only an embedded stack can be configured by the harness; set this on the stack you started")
			}
		}
	case StackEmbedded:
		for _, f := range []string{"rest", "ws"} {
			if sc.Line("stack."+f) > 0 {
				bad("stack."+f, "an embedded stack chooses its own address; use kind: url to name one")
			}
		}
	}
	errs = append(errs, sc.checkProcess()...)
	errs = append(errs, sc.checkContainers()...)
	if sc.Driver.Kind == DriverHTTP {
		if sc.Session == "" {
			bad("session", "missing: name the recorded session to replay, e.g. ../fixtures/sessions/rth-short.jsonl")
		} else if !sc.checkFiles {
		} else if st, err := os.Stat(sc.Path(sc.Session)); err != nil {
			hint := ""
			if !filepath.IsAbs(sc.Session) {
				hint = " (a relative path is relative to the scenario file's directory)"
			}
			bad("session", "cannot read %s: %v%s", sc.Path(sc.Session), unwrapPath(err), hint)
		} else if st.IsDir() {
			bad("session", "%s is a directory, not a session file", sc.Path(sc.Session))
		}
		if sc.Driver.Batch < 1 {
			bad("driver.batch", "must be at least 1")
		}
	}
	if sc.Driver.Kind == DriverNone && sc.Driver.Duration <= 0 {
		bad("driver.duration", "driver none observes a live stack: say for how long, e.g. 5m")
	}
	if sc.Subscribers < 2 {
		bad("subscribers", "must be at least 2 (the second subscriber is the A/A twin of the first)")
	}
	if sc.Subscribers > 256 {
		bad("subscribers", "%d is more than a run records (256); use harness load for fan-out at scale", sc.Subscribers)
	}
	if sc.Settle.Quiet >= sc.Settle.Timeout {
		bad("settle.quiet", "must be shorter than settle.timeout (%s)", sc.Settle.Timeout.D())
	}
	if *sc.Thresholds.MaxFindings < 0 {
		bad("thresholds.max_findings", "must not be negative")
	}
	if sc.Thresholds.MinRESTSamples < 0 {
		bad("thresholds.min_rest_samples", "must not be negative")
	}
	if sc.Thresholds.MinWSItems < 0 {
		bad("thresholds.min_ws_items", "must not be negative")
	}
	if len(sc.Features) == 0 && sc.Load == nil {
		bad("features", "missing: a scenario compares at least one feature (or load-tests the broadcast path with a load section)")
	}
	removed := false
	for _, f := range sc.Features {
		removed = removed || f.REST.Removed
	}
	switch {
	case removed && sc.Golden == "":
		bad("golden", "missing: a feature whose REST endpoint is removed is compared with golden expectations (record them with harness run --record-golden during shadow)")
	case sc.Golden != "" && sc.checkFiles:
		if _, err := os.Stat(sc.Path(sc.Golden)); err != nil {
			bad("golden", "cannot read %s: %v (record it with harness run --record-golden during shadow)", sc.Path(sc.Golden), unwrapPath(err))
		}
	}
	wsTypes := map[string]string{} // type field and type → the feature that has it
	for _, name := range sc.FeatureNames() {
		f, p := sc.Features[name], "features."+name
		oneOf(p+".kind", f.Kind, KindState, KindEvents)
		if len(f.REST.Paths) == 0 {
			bad(p+".rest.paths", "missing: list the REST path(s) that serve this feature")
		}
		for i, rp := range f.REST.Paths {
			if !strings.HasPrefix(rp, "/") {
				bad(fmt.Sprintf("%s.rest.paths[%d]", p, i), "%q must start with / (it is relative to the stack's REST base)", rp)
			}
		}
		if f.WS.Type == "" {
			bad(p+".ws.type", "missing: the message type that carries this feature")
		}
		if len(f.Key) == 0 {
			bad(p+".key", "missing: the item field(s) that identify an item, e.g. [account_id]")
		}
		for i, k := range f.Key {
			if k == "" {
				bad(fmt.Sprintf("%s.key[%d]", p, i), "empty key field")
			}
		}
		if f.Kind == KindEvents && f.Order != "" && !contains(f.Key, f.Order) {
			bad(p+".order", "%q must be one of the key fields %v", f.Order, f.Key)
		}
		if f.Kind == KindState {
			// Written for a state feature, order and stream would be
			// silently unused: say so rather than let them look checked.
			for _, field := range []string{"order", "stream"} {
				if sc.Line(p+"."+field) > 0 {
					bad(p+"."+field, "applies to events features only (kind: events); a state feature's items are compared by key: remove it or set kind: events")
				}
			}
		}
		if f.Kind == KindEvents {
			for i, s := range f.Stream {
				switch {
				case !contains(f.Key, s):
					bad(fmt.Sprintf("%s.stream[%d]", p, i), "%q is not one of the key fields %v: a stream is named by key fields", s, f.Key)
				case s == f.Order:
					bad(fmt.Sprintf("%s.stream[%d]", p, i), "%q is the order field: a stream is named by the other key fields", s)
				}
			}
		}
		// Two features with one message type: the second would never
		// receive a message, and look like a stack that sends nothing.
		typ := f.WS.TypeField + "\x00" + f.WS.Type
		if first, dup := wsTypes[typ]; dup && f.WS.Type != "" {
			bad(p+".ws.type", "%q is already the message type of features.%s: each feature needs its own ws.type (or ws.type_field), or the diff cannot tell their messages apart", f.WS.Type, first)
		} else {
			wsTypes[typ] = name
		}
		if f.Tolerance < 0 {
			bad(p+".tolerance", "must not be negative")
		}
		for i, ig := range f.Ignore {
			q := fmt.Sprintf("%s.ignore[%d]", p, i)
			if ig.Field == "" {
				bad(q+".field", "missing: the field to leave out")
			}
			if strings.TrimSpace(ig.Reason) == "" {
				bad(q+".reason", "missing: every ignore rule must say why the field may differ")
			}
			if contains(f.Key, ig.Field) {
				bad(q+".field", "%q is a key field and cannot be ignored", ig.Field)
			}
		}
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// stackDefaults fills in a process stack's and a tap's defaults.
func (sc *Scenario) stackDefaults() {
	st := &sc.Stack
	if st.Kind == StackProcess {
		if st.REST == "" {
			st.REST = "http://127.0.0.1:" + Port
		}
		if st.WS == "" {
			st.WS = "ws://127.0.0.1:" + Port + "/ws/dashboard/"
		}
		if st.Ready == "" {
			st.Ready = "/healthz"
		}
		if st.ReadyTimeout == 0 {
			st.ReadyTimeout = Duration(60 * time.Second)
		}
		if st.StopGrace == 0 {
			st.StopGrace = Duration(5 * time.Second)
		}
	}
	if t := st.Tap; t != nil {
		if t.Prefix == "" {
			t.Prefix = "asgi"
		}
		if t.Layer == "" {
			t.Layer = LayerCore
		}
		if t.Message == "" {
			t.Message = "message"
		}
	}
}

// groupName is what channels accepts as a group name.
var groupName = regexp.MustCompile(`^[a-zA-Z0-9_.\-]{1,99}$`)

// checkProcess checks the fields of a process stack and of a tap.
func (sc *Scenario) checkProcess() Errors {
	var errs Errors
	bad := func(field, format string, args ...any) {
		errs = append(errs, sc.Errorf(field, format, args...))
	}
	st := &sc.Stack
	if st.Kind != StackProcess {
		for _, f := range []string{"command", "dir", "env", "ready", "ready_timeout", "stop_grace"} {
			if sc.Line("stack."+f) > 0 {
				bad("stack."+f, "only a process stack (kind: process) is started by the harness")
			}
		}
	} else {
		switch {
		case len(st.Command) == 0:
			bad("stack.command", `missing: the command that serves the stack, e.g. [python3, -m, daphne, -b, 127.0.0.1, -p, "{port}", myproject.asgi:application]`)
		case strings.TrimSpace(st.Command[0]) == "":
			bad("stack.command[0]", "empty program name")
		}
		if !strings.HasPrefix(st.REST, "http://") && !strings.HasPrefix(st.REST, "https://") {
			bad("stack.rest", "%q: want an http:// or https:// URL, e.g. http://127.0.0.1:{port}", st.REST)
		}
		if !strings.HasPrefix(st.WS, "ws://") && !strings.HasPrefix(st.WS, "wss://") {
			bad("stack.ws", "%q: want a ws:// or wss:// URL, e.g. ws://127.0.0.1:{port}/ws/dashboard/", st.WS)
		}
		for _, f := range []string{"faults", "flags", "rest_removed", "no_seq"} {
			if sc.Line("stack."+f) > 0 {
				bad("stack."+f, "a process stack is configured through its env (its WS_FEATURE_* flags, fault switches, ...), not by the harness")
			}
		}
		if st.Dir != "" && sc.checkFiles {
			if fi, err := os.Stat(sc.Path(st.Dir)); err != nil {
				bad("stack.dir", "cannot use %s: %v", sc.Path(st.Dir), unwrapPath(err))
			} else if !fi.IsDir() {
				bad("stack.dir", "%s is not a directory", sc.Path(st.Dir))
			}
		}
		if !strings.HasPrefix(st.Ready, "/") {
			bad("stack.ready", "%q must start with / (it is relative to the stack's REST base)", st.Ready)
		}
		if st.ReadyTimeout < 0 {
			bad("stack.ready_timeout", "must not be negative")
		}
		if st.StopGrace < 0 {
			bad("stack.stop_grace", "must not be negative")
		}
	}
	t := st.Tap
	if t == nil {
		return errs
	}
	switch st.Kind {
	case StackEmbedded:
		bad("stack.tap", "the embedded reference stack has no Redis channel layer to tap; tap a url or process stack")
	case StackContainers:
		bad("stack.tap", "a containers stack's Redis lives on the stack's private network, and the reference image's Redis layer is not a channels_redis group; tap a url or process stack")
	}
	if u, err := url.Parse(t.Redis); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
		bad("stack.tap.redis", "%q: want the channel layer's Redis URL, e.g. redis://127.0.0.1:6379/0", t.Redis)
	}
	if !groupName.MatchString(t.Group) {
		bad("stack.tap.group", "%q: want the group the backend broadcasts to (letters, digits, _ . -), e.g. dashboard", t.Group)
	}
	if t.Layer != LayerCore && t.Layer != LayerPubSub {
		msg := fmt.Sprintf("%q is not one of %s, %s", t.Layer, LayerCore, LayerPubSub)
		if s := suggest(t.Layer, []string{LayerCore, LayerPubSub}); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		bad("stack.tap.layer", "%s", msg)
	}
	return errs
}
