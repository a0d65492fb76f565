package memory

import (
	"container/heap"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// shardCount is a power of two so that a hash picks a shard with a mask.
// 64 shards keep lock contention negligible on machines with dozens of cores
// while costing only a few KiB per Store.
const shardCount = 64

// never is the eviction key of an entry without expiry: such entries sort
// after every entry that expires.
const never = math.MaxInt64

// entry is one stored value. Its data slice is never modified after it is
// stored: a Write replaces the slice instead, so a reader may keep using a
// slice it picked up under the lock after the lock is released.
type entry struct {
	id      string
	data    []byte
	expires int64  // Unix nanoseconds; 0 means never
	seq     uint64 // write order within the shard, to break expiry ties
	index   int    // position in the shard's heap
	filed   string // the index key the entry is filed under; "": none
}

// key orders entries for eviction and sweeping: earliest expiry first,
// never-expiring last.
func (e *entry) key() int64 {
	if e.expires == 0 {
		return never
	}
	return e.expires
}

// liveAt reports whether e may be served at now (Unix nanoseconds). The
// instant of expiry itself already counts as expired.
func (e *entry) liveAt(now int64) bool {
	return e.expires == 0 || now < e.expires
}

// expiryHeap is a min-heap of a shard's entries by (key, seq). It makes the
// eviction candidate and every expired entry reachable in O(log n) without
// scanning the shard.
type expiryHeap []*entry

func (h expiryHeap) Len() int { return len(h) }

func (h expiryHeap) Less(i, j int) bool {
	ki, kj := h[i].key(), h[j].key()
	return ki < kj || ki == kj && h[i].seq < h[j].seq
}

func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *expiryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *expiryHeap) Pop() any {
	old := *h
	n := len(old) - 1
	e := old[n]
	old[n] = nil // let the entry be collected
	*h = old[:n]
	e.index = -1
	return e
}

// shard is one lock's worth of the Store, padded so that neighbouring
// shards' locks never share a cache line.
type shard struct {
	shardState
	_ [128 - unsafe.Sizeof(shardState{})%128]byte
}

// shardState is a shard's content. Everything but minKey is guarded by mu.
type shardState struct {
	mu    sync.RWMutex
	m     map[string]*entry
	heap  expiryHeap
	bytes int64
	seq   uint64
	// minKey mirrors heap[0].key() (never when empty) so that eviction can
	// pick the shard holding the globally earliest expiry without locking
	// every shard.
	minKey atomic.Int64
}

func (sh *shard) init() {
	sh.m = make(map[string]*entry)
	sh.minKey.Store(never)
}

func (sh *shard) publish() {
	if len(sh.heap) == 0 {
		sh.minKey.Store(never)
		return
	}
	sh.minKey.Store(sh.heap[0].key())
}

// put stores data under id, reusing the entry if id is present. It returns
// the entry and how the shard's entry count and byte total changed.
func (sh *shard) put(id string, data []byte, expires int64) (e *entry, dEntries, dBytes int64) {
	sh.seq++
	if e = sh.m[id]; e != nil {
		dBytes = int64(len(data) - len(e.data))
		e.data, e.expires, e.seq = data, expires, sh.seq
		heap.Fix(&sh.heap, e.index)
	} else {
		// The id may come from an unsafe []byte-to-string conversion over a
		// buffer the caller reuses (as in fasthttp-based servers); a map key
		// that changed under us would corrupt the map.
		e = &entry{id: strings.Clone(id), data: data, expires: expires, seq: sh.seq}
		heap.Push(&sh.heap, e)
		sh.m[e.id] = e
		dEntries, dBytes = 1, int64(len(data))
	}
	sh.bytes += dBytes
	sh.publish()
	return e, dEntries, dBytes
}

// fix restores the heap order after e's expiry changed.
func (sh *shard) fix(e *entry) {
	heap.Fix(&sh.heap, e.index)
	sh.publish()
}

// remove deletes e from the shard and returns the change in bytes.
func (sh *shard) remove(e *entry) (dBytes int64) {
	heap.Remove(&sh.heap, e.index)
	delete(sh.m, e.id)
	sh.bytes -= int64(len(e.data))
	sh.publish()
	return -int64(len(e.data))
}

// victim returns the entry of this shard that eviction should take, or nil
// if there is none: the heap's minimum, unless that is keep (the entry the
// evicting Write has just stored), in which case the smaller of its
// children, which is the second smallest entry.
func (sh *shard) victim(keep *entry) *entry {
	h := sh.heap
	switch {
	case len(h) == 0:
		return nil
	case h[0] != keep:
		return h[0]
	case len(h) == 1:
		return nil
	case len(h) == 2 || h.Less(1, 2):
		return h[1]
	default:
		return h[2]
	}
}

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
