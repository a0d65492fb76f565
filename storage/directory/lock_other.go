//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package directory

import (
	"io/fs"
	"path/filepath"
)

// flockAvailable says that fileLock locks within this process only.
const flockAvailable = false

// fileLock falls back to processLock where flock(2) is not available: the
// conditional writes are then atomic among the Stores of one process, not
// across processes; see the package documentation.
func fileLock(path string, _ fs.FileMode) (func(), error) {
	return processLock(filepath.Dir(path))
}
