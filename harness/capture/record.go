package capture

import "encoding/json"

// Record kinds, the "k" field of each line of capture.jsonl.
const (
	KindStart  = "start"  // first line: what was captured
	KindREST   = "rest"   // one REST poll
	KindWS     = "ws"     // one WS frame received by one subscriber
	KindConn   = "conn"   // a subscriber connected, failed to, or lost its connection
	KindReplay = "replay" // one ingest batch acknowledged by the stack
	KindEnd    = "end"    // the capture ended (last line unless the harness died)
	KindFault  = "fault"  // a scheduled fault: T0 when it began, T when it ended, Text what it was
)

// Record is one line of a capture. Times are nanoseconds since the run's
// start on one monotonic clock. Unused fields are omitted.
type Record struct {
	K string `json:"k"`
	T int64  `json:"t"`

	// Src names the poller ("rest:<feature>:<n>", n 0 the primary, 1 the
	// A/A twin) or subscriber ("ws:<n>").
	Src string `json:"src,omitempty"`
	// Feature of a REST poll.
	Feature string `json:"f,omitempty"`
	// Path of a REST poll; on a subscriber's conn record, the URL it is
	// about when the subscriber rotates through several.
	Path string `json:"path,omitempty"`
	// T0 is when a REST request was sent or a replay batch posted.
	T0 int64 `json:"t0,omitempty"`
	// Status is a REST poll's HTTP status (0 when no answer).
	Status int `json:"status,omitempty"`
	// Err is a transport error, a connection error, or why a body could not
	// be kept as JSON.
	Err string `json:"err,omitempty"`
	// Body is a REST body or WS frame that is valid JSON, kept compact.
	Body json.RawMessage `json:"body,omitempty"`
	// Text is a body or frame that is not JSON (truncated to 4 KiB), and
	// Binary marks a binary WS frame.
	Text   string `json:"text,omitempty"`
	Binary bool   `json:"bin,omitempty"`
	// Size is the frame or body size in bytes as received.
	Size int `json:"size,omitempty"`

	// Seq is the last session seq a replay batch carried, N its events.
	Seq int64 `json:"seq,omitempty"`
	N   int   `json:"n,omitempty"`

	// Start and End carry the run's description and outcome.
	Meta *Meta `json:"meta,omitempty"`
}

// Meta describes a capture (on its start line) and how it ended (end line).
type Meta struct {
	RunID    string `json:"run_id,omitempty"`
	Scenario string `json:"scenario,omitempty"` // scenario file name as run
	Session  string `json:"session,omitempty"`
	Stack    string `json:"stack,omitempty"`
	Started  string `json:"started,omitempty"` // wall clock, RFC 3339
	// Ended: "complete", "interrupted" or "error".
	Ended  string `json:"ended,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Settled says whether REST and WS came to rest before the final poll.
	Settled *bool `json:"settled,omitempty"`
	// SettledAt is when the settle phase started (replay done), ns.
	SettledAt int64 `json:"settled_at,omitempty"`
}
