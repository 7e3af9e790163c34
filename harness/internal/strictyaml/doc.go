// Package strictyaml decodes YAML files people write by hand (scenarios,
// the phases file) into Go structs strictly: every key must name a field
// (a misspelling gets a suggestion), every scalar must fit its type, one
// document per file, a bounded expansion of aliases. It reports every
// problem at once, each as file:line: field "a.b[2].c": what is wrong,
// and returns the line of every field it set for checks made afterwards.
package strictyaml
