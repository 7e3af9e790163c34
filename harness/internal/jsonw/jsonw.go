package jsonw

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

// AppendFloat writes v in its shortest form, without an exponent between
// 1e-6 and 1e21 (as encoding/json and Python's repr), 'g' form outside
// that range, never a negative zero; NaN and infinities become null, so
// the output is always valid JSON.
func AppendFloat(dst []byte, v float64) []byte {
	if v == 0 {
		return append(dst, '0')
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(dst, "null"...)
	}
	if abs := math.Abs(v); abs < 1e-6 || abs >= 1e21 {
		return strconv.AppendFloat(dst, v, 'g', -1, 64)
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}

// AppendString writes s as a JSON string: as is when it needs no escaping,
// through encoding/json otherwise.
func AppendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
