//go:build !linux

package load

// hostCPU cannot read the machine's CPU time on this system.
func hostCPU() (busy, total int64, ok bool) { return 0, 0, false }
