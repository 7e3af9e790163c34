// Package diff is the core of the harness: it reads a capture (REST polls
// and WS frames on one clock, see package capture) and, per feature of the
// scenario, folds both views of the stack's state and compares them. It
// returns measurements and findings (Result); verdicts and thresholds
// belong to package report. In the data path it sits between capture and
// report:
//
//	session → replay → stack → capture → diff → report → gate
//
// Diff reads records through a function (capture.Reader.Next), DiffFile a
// capture file. What the stack sent, however malformed, never makes Diff
// fail: it becomes findings. A capture cut short by a crash is diffed up to
// its last complete record (Result.Truncated).
//
// # Normalisation
//
// Every item (a WS message's item, or one entry of a REST body's list) is
// normalised: fields matching an ignore rule are dropped (each rule's
// matches are counted; a rule that matched nothing is reported), object
// members are sorted, and numbers are equal within the feature's
// tolerance. Ignore rules are dotted paths; "*" matches any member and "#"
// any array element. The key is the key fields' values joined with "|".
// Without ignore rules an item keeps its raw JSON and the canonical form is
// only built when bytes alone cannot decide (see canon.go).
//
// # State features
//
// Per key, the WS trajectory W holds the values WS gave, merged over the
// subscribers (each entry records who got it and when); REST's trajectory R
// is the distinct consecutive values the primary poller ("rest:<f>:0") and
// the final round saw, with their first observation times. R must be a
// subsequence of W, and the final round must equal every subscriber's last
// WS value.
//
// With seq on both sides (REST.Seq and WS.Seq non-empty), a REST body at
// seq s must equal the WS fold of the key's messages with seq <= s. It is
// judged once every active subscriber's seq for the feature is past s (plus
// a short grace for a message reordered by one place), or after a timeout
// when WS is silent. A REST change in (previous poll's seq, s] with no WS
// message for the key in that window is missing_in_ws; with messages there
// but none equal, value_mismatch against the latest, except when that
// latest message is older than s and WS had the key right at REST's
// previous observation: then WS most likely lost the change after it, and
// it is missing_in_ws (a WS message at seq s itself describes the same
// state as REST, so a difference there is always value_mismatch). When the
// latest message is older than s and nothing says WS was right just before
// (a key's first sight, sparse polls, a value that came back), the key's
// record decides once the feature is judged (the feature's while the key
// has fewer than five observations): wrong-value bugs repeat on every
// message, so a WS that agreed with REST at most observations lost these
// changes (missing_in_ws), one that disagreed at most gives wrong values
// (value_mismatch). An
// observation without seq where seq is configured is a protocol_error and
// is left out (SeqAligned is then false).
//
// Without seq, R is matched greedily against W after the last match
// (preferring the WS value current at REST's observation time). A REST
// value not found: out_of_order when W had it before the last match,
// missing_in_ws when W went straight from the previous value to the next
// REST value (or never moved), value_mismatch against the WS value closest
// in time otherwise. It is judged when a later REST value is found over WS
// (delivered after REST's request for this one: values recur, and an older
// occurrence says nothing about where WS is), or after the timeout.
//
// Freshness: for each matched REST value, lag = WS delivery time (to
// subscriber 0, or the first subscriber that got it) − REST's first
// observation; negative means WS was ahead. Lag above the freshness budget
// is late. REST is stale_rest when it first shows a value more than the
// budget after WS had replaced it, or when its previous poll of the path
// was sent more than the budget after WS delivered the value and still
// showed an older state (a cache that jumps from an old state to the
// final one replaces nothing, but is stale all the same).
//
// # Event features
//
// Events (bars) are kept by key for the whole capture. Each item REST
// lists must arrive over WS once per subscriber, equal, in increasing Order
// within its Stream; each WS item must be in REST's final listing (the
// final round, or each path's last poll without one).
//
// # Subscribers
//
// Every subscriber must see the same messages. A message some subscribers
// got and another did not is a subscriber_gap of that subscriber (messages
// missed close together form one span, with its time range and count), not
// a diff; a value no subscriber got is missing_in_ws. Duplicates and
// out-of-order deliveries are reported once per message, naming the
// subscribers that saw them (a broadcast fault shows on all of them).
//
// # Finding kinds
//
//   - value_mismatch: REST and WS disagree on a value; Diff is go-cmp's
//     (-rest +ws) and Detail names fields missing on one side.
//   - missing_in_ws: REST showed a value or event no subscriber got.
//   - extra_in_ws: WS gave a key or event REST's final listing lacks.
//   - duplicate: the same (key, seq) twice to a subscriber; without seq the
//     same value twice in a row; an event's key twice.
//   - out_of_order: seq going back for a key, Order going back in a
//     stream, or (without seq) REST ordering WS's values differently.
//   - late, stale_rest: freshness, as above.
//   - subscriber_gap: as above.
//   - protocol_error: a frame that is binary or not JSON (a finding of the
//     run, in Result.Findings: its feature cannot be told), a message or
//     body without its items, key fields or seq, a REST poll that failed
//     (transport error, non-2xx status, non-JSON body).
//
// Counts are exact; at most MaxStored findings per kind and feature are
// kept (the first ones).
//
// # A/A calibration
//
// Subscribers 0 and 1 receive the same messages, and the twin poller
// ("rest:<f>:1") polls the same paths half an interval after the primary:
// fields that differ between them on their own are noise. WS items pair by
// identical bytes, or else by position in the feature's stream and key
// (and seq); REST bodies pair by equal seq, or without seq when polled
// within a few ms of each other or both after the replay settled. Noisy
// fields are reported (NoisyField), marked when an ignore rule covers them:
// a noisy field without one makes comparisons of it unreliable.
//
// # Memory and speed
//
// Memory is bounded by keys × the WS values REST has not yet passed (about
// one poll interval of traffic), not by the capture's length: WS history is
// retired once REST's observations are judged past it (and its delivery
// recorded), or after a time limit for keys REST never shows. Events keep
// one record per event. Frames are decoded once per distinct body (every
// subscriber receives the same bytes) through a small cache. A Diff is not
// safe for concurrent use; separate Diffs are independent.
package diff
