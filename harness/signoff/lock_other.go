//go:build !unix

package signoff

import "os"

// lockFile is a no-op where flock is not available: run one sign-off at a
// time there.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) {}
