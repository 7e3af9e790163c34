//go:build unix

package signoff

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock so that two sign-offs appended at
// once cannot both claim the same index.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

func unlockFile(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
