package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Errors returned as they are, so that a busy store does not allocate one
// per miss. None of them names an id: ids are secrets.
var (
	errNotFound = sessions.ErrNotFound // the sentinel itself: a prefix would only stack
	errClosed   = sessions.ErrClosed
	errCorrupt  = fmt.Errorf("%w: value shorter than its header", ErrCorrupt)
	errNoBucket = errors.New("sessionkit/bolt: the bucket of the store is missing from the database")
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

func buildOptions(opts []Option) options {
	o := defaultOptions()
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

func (o options) validate() error {
	if o.bucket == "" {
		return errors.New("sessionkit/bolt: empty bucket name")
	}
	if len(o.bucket) > bbolt.MaxKeySize {
		return fmt.Errorf("sessionkit/bolt: bucket name longer than %d bytes", bbolt.MaxKeySize)
	}
	if o.sweepBatch < 1 {
		return fmt.Errorf("sessionkit/bolt: WithSweepBatch: size %d is less than 1", o.sweepBatch)
	}
	return nil
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

// Write implements [sessions.Storage]. What is particular to this Store:
// write runs into a memory buffer before any transaction opens, and the
// buffer is committed in one write transaction that concurrent Writes,
// Touches and Invalidates share (group commit), so that parallel callers
// share the cost of an fsync. Write returns once that transaction is
// committed and, unless [WithSync](false) was given, synced. Content beyond
// bbolt's value limit (about 2 GiB) fails with an error wrapping
// [sessions.ErrTooLarge]. A ctx that ends before the change enters a
// transaction changes nothing; once it has entered one, Write waits for the
// commit. bbolt errors are wrapped; a damaged page of the file fails Write,
// and every change committed with it, with an error wrapping [ErrCorrupt]
// and poisons the Store (see Store).
func (s *Store) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := sessions.CheckID(id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closing.Load() {
		return errClosed
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if err := writeEntry(buf, "", write); err != nil {
		return err
	}
	if buf.Len() > bbolt.MaxValueSize {
		return fmt.Errorf("sessionkit/bolt: write: %d bytes of content, bbolt stores at most %d: %w", buf.Len()-headerSize, bbolt.MaxValueSize-headerSize, sessions.ErrTooLarge)
	}
	nanos, live := expiryNanos(expires, time.Now())
	var o *op
	if live {
		putHeader(buf.Bytes(), nanos)
		o = getOp(ctx, opPut, []byte(id))
		o.value = buf.Bytes()
	} else {
		o = getOp(ctx, opDelete, []byte(id))
	}
	defer putOp(o)
	release, err := s.acquire()
	if err != nil {
		return err
	}
	defer release()
	return s.commit(o)
}

// Read implements [sessions.Storage]. What is particular to this Store: the
// content is copied out in a read transaction that ends before read runs,
// so a slow read function holds no bbolt transaction (which would stall the
// file's growth, and with it every writer), and read may call back into the
// Store. A value that is not a Store entry fails with [ErrCorrupt]; bbolt
// errors are wrapped. A damaged page of the file also fails with an error
// wrapping ErrCorrupt, and poisons the Store (see Store).
func (s *Store) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	if err := sessions.CheckID(id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	release, err := s.acquire()
	if err != nil {
		return err
	}
	buf := getBuffer()
	defer putBuffer(buf)
	err = s.view("read", func(tx *bbolt.Tx) error {
		b := tx.Bucket(s.bucket)
		if b == nil {
			return errNoBucket
		}
		// Get returns nil for a nested bucket too: not a session.
		v := b.Get([]byte(id))
		if v == nil {
			return errNotFound
		}
		nanos, content, err := decode(v)
		if err != nil {
			return errCorrupt
		}
		if expired(nanos, time.Now().UnixNano()) {
			return errNotFound
		}
		buf.Write(content)
		return nil
	})
	release()
	if err != nil {
		return err
	}
	return read(bytes.NewReader(buf.Bytes()))
}

// Invalidate implements [sessions.Storage]. Like Write, it shares its commit
// with concurrent changes and returns once the removal is committed. Its
// errors are Write's.
func (s *Store) Invalidate(ctx context.Context, id string) error {
	if err := sessions.CheckID(id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	release, err := s.acquire()
	if err != nil {
		return err
	}
	defer release()
	o := getOp(ctx, opDelete, []byte(id))
	defer putOp(o)
	return s.commit(o)
}

// Touch implements [sessions.Toucher] by rewriting the entry's 8-byte
// expiry header; the content is kept. Like Write, it shares its commit with
// concurrent changes. A value that is not a Store entry fails with
// [ErrCorrupt]; its other errors are Write's.
func (s *Store) Touch(ctx context.Context, id string, expires time.Time) error {
	if err := sessions.CheckID(id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	release, err := s.acquire()
	if err != nil {
		return err
	}
	defer release()
	o := getOp(ctx, opTouch, []byte(id))
	defer putOp(o)
	nanos, live := expiryNanos(expires, time.Now())
	o.nanos, o.drop = nanos, !live
	return s.commit(o)
}

// listChunk is how many keys one read transaction of List visits at most.
const listChunk = 512

// List yields the id of every live entry, each once and in byte order,
// with a nil error; it never yields an expired id.
//
// List reads the bucket in chunks of a few hundred keys, each in its own
// short read transaction, and yields a chunk only after its transaction
// has ended. So a slow consumer holds no bbolt transaction (which would
// stall the file's growth and every writer), and the consumer may call the
// Store, even Close. The price is that List is not a snapshot: an entry
// written, removed or expiring while the iteration runs may or may not be
// yielded, though no id is ever yielded twice.
//
// A failure is yielded as ("", err) and ends the iteration: ctx.Err() when
// ctx is done between chunks, an error wrapping [sessions.ErrClosed] when the
// Store is closed, an error wrapping [ErrCorrupt] when a page of the file is
// damaged (which poisons the Store, see Store), or a wrapped bbolt error.
func (s *Store) List(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		var after []byte // the last key visited, nil before the first chunk
		ids := make([]string, 0, 64)
		for {
			if err := ctx.Err(); err != nil {
				yield("", err)
				return
			}
			release, err := s.acquire()
			if err != nil {
				yield("", err)
				return
			}
			ids = ids[:0]
			more := false
			err = s.view("list", func(tx *bbolt.Tx) error {
				b := tx.Bucket(s.bucket)
				if b == nil {
					return errNoBucket
				}
				c := b.Cursor()
				k, v := seekAfter(c, after)
				now := time.Now().UnixNano()
				for n := 0; k != nil; k, v = c.Next() {
					if n == listChunk {
						more = true
						break
					}
					n++
					after = append(after[:0], k...)
					if v == nil || sessions.CheckID(string(k)) != nil {
						continue // a nested bucket or a foreign key
					}
					if nanos, _, err := decode(v); err != nil || expired(nanos, now) {
						continue
					}
					ids = append(ids, string(k))
				}
				return nil
			})
			release()
			if err != nil {
				if !errors.Is(err, ErrCorrupt) { // which names the call already
					err = fmt.Errorf("sessionkit/bolt: list: %w", err)
				}
				yield("", err)
				return
			}
			for _, id := range ids {
				if !yield(id, nil) {
					return
				}
			}
			if !more {
				return
			}
		}
	}
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

// Interface checks.
var (
	_ sessions.Storage = (*Store)(nil)
	_ sessions.Toucher = (*Store)(nil)
	_ sessions.Lister  = (*Store)(nil)
	_ sessions.Sweeper = (*Store)(nil)
	_ io.Closer        = (*Store)(nil)
)
