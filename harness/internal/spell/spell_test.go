package spell

import "testing"

func TestSuggest(t *testing.T) {
	known := []string{"poll", "paths", "items", "seq", "removed"}
	for _, tc := range []struct{ in, want string }{
		{"pol", "poll"},
		{"Poll", "poll"},
		{"itmes", "items"},
		{"remov", "removed"},
		{"zzzzzz", ""},
		{"", ""},
	} {
		if got := Suggest(tc.in, known); got != tc.want {
			t.Errorf("Suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
