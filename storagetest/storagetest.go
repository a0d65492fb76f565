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

// suite is one call of Run: the storage factory and the options.
type suite struct {
	newStorage func(t *testing.T) sessions.Storage
	options
}

// Run checks that the storages made by newStorage obey the [sessions.Storage]
// contract, and the contracts of [sessions.Toucher],
// [sessions.ConditionalWriter], [sessions.ExpiryReader], [sessions.Indexer],
// [sessions.Lister], [sessions.Sweeper] and [io.Closer] when the storage
// implements them. Each rule
// is a subtest of t named Group/Rule, such as
// TestConformance/ReadWrite/OverwriteShorter; a failure message says what
// the storage did and what the contract wants. The package documentation
// lists the groups.
//
// newStorage is called once per subtest and must return a fresh, empty
// storage; it registers the storage's cleanup with t.Cleanup. The subtests of a group run in parallel unless
// [WithSequentialSubtests] is given, so newStorage must be safe for concurrent
// calls and its storages must not share entries. Run returns when every
// subtest has finished, so resources the caller releases after Run returns
// (with defer, say) stay available to the subtests.
//
// Subtests of an optional capability the storage lacks are skipped with a
// message, as are the durability rules without [WithReopen]. Expiry rules wait
// on the real clock for a few hundred milliseconds; see
// [WithExpiryResolution].
func Run(t *testing.T, newStorage func(t *testing.T) sessions.Storage, opts ...Option) {
	t.Helper()
	s := &suite{
		newStorage: func(t *testing.T) sessions.Storage {
			t.Helper()
			st := newStorage(t)
			if st == nil {
				t.Fatal("newStorage returned a nil storage")
			}
			return st
		},
		options: options{resolution: defaultResolution},
	}
	for _, o := range opts {
		o(&s.options)
	}
	for _, g := range s.groups() {
		// Groups run one after another and their subtests in parallel: the
		// expiry waits of one group overlap, and t.Run returns only after
		// all parallel subtests of the group have finished, which keeps
		// Run synchronous for its caller.
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					if !s.sequential {
						t.Parallel()
					}
					c.run(t)
				})
			}
		})
	}
}

// group is a named set of subtests.
type group struct {
	name  string
	cases []testCase
}

// testCase is one rule of the contract.
type testCase struct {
	name string
	run  func(t *testing.T)
}

func (s *suite) groups() []group {
	return []group{
		{"ReadWrite", s.readWriteCases()},
		{"Invalidate", s.invalidateCases()},
		{"Expiry", s.expiryCases()},
		{"WriteError", s.writeErrorCases()},
		{"ReadError", s.readErrorCases()},
		{"Concurrency", s.concurrencyCases()},
		{"InvalidID", s.invalidIDCases()},
		{"ValidID", s.validIDCases()},
		{"Context", s.contextCases()},
		{"Toucher", s.toucherCases()},
		{"ConditionalWriter", s.conditionalCases()},
		{"ExpiryReader", s.expiryReaderCases()},
		{"Indexer", s.indexerCases()},
		{"Lister", s.listerCases()},
		{"Sweeper", s.sweeperCases()},
		{"Closer", s.closerCases()},
		{"Reopen", s.reopenCases()},
		{"Sessions", s.middlewareCases()},
	}
}

// lead is how far ahead a short expiry is set.
func (s *suite) lead() time.Duration {
	return max(minLead, 3*s.resolution)
}

// soon returns a short expiry: the entry is live for the next few calls and
// expires shortly after.
func (s *suite) soon() time.Time {
	return time.Now().Add(s.lead())
}

// later returns an expiry no subtest waits for.
func later() time.Time {
	return time.Now().Add(time.Hour)
}

// past returns an expiry that has passed by far more than any resolution.
func past() time.Time {
	return time.Now().Add(-time.Hour)
}

// waitPast sleeps until the storage must treat an entry expiring at exp as
// expired.
func (s *suite) waitPast(exp time.Time) {
	time.Sleep(time.Until(exp.Add(s.resolution)))
}

// stillLive reports whether an entry expiring at exp must still be live now:
// when the machine was too slow for Run to read the entry before its
// expiry, a subtest skips its "live before expiry" check rather than fail a
// correct storage.
func (s *suite) stillLive(exp time.Time) bool {
	return time.Now().Add(s.resolution).Before(exp)
}
