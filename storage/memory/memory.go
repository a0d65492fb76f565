package memory

import (
	"context"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// Errors that need no detail are the sentinels themselves: a prefix would
// only stack ("sessionkit/memory: sessions: not found") and tell nothing
// the caller does not know, since it called this Store.
var (
	errNotFound = sessions.ErrNotFound
	errClosed   = sessions.ErrClosed
)

// Store is an in-process session storage. Create it with New; the zero
// Store is not usable.
//
// A Store implements [sessions.Storage], [sessions.Toucher],
// [sessions.ConditionalWriter], [sessions.ExpiryReader], [sessions.Indexer],
// [sessions.Lister], [sessions.Sweeper] and [io.Closer]. It is safe for
// concurrent use by multiple goroutines: ids are spread over independently
// locked shards, so readers never wait for each other and writers only wait
// for operations on ids of the same shard (and, for a write that files an
// entry under an index key, for a moment on that key's index shard).
//
// Values are copied on the way in and on the way out: nothing a caller does
// with its buffers after a call returns can change what the Store holds.
type Store struct {
	// The fields Read uses are written only by New and Close. The counters
	// that every bounded Write updates sit on a cache line of their own, so
	// that Read does not suffer false sharing.
	seed   maphash.Seed
	opts   options
	closed atomic.Bool
	stop   context.CancelFunc // called by Close to stop the sweeper; nil without one
	done   chan struct{}      // closed by the sweeper when it has stopped
	once   sync.Once          // guards Close

	_ [64]byte

	// entries and bytes track the totals across shards, only when a bound
	// is set.
	entries atomic.Int64
	bytes   atomic.Int64

	_ [64]byte

	shards [shardCount]shard
	// index holds the filing sets of sessions.Indexer; see index.go for
	// how its locks go with the shards'.
	index [shardCount]indexShard
}

// New returns an empty Store configured by opts.
//
// Unless WithSweepInterval(0) is given, New starts a background goroutine
// that removes expired entries; call Close to stop it when the Store is no
// longer needed.
func New(opts ...Option) *Store {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	s := &Store{seed: maphash.MakeSeed(), opts: o}
	for i := range s.shards {
		s.shards[i].init()
		s.index[i].m = make(map[string]map[string]struct{})
	}
	if o.sweepInterval > 0 {
		// The stop and done are made here, not in the goroutine: a Close that
		// runs before the goroutine is scheduled must still find them (the
		// race alexedwards/scs had).
		ctx, stop := context.WithCancel(context.Background())
		s.stop = stop
		s.done = make(chan struct{})
		go s.sweepLoop(ctx, o.sweepInterval)
	}
	return s
}

func (s *Store) shardIndex(id string) int {
	return int(maphash.String(s.seed, id) & (shardCount - 1))
}

func (s *Store) shard(id string) *shard { return &s.shards[s.shardIndex(id)] }

func (s *Store) now() int64 { return s.opts.now().UnixNano() }

func (s *Store) bounded() bool { return s.opts.maxEntries > 0 || s.opts.maxBytes > 0 }

// The range of instants that Unix nanoseconds in an int64 can hold (years
// 1678 to 2262).
var (
	minNanos = time.Unix(0, 1)
	maxNanos = time.Unix(0, never)
)

// expiresNanos converts an expiry to the stored form: 0 for the zero Time
// (never), otherwise Unix nanoseconds clamped to [1, never], so that no real
// instant reads as "never" and a far-future expiry cannot overflow into the
// past.
func expiresNanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minNanos):
		return 1
	case t.After(maxNanos):
		return never
	}
	return t.UnixNano()
}

// checkCall runs the checks every id-taking method starts with, in the
// order the contract asks for: the id before anything else, then the state
// of the Store and of ctx.
func (s *Store) checkCall(ctx context.Context, op, id string) error {
	if err := sessions.CheckID(id); err != nil {
		return err // it says all there is: no prefix to stack on it
	}
	if s.closed.Load() {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessionkit/memory: %s: %w", op, err)
	}
	return nil
}

