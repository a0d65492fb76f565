package cache

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// Store is a [sessions.Storage] with a bounded in-memory cache in front of a
// delegate Storage. New returns one.
//
// The dynamic type of a Store also implements [sessions.Toucher],
// [sessions.Lister], [sessions.Sweeper], [sessions.ConditionalWriter],
// [sessions.ExpiryReader] and [sessions.Indexer] exactly when the delegate
// does (it is built by
// [sessions.Compose]), so a type assertion on it tells the truth about what
// the delegate can do:
//
//   - Touch forwards to the delegate and then moves the cached expiry (or
//     drops the entry if the delegate failed).
//   - Create and Replace forward to the delegate; when it succeeds the
//     cache keeps what was written with its expiry, and when it refuses (or
//     fails) the cached entry is dropped.
//   - ReadWithExpiry answers from the cache like Read, with the expiry the
//     cache knows, which is exact because the delegate reports it.
//   - List forwards to the delegate: the cache holds only part of the ids.
//   - DeleteExpired forwards to the delegate, returning its count, and also
//     drops the cache's own expired and idle entries.
//   - CreateIndexed and ReplaceIndexed ([sessions.Indexer]) forward to the
//     delegate and update or drop the cached entry as Create and Replace
//     do; ReadIndex forwards to the delegate, since the cache holds no
//     index (see the package documentation).
//
// io.Closer is the cache's own and always present. StatsOf reports the
// cache's counters.
//
// A Store is safe for concurrent use by multiple goroutines.
type Store interface {
	sessions.Storage
	io.Closer
}

// StatsOf returns the counters of the cache s, which New returned, and true;
// for any other storage it returns the zero Stats and false. It may be
// called at any time, also after Close.
func StatsOf(s sessions.Storage) (Stats, bool) {
	for s != nil {
		switch v := s.(type) {
		case *store:
			return v.Stats(), true
		case interface{ Unwrap() sessions.Storage }:
			s = v.Unwrap()
		default:
			return Stats{}, false
		}
	}
	return Stats{}, false
}

// Stats are counters for tests and operators. Each field counts since New,
// except Entries and Bytes, which describe the cache now.
type Stats struct {
	// Hits counts reads answered from the cache, NegativeHits among them
	// those answered with a remembered not-found (see [WithNegativeTTL]).
	Hits, NegativeHits uint64
	// Misses counts reads the cache could not answer. Loads counts the
	// delegate reads they caused: concurrent misses on one id share a
	// load, so Loads can be lower than Misses.
	Misses, Loads uint64
	// Evictions counts entries removed to stay within [WithMaxEntries] or
	// [WithMaxBytes].
	Evictions uint64
	// Expirations counts entries dropped because they expired or stayed
	// unused past [WithIdleTimeout].
	Expirations uint64
	// Uncached counts values that were stored or loaded but too large for
	// [WithMaxBytes], so they were passed through without being cached.
	Uncached uint64
	// Entries is the number of entries cached, negative ones included, and
	// Bytes the total length of their values.
	Entries int
	Bytes   int64
}

// ExpiryReader is sessions.ExpiryReader, which it was before it moved into
// package sessions.
//
// Deprecated: use sessions.ExpiryReader.
type ExpiryReader = sessions.ExpiryReader

// Errors that need no detail are built once so that the paths that return
// them do not allocate.
var (
	errClosed = sessions.ErrClosed
	// errNegative is returned by a read answered by a negative entry.
	errNegative = fmt.Errorf("sessionkit/cache: a remembered miss: %w", sessions.ErrNotFound)
	// errLoadPanicked is what callers sharing a load see when the
	// delegate panicked during it; the panic itself goes up the stack of
	// the caller that ran the load.
	errLoadPanicked = errors.New("sessionkit/cache: delegate panicked during a shared read")
)

