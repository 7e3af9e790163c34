package refstack

import (
	"fmt"
	"strings"
)

// Feature names one of the four live features of the thor profile.
type Feature string

// The four features, named as in scenario files, --rest-removed and --faults.
const (
	AccountBalance Feature = "account_balance"
	Positions      Feature = "positions"
	IntradayBars   Feature = "intraday_bars"
	GlobalMarket   Feature = "global_market"
)

// Features lists the four features in the order of the contract's table.
var Features = []Feature{AccountBalance, Positions, IntradayBars, GlobalMarket}

// MessageType is the WS message "type" of the feature's items.
func (f Feature) MessageType() string {
	switch f {
	case AccountBalance:
		return "account_balance"
	case Positions:
		return "positions"
	case IntradayBars:
		return "intraday_bar"
	case GlobalMarket:
		return "market_status"
	}
	return ""
}

// RESTPath is the GET path of the feature's REST endpoint.
func (f Feature) RESTPath() string {
	switch f {
	case AccountBalance:
		return "/api/account/balance"
	case Positions:
		return "/api/positions"
	case IntradayBars:
		return "/api/intraday/bars"
	case GlobalMarket:
		return "/api/global-markets/status"
	}
	return ""
}

// EnvVar is the environment variable holding the feature's flag.
func (f Feature) EnvVar() string {
	switch f {
	case AccountBalance:
		return "WS_FEATURE_ACCOUNT_BALANCE"
	case Positions:
		return "WS_FEATURE_POSITIONS"
	case IntradayBars:
		return "WS_FEATURE_INTRADAY"
	case GlobalMarket:
		return "WS_FEATURE_GLOBAL_MARKET"
	}
	return ""
}

// fields are the item fields of the feature, in wire order.
func (f Feature) fields() []string {
	switch f {
	case AccountBalance:
		return []string{"account_id", "cash", "buying_power", "net_liq"}
	case Positions:
		return []string{"account_id", "symbol", "qty", "avg_price", "last", "market_value", "unrealized_pnl"}
	case IntradayBars:
		return []string{"symbol", "start", "open", "high", "low", "close", "volume"}
	case GlobalMarket:
		return []string{"market", "status"}
	}
	return nil
}

func (f Feature) index() int {
	for i, g := range Features {
		if g == f {
			return i
		}
	}
	return -1
}

// ParseFeature checks a feature name.
func ParseFeature(s string) (Feature, error) {
	f := Feature(strings.TrimSpace(s))
	if f.index() >= 0 {
		return f, nil
	}
	return "", fmt.Errorf("unknown feature %q (want account_balance, positions, intraday_bars or global_market)", s)
}

// ParseFeatureList parses a comma-separated list of feature names, as
// --rest-removed takes it. The empty string is the empty list.
func ParseFeatureList(s string) ([]Feature, error) {
	var out []Feature
	for _, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		f, err := ParseFeature(part)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// Flags are the per-feature WS flags reported by GET /api/features. They
// say which source the UI reads; the stack broadcasts every feature either
// way (shadow mode). The zero value has every flag off.
type Flags struct {
	AccountBalance bool `json:"account_balance"`
	Positions      bool `json:"positions"`
	IntradayBars   bool `json:"intraday_bars"`
	GlobalMarket   bool `json:"global_market"`
}

// Get reports the flag of f.
func (fl Flags) Get(f Feature) bool {
	switch f {
	case AccountBalance:
		return fl.AccountBalance
	case Positions:
		return fl.Positions
	case IntradayBars:
		return fl.IntradayBars
	case GlobalMarket:
		return fl.GlobalMarket
	}
	return false
}

// Set sets the flag of f; an unknown feature is ignored.
func (fl *Flags) Set(f Feature, on bool) {
	switch f {
	case AccountBalance:
		fl.AccountBalance = on
	case Positions:
		fl.Positions = on
	case IntradayBars:
		fl.IntradayBars = on
	case GlobalMarket:
		fl.GlobalMarket = on
	}
}

// FlagsFromEnv reads WS_FEATURE_ACCOUNT_BALANCE, WS_FEATURE_POSITIONS,
// WS_FEATURE_INTRADAY and WS_FEATURE_GLOBAL_MARKET through getenv. Unset or
// empty is off; true/false, 1/0, yes/no, on/off are accepted in any case;
// anything else is an error naming the variable.
func FlagsFromEnv(getenv func(string) string) (Flags, error) {
	var fl Flags
	for _, f := range Features {
		v := getenv(f.EnvVar())
		if strings.TrimSpace(v) == "" {
			continue
		}
		on, err := ParseBool(v)
		if err != nil {
			return Flags{}, fmt.Errorf("%s=%q: %w", f.EnvVar(), v, err)
		}
		fl.Set(f, on)
	}
	return fl, nil
}

// ParseBool reads a flag value the way Django settings commonly do.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "t", "true", "y", "yes", "on":
		return true, nil
	case "0", "f", "false", "n", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean (want true or false)")
}
