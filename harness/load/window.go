package load

// windowBits is how far back (in event indexes) a subscriber still tells a
// duplicate from a late first delivery: 65536 events, e.g. 6.5s at 10,000
// events/s. A delivery older than that is counted as stale (and out of
// order), not as a duplicate.
const windowBits = 1 << 16

// window remembers which recent event indexes a subscriber has received:
// a ring of bits over the last windowBits indexes below the highest seen.
// Memory stays at 8 KB per subscriber however long the run.
type window struct {
	bits []uint64
	hi   int64 // highest index seen; -1 for none
}

func (w *window) reset() {
	if w.bits == nil {
		w.bits = make([]uint64, windowBits/64)
	} else {
		clear(w.bits)
	}
	w.hi = -1
}

func (w *window) bit(j int64) (word int, mask uint64) {
	k := uint64(j) & (windowBits - 1)
	return int(k / 64), 1 << (k % 64)
}

// add records index j; it reports a duplicate (seen before), a delivery
// out of order (below the highest seen) and one too old to tell (stale).
func (w *window) add(j int64) (dup, outOfOrder, stale bool) {
	if j > w.hi {
		if j-w.hi >= windowBits {
			clear(w.bits)
		} else {
			for k := w.hi + 1; k < j; k++ {
				word, m := w.bit(k)
				w.bits[word] &^= m
			}
		}
		word, m := w.bit(j)
		w.bits[word] |= m
		w.hi = j
		return false, false, false
	}
	if j <= w.hi-windowBits {
		return false, true, true
	}
	word, m := w.bit(j)
	if w.bits[word]&m != 0 {
		return true, false, false
	}
	w.bits[word] |= m
	return false, true, false
}
