//go:build linux

package stack

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat (USER_HZ, 100 on
// every Linux the kernel ABI allows).
const userHZ = 100

// groupCPU sums the CPU time of every process in process group pgid, and
// of the children its members have reaped, from /proc.
func groupCPU(pgid int) (time.Duration, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var ticks int64
	found := false
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// After the command name in parentheses: state ppid pgrp ... with
		// utime stime cutime cstime the 12th to 15th fields.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(b[i+1:])
		if len(f) < 15 {
			continue
		}
		if g, err := strconv.Atoi(string(f[2])); err != nil || g != pgid {
			continue
		}
		found = found || pid == pgid
		for _, x := range f[11:15] {
			v, err := strconv.ParseInt(string(x), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/stat: %v", pid, err)
			}
			ticks += v
		}
	}
	if !found {
		return 0, errors.New("the stack's process is gone")
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}
