package bolt

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"go.etcd.io/bbolt"
)

// Defaults of the options.
const (
	// DefaultBucket is the name of the bbolt bucket that holds the sessions
	// when [WithBucket] is not given.
	DefaultBucket = "sessionkit"

	// DefaultFileMode is the permission of a database file that Open creates
	// when [WithFileMode] is not given: readable and writable by its owner
	// only, because the file holds session data.
	DefaultFileMode fs.FileMode = 0o600

	// DefaultLockTimeout is how long Open waits for the file lock when
	// [WithLockTimeout] is not given.
	DefaultLockTimeout = time.Second

	// DefaultSweepInterval is how often the background sweeper removes
	// expired entries when [WithSweepInterval] is not given.
	DefaultSweepInterval = 10 * time.Minute

	// DefaultSweepBatch is how many expired entries one write transaction
	// of DeleteExpired removes at most when [WithSweepBatch] is not given.
	DefaultSweepBatch = 100
)

// Option configures a Store. Options are passed to [Open] or [New] and
// applied in order; a later option overrides an earlier one of the same
// kind. An invalid option makes Open and New return an error.
type Option func(*options)

type options struct {
	bucket        string
	fileMode      fs.FileMode
	lockTimeout   time.Duration
	noSync        bool
	sweepInterval time.Duration
	sweepBatch    int
	onSweepError  func(error)
}

func defaultOptions() options {
	return options{
		bucket:        DefaultBucket,
		fileMode:      DefaultFileMode,
		lockTimeout:   DefaultLockTimeout,
		sweepInterval: DefaultSweepInterval,
		sweepBatch:    DefaultSweepBatch,
		onSweepError:  logSweepError,
	}
}

func logSweepError(err error) {
	// err never holds an id: DeleteExpired's errors name no entry.
	slog.Default().Warn("sessionkit/bolt: background sweep failed", "err", err)
}

// WithBucket sets the name of the top-level bbolt bucket that holds the
// sessions. The default is [DefaultBucket] ("sessionkit"). The Store creates
// the bucket if it is missing and owns everything in it: several Stores may
// share one database through New as long as each has its own bucket. An
// empty name makes Open and New fail.
func WithBucket(name string) Option {
	return func(o *options) { o.bucket = name }
}

// WithFileMode sets the permission bits Open gives a database file it
// creates. The default is [DefaultFileMode] (0o600). An existing file keeps
// its mode. The option has no effect on New, whose caller opened the file.
func WithFileMode(mode fs.FileMode) Option {
	return func(o *options) { o.fileMode = mode }
}

// WithLockTimeout sets how long Open waits for the exclusive lock on the
// database file. The default is [DefaultLockTimeout] (1 s). bbolt lets one
// process (one open handle) use a file at a time; while another process or
// Store holds it, Open retries until the timeout and then fails with an
// error wrapping bbolt's ErrTimeout (go.etcd.io/bbolt/errors.ErrTimeout).
// A d of zero or less fails at once instead of waiting, so that Open never
// hangs. The option has no effect on New.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) { o.lockTimeout = d }
}

// WithSync sets whether bbolt flushes every commit to stable storage before
// a Write, Touch or Invalidate returns. The default is true: a call that
// returned nil is on disk and survives a crash or power loss.
//
// With sync false, writes are much faster but only reach the operating
// system's page cache: a process crash keeps them, yet an operating system
// crash or power loss can lose recent writes and, as the bbolt
// documentation warns, can leave the database file corrupt. Use it for
// tests, or for sessions you can afford to lose all of. The option has no
// effect on [New]: set the NoSync field of your bbolt.DB instead.
func WithSync(sync bool) Option {
	return func(o *options) { o.noSync = !sync }
}

// WithSweepInterval sets how often a background goroutine removes expired
// entries with [Store.DeleteExpired]. The default is [DefaultSweepInterval]
// (10 minutes). A d of zero or less turns the background sweeper off; call
// DeleteExpired yourself then. Expired entries are never returned by Read
// or List either way; sweeping only gives their space back to the file.
// Errors of the background sweeper go to [WithSweepErrorHandler] and the
// sweep is retried at the next tick. Close stops the sweeper and waits for
// it to return.
func WithSweepInterval(d time.Duration) Option {
	return func(o *options) { o.sweepInterval = d }
}

// WithSweepBatch sets the largest number of expired entries that one write
// transaction of DeleteExpired removes. The default is [DefaultSweepBatch]
// (100). bbolt has a single writer, so a smaller batch lets session writes
// in between sooner during a large sweep, at the cost of more commits (and
// fsyncs) per sweep; DeleteExpired rests after each batch for three times
// as long as its transaction took. A value below 1 makes [Open] and [New] return an error.
func WithSweepBatch(n int) Option {
	return func(o *options) { o.sweepBatch = n }
}

// WithSweepErrorHandler sets the function that receives the errors of the
// background sweeper, from its goroutine, one call at a time; the sweep is
// retried at the next interval. The default logs them with [slog.Default]
// at level Warn; nil discards them. The errors never contain an id. Once a
// damaged file has poisoned the Store (see [ErrCorrupt]), every sweep fails
// with an error wrapping ErrCorrupt until Close.
func WithSweepErrorHandler(handle func(error)) Option {
	return func(o *options) {
		if handle == nil {
			handle = func(error) {}
		}
		o.onSweepError = handle
	}
}

func buildOptions(opts []Option) options {
	o := defaultOptions()
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

func (o options) validate() error {
	if o.bucket == "" {
		return errors.New("sessionkit/bolt: empty bucket name")
	}
	if len(o.bucket) > bbolt.MaxKeySize {
		return fmt.Errorf("sessionkit/bolt: bucket name longer than %d bytes", bbolt.MaxKeySize)
	}
	if o.sweepBatch < 1 {
		return fmt.Errorf("sessionkit/bolt: WithSweepBatch: size %d is less than 1", o.sweepBatch)
	}
	return nil
}
