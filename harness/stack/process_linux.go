//go:build linux

package stack

import "syscall"

// procAttr puts the process in a group of its own (Close signals the whole
// group; a Ctrl-C at the terminal reaches the harness, which stops it in
// order) and has the kernel kill it if the harness dies without Close.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
