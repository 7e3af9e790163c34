package load

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// errTableFull stops an attack that would send more requests than planned
// (it cannot happen with vegeta's pacers; the bound is a safety net).
var errTableFull = errors.New("load: more requests than the schedule allows")

var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// sessionHeader is the first line of every ingest request: it starts a new
// session, so requests that overtake each other are still accepted and
// every market is unknown again.
func sessionHeader(ts string) []byte {
	return []byte(`{"format":"thor-session/v1","name":"harness-load","start":"` + ts + `","instruments":{},"accounts":[],"markets":[]}`)
}

// appendEvent appends one load event: market "L<seq>" opens.
func appendEvent(dst []byte, seq int64, ts string) []byte {
	dst = append(dst, `,{"seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	dst = append(dst, `,"t":"`...)
	dst = append(dst, ts...)
	dst = append(dst, `","type":"market_status","data":{"market":"L`...)
	dst = strconv.AppendInt(dst, seq, 10)
	return append(dst, `","status":"OPEN"}}`...)
}

// targeter hands vegeta the step's requests: request k carries events
// k·batch … k·batch+batch-1, whose send times it stores just before the
// request leaves. The request index rides in the URL's fragment (never
// sent) so the collector can tell which request a result is.
func (r *runner) targeter(st *stepRun) vegeta.Targeter {
	t := st.table
	return func(tgt *vegeta.Target) error {
		k := t.next.Add(1) - 1
		if k >= t.requests {
			return errTableFull
		}
		now := r.clock.now()
		ts := r.clock.at(now).UTC().Format(time.RFC3339Nano)
		head := sessionHeader(ts)
		body := make([]byte, 0, len(head)+2+int(t.batch)*(100+len(ts)))
		body = append(body, '[')
		body = append(body, head...)
		for j := k * t.batch; j < (k+1)*t.batch; j++ {
			body = appendEvent(body, t.seq(j), ts)
			t.sent[j].Store(now + 1)
		}
		body = append(body, ']')
		*tgt = vegeta.Target{Method: http.MethodPost, URL: r.ingestURL + "#" + strconv.FormatInt(k, 10), Body: body, Header: jsonHeader}
		return nil
	}
}

// requestIndex reads the request index back from a result's URL.
func requestIndex(url string) (int64, bool) {
	i := strings.LastIndexByte(url, '#')
	if i < 0 {
		return 0, false
	}
	k, err := strconv.ParseInt(url[i+1:], 10, 64)
	return k, err == nil && k >= 0
}

// ingestAcc is what the collector gathered of a step's attack.
type ingestAcc struct {
	metrics       vegeta.Metrics
	hist          *hdrhistogram.Histogram
	requests, ok  int64 // measured window
	failed        int64
	events        int64
	harnessErrors int64
	codes, errs   map[string]int64
	failedSample  []string
	sent, failSec []int64 // events per second of the step
}

// collect reads an attack's results until the attack ends: it marks each
// request's outcome in the table and accounts the measured ones.
func (r *runner) collect(st *stepRun, results <-chan *vegeta.Result) *ingestAcc {
	acc := &ingestAcc{hist: newHist(), codes: map[string]int64{}, errs: map[string]int64{}}
	t := st.table
	for res := range results {
		k, ok := requestIndex(res.URL)
		if !ok || k >= t.requests {
			acc.harnessErrors++
			continue
		}
		success := res.Error == "" && res.Code >= 200 && res.Code < 300
		if success {
			t.outcome[k] = outcomeOK
		} else {
			t.outcome[k] = outcomeFailed
		}
		at, _ := t.sentAt(k * t.batch)
		if sec := (at - st.start) / int64(time.Second); sec >= 0 && sec < 1<<20 {
			for int64(len(acc.sent)) <= sec {
				acc.sent = append(acc.sent, 0)
				acc.failSec = append(acc.failSec, 0)
			}
			acc.sent[sec] += t.batch
			if !success {
				acc.failSec[sec] += t.batch
			}
		}
		if at < st.warmupEnd {
			continue
		}
		if !success && len(acc.failedSample) < 5 && len(res.Body) > 0 {
			acc.failedSample = append(acc.failedSample, strings.TrimSpace(string(res.Body)))
		}
		res.Body = nil
		acc.metrics.Add(res)
		recordDur(acc.hist, res.Latency)
		acc.requests++
		acc.events += t.batch
		acc.codes[strconv.Itoa(int(res.Code))]++
		if success {
			acc.ok++
			continue
		}
		acc.failed++
		e := res.Error
		if e == "" {
			e = "status " + strconv.Itoa(int(res.Code))
		}
		if len(acc.errs) < 20 || acc.errs[e] > 0 {
			acc.errs[e]++
		}
	}
	acc.metrics.Close()
	return acc
}
