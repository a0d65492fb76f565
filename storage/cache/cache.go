package cache

import (
	"hash/maphash"
	"io"

	"github.com/sessionkit/sessionkit/sessions"
)

// Store is a [sessions.Storage] with a bounded in-memory cache in front of a
// delegate Storage. New returns one.
//
// The dynamic type of a Store also implements [sessions.Toucher],
// [sessions.Lister], [sessions.Sweeper], [sessions.ConditionalWriter],
// [sessions.ExpiryReader] and [sessions.Indexer] exactly when the delegate
// does (it is built by
// [sessions.Compose]), so a type assertion on it tells the truth about what
// the delegate can do:
//
//   - Touch forwards to the delegate and then moves the cached expiry (or
//     drops the entry if the delegate failed).
//   - Create and Replace forward to the delegate; when it succeeds the
//     cache keeps what was written with its expiry, and when it refuses (or
//     fails) the cached entry is dropped.
//   - ReadWithExpiry answers from the cache like Read, with the expiry the
//     cache knows, which is exact because the delegate reports it.
//   - List forwards to the delegate: the cache holds only part of the ids.
//   - DeleteExpired forwards to the delegate, returning its count, and also
//     drops the cache's own expired and idle entries.
//   - CreateIndexed and ReplaceIndexed ([sessions.Indexer]) forward to the
//     delegate and update or drop the cached entry as Create and Replace
//     do; ReadIndex forwards to the delegate, since the cache holds no
//     index (see the package documentation).
//
// io.Closer is the cache's own and always present. StatsOf reports the
// cache's counters.
//
// A Store is safe for concurrent use by multiple goroutines.
type Store interface {
	sessions.Storage
	io.Closer
}

// StatsOf returns the counters of the cache s, which New returned, and true;
// for any other storage it returns the zero Stats and false. It may be
// called at any time, also after Close.
func StatsOf(s sessions.Storage) (Stats, bool) {
	for s != nil {
		switch v := s.(type) {
		case *store:
			return v.Stats(), true
		case interface{ Unwrap() sessions.Storage }:
			s = v.Unwrap()
		default:
			return Stats{}, false
		}
	}
	return Stats{}, false
}

// Stats are counters for tests and operators. Each field counts since New,
// except Entries and Bytes, which describe the cache now.
type Stats struct {
	// Hits counts reads answered from the cache, NegativeHits among them
	// those answered with a remembered not-found (see [WithNegativeTTL]).
	Hits, NegativeHits uint64
	// Misses counts reads the cache could not answer. Loads counts the
	// delegate reads they caused: concurrent misses on one id share a
	// load, so Loads can be lower than Misses.
	Misses, Loads uint64
	// Evictions counts entries removed to stay within [WithMaxEntries] or
	// [WithMaxBytes].
	Evictions uint64
	// Expirations counts entries dropped because they expired or stayed
	// unused past [WithIdleTimeout].
	Expirations uint64
	// Uncached counts values that were stored or loaded but too large for
	// [WithMaxBytes], so they were passed through without being cached.
	Uncached uint64
	// Entries is the number of entries cached, negative ones included, and
	// Bytes the total length of their values.
	Entries int
	Bytes   int64
}

// ExpiryReader is sessions.ExpiryReader, which it was before it moved into
// package sessions.
//
// Deprecated: use sessions.ExpiryReader.
type ExpiryReader = sessions.ExpiryReader

// New returns an empty cache in front of delegate, configured by opts.
//
// The returned Store implements [sessions.Toucher], [sessions.Lister],
// [sessions.Sweeper], [sessions.ConditionalWriter], [sessions.ExpiryReader]
// and [sessions.Indexer] exactly when delegate does; see Store. The cache starts
// no goroutines. delegate must not be nil.
func New(delegate sessions.Storage, opts ...Option) Store {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	s := &store{delegate: delegate, seed: maphash.MakeSeed(), opts: o}
	s.expiry, _ = delegate.(sessions.ExpiryReader)
	for i := range s.shards {
		s.shards[i].init()
	}
	return s.withCapabilities()
}

// withCapabilities returns s as a Store that also implements exactly the
// optional interfaces of its delegate, each through a forwarder that keeps
// the cache coherent, and io.Closer (the cache's own Close).
func (s *store) withCapabilities() Store {
	d := sessions.CapabilitiesOf(s.delegate)
	c := sessions.Capabilities{Closer: s}
	if d.Toucher != nil {
		c.Toucher = touchForwarder{s, d.Toucher}
	}
	if d.Lister != nil {
		c.Lister = listForwarder{s, d.Lister}
	}
	if d.Sweeper != nil {
		c.Sweeper = sweepForwarder{s, d.Sweeper}
	}
	if d.ConditionalWriter != nil {
		c.ConditionalWriter = conditionalForwarder{s, d.ConditionalWriter}
	}
	if d.ExpiryReader != nil {
		c.ExpiryReader = expiryForwarder{s}
	}
	if d.Indexer != nil {
		c.Indexer = indexForwarder{s, d.Indexer}
	}
	return sessions.Compose(s, c).(Store)
}

// Close drops every cached entry and, with WithCloseDelegate(true), closes
// the delegate if it implements io.Closer, returning its error. After Close
// every method returns an error wrapping [sessions.ErrClosed], including
// Close itself; calls that run concurrently with Close may see the cache
// open or closed.
func (s *store) Close() error {
	first := false
	s.once.Do(func() {
		first = true
		s.closed.Store(true)
		for i := range s.shards {
			sh := &s.shards[i]
			sh.mu.Lock()
			for e := sh.lru.next; e != &sh.lru; e = sh.lru.next {
				s.removeLocked(sh, e)
			}
			sh.mu.Unlock()
		}
	})
	if !first {
		return errClosed
	}
	if c, ok := s.delegate.(io.Closer); ok && s.opts.closeDelegate {
		return c.Close()
	}
	return nil
}

// Stats returns the cache's counters; see Stats.
func (s *store) Stats() Stats {
	var st Stats
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		c := sh.counters
		st.Entries += len(sh.m)
		st.Bytes += sh.bytes
		sh.mu.Unlock()
		st.Hits += c.hits
		st.NegativeHits += c.negativeHits
		st.Misses += c.misses
		st.Loads += c.loads
		st.Evictions += c.evictions
		st.Expirations += c.expirations
		st.Uncached += c.uncached
	}
	return st
}
