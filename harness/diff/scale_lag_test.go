package diff

import (
	"testing"
	"time"
)

// TestTrailingSubscriberAtHighRate: at a full-day replay's pace one key
// changes thousands of times a second, and one subscriber reads a second
// behind the other: thousands of messages behind, well within the gap
// budget. It got every message, so there is no gap and nothing missing.
// (A key's history was capped at 2048 values, and values retired for the
// cap counted as missed by whoever had not read them yet: the full-day
// scenario FAILed a clean stack.)
func TestTrailingSubscriberAtHighRate(t *testing.T) {
	const (
		n     = 12000
		every = 200 * time.Microsecond // 5000 changes a second
		trail = time.Second            // ws:1 reads 5000 messages behind ws:0
	)
	s := newSim(2, false)
	s.rounds(2, 250*time.Millisecond, "account_balance")
	for i := 0; i < n; i++ {
		item := bal("ACC-1", 1000+float64(i))
		s.set("account_balance", "ACC-1", item, wsFault{only: []int{0}})
		s.wsFrame(s.t+int64(trail), 1, s.msg("account_balance", s.seq, item))
		if i%1250 == 0 { // a poll every 250 ms
			s.poll("account_balance", "0").poll("account_balance", "1")
		}
		s.after(every)
	}
	s.after(trail)
	s.finish("account_balance")
	res, err := Diff(simScenario(2, false, "account_balance"), s.next())
	if err != nil {
		t.Fatal(err)
	}
	f := res.Features[0]
	if total := f.Counts[SubscriberGap] + f.Counts[MissingInWS]; total > 0 || !f.FinalEqual {
		t.Fatalf("a trailing subscriber that got every message: counts %v, final equal %v; first finding: %+v", f.Counts, f.FinalEqual, first(f.Findings))
	}
}

func first(fs []Finding) any {
	if len(fs) == 0 {
		return nil
	}
	return fs[0]
}