// Write implements [sessions.Storage]. What is particular to this Store:
// write runs against an in-memory buffer, whose bytes are copied in whole
// at the end, so nothing the caller does with its buffers later changes the
// entry. With [WithMaxBytes], a value longer than the bound fails with an
// error wrapping [sessions.ErrTooLarge]; with either bound, storing may
// evict other entries (see the package documentation for the order).
func (s *Store) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.checkCall(ctx, "write", id); err != nil {
		return err
	}
	// The store keeps an exact-size copy: callers may reuse whatever
	// buffers they passed to the writer.
	var data []byte
	if err := sessions.WriteBuffered(write, func(b []byte) error {
		data = append(make([]byte, 0, len(b)), b...)
		return nil
	}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessionkit/memory: write: %w", err)
	}
	if s.opts.maxBytes > 0 && int64(len(data)) > s.opts.maxBytes {
		return fmt.Errorf("sessionkit/memory: write: value of %d bytes exceeds the bound of %d bytes: %w",
			len(data), s.opts.maxBytes, sessions.ErrTooLarge)
	}
	exp := expiresNanos(expires)
	home := s.shardIndex(id)
	sh := &s.shards[home]
	sh.mu.Lock()
	if s.closed.Load() {
		sh.mu.Unlock()
		return errClosed
	}
	if exp != 0 && exp <= s.now() {
		s.removeLocked(sh, id)
		sh.mu.Unlock()
		return nil
	}
	e, dEntries, dBytes := sh.put(id, data, exp)
	s.refileLocked(e, "") // a Write files under no index key
	if s.bounded() {
		s.entries.Add(dEntries)
		s.bytes.Add(dBytes)
	}
	sh.mu.Unlock()
	if s.bounded() {
		s.evict(home, e)
	}
	return nil
}

// Read implements [sessions.Storage]. What is particular to this Store:
// the reader yields a copy of the stored bytes, so a Write or Invalidate
// that runs concurrently does not change what it yields.
func (s *Store) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	data, _, err := s.lookup(ctx, "read", id)
	if err != nil {
		return err
	}
	return read(&reader{data: data})
}

// ReadWithExpiry is Read that also passes read the expiry of the entry (the
// zero Time if it never expires). It has the same errors as Read.
//
// It lets a cache in front of the Store (package
// github.com/sessionkit/sessionkit/storage/cache) keep values it loads
// without serving them past their expiry.
func (s *Store) ReadWithExpiry(ctx context.Context, id string, read func(r io.Reader, expires time.Time) error) error {
	data, exp, err := s.lookup(ctx, "read", id)
	if err != nil {
		return err
	}
	var t time.Time
	if exp != 0 {
		t = time.Unix(0, exp)
	}
	return read(&reader{data: data}, t)
}

// lookup returns the live value and expiry of id. The slice is immutable,
// so it is handed out after the lock is released.
func (s *Store) lookup(ctx context.Context, op, id string) ([]byte, int64, error) {
	if err := s.checkCall(ctx, op, id); err != nil {
		return nil, 0, err
	}
	sh := s.shard(id)
	sh.mu.RLock()
	e := sh.m[id]
	var (
		data []byte
		exp  int64
	)
	if e != nil {
		data, exp = e.data, e.expires
	}
	sh.mu.RUnlock()
	// The clock is read only for entries that can expire: it is the most
	// expensive step of a Read.
	if e == nil || exp != 0 && exp <= s.now() {
		return nil, 0, errNotFound
	}
	return data, exp, nil
}

// Invalidate implements [sessions.Storage]. It frees the entry's memory at
// once.
func (s *Store) Invalidate(ctx context.Context, id string) error {
	if err := s.checkCall(ctx, "invalidate", id); err != nil {
		return err
	}
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.closed.Load() {
		return errClosed
	}
	s.removeLocked(sh, id)
	return nil
}

// removeLocked removes id from sh, which the caller has locked for writing.
func (s *Store) removeLocked(sh *shard, id string) {
	e := sh.m[id]
	if e == nil {
		return
	}
	s.unfileLocked(e)
	dBytes := sh.remove(e)
	if s.bounded() {
		s.entries.Add(-1)
		s.bytes.Add(dBytes)
	}
}

