//go:build unix

package stack

import (
	"os"
	"syscall"
)

// killGroup signals the process's group: SIGTERM, or SIGKILL when kill.
func killGroup(p *os.Process, kill bool) {
	sig := syscall.SIGTERM
	if kill {
		sig = syscall.SIGKILL
	}
	if err := syscall.Kill(-p.Pid, sig); err != nil {
		_ = p.Signal(sig) // not a group leader after all: the process alone
	}
}
