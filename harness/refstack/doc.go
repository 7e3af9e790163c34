// Package refstack is the reference trading stack: a Go stand-in for the
// Django/Channels dashboard backend the harness verifies. The harness runs it
// in-process as the "embedded" stack (cmd/thorstack serves it as a binary).
// In the pipeline session → replay → stack → capture → diff it is the stack:
// replay drivers POST session lines to it, capture polls its REST endpoints
// and subscribes to its WebSocket.
//
// It implements the thor profile of ARCHITECTURE.md exactly: four features
// (account_balance, positions, intraday_bars, global_market), each with a
// REST endpoint listing items sorted by key under {"seq":N,"data":[...]},
// and one WS endpoint (/ws/dashboard/) broadcasting one item per message,
// {"type":T,"seq":N,"data":{...}}, plus {"type":"heartbeat","seq":N,"ts":...}
// every Config.Heartbeat. GET /api/features reports the feature flags; with
// Config.Replay, POST /__replay/events ingests a JSON array of session lines
// (a header line resets the state) and answers {"applied":N,"seq":S}; a bad
// batch answers 400 naming the element and field, and applies nothing.
//
// The pieces:
//   - Model derives balances, positions, bars and market status from
//     session events (no HTTP; see its rules). Apply returns the messages an
//     event causes, only for items whose output changed, in the contract's
//     order.
//   - The hub fans each message out: encoded and framed once
//     (websocket.PreparedMessage), queued per client in a bounded queue
//     (Config.QueueSize) drained by that client's own writer goroutine,
//     which writes all the frames it finds queued in one system call. A
//     client whose queue is full is cut off and counted in
//     Stats.SlowClientsCut; nobody waits for it. Ingest waits at most a
//     second per request while a client is over half a queue behind, so a
//     burst does not cut clients that are merely catching up.
//   - Faults (ParseFaults, FaultsHelp) imitate bugs per feature: drop, delay,
//     duplicate, reorder, round, omit_field on the WS broadcast (all clients
//     see the same faulty stream), stale_rest on REST. They leave no marker.
//
// Money (cash, buying_power, net_liq, market_value, unrealized_pnl) is kept
// unrounded and rounded half away from zero to 2 decimals at output
// (RoundMoney); prices (avg_price, last, bar OHLC) are output as given.
//
// # Config: what zero means
//
//   - Addr "": listen on 127.0.0.1:0 (a free port; read it back with Addr).
//   - Replay false: no ingest endpoint (404).
//   - Flags zero: every flag reported off (broadcasts flow anyway).
//   - RESTRemoved nil: every REST endpoint answers.
//   - Faults nil: a clean stack.
//   - NoSeq false: every body and message carries "seq".
//   - Heartbeat 0: one second (negative: no heartbeat).
//   - QueueSize 0: 4096 frames per client.
//   - Seed 0: seed 0 (fault decisions are the same every run for a seed).
//   - Redis "": the in-memory channel layer, this process only. A Redis URL
//     shares the session with other replicas through Redis pub/sub (see
//     redis.go); /healthz then answers 503 until the layer is subscribed.
//
// # Concurrency
//
// A Model is not safe for concurrent use. A Server is: its methods and
// handlers may be called from any goroutine. Ingest calls (HTTP or
// ApplyLines/ApplyEvents/Reset) are serialized and broadcast in apply
// order; REST reads run in parallel with each other and see whole batches
// only. Each WS connection has one reader (the handler goroutine, which
// discards what the client sends) and one writer goroutine. New starts
// background goroutines (heartbeat, delay faults); Close stops them and
// every connection, and waits for them.
package refstack
