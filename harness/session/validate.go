package session

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// Problem is one thing wrong with a session, at one line. Validate reports
// problems as data: a session with problems is a finding, not a failure of
// the code that read it.
type Problem struct {
	File  string `json:"file"`
	Line  int    `json:"line"`            // 1-based; line 1 is the header
	Field string `json:"field,omitempty"` // dotted JSON path, empty for the whole line
	Msg   string `json:"msg"`
}

// String is FILE:LINE: field "x": msg, as LineError prints.
func (p Problem) String() string {
	return (&LineError{File: p.File, Line: p.Line, Field: p.Field, Err: errors.New(p.Msg)}).Error()
}

// Validate reads a whole session (plain or gzip) and reports every problem,
// in line order, with its line: bad JSON, a missing or wrong header, seq
// not starting at 1 or not rising by one, time going back, unknown event
// types, missing or mistyped fields, unknown market statuses, symbols,
// accounts or markets the header does not list, negative prices, prices
// off the instrument's tick grid, tick sizes below 1. name is the file name
// used in the problems. An empty result means the session is valid.
func Validate(r io.Reader, name string) []Problem {
	_, ps := ValidateStats(r, name)
	return ps
}

// ValidateStats is Validate that also returns the statistics of the events
// that decoded, in the same single pass.
func ValidateStats(r io.Reader, name string) (*Stats, []Problem) {
	v := validator{name: name}
	v.run(r)
	if v.stats == nil {
		v.stats = NewStats(name, Header{})
	}
	return v.stats, v.out
}

type validator struct {
	name  string
	out   []Problem
	ps    problems
	stats *Stats

	header     Header
	haveHeader bool
	symbols    []string // sorted, for messages
	accounts   map[string]bool
	markets    map[string]bool

	events   int64
	prevSeq  int64
	prevT    time.Time
	prevLine int // line of the previous event with a valid t
}

func (v *validator) flush(line int) {
	for _, p := range v.ps {
		v.out = append(v.out, Problem{File: v.name, Line: line, Field: p.field, Msg: p.err.Error()})
	}
	v.ps = v.ps[:0]
}

func (v *validator) readProblem(err error) {
	var le *LineError
	if errors.As(err, &le) {
		v.out = append(v.out, Problem{File: le.File, Line: le.Line, Field: le.Field, Msg: le.Err.Error()})
		return
	}
	v.out = append(v.out, Problem{File: v.name, Line: 1, Msg: err.Error()})
}

func (v *validator) run(src io.Reader) {
	lr, err := newLineReader(src, v.name)
	if err != nil {
		v.readProblem(err)
		return
	}
	defer lr.Close()
	line, err := lr.readLine()
	if err == io.EOF {
		v.out = append(v.out, Problem{File: v.name, Line: 1, Msg: "missing header: the file is empty"})
		return
	}
	if err != nil {
		v.readProblem(err)
		return
	}
	switch decodeHeader(line, &v.header, &v.ps) {
	case headerOK:
		checkHeader(&v.header, &v.ps)
		v.flush(lr.line)
		v.useHeader()
	case headerIsEvent:
		v.flush(lr.line)
		v.stats = NewStats(v.name, Header{})
		v.event(line, lr.line)
	default:
		v.flush(lr.line)
	}
	if v.stats == nil {
		v.stats = NewStats(v.name, v.header)
	}
	for {
		line, err := lr.readLine()
		if err == io.EOF {
			return
		}
		if err != nil {
			v.readProblem(err)
			return
		}
		v.event(line, lr.line)
	}
}

func (v *validator) useHeader() {
	v.haveHeader = true
	for s := range v.header.Instruments {
		v.symbols = append(v.symbols, s)
	}
	sort.Strings(v.symbols)
	if len(v.header.Accounts) > 0 {
		v.accounts = map[string]bool{}
		for _, a := range v.header.Accounts {
			v.accounts[a] = true
		}
	}
	if len(v.header.Markets) > 0 {
		v.markets = map[string]bool{}
		for _, m := range v.header.Markets {
			v.markets[m] = true
		}
	}
}

