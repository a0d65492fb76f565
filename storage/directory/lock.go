package directory

import (
	"os"
	"path/filepath"
	"sync"
)

// lockName is the lock file of a fan-out folder. Entry names never start
// with '.', and the sweeper removes only names starting with tempPrefix, so
// List and the sweeper leave it alone.
const lockName = ".lock"

// lockFolder takes the lock of the fan-out folder dir, which serialises
// every rename of a file onto an entry and every removal of an entry in
// that folder, across all Stores sharing the root: Write's, Create's and
// Replace's rename, Invalidate's removal and the sweeper's. It returns the
// function that releases it. A missing lock file is made; the folder itself
// never is, and its absence is returned as an error that absent recognises.
//
// Where flock(2) is available (lock_flock.go) the lock is an exclusive
// flock on the folder's lock file, held through a file descriptor of this
// call alone, so it excludes other goroutines of this process as well as
// other processes; it is released when the descriptor is closed, also when
// the process dies. Elsewhere (lock_other.go) it is processLock: exclusive
// within this process only.
func (s *Store) lockFolder(dir string) (func(), error) {
	if s.processLocks {
		return processLock(dir)
	}
	return fileLock(filepath.Join(dir, lockName), s.opts.fileMode)
}

// folderLocks are the locks of processLock, by folder path.
var folderLocks sync.Map // string -> *sync.Mutex

// processLock locks dir for this process: every Store of the process over
// the same root shares the mutex, since the key is the folder's path. It
// reports the folder's absence, as fileLock does, so that callers behave the
// same with either lock.
func processLock(dir string) (func(), error) {
	if _, err := os.Lstat(dir); err != nil {
		return nil, err
	}
	m, _ := folderLocks.LoadOrStore(dir, new(sync.Mutex))
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock, nil
}
