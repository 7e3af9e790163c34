//go:build unix && !linux

package stack

import "syscall"

// procAttr puts the process in a group of its own (Close signals the whole
// group).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
