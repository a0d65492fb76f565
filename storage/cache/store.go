package cache

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

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
