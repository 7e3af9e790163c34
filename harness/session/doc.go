// Package session reads, writes, validates, summarises and generates
// recorded market sessions in the thor-session/v1 format: JSON Lines,
// optionally gzip-compressed, a header on line 1 and one event (tick,
// account, position, market_status) per line after it.
//
// It is the first step of the data path
//
//	session → replay → stack → capture → diff → report → gate
//
// A session is what the replay step feeds into a stack, so every later
// step's expectations come from it. The package reads and writes nothing
// else and depends on no other harness package.
//
// # Reading and writing
//
// Reader streams a session one line at a time (a full trading day is
// never in memory); gzip is recognised by its magic bytes, not the file
// name. Every line is decoded by one decoder, shared with
// Event.UnmarshalJSON, so a line means the same to the reader, the
// validator and a stack that decodes ingest batches with encoding/json.
// Unknown fields are ignored and kept: Event.Raw and Header.Raw hold the
// line as read, Writer writes it back verbatim, and Reader.NextRaw hands
// the line to a replayer that forwards it without encoding it again.
// Decoding errors are *LineError values printed as FILE:LINE: field "x":
// why.
//
// Reader checks each line on its own. Validate checks the whole session
// (seq rises by one from 1, time never goes back, symbols, accounts and
// markets are the header's, prices are not negative and lie on the tick
// grid) and reports every problem with its line, as data.
//
// # Generating
//
// Generate writes a seeded, realistic session as a stream: four CME
// futures ticking on their tick grids with a U-shaped intensity over the
// US regular session, accounts trading them with exact cash and
// average-price accounting, and 24 global markets following their local
// schedules. It uses integer arithmetic only, so a seed gives the same
// bytes on every platform; the fixtures under fixtures/sessions are
// checked against it by the tests.
//
// # Concurrency
//
// A Reader or a Writer is used by one goroutine at a time. The package's
// functions are safe for concurrent use.
package session
