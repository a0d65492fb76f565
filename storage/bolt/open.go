package bolt

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Open opens the bbolt database file at path, creating it with the mode of
// [WithFileMode] if it does not exist, and returns a Store that owns it:
// Close closes the file. The Store keeps its sessions in the bucket of
// [WithBucket], which Open creates if needed.
//
// bbolt locks the file for one process (more exactly, one open handle) at a
// time. When another process or Store holds the lock, Open waits up to the
// [WithLockTimeout] duration and then returns an error wrapping bbolt's
// ErrTimeout (go.etcd.io/bbolt/errors.ErrTimeout) that says the file is
// locked. Any other failure (a missing folder, say) is returned wrapped as
// well.
//
// A damaged file fails Open with an error wrapping [ErrCorrupt] instead of
// a panic: a file that is not a bbolt database or whose two meta pages are
// both damaged (the error also wraps bbolt's ErrInvalid or ErrChecksum), a
// file cut short, a damaged freelist page, a damaged page of the top-level
// bucket directory. A failed Open leaves no lock, descriptor or goroutine
// behind, so the same path can be opened again once the file is repaired.
// bbolt keeps two meta pages and uses the older one when the newer is
// damaged: such a file opens, without the last transaction written before
// the damage. The pages of the sessions themselves are not read by Open;
// damage there is found by the first call that reaches it (see Store).
//
// Unless [WithSweepInterval] turns it off, Open starts a background
// goroutine that removes expired entries; Close stops it.
func Open(path string, opts ...Option) (*Store, error) {
	o := buildOptions(opts)
	if err := o.validate(); err != nil {
		return nil, err
	}
	timeout := o.lockTimeout
	if timeout <= 0 {
		// bbolt waits forever on a zero timeout; the smallest positive one
		// makes it try the lock once.
		timeout = time.Nanosecond
	}
	db, file, err := openDB(path, o.fileMode, &bbolt.Options{Timeout: timeout, NoSync: o.noSync}, timeout)
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			return nil, err // it names the path
		}
		if errors.Is(err, berrors.ErrInvalid) || errors.Is(err, berrors.ErrChecksum) {
			return nil, fmt.Errorf("%w: open %s: the file is not a bbolt database, or both of its meta pages are damaged: %w", ErrCorrupt, path, err)
		}
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("sessionkit/bolt: open %s: the file is locked by another process or Store (bbolt allows one at a time); gave up after %v: %w", path, o.lockTimeout, err)
		}
		// An *fs.PathError already says "open PATH: ..."; saying it again
		// would print the path twice.
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) && pe.Path == path {
			return nil, fmt.Errorf("sessionkit/bolt: %w", err)
		}
		return nil, fmt.Errorf("sessionkit/bolt: open %s: %w", path, err)
	}
	return newStore(db, file, o, "open "+path)
}

// New returns a Store over db, which the caller opened and keeps owning:
// Close stops the Store (every later call returns an error wrapping
// [sessions.ErrClosed]) but does not close db, and the caller must not close
// db before the Store. New creates the bucket of [WithBucket] if needed; over
// a read-only db the bucket must exist already and every change fails.
// The options [WithFileMode], [WithLockTimeout] and [WithSync] have no effect,
// since db is already open; the caller's db.NoSync, db.MaxBatchDelay and
// other settings are left alone.
//
// Unless [WithSweepInterval] turns it off (or db is read-only), New starts a
// background goroutine that removes expired entries; Close stops it.
//
// A damaged page met while preparing the bucket fails New with an error
// wrapping [ErrCorrupt], and one met later poisons the Store, as for Open.
// The Store then leaves no lock of bbolt held, so db.Close works, except in
// one case: when the meta pages of db's file become invalid while it is
// open (another process wrote over the file, or cut it short), bbolt panics
// while beginning a transaction and keeps its internal locks, and db.Close
// would block for good. A Store from Open closes its file itself then.
func New(db *bbolt.DB, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("sessionkit/bolt: New: nil *bbolt.DB")
	}
	o := buildOptions(opts)
	if err := o.validate(); err != nil {
		return nil, err
	}
	return newStore(db, nil, o, "new")
}

// newStore returns a Store over db; file is db's file when Open opened it,
// in which case the Store owns db, and closes it if newStore fails. op names
// the call in errors.
func newStore(db *bbolt.DB, file *os.File, o options, op string) (*Store, error) {
	s := &Store{db: db, owned: file != nil, file: file, bucket: []byte(o.bucket), opts: o, stuck: make(chan struct{})}
	var err error
	if db.IsReadOnly() {
		err = s.view(op, func(tx *bbolt.Tx) error {
			if tx.Bucket(s.bucket) == nil {
				return errNoBucket
			}
			return nil
		})
	} else {
		err = s.update(op, func(tx *bbolt.Tx) error {
			_, err := tx.CreateBucketIfNotExists(s.bucket)
			return err
		})
	}
	if err != nil {
		if s.owned {
			_ = s.closeDB()
		}
		if errors.Is(err, ErrCorrupt) {
			return nil, err // it names op
		}
		return nil, fmt.Errorf("sessionkit/bolt: prepare bucket: %w", err)
	}
	if o.sweepInterval > 0 && !db.IsReadOnly() {
		ctx, cancel := context.WithCancel(context.Background())
		s.stopSweep = cancel
		s.sweepDone = make(chan struct{})
		go s.sweepLoop(ctx, o.sweepInterval)
	}
	return s, nil
}

// Close stops the background sweeper and waits for it, waits for calls in
// progress to finish, and, if the Store came from Open, closes the
// database file. After Close, every method returns an error wrapping
// [sessions.ErrClosed], including Close itself. A Store from New leaves its
// db open. The error of closing the file is returned wrapped.
//
// Close of a Store poisoned by a damaged file (see Store) succeeds too and
// releases the file. In one case it does not wait for calls in progress:
// when the meta pages became invalid while the file was open, bbolt keeps
// an internal lock for good, and a call that entered bbolt at that moment
// never returns; Close then closes the file itself (releasing its lock
// and descriptor) and leaves bbolt's read-only memory map of it in place
// until the process exits.
func (s *Store) Close() error {
	if !s.closing.CompareAndSwap(false, true) {
		return errClosed
	}
	if s.stopSweep != nil {
		s.stopSweep()
		select {
		case <-s.sweepDone:
		case <-s.stuck: // the sweeper may be blocked inside bbolt for good
		}
	}
	if !s.isStuck() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
	}
	if s.owned {
		if err := s.closeDB(); err != nil {
			return fmt.Errorf("sessionkit/bolt: close: %w", err)
		}
	}
	return nil
}
