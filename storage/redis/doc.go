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
// Each session is one string key, prefix + id, holding the session bytes
// exactly as written, with a native Redis expiry. Every operation on one
// session is one command and one round trip:
//
//	Write       SET key value PXAT ms   (SET key value when expires is zero;
//	                                     DEL key when expires is already past)
//	Read        GET key
//	Invalidate  DEL key
//	Touch       PEXPIREAT key ms        (EVALSHA of a PERSIST+EXISTS script
//	                                     when expires is zero; DEL when past)
//	Create      SET key value NX PXAT ms (NX alone when expires is zero;
//	                                     EXISTS key when already past)
//	Replace     SET key value XX PXAT ms (XX alone when expires is zero, so
//	                                     the key keeps no expiry; DEL when past)
//	ReadWithExpiry  MULTI GET key PEXPIRETIME key EXEC, pipelined
//	List        SCAN cursor MATCH prefix* COUNT n, per master of a Cluster
//
// Create and Replace are sessions.ConditionalWriter: the condition rides on
// the one SET, so Redis checks and writes atomically, on a Cluster too (one
// key, one slot). A session that a logout removed is never written back by
// a request that was in flight: its SET XX finds no key.
//
// SET with PXAT needs Redis 6.2 or later, and PEXPIRETIME (ReadWithExpiry)
// 7.0 or later. Nothing ever runs KEYS, FLUSHDB or
// FLUSHALL, so a Store can share a database with other data: the prefix is
// its namespace.
//
// # Expiry
//
// Redis removes expired keys itself, so a Store needs no sweeping and does
// not implement [sessions.Sweeper]. Expiry instants are absolute (PXAT,
// PEXPIREAT) and judged by the Redis server's clock; the local clock only
// decides whether an expires is already past when Write or Touch is called.
// Keep the clocks of application servers and Redis synchronised (NTP).
//
// # Errors and contexts
//
// Ids are checked with [sessions.CheckID] before any command is built, and an
// invalid id yields an error wrapping [sessions.ErrInvalidID] without touching
// the network. A missing or expired session yields an error wrapping
// [sessions.ErrNotFound]; after Close every call yields one wrapping
// [sessions.ErrClosed]. Driver errors are wrapped with %w; when a call fails
// because its context's deadline passed, the error wraps both the network
// error and context.DeadlineExceeded. Errors never contain session ids or
// content.
//
// The client decides how a context bounds network I/O: create it with
// ContextTimeoutEnabled: true, or a stalled server holds each call for the
// client's ReadTimeout instead of the context's deadline.
//
// A Store never closes the client it was given.
package redis
