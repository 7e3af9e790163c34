// Package cli is the harness command line: it parses arguments, calls the
// harness packages and prints. All process state (arguments, environment,
// standard streams, interruption) comes in through Env, so every command is
// tested in-process. Commands live one per file.
//
// Exit codes: 0 PASS (or success), 1 FAIL, 2 bad input or configuration,
// 3 INCONCLUSIVE, 4 the harness itself failed.
package cli
