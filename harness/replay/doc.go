// Package replay feeds a recorded session into a stack through a driver,
// paced by event time and speed: "1x" sends each event when its session
// time comes, "10x" ten times faster, "max" as fast as the stack
// acknowledges. A batch is never sent before the previous one was
// acknowledged, so the stack applies events in order, as it would live.
//
// Each acknowledged batch is written to the capture (kind "replay") with
// its send and acknowledge times and its last seq.
package replay
