// Package redis is a sessionkit storage backend on Redis, through go-redis v9.
//
// One Store serves every Redis deployment go-redis does: a single server, a
// primary managed by Sentinel, or a Cluster. Pass any goredis.UniversalClient
// (in code that also imports this package, import go-redis as goredis to
// avoid the name clash):
//
//	client := goredis.NewClient(&goredis.Options{
//		Addr:                  "localhost:6379",
//		ContextTimeoutEnabled: true, // let context deadlines bound each call
//	})
//	defer client.Close()
//	store, err := redis.New(client, redis.WithPrefix("myapp:sess:"))
//
// # Layout and commands
//
// Each session is one string key, prefix + id, with a native Redis expiry.
// Its value is a frame, then the session bytes exactly as written: one byte
// n, the length of the index key the entry is filed under (0 for none),
// then those n bytes. Read, ReadWithExpiry and ReadIndex strip the frame;
// a value under the prefix that does not start with one (not written by a
// Store) is an error, never content. An entry filed under no index key
// costs one byte more than its content, one filed under a middleware index
// key (43 characters) 44.
//
// The commands, and the round trips (RT) they take:
//
//	Write           SET key value PXAT ms            1 RT (SET key value when
//	                                                 expires is zero; DEL key
//	                                                 when it is already past)
//	Read            GET key                          1 RT
//	Invalidate      DEL key                          1 RT
//	Create          SET key value NX PXAT ms         1 RT (NX alone when expires
//	                                                 is zero; EXISTS key when
//	                                                 it is already past)
//	Replace         SET key value XX PXAT ms         1 RT (XX alone when expires
//	                                                 is zero, so the key keeps
//	                                                 no expiry; DEL when past)
//	CreateIndexed   MULTI                            1 RT on a single server
//	                  SET key value NX PXAT ms       (3 on a Cluster: see
//	                  ZADD set stamp id              below); the empty index
//	                  PEXPIREAT set ms NX            key is Create's SET
//	                  PEXPIREAT set ms GT
//	                  ZCARD set
//	                EXEC
//	ReplaceIndexed  the same with SET ... XX         as CreateIndexed
//	Touch           EVALSHA touch script             1 RT for an entry filed
//	                  (GETRANGE key 0 128, then      under no index key; for
//	                  PEXPIREAT key ms, or PERSIST   one filed under an index
//	                  and EXISTS for the zero Time)  key, then MULTI ZADD set,
//	                                                 PEXPIREAT set NX and GT,
//	                                                 EVAL touch script EXEC:
//	                                                 2 RT (3 on a Cluster);
//	                                                 DEL key when past
//	ReadWithExpiry  MULTI GET key PEXPIRETIME key EXEC   1 RT
//	ReadIndex       ZRANGE set 0 -1 WITHSCORES,      2 RT, plus 1 when it
//	                then one pipeline of EVALSHA_RO  found stale members:
//	                (GET and PEXPIRETIME of a        EVALSHA of the cleaning
//	                member's key), one per member    script (ZSCORE, ZREM)
//	List            SCAN cursor MATCH prefix* COUNT n, per master of a Cluster
//
// Create and Replace are sessions.ConditionalWriter: the condition rides on
// the one SET, so Redis checks and writes atomically, on a Cluster too (one
// key, one slot). A session that a logout removed is never written back by
// a request that was in flight: its SET XX finds no key.
//
// The scripts are loaded by EVALSHA's usual fallback: the first call after
// a restart, a failover or SCRIPT FLUSH sends EVAL (EVAL_RO) once.
//
// SET with PXAT needs Redis 6.2 or later; PEXPIRETIME (ReadWithExpiry,
// ReadIndex), EVAL_RO and the NX and GT options of PEXPIREAT need 7.0 or
// later. Nothing ever runs KEYS, FLUSHDB or FLUSHALL, so a Store can share
// a database with other data: the prefix is its namespace. Give each Store
// a prefix that does not start with another Store's.
//
// # Index keys
//
// A Store is a [sessions.Indexer]: what the middleware's WithIndex lists a
// user's sessions with. The entries filed under an index key are the
// members of a sorted set, prefix + "idx:" + index key (not a session key:
// ':' is outside the id alphabet, and List skips it). The frame of each
// entry records its index key, written by the same SET as its content, and
// it has the last word: ReadIndex yields a member only if its entry is
// live and records this index key, so an entry that ended, was rewritten
// under none (Write, Create, Replace) or moved to another index key is
// never listed, whatever the set still holds, and no set can leak entries
// of another index key. A write never removes a member; the member an
// entry left behind is stale until a cleaning removes it.
//
// Each member's score is a stamp, a random integer below 2^53 that every
// filing draws afresh. The cleaning (ReadIndex, for the stale members it
// found) removes a member only if its stamp is still the one it read, in
// one script on the set's key: a write that filed the entry again after
// ReadIndex looked at it keeps its member.
//
// A set outlives every live entry filed under it and goes with the last of
// them: every filing moves the set's expiry to at least the entry's
// (PEXPIREAT NX for a new set, which ZADD makes without an expiry, and GT
// for an older one, which only moves it forward). A set is never made
// persistent; an entry without expiry gives its set the year 9999. Touch
// of an entry filed under an index key moves the set's expiry first, then
// the entry's; Touch reads the frame in the script that moves the expiry,
// so an entry filed under none costs what it always did, one round trip.
//
// The space of stale members is given back three ways: by the next
// ReadIndex of the index key; by the writes, for index keys nothing lists:
// a write that adds a member and leaves the set with 64, 128, 256 ...
// members cleans it as ReadIndex would, reading only the frames (ZRANGE,
// then one pipeline of GETRANGE key 0 128, then the cleaning script),
// which keeps the set within the larger of 64 and twice its live entries;
// and by the set's expiry. Most writes clean nothing; one that does pays a
// pass over the set's members, in three more round trips. Redis needs no
// Sweeper for any of it.
//
// On a single server (or a Sentinel primary) the SET and the filing are
// one MULTI/EXEC: one round trip, atomic. MULTI runs every queued command
// even when the SET's condition fails, so a refused CreateIndexed or
// ReplaceIndexed still files the id, which leaves a stale member and moves
// the set's expiry forward: nothing the contract can see (the entry records
// another index key, or there is no entry) and given back like any stale
// member.
//
// ReadIndex costs what the entries of its index key cost: the set and the
// members' keys, never a scan. Measured with 10 sessions under the index
// key, ReadIndex takes the same time with 1,000 and with 1,000,000 other
// sessions in the store (integration's BenchmarkReadIndexGrowth).
//
// # Cluster
//
// An entry's key hashes to the slot of prefix + id, the set of its index
// key to the slot of prefix + "idx:" + index key: different slots, usually
// on different masters, which no MULTI or script may span. So on a Cluster
// (and on a Ring, whose shards are apart the same way) an indexed write
// takes three round trips, one after the other:
//
//  1. the filing, on the set's master: MULTI ZADD, PEXPIREAT NX and GT,
//     ZCARD EXEC;
//  2. the SET with its condition, on the entry's master (when the condition
//     fails, the write stops here, with a stale member);
//  3. the filing again, with a fresh stamp.
//
// Filing before the SET means a write that fails after step 1, or whose
// condition fails, leaves at worst a stale member, never a stored entry
// that no set lists. Filing again after it is what keeps the cleaning
// safe: a ReadIndex that runs between steps 1 and 2 sees the new member,
// reads the entry before the SET landed (still filed elsewhere, or absent)
// and removes the member, its stamp unchanged; step 3 brings it back with
// a stamp that ReadIndex never saw. Touch of an indexed entry moves the
// set's expiry before the entry's, in two round trips, so a failure in
// between leaves the set outliving the entry, not the reverse. ReadIndex
// reads the set on its master and pipelines the members' reads to their
// masters, which go-redis sends in parallel.
//
// What remains on a Cluster is every rule of the contract, which the
// storagetest suite checks on a three-master Cluster: no ReadIndex yields
// an entry that ended or moved before it started (the entry, one key in one
// slot, has the last word), and an entry live and filed all along is
// always yielded. What is weaker than on a single server is that the
// filing and the write are not one atomic step: a ReadIndex concurrent with
// an indexed write may read the new member before the entry changed and
// skip it (the contract allows it: the write had not returned), and one
// double fault can unfile a live entry: step 3 failing (the set's master
// unreachable just after the SET) while a ReadIndex cleaned the set
// between steps 1 and 2. The write then returned an error, and the entry's
// next indexed write files it again.
//
// # Replication and eviction
//
// Writes acknowledged just before a failover may be lost with Redis's
// asynchronous replication, like any Redis data. On a Cluster the entry and
// its set live on different masters, so one may survive without the
// other: a lost entry leaves a stale member, a lost filing leaves the
// entry unlisted until its next indexed write or Touch. Under a maxmemory
// eviction policy, Redis may likewise evict a set before its entries; run
// the sessions' Redis with noeviction, or with memory to spare.
//
// # Expiry
//
// Redis removes expired keys itself, so a Store needs no sweeping and does
// not implement [sessions.Sweeper]; the sets of index keys expire with their
// last entry. Expiry instants are absolute (PXAT, PEXPIREAT) and judged by
// the Redis server's clock; the local clock only decides whether an
// expires is already past when Write or Touch is called. Keep the clocks
// of application servers and Redis synchronised (NTP).
//
// # Errors and contexts
//
// Ids and index keys are checked with [sessions.CheckID] before any
// command is built, and an invalid one yields an error wrapping
// [sessions.ErrInvalidID] without touching the network (ReadIndex of the
// empty index key, under which nothing is listed, is one). A missing or
// expired session yields an error wrapping [sessions.ErrNotFound]; after
// Close every call yields one wrapping [sessions.ErrClosed]. Driver errors are wrapped with %w; when a call fails
// because its context's deadline passed, the error wraps both the network
// error and context.DeadlineExceeded. Errors never contain session ids,
// index keys or content.
//
// The client decides how a context bounds network I/O: create it with
// ContextTimeoutEnabled: true, or a stalled server holds each call for the
// client's ReadTimeout instead of the context's deadline.
//
// A Store never closes the client it was given.
package redis
