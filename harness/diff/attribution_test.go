package diff

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/thor-trading/cutover-harness/harness/capture"
)

// tapSim adds what a channel-layer tap records to a simStack: a "joined"
// note, then each broadcast as the layer carries it.
type tapSim struct{ s *simStack }

func withTap(s *simStack) *tapSim {
	s.add(capture.Record{K: capture.KindTap, Src: capture.TapSrc, T: 500, Text: "joined group dashboard"})
	return &tapSim{s: s}
}

// broadcast records the tap receiving the message of the next change at
// the current time plus at (negative: before the subscribers get it).
func (tp *tapSim) broadcast(feat, item string, at time.Duration) {
	msg := tp.s.msg(simTypes[feat], tp.s.seq+1, item)
	body := `{"type":"dashboard.message","message":` + msg + `}`
	tp.s.add(capture.Record{K: capture.KindTap, Src: capture.TapSrc, T: tp.s.t + int64(at), Size: len(body), Body: []byte(body)})
}

// tapBalanceRun is balanceRun with a tap: change i is broadcast unless
// notBroadcast(i), and goes out over WS with fault(i).
func tapBalanceRun(noSeq bool, n int, notBroadcast func(int) bool, fault func(int) []wsFault, tapAt time.Duration) *simStack {
	s := newSim(3, noSeq)
	tp := withTap(s)
	for i := 0; i < n; i++ {
		var f []wsFault
		if fault != nil {
			f = fault(i)
		}
		item := bal("ACC-1", 1000+float64(i))
		if notBroadcast == nil || !notBroadcast(i) {
			tp.broadcast("account_balance", item, tapAt)
		}
		s.set("account_balance", "ACC-1", item, f...)
		s.after(100 * ms)
		s.rounds(1, 250*ms, "account_balance")
	}
	return s.finish("account_balance")
}

func only(i int) func(int) bool { return func(j int) bool { return i == j } }

func TestAttribution(t *testing.T) {
	for _, tc := range []struct {
		name         string
		build        func(noSeq bool) *simStack
		sc           func(noSeq bool) *simStack
		counts       map[string]int // finding counts that must be non-zero
		want         Attribution    // MaxDelay not compared
		detail       string         // in every missing_in_ws and subscriber_gap finding
		detailNoSeq  string
		wantNoSeq    *Attribution
		noAttributon bool
	}{
		{
			name:   "clean",
			build:  func(noSeq bool) *simStack { return tapBalanceRun(noSeq, 8, nil, nil, -time.Millisecond) },
			counts: map[string]int{},
			want:   Attribution{Broadcast: 8},
		},
		{
			name: "the tap is slower than the subscribers",
			build: func(noSeq bool) *simStack {
				return tapBalanceRun(noSeq, 8, nil, nil, 50*time.Millisecond)
			},
			counts: map[string]int{},
			want:   Attribution{Broadcast: 8},
		},
		{
			name: "a consumer dropped it for every subscriber",
			build: func(noSeq bool) *simStack {
				return tapBalanceRun(noSeq, 8, nil, at(4, wsFault{drop: true}), -time.Millisecond)
			},
			counts: map[string]int{MissingInWS: 1},
			want:   Attribution{Broadcast: 8, NotDelivered: 3},
			detail: "broadcast but not delivered",
		},
		{
			name: "the backend never broadcast it",
			build: func(noSeq bool) *simStack {
				return tapBalanceRun(noSeq, 8, only(4), at(4, wsFault{drop: true}), -time.Millisecond)
			},
			counts: map[string]int{MissingInWS: 1},
			want:   Attribution{Broadcast: 7, NotBroadcast: 1},
			detail: "never broadcast",
		},
		{
			name: "one subscriber's consumer lost it",
			build: func(noSeq bool) *simStack {
				return tapBalanceRun(noSeq, 8, nil, at(4, wsFault{only: []int{0, 2}}), -time.Millisecond)
			},
			counts: map[string]int{SubscriberGap: 1},
			want:   Attribution{Broadcast: 8, NotDelivered: 1},
			detail: "broadcast 1 of them to the group: broadcast but not delivered to ws:1",
		},
		{
			name: "delivered long after the broadcast",
			build: func(noSeq bool) *simStack {
				return tapBalanceRun(noSeq, 8, nil, at(4, wsFault{delay: 3 * time.Second}), -time.Millisecond)
			},
			want: Attribution{Broadcast: 8, Late: 3},
		},
		{
			name: "delivered without passing the channel layer",
			build: func(noSeq bool) *simStack {
				return tapBalanceRun(noSeq, 8, only(4), nil, -time.Millisecond)
			},
			counts: map[string]int{},
			want:   Attribution{Broadcast: 7, Untapped: 1},
		},
	} {
		for _, noSeq := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/noSeq=%v", tc.name, noSeq), func(t *testing.T) {
				s := tc.build(noSeq)
				res, err := Diff(balanceSC(noSeq), s.next())
				if err != nil {
					t.Fatal(err)
				}
				f := res.Features[0]
				for k, n := range tc.counts {
					if f.Counts[k] != n {
						t.Errorf("%s = %d, want %d (counts %v)", k, f.Counts[k], n, f.Counts)
					}
				}
				if tc.counts != nil {
					for k, n := range f.Counts {
						if n != 0 && tc.counts[k] == 0 {
							t.Errorf("unexpected %s = %d: %s", k, n, dumpFindings(res))
						}
					}
				}
				a := f.Attribution
				if a == nil {
					t.Fatal("no attribution")
				}
				got := *a
				got.MaxDelay = 0
				if got != tc.want {
					t.Errorf("attribution %+v, want %+v\n%s", got, tc.want, dumpFindings(res))
				}
				for _, fd := range f.Findings {
					if (fd.Kind == MissingInWS || fd.Kind == SubscriberGap) && !strings.Contains(fd.Detail, tc.detail) {
						t.Errorf("%s detail %q lacks %q", fd.Kind, fd.Detail, tc.detail)
					}
				}
			})
		}
	}
}

