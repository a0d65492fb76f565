package storagetest

import (
	"testing"

	"github.com/sessionkit/sessionkit/sessions"
)

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
