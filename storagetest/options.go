package storagetest

import (
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// Option changes how Run checks a storage. Options are applied in order; a
// later option overrides an earlier one of the same kind.
type Option func(*options)

type options struct {
	reopen     func(t *testing.T, s sessions.Storage) sessions.Storage
	resolution time.Duration
	sequential bool
}

// defaultResolution is the lateness Run tolerates when a storage removes an
// expired entry. It covers a storage whose clock is a server's (Postgres's
// now(), Redis's PXAT) rather than this process's, which on one machine
// differ by far less than this.
const defaultResolution = 50 * time.Millisecond

// minLead is how far ahead of now Run sets a short expiry: long enough that a
// Write followed by a Read on a loaded machine still sees the entry live,
// short enough that waiting for it to pass keeps the suite fast.
const minLead = 150 * time.Millisecond

// WithReopen enables the durability rules (the subtests under Reopen): reopen
// closes s (if it needs closing) and returns a new storage over the same
// data, as a restarted process would see it. reopen registers the cleanup of
// the storage it returns with t.Cleanup, like newStorage. Without this
// option the Reopen subtests are skipped; a storage that keeps nothing
// across a restart, such as an in-memory map, leaves it out.
func WithReopen(reopen func(t *testing.T, s sessions.Storage) sessions.Storage) Option {
	return func(o *options) { o.reopen = reopen }
}

// WithExpiryResolution tells Run how precisely the storage keeps expiry
// times: it may keep an entry up to d past its expiry (coarse timestamps, a
// server clock slightly behind this process's, expired entries removed by a
// periodic job rather than hidden from reads). Run waits d beyond every
// expiry before it requires the entry to be gone, and sets short expiries
// at least 3*d (and at least 150ms) ahead, so that an entry whose expiry
// the storage rounds down is still live when Run first reads it.
//
// The default is 50ms, enough for a storage with millisecond precision in
// this process or on a server on the same network. A storage with
// one-second precision passes WithExpiryResolution(time.Second), which
// makes the expiry subtests take a few seconds each; a storage that checks
// expiries exactly against this process's clock may pass 0. A negative d
// means 0.
func WithExpiryResolution(d time.Duration) Option {
	return func(o *options) { o.resolution = max(d, 0) }
}

// WithSequentialSubtests makes Run run its subtests one at a time instead of
// in parallel. By default the subtests of a group run in parallel, each on
// its own storage from newStorage; a storage whose instances share state
// that newStorage cannot separate (one database, one key space without a
// per-instance prefix) needs this option, and then newStorage must also
// leave the shared state empty for each subtest.
func WithSequentialSubtests() Option {
	return func(o *options) { o.sequential = true }
}
