// Package gate decides whether a migration phase may start. It reads the
// phases file (the order shadow → cutover/<feature> … → cleanup/<feature> …
// → complete, each phase's direct prerequisites and the scenarios that gate
// it), the sign-off ledger and the trusted signers of package signoff, and
// the signed report files. It is the end of the data path
// (… → report → gate); CI and devops call it through `harness gate`.
//
// # Rules
//
// Gate.Check(P) looks at each phase in P's requires list, and only those:
// prerequisites are not followed transitively, so the phases file lists
// every phase that must be signed off (scenarios/phases.yaml lists the
// cutovers again under each cleanup, for example). A prerequisite Q is
// satisfied when the latest trusted sign-off for Q in the ledger (a line
// before any chain break, by a signer in the signers file, whose signature
// verifies) signs a report that
//
//   - still exists at its path, relative to Gate.BaseDir,
//   - still has the sha256 that was signed, and
//   - is PASS, or was signed with a waiver.
//
// The latest trusted sign-off counts even when it fails these checks: an
// older sign-off does not stand in for it. Untrusted lines for Q never count;
// they are listed as reasons (or, when Q is satisfied anyway, as ignored).
// Waived sign-offs satisfy the gate and are listed in Result.Waivers.
//
// A broken ledger chain fails every gate, even when each prerequisite has a
// trusted sign-off before the break: lines may have been removed or
// reordered, and the ledger must be restored (from version control) before
// any phase starts. An unknown phase is an error (*UnknownPhaseError); every
// other problem is a Reason in the Result, so a report shows all of them at
// once.
//
// Threat model (see package signoff): the gate detects changed reports and
// forged, edited, removed or reordered ledger lines made without a trusted
// private key. Deleting the whole ledger is not prevented: the gate then
// finds no sign-off and the phase stays closed.
//
// # Phases file
//
//	phases:
//	  - name: shadow
//	    requires: []
//	    scenarios: [scenarios/shadow.yaml]
//	  - name: cutover/account_balance
//	    requires: [shadow]
//	    scenarios: [scenarios/cutover-account_balance.yaml]
//
// Unknown fields are errors; names are lower-case words separated by '/';
// a phase may only require phases defined above it. Errors name file:line.
package gate
