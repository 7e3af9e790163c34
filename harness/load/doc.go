// Package load load-tests a stack's broadcast path: vegeta paces events into
// the stack's ingest endpoint (open model: the schedule never waits for slow
// answers) while many WebSocket subscribers measure how fast, how completely
// and how cleanly every event's message reaches each of them. As a baseline
// it also makes the REST polling load of as many dashboards, so a report can
// put REST polling and WS push side by side. A step mode raises subscribers
// or input rate until a threshold breaks and reports the capacity.
//
// Run carries out a scenario's load section against the scenario's stack and
// returns a Result: per step, delivery latency (HDR histograms, merged over
// subscribers), loss, duplicates, out-of-order deliveries, connect latency
// and failures, disconnects, the ingest side's vegeta metrics, per-second
// series, the harness's own CPU and a verdict per threshold. Result.Markdown
// renders it for people; its JSON keeps the encoded histograms so results of
// several shards (hosts) combine exactly with Merge.
//
// # How a delivery is measured
//
// Each ingest request carries a session header line (which resets the
// reference stack's state, so requests that overtake each other in flight
// are still accepted) and Batch market_status events, each for a market
// named after its seq ("L<seq>") that the reset made unknown: every event
// causes exactly one message, carrying the event's seq, to every subscriber.
// The targeter stores each event's send time in a lock-free table indexed by
// seq (the "seqTable"); a subscriber scans each frame's bytes for the type
// and the correlation field (no JSON decoding), looks the send time up and
// records receipt − send time. Messages of other types (heartbeats) and of
// other steps are ignored.
//
// # Shards
//
// Shard i of n runs its share of the subscribers and of the rate, and uses
// the seqs ≡ i mod n, so shards on different hosts share a stack without
// sharing clocks: a shard times its own events on its own subscribers. Its
// subscribers receive every shard's messages and count them all in the
// broadcast throughput (Delivery.FanoutRate); latency, loss and duplicates
// come from the (subscriber, event) pairs within each shard, a 1/n sample
// of all pairs. Merge adds the shards' counts, merges their histograms
// exactly and adds their rates, each over its own measured duration.
//
// # Concurrency
//
// Run is safe to call from several goroutines, each with its own scenario
// and stack. Inside a run: the vegeta attacker's workers call the targeter
// concurrently (it takes request indexes from an atomic counter and writes
// only its own table slots); one collector goroutine reads the attack's
// results; each subscriber has one reader goroutine, which owns its
// connection's reads and records into the subscriber's state under the
// subscriber's own mutex (uncontended except when a step starts or ends and
// the coordinator swaps or harvests that state); one goroutine samples the
// process's CPU. A Result is plain data: not safe for concurrent mutation,
// fine to read from many goroutines.
//
// The package never prints to stdout, reads flags or exits; progress lines go
// to Options.Progress when set. Traffic goes only to loopback or to hosts a
// scenario lists in load.allow_hosts; every run is bounded in size and time,
// stops by itself and, when its context is cancelled, stops promptly and
// still returns a Result marked incomplete (INCONCLUSIVE).
package load