func (v *validator) event(line []byte, n int) {
	var e Event
	got := decodeEvent(line, &e, &v.ps, nil)
	v.events++

	// seq: starts at 1, rises by one. A line whose seq is unreadable is
	// taken to have the next one, so one bad line is one problem.
	want := v.prevSeq + 1
	if got&okSeq != 0 {
		switch {
		case v.events == 1 && e.Seq != 1:
			v.ps.addf("seq", "the first event has seq %d, want 1", e.Seq)
		case e.Seq > want:
			v.ps.addf("seq", "gap: got %d, want %d (%s missing)", e.Seq, want, seqRange(want, e.Seq-1))
		case e.Seq < want:
			v.ps.addf("seq", "got %d after %d: seq repeats or goes back", e.Seq, v.prevSeq)
		}
		v.prevSeq = e.Seq
	} else {
		v.prevSeq = want
	}

	// t never goes back. Compared with the previous line's time, so one
	// line with a wrong time is one problem (at it or the line after).
	if got&okT != 0 {
		if v.prevLine > 0 && e.T.Before(v.prevT) {
			v.ps.addf("t", "time goes back: %s is before %s (line %d)",
				e.T.Format(timeMillis), v.prevT.Format(timeMillis), v.prevLine)
		}
		v.prevT, v.prevLine = e.T, n
	}

	if got&okType != 0 {
		v.checkData(&e, got&okData != 0)
	}
	if got == okSeq|okT|okType|okData {
		v.stats.Add(e)
	}
	v.flush(n)
}

func seqRange(from, to int64) string {
	if from == to {
		return fmt.Sprintf("seq %d", from)
	}
	return fmt.Sprintf("seq %d..%d", from, to)
}

// checkData checks the values of the event's data. Missing fields were
// reported by the decoder and are skipped here; complete says none was.
func (v *validator) checkData(e *Event, complete bool) {
	switch {
	case e.Tick != nil:
		d := e.Tick
		if d.Symbol != "" {
			v.checkSymbol(d.Symbol)
		}
		if d.Price < 0 {
			v.ps.addf("data.price", "negative price %v", d.Price)
		} else if in, ok := v.header.Instruments[d.Symbol]; ok && !onGrid(d.Price, in.TickSize) {
			v.ps.addf("data.price", "%v is not on the tick grid of %s (tick size %v)", d.Price, d.Symbol, in.TickSize)
		}
		if complete && d.Size < 1 {
			v.ps.addf("data.size", "must be at least 1, got %d", d.Size)
		}
	case e.Account != nil:
		v.checkAccount(e.Account.AccountID)
	case e.Position != nil:
		d := e.Position
		v.checkAccount(d.AccountID)
		if d.Symbol != "" {
			v.checkSymbol(d.Symbol)
		}
		if d.AvgPrice < 0 {
			v.ps.addf("data.avg_price", "negative price %v", d.AvgPrice)
		}
	case e.MarketStatus != nil:
		m := e.MarketStatus.Market
		if v.markets != nil && m != "" && !v.markets[m] {
			v.ps.addf("data.market", "market %q is not in the header's markets", m)
		}
	}
}

func (v *validator) checkSymbol(sym string) {
	if len(v.symbols) == 0 {
		return // no header or no instruments: reported once, on line 1
	}
	if _, ok := v.header.Instruments[sym]; !ok {
		v.ps.addf("data.symbol", "symbol %q is not in the header's instruments (%s)", sym, strings.Join(v.symbols, ", "))
	}
}

func (v *validator) checkAccount(id string) {
	if v.accounts != nil && id != "" && !v.accounts[id] {
		v.ps.addf("data.account_id", "account %q is not in the header's accounts", id)
	}
}

// onGrid reports whether price is a whole number of ticks, allowing for
// the rounding of decimal prices in binary floating point.
func onGrid(price, tick float64) bool {
	if tick <= 0 {
		return true // the header's problem, reported there
	}
	n := price / tick
	return math.Abs(n-math.Round(n)) <= 1e-9*math.Max(1, math.Abs(n))
}
