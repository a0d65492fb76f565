package memory

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

var _ sessions.Indexer = (*Store)(nil)

// CreateIndexed is [Store.Create] that also files id under index, in the
// same step under the lock of id's shard: if id holds a live entry it
// returns an error wrapping [sessions.ErrExists] and changes nothing, the
// entry's filing included. The empty index files the entry under none; any
// other index must pass [sessions.CheckID], or CreateIndexed returns an
// error wrapping [sessions.ErrInvalidID]. Otherwise it returns the errors
// Create returns.
func (s *Store) CreateIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, "create", id, index, expires, write, createCond)
}

// ReplaceIndexed is [Store.Replace] that also files id under index, in the
// same step under the lock of id's shard, moving it from the index key it
// was filed under, if another: if id is absent or expired it returns an
// error wrapping [sessions.ErrNotFound] and files nothing. The index keys
// are checked as CreateIndexed checks them; otherwise it returns the
// errors Replace returns.
func (s *Store) ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, "replace", id, index, expires, write, replaceCond)
}

// ReadIndex calls read once for every live entry filed under index, with
// its id, its expiry (the zero Time: never) and a reader of its content, as
// [sessions.Indexer] describes. It costs what the entries of index cost:
// it copies the ids of its filing set, then looks each entry up under its
// shard's read lock, taking its content and expiry together; it holds no
// lock while read runs, so read may call the Store. An entry written,
// moved or removed meanwhile is yielded as it was or as it is, or not at
// all if it left index before ReadIndex got to it.
//
// It returns an error wrapping [sessions.ErrInvalidID] for an index that
// is not a valid id ("" included), [sessions.ErrClosed] after Close, and
// an error wrapping ctx.Err() when ctx is done, before the first call of
// read or between two; read's error is returned as it is.
func (s *Store) ReadIndex(ctx context.Context, index string, read func(id string, expires time.Time, r io.Reader) error) error {
	if err := sessions.CheckID(index); err != nil {
		return fmt.Errorf("sessionkit/memory: index key: %w", err)
	}
	if s.closed.Load() {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessionkit/memory: read index: %w", err)
	}
	is := s.indexShard(index)
	is.mu.Lock()
	set := is.m[index]
	ids := make([]string, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	is.mu.Unlock()
	for i, id := range ids {
		if i > 0 {
			if s.closed.Load() {
				return errClosed
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("sessionkit/memory: read index: %w", err)
			}
		}
		sh := s.shard(id)
		sh.mu.RLock()
		e := sh.m[id]
		ok := e != nil && e.filed == index
		var (
			data []byte
			exp  int64
		)
		if ok {
			data, exp = e.data, e.expires
		}
		sh.mu.RUnlock()
		if !ok || exp != 0 && exp <= s.now() {
			continue
		}
		var t time.Time
		if exp != 0 {
			t = time.Unix(0, exp)
		}
		if err := read(id, t, &reader{data: data}); err != nil {
			return err
		}
	}
	return nil
}
