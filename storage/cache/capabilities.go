package cache

import (
	"context"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// The forwarders add one optional capability each to a store. New embeds
// the ones the delegate supports next to the store, so that the value it
// returns has exactly the delegate's capabilities: a cache that claimed
// Toucher in front of a delegate without it would break callers that pick
// a strategy by type assertion (the middleware slides sessions with Touch
// when it can, and rewrites them otherwise).

type touchForwarder struct {
	s *store
	t sessions.Toucher
}

// Touch sets the expiry of id in the delegate, then in the cache. It
// returns the delegate's error unchanged (wrapping [sessions.ErrNotFound] if
// id is absent or expired), in which case the cached entry is dropped. It
// returns an error wrapping [sessions.ErrInvalidID] for a malformed id,
// [sessions.ErrClosed] after Close, and ctx.Err() if ctx is already done.
func (f touchForwarder) Touch(ctx context.Context, id string, expires time.Time) error {
	return f.s.touch(ctx, f.t, id, expires)
}

type listForwarder struct {
	s *store
	l sessions.Lister
}

// List yields the delegate's ids; the cache holds only some of them. After
// Close it yields ("", err) with err wrapping [sessions.ErrClosed].
func (f listForwarder) List(ctx context.Context) iter.Seq2[string, error] {
	return f.s.list(ctx, f.l)
}

type sweepForwarder struct {
	s  *store
	sw sessions.Sweeper
}

// DeleteExpired runs the delegate's DeleteExpired and returns its result,
// and drops the cache's own expired and idle entries. After Close it
// returns 0 and an error wrapping [sessions.ErrClosed].
func (f sweepForwarder) DeleteExpired(ctx context.Context) (int, error) {
	return f.s.deleteExpired(ctx, f.sw)
}

// conditionalForwarder forwards sessions.ConditionalWriter.
type conditionalForwarder struct {
	s  *store
	cw sessions.ConditionalWriter
}

// Create runs the delegate's Create. When it succeeds, the cache keeps the
// value it wrote, with its expiry, as Write does; when it fails (an error
// wrapping sessions.ErrExists among others), the cached entry of id is
// dropped and the delegate's error is returned unchanged.
func (f conditionalForwarder) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return f.s.writeWith(ctx, "create", id, expires, write, f.cw.Create)
}

// Replace runs the delegate's Replace. When it succeeds, the cache keeps the
// value it wrote, with its expiry; when the delegate finds the entry gone
// (an error wrapping sessions.ErrNotFound) or fails, the cached entry of id
// is dropped, so a session that ended elsewhere is not served from the
// cache either.
func (f conditionalForwarder) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return f.s.writeWith(ctx, "replace", id, expires, write, f.cw.Replace)
}

// expiryForwarder is the cache's own sessions.ExpiryReader, offered when the
// delegate has one: only then does the cache know every cached entry's
// exact expiry.
type expiryForwarder struct{ s *store }

// ReadWithExpiry is Read that also passes read the expiry of the entry (the
// zero Time: never), from the cache on a hit and from the delegate's
// ReadWithExpiry on a miss. Its errors are Read's.
func (f expiryForwarder) ReadWithExpiry(ctx context.Context, id string, read func(r io.Reader, expires time.Time) error) error {
	return f.s.read(ctx, "read", id, func(r io.Reader, exp int64) error {
		var t time.Time
		if exp != 0 {
			t = time.Unix(0, exp)
		}
		return read(r, t)
	})
}

// indexForwarder forwards sessions.Indexer.
type indexForwarder struct {
	s  *store
	ix sessions.Indexer
}

// CreateIndexed runs the delegate's CreateIndexed and keeps the cache
// coherent as Create does: when it succeeds the cache keeps the value it
// wrote, with its expiry; when it fails (an error wrapping
// sessions.ErrExists among others) the cached entry of id is dropped and
// the delegate's error is returned unchanged. The filing is the
// delegate's: the cache holds values, not index keys. An index that is
// neither "" nor a valid id is refused with an error wrapping
// sessions.ErrInvalidID before the delegate is called.
func (f indexForwarder) CreateIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := checkIndex(index); err != nil {
		return err
	}
	return f.s.writeWith(ctx, "create", id, expires, write, func(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
		return f.ix.CreateIndexed(ctx, id, index, expires, write)
	})
}

// ReplaceIndexed runs the delegate's ReplaceIndexed and keeps the cache
// coherent as Replace does: when it succeeds the cache keeps the value it
// wrote, with its expiry; when the delegate finds the entry gone (an error
// wrapping sessions.ErrNotFound) or fails, the cached entry of id is
// dropped. Index keys are checked as CreateIndexed checks them.
func (f indexForwarder) ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := checkIndex(index); err != nil {
		return err
	}
	return f.s.writeWith(ctx, "replace", id, expires, write, func(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
		return f.ix.ReplaceIndexed(ctx, id, index, expires, write)
	})
}

// ReadIndex forwards to the delegate's ReadIndex, and its result (read's
// error included) comes back unchanged. It is never answered from the
// cache, which holds some values and no index: only the delegate knows
// which entries are filed under index. Nor does it fill the cache with
// what it lists: the cache's coherence rests on one delegate read per id
// at a time, tracked against the mutations of that id, and a listing is
// not such a read. Every write through the cache reaches the delegate
// before the cache changes, so the listing is as current as the
// delegate. It returns an error wrapping sessions.ErrInvalidID for an
// invalid index (the empty one included), sessions.ErrClosed after Close,
// and an error wrapping ctx.Err() if ctx is already done, without calling
// the delegate.
func (f indexForwarder) ReadIndex(ctx context.Context, index string, read func(id string, expires time.Time, r io.Reader) error) error {
	if err := sessions.CheckID(index); err != nil {
		return fmt.Errorf("sessionkit/cache: index key: %w", err)
	}
	if err := f.s.checkCall(ctx, "read index", index); err != nil {
		return err
	}
	return f.ix.ReadIndex(ctx, index, read)
}

// checkIndex checks an index key given to CreateIndexed or ReplaceIndexed:
// "" files under none, anything else must be a valid id.
func checkIndex(index string) error {
	if index == "" {
		return nil
	}
	if err := sessions.CheckID(index); err != nil {
		return fmt.Errorf("sessionkit/cache: index key: %w", err)
	}
	return nil
}
