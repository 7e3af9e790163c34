package refstack

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/thor-trading/cutover-harness/harness/internal/spell"
)

// Faults are the fault modes switched on per feature; a nil or empty Faults
// is a clean stack. Every mode imitates the bug it names and leaves no marker
// in the output: shapes and fields stay as the contract says, except what the
// mode itself changes.
type Faults map[Feature]FeatureFaults

// FeatureFaults are the fault modes of one feature. The zero value is no
// fault; modes combine (a message is first dropped or not, then reordered,
// then duplicated, then delayed). WS faults act on the broadcast, so every
// client sees the same faulty stream; each decision is made once per message.
type FeatureFaults struct {
	// Drop is the fraction (0..1) of the feature's WS messages lost, drawn
	// from the RNG seeded by Config.Seed. Zero drops nothing.
	Drop float64
	// Delay sends the feature's WS messages this late, in their order. Zero
	// sends them at once.
	Delay time.Duration
	// Duplicate is the fraction (0..1) of the feature's WS messages sent
	// twice in a row. Zero duplicates nothing.
	Duplicate float64
	// Reorder swaps every other pair of consecutive WS messages with the same
	// stream key (balance: account_id; positions: account_id+symbol; bars:
	// symbol; market: market): the first of a swapped pair is held back and
	// sent right after the second. A held message whose key never gets
	// another message stays held, as a stale value would.
	Reorder bool
	// Round, when not nil, makes the WS round money fields to *Round
	// decimals (0..6, half away from zero) while REST keeps 2. Nil is the
	// contract's 2. It changes nothing for features without money fields.
	Round *int
	// OmitField is an item field the feature's WS items lack ("" = none).
	OmitField string
	// StaleREST makes the feature's REST endpoint serve the state as it was
	// this long ago in wall-clock time (a stale cache), seq included. Zero
	// serves the current state.
	StaleREST time.Duration
}

// ws reports whether any mode changes the WS stream of the feature.
func (ff FeatureFaults) ws() bool {
	return ff.Drop > 0 || ff.Delay > 0 || ff.Duplicate > 0 || ff.Reorder || ff.Round != nil || ff.OmitField != ""
}

func (ff FeatureFaults) zero() bool { return !ff.ws() && ff.StaleREST == 0 }

// Fault mode names of the SPEC grammar.
var faultModes = []string{"drop", "delay", "duplicate", "reorder", "round", "omit_field", "stale_rest"}

// FaultsHelp documents the SPEC grammar ParseFaults reads.
const FaultsHelp = `SPEC is a comma-separated list of feature:mode[=param]:
  feature       account_balance | positions | intraday_bars | global_market
  drop=P        WS loses a fraction P (0..1] of the feature's messages (seeded RNG)
  delay=D       WS sends the feature's messages D late (Go duration, e.g. 2s), order kept
  duplicate=P   WS sends a fraction P (0..1] of the feature's messages twice
  reorder       WS swaps every other pair of consecutive messages with the same
                key (the earlier is held back and sent right after the later)
  round=N       WS rounds money to N decimals (0..6) while REST keeps 2
  omit_field=F  WS items of the feature lack field F
  stale_rest=D  REST serves the feature's state as it was D ago (stale cache)
Modes combine, also on one feature. Example:
  positions:drop=0.05,global_market:delay=2s,account_balance:omit_field=net_liq`

// ParseFaults reads a fault SPEC (see FaultsHelp), e.g.
// "positions:drop=0.05,global_market:delay=2s". The empty string is no fault.
// Errors name the offending item and say what is accepted.
func ParseFaults(spec string) (Faults, error) {
	var out Faults
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		fname, mode, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("fault %q: want feature:mode[=param], e.g. positions:drop=0.05", item)
		}
		f, err := ParseFeature(fname)
		if err != nil {
			if s := suggest(fname, featureNames()); s != "" {
				err = fmt.Errorf("%w (did you mean %q?)", err, s)
			}
			return nil, fmt.Errorf("fault %q: %w", item, err)
		}
		mode, param, hasParam := strings.Cut(strings.TrimSpace(mode), "=")
		mode, param = strings.TrimSpace(mode), strings.TrimSpace(param)
		if out == nil {
			out = Faults{}
		}
		ff := out[f]
		if err := ff.set(f, mode, param, hasParam); err != nil {
			return nil, fmt.Errorf("fault %q: %w", item, err)
		}
		out[f] = ff
	}
	return out, nil
}