// store implements Store; New wraps it in a type with the delegate's
// optional capabilities.
type store struct {
	// The fields a hit uses are written only by New and Close. The counters
	// that every insertion updates sit on a cache line of their own, so
	// that hits do not suffer false sharing.
	delegate sessions.Storage
	expiry   sessions.ExpiryReader // nil unless the delegate implements it
	seed     maphash.Seed
	opts     options
	closed   atomic.Bool
	once     sync.Once // guards Close

	_ [64]byte

	entries atomic.Int64
	bytes   atomic.Int64

	_ [64]byte

	shards [shardCount]shard
}

// New returns an empty cache in front of delegate, configured by opts.
//
// The returned Store implements [sessions.Toucher], [sessions.Lister],
// [sessions.Sweeper], [sessions.ConditionalWriter], [sessions.ExpiryReader]
// and [sessions.Indexer] exactly when delegate does; see Store. The cache starts
// no goroutines. delegate must not be nil.
func New(delegate sessions.Storage, opts ...Option) Store {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	s := &store{delegate: delegate, seed: maphash.MakeSeed(), opts: o}
	s.expiry, _ = delegate.(sessions.ExpiryReader)
	for i := range s.shards {
		s.shards[i].init()
	}
	return s.withCapabilities()
}

func (s *store) shardIndex(id string) int {
	return int(maphash.String(s.seed, id) & (shardCount - 1))
}

func (s *store) shard(id string) *shard { return &s.shards[s.shardIndex(id)] }

func (s *store) now() int64 { return s.opts.now().UnixNano() }

// The range of instants that Unix nanoseconds in an int64 can hold (years
// 1678 to 2262).
var (
	minNanos = time.Unix(0, 1)
	maxNanos = time.Unix(0, empty)
)

// expiresNanos converts an expiry to the cached form: 0 for the zero Time
// (never), otherwise Unix nanoseconds clamped to [1, MaxInt64].
func expiresNanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minNanos):
		return 1
	case t.After(maxNanos):
		return empty
	}
	return t.UnixNano()
}

// fresh reports whether e may be served at now: neither expired (the
// instant of expiry counts as expired) nor idle for the idle timeout.
func (s *store) fresh(e *entry, now int64) bool {
	if e.expires != 0 && now >= e.expires {
		return false
	}
	return s.opts.idleTimeout <= 0 || now-e.access < int64(s.opts.idleTimeout)
}

// checkCall runs the checks every id-taking method starts with: the id
// before anything else, then the state of the cache and of ctx.
func (s *store) checkCall(ctx context.Context, op, id string) error {
	if err := sessions.CheckID(id); err != nil {
		return err // it says all there is: no prefix to stack on it
	}
	if s.closed.Load() {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessionkit/cache: %s: %w", op, err)
	}
	return nil
}

// Write stores the value in the delegate first and, only if the delegate
// succeeds, caches it with its expiry. If the delegate fails, Write returns
// the delegate's error unchanged and drops any cached value of id, since
// the delegate's state is then unknown; if the write function fails,
// Write returns its error, as the delegate does. A value larger than
// [WithMaxBytes] is written to the delegate but not cached.
func (s *store) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.writeWith(ctx, "write", id, expires, write, s.delegate.Write)
}

// writeWith is Write through op, the delegate's Write, Create or Replace.
func (s *store) writeWith(ctx context.Context, name, id string, expires time.Time, write func(io.Writer) error, op func(context.Context, string, time.Time, func(io.Writer) error) error) error {
	if err := s.checkCall(ctx, name, id); err != nil {
		return err
	}
	sh := s.shard(id)
	c := capture{limit: s.opts.maxBytes}
	defer c.release()
	exp := expiresNanos(expires)
	return s.mutate(sh, id, func() error {
		return op(ctx, id, expires, c.wrap(write))
	}, func(err error, now int64) bool {
		if c.tooBig && err == nil {
			sh.uncached++
		}
		if err != nil || c.value == nil || exp != 0 && exp <= now {
			return false
		}
		s.putLocked(sh, id, c.value, false, exp, now)
		return true
	})
}

