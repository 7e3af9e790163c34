package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// robustSession is a short valid session: a header and three events.
const robustSession = `{"format":"thor-session/v1","name":"robust","start":"2026-03-02T14:30:00Z","instruments":{"ES":{"multiplier":50,"tick_size":0.25}},"accounts":["ACC-1"],"markets":["NewYork"]}
{"seq":1,"t":"2026-03-02T14:30:00.000Z","type":"market_status","data":{"market":"NewYork","status":"OPEN"}}
{"seq":2,"t":"2026-03-02T14:30:00.250Z","type":"tick","data":{"symbol":"ES","price":5123.25,"size":3}}
{"seq":3,"t":"2026-03-02T14:30:01.000Z","type":"account","data":{"account_id":"ACC-1","cash":100000.00,"buying_power":400000.00}}
`

// robustScenario is a valid scenario over s.jsonl; cases add to or replace
// parts of it.
const robustScenario = `profile: thor
session: s.jsonl
features:
  positions: {}
`

// robustPhases is a valid phases file.
const robustPhases = `phases:
  - name: shadow
    requires: []
    scenarios: [scenarios/shadow.yaml]
  - name: cutover/positions
    requires: [shadow]
    scenarios: [scenarios/cutover-positions.yaml]
`

// TestBadInputIsExit2 feeds the harness malformed scenarios, sessions,
// phases files and command lines, in-process. Each must exit 2 (bad input)
// with a message that names the file, the line and the field (or the flag)
// and says what to do, never crash, hang or start a run.
//
// files are written into a fresh directory (a name ending in "/" is made a
// directory, for a file nobody can read as a file, root included); "{dir}"
// in args and want is that directory.
func TestBadInputIsExit2(t *testing.T) {
	type files = map[string]string
	sc := func(src string) files { return files{"sc.yaml": src, "s.jsonl": robustSession} }
	run := []string{"run", "{dir}/sc.yaml", "--out", "{dir}/out"}
	gate := func(extra ...string) []string {
		return append([]string{"gate", "--phases", "{dir}/phases.yaml", "--ledger", "{dir}/ledger.jsonl", "--signers", "{dir}/signers"}, extra...)
	}
	session := func(ev ...string) string {
		return strings.SplitAfterN(robustSession, "\n", 2)[0] + strings.Join(ev, "\n") + "\n"
	}
	for _, tc := range []struct {
		name  string
		files files
		args  []string
		want  []string // substrings of stderr
	}{
		// Scenario files: unknown fields, wrong types.
		{"scenario/unknown field", sc(robustScenario + "speeed: max\n"), run,
			[]string{"{dir}/sc.yaml:5:", `field "speeed"`, `did you mean "speed"`}},
		{"scenario/unknown nested field", sc("profile: thor\nsession: s.jsonl\nfeatures:\n  positions:\n    rest: {pol: 1s}\n"), run,
			[]string{"sc.yaml:5:", `field "features.positions.rest.pol"`, `did you mean "poll"`}},
		{"scenario/unknown field far from any", sc(robustScenario + "zzzzzz: 1\n"), run,
			[]string{"sc.yaml:5:", `field "zzzzzz"`, "known fields:", "subscribers"}},
		{"scenario/number for a string", sc(robustScenario + "subscribers: many\n"), run,
			[]string{"sc.yaml:5:", `field "subscribers"`, "want a whole number", `"many"`}},
		{"scenario/list for a mapping", sc("profile: thor\nsession: s.jsonl\nfeatures: [positions]\n"), run,
			[]string{"sc.yaml:3:", `field "features"`, "want a mapping", "a list"}},
		{"scenario/string for a mapping", sc(robustScenario + "stack: embedded\n"), run,
			[]string{"sc.yaml:5:", `field "stack"`, "want a mapping", `"embedded"`}},
		{"scenario/yes for a bool", sc(robustScenario + "stack: {no_seq: yes}\n"), run,
			[]string{"sc.yaml:5:", `field "stack.no_seq"`, "want true or false", `"yes"`}},
		{"scenario/float for a count", sc(robustScenario + "subscribers: 2.5\n"), run,
			[]string{"sc.yaml:5:", `field "subscribers"`, "whole number"}},
		{"scenario/mapping for a list", sc("profile: thor\nsession: s.jsonl\nfeatures:\n  positions: {key: {a: 1}}\n"), run,
			[]string{"sc.yaml:4:", `field "features.positions.key"`, "want a list"}},
		{"scenario/string for a number", sc("profile: thor\nsession: s.jsonl\nfeatures:\n  positions: {tolerance: tiny}\n"), run,
			[]string{"sc.yaml:4:", `field "features.positions.tolerance"`, "want a number"}},

		// Durations, rates (speeds) and counts.
		{"scenario/duration without unit", sc("profile: thor\nsession: s.jsonl\nfeatures:\n  positions:\n    rest: {poll: 250}\n"), run,
			[]string{"sc.yaml:5:", `field "features.positions.rest.poll"`, "no unit", "250ms"}},
		{"scenario/duration not a duration", sc(robustScenario + "settle: {quiet: soon}\n"), run,
			[]string{"sc.yaml:5:", `field "settle.quiet"`, "not a duration", "1m30s"}},
		{"scenario/negative duration", sc("profile: thor\nsession: s.jsonl\nfeatures:\n  positions: {freshness_budget: -1s}\n"), run,
			[]string{"sc.yaml:4:", `field "features.positions.freshness_budget"`, "negative"}},
		{"scenario/duration as a list", sc(robustScenario + "settle: {timeout: [1s]}\n"), run,
			[]string{"sc.yaml:5:", `field "settle.timeout"`, "want a duration", "a list"}},
		{"scenario/speed without x", sc(robustScenario + "speed: fast\n"), run,
			[]string{"sc.yaml:5:", `field "speed"`, "max, 1x, 10x or 0.5x"}},
		{"scenario/zero speed", sc(robustScenario + "speed: 0x\n"), run,
			[]string{"sc.yaml:5:", `field "speed"`, `"0x" is not a speed`}},
		{"scenario/negative speed", sc(robustScenario + "speed: -2x\n"), run,
			[]string{"sc.yaml:5:", `field "speed"`, `"-2x" is not a speed`}},
		{"scenario/one subscriber", sc(robustScenario + "subscribers: 1\n"), run,
			[]string{"sc.yaml:5:", `field "subscribers"`, "at least 2", "A/A twin"}},
		{"scenario/too many subscribers", sc(robustScenario + "subscribers: 1000\n"), run,
			[]string{"sc.yaml:5:", `field "subscribers"`, "harness load"}},
		{"scenario/negative batch", sc(robustScenario + "driver: {batch: -5}\n"), run,
			[]string{"sc.yaml:5:", `field "driver.batch"`, "at least 1"}},
		{"scenario/quiet longer than timeout", sc(robustScenario + "settle: {quiet: 1m, timeout: 10s}\n"), run,
			[]string{"sc.yaml:5:", `field "settle.quiet"`, "shorter than settle.timeout"}},

		// Negative thresholds.
		{"scenario/negative max_findings", sc(robustScenario + "thresholds:\n  max_findings: -1\n"), run,
			[]string{"sc.yaml:6:", `field "thresholds.max_findings"`, "must not be negative"}},
		{"scenario/negative min_rest_samples", sc(robustScenario + "thresholds:\n  min_rest_samples: -3\n"), run,
			[]string{"sc.yaml:6:", `field "thresholds.min_rest_samples"`, "must not be negative"}},
		{"scenario/negative freshness_p99", sc(robustScenario + "thresholds:\n  freshness_p99: -2s\n"), run,
			[]string{"sc.yaml:6:", `field "thresholds.freshness_p99"`, "negative"}},
		{"scenario/negative tolerance", sc("profile: thor\nsession: s.jsonl\nfeatures:\n  positions: {tolerance: -0.5}\n"), run,
			[]string{"sc.yaml:4:", `field "features.positions.tolerance"`, "must not be negative"}},

		// Missing and unreadable files.
		{"scenario/missing session", sc("profile: thor\nfeatures:\n  positions: {}\n"), run,
			[]string{"sc.yaml", `field "session"`, "missing", "rth-short.jsonl"}},
		{"scenario/missing fixture", sc("profile: thor\nsession: nope.jsonl\nfeatures:\n  positions: {}\n"), run,
			[]string{"sc.yaml:2:", `field "session"`, "nope.jsonl", "no such file", "relative to the scenario file"}},
		{"scenario/fixture is a directory", files{"sc.yaml": "profile: thor\nsession: sessions/\nfeatures:\n  positions: {}\n", "sessions/": ""}, run,
			[]string{"sc.yaml:2:", `field "session"`, "is a directory, not a session file"}},
		{"scenario/scenario is a directory", files{"sc.yaml/": ""}, run,
			[]string{"{dir}/sc.yaml", "cannot read the scenario", "is a directory", "name a scenario file"}},
		{"scenario/no such scenario", files{}, run,
			[]string{"{dir}/sc.yaml", "cannot read the scenario", "no such file", "name a scenario file"}},
		{"scenario/empty file", sc(""), run,
			[]string{"sc.yaml", "empty", "session", "features"}},
		{"scenario/YAML syntax", sc(robustScenario + "stack: {kind: url\n"), run,
			[]string{"sc.yaml:4: YAML syntax: did not find expected"}},
		{"scenario/tab indentation", sc("profile: thor\nsession: s.jsonl\nfeatures:\n\tpositions: {}\n"), run,
			[]string{"sc.yaml:4: YAML syntax", "indent YAML with spaces"}},

		// Duplicates and selectors that cannot match.
		{"scenario/duplicate feature", sc(robustScenario + "  positions: {}\n"), run,
			[]string{"sc.yaml:5:", `field "features.positions"`, "appears twice"}},
		{"scenario/duplicate field", sc(robustScenario + "profile: thor\n"), run,
			[]string{"sc.yaml:5:", `field "profile"`, "appears twice"}},
		{"scenario/two features one message type", sc(robustScenario + "  balances: {rest: {paths: [/api/b]}, ws: {type: positions}, key: [account_id]}\n"), run,
			[]string{"sc.yaml:5:", `field "features.balances.ws.type"`, `"positions"`, "features.positions", "own"}},
		{"scenario/order not a key field", sc("profile: thor\nsession: s.jsonl\nfeatures:\n  intraday_bars: {order: end}\n"), run,
			[]string{"sc.yaml:4:", `field "features.intraday_bars.order"`, `"end" must be one of the key fields`}},
		{"scenario/stream not a key field", sc("profile: thor\nsession: s.jsonl\nfeatures:\n  intraday_bars:\n    stream: [sym]\n"), run,
			[]string{"sc.yaml:5:", `field "features.intraday_bars.stream[0]"`, `"sym"`, "key fields"}},
		{"scenario/order on a state feature", sc("profile: thor\nsession: s.jsonl\nfeatures:\n  positions: {order: symbol}\n"), run,
			[]string{"sc.yaml:4:", `field "features.positions.order"`, "events"}},
		{"scenario/ignore a key field", sc("profile: thor\nsession: s.jsonl\nfeatures:\n  positions:\n    ignore: [{field: symbol, reason: r}]\n"), run,
			[]string{"sc.yaml:5:", `field "features.positions.ignore[0].field"`, "key field"}},
		{"scenario/ignore without reason", sc("profile: thor\nsession: s.jsonl\nfeatures:\n  positions:\n    ignore: [{field: ts}]\n"), run,
			[]string{"sc.yaml:5:", `field "features.positions.ignore[0].reason"`, "must say why"}},
		{"scenario/feature without profile", sc("session: s.jsonl\nfeatures:\n  positions: {}\n"), run,
			[]string{"sc.yaml:3:", `field "features.positions.rest.paths"`, `field "features.positions.ws.type"`, `field "features.positions.key"`}},
		{"scenario/REST path without slash", sc("profile: thor\nsession: s.jsonl\nfeatures:\n  positions: {rest: {paths: [api/positions]}}\n"), run,
			[]string{"sc.yaml:4:", `field "features.positions.rest.paths[0]"`, "must start with /"}},
		{"scenario/no features", sc("profile: thor\nsession: s.jsonl\n"), run,
			[]string{"sc.yaml", `field "features"`, "missing", "at least one feature"}},

		// Kinds, profiles and stacks.
		{"scenario/misspelled kind", sc("profile: thor\nsession: s.jsonl\nfeatures:\n  positions: {kind: stat}\n"), run,
			[]string{"sc.yaml:4:", `field "features.positions.kind"`, `did you mean "state"`}},
		{"scenario/misspelled profile", sc("profile: thorr\nsession: s.jsonl\nfeatures:\n  positions: {}\n"), run,
			[]string{"sc.yaml:1:", `field "profile"`, `did you mean "thor"`}},
		{"scenario/misspelled stack kind", sc(robustScenario + "stack: {kind: urll}\n"), run,
			[]string{"sc.yaml:5:", `field "stack.kind"`, `did you mean "url"`}},
		{"scenario/misspelled driver kind", sc(robustScenario + "driver: {kind: htp}\n"), run,
			[]string{"sc.yaml:5:", `field "driver.kind"`, `did you mean "http"`}},
		{"scenario/url stack without URLs", sc(robustScenario + "stack: {kind: url}\n"), run,
			[]string{"sc.yaml:5:", `field "stack.rest"`, "http://127.0.0.1:8000", `field "stack.ws"`}},
		{"scenario/url stack with faults", sc(robustScenario + "stack: {kind: url, rest: \"http://127.0.0.1:1\", ws: \"ws://127.0.0.1:1/\", faults: \"positions:drop=1\"}\n"), run,
			[]string{"sc.yaml:5:", `field "stack.faults"`, "only an embedded stack"}},
		{"scenario/embedded stack with a URL", sc(robustScenario + "stack: {rest: \"http://127.0.0.1:1\"}\n"), run,
			[]string{"sc.yaml:5:", `field "stack.rest"`, "kind: url"}},
		{"scenario/bad fault spec", sc(robustScenario + "stack: {faults: \"positions:explode=1\"}\n"), run,
			[]string{"sc.yaml:5:", `field "stack.faults"`, "explode"}},
		{"scenario/unknown flag feature", sc(robustScenario + "stack: {flags: {nope: true}}\n"), run,
			[]string{"sc.yaml:5:", `field "stack.flags.nope"`, "account_balance"}},
		{"scenario/tap on the embedded stack", sc(robustScenario + "stack: {tap: {redis: \"redis://127.0.0.1:1/0\", group: g}}\n"), run,
			[]string{"sc.yaml:5:", `field "stack.tap"`, "url or process stack"}},
		{"scenario/driver none without duration", sc(robustScenario + "driver: {kind: none}\n"), run,
			[]string{"sc.yaml:5:", `field "driver.duration"`, "5m"}},

		// Session files: through run (checked before the stack starts),
		// inspect and validate.
		{"session/bad field type", files{"sc.yaml": robustScenario, "s.jsonl": session(
			`{"seq":1,"t":"2026-03-02T14:30:00.000Z","type":"market_status","data":{"market":"NewYork","status":"OPEN"}}`,
			`{"seq":2,"t":"2026-03-02T14:30:00.250Z","type":"tick","data":{"symbol":"ES","price":"high","size":3}}`)}, run,
			[]string{"s.jsonl:3:", `field "data.price"`, "harness session validate"}},
		{"session/not JSON", files{"sc.yaml": robustScenario, "s.jsonl": session(`{"seq":1,"t":`)}, run,
			[]string{"s.jsonl:2:", "bad JSON", "harness session validate"}},
		{"session/seq gap", files{"sc.yaml": robustScenario, "s.jsonl": session(
			`{"seq":1,"t":"2026-03-02T14:30:00.000Z","type":"market_status","data":{"market":"NewYork","status":"OPEN"}}`,
			`{"seq":5,"t":"2026-03-02T14:30:00.250Z","type":"tick","data":{"symbol":"ES","price":1,"size":3}}`)}, run,
			[]string{"s.jsonl:3:", `field "seq"`, "harness session validate"}},
		{"session/no header", files{"sc.yaml": robustScenario, "s.jsonl": strings.SplitN(robustSession, "\n", 2)[1]}, run,
			[]string{"s.jsonl:1:", "missing header", "thor-session/v1", "sc.yaml:2"}},
		{"session/empty", files{"sc.yaml": robustScenario, "s.jsonl": ""}, run,
			[]string{"s.jsonl:1:", "missing header", "empty"}},
		{"session/broken gzip", files{"sc.yaml": robustScenario, "s.jsonl": "\x1f\x8b\x08garbage"}, run,
			[]string{"s.jsonl:1:", "gzip"}},
		{"session/unknown event type", files{"s.jsonl": session(`{"seq":1,"t":"2026-03-02T14:30:00.000Z","type":"trade","data":{}}`)},
			[]string{"session", "inspect", "{dir}/s.jsonl"},
			[]string{"s.jsonl:2:", `field "type"`, `"trade"`, "harness session validate"}},
		{"session/inspect a directory", files{"s.jsonl/": ""}, []string{"session", "inspect", "{dir}/s.jsonl"},
			[]string{"{dir}/s.jsonl", "is a directory"}},
		{"session/inspect no file", files{}, []string{"session", "inspect", "{dir}/s.jsonl"},
			[]string{"{dir}/s.jsonl", "no such file"}},
		{"session/validate lists problems", files{"s.jsonl": session(`{"seq":1,"t":"2026-03-02T14:30:00.000Z","type":"tick","data":{"symbol":"ES","price":1}}`)},
			[]string{"session", "validate", "{dir}/s.jsonl"},
			[]string{"s.jsonl:2:", `field "data.size"`, "missing", "1 problem"}},

		// Phases files, through gate.
		{"phases/unknown field", files{"phases.yaml": strings.Replace(robustPhases, "requires: [shadow]", "requirez: [shadow]", 1)},
			gate("--phase", "shadow"), []string{"phases.yaml:6:", `field "phases[1].requirez": unknown field`, `did you mean "requires"`}},
		{"phases/unknown required phase", files{"phases.yaml": strings.Replace(robustPhases, "requires: [shadow]", "requires: [shadw]", 1)},
			gate("--phase", "shadow"), []string{"phases.yaml:6:", `unknown phase "shadw"`, "defined above: shadow"}},
		{"phases/duplicate phase", files{"phases.yaml": robustPhases + "  - name: shadow\n"},
			gate("--phase", "shadow"), []string{"phases.yaml:8:", `phase "shadow" is already defined on line 2`}},
		{"phases/bad phase name", files{"phases.yaml": strings.Replace(robustPhases, "cutover/positions", "Cutover Positions", 1)},
			gate("--phase", "shadow"), []string{"phases.yaml:5:", `"Cutover Positions"`, "e.g. cutover/positions"}},
		{"phases/requires is not a list", files{"phases.yaml": strings.Replace(robustPhases, "requires: [shadow]", "requires: shadow", 1)},
			gate("--phase", "shadow"), []string{"phases.yaml:6:", `field "phases[1].requires"`, `want a list, got "shadow"`}},
		{"phases/empty", files{"phases.yaml": ""}, gate("--phase", "shadow"),
			[]string{"phases.yaml", "empty", `"phases:"`}},
		{"phases/is a directory", files{"phases.yaml/": ""}, gate("--phase", "shadow"),
			[]string{"{dir}/phases.yaml", "is a directory", "--phases"}},
		{"phases/missing", files{}, gate("--phase", "shadow"),
			[]string{"{dir}/phases.yaml", "does not exist", "--phases"}},
		{"phases/unknown phase asked", files{"phases.yaml": robustPhases}, gate("--phase", "cutover/positons"),
			[]string{`unknown phase "cutover/positons"`, "known: shadow, cutover/positions"}},
		{"phases/no phase asked", files{"phases.yaml": robustPhases}, gate(),
			[]string{"--phase", "known: shadow, cutover/positions"}},

		// Command lines.
		{"cli/run without a scenario", files{}, []string{"run"}, []string{"needs a scenario file", "--help"}},
		{"cli/run with two scenarios", files{}, []string{"run", "a.yaml", "b.yaml"}, []string{"needs a scenario file", "got 2 arguments", "b.yaml"}},
		{"cli/unknown flag", files{}, []string{"run", "--sped", "1x", "x.yaml"}, []string{"unknown flag: --sped", "see harness run --help"}},
		{"cli/bad --speed", sc(robustScenario), append(run, "--speed", "fast"), []string{"--speed", `"fast" is not a speed`, "max, 1x"}},
		{"cli/unknown command", files{}, []string{"rnu"}, []string{`unknown command "rnu"`, "run"}},
		{"cli/gen negative duration", files{}, []string{"session", "gen", "--duration", "-5m"}, []string{"--duration", "positive duration", "30m"}},
		{"cli/gen zero rate", files{}, []string{"session", "gen", "--rate", "0"}, []string{"--rate", "above 0"}},
		{"cli/gen bad start", files{}, []string{"session", "gen", "--start", "today"}, []string{"--start", "RFC 3339", "2026-03-02T14:30:00Z"}},
		{"cli/diff of no run", files{}, []string{"diff", "{dir}"}, []string{"{dir}/scenario.yaml", "cannot read"}},
		{"cli/diff without a capture", files{"scenario.yaml": robustScenario}, []string{"diff", "{dir}"},
			[]string{"{dir}/capture.jsonl", "no capture here", "run directory"}},
		{"cli/diff of an empty capture", files{"scenario.yaml": robustScenario, "capture.jsonl": ""}, []string{"diff", "{dir}"},
			[]string{"{dir}/capture.jsonl", "empty"}},
		{"cli/diff of something else", files{"scenario.yaml": robustScenario, "capture.jsonl": "hello\n"}, []string{"diff", "{dir}"},
			[]string{"{dir}/capture.jsonl:1:", "not a capture"}},
		{"cli/diff of a capture that is a directory", files{"scenario.yaml": robustScenario, "capture.jsonl/": ""}, []string{"diff", "{dir}"},
			[]string{"{dir}/capture.jsonl", "is a directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tc.files {
				p := filepath.Join(dir, name)
				if strings.HasSuffix(name, "/") {
					if err := os.MkdirAll(p, 0o755); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.ReplaceAll(a, "{dir}", dir)
			}
			code, stdout, stderr := runCLI(t, args...)
			if code != ExitBadInput {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitBadInput, stdout, stderr)
			}
			text := stderr
			if args[0] == "session" && len(args) > 1 && args[1] == "validate" {
				text = stdout + stderr // validate lists problems on stdout, one per line
			}
			for _, w := range tc.want {
				if w = strings.ReplaceAll(w, "{dir}", dir); !strings.Contains(text, w) {
					t.Errorf("the message lacks %q:\n%s", w, text)
				}
			}
			if testing.Verbose() {
				t.Logf("%s", text)
			}
			if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
				t.Errorf("bad input started a run: %s/out exists", dir)
			}
		})
	}
}
