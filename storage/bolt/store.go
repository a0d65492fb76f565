package bolt

import (
	"bytes"
	"context"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
)

// Store is a [sessions.Storage] kept in a bbolt database file. Besides
// Storage it implements [sessions.Toucher], [sessions.ConditionalWriter],
// [sessions.ExpiryReader], [sessions.Lister], [sessions.Sweeper],
// [sessions.Indexer] and [io.Closer].
//
// A Store is safe for concurrent use by multiple goroutines. Changes from
// concurrent callers are committed together (see Write), and a change that
// returned nil is on disk unless WithSync(false) was given.
//
// After Close, every method returns an error wrapping [sessions.ErrClosed].
//
// A damaged database file never panics: a call that finds a damaged page
// returns an error wrapping [ErrCorrupt], and from then on every call
// returns one (the Store is poisoned), because the damage may have left
// bbolt's state in memory half updated and further writes could spread it
// over good pages. Close still succeeds and releases the file. See
// ErrCorrupt.
type Store struct {
	db     *bbolt.DB
	owned  bool     // Close closes db
	file   *os.File // db's file when the Store opened it, for closeDB
	bucket []byte
	opts   options

	// poisoned is the error every call returns once a call found the
	// database file damaged; stuck is closed if that left one of bbolt's
	// internal locks held for good. See corrupt.go.
	poisoned  atomic.Pointer[error]
	stuck     chan struct{}
	stuckOnce sync.Once

	// mu is held for reading by every call while it uses db, and for
	// writing by Close, which so waits for calls in progress. It is never
	// held while user code (a writer, a reader, a List consumer) runs, so
	// such code may call back into the Store, even Close, without
	// deadlocking.
	mu      sync.RWMutex
	closed  bool        // under mu
	closing atomic.Bool // set first by Close, lets new calls fail early

	// Group commit state, under cmu; see commit.go.
	cmu        sync.Mutex
	queue      []*op
	spare      []*op
	committing bool

	stopSweep context.CancelFunc
	sweepDone chan struct{} // closed when the background sweeper returns

	// onSweepTx, when set by a test, is called after every write
	// transaction of DeleteExpired with the number of entries it removed
	// and how long the transaction took.
	onSweepTx func(removed int, busy time.Duration)
	// sweepBusy, when set by a test, replaces the length of a sweep's
	// write transaction that its rest is based on.
	sweepBusy func(time.Duration) time.Duration
}

// acquire holds the Store open for one call. The caller must call release
// once it no longer uses the database, and before running user code.
func (s *Store) acquire() (release func(), err error) {
	if s.closing.Load() {
		return nil, errClosed
	}
	if p := s.poisoned.Load(); p != nil {
		return nil, *p
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, errClosed
	}
	return s.mu.RUnlock, nil
}

// seekAfter positions c on the first key after after, or on the first key
// when after is nil.
func seekAfter(c *bbolt.Cursor, after []byte) (k, v []byte) {
	if after == nil {
		return c.First()
	}
	k, v = c.Seek(after)
	if k != nil && bytes.Equal(k, after) {
		k, v = c.Next()
	}
	return k, v
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	return buf
}

func putBuffer(buf *bytes.Buffer) {
	// A rare huge session must not pin its buffer in the pool.
	if buf.Cap() <= 64<<10 {
		bufPool.Put(buf)
	}
}
