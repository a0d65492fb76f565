package sessions

import (
	"context"
	"io"
	"iter"
	"time"
)

// Storage keeps server-side session data by id. It is the contract every
// backend implements and the storagetest package checks.
//
// Ids reaching a Storage have passed [CheckID] in the middleware, but a Storage
// must check them again itself (with CheckID) and return an error wrapping
// [ErrInvalidID] before it touches disk or network: storages are also called
// directly by applications.
//
// A Storage is safe for concurrent use by multiple goroutines. Concurrent
// Writes to one id end with exactly one of the written values; a concurrent
// Read sees either the whole old or the whole new content, never a mix.
//
// Every method honours ctx: when ctx is done before the operation takes
// effect, the method returns an error that wraps ctx.Err() and has no effect.
//
// Write is an unconditional replace: a Write after an Invalidate of the same
// id creates the entry again. Storages keep no tombstones; the middleware
// only writes an id it has just created or has just read.
type Storage interface {
	// Write stores what write produces as the content of id, replacing any
	// previous content, to expire at expires (the zero Time: never). If write
	// returns an error, Write returns it (wrapped or as is, so errors.Is
	// finds it) and the previous content of id, or its absence, is left
	// untouched. An expires already in the past stores nothing readable:
	// Write may then succeed (the entry is simply never found) or return an
	// error, but the previous content is gone or unreadable either way.
	// The writer passed to write is valid only during the call.
	Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error

	// Read calls read with the content of id. It returns an error wrapping
	// [ErrNotFound] if id is absent or expired, and never creates anything.
	// If read returns an error, Read returns it so that errors.Is finds it.
	// read may stop before the end of the content. Read has no side effects
	// on the entry: a read that fails, stops early or is cancelled leaves it
	// as it was. When ctx is done before the content is read, read is not
	// called. The reader passed to read is valid only during the call.
	Read(ctx context.Context, id string, read func(io.Reader) error) error

	// Invalidate removes id. Removing an absent or expired id is not an
	// error. After Invalidate returns, no Read returns the removed content.
	Invalidate(ctx context.Context, id string) error
}

// ByteStorage is the simple form of a storage that keeps whole byte slices,
// after Ktor's SimplifiedSessionStorage. [FromBytes] adapts it to [Storage].
//
// The rules of [Storage] apply: ids are checked with [CheckID], a ByteStorage is
// safe for concurrent use, and ctx is honoured.
type ByteStorage interface {
	// Load returns the content of id, or an error wrapping [ErrNotFound] if
	// id is absent or expired. The caller may modify the returned slice, so
	// a [ByteStorage] that keeps slices in memory returns a copy.
	Load(ctx context.Context, id string) ([]byte, error)

	// Save stores data as the content of id, to expire at expires (the zero
	// Time: never). The [ByteStorage] must not keep data after Save returns:
	// the caller may reuse it, so a ByteStorage that keeps slices copies.
	Save(ctx context.Context, id string, data []byte, expires time.Time) error

	// Delete removes id. Deleting an absent id is not an error.
	Delete(ctx context.Context, id string) error
}

// Toucher is implemented by storages that can move the expiry of an entry
// without rewriting it, which makes sliding sessions cheap.
type Toucher interface {
	// Touch sets the expiry of id to expires (the zero Time: never). It
	// returns an error wrapping [ErrNotFound] if id is absent or expired, and
	// never creates an entry.
	Touch(ctx context.Context, id string, expires time.Time) error
}

// Lister is implemented by storages that can enumerate their entries.
type Lister interface {
	// List yields the id of every live entry, each once, with a nil error;
	// it never yields an expired id. An entry written or removed while the
	// iteration runs may or may not be yielded. A failure is yielded as
	// ("", err) and ends the iteration.
	List(ctx context.Context) iter.Seq2[string, error]
}

// Storages that hold resources implement [io.Closer]. After Close, every
// method, optional capabilities included, returns an error wrapping
// [ErrClosed], and a second Close returns nil or an error wrapping ErrClosed.

// Sweeper is implemented by storages that must remove expired entries
// themselves, because the underlying store has no native expiry.
type Sweeper interface {
	// DeleteExpired removes every entry whose expiry has passed and returns
	// how many it removed. Live entries are kept. On error it returns the
	// number removed so far together with the error.
	DeleteExpired(ctx context.Context) (int, error)
}
