//go:build !linux

package stack

import (
	"errors"
	"time"
)

func groupCPU(pgid int) (time.Duration, error) {
	return 0, errors.New("reading a process's CPU time needs Linux's /proc")
}
