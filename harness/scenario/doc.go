// Package scenario loads scenario files: which recorded session to replay,
// into which stack, how each feature is polled over REST and received over
// WS, how it is compared, and the thresholds that decide verdicts.
//
// Decoding is strict. Every problem in a file is reported at once, each
// naming the file, the line and the field path, with a suggestion for a
// misspelled field name. A scenario may use the "thor" profile, which fills
// in the design's contract for the four known features; anything written
// in the file wins over the profile.
//
// It is the first step of the pipeline: the run, the diff and the report
// read a *Scenario and never write to it.
package scenario
