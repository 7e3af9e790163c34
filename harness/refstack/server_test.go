package refstack

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/thor-trading/cutover-harness/harness/session"
)

// itemKey is the contract's key of a WS or REST item of a message type.
func itemKey(t testing.TB, typ string, raw json.RawMessage) (string, map[string]any) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s item %s: %v", typ, raw, err)
	}
	s := func(k string) string { v, _ := m[k].(string); return v }
	switch typ {
	case "account_balance":
		return s("account_id"), m
	case "positions":
		return s("account_id") + "\x00" + s("symbol"), m
	case "intraday_bar":
		return s("symbol") + "\x00" + s("start"), m
	case "market_status":
		return s("market"), m
	}
	t.Fatalf("unknown type %q", typ)
	return "", nil
}

// sortedItems decodes items and sorts them by key.
func sortedItems(t testing.TB, typ string, items []json.RawMessage) []map[string]any {
	type kv struct {
		k string
		v map[string]any
	}
	var kvs []kv
	for _, raw := range items {
		k, v := itemKey(t, typ, raw)
		kvs = append(kvs, kv{k, v})
	}
	sort.SliceStable(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
	out := make([]map[string]any, len(kvs))
	for i, e := range kvs {
		out[i] = e.v
	}
	return out
}

// TestRESTEqualsWSAtEverySeq: with no faults, folding the WS items by key
// up to seq S gives exactly what REST lists at seq S, for all four features,
// and two subscribers get the same stream.
func TestRESTEqualsWSAtEverySeq(t *testing.T) {
	s := startStack(t, Config{})
	counts := assertRESTEqualsWS(t, s, batches(header(), genSession(400), 37))
	if counts["intraday_bar"] < 5 || counts["positions"] < 3 || counts["account_balance"] != 2 || counts["market_status"] != 3 {
		t.Fatalf("session too thin to prove anything: %v", counts)
	}
	if st := s.Stats(); st.EventsApplied != 400 || st.Connections != 2 || st.Deliveries == 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestFixtureRESTEqualsWS replays the short recorded session through HTTP
// ingest and holds the same equality at every batch.
func TestFixtureRESTEqualsWS(t *testing.T) {
	const path = "../../fixtures/sessions/rth-short.jsonl"
	r, err := session.Open(path)
	if err != nil {
		t.Skipf("no fixture: %v", err)
	}
	defer r.Close()
	var evs []session.Event
	for {
		ev, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	s := startStack(t, Config{})
	counts := assertRESTEqualsWS(t, s, batches(r.Header(), evs, 1000))
	t.Logf("%d events: %v keys", len(evs), counts)
	if counts["intraday_bar"] == 0 || counts["positions"] == 0 || counts["account_balance"] == 0 || counts["market_status"] == 0 {
		t.Fatalf("a feature never showed: %v", counts)
	}
}

// assertRESTEqualsWS posts each batch and checks, after each, that two
// subscribers got the same frames, all of seq <= S, that folding them by key
// equals every REST listing at seq S, that bars come once each and in start
// order per symbol, and that ?symbol= lists that symbol's bars. It returns
// the number of keys seen per message type.
func assertRESTEqualsWS(t *testing.T, s *Server, bs [][]any) map[string]int {
	t.Helper()
	a, b := dialWS(t, s.WSURL()), dialWS(t, s.WSURL())
	restPath := map[string]string{
		"account_balance": AccountBalance.RESTPath(),
		"positions":       Positions.RESTPath(),
		"intraday_bar":    IntradayBars.RESTPath(),
		"market_status":   GlobalMarket.RESTPath(),
	}
	folds := map[string]map[string]json.RawMessage{}
	for typ := range restPath {
		folds[typ] = map[string]json.RawMessage{}
	}
	var barOrder []string
	for i, batch := range bs {
		mustPost(t, s, batch...)
		S := lastSeq(batch)
		fa, fb := a.until(S), b.until(S)
		if diff := cmp.Diff(raws(fa), raws(fb)); diff != "" {
			t.Fatalf("batch %d: subscribers differ (-a +b):\n%s", i, diff)
		}
		for _, f := range fa {
			if f.Seq == nil || *f.Seq > S {
				t.Fatalf("frame %s: seq beyond %d", f.raw, S)
			}
			k, _ := itemKey(t, f.Type, f.Data)
			if f.Type == "intraday_bar" {
				if _, dup := folds[f.Type][k]; dup {
					t.Fatalf("bar %s sent twice", f.raw)
				}
				barOrder = append(barOrder, k)
			}
			folds[f.Type][k] = f.Data
		}
		for typ, path := range restPath {
			rb := getREST(t, s, path)
			if rb.Seq == nil || *rb.Seq != S {
				t.Fatalf("batch %d: GET %s seq %v, want %d", i, path, rb.Seq, S)
			}
			var ws []json.RawMessage
			for _, v := range folds[typ] {
				ws = append(ws, v)
			}
			if diff := cmp.Diff(sortedItems(t, typ, rb.Data), sortedItems(t, typ, ws)); diff != "" {
				t.Fatalf("batch %d (seq %d): %s (-rest +ws):\n%s", i, S, typ, diff)
			}
		}
	}
	symbols := map[string]bool{}
	for _, k := range barOrder {
		sym, _, _ := strings.Cut(k, "\x00")
		symbols[sym] = true
	}
	for sym := range symbols {
		if !sort.StringsAreSorted(barsOf(barOrder, sym)) {
			t.Errorf("%s bars out of start order: %q", sym, barsOf(barOrder, sym))
		}
		rb := getREST(t, s, IntradayBars.RESTPath()+"?symbol="+sym)
		for _, item := range rb.Data {
			if !strings.Contains(string(item), `"symbol":"`+sym+`"`) {
				t.Errorf("?symbol=%s listed %s", sym, item)
			}
		}
		if len(rb.Data) != len(barsOf(barOrder, sym)) {
			t.Errorf("?symbol=%s: %d bars, WS sent %d", sym, len(rb.Data), len(barsOf(barOrder, sym)))
		}
	}
	counts := map[string]int{}
	for typ, f := range folds {
		counts[typ] = len(f)
	}
	return counts
}

func barsOf(keys []string, sym string) []string {
	var out []string
	for _, k := range keys {
		if strings.HasPrefix(k, sym+"\x00") {
			out = append(out, k)
		}
	}
	return out
}

func TestEndpoints(t *testing.T) {
	s := startStack(t, Config{
		RESTRemoved: []Feature{Positions, GlobalMarket},
		Flags:       Flags{AccountBalance: true, IntradayBars: true},
	})
	noReplay, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := noReplay.Start(); err != nil {
		t.Fatal(err)
	}
	defer noReplay.Close()

	tests := []struct {
		name     string
		method   string
		url      string
		wantCode int
		wantBody string // "" = not checked
	}{
		{"balance answers", "GET", s.URL() + "/api/account/balance", 200, `{"seq":0,"data":[]}`},
		{"bars answer", "GET", s.URL() + "/api/intraday/bars?symbol=ES", 200, `{"seq":0,"data":[]}`},
		{"removed positions is gone", "GET", s.URL() + "/api/positions", 410, ""},
		{"removed market is gone", "GET", s.URL() + "/api/global-markets/status", 410, ""},
		{"features report the flags", "GET", s.URL() + "/api/features", 200, `{"account_balance":true,"positions":false,"intraday_bars":true,"global_market":false}`},
		{"healthz", "GET", s.URL() + "/healthz", 200, "ok"},
		{"ingest without replay is 404", "POST", noReplay.URL() + "/__replay/events", 404, ""},
		{"ingest wants POST", "GET", s.URL() + "/__replay/events", 405, ""},
		{"REST wants GET", "POST", s.URL() + "/api/account/balance", 405, ""},
		{"unknown path", "GET", s.URL() + "/api/nope", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, tt.url, strings.NewReader("[]"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("%s %s: %d %s, want %d", tt.method, tt.url, resp.StatusCode, b, tt.wantCode)
			}
			if tt.wantBody != "" && string(b) != tt.wantBody {
				t.Errorf("body %s, want %s", b, tt.wantBody)
			}
		})
	}

	s.SetFlags(Flags{GlobalMarket: true})
	if _, body := get(t, s.URL()+"/api/features"); body != `{"account_balance":false,"positions":false,"intraday_bars":false,"global_market":true}` {
		t.Errorf("after SetFlags: %s", body)
	}
}

func TestIngest(t *testing.T) {
	h := header()
	tests := []struct {
		name     string
		body     string
		wantCode int
		want     string // substring of the answer
	}{
		{"header and events", `[` + js(t, h) + `,` + js(t, tick(1, "14:30:00", "ES", 1, 1)) + `,` + js(t, tick(2, "14:30:01", "ES", 2, 1)) + `]`, 200, `{"applied":3,"seq":2}`},
		{"empty batch", `[]`, 200, `{"applied":0,"seq":0}`},
		{"not an array", `{"seq":1}`, 400, `body: want a JSON array`},
		{"element not an object", `[1]`, 400, `element 0: want a JSON object`},
		{"bad type", `[{"seq":1,"t":"2026-03-02T14:30:00Z","type":"trade","data":{}}]`, 400, `element 0: field \"type\"`},
		{"missing data", `[{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick"}]`, 400, `element 0: field \"data`},
		{"price not a number", `[{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"ES","price":"x","size":1}}]`, 400, `element 0: field \"data.price\"`},
		{"missing symbol", `[{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","data":{"price":1,"size":1}}]`, 400, `element 0: field \"data.symbol\"`},
		{"bad status", `[{"seq":1,"t":"2026-03-02T14:30:00Z","type":"market_status","data":{"market":"Tokyo","status":"LUNCH"}}]`, 400, `element 0: field \"data.status\"`},
		{"seq goes back", `[` + js(t, tick(2, "14:30:00", "ES", 1, 1)) + `,` + js(t, tick(2, "14:30:01", "ES", 1, 1)) + `]`, 400, `element 1: field \"seq\"`},
		{"t goes back", `[` + js(t, tick(1, "14:30:02", "ES", 1, 1)) + `,` + js(t, tick(2, "14:30:01", "ES", 1, 1)) + `]`, 400, `element 1: field \"t\"`},
		{"bad time", `[{"seq":1,"t":"yesterday","type":"tick","data":{"symbol":"ES","price":1,"size":1}}]`, 400, `element 0: field \"t\"`},
		{"bad header format", `[{"format":"thor-session/v0","instruments":{}}]`, 400, `element 0: field \"format\"`},
		{"bad multiplier", `[{"format":"thor-session/v1","instruments":{"ES":{"multiplier":0}}}]`, 400, `element 0: field \"instruments.ES.multiplier\"`},
		{"negative size", `[{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"ES","price":1,"size":-1}}]`, 400, `element 0: field \"data.size\"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStack(t, Config{Heartbeat: -1})
			code, body := post(t, s, []byte(tt.body))
			if code != tt.wantCode || !strings.Contains(body, tt.want) {
				t.Fatalf("answer %d %s, want %d containing %s", code, body, tt.wantCode, tt.want)
			}
			if code != 200 && s.Seq() != 0 {
				t.Errorf("a refused batch applied events: seq %d", s.Seq())
			}
		})
	}
}

func js(t testing.TB, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHeaderResets: a header line starts a new session, also mid-batch, and
// seq starts over.
func TestHeaderResets(t *testing.T) {
	s := startStack(t, Config{})
	ws := dialWS(t, s.WSURL())
	mustPost(t, s, header(), acct(1, "14:30:00", "ACC-1", 1, 1), mkt(2, "14:30:00", "Tokyo", "OPEN"))
	ws.until(2)
	h := header()
	h.Instruments = map[string]session.Instrument{"ES": {Multiplier: 5}}
	mustPost(t, s, acct(3, "14:30:01", "ACC-1", 2, 2), h, pos(1, "09:00:00", "ACC-9", "ES", 1, 10), tick(2, "09:00:01", "ES", 11, 1))
	// seq starts over, so a heartbeat of the old session may say 2 as well:
	// count frames instead.
	got := raws(ws.next(3))
	want := []string{
		`{"type":"account_balance","seq":3,"data":{"account_id":"ACC-1","cash":2,"buying_power":2,"net_liq":2}}`,
		`{"type":"positions","seq":1,"data":{"account_id":"ACC-9","symbol":"ES","qty":1,"avg_price":10,"last":10,"market_value":50,"unrealized_pnl":0}}`,
		`{"type":"positions","seq":2,"data":{"account_id":"ACC-9","symbol":"ES","qty":1,"avg_price":10,"last":11,"market_value":55,"unrealized_pnl":5}}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("WS (-want +got):\n%s", diff)
	}
	for path, want := range map[string]string{
		"/api/account/balance":       `{"seq":2,"data":[]}`,
		"/api/global-markets/status": `{"seq":2,"data":[]}`,
		"/api/positions":             `{"seq":2,"data":[{"account_id":"ACC-9","symbol":"ES","qty":1,"avg_price":10,"last":11,"market_value":55,"unrealized_pnl":5}]}`,
	} {
		if _, body := get(t, s.URL()+path); body != want {
			t.Errorf("GET %s = %s, want %s", path, body, want)
		}
	}
}

// TestNoSeq: with NoSeq, no body or message carries seq; otherwise the same.
func TestNoSeq(t *testing.T) {
	s := startStack(t, Config{NoSeq: true, Heartbeat: 20 * time.Millisecond})
	ws := dialWS(t, s.WSURL())
	if code, body := post(t, s, batchJSON(t, header(), acct(1, "14:30:00", "ACC-1", 1, 1))); code != 200 || body != `{"applied":2}` {
		t.Fatalf("ingest: %d %s", code, body)
	}
	var item, beat string
	for timeout := time.After(5 * time.Second); item == "" || beat == ""; {
		select {
		case f := <-ws.frames:
			if f.Type == "heartbeat" {
				beat = f.raw
			} else {
				item = f.raw
			}
		case <-timeout:
			t.Fatalf("no item and heartbeat: %q %q", item, beat)
		}
	}
	if item != `{"type":"account_balance","data":{"account_id":"ACC-1","cash":1,"buying_power":1,"net_liq":1}}` {
		t.Errorf("item %s", item)
	}
	if strings.Contains(beat, `"seq"`) || !strings.HasPrefix(beat, `{"type":"heartbeat","ts":"`) {
		t.Errorf("heartbeat %s", beat)
	}
	if _, body := get(t, s.URL()+"/api/account/balance"); body != `{"data":[{"account_id":"ACC-1","cash":1,"buying_power":1,"net_liq":1}]}` {
		t.Errorf("REST %s", body)
	}
}

func TestHeartbeat(t *testing.T) {
	s := startStack(t, Config{Heartbeat: 10 * time.Millisecond})
	mustPost(t, s, header(), mkt(1, "14:30:00", "Tokyo", "OPEN"), mkt(2, "14:30:00", "London", "OPEN"))
	ws := dialWS(t, s.WSURL())
	for {
		select {
		case f := <-ws.frames:
			if f.Type != "heartbeat" {
				continue
			}
			ts, err := time.Parse(time.RFC3339Nano, f.TS)
			if f.Seq == nil || *f.Seq != 2 || err != nil || time.Since(ts) > time.Minute || !strings.HasSuffix(f.TS, "Z") {
				t.Fatalf("heartbeat %s", f.raw)
			}
			return
		case <-time.After(2 * time.Second):
			t.Fatal("no heartbeat")
		}
	}
}

func TestFlagsFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Flags
		wantErr string
	}{
		{"unset is off", nil, Flags{}, ""},
		{"each variable", map[string]string{
			"WS_FEATURE_ACCOUNT_BALANCE": "true", "WS_FEATURE_POSITIONS": "1",
			"WS_FEATURE_INTRADAY": "True", "WS_FEATURE_GLOBAL_MARKET": "off",
		}, Flags{AccountBalance: true, Positions: true, IntradayBars: true}, ""},
		{"empty is off", map[string]string{"WS_FEATURE_POSITIONS": " "}, Flags{}, ""},
		{"not a boolean", map[string]string{"WS_FEATURE_INTRADAY": "maybe"}, Flags{}, "WS_FEATURE_INTRADAY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FlagsFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	bad := 9
	tests := []struct {
		name string
		cfg  Config
	}{
		{"unknown removed feature", Config{RESTRemoved: []Feature{"orders"}}},
		{"negative queue", Config{QueueSize: -1}},
		{"fault on unknown feature", Config{Faults: Faults{"orders": {Drop: 0.1}}}},
		{"round out of range", Config{Faults: Faults{AccountBalance: {Round: &bad}}}},
		{"omit unknown field", Config{Faults: Faults{GlobalMarket: {OmitField: "net_liq"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := New(tt.cfg); err == nil {
				s.Close()
				t.Fatal("New accepted it")
			}
		})
	}
}
