// Package memory is an in-process [sessions.Storage]: a sharded map with
// expiry, for single-instance deployments, development and tests.
//
// Everything lives in the process's memory and is lost when it exits; use a
// shared backend (redis, postgres) when several instances serve the same
// users, and a durable one (directory, bolt) when sessions must survive a
// restart.
//
//	store := memory.New(memory.WithMaxBytes(256 << 20))
//	defer store.Close()
//	m, err := sessions.New(sessions.Cookie[Login]("LOGIN", sessions.WithStorage(store)))
//
// # Concurrency
//
// Ids are spread over 64 shards by a randomly seeded hash, each shard with
// its own read-write lock, so parallel readers never contend and writers
// contend only within a shard. Values are immutable once stored: a Read
// picks up the value under the shard's read lock and streams it after
// releasing the lock. Create and Replace (sessions.ConditionalWriter) check
// their condition and store under the shard's write lock, after the write
// function has run, so they are atomic with respect to every other call on
// the same id and to expiry.
//
// # Copies
//
// A Write streams into a private buffer and stores an exact-size copy of it
// only when the write function succeeds; a Read hands out a reader that
// copies from the stored value and never exposes it. A caller that reuses
// its buffers (a common trick with pooled buffers, which corrupted entries
// in gofiber's memory storage) cannot change what the Store holds. Ids are
// copied too when an entry is created.
//
// # Expiry
//
// Every read checks the expiry, so an expired entry is never served. A
// background sweeper ([WithSweepInterval], default every minute) gives the
// memory of expired entries back; DeleteExpired does the same on demand.
// Each shard keeps its entries in a min-heap by expiry, so sweeping costs
// time in proportion to what it removes.
//
// # Bounds and eviction
//
// By default the Store is unbounded. [WithMaxEntries] and [WithMaxBytes] bound
// the number of entries and the total length of the values. A single value
// longer than the byte bound is refused with [sessions.ErrTooLarge]. When a
// Write takes the Store over a bound, other entries are evicted in this
// order until it is back within bounds:
//
//  1. the entry with the earliest expiry in the Store, so expired entries
//     first, then the live entries closest to their expiry (the sessions
//     that lose the least), and never-expiring entries last;
//  2. among entries of one shard with the same expiry (never-expiring ones
//     in particular), the least recently written first.
//
// The entry the Write has just stored is never evicted by its own Write. The
// order is exact when writes do not race; concurrent Writes may make it
// approximate, and may evict one entry more than needed. The bound holds
// except for the moment between a Write storing its entry and evicting.
//
// # Index
//
// The Store is a [sessions.Indexer]: CreateIndexed and ReplaceIndexed file
// an entry under an index key (what the middleware's WithIndex derives
// from a user id, say) and ReadIndex reads the live entries of one index
// key. The index is exact, not lazily cleaned: each entry records its
// index key, and the filing sets (index key to ids, in 64 shards of their
// own chosen by a hash of the index key) change in the same step as the
// entry, under the entry's shard lock, whether the entry is written, moved
// to another index key, rewritten by Write, Create or Replace (which file
// under none), invalidated, expired by a write or a Touch, swept or
// evicted. The lock order is the entry's shard, then the index shard;
// ReadIndex never holds both: it copies the ids of the index key, then
// reads each entry under its shard's read lock, skipping expired ones, so
// an expired entry is never listed even before the sweeper removes it.
// ReadIndex costs what the index key's entries cost, whatever the Store
// holds, and its read function may call the Store (to end every session of
// a user, say). Index keys and the filing sets are not counted by
// [WithMaxBytes].
//
// # Closing
//
// Close stops the sweeper (waiting for it) and drops every entry; every call
// after Close returns an error wrapping [sessions.ErrClosed].
package memory
