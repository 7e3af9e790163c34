package jsonw

import (
	"encoding/json"
	"math"
	"testing"
)

func TestAppendFloat(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-2.5, "-2.5"},
		{6828.25, "6828.25"}, {1e20, "100000000000000000000"}, {1e21, "1e+21"},
		{1e-6, "0.000001"}, {1e-7, "1e-07"}, {math.NaN(), "null"}, {math.Inf(-1), "null"},
	} {
		got := string(AppendFloat([]byte("x"), c.v))
		if got != "x"+c.want {
			t.Errorf("AppendFloat(%v) = %q, want %q", c.v, got[1:], c.want)
		}
		var back any
		if err := json.Unmarshal([]byte(got[1:]), &back); err != nil {
			t.Errorf("AppendFloat(%v) = %q: not JSON: %v", c.v, got[1:], err)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "ES", "ACC-1|ES", `a"b`, `back\slash`, "tab\t", "Zürich", "\x00"} {
		got := AppendString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != s {
			t.Errorf("AppendString(%q) = %s: read back %q, %v", s, got, back, err)
		}
	}
	if got := string(AppendString(nil, "plain")); got != `"plain"` {
		t.Errorf("plain string written as %s", got)
	}
}
