package directory

import (
	"io/fs"
	"log/slog"
	"time"
)

// Option configures a Store. Options are applied in order by New; a later
// option overrides an earlier one.
type Option func(*options)

type options struct {
	fileMode      fs.FileMode
	dirMode       fs.FileMode
	sync          bool
	sweepInterval time.Duration
	onSweepError  func(error)
}

// Defaults of the options.
const (
	// DefaultFileMode is the permission of entry files when [WithFileMode] is
	// not given: readable and writable by their owner only, since sessions
	// are secrets.
	DefaultFileMode fs.FileMode = 0o600

	// DefaultDirMode is the permission of the folders the Store creates
	// when [WithDirMode] is not given: only the owner may list the ids.
	DefaultDirMode fs.FileMode = 0o700

	// DefaultSweepInterval is how often the background sweeper runs when
	// [WithSweepInterval] is not given.
	DefaultSweepInterval = time.Hour
)

func defaultOptions() options {
	return options{
		fileMode:      DefaultFileMode,
		dirMode:       DefaultDirMode,
		sweepInterval: DefaultSweepInterval,
		onSweepError: func(err error) {
			// err never holds an id: every path in it is redacted.
			slog.Default().Warn("sessionkit/directory: background sweep failed", "err", err)
		},
	}
}

// WithFileMode sets the permission bits of entry files. The default,
// [DefaultFileMode] (0o600), keeps sessions readable by their owner only:
// they are secrets. The bits are applied exactly, whatever the process
// umask. New rejects a mode without owner read and write (0o600), which Read
// and Touch need. Only the permission bits of mode are used.
func WithFileMode(mode fs.FileMode) Option {
	return func(o *options) { o.fileMode = mode.Perm() }
}

// WithDirMode sets the permission bits of the folders the Store creates:
// the root when it is missing, and the fan-out folders. The default,
// [DefaultDirMode] (0o700), lets only the owner list the ids. The bits are
// applied exactly, whatever the process umask; an existing root keeps its
// mode. New rejects a mode without owner read, write and search (0o700).
// Only the permission bits of mode are used.
func WithDirMode(mode fs.FileMode) Option {
	return func(o *options) { o.dirMode = mode.Perm() }
}

// WithSync sets whether Write, Touch and Invalidate flush their change to
// stable storage before they return (the same option as bolt's, with the
// opposite default): Write syncs the file before the rename
// and the folder after it, Touch syncs the file, Invalidate the folder.
//
// The default is false. Whatever the setting, a reader (in this or another
// process) sees an entry's whole old or whole new content, and a process
// crash loses nothing that a call reported done: the kernel holds the data.
// Sync only matters for an operating system crash or power loss: without
// it, entries written, touched or removed in the last seconds before the
// crash may come back in their old state, or as an empty file, which reads
// as absent (ErrNotFound) and is removed by the sweeper. For sessions that
// usually means a few users signed out, which is why the default trades it
// for writes that cost microseconds instead of milliseconds.
func WithSync(sync bool) Option {
	return func(o *options) { o.sync = sync }
}

// WithSweepInterval sets how often a background goroutine calls the
// equivalent of DeleteExpired, which also removes temporary files that
// crashed writers left behind. The default is [DefaultSweepInterval] (one
// hour), with the first sweep as soon as the Store opens, so that even a
// process restarted more often than the interval cleans up. A zero or
// negative interval disables the goroutine; then call DeleteExpired
// yourself, or expired files stay on disk forever (they still read as
// absent). Close stops the goroutine and waits for it.
//
// When several processes share a root, one sweeper is enough; the others
// may disable theirs, but concurrent sweepers are safe.
func WithSweepInterval(every time.Duration) Option {
	return func(o *options) { o.sweepInterval = every }
}

// WithSweepErrorHandler sets the function that receives the errors of the
// background sweeper, from its goroutine. The default logs them with
// [slog.Default] at level Warn; nil discards them. The errors never contain
// an id. A failed sweep is retried at the next interval. The directory
// sweep removes one file at a time and holds no lock, so it has no batch
// size to set.
func WithSweepErrorHandler(handle func(error)) Option {
	return func(o *options) { o.onSweepError = handle }
}
