package load

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/gorilla/websocket"
)

func TestScanner(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		typeField, typ, corr string
		frame                string
		measured             bool
		id                   int64
		idOK                 bool
	}{
		{"reference stack message", "type", "market_status", "seq", `{"type":"market_status","seq":1000000000042,"data":{"market":"L1000000000042","status":"OPEN"}}`, true, 1000000000042, true},
		{"heartbeat is not measured", "type", "market_status", "seq", `{"type":"heartbeat","seq":17,"ts":"2026-03-02T14:30:00Z"}`, false, 17, true},
		{"other feature", "type", "market_status", "seq", `{"type":"positions","seq":5,"data":{}}`, false, 5, true},
		{"type prefix is not enough", "type", "market", "seq", `{"type":"market_status","seq":5}`, false, 5, true},
		{"spaces after colons (Python json.dumps)", "type", "market_status", "seq", `{"type": "market_status", "seq": 77, "data": {}}`, true, 77, true},
		{"no seq: id from the market name", "type", "market_status", "market", `{"type":"market_status","data":{"market":"L123","status":"OPEN"}}`, true, 123, true},
		{"numeric string", "type", "market_status", "seq", `{"type":"market_status","seq":"88"}`, true, 88, true},
		{"no correlation field", "type", "market_status", "seq", `{"type":"market_status","data":{}}`, true, 0, false},
		{"market without digits", "type", "market_status", "market", `{"type":"market_status","data":{"market":"Tokyo","status":"OPEN"}}`, true, 0, false},
		{"seq not a number", "type", "market_status", "seq", `{"type":"market_status","seq":null}`, true, 0, false},
		{"too many digits", "type", "market_status", "seq", `{"type":"market_status","seq":12345678901234567890}`, true, 0, false},
		{"every frame measured without a type", "type", "", "seq", `{"seq":9}`, true, 9, true},
		{"other type field", "kind", "market", "id", `{"kind":"market","id":3}`, true, 3, true},
		{"empty frame", "type", "market_status", "seq", ``, false, 0, false},
		{"truncated", "type", "market_status", "seq", `{"type":"market_status","seq":`, true, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScanner(tc.typeField, tc.typ, tc.corr)
			if got := s.measured([]byte(tc.frame)); got != tc.measured {
				t.Errorf("measured = %v, want %v", got, tc.measured)
			}
			id, ok := s.id([]byte(tc.frame))
			if id != tc.id || ok != tc.idOK {
				t.Errorf("id = %d, %v; want %d, %v", id, ok, tc.id, tc.idOK)
			}
		})
	}
}

func TestScannerAllocatesNothing(t *testing.T) {
	s := newScanner("type", "market_status", "seq")
	frame := []byte(`{"type":"market_status","seq":1000000000042,"data":{"market":"L1000000000042","status":"OPEN"}}`)
	if n := testing.AllocsPerRun(100, func() {
		s.measured(frame)
		s.id(frame)
	}); n != 0 {
		t.Errorf("%v allocations per frame", n)
	}
}

func BenchmarkScan(b *testing.B) {
	s := newScanner("type", "market_status", "seq")
	frame := []byte(`{"type":"market_status","seq":1000000000042,"data":{"market":"L1000000000042","status":"OPEN"}}`)
	for b.Loop() {
		if !s.measured(frame) {
			b.Fatal("not measured")
		}
		if _, ok := s.id(frame); !ok {
			b.Fatal("no id")
		}
	}
}

func TestWindow(t *testing.T) {
	type want struct{ dup, ooo, stale bool }
	for _, tc := range []struct {
		name string
		in   []int64
		out  []want
	}{
		{"in order", []int64{0, 1, 2}, []want{{}, {}, {}}},
		{"duplicate", []int64{0, 1, 1}, []want{{}, {}, {dup: true}}},
		{"out of order, then its duplicate", []int64{0, 2, 1, 1}, []want{{}, {}, {ooo: true}, {dup: true}}},
		{"gap then late arrival", []int64{5, 100, 7}, []want{{}, {}, {ooo: true}}},
		{"a slot reused after a wrap is not a duplicate", []int64{3, 3 + windowBits}, []want{{}, {}}},
		{"wrap in small steps clears old bits", []int64{1, windowBits - 1, windowBits + 1}, []want{{}, {}, {}}},
		{"older than the window is stale", []int64{10, 10 + windowBits, 10}, []want{{}, {}, {ooo: true, stale: true}}},
		{"first delivery far ahead", []int64{3 * windowBits, 3*windowBits - 1}, []want{{}, {ooo: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w window
			w.reset()
			for i, j := range tc.in {
				d, o, s := w.add(j)
				if got := (want{d, o, s}); got != tc.out[i] {
					t.Errorf("add(%d) = %+v, want %+v", j, got, tc.out[i])
				}
			}
		})
	}
}

func TestSeqTable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		step  int
		shard Shard
	}{
		{"whole test", 0, Shard{0, 1}},
		{"second step", 1, Shard{0, 1}},
		{"shard 2 of 3", 0, Shard{1, 3}},
		{"shard 3 of 3, step 4", 3, Shard{2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := newSeqTable(tc.step, tc.shard, 2, 10)
			for j := range int64(20) {
				seq := tab.seq(j)
				got, ok := tab.index(seq)
				if !ok || got != j || !tab.inSpan(seq) {
					t.Fatalf("index(seq(%d)=%d) = %d, %v", j, seq, got, ok)
				}
				if tc.shard.Count > 1 {
					if _, ok := tab.index(seq + 1); ok {
						t.Errorf("seq %d of another shard taken for ours", seq+1)
					}
				}
			}
			other := newSeqTable(tc.step+1, tc.shard, 2, 10)
			if _, ok := tab.index(other.seq(0)); ok || tab.inSpan(other.seq(0)) {
				t.Error("the next step's seq taken for this step's")
			}
			if _, ok := tab.index(tab.seq(20)); ok {
				t.Error("a seq past the table taken")
			}
			if _, ok := tab.index(17); ok {
				t.Error("a heartbeat's seq taken")
			}
		})
	}
}

func TestCountIn(t *testing.T) {
	ts := []int64{1, 3, 3, 5, 9}
	for _, tc := range []struct {
		from, to, want int64
	}{{0, 10, 5}, {3, 4, 2}, {4, 9, 1}, {10, 20, 0}, {5, 5, 0}} {
		if got := countIn(ts, tc.from, tc.to); got != tc.want {
			t.Errorf("countIn [%d,%d) = %d, want %d", tc.from, tc.to, got, tc.want)
		}
	}
}

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"slow consumer cut", &websocket.CloseError{Code: websocket.ClosePolicyViolation, Text: "slow consumer: send queue full"}, "closed by the stack: 1008 slow consumer: send queue full"},
		{"going away", &websocket.CloseError{Code: websocket.CloseGoingAway}, "closed by the stack: 1001"},
		{"no close frame", &websocket.CloseError{Code: websocket.CloseAbnormalClosure, Text: "unexpected EOF"}, "connection closed without a close frame"},
		{"eof", io.ErrUnexpectedEOF, "connection closed without a close frame"},
		{"bad handshake", fmt.Errorf("dial: %w", websocket.ErrBadHandshake), "bad handshake (the WS URL did not upgrade)"},
		{"refused, address left out", errors.New("dial tcp 127.0.0.1:1: connect: connection refused"), "connection refused"},
		{"other", errors.New("something odd"), "something odd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := reason(tc.err); got != tc.want {
				t.Errorf("reason = %q, want %q", got, tc.want)
			}
		})
	}
}
