// Package stack brings up, or points at, the stack a run verifies, and
// hands the run its REST base and WS URL:
//
//   - embedded: the reference stack (harness/refstack) in-process on
//     127.0.0.1, in replay mode, with the scenario's faults and flags;
//   - url: a stack that is already running;
//   - process: a command the harness starts (e.g. Daphne serving a Django
//     project) on a free loopback port in its own process group, waits for
//     until its ready path answers 200, logs into the run directory
//     (ProcessLog) and stops with SIGTERM, then SIGKILL after a grace
//     period, also when the run failed or was interrupted;
//   - containers: a Redis service and N replicas of an image on a private
//     Docker network, brought up with testcontainers-go, each waited for
//     until its readiness path answers 200. Images are built here (`make
//     images`), never pulled; Ryuk is off, and Close removes every
//     container, the network and a built image, also when the run was
//     interrupted (labels: LabelStack, LabelPID).
//
// Optional capabilities are small interfaces found by type assertion:
// Replicas (subscribers spread across the replicas' WS URLs) and
// FaultInjector (the scenario's fault schedule: stop or pause Redis, kill,
// restart or pause a replica).
//
// A Stack is closed by whoever started it; Close removes everything the
// stack started.
package stack
