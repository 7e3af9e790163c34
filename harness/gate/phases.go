package gate

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/thor-trading/cutover-harness/harness/internal/strictyaml"
)

// DefaultPhases is the phases file, relative to the repository root.
const DefaultPhases = "scenarios/phases.yaml"

// Phase is one step of the migration.
type Phase struct {
	Name string `yaml:"name"`
	// Requires lists the phases that must be signed off before this one may
	// start. Only this direct list is checked (see the package doc).
	Requires []string `yaml:"requires"`
	// Scenarios lists the scenario files whose reports are evidence for
	// this phase.
	Scenarios []string `yaml:"scenarios"`
	// Line is where the phase starts in its file (0 if not from a file).
	Line int `yaml:"-"`
}

// Phases is the migration's phases, in order.
type Phases []Phase

// Lookup returns the phase called name.
func (ps Phases) Lookup(name string) (Phase, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p, true
		}
	}
	return Phase{}, false
}

// Names returns the phase names in order.
func (ps Phases) Names() []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// UnknownPhaseError names a phase the phases file does not define.
type UnknownPhaseError struct {
	Phase string
	Known []string
}

func (e *UnknownPhaseError) Error() string {
	return fmt.Sprintf("unknown phase %q (known: %s)", e.Phase, strings.Join(e.Known, ", "))
}

// Phase returns the phase called name, or an *UnknownPhaseError.
func (ps Phases) Phase(name string) (Phase, error) {
	if p, ok := ps.Lookup(name); ok {
		return p, nil
	}
	return Phase{}, &UnknownPhaseError{Phase: name, Known: ps.Names()}
}

// phasesFile is the YAML document.
type phasesFile struct {
	Phases []Phase `yaml:"phases"`
}

// LoadPhases reads a phases file (scenarios/phases.yaml).
func LoadPhases(path string) (Phases, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParsePhases(data, path)
}

var phaseName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*(/[a-z0-9][a-z0-9_.-]*)*$`)

// ParsePhases decodes a phases file strictly (unknown fields are errors,
// every problem at its line and field) and checks it: at least one phase,
// names unique and of the form word[/word] (lower case), each required
// phase defined above the phase requiring it (so the order is the file's
// and there are no cycles). Errors name file:line.
func ParsePhases(data []byte, file string) (Phases, error) {
	var doc phasesFile
	lines, err := strictyaml.Decode(file, data, &doc, `want a "phases:" list of {name, requires, scenarios} (see scenarios/phases.yaml)`)
	if err != nil {
		return nil, err
	}
	if len(doc.Phases) == 0 {
		return nil, fmt.Errorf("%s:%d: no phases; want a \"phases:\" list of {name, requires, scenarios}", file, max(lines["phases"], 1))
	}
	seen := map[string]int{}
	for i := range doc.Phases {
		p := &doc.Phases[i]
		p.Line = lines[fmt.Sprintf("phases[%d]", i)]
		switch {
		case p.Name == "":
			return nil, fmt.Errorf("%s:%d: phase without a name", file, p.Line)
		case !phaseName.MatchString(p.Name):
			return nil, fmt.Errorf("%s:%d: phase name %q: want lower-case words separated by /, e.g. cutover/positions", file, p.Line, p.Name)
		}
		if first, dup := seen[p.Name]; dup {
			return nil, fmt.Errorf("%s:%d: phase %q is already defined on line %d", file, p.Line, p.Name, doc.Phases[first].Line)
		}
		reqSeen := map[string]bool{}
		for j, r := range p.Requires {
			at := lines[fmt.Sprintf("phases[%d].requires[%d]", i, j)]
			if _, ok := seen[r]; !ok {
				if r == p.Name {
					return nil, fmt.Errorf("%s:%d: phase %q requires itself", file, at, r)
				}
				if _, later := phaseIndex(doc.Phases[i+1:], r); later {
					return nil, fmt.Errorf("%s:%d: phase %q requires %q, which comes after it; list phases in order", file, at, p.Name, r)
				}
				return nil, fmt.Errorf("%s:%d: phase %q requires unknown phase %q (defined above: %s)", file, at, p.Name, r, strings.Join(Phases(doc.Phases[:i]).Names(), ", "))
			}
			if reqSeen[r] {
				return nil, fmt.Errorf("%s:%d: phase %q requires %q twice", file, at, p.Name, r)
			}
			reqSeen[r] = true
		}
		for _, s := range p.Scenarios {
			if strings.TrimSpace(s) == "" {
				return nil, fmt.Errorf("%s:%d: phase %q: empty scenario path", file, p.Line, p.Name)
			}
		}
		seen[p.Name] = i
	}
	return Phases(doc.Phases), nil
}

func phaseIndex(ps []Phase, name string) (int, bool) {
	for i, p := range ps {
		if p.Name == name {
			return i, true
		}
	}
	return 0, false
}
