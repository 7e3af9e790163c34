// Package report turns a diff into a sign-off report: a verdict per
// feature gate (PASS, FAIL or INCONCLUSIVE) with the measured value, the
// threshold and the evidence behind it, and writes it as report.json and
// report.md.
//
// Never a false PASS: a feature with too little evidence (no REST samples,
// no WS items, a subscriber that never connected, a run that did not settle
// or was cut short) is INCONCLUSIVE, whatever its findings say. A run that
// was interrupted is marked INCOMPLETE and is INCONCLUSIVE as a whole.
package report
