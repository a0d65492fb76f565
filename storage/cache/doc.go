// Package cache puts a bounded in-memory cache in front of any
// [sessions.Storage], after Ktor's CacheStorage, so that the reads a session
// costs on every request stay in memory while the delegate (a directory,
// Redis, Postgres, bbolt) keeps the truth.
//
//	dir, err := directory.New("/var/lib/myapp/sessions")
//	if err != nil { ... }
//	store := cache.New(dir)
//	defer store.Close()
//	defer dir.Close()
//
// This replaces Ktor's directorySessionStorage(root, cached = true).
//
// # Writes go through
//
// Write, Invalidate and Touch go to the delegate first; the cache is
// updated only after the delegate succeeded, and the cached entry is dropped
// when it failed. A value larger than [WithMaxBytes] is written to the
// delegate and not cached. The cache never turns a delegate success into an
// error, and passes the delegate's errors on unchanged.
//
// # Coherence
//
// After Invalidate (or Write, or Touch) returns, no Read returns what was
// there before. The race Ktor's cache has, where a read that started before
// an invalidation puts the old value back into the cache after it, cannot
// happen. Each id with operations in progress has a record, and the end of
// a mutation has the last word on the id's cached entry: it installs the
// new value (or drops the entry), and it marks the delegate read in flight
// for the id, if any, as stale, so that read's result is delivered to the
// callers already waiting for it but never cached, and later misses start a
// fresh read. This is a per-entry version check (the fix for that race),
// kept only while operations run. Mutations of one id that overlap each
// other leave the id uncached, since the delegate's order between them is
// unknown here; the next read loads what the delegate kept.
//
// The cache is coherent only with changes made through it. Another process
// writing to a shared delegate (two instances over one Redis) is not seen
// until the cached entry is dropped; use the cache in front of a shared
// delegate only if one process owns each session, or with a short
// [WithIdleTimeout].
//
// # Expiry
//
// Nothing is served past its expiry. A value written or touched through the
// cache is cached with the expiry it was given. The plain Read of the
// Storage contract does not report the expiry, so a value loaded from a
// delegate by Read is delivered but not cached: capping its cache lifetime
// by the idle timeout instead would serve it past an earlier expiry. If the
// delegate implements sessions.ExpiryReader (every backend of this
// repository does), loaded values are cached with the expiry it reports,
// so a cache in front of a durable delegate fills from reads right after a
// restart.
//
// # Conditional writes
//
// Create and Replace (sessions.ConditionalWriter, when the delegate has it)
// go to the delegate like Write. A success caches what was written, with its
// expiry; a refusal (ErrExists, ErrNotFound) or a failure drops the cached
// entry, so a session that ended behind the cache's back stops being served
// from it as soon as a Replace finds it gone.
//
// # Bounds, idle timeout and eviction
//
// The cache is bounded by entries ([WithMaxEntries], default 10,000) and by
// the total length of the values ([WithMaxBytes], default 64 MiB). When an
// insertion takes it over a bound, the least recently used entries (read,
// written or touched longest ago) are evicted until it is back within. An
// entry not used for the idle timeout ([WithIdleTimeout], default 5 minutes)
// is not served and is dropped; the drop happens when an insertion walks
// past it at the cold end of its shard's list, so every operation costs
// O(1) time, amortised, instead of Ktor's one-key-at-a-time expiry.
//
// Entries are spread over 64 shards by a randomly seeded hash, each with
// its own lock and LRU list. Each shard publishes the last-use time of its
// coldest entry, so eviction takes the globally least recently used entry
// without a global lock; under concurrent use the order is approximate.
//
// # Misses
//
// Concurrent misses on one id share a single delegate read (a small
// singleflight). A caller whose context ends stops waiting; if the caller
// that ran the read had its context cancelled, the others try again instead
// of failing with an error that is not theirs.
//
// Not-found is not cached by default. [WithNegativeTTL] remembers it for a
// short time; negative entries count toward [WithMaxEntries], so a flood of
// random ids cannot grow the cache.
//
// # Index
//
// When the delegate is a [sessions.Indexer], so is the cache. CreateIndexed
// and ReplaceIndexed go to the delegate and keep the cache coherent exactly
// as Create and Replace do (a success caches what was written, a refusal
// or a failure drops the cached entry); the filing is the delegate's.
// ReadIndex always reads the delegate: the cache holds values of some ids
// and no index, so it cannot know which entries an index key has. Nor does
// ReadIndex fill the cache with what it lists, since the coherence above
// rests on tracking each id's delegate reads against its mutations, which
// a listing is not. Because every write through the cache reaches the
// delegate first, the listing is as current as the delegate.
//
// # Capabilities and closing
//
// The Store New returns implements [sessions.Toucher], [sessions.Lister],
// [sessions.Sweeper], [sessions.ConditionalWriter],
// [sessions.ExpiryReader] and [sessions.Indexer] exactly when the delegate
// does, forwarding to it. Close
// drops the cache and, with WithCloseDelegate(true), closes the delegate;
// by default the delegate stays open. The cache starts no goroutines.
package cache
