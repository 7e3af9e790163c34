package refstack

import (
	"math"
	"strconv"
	"testing"

	"github.com/thor-trading/cutover-harness/harness/internal/jsonw"
)

func TestRoundMoney(t *testing.T) {
	tests := []struct {
		name string
		in   float64
		n    int
		want string // as the wire shows it
	}{
		{"half up at 2 (binary 1.00499…)", 1.005, 2, "1.01"},
		{"half away from zero, negative", -1.005, 2, "-1.01"},
		{"binary 2.67499…", 2.675, 2, "2.68"},
		{"negative 2.675", -2.675, 2, "-2.68"},
		{"just below half", 1.0049, 2, "1"},
		{"just below half, negative", -1.0049, 2, "-1"},
		{"exact eighth", 0.125, 2, "0.13"},
		{"binary noise of a sum", 0.1 + 0.2, 2, "0.3"},
		{"noise below a cent", 100024.99999999999, 2, "100025"},
		{"large money", 123456.785, 2, "123456.79"},
		{"tiny negative is zero, not -0", -0.001, 2, "0"},
		{"negative zero", math.Copysign(0, -1), 2, "0"},
		{"integer stays", 512325, 2, "512325"},
		{"round to 0 decimals", 2.5, 0, "3"},
		{"round to 0 decimals, negative", -2.5, 0, "-3"},
		{"round to 4 decimals", 1.00005, 4, "1.0001"},
		{"round to 6 decimals", 1.0000005, 6, "1.000001"},
		{"beyond 1e9 rounds directly", 1234567890.125, 2, "1234567890.13"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(jsonw.AppendFloat(nil, RoundMoney(tt.in, tt.n)))
			if got != tt.want {
				t.Errorf("RoundMoney(%v, %d) = %s, want %s", strconv.FormatFloat(tt.in, 'g', -1, 64), tt.n, got, tt.want)
			}
		})
	}
}
