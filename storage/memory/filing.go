package memory

import (
	"fmt"
	"strings"

	"github.com/sessionkit/sessionkit/sessions"
)

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