func (ff *FeatureFaults) set(f Feature, mode, param string, hasParam bool) error {
	if !slices.Contains(faultModes, mode) {
		msg := fmt.Sprintf("unknown mode %q (want one of %s)", mode, strings.Join(faultModes, ", "))
		if s := suggest(mode, faultModes); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		return fmt.Errorf("%s", msg)
	}
	if mode == "reorder" {
		if hasParam {
			return fmt.Errorf("reorder takes no parameter")
		}
		if ff.Reorder {
			return fmt.Errorf("reorder given twice")
		}
		ff.Reorder = true
		return nil
	}
	if !hasParam || param == "" {
		return fmt.Errorf("%s needs a parameter (%s)", mode, modeParam(mode))
	}
	fraction := func(dst *float64) error {
		p, err := strconv.ParseFloat(param, 64)
		if err != nil || !(p > 0 && p <= 1) {
			return fmt.Errorf("%s=%s: want a fraction in (0, 1], e.g. 0.05", mode, param)
		}
		if *dst != 0 {
			return fmt.Errorf("%s given twice", mode)
		}
		*dst = p
		return nil
	}
	duration := func(dst *time.Duration) error {
		d, err := time.ParseDuration(param)
		if err != nil || d <= 0 {
			return fmt.Errorf("%s=%s: want a positive Go duration, e.g. 2s or 250ms", mode, param)
		}
		if *dst != 0 {
			return fmt.Errorf("%s given twice", mode)
		}
		*dst = d
		return nil
	}
	switch mode {
	case "drop":
		return fraction(&ff.Drop)
	case "duplicate":
		return fraction(&ff.Duplicate)
	case "delay":
		return duration(&ff.Delay)
	case "stale_rest":
		return duration(&ff.StaleREST)
	case "round":
		n, err := strconv.Atoi(param)
		if err != nil || n < 0 || n > maxRoundDecimals {
			return fmt.Errorf("round=%s: want a number of decimals 0..%d", param, maxRoundDecimals)
		}
		if ff.Round != nil {
			return fmt.Errorf("round given twice")
		}
		ff.Round = &n
	case "omit_field":
		if !slices.Contains(f.fields(), param) {
			return fmt.Errorf("omit_field=%s: %s items have no field %q (fields: %s)", param, f, param, strings.Join(f.fields(), ", "))
		}
		if ff.OmitField != "" {
			return fmt.Errorf("omit_field given twice")
		}
		ff.OmitField = param
	}
	return nil
}

func modeParam(mode string) string {
	switch mode {
	case "drop", "duplicate":
		return "a fraction, e.g. " + mode + "=0.05"
	case "delay", "stale_rest":
		return "a duration, e.g. " + mode + "=2s"
	case "round":
		return "decimals, e.g. round=0"
	case "omit_field":
		return "a field name, e.g. omit_field=net_liq"
	}
	return ""
}

// Validate checks Faults built in Go the way ParseFaults checks a SPEC.
func (fs Faults) Validate() error {
	for f, ff := range fs {
		if f.index() < 0 {
			return fmt.Errorf("faults: unknown feature %q", f)
		}
		switch {
		case ff.Drop < 0 || ff.Drop > 1:
			return fmt.Errorf("faults: %s drop=%v: want a fraction in [0, 1]", f, ff.Drop)
		case ff.Duplicate < 0 || ff.Duplicate > 1:
			return fmt.Errorf("faults: %s duplicate=%v: want a fraction in [0, 1]", f, ff.Duplicate)
		case ff.Delay < 0:
			return fmt.Errorf("faults: %s delay=%v: want a positive duration", f, ff.Delay)
		case ff.StaleREST < 0:
			return fmt.Errorf("faults: %s stale_rest=%v: want a positive duration", f, ff.StaleREST)
		case ff.Round != nil && (*ff.Round < 0 || *ff.Round > maxRoundDecimals):
			return fmt.Errorf("faults: %s round=%d: want 0..%d decimals", f, *ff.Round, maxRoundDecimals)
		case ff.OmitField != "" && !slices.Contains(f.fields(), ff.OmitField):
			return fmt.Errorf("faults: %s omit_field=%s: no such field (fields: %s)", f, ff.OmitField, strings.Join(f.fields(), ", "))
		}
	}
	return nil
}

// String renders the faults as a SPEC ParseFaults reads back, features in
// table order and modes in grammar order; "" for no fault.
func (fs Faults) String() string {
	var items []string
	for _, f := range Features {
		ff, ok := fs[f]
		if !ok {
			continue
		}
		add := func(mode string) { items = append(items, string(f)+":"+mode) }
		if ff.Drop > 0 {
			add("drop=" + strconv.FormatFloat(ff.Drop, 'g', -1, 64))
		}
		if ff.Delay > 0 {
			add("delay=" + ff.Delay.String())
		}
		if ff.Duplicate > 0 {
			add("duplicate=" + strconv.FormatFloat(ff.Duplicate, 'g', -1, 64))
		}
		if ff.Reorder {
			add("reorder")
		}
		if ff.Round != nil {
			add("round=" + strconv.Itoa(*ff.Round))
		}
		if ff.OmitField != "" {
			add("omit_field=" + ff.OmitField)
		}
		if ff.StaleREST > 0 {
			add("stale_rest=" + ff.StaleREST.String())
		}
	}
	return strings.Join(items, ",")
}

func featureNames() []string {
	out := make([]string, len(Features))
	for i, f := range Features {
		out[i] = string(f)
	}
	return out
}

// suggest returns the candidate closest to s when it is close enough to
// be a typo, else "".
func suggest(s string, candidates []string) string { return spell.Suggest(s, candidates) }
