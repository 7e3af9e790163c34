// Package spell suggests the name a user probably meant, for error messages
// such as `unknown field "pol" (did you mean "poll"?)`.
package spell

import "strings"

// Suggest returns the known name closest to s when it is close enough to
// be a likely typo (two edits, or a third of its length for long names; or a prefix of it), else "".
func Suggest(s string, known []string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	best, bestD := "", 1<<30
	for _, k := range known {
		if d := Distance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	if (bestD <= max(2, len(s)/3) && bestD < len(s)) || (len(s) >= 3 && strings.HasPrefix(best, s)) {
		return best
	}
	return ""
}

// Distance is the Levenshtein edit distance between a and b.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
