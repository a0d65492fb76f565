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
// The ids a Storage sees from the middleware are storage keys, never the
// ids that travel in cookies: a hash of the provider and the session id,
// 43 characters of the id alphabet (see [KeyOf]). They have passed
// [CheckID], but a Storage must check every id again itself (with CheckID)
// and return an error wrapping [ErrInvalidID] before it touches disk or
// network: storages are also called directly by applications.
//
// A Storage is safe for concurrent use by multiple goroutines. Concurrent
// Writes to one id end with exactly one of the written values; a concurrent
// Read sees either the whole old or the whole new content, never a mix.
//
// Every method honours ctx: when ctx is done before the operation takes
// effect, the method returns an error that wraps ctx.Err() and has no effect.
//
// Write is an unconditional replace: a Write after an Invalidate of the same
// id creates the entry again, so a request that read a session before a
// concurrent logout and writes it afterwards brings it back. Storages keep no
// tombstones. A storage that also implements [ConditionalWriter] lets the
// middleware create a new id only if it is absent and rewrite a session only
// while it is live, which closes that gap; with a storage that lacks it, an
// ended session can be resurrected by a request that was in flight.
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

// ConditionalWriter is implemented by storages that can write an entry on a
// condition, atomically: what keeps an ended session (cleared, invalidated,
// renewed away, expired) from being written back by a request that read it
// before it ended, and a new id from overwriting another session.
//
// Both methods follow the rules of [Storage.Write] for ids, ctx, expiry and
// the write func: the zero expires means never; if write returns an error,
// the method returns it and the previous content of id, or its absence, is
// left untouched; the writer is valid only during the call. The condition
// and the write take effect as one step with respect to concurrent Writes,
// Creates, Replaces, Touches, Invalidates and expiry: no other call sees or
// changes the entry between the check and the write. The condition is
// checked against the entry as it is when the write takes effect (after
// write has returned), not when the call started.
type ConditionalWriter interface {
	// Create stores what write produces as the content of id only if id is
	// absent or expired (an expired entry that the storage still holds is
	// replaced). If id holds a live entry, Create returns an error wrapping
	// [ErrExists] and changes nothing. Of concurrent Creates of one absent
	// id, exactly one succeeds.
	Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error

	// Replace stores what write produces as the content of id only if id
	// holds a live entry, replacing its content and its expiry. If id is
	// absent, expired or invalidated, Replace returns an error wrapping
	// [ErrNotFound] and never creates an entry. A Replace racing an
	// Invalidate of the same id either takes effect before it (and the
	// Invalidate removes what it wrote) or finds the entry gone: it never
	// leaves the entry live after both have returned.
	Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error
}

// ExpiryReader is implemented by storages that can read an entry together
// with its expiry, in one step. A cache in front of such a storage keeps the
// values it loads for exactly as long as they live.
type ExpiryReader interface {
	// ReadWithExpiry is [Storage.Read] that also passes read the expiry of
	// the entry (the zero Time: never), as last written or touched, with
	// the storage's own precision. Content and expiry come from the same
	// version of the entry. It returns an error wrapping [ErrNotFound] if
	// id is absent or expired, and never creates anything.
	ReadWithExpiry(ctx context.Context, id string, read func(r io.Reader, expires time.Time) error) error
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
