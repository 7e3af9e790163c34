package diff

import (
	"testing"

	"github.com/thor-trading/cutover-harness/harness/capture"
	"github.com/thor-trading/cutover-harness/harness/scenario"
)

func scenarioIgnore(field string) scenario.Ignore {
	return scenario.Ignore{Field: field, Reason: "fuzz"}
}

// FuzzFrame feeds arbitrary bytes as WS frames (and REST bodies) through
// decoding, normalisation and the fold: whatever a stack sends, the diff
// records findings and never panics.
func FuzzFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"account_balance","seq":3,"data":{"account_id":"ACC-1","cash":1.5,"buying_power":6,"net_liq":1.5}}`,
		`{"type":"positions","seq":4,"data":[{"account_id":"A","symbol":"ES","qty":1},{"account_id":"A","symbol":"NQ","qty":-2e3}]}`,
		`{"type":"intraday_bar","seq":5,"data":{"symbol":"ES","start":"2026-03-02T14:31:00Z","close":1}}`,
		`{"type":"market_status","data":{"market":"Tokyo","status":"OPEN","x":{"y":[1,{"z":null}]}}}`,
		`{"type":"heartbeat","seq":9,"ts":"2026-03-02T14:30:00Z"}`,
		`{"type":"account_balance","seq":"x","data":7}`,
		`{"type":"account_balance","seq":1,"data":{"account_id":"\u0041\ud83d\ude00","cash":1e999}}`,
		`[1,2,3]`, `"str"`, `{`, `{"type":`, ``, "\x00\xff", `{"a":1}garbage`,
	} {
		f.Add([]byte(s))
	}
	sc := simScenario(2, false, benchFeatures...)
	sc.Features["positions"].Ignore = append(sc.Features["positions"].Ignore, scenarioIgnore("qty"), scenarioIgnore("*.#.z"))
	nested := simScenario(2, true, "account_balance", "global_market")
	nested.Features["global_market"].WS.Items = "data.x"
	nested.Features["account_balance"].Key = []string{"meta.id"}
	confs := map[string]*featureConf{}
	for _, name := range benchFeatures {
		c, err := newFeatureConf(name, sc.Features[name])
		if err != nil {
			f.Fatal(err)
		}
		confs[name] = c
	}
	dec := newDecoder([]*featureConf{confs["account_balance"], confs["positions"], confs["intraday_bars"], confs["global_market"]})
	ref := &value{raw: `{"account_id":"A","symbol":"ES","qty":1}`, lazy: confs["positions"].norm}
	f.Fuzz(func(t *testing.T, frame []byte) {
		// Items against each other and a fixed value: equality both ways
		// agrees, and every value decodes for a finding.
		m := dec.decode(string(frame))
		for i := range m.items {
			a := &m.items[i].v
			for j := range m.items {
				b := &m.items[j].v
				if a.equal(b, 1e-6) != b.equal(a, 1e-6) {
					t.Errorf("equal is not symmetric for %s and %s", a.raw, b.raw)
				}
			}
			_ = a.equal(ref, 0.5)
			_ = a.any()
		}
		{
			s := newSim(2, false)
			s.add(capture.Record{K: capture.KindWS, T: 1, Src: "ws:0", Body: frame})
			s.add(capture.Record{K: capture.KindWS, T: 2, Src: "ws:1", Body: frame})
			s.add(capture.Record{K: capture.KindWS, T: 3, Src: "ws:0", Body: append([]byte(nil), frame...)})
			for _, feat := range benchFeatures {
				s.add(capture.Record{K: capture.KindREST, T: 4, Src: "rest:" + feat + ":0", Feature: feat, Path: simPaths[feat], Status: 200, Body: frame})
				s.add(capture.Record{K: capture.KindREST, T: 5, Src: "rest:" + feat + ":1", Feature: feat, Path: simPaths[feat], Status: 200, Body: frame})
				s.add(capture.Record{K: capture.KindREST, T: 6, Src: "rest:" + feat + ":final", Feature: feat, Path: simPaths[feat], Status: 200, Body: frame})
			}
			if _, err := Diff(sc, s.next()); err != nil {
				t.Fatal(err)
			}
			if _, err := Diff(nested, s.next()); err != nil {
				t.Fatal(err)
			}
		}
	})
}
