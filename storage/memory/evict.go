package memory

// removeLocked removes id from sh, which the caller has locked for writing.
func (s *Store) removeLocked(sh *shard, id string) {
	e := sh.m[id]
	if e == nil {
		return
	}
	s.unfileLocked(e)
	dBytes := sh.remove(e)
	if s.bounded() {
		s.entries.Add(-1)
		s.bytes.Add(dBytes)
	}
}

// evict removes entries until the Store is within its bounds again. It is
// called after a Write has stored keep in shard home; keep is never
// removed, because a Write that returned nil must be readable.
//
// The rule: the entry with the earliest expiry in the whole Store goes
// first (so expired entries go before live ones, and never-expiring entries
// go last); ties within a shard go to the least recently written. Shards
// publish their earliest expiry in an atomic so the choice needs no global
// lock. The home shard is looked at under its lock instead, because its
// published minimum may be keep itself. Under concurrent writes a shard's
// minimum can change between the look and the eviction, so the order is
// then approximate, and two Writes racing may each evict an entry when one
// would have been enough.
func (s *Store) evict(home int, keep *entry) {
	var skip uint64 // shards found to have nothing to give
	for s.overBound() {
		best, bestKey := -1, int64(0)
		for i := range shardCount {
			j := (home + i) & (shardCount - 1)
			if skip&(1<<j) != 0 {
				continue
			}
			var k int64
			if j == home {
				sh := &s.shards[j]
				sh.mu.RLock()
				v := sh.victim(keep)
				if v != nil {
					k = v.key()
				}
				sh.mu.RUnlock()
				if v == nil {
					skip |= 1 << j
					continue
				}
			} else {
				k = s.shards[j].minKey.Load()
			}
			if best < 0 || k < bestKey {
				best, bestKey = j, k
			}
		}
		if best < 0 {
			return
		}
		sh := &s.shards[best]
		sh.mu.Lock()
		if s.closed.Load() {
			sh.mu.Unlock()
			return
		}
		if v := sh.victim(keep); v != nil {
			s.removeLocked(sh, v.id)
		} else {
			skip |= 1 << best
		}
		sh.mu.Unlock()
	}
}

func (s *Store) overBound() bool {
	return s.opts.maxEntries > 0 && s.entries.Load() > s.opts.maxEntries ||
		s.opts.maxBytes > 0 && s.bytes.Load() > s.opts.maxBytes
}
