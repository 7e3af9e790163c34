package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/thor-trading/cutover-harness/harness/internal/spell"
)

// Error is a problem at one place of a YAML file.
type Error struct {
	File  string
	Line  int
	Field string // dotted path, e.g. features.positions.rest.poll
	Msg   string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: field %q: %s", loc, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// Errors is every problem found in one file.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// NodeUnmarshaler is implemented by the field types that parse themselves;
// an error it returns is reported at the node's line and field.
type NodeUnmarshaler interface {
	UnmarshalYAMLNode(*yaml.Node) error
}

// decoder walks a YAML node tree into a Go value, strictly: every key must
// name a field, every scalar must fit its type. It collects all problems.
type decoder struct {
	file  string
	errs  Errors
	lines map[string]int // field path → line, for checks after decoding
	// values counts the nodes decoded, aliases expanded: a few anchors can
	// make a small file expand to millions of values.
	values int
}

// MaxValues is the most values a file may expand to: far more than any
// scenario or phases file needs, few enough to decode in well under a
// second.
const MaxValues = 200_000

func (d *decoder) fail(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Decode parses src, the contents of file, into v (a pointer to a struct)
// and returns the line of every field path it set ("a.b[2].c"). Errors
// are Errors, every problem found, each at its line and field; emptyHint
// says what an empty file should hold.
func Decode(file string, src []byte, v any, emptyHint string) (map[string]int, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, Errors{yamlSyntaxError(file, src, err)}
	}
	d := &decoder{file: file, lines: map[string]int{}}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		d.fail(nil, "", "the file is empty: %s", emptyHint)
		return nil, d.errs
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.fail(&extra, "", "a second YAML document (after ---): want one")
		return nil, d.errs
	} else if !errors.Is(err, io.EOF) {
		return nil, Errors{yamlSyntaxError(file, src, err)}
	}
	d.decode(doc.Content[0], reflect.ValueOf(v).Elem(), "")
	if len(d.errs) > 0 {
		return d.lines, d.errs
	}
	return d.lines, nil
}

// yamlSyntaxError makes a YAML parser error an *Error at its line, without
// the parser's own "line N:" (the location says it), and with a hint where
// the usual cause is plain: a tab in the indentation.
func yamlSyntaxError(file string, src []byte, err error) *Error {
	line := yamlErrLine(err)
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if line > 0 {
		msg = strings.TrimPrefix(msg, "line "+strconv.Itoa(line)+": ")
	}
	msg = "YAML syntax: " + msg
	if lines := strings.Split(string(src), "\n"); line > 0 && line <= len(lines) {
		if l := lines[line-1]; strings.HasPrefix(strings.TrimLeft(l, " "), "\t") {
			msg += " (a tab in the indentation: indent YAML with spaces)"
		}
	}
	return &Error{File: file, Line: line, Msg: msg}
}

func yamlErrLine(err error) int {
	s := err.Error()
	if i := strings.Index(s, "line "); i >= 0 {
		j := i + 5
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(s[i+5 : j])
		return n
	}
	return 0
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if d.values++; d.values > MaxValues {
		if d.values == MaxValues+1 {
			d.fail(n, path, "the file expands to more than %d values (each YAML alias repeats what its anchor names): use fewer aliases of aliases", MaxValues)
		}
		return
	}
	d.lines[path] = n.Line
	if v.CanAddr() {
		if u, ok := v.Addr().Interface().(NodeUnmarshaler); ok {
			if err := u.UnmarshalYAMLNode(n); err != nil {
				d.fail(n, path, "%v", err)
			}
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Tag == "!!null" {
			return
		}
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, "want a mapping, got %s", Describe(n))
			return
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			key := reflect.New(v.Type().Key()).Elem()
			key.SetString(k.Value)
			if v.MapIndex(key).IsValid() {
				d.fail(k, join(path, k.Value), "appears twice")
				continue
			}
			elem := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, elem, join(path, k.Value))
			v.SetMapIndex(key, elem)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "want a list, got %s", Describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.String:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			d.fail(n, path, "want a string, got %s", Describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		b, err := strconv.ParseBool(n.Value)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || err != nil {
			d.fail(n, path, "want true or false, got %s", Describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		i, err := strconv.ParseInt(n.Value, 10, 64)
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil {
			d.fail(n, path, "want a whole number, got %s", Describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!float" && n.Tag != "!!int") || err != nil {
			d.fail(n, path, "want a number, got %s", Describe(n))
			return
		}
		v.SetFloat(f)
	default:
		panic("strictyaml: no YAML decoding for " + v.Type().String())
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", Describe(n))
		return
	}
	fields := map[string]int{}
	var names []string
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = i
		names = append(names, tag)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		idx, ok := fields[k.Value]
		if !ok {
			msg := "unknown field"
			if s := spell.Suggest(k.Value, names); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				sort.Strings(names)
				msg += " (known fields: " + strings.Join(names, ", ") + ")"
			}
			d.fail(k, join(path, k.Value), "%s", msg)
			continue
		}
		if seen[k.Value] {
			d.fail(k, join(path, k.Value), "appears twice")
			continue
		}
		seen[k.Value] = true
		d.decode(val, v.Field(idx), join(path, k.Value))
	}
}

// Describe names what a node holds, for errors: "a mapping", "a list",
// "nothing" or the quoted scalar.
func Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return strconv.Quote(n.Value)
}
