//go:build !unix

package stack

import (
	"os"
	"syscall"
)

func procAttr() *syscall.SysProcAttr { return nil }

// killGroup ends the process (no process groups here: its children stay).
func killGroup(p *os.Process, kill bool) { _ = p.Kill() }
