package session

import (
	"fmt"
	"sync"
	"time"

	_ "time/tzdata" // the IANA zones, when the system has none
)

// The global markets the generator reports on, with their real local
// schedules: pre-open, continuous trading (with the lunch break of the
// Asian exchanges, reported as CLOSED), post-close sessions, weekends and
// a partial list of 2026 holidays. Times are local; time.LoadLocation
// applies each zone's daylight saving rules.
//
// The schedules are simplified where the real one has more phases than
// the five statuses (closing auctions are folded into POSTMARKET), and
// the holiday lists are partial: the major 2026 closures only.

const (
	statusOpen       = "OPEN"
	statusClosed     = "CLOSED"
	statusPremarket  = "PREMARKET"
	statusPostmarket = "POSTMARKET"
	statusHoliday    = "HOLIDAY"
)

// transition is a status change at a local time of day.
type transition struct {
	minute int // minutes after local midnight
	status string
}

// change is a status change at an instant.
type change struct {
	at     time.Time
	status string
}

type market struct {
	name     string
	zone     string
	loc      *time.Location
	week     [7][]transition // by time.Weekday
	holidays map[string]bool // local dates, "2006-01-02"
}

func tr(hhmm, status string) transition {
	var h, m int
	if _, err := fmt.Sscanf(hhmm, "%d:%d", &h, &m); err != nil {
		panic("session: bad schedule time " + hhmm)
	}
	return transition{h*60 + m, status}
}

// weekdays is a Monday-to-Friday exchange: pre-open from pre, continuous
// trading open..close (with an optional lunch break lunchFrom..lunchTo,
// "" for none), a post-close session until post ("" for none).
func weekdays(pre, open, lunchFrom, lunchTo, close, post string) [7][]transition {
	var day []transition
	if pre != "" {
		day = append(day, tr(pre, statusPremarket))
	}
	day = append(day, tr(open, statusOpen))
	if lunchFrom != "" {
		day = append(day, tr(lunchFrom, statusClosed), tr(lunchTo, statusOpen))
	}
	if post != "" {
		day = append(day, tr(close, statusPostmarket), tr(post, statusClosed))
	} else {
		day = append(day, tr(close, statusClosed))
	}
	var w [7][]transition
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = day
	}
	return w
}

// cmeGlobex is Chicago's CME Globex week: Sunday 17:00 to Friday 16:00
// Central time, with a daily halt 16:00–17:00 (pre-open from 16:45).
func cmeGlobex() [7][]transition {
	var w [7][]transition
	w[time.Sunday] = []transition{tr("16:00", statusPremarket), tr("17:00", statusOpen)}
	for d := time.Monday; d <= time.Thursday; d++ {
		w[d] = []transition{tr("16:00", statusClosed), tr("16:45", statusPremarket), tr("17:00", statusOpen)}
	}
	w[time.Friday] = []transition{tr("16:00", statusClosed)}
	return w
}

func dates(ds ...string) map[string]bool {
	m := make(map[string]bool, len(ds))
	for _, d := range ds {
		m[d] = true
	}
	return m
}

