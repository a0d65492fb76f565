package memory

import (
	"context"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/sessionkit/sessionkit/sessions"
)

var _ sessions.Indexer = (*Store)(nil)

// The index is exact: an entry's id is in the filing set of an index key
// exactly while the Store holds the entry and the entry records that key
// (entry.filed). Filing sets live in their own shards, chosen by a hash of
// the index key, because the entries of one index key are spread over
// every entry shard.
//
// Lock order: an entry shard's lock, then an index shard's lock, never the
// other way round. Every change of an entry's filing (a write that stores
// it, the removal of the entry by Invalidate, expiry, eviction or a sweep)
// happens under the entry's shard lock, which the change holds while it
// takes the index shard's lock, so the filing changes in the same step as
// the entry. ReadIndex takes the two kinds of lock one after the other and
// never holds both: it copies the filing set under the index shard's lock,
// then looks each entry up under its shard's read lock.

// indexShard holds the filing sets of the index keys that hash to it,
// padded so that neighbouring shards' locks never share a cache line.
type indexShard struct {
	indexState
	_ [128 - unsafe.Sizeof(indexState{})%128]byte
}

type indexState struct {
	mu sync.Mutex
	// m maps an index key to the ids filed under it. The ids are the
	// entries' own id strings, so a filing costs a map slot, not a copy;
	// a set is deleted when its last id leaves, so index keys with no
	// entry cost nothing.
	m map[string]map[string]struct{}
}

func (s *Store) indexShard(index string) *indexShard {
	return &s.index[maphash.String(s.seed, index)&(shardCount-1)]
}

// refileLocked files e under index, moving it from the index key it was
// filed under, if another. The caller holds the write lock of e's shard.
func (s *Store) refileLocked(e *entry, index string) {
	if e.filed == index {
		return
	}
	if e.filed != "" {
		s.unfileLocked(e)
	}
	if index == "" {
		return
	}
	// The index key, like the id, may come from a buffer the caller reuses;
	// the entry keeps it and so does the filing map.
	index = strings.Clone(index)
	is := s.indexShard(index)
	is.mu.Lock()
	ids := is.m[index]
	if ids == nil {
		ids = make(map[string]struct{})
		is.m[index] = ids
	}
	ids[e.id] = struct{}{}
	is.mu.Unlock()
	e.filed = index
}

// unfileLocked removes e from the filing set of the index key it is filed
// under. The caller holds the write lock of e's shard.
func (s *Store) unfileLocked(e *entry) {
	if e.filed == "" {
		return
	}
	is := s.indexShard(e.filed)
	is.mu.Lock()
	if ids := is.m[e.filed]; ids != nil {
		delete(ids, e.id)
		if len(ids) == 0 {
			delete(is.m, e.filed)
		}
	}
	is.mu.Unlock()
	e.filed = ""
}

// checkIndex checks an index key given to CreateIndexed or ReplaceIndexed:
// "" files under none, anything else must be a valid id.
func checkIndex(index string) error {
	if index == "" {
		return nil
	}
	if err := sessions.CheckID(index); err != nil {
		return fmt.Errorf("sessionkit/memory: index key: %w", err)
	}
	return nil
}

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
