// Command thorstack serves the reference trading stack (package
// harness/refstack) on its own, for stacks of kind process or containers
// and for people trying the wire contract by hand. It listens on
// 127.0.0.1:8000 by default and stops cleanly on SIGINT or SIGTERM.
//
// It is a thin layer: flags, the WS_FEATURE_* environment and the fault
// SPEC are parsed here, everything else is refstack. All process state
// (arguments, environment, output, interruption) comes in through env, so
// the command is tested in-process. See thorstack --help.
//
// Exit codes: 0 stopped cleanly, 1 could not serve, 2 bad flags,
// environment or SPEC.
package main