// Touch implements [sessions.Toucher]: it moves the expiry under the
// shard's lock, without copying the content.
func (s *Store) Touch(ctx context.Context, id string, expires time.Time) error {
	if err := s.checkCall(ctx, "touch", id); err != nil {
		return err
	}
	exp := expiresNanos(expires)
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.closed.Load() {
		return errClosed
	}
	now := s.now()
	e := sh.m[id]
	if e == nil {
		return errNotFound
	}
	if !e.liveAt(now) {
		s.removeLocked(sh, id) // it is garbage; we hold the lock anyway
		return errNotFound
	}
	if exp != 0 && exp <= now {
		s.removeLocked(sh, id)
		return nil
	}
	e.expires = exp
	sh.fix(e)
	return nil
}

// List yields the id of every live entry, each once, with a nil error; it
// never yields an expired id. An entry written or removed while the
// iteration runs may or may not be yielded.
//
// The iteration holds no lock while it yields, so the loop body may call
// the Store. It yields ("", err) and stops if ctx is done (err wraps
// ctx.Err()) or the Store is closed (err wraps [sessions.ErrClosed]).
func (s *Store) List(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		var ids []string
		for i := range s.shards {
			if s.closed.Load() {
				yield("", errClosed)
				return
			}
			if err := ctx.Err(); err != nil {
				yield("", fmt.Errorf("sessionkit/memory: list: %w", err))
				return
			}
			sh := &s.shards[i]
			now := s.now()
			ids = ids[:0]
			sh.mu.RLock()
			for id, e := range sh.m {
				if e.liveAt(now) {
					ids = append(ids, id)
				}
			}
			sh.mu.RUnlock()
			for _, id := range ids {
				if !yield(id, nil) {
					return
				}
			}
		}
	}
}

// DeleteExpired removes every entry whose expiry has passed and returns how
// many it removed; live entries are kept. The background sweeper (see
// [WithSweepInterval]) calls it periodically; calling it by hand is useful
// when the sweeper is disabled.
//
// It removes at most 128 entries per hold of a shard's lock and, after each
// such batch, rests three times as long as the batch took, so that a sweep
// of many expired entries takes at most a quarter of a core and the
// requests around it keep their latency; a sweep lasts about four times
// its own work.
//
// It checks ctx between batches and, when ctx is done, returns the number
// removed so far with an error wrapping ctx.Err(). After Close it returns
// the number removed so far and an error wrapping [sessions.ErrClosed].
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	now := s.now()
	n := 0
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("sessionkit/memory: delete expired: %w", err)
		}
		sh := &s.shards[i]
		for more := true; more; {
			if s.closed.Load() {
				return n, errClosed
			}
			t0 := time.Now()
			var removed int
			removed, more = s.sweepSome(sh, now)
			n += removed
			if removed == 0 {
				break
			}
			busy := time.Since(t0)
			if sweptBatch != nil {
				busy = sweptBatch(sh, busy)
			}
			if err := rest(ctx, sweepRestFactor*busy); err != nil {
				return n, fmt.Errorf("sessionkit/memory: delete expired: %w", err)
			}
		}
	}
	return n, nil
}

// sweepBatch bounds the entries one hold of a shard's lock removes. A sweep
// of many expired entries then delays a request of that shard by one
// batch, not by the whole shard: at a million sessions with half of them
// expired, one hold removed 7,812 entries in about 10 ms, and requests'
// p99 during the sweep rose from 13 µs to 10 ms (sessionbench scale).
const sweepBatch = 128

// sweepRestFactor is how many times a batch's length a sweep rests after
// it. Without the rests a sweep is a goroutine that runs without pause
// for as long as Go's scheduler lets it (up to a 10 ms time slice) while
// the requests queued on its processor wait: over 100,000 sessions,
// requests' p99 during a sweep was 3.1 times what it was before it
// (sessionbench scale).
const sweepRestFactor = 3

