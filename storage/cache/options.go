package cache

import "time"

// Defaults of the options.
const (
	DefaultMaxEntries  = 10_000
	DefaultMaxBytes    = 64 << 20
	DefaultIdleTimeout = 5 * time.Minute
)

// Option configures a cache. Options are applied in order by New; a later
// option overrides an earlier one of the same kind.
type Option func(*options)

type options struct {
	maxEntries    int64
	maxBytes      int64
	idleTimeout   time.Duration
	negativeTTL   time.Duration
	closeDelegate bool
	// now is the clock. Tests replace it; every expiry and idle decision
	// reads the time through it.
	now func() time.Time
}

func defaultOptions() options {
	return options{
		maxEntries:  DefaultMaxEntries,
		maxBytes:    DefaultMaxBytes,
		idleTimeout: DefaultIdleTimeout,
		now:         time.Now,
	}
}

// WithMaxEntries bounds the number of entries the cache holds, negative
// entries (see [WithNegativeTTL]) included. The default is
// [DefaultMaxEntries] (10,000); n <= 0 removes the bound on entries, leaving
// the byte bound.
//
// When an insertion takes the cache over the bound, the least recently used
// entries are evicted; see the package documentation.
func WithMaxEntries(n int) Option {
	return func(o *options) { o.maxEntries = max(int64(n), 0) }
}

// WithMaxBytes bounds the total length of the cached values (ids and
// bookkeeping are not counted). The default is [DefaultMaxBytes] (64 MiB);
// n <= 0 removes the bound on bytes, leaving the entry bound.
//
// A value longer than n is never cached: reads and writes of it go to the
// delegate every time and succeed or fail as the delegate does.
func WithMaxBytes(n int64) Option {
	return func(o *options) { o.maxBytes = max(n, 0) }
}

// WithIdleTimeout drops an entry that has not been read or written for d.
// The default is [DefaultIdleTimeout] (5 minutes); d <= 0 keeps entries until
// they expire or are evicted.
//
// An idle entry is never served; its memory is given back the next time an
// entry is inserted into the same part of the cache, or by DeleteExpired.
func WithIdleTimeout(d time.Duration) Option {
	return func(o *options) { o.idleTimeout = max(d, 0) }
}

// WithNegativeTTL makes the cache remember for d that an id is absent from
// the delegate, so that repeated reads of an unknown id (a stale or forged
// cookie) do not reach the delegate each time. The default is 0: not-found
// results are not cached.
//
// Negative entries count toward [WithMaxEntries], so a flood of random ids
// evicts them rather than growing the cache. A Write or Touch through the
// cache replaces a negative entry at once; an entry created in the delegate
// by another process stays invisible for up to d.
func WithNegativeTTL(d time.Duration) Option {
	return func(o *options) { o.negativeTTL = max(d, 0) }
}

// WithCloseDelegate makes Close also close the delegate when the delegate
// implements io.Closer. The default is false: as with bufio and gzip
// writers, the cache does not close what it did not open, so a delegate
// shared with other code stays usable.
func WithCloseDelegate(close bool) Option {
	return func(o *options) { o.closeDelegate = close }
}
