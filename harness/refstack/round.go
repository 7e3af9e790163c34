package refstack

import "math"

// MoneyDecimals is the contract's rounding of money at output.
const MoneyDecimals = 2

// maxRoundDecimals bounds the round=N fault: rounding works on values first
// rounded to 6 decimals.
const maxRoundDecimals = 6

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6}
var pow10i = [...]int64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6}

// RoundMoney rounds x half away from zero to n decimals (0 ≤ n ≤ 6) the way
// a person rounds the decimal number: x is first rounded to 6 decimals to
// remove binary noise (1.005 is stored as 1.00499999999999989…), then
// rounded half away from zero at n. So 1.005 → 1.01, -1.005 → -1.01,
// 2.675 → 2.68. Negative zero comes out as 0. Magnitudes of 1e9 and more,
// where 6 decimals no longer fit a float64 exactly, round directly.
func RoundMoney(x float64, n int) float64 {
	if n < 0 {
		n = 0
	}
	if n > maxRoundDecimals {
		n = maxRoundDecimals
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	var r float64
	if math.Abs(x) >= 1e9 {
		r = math.Round(x*pow10[n]) / pow10[n]
	} else {
		micro := int64(math.Round(x * 1e6)) // half away from zero at 6 decimals
		unit := pow10i[maxRoundDecimals-n]
		q, rem := micro/unit, micro%unit // truncated: rem has micro's sign
		if unit > 1 {
			switch {
			case rem >= unit/2:
				q++
			case rem <= -unit/2:
				q--
			}
		}
		r = float64(q) / pow10[n]
	}
	if r == 0 {
		return 0 // no "-0" on the wire
	}
	return r
}