// marketTable lists the markets east to west, in the order of the header.
func marketTable() []*market {
	return []*market{
		{name: "Sydney", zone: "Australia/Sydney", week: weekdays("07:00", "10:00", "", "", "16:00", "16:12"),
			holidays: dates("2026-01-01", "2026-01-26", "2026-04-03", "2026-04-06", "2026-12-25", "2026-12-28")},
		{name: "Tokyo", zone: "Asia/Tokyo", week: weekdays("08:00", "09:00", "11:30", "12:30", "15:30", ""),
			holidays: dates("2026-01-01", "2026-01-02", "2026-12-31")},
		{name: "Seoul", zone: "Asia/Seoul", week: weekdays("08:30", "09:00", "", "", "15:30", "18:00"),
			// 2026-03-02: substitute holiday for Independence Movement Day (a Sunday).
			holidays: dates("2026-01-01", "2026-02-16", "2026-02-17", "2026-02-18", "2026-03-02", "2026-12-25", "2026-12-31")},
		{name: "Shanghai", zone: "Asia/Shanghai", week: weekdays("09:15", "09:30", "11:30", "13:00", "15:00", "15:30"),
			holidays: dates("2026-01-01")},
		{name: "Hong Kong", zone: "Asia/Hong_Kong", week: weekdays("09:00", "09:30", "12:00", "13:00", "16:00", "16:10"),
			holidays: dates("2026-01-01", "2026-02-17", "2026-02-18", "2026-02-19", "2026-04-03", "2026-04-06", "2026-12-25")},
		{name: "Taipei", zone: "Asia/Taipei", week: weekdays("08:30", "09:00", "", "", "13:30", "14:30"),
			holidays: dates("2026-01-01")},
		{name: "Singapore", zone: "Asia/Singapore", week: weekdays("08:30", "09:00", "", "", "17:00", "17:06"),
			holidays: dates("2026-01-01", "2026-02-17", "2026-02-18", "2026-04-03", "2026-05-01", "2026-12-25")},
		{name: "Mumbai", zone: "Asia/Kolkata", week: weekdays("09:00", "09:15", "", "", "15:30", "16:00"),
			holidays: dates("2026-01-26", "2026-10-02", "2026-12-25")},
		{name: "Dubai", zone: "Asia/Dubai", week: weekdays("09:30", "10:00", "", "", "14:45", "15:00"),
			holidays: dates("2026-01-01", "2026-12-02", "2026-12-03")},
		{name: "Moscow", zone: "Europe/Moscow", week: weekdays("09:50", "10:00", "", "", "18:40", "23:50"),
			holidays: dates("2026-01-01", "2026-01-02")},
		{name: "Johannesburg", zone: "Africa/Johannesburg", week: weekdays("08:30", "09:00", "", "", "16:50", "17:15"),
			holidays: dates("2026-01-01", "2026-04-03", "2026-04-06", "2026-04-27", "2026-05-01", "2026-06-16", "2026-08-10", "2026-09-24", "2026-12-16", "2026-12-25")},
		{name: "Stockholm", zone: "Europe/Stockholm", week: weekdays("08:45", "09:00", "", "", "17:25", "17:30"),
			holidays: dates("2026-01-01", "2026-01-06", "2026-04-03", "2026-04-06", "2026-05-01", "2026-12-24", "2026-12-25", "2026-12-31")},
		{name: "Frankfurt", zone: "Europe/Berlin", week: weekdays("08:00", "09:00", "", "", "17:30", "22:00"),
			holidays: dates("2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-12-24", "2026-12-25", "2026-12-31")},
		{name: "Zurich", zone: "Europe/Zurich", week: weekdays("06:00", "09:00", "", "", "17:20", "17:30"),
			holidays: dates("2026-01-01", "2026-04-03", "2026-04-06", "2026-12-24", "2026-12-25", "2026-12-31")},
		{name: "Milan", zone: "Europe/Rome", week: weekdays("08:00", "09:00", "", "", "17:30", "17:42"),
			holidays: dates("2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-12-24", "2026-12-25", "2026-12-31")},
		{name: "Paris", zone: "Europe/Paris", week: weekdays("07:15", "09:00", "", "", "17:30", "17:40"),
			holidays: dates("2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-12-25")},
		{name: "Amsterdam", zone: "Europe/Amsterdam", week: weekdays("07:15", "09:00", "", "", "17:30", "17:40"),
			holidays: dates("2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-12-25")},
		{name: "Madrid", zone: "Europe/Madrid", week: weekdays("08:30", "09:00", "", "", "17:30", "17:35"),
			holidays: dates("2026-01-01", "2026-04-03", "2026-04-06", "2026-05-01", "2026-12-25")},
		{name: "London", zone: "Europe/London", week: weekdays("07:50", "08:00", "", "", "16:30", "16:40"),
			holidays: dates("2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28")},
		{name: "Sao Paulo", zone: "America/Sao_Paulo", week: weekdays("09:45", "10:00", "", "", "17:00", "18:00"),
			holidays: dates("2026-01-01", "2026-02-16", "2026-02-17", "2026-04-03", "2026-04-21", "2026-05-01", "2026-06-04", "2026-12-24", "2026-12-25", "2026-12-31")},
		{name: "Toronto", zone: "America/Toronto", week: weekdays("07:00", "09:30", "", "", "16:00", "17:00"),
			holidays: dates("2026-01-01", "2026-02-16", "2026-04-03", "2026-05-18", "2026-07-01", "2026-08-03", "2026-09-07", "2026-10-12", "2026-12-25", "2026-12-28")},
		{name: "NewYork", zone: "America/New_York", week: weekdays("04:00", "09:30", "", "", "16:00", "20:00"),
			holidays: dates("2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25")},
		{name: "Chicago", zone: "America/Chicago", week: cmeGlobex()},
		{name: "Mexico City", zone: "America/Mexico_City", week: weekdays("08:00", "08:30", "", "", "15:00", "15:10"),
			holidays: dates("2026-01-01", "2026-02-02", "2026-03-16", "2026-04-02", "2026-04-03", "2026-05-01", "2026-09-16", "2026-11-16", "2026-12-12", "2026-12-25")},
	}
}

