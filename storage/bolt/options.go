package bolt

import (
	"io/fs"
	"time"
)

// Defaults of the options.
const (
	// DefaultBucket is the name of the bbolt bucket that holds the sessions
	// when WithBucket is not given.
	DefaultBucket = "sessionkit"

	// DefaultFileMode is the permission of a database file that Open creates
	// when WithFileMode is not given: readable and writable by its owner
	// only, because the file holds session data.
	DefaultFileMode fs.FileMode = 0o600

	// DefaultLockTimeout is how long Open waits for the file lock when
	// WithLockTimeout is not given.
	DefaultLockTimeout = time.Second

	// DefaultSweepInterval is how often the background sweeper removes
	// expired entries when WithSweepInterval is not given.
	DefaultSweepInterval = 10 * time.Minute

	// DefaultSweepBatch is how many expired entries one write transaction
	// of DeleteExpired removes at most when WithSweepBatch is not given.
	DefaultSweepBatch = 1000
)

// Option configures a Store. Options are passed to Open or New.
type Option func(*options)

type options struct {
	bucket        string
	fileMode      fs.FileMode
	lockTimeout   time.Duration
	noSync        bool
	sweepInterval time.Duration
	sweepBatch    int
}

func defaultOptions() options {
	return options{
		bucket:        DefaultBucket,
		fileMode:      DefaultFileMode,
		lockTimeout:   DefaultLockTimeout,
		sweepInterval: DefaultSweepInterval,
		sweepBatch:    DefaultSweepBatch,
	}
}

// WithBucket sets the name of the top-level bbolt bucket that holds the
// sessions. The default is DefaultBucket ("sessionkit"). The Store creates
// the bucket if it is missing and owns everything in it: several Stores may
// share one database through New as long as each has its own bucket. An
// empty name makes Open and New fail.
func WithBucket(name string) Option {
	return func(o *options) { o.bucket = name }
}

// WithFileMode sets the permission bits Open gives a database file it
// creates. The default is DefaultFileMode (0o600). An existing file keeps
// its mode. The option has no effect on New, whose caller opened the file.
func WithFileMode(mode fs.FileMode) Option {
	return func(o *options) { o.fileMode = mode }
}

// WithLockTimeout sets how long Open waits for the exclusive lock on the
// database file. The default is DefaultLockTimeout (1 s). bbolt lets one
// process (one open handle) use a file at a time; while another process or
// Store holds it, Open retries until the timeout and then fails with an
// error wrapping bbolt's ErrTimeout (go.etcd.io/bbolt/errors.ErrTimeout).
// A d of zero or less fails at once instead of waiting, so that Open never
// hangs. The option has no effect on New.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) { o.lockTimeout = d }
}

// WithNoSync turns off the fsync that bbolt performs on every commit. The
// default is false: a Write, Touch or Invalidate that returned nil is on
// disk and survives a crash or power loss.
//
// With noSync true, writes are much faster but only reach the operating
// system's page cache: a process crash keeps them, yet an operating system
// crash or power loss can lose recent writes and, as the bbolt
// documentation warns, can leave the database file corrupt. Use it for
// tests, or for sessions you can afford to lose all of. The option has no
// effect on New: set the NoSync field of your bbolt.DB instead.
func WithNoSync(noSync bool) Option {
	return func(o *options) { o.noSync = noSync }
}

// WithSweepInterval sets how often a background goroutine removes expired
// entries with DeleteExpired. The default is DefaultSweepInterval (10
// minutes). A d of zero or less turns the background sweeper off; call
// DeleteExpired yourself then. Expired entries are never returned by Read
// or List either way; sweeping only gives their space back to the file.
// Errors of the background sweeper are dropped and the sweep is retried at
// the next tick: call DeleteExpired yourself when you need to see them.
// Close stops the sweeper and waits for it to return.
func WithSweepInterval(d time.Duration) Option {
	return func(o *options) { o.sweepInterval = d }
}

// WithSweepBatch sets the largest number of expired entries that one write
// transaction of DeleteExpired removes. The default is DefaultSweepBatch
// (1000). bbolt has a single writer, so a smaller batch lets session writes
// in between sooner during a large sweep, at the cost of more commits (and
// fsyncs) per sweep. Values below 1 select the default.
func WithSweepBatch(n int) Option {
	return func(o *options) { o.sweepBatch = n }
}
