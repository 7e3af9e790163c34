package strictyaml

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

type upper string

func (u *upper) UnmarshalYAMLNode(n *yaml.Node) error {
	if n.Value != strings.ToUpper(n.Value) {
		return fmt.Errorf("%s is not upper case", Describe(n))
	}
	*u = upper(n.Value)
	return nil
}

type doc struct {
	Name  string           `yaml:"name"`
	Count int              `yaml:"count"`
	Ratio float64          `yaml:"ratio"`
	On    bool             `yaml:"on"`
	Tags  []string         `yaml:"tags"`
	Sub   *struct{ X int } `yaml:"sub"`
	Codes map[string]upper `yaml:"codes"`
}

func TestDecode(t *testing.T) {
	var d doc
	lines, err := Decode("f.yaml", []byte("name: a\ncount: 3\nratio: 2\non: true\ntags: [x, y]\ncodes: {k: ABC}\n"), &d, "hint")
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "a" || d.Count != 3 || d.Ratio != 2 || !d.On || len(d.Tags) != 2 || d.Codes["k"] != "ABC" {
		t.Errorf("decoded %+v", d)
	}
	if lines["tags[1]"] != 5 || lines["codes.k"] != 6 {
		t.Errorf("lines %v", lines)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string // one per error, in order
	}{
		{"empty", "", []string{"f.yaml: the file is empty: hint"}},
		{"syntax", "name: [a\n", []string{"f.yaml:1: YAML syntax:"}},
		{"tab", "name: a\n\tcount: 1\n", []string{"f.yaml:2: YAML syntax:", "a tab in the indentation"}},
		{"every problem at once", "nme: a\ncount: x\nratio: [1]\non: yes\ntags: t\ncodes: {k: abc}\n", []string{
			`f.yaml:1: field "nme": unknown field (did you mean "name"?)`,
			`f.yaml:2: field "count": want a whole number, got "x"`,
			`f.yaml:3: field "ratio": want a number, got a list`,
			`f.yaml:4: field "on": want true or false, got "yes"`,
			`f.yaml:5: field "tags": want a list, got "t"`,
			`f.yaml:6: field "codes.k": "abc" is not upper case`,
		}},
		{"twice", "name: a\nname: b\n", []string{`f.yaml:2: field "name": appears twice`}},
		{"second document", "name: a\n---\nname: b\n", []string{"f.yaml:2: a second YAML document (after ---)"}},
		{"alias bomb", "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n",
			[]string{"expands to more than 200000 values"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.name == "alias bomb" {
				_, err = Decode("f.yaml", []byte(tc.src), &bombDoc{}, "hint")
			} else {
				_, err = Decode("f.yaml", []byte(tc.src), &doc{}, "hint")
			}
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("err = %v (%T), want Errors", err, err)
			}
			if tc.name == "every problem at once" && len(es) != len(tc.want) {
				t.Fatalf("%d errors, want %d:\n%v", len(es), len(tc.want), err)
			}
			for i, w := range tc.want {
				got := es[min(i, len(es)-1)].Error()
				if tc.name != "every problem at once" {
					got = err.Error()
				}
				if !strings.Contains(got, w) {
					t.Errorf("error %d = %q, want it to contain %q", i, got, w)
				}
			}
		})
	}
}

// bombDoc holds the alias bomb: 10^6 strings from a few lines.
type bombDoc struct {
	A []string           `yaml:"a"`
	B [][]string         `yaml:"b"`
	C [][][]string       `yaml:"c"`
	D [][][][]string     `yaml:"d"`
	E [][][][][]string   `yaml:"e"`
	F [][][][][][]string `yaml:"f"`
}
