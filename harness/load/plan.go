package load

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/thor-trading/cutover-harness/harness/scenario"
)

// Shard is one host's part of a load test split over several: it runs its
// share of the subscribers and of the input rate. The zero Shard is the
// whole test.
type Shard struct {
	Index int `json:"index"` // 0-based
	Count int `json:"count"` // 0 or 1: not sharded
}

// ParseShard reads "i/n" with i from 1 to n, e.g. "1/2" and "2/2".
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n || n > 1000 {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 1 ≤ i ≤ n ≤ 1000, e.g. 1/2", s)
	}
	return Shard{Index: i - 1, Count: n}, nil
}

func (s Shard) norm() Shard {
	if s.Count < 1 {
		return Shard{Index: 0, Count: 1}
	}
	return s
}

// String is the form ParseShard reads.
func (s Shard) String() string {
	s = s.norm()
	return fmt.Sprintf("%d/%d", s.Index+1, s.Count)
}

// share is shard's part of total whole things (the first total%n shards get
// one more).
func (s Shard) share(total int) int {
	s = s.norm()
	n := total / s.Count
	if s.Index < total%s.Count {
		n++
	}
	return n
}

// stepPlan is what one step runs on this shard.
type stepPlan struct {
	index       int
	value       float64 // the varied value (step mode), whole test
	subscribers int     // this shard's subscribers
	totalSubs   int     // all shards' subscribers
	pace        pace    // this shard's input
	totalRate   float64 // all shards' input rate (events/s, start or mean)
	warmup      time.Duration
	duration    time.Duration
	drain       time.Duration
}

// plans turns a load section into the steps this shard runs: one without
// step mode, MaxSteps with it (the search may stop earlier).
func plans(l *scenario.LoadSpec, sh Shard) []stepPlan {
	sh = sh.norm()
	n := float64(sh.Count)
	mk := func(i int, subs int, rate float64, value float64) stepPlan {
		scale := rate / l.Rate
		return stepPlan{
			index: i, value: value, subscribers: sh.share(subs), totalSubs: subs, totalRate: rate,
			pace: pace{kind: l.Pacer, rate: rate / n, slope: l.Slope * scale / n, amp: l.Amplitude * scale / n,
				period: l.Period.D(), batch: l.Batch},
			warmup: l.Warmup.D(), duration: l.Duration.D(), drain: l.Drain.D(),
		}
	}
	if l.Step == nil {
		return []stepPlan{mk(0, l.Subscribers, l.Rate, 0)}
	}
	out := make([]stepPlan, 0, l.Step.MaxSteps)
	for i := range l.Step.MaxSteps {
		v := l.Step.Value(i)
		switch l.Step.Vary {
		case scenario.VarySubscribers:
			subs := int(math.Round(v))
			out = append(out, mk(i, subs, l.Rate, float64(subs)))
		case scenario.VaryRate:
			out = append(out, mk(i, l.Subscribers, v, v))
		}
	}
	return out
}