// Read answers from the cache when it holds a fresh entry for id, and
// otherwise reads the delegate; concurrent misses on one id share a single
// delegate read. The reader passed to read is valid only during the call.
//
// Read returns an error wrapping [sessions.ErrNotFound] if id is absent or
// expired (from the delegate, or from a negative entry), and read's error
// unchanged if read fails. Errors of the delegate are returned unchanged;
// a caller that shared another caller's delegate read gets that read's
// error, except that a cancellation of the other caller's context makes it
// try again rather than fail. If ctx ends while Read waits for a shared
// read, Read returns an error wrapping ctx.Err().
func (s *store) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	return s.read(ctx, "read", id, func(r io.Reader, _ int64) error { return read(r) })
}

// read is Read that also passes read the entry's expiry in the cached form
// (0: never). The expiry is exact only when the delegate is an
// ExpiryReader: a value is then cached only with the expiry it was written,
// touched or loaded with.
func (s *store) read(ctx context.Context, op, id string, read func(r io.Reader, expires int64) error) error {
	if err := s.checkCall(ctx, op, id); err != nil {
		return err
	}
	sh := s.shard(id)
	counted := false
	for {
		now := s.now()
		sh.mu.Lock()
		if e := sh.m[id]; e != nil {
			if s.fresh(e, now) {
				sh.use(e, now)
				sh.hits++
				data, negative, exp := e.data, e.negative, e.expires
				if negative {
					sh.negativeHits++
				}
				sh.mu.Unlock()
				if negative {
					return errNegative
				}
				return read(&reader{data: data}, exp)
			}
			s.removeLocked(sh, e)
			sh.expirations++
		}
		if !counted {
			sh.misses++
			counted = true
		}
		p := sh.pending[id]
		if p != nil && p.load != nil {
			f := p.load
			sh.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return fmt.Errorf("sessionkit/cache: read: %w", ctx.Err())
			}
			if f.ctxDone && f.err != nil && ctx.Err() == nil {
				continue // the loader's context ended, not ours
			}
			return deliver(f, read)
		}
		f := &flight{done: make(chan struct{})}
		if p == nil {
			p = &pending{}
			sh.pending[strings.Clone(id)] = p // see shard.begin
		}
		p.load = f
		sh.loads++
		sh.mu.Unlock()
		s.load(ctx, sh, id, p, f)
		return deliver(f, read)
	}
}

func deliver(f *flight, read func(io.Reader, int64) error) error {
	if f.err != nil {
		return f.err
	}
	return read(&reader{data: f.data}, f.expires)
}

// load runs the delegate read for f, installs the result unless a mutation
// made it stale, and releases the callers waiting for it.
func (s *store) load(ctx context.Context, sh *shard, id string, p *pending, f *flight) {
	completed := false
	installed := false
	defer func() {
		if !completed {
			f.err = errLoadPanicked
		}
		now := s.now()
		sh.mu.Lock()
		if completed && !f.stale && !s.closed.Load() {
			installed = s.installLoaded(sh, id, f, now)
		}
		if p.load == f {
			p.load = nil
		}
		sh.release(id, p)
		sh.mu.Unlock()
		close(f.done)
		if installed {
			s.evict()
		}
	}()
	if s.expiry != nil {
		f.err = s.expiry.ReadWithExpiry(ctx, id, func(r io.Reader, t time.Time) error {
			var err error
			f.data, err = readAll(r)
			f.expires, f.known = expiresNanos(t), true
			return err
		})
	} else {
		f.err = s.delegate.Read(ctx, id, func(r io.Reader) error {
			var err error
			f.data, err = readAll(r)
			return err
		})
	}
	f.ctxDone = ctx.Err() != nil
	completed = true
}

