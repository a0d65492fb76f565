package sessions

import (
	"context"
	"io"
	"time"
)

// Indexer is implemented by storages that file each entry under an index
// key, in the same step as the write that stores it, and can read the live
// entries of one index key without scanning the store: what lists a user's
// sessions ("your devices") and ends them all after a password change.
//
// The middleware's index keys are hashes of the provider and of what the
// provider's [WithIndex] function returns (a user id, say), 43 characters
// of the id alphabet like storage keys; an Indexer checks every index key
// with [CheckID], as it checks ids, and returns an error wrapping
// [ErrInvalidID] before it touches disk or network. The empty index key
// files an entry under no index key.
//
// Every entry is filed under at most one index key, the one given by the
// last write that stored it: CreateIndexed and ReplaceIndexed file it under
// their index, and Write, Create and Replace file it under none (an entry
// rewritten without an index key leaves the one it had). Touch keeps the
// filing. An entry that ends (invalidated, expired, replaced with an expiry
// in the past) leaves its index key in the same step: no ReadIndex started
// after it ended yields it.
//
// The filing costs no round trip of its own where a server is involved:
// it travels with the write (the same statement, transaction or
// MULTI/EXEC). What a filing holds is released when its entry ends: at
// once, by the next ReadIndex of its index key, or by the storage's
// [Sweeper], never left to grow without bound.
//
// An Indexer also follows the rules of [ConditionalWriter] for its
// conditional writes, and is safe for concurrent use.
type Indexer interface {
	// CreateIndexed is [ConditionalWriter.Create] that also files id under
	// index in the same step: if id holds a live entry it returns an error
	// wrapping [ErrExists] and changes nothing, the filing of that entry
	// included.
	CreateIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error

	// ReplaceIndexed is [ConditionalWriter.Replace] that also files id under
	// index in the same step, moving it from the index key it was filed
	// under, if another: if id is absent, expired or invalidated it returns
	// an error wrapping [ErrNotFound] and files nothing.
	ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error

	// ReadIndex calls read once for every live entry filed under index, with
	// its id, its expiry (the zero Time: never) and its content, which come
	// from the same version of the entry; the order is unspecified. An
	// entry live and filed under index for the whole call is always
	// yielded; one that ended or moved to another index key before the
	// call started is never yielded; one written, moved or ended while the
	// call runs may or may not be. An index key with no live entry is not
	// an error: read is simply not called. If read returns an error,
	// ReadIndex stops and returns it, so that errors.Is finds it. The
	// reader passed to read is valid only during that call of read.
	//
	// read is called one call at a time, and must not call the storage: a
	// storage may hold a read transaction or a lock while it calls read. A
	// caller that ends what it lists (the middleware does) collects the ids
	// first and ends them after ReadIndex has returned.
	//
	// ReadIndex costs what the entries of index cost, not what the store
	// holds: it never scans other index keys' entries. The empty index key
	// lists nothing (ReadIndex may then return an error wrapping
	// [ErrInvalidID]).
	ReadIndex(ctx context.Context, index string, read func(id string, expires time.Time, r io.Reader) error) error
}
