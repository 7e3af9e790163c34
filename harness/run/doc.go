// Package run carries out one `harness run`: it brings up the scenario's
// stack, connects the WS subscribers and starts the REST pollers (each
// feature twice: the primary poller and its A/A twin), replays the session,
// waits for REST and WS to come to rest, takes a final REST round, then
// diffs the capture and writes the report into the run directory.
//
// Problems with the stack (unreachable, subscribers that cannot connect, a
// replay the stack rejects) are evidence, not errors: they end up in the
// report, which is then INCONCLUSIVE. An error is returned only when the
// harness itself cannot work (no run directory, an unwritable capture).
// Cancelling the context stops the run within a few seconds and still
// writes the capture and a report marked INCOMPLETE.
package run
