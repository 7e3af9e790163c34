// driver posts ingest batches to the reference stack at a fixed rate: each
// request resets the session and opens `batch` markets, so every request
// broadcasts `batch` messages to every subscriber.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	url := flag.String("url", "", "ingest URL")
	rate := flag.Int("rate", 50, "requests/s")
	batch := flag.Int("batch", 5, "events per request")
	dur := flag.Duration("d", 20*time.Second, "duration")
	flag.Parse()
	ts := "2026-03-02T14:30:00Z"
	var b bytes.Buffer
	b.WriteString(`[{"format":"thor-session/v1","name":"cmp","start":"` + ts + `","instruments":{},"accounts":[],"markets":[]}`)
	for i := 1; i <= *batch; i++ {
		fmt.Fprintf(&b, `,{"seq":%d,"t":"%s","type":"market_status","data":{"market":"L%d","status":"OPEN"}}`, i, ts, i)
	}
	b.WriteString("]")
	body := b.Bytes()
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	defer tick.Stop()
	end := time.Now().Add(*dur)
	n, bad := 0, 0
	for time.Now().Before(end) {
		<-tick.C
		resp, err := http.Post(*url, "application/json", bytes.NewReader(body))
		if err != nil || resp.StatusCode != 200 {
			bad++
			if resp != nil {
				resp.Body.Close()
			}
			continue
		}
		resp.Body.Close()
		n++
	}
	fmt.Fprintf(os.Stderr, "driver: %d requests ok, %d failed\n", n, bad)
}
