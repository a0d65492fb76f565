package memory

import "time"

// DefaultSweepInterval is how often the background sweeper removes expired
// entries when [WithSweepInterval] is not given.
const DefaultSweepInterval = time.Minute

// Option configures a Store. Options are applied in order by New; a later
// option overrides an earlier one of the same kind.
type Option func(*options)

type options struct {
	sweepInterval time.Duration
	maxEntries    int64
	maxBytes      int64
	// now is the clock. Tests replace it; everything that compares against
	// an expiry reads the time through it.
	now func() time.Time
}

func defaultOptions() options {
	return options{
		sweepInterval: DefaultSweepInterval,
		now:           time.Now,
	}
}

// WithSweepInterval sets how often a background goroutine removes expired
// entries. The default is [DefaultSweepInterval] (one minute); d <= 0
// disables the goroutine.
//
// Expired entries are never served whatever the interval (every read checks
// the expiry); the sweeper only gives their memory back. Without it, expired
// entries stay until they are overwritten, invalidated, evicted by a bound,
// or removed by an explicit [Store.DeleteExpired]. Close stops the goroutine.
//
// The memory sweep cannot fail and locks one shard at a time, for at most
// a fixed batch of removals per lock hold, so this backend has neither a
// sweep error handler nor a sweep batch size. None
// of its options can be invalid (every value has a documented meaning), so
// [New] returns no error.
func WithSweepInterval(d time.Duration) Option {
	return func(o *options) { o.sweepInterval = d }
}

// WithMaxEntries bounds the number of entries the Store holds, counting
// expired entries that have not been removed yet. The default is no bound;
// n <= 0 means no bound.
//
// When a Write would go over the bound, the Store evicts other entries,
// earliest expiry first; see the package documentation for the exact rule.
func WithMaxEntries(n int) Option {
	return func(o *options) { o.maxEntries = max(int64(n), 0) }
}

// WithMaxBytes bounds the total length of the stored values (ids and
// bookkeeping are not counted). The default is no bound; n <= 0 means no
// bound.
//
// A Write of a single value longer than n fails with an error wrapping
// [sessions.ErrTooLarge] and leaves the previous content in place. Otherwise
// other entries are evicted, earliest expiry first, to make room; see the
// package documentation for the exact rule.
func WithMaxBytes(n int64) Option {
	return func(o *options) { o.maxBytes = max(n, 0) }
}
