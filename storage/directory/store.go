package directory

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// Store is a [sessions.Storage] that keeps one file per session under a root
// folder. It implements [sessions.Toucher], [sessions.ConditionalWriter],
// [sessions.ExpiryReader], [sessions.Indexer], [sessions.Lister],
// [sessions.Sweeper] and [io.Closer].
//
// A Store is safe for concurrent use by multiple goroutines, and several
// Stores, in one process or in several, may share one root: the guarantees
// come from the atomicity of renaming a file over another and from a lock
// file per fan-out folder (see the package documentation), none from locks
// held in memory. Concurrent Writes to one id end with exactly one of the
// written values, and a Read sees the whole old or the whole new content.
type Store struct {
	root   string // absolute and clean
	prefix string // root with a trailing separator
	opts   options

	closed atomic.Bool
	// processLocks makes lockFolder use processLock even where flock(2)
	// is available, so that tests exercise the fallback everywhere.
	processLocks bool
	// stopSweeper cancels the background sweeper; sweeperDone is closed when
	// its goroutine has returned. Both exist from New on (nil when the
	// sweeper is disabled), so Close never races the goroutine's start.
	stopSweeper context.CancelFunc
	sweeperDone chan struct{}
	// sweepBusy, when set by a test, replaces the length of a sweep's
	// chunk that its rest is based on.
	sweepBusy func(time.Duration) time.Duration
}

// begin checks what every call checks before it touches the disk: that the
// Store is open and ctx is not done.
func (s *Store) begin(ctx context.Context, op string) error {
	if s.closed.Load() {
		return sessions.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessionkit/directory: %s: %w", op, err)
	}
	return nil
}

// mkdir creates the fan-out folder dir, and root if an operator removed it.
// A folder that another Store created meanwhile is fine.
func (s *Store) mkdir(dir string) error {
	err := os.Mkdir(dir, s.opts.dirMode)
	if errors.Is(err, fs.ErrNotExist) {
		if err := mkdirAll(s.root, s.opts.dirMode); err != nil {
			return err
		}
		err = os.Mkdir(dir, s.opts.dirMode)
	}
	switch {
	case err == nil:
		// Mkdir's mode went through the umask; the option promises the
		// exact bits.
		return os.Chmod(dir, s.opts.dirMode)
	case errors.Is(err, fs.ErrExist):
		return nil
	}
	return err
}

// mkdirAll creates dir and its missing parents and gives dir exactly mode.
func mkdirAll(dir string, mode fs.FileMode) error {
	if err := os.MkdirAll(dir, mode); err != nil {
		return err
	}
	return os.Chmod(dir, mode)
}

// syncDir flushes the folder dir, so that a rename or removal in it
// survives an operating system crash.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		// Windows cannot open a folder for flushing, and NTFS journals the
		// rename itself.
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
