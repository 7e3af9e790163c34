// Package signoff is the QA sign-off ledger: ed25519 keys, the trusted
// signers file, and an append-only, hash-chained ledger of signed reports.
// It is the last step of the data path (… → report → signoff/gate): QA signs a
// run's report for a phase, and package gate reads the ledger to decide
// whether the next phase may start.
//
// # Keys and trusted signers
//
// A private key file is PEM, block type "PRIVATE KEY", holding the PKCS #8
// encoding of an ed25519 key (the form `openssl genpkey -algorithm ed25519`
// writes, so `openssl pkey -in KEY -pubout` shows its public half). It is
// written with mode 0600 and never overwritten.
//
// The trusted signers file (committed by the team, by default
// scenarios/signers.txt) has one signer per line:
//
//	# comment
//	alice ed25519:BASE64-OF-THE-32-BYTE-PUBLIC-KEY
//
// Names match [A-Za-z0-9][A-Za-z0-9._@+-]* (at most 64 bytes); blank lines and
// text after '#' are ignored; a malformed line or a name given twice is an
// error naming file:line.
//
// # Ledger format
//
// The ledger (by default reports/signoffs.jsonl) is JSON Lines, one sign-off
// per line, fields in this order:
//
//	{"index":0,"phase":"shadow","report":"reports/shadow/report.json","report_sha256":"<64 hex>",
//	"verdict":"PASS","signer":"alice","time":"2026-03-02T18:00:00Z","waiver":"<only when waived>",
//	"prev":"","signature":"<base64 of 64 bytes>"}
//
// where:
//
//   - index counts lines from 0;
//   - report is the report's path relative to the repository (as given);
//   - report_sha256 is the hex sha256 of the report file's bytes;
//   - verdict is the report's top-level "verdict" (PASS, FAIL, INCONCLUSIVE);
//     a report that is not PASS is only signed with a waiver reason;
//   - time is the signer's clock, RFC 3339 UTC to the second;
//   - prev is the hex sha256 of the previous line's bytes (without its "\n"
//     or "\r\n"), "" on the first line;
//   - signature is ed25519 over [Entry.SignedMessage]: the line
//     "thor-signoff/v1\n" followed, for index, phase, report, report_sha256,
//     verdict, signer, time, waiver and prev in that order, by
//     "<name>:<byte length of value>:<value>\n" (index in decimal).
//
// Unknown fields make a line malformed (they would not be signed). Lines are
// only ever appended (O_APPEND, one write per line, fsync, under an exclusive
// flock); the file is never rewritten. Commit it with the reports; if two
// sign-offs race (for instance on two branches), keep one line, and sign the
// other report again.
//
// # Verification
//
// The chain is checked first: a malformed line, an index that is not the
// line's position, or a prev that is not the hash of the line before breaks
// the chain at that line, and that line and every later one are not trusted
// (a removed, inserted or reordered line breaks it where it was; an edited
// line fails its signature and breaks the chain on the next line). Then each
// line before the break is trusted only if its signer is in the signers file
// and the signature verifies with that signer's key; an untrusted line does
// not break the chain.
//
// Threat model: the ledger detects tampering with signed reports and with
// ledger lines (edit, removal, insertion, reordering, forgery) by anyone
// without a trusted private key. It does not stop deletion of the whole
// ledger or of its last lines: the gate then just finds no sign-off (or an
// older, still valid one).
package signoff