// installLoaded caches the result of a load, if it may be cached: a value
// whose expiry the delegate reported and that fits, or a not-found when
// negative caching is on. The caller holds the shard lock.
func (s *store) installLoaded(sh *shard, id string, f *flight, now int64) bool {
	switch {
	case f.err == nil:
		if !f.known || f.expires != 0 && f.expires <= now {
			return false
		}
		if s.opts.maxBytes > 0 && int64(len(f.data)) > s.opts.maxBytes {
			sh.uncached++
			return false
		}
		s.putLocked(sh, id, f.data, false, f.expires, now)
		return true
	case errors.Is(f.err, sessions.ErrNotFound) && s.opts.negativeTTL > 0 && !f.ctxDone:
		s.putLocked(sh, id, nil, true, now+int64(s.opts.negativeTTL), now)
		return true
	}
	return false
}

// Invalidate removes id from the delegate, then from the cache. The cached
// value is dropped even if the delegate fails, whose error Invalidate then
// returns unchanged. After Invalidate returns, no Read returns the removed
// content: a delegate read that ran during the Invalidate is not left in
// the cache, and callers that arrive later do not share it.
func (s *store) Invalidate(ctx context.Context, id string) error {
	if err := s.checkCall(ctx, "invalidate", id); err != nil {
		return err
	}
	return s.mutate(s.shard(id), id, func() error {
		return s.delegate.Invalidate(ctx, id)
	}, func(error, int64) bool { return false })
}

// touch forwards Touch to the delegate, then moves the cached expiry; see
// Store.
func (s *store) touch(ctx context.Context, t sessions.Toucher, id string, expires time.Time) error {
	if err := s.checkCall(ctx, "touch", id); err != nil {
		return err
	}
	sh := s.shard(id)
	exp := expiresNanos(expires)
	return s.mutate(sh, id, func() error {
		return t.Touch(ctx, id, expires)
	}, func(err error, now int64) bool {
		e := sh.m[id]
		if err != nil || e == nil || e.negative || exp != 0 && exp <= now {
			return false
		}
		e.expires = exp
		sh.use(e, now)
		return true
	})
}

// mutate runs op, a Write, Invalidate or Touch of id on the delegate, and
// then updates the cache through end and apply; it returns op's error. If
// op panics, the entry for id is dropped before the panic goes on.
func (s *store) mutate(sh *shard, id string, op func() error, apply func(err error, now int64) bool) error {
	sh.mu.Lock()
	p := sh.begin(id)
	sh.mu.Unlock()
	finished := false
	defer func() {
		if !finished {
			s.end(sh, id, p, nil)
		}
	}()
	err := op()
	finished = true
	if s.end(sh, id, p, func(now int64) bool { return apply(err, now) }) {
		s.evict()
	}
	return err
}

// end finishes a mutation begun with begin. Unless the mutation overlapped
// another one on the same id or the cache was closed, it calls apply (if
// not nil) with the lock held to update the cache; when apply returns
// false, or is not called, the entry for id is dropped. It reports whether
// apply kept or installed an entry.
func (s *store) end(sh *shard, id string, p *pending, apply func(now int64) bool) bool {
	now := s.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p.mutators--
	// A load that started during the mutation may have read the delegate
	// before the mutation took effect; no later miss may share it.
	p.detachLoad()
	applied := apply != nil && !p.overlapped && !s.closed.Load() && apply(now)
	if !applied {
		if e := sh.m[id]; e != nil {
			s.removeLocked(sh, e)
		}
	}
	if p.mutators == 0 {
		p.overlapped = false
	}
	sh.release(id, p)
	return applied
}

// putLocked caches a value or a negative entry; the caller holds sh's lock
// and calls evict after releasing it.
func (s *store) putLocked(sh *shard, id string, data []byte, negative bool, expires, now int64) {
	dEntries, dBytes := sh.put(id, data, negative, expires, now)
	s.entries.Add(dEntries)
	s.bytes.Add(dBytes)
	s.trimIdleLocked(sh, now)
}

