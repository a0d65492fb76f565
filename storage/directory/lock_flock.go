//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package directory

import (
	"io/fs"
	"os"
	"syscall"
)

// flockAvailable says that fileLock locks across processes.
const flockAvailable = true

// fileLock opens the lock file at path, creating it if it is missing (never
// its folder: a missing folder is returned as the error of the open), and
// holds an exclusive flock(2) on it until the returned function closes the
// descriptor.
func fileLock(path string, mode fs.FileMode) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, mode)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, &fs.PathError{Op: "flock", Path: path, Err: err}
	}
	// Closing the descriptor releases the lock.
	return func() { f.Close() }, nil
}
