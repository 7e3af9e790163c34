package capture

import "time"

// Clock is the run's one monotonic clock: nanoseconds since the run began.
type Clock struct{ start time.Time }

// NewClock starts a clock now.
func NewClock() *Clock { return &Clock{start: time.Now()} }

// Now is the time since the clock started, in nanoseconds.
func (c *Clock) Now() int64 { return int64(time.Since(c.start)) }

// Start is the wall-clock time the clock started.
func (c *Clock) Start() time.Time { return c.start }