func (s *store) removeLocked(sh *shard, e *entry) {
	dEntries, dBytes := sh.remove(e)
	s.entries.Add(dEntries)
	s.bytes.Add(dBytes)
}

// trimIdleLocked drops the idle entries at the cold end of sh's LRU list.
// The list is in access order, so this stops at the first entry that is
// not idle: each insertion pays only for what it removes.
func (s *store) trimIdleLocked(sh *shard, now int64) {
	if s.opts.idleTimeout <= 0 {
		return
	}
	for e := sh.lru.prev; e != &sh.lru && now-e.access >= int64(s.opts.idleTimeout); e = sh.lru.prev {
		s.removeLocked(sh, e)
		sh.expirations++
	}
}

func (s *store) overBound() bool {
	return s.opts.maxEntries > 0 && s.entries.Load() > s.opts.maxEntries ||
		s.opts.maxBytes > 0 && s.bytes.Load() > s.opts.maxBytes
}

// evict removes least recently used entries until the cache is within its
// bounds. Each shard publishes the access time of its least recently used
// entry, so the globally least recently used entry is found without a
// global lock; under concurrent use a shard's tail can change between the
// look and the eviction, which makes the order approximate.
func (s *store) evict() {
	for s.overBound() {
		best, bestTail := -1, int64(empty)
		for i := range s.shards {
			if t := s.shards[i].tail.Load(); t < bestTail {
				best, bestTail = i, t
			}
		}
		if best < 0 {
			return
		}
		sh := &s.shards[best]
		sh.mu.Lock()
		if e := sh.lru.prev; e != &sh.lru {
			s.removeLocked(sh, e)
			sh.evictions++
		}
		sh.mu.Unlock()
	}
}

// list forwards List to the delegate; see Store.
func (s *store) list(ctx context.Context, l sessions.Lister) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if s.closed.Load() {
			yield("", errClosed)
			return
		}
		for id, err := range l.List(ctx) {
			if !yield(id, err) || err != nil {
				return
			}
		}
	}
}

// deleteExpired forwards DeleteExpired to the delegate and drops the
// cache's own expired and idle entries; see Store.
func (s *store) deleteExpired(ctx context.Context, sw sessions.Sweeper) (int, error) {
	if s.closed.Load() {
		return 0, errClosed
	}
	n, err := sw.DeleteExpired(ctx)
	for i := range s.shards {
		sh := &s.shards[i]
		now := s.now()
		sh.mu.Lock()
		for _, e := range sh.m {
			if !s.fresh(e, now) {
				s.removeLocked(sh, e)
				sh.expirations++
			}
		}
		sh.mu.Unlock()
	}
	return n, err
}

// Close drops every cached entry and, with WithCloseDelegate(true), closes
// the delegate if it implements io.Closer, returning its error. After Close
// every method returns an error wrapping [sessions.ErrClosed], including
// Close itself; calls that run concurrently with Close may see the cache
// open or closed.
func (s *store) Close() error {
	first := false
	s.once.Do(func() {
		first = true
		s.closed.Store(true)
		for i := range s.shards {
			sh := &s.shards[i]
			sh.mu.Lock()
			for e := sh.lru.next; e != &sh.lru; e = sh.lru.next {
				s.removeLocked(sh, e)
			}
			sh.mu.Unlock()
		}
	})
	if !first {
		return errClosed
	}
	if c, ok := s.delegate.(io.Closer); ok && s.opts.closeDelegate {
		return c.Close()
	}
	return nil
}

// Stats returns the cache's counters; see Stats.
func (s *store) Stats() Stats {
	var st Stats
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		c := sh.counters
		st.Entries += len(sh.m)
		st.Bytes += sh.bytes
		sh.mu.Unlock()
		st.Hits += c.hits
		st.NegativeHits += c.negativeHits
		st.Misses += c.misses
		st.Loads += c.loads
		st.Evictions += c.evictions
		st.Expirations += c.expirations
		st.Uncached += c.uncached
	}
	return st
}
