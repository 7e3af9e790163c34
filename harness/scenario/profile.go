package scenario

// ProfileThor fills in the design's default contract for the features it
// knows (see ARCHITECTURE.md); anything written in the scenario wins.
const ProfileThor = "thor"

// ThorFeatures are the thor profile's features, in migration order.
var ThorFeatures = []string{"account_balance", "positions", "intraday_bars", "global_market"}

func thorDefaults(name string, f *Feature) {
	type def struct {
		kind, wsType, order string
		paths, key          []string
	}
	defs := map[string]def{
		"account_balance": {kind: KindState, wsType: "account_balance", paths: []string{"/api/account/balance"}, key: []string{"account_id"}},
		"positions":       {kind: KindState, wsType: "positions", paths: []string{"/api/positions"}, key: []string{"account_id", "symbol"}},
		"intraday_bars": {kind: KindEvents, wsType: "intraday_bar", order: "start", key: []string{"symbol", "start"},
			paths: []string{"/api/intraday/bars?symbol=ES", "/api/intraday/bars?symbol=NQ", "/api/intraday/bars?symbol=CL", "/api/intraday/bars?symbol=GC"}},
		"global_market": {kind: KindState, wsType: "market_status", paths: []string{"/api/global-markets/status"}, key: []string{"market"}},
	}
	d, ok := defs[name]
	if !ok {
		return
	}
	if f.Kind == "" {
		f.Kind = d.kind
	}
	if f.WS.Type == "" {
		f.WS.Type = d.wsType
	}
	if len(f.REST.Paths) == 0 {
		f.REST.Paths = d.paths
	}
	if len(f.Key) == 0 {
		f.Key = d.key
	}
	if f.Order == "" {
		f.Order = d.order
	}
}
