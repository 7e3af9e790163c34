package load

import (
	"sort"
	"sync/atomic"
	"time"
)

// seqSpan separates the seq spaces of steps: step k's events have seqs
// (k+1)·seqSpan + j·n + i + 1 for shard i of n and event index j, so a late
// message of an earlier step, or another shard's, is never taken for one of
// this step's.
const seqSpan = 1_000_000_000_000

// seqTable is one step's events of one shard: the seq of each event index
// and the time it was sent. The targeter writes a slot once (atomically)
// before its request leaves; subscribers read slots concurrently without
// locks. Request outcomes are written by the collector goroutine only and
// read after it has finished.
type seqTable struct {
	offset   int64 // (step+1)·seqSpan
	n, shard int64
	batch    int64
	requests int64 // capacity in requests

	// sent[j] is event j's send time on the run clock, plus one (0: unsent).
	sent []atomic.Int64
	next atomic.Int64 // next request index the targeter hands out

	// outcome[k] of request k: outcomeOK or outcomeFailed (collector only).
	outcome []uint8
}

const (
	outcomeNone uint8 = iota
	outcomeOK
	outcomeFailed
)

func newSeqTable(step int, sh Shard, batch int, requests int64) *seqTable {
	return &seqTable{
		offset:   int64(step+1) * seqSpan,
		n:        int64(sh.Count),
		shard:    int64(sh.Index),
		batch:    int64(batch),
		requests: requests,
		sent:     make([]atomic.Int64, requests*int64(batch)),
		outcome:  make([]uint8, requests),
	}
}

// seq is the seq of event index j.
func (t *seqTable) seq(j int64) int64 { return t.offset + j*t.n + t.shard + 1 }

// index is the event index of seq, if seq is one of this table's.
func (t *seqTable) index(seq int64) (int64, bool) {
	v := seq - t.offset - 1
	if v < 0 || v >= seqSpan || v%t.n != t.shard {
		return 0, false
	}
	j := v / t.n
	return j, j < int64(len(t.sent))
}

// inSpan reports whether seq belongs to this table's step, whichever
// shard sent it.
func (t *seqTable) inSpan(seq int64) bool {
	v := seq - t.offset - 1
	return v >= 0 && v < seqSpan
}

// sentAt is event j's send time and whether it was sent.
func (t *seqTable) sentAt(j int64) (int64, bool) {
	v := t.sent[j].Load()
	return v - 1, v != 0
}

// issued is the number of requests the targeter handed out.
func (t *seqTable) issued() int64 { return min(t.next.Load(), t.requests) }

// acceptedTimes returns the send times of the events of accepted requests
// sent at or after from, sorted. Call it after the collector finished.
func (t *seqTable) acceptedTimes(from int64) []int64 {
	var out []int64
	for k := range t.issued() {
		if t.outcome[k] != outcomeOK {
			continue
		}
		for j := k * t.batch; j < (k+1)*t.batch; j++ {
			if at, ok := t.sentAt(j); ok && at >= from {
				out = append(out, at)
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out
}

// countIn is the number of times in sorted ts within [from, to).
func countIn(ts []int64, from, to int64) int64 {
	lo := sort.Search(len(ts), func(i int) bool { return ts[i] >= from })
	hi := sort.Search(len(ts), func(i int) bool { return ts[i] >= to })
	return int64(max(0, hi-lo))
}

// clock is the run's one monotonic clock: nanoseconds since the run began.
type clock struct{ base time.Time }

func newClock() *clock                { return &clock{base: time.Now()} }
func (c *clock) now() int64           { return int64(time.Since(c.base)) }
func (c *clock) at(t int64) time.Time { return c.base.Add(time.Duration(t)) }
