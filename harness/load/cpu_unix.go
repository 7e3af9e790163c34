//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package load

import (
	"syscall"
	"time"
)

// processCPU is the process's user plus system CPU time so far.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