func TestAttributionDelay(t *testing.T) {
	s := tapBalanceRun(false, 4, nil, nil, -40*time.Millisecond)
	res, err := Diff(balanceSC(false), s.next())
	if err != nil {
		t.Fatal(err)
	}
	// The last subscriber gets a message 60µs after the first, 40ms after
	// the tap.
	if d := res.Features[0].Attribution.MaxDelay; d < int64(40*ms) || d > int64(41*ms) {
		t.Errorf("MaxDelay %s, want 40ms and a little", time.Duration(d))
	}
}

func TestNoTapNoAttribution(t *testing.T) {
	res, err := Diff(balanceSC(false), balanceRun(newSim(3, false), 4, nil).next())
	if err != nil {
		t.Fatal(err)
	}
	if res.Features[0].Attribution != nil {
		t.Errorf("attribution %+v without a tap", res.Features[0].Attribution)
	}
}

// A bar the consumers lost is attributed by its key.
func TestAttributionEvents(t *testing.T) {
	for _, broadcast := range []bool{true, false} {
		s := newSim(3, false)
		tp := withTap(s)
		for i := 0; i < 6; i++ {
			item := bar("ES", i, 5100+float64(i))
			var f []wsFault
			if i == 3 {
				f = []wsFault{{drop: true}}
			}
			if i != 3 || broadcast {
				tp.broadcast("intraday_bars", item, -time.Millisecond)
			}
			s.set("intraday_bars", barKey("ES", i), item, f...)
			s.after(100 * ms)
			s.rounds(1, 250*ms, "intraday_bars")
		}
		res, err := Diff(barsSC(false), s.finish("intraday_bars").next())
		if err != nil {
			t.Fatal(err)
		}
		f := res.Features[0]
		want := Attribution{Broadcast: 6, NotDelivered: 3}
		detail := "broadcast but not delivered"
		if !broadcast {
			want, detail = Attribution{Broadcast: 5, NotBroadcast: 1}, "never broadcast"
		}
		got := *f.Attribution
		got.MaxDelay = 0
		if f.Counts[MissingInWS] != 1 || got != want {
			t.Fatalf("broadcast %v: missing %d, attribution %+v, want %+v", broadcast, f.Counts[MissingInWS], got, want)
		}
		for _, fd := range f.Findings {
			if fd.Kind == MissingInWS && !strings.Contains(fd.Detail, detail) {
				t.Errorf("detail %q lacks %q", fd.Detail, detail)
			}
		}
	}
}

// A wrong WS value is placed before or after the channel layer.
func TestAttributionMismatch(t *testing.T) {
	for _, builder := range []bool{true, false} {
		for _, noSeq := range []bool{false, true} {
			s := newSim(3, noSeq)
			tp := withTap(s)
			for i := 0; i < 6; i++ {
				item := bal("ACC-1", 1000+float64(i))
				var f []wsFault
				broadcast := item
				if i == 3 {
					wrong := bal("ACC-1", 999999)
					f = []wsFault{{item: wrong}}
					if builder {
						broadcast = wrong
					}
				}
				tp.broadcast("account_balance", broadcast, -time.Millisecond)
				s.set("account_balance", "ACC-1", item, f...)
				s.after(100 * ms)
				s.rounds(1, 250*ms, "account_balance")
			}
			res, err := Diff(balanceSC(noSeq), s.finish("account_balance").next())
			if err != nil {
				t.Fatal(err)
			}
			f := res.Features[0]
			want := "wrong before the channel layer (a job or message builder)"
			if !builder {
				want = "made after the channel layer (a consumer)"
				if noSeq {
					// Without seq a changed value cannot be told from a
					// lost one and another sent: REST's was not delivered.
					want = "the backend broadcast REST's value"
				}
			}
			n := 0
			for _, fd := range f.Findings {
				if fd.Kind == ValueMismatch {
					n++
					if !strings.Contains(fd.Detail, want) {
						t.Errorf("builder %v, noSeq %v: detail %q lacks %q", builder, noSeq, fd.Detail, want)
					}
				}
			}
			if n == 0 {
				t.Errorf("builder %v, noSeq %v: no value_mismatch: %s", builder, noSeq, dumpFindings(res))
			}
		}
	}
}
