package cache

import (
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// shardCount is a power of two so that a hash picks a shard with a mask.
const shardCount = 64

// empty is the published tail access time of a shard without entries: it
// sorts after every real time, so eviction never picks such a shard.
const empty = math.MaxInt64

// entry is one cached value, or a remembered absence (negative). Its data
// slice is never modified after the entry is created, so a hit may keep
// using the slice after the lock is released.
type entry struct {
	id       string
	data     []byte // nil for a negative entry
	negative bool
	expires  int64 // Unix nanoseconds; 0 means never
	access   int64 // Unix nanoseconds of the last read or write

	// The shard's LRU list: most recently used after the sentinel.
	prev, next *entry
}

// pending tracks the operations in progress on one id of a shard, so that
// none of them installs a value that another one has made stale. It exists
// while any of them runs.
//
// The invariant: the end of a mutation has the last word on the cached
// entry of its id. It installs or updates the entry if it alone ran, and
// drops it otherwise, and it detaches the load in flight, if any, so that
// the load installs nothing and no later miss shares it. Whatever a load
// installed while the mutation ran (visible only to callers concurrent with
// the mutation) is overwritten or dropped by then.
type pending struct {
	// mutators counts the Write, Invalidate and Touch calls in progress.
	mutators int
	// overlapped is set when a mutation starts while another is in
	// progress. The delegate's order of overlapping mutations cannot be
	// known here, so none of them may install a result: each one drops
	// the entry instead, and the next read loads what the delegate kept.
	overlapped bool
	// load is the delegate read that concurrent misses on the id share,
	// while it may still install its result.
	load *flight
}

// flight is one delegate read shared by every concurrent miss on an id.
type flight struct {
	done chan struct{} // closed when the fields below are final

	data    []byte
	expires int64 // Unix nanoseconds; 0 means never
	known   bool  // the delegate reported the expiry
	err     error
	// ctxDone records that the loading caller's context had ended when the
	// load finished: its error belongs to that caller, and the callers
	// that shared the load try again.
	ctxDone bool

	// stale is set (under the shard lock) when a mutation of the id ends
	// while the load runs: the result may predate the mutation, so it must
	// not be installed. Waiters that joined before still get it, since
	// they started before the mutation finished.
	stale bool
}

// counters are a shard's share of Stats, guarded by the shard lock. They
// live in the shards rather than in global atomics so that parallel hits do
// not fight over one cache line.
type counters struct {
	hits, negativeHits, misses, loads, evictions, expirations, uncached uint64
}

// shard is one lock's worth of the cache, padded so that neighbouring
// shards' locks never share a cache line.
type shard struct {
	shardState
	_ [128 - unsafe.Sizeof(shardState{})%128]byte
}

// shardState is a shard's content. Everything but tail is guarded by mu.
type shardState struct {
	mu      sync.Mutex
	m       map[string]*entry
	lru     entry // sentinel: lru.next is the most, lru.prev the least recently used
	pending map[string]*pending
	bytes   int64
	counters
	// tail mirrors the access time of the least recently used entry (empty
	// when there is none) so that eviction can find the globally least
	// recently used entry without locking every shard.
	tail atomic.Int64
}

func (sh *shard) init() {
	sh.m = make(map[string]*entry)
	sh.pending = make(map[string]*pending)
	sh.lru.next, sh.lru.prev = &sh.lru, &sh.lru
	sh.tail.Store(empty)
}

func (sh *shard) publish() {
	if t := sh.lru.prev; t != &sh.lru {
		sh.tail.Store(t.access)
	} else {
		sh.tail.Store(empty)
	}
}

func (sh *shard) unlink(e *entry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}

func (sh *shard) pushFront(e *entry) {
	e.prev, e.next = &sh.lru, sh.lru.next
	e.prev.next = e
	e.next.prev = e
}

// use marks e as just used at now.
func (sh *shard) use(e *entry, now int64) {
	e.access = now
	if sh.lru.next != e {
		sh.unlink(e)
		sh.pushFront(e)
	}
	sh.publish()
}

// put installs an entry for id, replacing any, as the most recently used.
// It returns the change in entries and bytes.
func (sh *shard) put(id string, data []byte, negative bool, expires, now int64) (dEntries, dBytes int64) {
	if e := sh.m[id]; e != nil {
		// Hits keep the data slice, never the entry, so the entry can be
		// reused.
		dBytes = int64(len(data) - len(e.data))
		e.data, e.negative, e.expires = data, negative, expires
		sh.bytes += dBytes
		sh.use(e, now)
		return 0, dBytes
	}
	// The id may come from an unsafe []byte-to-string conversion over a
	// buffer the caller reuses; a map key that changed under us would
	// corrupt the map.
	e := &entry{id: strings.Clone(id), data: data, negative: negative, expires: expires, access: now}
	sh.m[e.id] = e
	sh.pushFront(e)
	sh.bytes += int64(len(data))
	sh.publish()
	return 1, int64(len(data))
}

// remove deletes e and returns the change in entries and bytes.
func (sh *shard) remove(e *entry) (dEntries, dBytes int64) {
	sh.unlink(e)
	delete(sh.m, e.id)
	sh.bytes -= int64(len(e.data))
	sh.publish()
	return -1, -int64(len(e.data))
}

// begin registers a mutation of id and returns its record; the caller holds
// the lock and passes the record to end.
func (sh *shard) begin(id string) *pending {
	p := sh.pending[id]
	if p == nil {
		p = &pending{}
		// The record can outlive the call that made it (a later call on
		// the same id releases it), so its key must not share the bytes of
		// an id that the first caller may recycle.
		sh.pending[strings.Clone(id)] = p
	}
	if p.mutators > 0 {
		p.overlapped = true
	}
	p.mutators++
	return p
}

// detachLoad makes the load in flight, if any, stale and unreachable for
// new misses: they must start a load of their own, which sees the
// mutation.
func (p *pending) detachLoad() {
	if p.load != nil {
		p.load.stale = true
		p.load = nil
	}
}

// release forgets p once nothing is in progress on id. A load that was
// detached may finish after p was forgotten and another record made for id;
// that record is left alone.
func (sh *shard) release(id string, p *pending) {
	if p.mutators == 0 && p.load == nil && sh.pending[id] == p {
		delete(sh.pending, id)
	}
}
