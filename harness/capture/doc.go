// Package capture records what a stack shows while a session is replayed:
// REST polls (request and response times, status, body) and every WS frame
// each subscriber received, all on one monotonic clock, streamed to one
// JSON Lines file per run (capture.jsonl) so memory stays bounded and the
// run can be diffed again offline.
//
// A failed poll, a non-JSON body or a garbage frame is data: it is recorded
// as such, never dropped and never an error. The file is append-only; after
// a crash it reads up to its last complete line (Reader.Next then returns
// an error wrapping ErrTruncated).
//
// A Tap (tap.go) joins a Django Channels stack's channels_redis group like
// one more consumer and records every broadcast the backend made there, so
// the diff can tell a message never broadcast from one not delivered.
//
// Writer is safe for concurrent use by pollers, subscribers and the tap.
package capture
