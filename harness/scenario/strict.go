package scenario

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/thor-trading/cutover-harness/harness/internal/spell"
	"github.com/thor-trading/cutover-harness/harness/internal/strictyaml"
)

// Error is a problem at one place of a scenario file.
type Error = strictyaml.Error

// Errors is every problem found in one scenario file.
type Errors = strictyaml.Errors

// suggest returns the known name closest to s, if it is close enough to be
// a likely typo.
func suggest(s string, known []string) string { return spell.Suggest(s, known) }

// UnmarshalYAMLNode reads a duration such as 250ms, 2s or 1m30s.
func (d *Duration) UnmarshalYAMLNode(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return fmt.Errorf("want a duration such as 250ms, 2s or 1m30s, got %s", strictyaml.Describe(n))
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		if _, nerr := strconv.ParseFloat(n.Value, 64); nerr == nil {
			return fmt.Errorf("%q has no unit: write it as %ss or %sms", n.Value, n.Value, n.Value)
		}
		return fmt.Errorf("%q is not a duration (write 250ms, 2s or 1m30s)", n.Value)
	}
	if v < 0 {
		return fmt.Errorf("%s is negative", n.Value)
	}
	*d = Duration(v)
	return nil
}

// ParseSpeed parses "max", "1x", "10x", "0.5x".
func ParseSpeed(s string) (Speed, error) {
	if s == "max" {
		return Max, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "x"), 64)
	if !strings.HasSuffix(s, "x") || err != nil || f <= 0 {
		return 0, fmt.Errorf("%q is not a speed (write max, 1x, 10x or 0.5x)", s)
	}
	return Speed(f), nil
}

// UnmarshalYAMLNode reads a speed: max, 1x, 10x, 0.5x.
func (s *Speed) UnmarshalYAMLNode(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a speed such as max, 1x or 10x, got %s", strictyaml.Describe(n))
	}
	v, err := ParseSpeed(n.Value)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// String renders s as it is written in a scenario.
func (s Speed) String() string {
	if s == Max {
		return "max"
	}
	return strconv.FormatFloat(float64(s), 'f', -1, 64) + "x"
}
