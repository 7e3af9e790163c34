package refstack

import (
	"errors"
	"testing"
	"time"
)

// FuzzDecodeBatch: any body either decodes or is refused with a BatchError,
// and whatever CheckBatch accepts applies without panicking.
func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte(`[{"format":"thor-session/v1","instruments":{"ES":{"multiplier":50}}},` +
		`{"seq":1,"t":"2026-03-02T14:30:00Z","type":"tick","data":{"symbol":"ES","price":1,"size":1}},` +
		`{"seq":2,"t":"2026-03-02T14:31:00Z","type":"position","data":{"account_id":"A","symbol":"ES","qty":2,"avg_price":1}},` +
		`{"seq":3,"t":"2026-03-02T14:31:00Z","type":"account","data":{"account_id":"A","cash":1,"buying_power":1}},` +
		`{"seq":4,"t":"2026-03-02T14:32:00Z","type":"market_status","data":{"market":"Tokyo","status":"OPEN"}}]`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"seq":1}]`))
	f.Add([]byte(`{"format":"thor-session/v1"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		lines, err := DecodeBatch(body)
		if err != nil {
			var be *BatchError
			if !errors.As(err, &be) {
				t.Fatalf("error %v is not a BatchError", err)
			}
			return
		}
		if CheckBatch(lines, 0, time.Time{}) != nil {
			return
		}
		m := NewModel()
		for _, l := range lines {
			if l.Header != nil {
				m.Reset(*l.Header)
				continue
			}
			for _, msg := range m.Apply(*l.Event) {
				if _, err := msg.MarshalJSON(); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