// rest waits for d, or until ctx is done, and returns ctx.Err() then.
func rest(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sweepSome removes up to sweepBatch entries of sh that expired by now, and
// reports whether more may be left.
func (s *Store) sweepSome(sh *shard, now int64) (int, bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for i := range sweepBatch {
		if len(sh.heap) == 0 || sh.heap[0].liveAt(now) {
			return i, false
		}
		s.removeLocked(sh, sh.heap[0].id)
	}
	return sweepBatch, true
}

// sweptBatch, when set by a test, runs after each batch of a sweep, with
// no lock held, and returns the batch's length the rest is based on (busy
// as measured, or a stand-in).
var sweptBatch func(sh *shard, busy time.Duration) time.Duration

// sweepLoop runs DeleteExpired every interval until ctx, which Close
// cancels, is done; that also ends a sweep under way at its next batch.
func (s *Store) sweepLoop(ctx context.Context, every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Its only errors are Close's and the cancellation that
			// comes with it.
			_, _ = s.DeleteExpired(ctx)
		}
	}
}

// Close stops the background sweeper, waiting for it to finish, and drops
// every entry. After Close every method returns an error wrapping
// [sessions.ErrClosed], including Close itself; calls that run concurrently
// with Close may see the Store open or closed.
func (s *Store) Close() error {
	first := false
	s.once.Do(func() {
		first = true
		s.closed.Store(true)
		if s.stop != nil {
			s.stop()
			<-s.done
		}
		for i := range s.shards {
			sh := &s.shards[i]
			sh.mu.Lock()
			sh.m, sh.heap, sh.bytes = nil, nil, 0
			sh.publish()
			sh.mu.Unlock()
		}
		// No write can file anything now: each one that took its shard's
		// lock before the loop above has finished, and later ones see
		// closed under that lock.
		for i := range s.index {
			is := &s.index[i]
			is.mu.Lock()
			is.m = make(map[string]map[string]struct{})
			is.mu.Unlock()
		}
		s.entries.Store(0)
		s.bytes.Store(0)
	})
	if !first {
		return errClosed
	}
	return nil
}

// evict removes entries until the Store is within its bounds again. It is
// called after a Write has stored keep in shard home; keep is never
// removed, because a Write that returned nil must be readable.
//
// The rule: the entry with the earliest expiry in the whole Store goes
// first (so expired entries go before live ones, and never-expiring entries
// go last); ties within a shard go to the least recently written. Shards
// publish their earliest expiry in an atomic so the choice needs no global
// lock. The home shard is looked at under its lock instead, because its
// published minimum may be keep itself. Under concurrent writes a shard's
// minimum can change between the look and the eviction, so the order is
// then approximate, and two Writes racing may each evict an entry when one
// would have been enough.
func (s *Store) evict(home int, keep *entry) {
	var skip uint64 // shards found to have nothing to give
	for s.overBound() {
		best, bestKey := -1, int64(0)
		for i := range shardCount {
			j := (home + i) & (shardCount - 1)
			if skip&(1<<j) != 0 {
				continue
			}
			var k int64
			if j == home {
				sh := &s.shards[j]
				sh.mu.RLock()
				v := sh.victim(keep)
				if v != nil {
					k = v.key()
				}
				sh.mu.RUnlock()
				if v == nil {
					skip |= 1 << j
					continue
				}
			} else {
				k = s.shards[j].minKey.Load()
			}
			if best < 0 || k < bestKey {
				best, bestKey = j, k
			}
		}
		if best < 0 {
			return
		}
		sh := &s.shards[best]
		sh.mu.Lock()
		if s.closed.Load() {
			sh.mu.Unlock()
			return
		}
		if v := sh.victim(keep); v != nil {
			s.removeLocked(sh, v.id)
		} else {
			skip |= 1 << best
		}
		sh.mu.Unlock()
	}
}

func (s *Store) overBound() bool {
	return s.opts.maxEntries > 0 && s.entries.Load() > s.opts.maxEntries ||
		s.opts.maxBytes > 0 && s.bytes.Load() > s.opts.maxBytes
}
