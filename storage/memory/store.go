package memory

import (
	"context"
	"fmt"
	"hash/maphash"
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
	// index holds the filing sets of sessions.Indexer; see filing.go for
	// how its locks go with the shards'.
	index [shardCount]indexShard
}

func (s *Store) shardIndex(id string) int {
	return int(maphash.String(s.seed, id) & (shardCount - 1))
}

func (s *Store) shard(id string) *shard { return &s.shards[s.shardIndex(id)] }

func (s *Store) indexShard(index string) *indexShard {
	return &s.index[maphash.String(s.seed, index)&(shardCount-1)]
}

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
