package refstack

import (
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseFaults(t *testing.T) {
	zero, four := 0, 4
	tests := []struct {
		name    string
		spec    string
		want    Faults
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"the brief's example", "positions:drop=0.05,global_market:delay=2s",
			Faults{Positions: {Drop: 0.05}, GlobalMarket: {Delay: 2 * time.Second}}, ""},
		{"every mode, spaces", " account_balance:drop=1 , account_balance:delay=250ms,account_balance:duplicate=0.5," +
			"account_balance:reorder,account_balance:round=0,account_balance:omit_field=net_liq,account_balance:stale_rest=3s",
			Faults{AccountBalance: {Drop: 1, Delay: 250 * time.Millisecond, Duplicate: 0.5, Reorder: true, Round: &zero, OmitField: "net_liq", StaleREST: 3 * time.Second}}, ""},
		{"round on positions", "positions:round=4", Faults{Positions: {Round: &four}}, ""},
		{"no colon", "positions", nil, `want feature:mode[=param]`},
		{"typo in feature", "posiitons:drop=0.1", nil, `did you mean "positions"`},
		{"typo in mode", "positions:dorp=0.1", nil, `did you mean "drop"`},
		{"missing parameter", "positions:drop", nil, `drop needs a parameter`},
		{"fraction above 1", "positions:drop=2", nil, `want a fraction in (0, 1]`},
		{"zero fraction", "positions:duplicate=0", nil, `want a fraction in (0, 1]`},
		{"negative duration", "global_market:delay=-1s", nil, `want a positive Go duration`},
		{"not a duration", "global_market:stale_rest=soon", nil, `want a positive Go duration`},
		{"reorder with parameter", "positions:reorder=1", nil, `reorder takes no parameter`},
		{"round out of range", "positions:round=9", nil, `want a number of decimals 0..6`},
		{"omit unknown field", "global_market:omit_field=net_liq", nil, `global_market items have no field "net_liq"`},
		{"mode twice", "positions:drop=0.1,positions:drop=0.2", nil, `drop given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFaults(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			back, err := ParseFaults(got.String())
			if err != nil || !cmp.Equal(got, back) {
				t.Fatalf("String %q does not read back: %v %v", got.String(), back, err)
			}
		})
	}
}

// faultRun is what one subscriber and the REST endpoints showed for a
// whole session.
type faultRun struct {
	frames []frame            // non-heartbeat frames in arrival order
	rest   map[Feature]string // final REST bodies
	posted time.Time          // when the first batch was posted
}

// runSession replays the test session into a fresh stack with cfg, in
// batches of size batch, and records one subscriber and the final REST
// bodies. linger keeps collecting after the last batch (for delays).
func runSession(t *testing.T, cfg Config, batch int, linger time.Duration) faultRun {
	t.Helper()
	s := startStack(t, cfg)
	ws := dialWS(t, s.WSURL())
	r := faultRun{rest: map[Feature]string{}, posted: time.Now()}
	for _, b := range batches(header(), genSession(300), batch) {
		mustPost(t, s, b...)
		r.frames = append(r.frames, ws.until(lastSeq(b))...)
	}
	if linger > 0 {
		r.frames = append(r.frames, ws.collect(linger)...)
	}
	for _, f := range Features {
		_, r.rest[f] = get(t, s.URL()+f.RESTPath())
	}
	return r
}

// sameExcept fails unless the two runs agree on every feature but the
// faulted one, on WS and REST (REST of the faulted one too unless restToo).
func sameExcept(t *testing.T, clean, faulty faultRun, faulted Feature, restAlsoFaulted bool) {
	t.Helper()
	for _, f := range Features {
		if f != faulted {
			if diff := cmp.Diff(raws(byType(clean.frames, f.MessageType())), raws(byType(faulty.frames, f.MessageType()))); diff != "" {
				t.Errorf("WS %s changed too (-clean +faulty):\n%s", f, diff)
			}
		}
		if f != faulted || !restAlsoFaulted {
			if clean.rest[f] != faulty.rest[f] {
				t.Errorf("REST %s changed too:\nclean  %s\nfaulty %s", f, clean.rest[f], faulty.rest[f])
			}
		}
	}
}

func isSubsequence(sub, seq []string) bool {
	i := 0
	for _, s := range seq {
		if i < len(sub) && sub[i] == s {
			i++
		}
	}
	return i == len(sub)
}

func decodeItem(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFaultModes proves each fault mode changes what it names, the way the
// bug would, and nothing else: the other features' WS streams and every
// REST body (but a stale one) stay byte for byte those of a clean stack.
func TestFaultModes(t *testing.T) {
	clean := runSession(t, Config{}, 50, 0)
	cleanPos := raws(byType(clean.frames, "positions"))
	if len(cleanPos) < 40 {
		t.Fatalf("session too thin: %d position messages", len(cleanPos))
	}
	zero := 0

	t.Run("drop", func(t *testing.T) {
		faulty := runSession(t, Config{Faults: Faults{Positions: {Drop: 0.3}}}, 50, 0)
		got := raws(byType(faulty.frames, "positions"))
		if len(got) == 0 || len(got) >= len(cleanPos) || !isSubsequence(got, cleanPos) {
			t.Fatalf("positions: %d of %d, subsequence %v", len(got), len(cleanPos), isSubsequence(got, cleanPos))
		}
		sameExcept(t, clean, faulty, Positions, false)
		again := runSession(t, Config{Faults: Faults{Positions: {Drop: 0.3}}}, 50, 0)
		if !slices.Equal(got, raws(byType(again.frames, "positions"))) {
			t.Error("same seed, different drops")
		}
	})

	t.Run("duplicate", func(t *testing.T) {
		faulty := runSession(t, Config{Faults: Faults{Positions: {Duplicate: 0.3}}}, 50, 0)
		got := raws(byType(faulty.frames, "positions"))
		if len(got) <= len(cleanPos) {
			t.Fatalf("positions: %d, clean %d: nothing duplicated", len(got), len(cleanPos))
		}
		if diff := cmp.Diff(cleanPos, slices.Compact(slices.Clone(got))); diff != "" {
			t.Fatalf("duplicates aside, positions differ (-clean +faulty):\n%s", diff)
		}
		sameExcept(t, clean, faulty, Positions, false)
	})

	t.Run("reorder", func(t *testing.T) {
		faulty := runSession(t, Config{Faults: Faults{Positions: {Reorder: true}}}, 50, 0)
		perKey := func(frames []frame) map[string][]string {
			out := map[string][]string{}
			for _, f := range byType(frames, "positions") {
				k, _ := itemKey(t, f.Type, f.Data)
				out[k] = append(out[k], f.raw)
			}
			return out
		}
		want := map[string][]string{}
		swaps := 0
		for k, msgs := range perKey(clean.frames) {
			// Pairs 1-2, 5-6, 9-10 … are swapped; a held last message stays held.
			for i := 0; i < len(msgs); i++ {
				switch i % 4 {
				case 0:
					if i+1 < len(msgs) {
						want[k] = append(want[k], msgs[i+1], msgs[i])
						swaps++
					}
				case 1:
				default:
					want[k] = append(want[k], msgs[i])
				}
			}
		}
		if swaps < 3 {
			t.Fatalf("only %d swaps possible", swaps)
		}
		if diff := cmp.Diff(want, perKey(faulty.frames)); diff != "" {
			t.Fatalf("per-key order (-want +got):\n%s", diff)
		}
		sameExcept(t, clean, faulty, Positions, false)
	})

	t.Run("round", func(t *testing.T) {
		faulty := runSession(t, Config{Faults: Faults{AccountBalance: {Round: &zero}}}, 50, 0)
		c, f := byType(clean.frames, "account_balance"), byType(faulty.frames, "account_balance")
		if len(c) != len(f) {
			t.Fatalf("%d balance messages, clean %d", len(f), len(c))
		}
		differ := 0
		for i := range c {
			cm, fm := decodeItem(t, c[i].Data), decodeItem(t, f[i].Data)
			if !slices.Equal(slices.Sorted(maps.Keys(cm)), slices.Sorted(maps.Keys(fm))) || cm["account_id"] != fm["account_id"] || *c[i].Seq != *f[i].Seq {
				t.Fatalf("shape changed:\nclean  %s\nfaulty %s", c[i].raw, f[i].raw)
			}
			for _, k := range []string{"cash", "buying_power", "net_liq"} {
				cv, fv := cm[k].(float64), fm[k].(float64)
				if fv != math.Trunc(fv) || math.Abs(fv-cv) > 0.51 {
					t.Fatalf("%s: %v is not %v rounded to 0 decimals", k, fv, cv)
				}
				if fv != cv {
					differ++
				}
			}
		}
		if differ == 0 {
			t.Fatal("rounding changed nothing")
		}
		sameExcept(t, clean, faulty, AccountBalance, false)
	})

	t.Run("omit_field", func(t *testing.T) {
		faulty := runSession(t, Config{Faults: Faults{AccountBalance: {OmitField: "net_liq"}}}, 50, 0)
		c, f := byType(clean.frames, "account_balance"), byType(faulty.frames, "account_balance")
		if len(c) != len(f) || len(c) == 0 {
			t.Fatalf("%d balance messages, clean %d", len(f), len(c))
		}
		for i := range c {
			want := decodeItem(t, c[i].Data)
			delete(want, "net_liq")
			if diff := cmp.Diff(want, decodeItem(t, f[i].Data)); diff != "" {
				t.Fatalf("item %d (-clean without net_liq +faulty):\n%s", i, diff)
			}
		}
		if !strings.Contains(faulty.rest[AccountBalance], `"net_liq"`) {
			t.Error("REST lost net_liq too")
		}
		sameExcept(t, clean, faulty, AccountBalance, false)
	})

	t.Run("delay", func(t *testing.T) {
		const d = 250 * time.Millisecond
		faulty := runSession(t, Config{Faults: Faults{GlobalMarket: {Delay: d}}}, 1000, d+300*time.Millisecond)
		got := byType(faulty.frames, "market_status")
		if diff := cmp.Diff(raws(byType(clean.frames, "market_status")), raws(got)); diff != "" {
			t.Fatalf("delayed market stream differs (-clean +faulty):\n%s", diff)
		}
		for _, f := range got {
			if lag := f.at.Sub(faulty.posted); lag < d {
				t.Fatalf("%s arrived %v after the post, before the delay %v", f.raw, lag, d)
			}
		}
		sameExcept(t, clean, faulty, GlobalMarket, false)
	})

	t.Run("stale_rest", func(t *testing.T) {
		const d = 300 * time.Millisecond
		s := startStack(t, Config{Faults: Faults{GlobalMarket: {StaleREST: d}}})
		ws := dialWS(t, s.WSURL())
		mustPost(t, s, header(), mkt(1, "14:30:00", "Tokyo", "OPEN"), acct(2, "14:30:00", "ACC-1", 5, 5))
		posted := time.Now()
		if got := raws(ws.until(2)); len(got) != 2 || !strings.Contains(got[0], `"market_status"`) {
			t.Fatalf("WS not live: %q", got)
		}
		_, stale := get(t, s.URL()+GlobalMarket.RESTPath())
		_, live := get(t, s.URL()+AccountBalance.RESTPath())
		if time.Since(posted) < d && stale != `{"seq":0,"data":[]}` {
			t.Errorf("market REST right after the post: %s, want the state of %v ago", stale, d)
		}
		if live != `{"seq":2,"data":[{"account_id":"ACC-1","cash":5,"buying_power":5,"net_liq":5}]}` {
			t.Errorf("balance REST went stale too: %s", live)
		}
		time.Sleep(d + 50*time.Millisecond)
		if _, body := get(t, s.URL()+GlobalMarket.RESTPath()); body != `{"seq":2,"data":[{"market":"Tokyo","status":"OPEN"}]}` {
			t.Errorf("market REST after %v: %s", d, body)
		}
	})
}