var (
	marketsOnce sync.Once
	marketsList []*market
	marketsErr  error
)

// loadMarkets returns the market table with its zones loaded.
func loadMarkets() ([]*market, error) {
	marketsOnce.Do(func() {
		ms := marketTable()
		for _, m := range ms {
			loc, err := time.LoadLocation(m.zone)
			if err != nil {
				marketsErr = fmt.Errorf("market %s: %w", m.name, err)
				return
			}
			m.loc = loc
		}
		marketsList = ms
	})
	return marketsList, marketsErr
}

func findMarket(ms []*market, name string) *market {
	for _, m := range ms {
		if m.name == name {
			return m
		}
	}
	return nil
}

// day returns the status changes of the local date y-mo-d, in time order.
// A holiday is HOLIDAY from midnight to midnight.
func (m *market) day(y int, mo time.Month, d int) []change {
	date := time.Date(y, mo, d, 0, 0, 0, 0, m.loc)
	if m.holidays[date.Format(time.DateOnly)] {
		return []change{{date, statusHoliday}}
	}
	var out []change
	if prev := date.AddDate(0, 0, -1); m.holidays[prev.Format(time.DateOnly)] {
		out = append(out, change{date, statusClosed})
	}
	for _, t := range m.week[date.Weekday()] {
		out = append(out, change{time.Date(y, mo, d, t.minute/60, t.minute%60, 0, 0, m.loc), t.status})
	}
	return out
}

// statusAt returns the market's status at t and the change that set it
// (a change exactly at t counts).
func (m *market) statusAt(t time.Time) (string, time.Time) {
	y, mo, d := t.In(m.loc).Date()
	for back := 0; back <= 10; back++ {
		ch := m.day(y, mo, d-back)
		for i := len(ch) - 1; i >= 0; i-- {
			if !ch[i].at.After(t) {
				return ch[i].status, ch[i].at
			}
		}
	}
	return statusClosed, t
}

// nextChange returns the first change after t to a status other than cur.
func (m *market) nextChange(t time.Time, cur string) (change, bool) {
	y, mo, d := t.In(m.loc).Date()
	for ahead := 0; ahead <= 14; ahead++ {
		for _, c := range m.day(y, mo, d+ahead) {
			if c.at.After(t) && c.status != cur {
				return c, true
			}
		}
	}
	return change{}, false
}

// cursor follows one market's status along the session clock (Unix ms).
type cursor struct {
	m      *market
	status string
	since  int64 // the status holds over [since, until)
	until  int64 // math.MaxInt64 when nothing changes for two weeks
	next   string
}

const never = int64(1<<63 - 1)

func newCursor(m *market, t int64) cursor {
	status, since := m.statusAt(time.UnixMilli(t))
	c := cursor{m: m, status: status, since: since.UnixMilli()}
	c.look()
	return c
}

func (c *cursor) look() {
	if ch, ok := c.m.nextChange(time.UnixMilli(c.since), c.status); ok {
		c.until, c.next = ch.at.UnixMilli(), ch.status
	} else {
		c.until, c.next = never, ""
	}
}

// advance moves to the next change.
func (c *cursor) advance() {
	c.status, c.since = c.next, c.until
	c.look()
}

// sync advances the cursor until its status holds at t.
func (c *cursor) sync(t int64) {
	for c.until <= t {
		c.advance()
	}
}
