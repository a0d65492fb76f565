//go:build !windows && !plan9 && !solaris && !aix && !android

package bolt

import (
	"os"
	"syscall"
	"time"

	berrors "go.etcd.io/bbolt/errors"
)

// prepareFile takes the exclusive lock on f that bbolt.Open is about to
// take, the way bbolt takes it on these systems (flock, retried every
// 50 ms until timeout), and then checks f with checkFile under that lock.
// bbolt's own flock of the same descriptor then succeeds at once, and
// bbolt releases the lock when it closes the file. A timeout is bbolt's
// ErrTimeout, as bbolt would have returned it.
func prepareFile(f *os.File, timeout time.Duration) error {
	const retry = 50 * time.Millisecond // bbolt's flockRetryTimeout
	start := time.Now()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK {
			return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
		}
		if time.Since(start) > timeout-retry {
			return berrors.ErrTimeout
		}
		time.Sleep(retry)
	}
	return checkFile(f)
}

// unlockFile releases the lock bbolt took on f. Closing f alone would not
// when bbolt has mapped f into memory: the map holds the open file too,
// and a flock lasts as long as the open file does.
func unlockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}
