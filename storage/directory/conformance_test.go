package directory_test

import (
	"testing"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/directory"
	"github.com/sessionkit/sessionkit/storagetest"
)

// newStore returns a Store over a fresh folder, closed when the test ends.
// The background sweeper is off: the suite counts what DeleteExpired
// removes, and a concurrent sweep would take some of it.
func newStore(tb testing.TB, opts ...directory.Option) *directory.Store {
	tb.Helper()
	s, err := directory.New(tb.TempDir(), append([]directory.Option{directory.WithSweepInterval(0)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// reopen closes st and opens a new Store over the same root, as a restarted
// process would.
func reopen(opts ...directory.Option) func(t *testing.T, st sessions.Storage) sessions.Storage {
	return func(t *testing.T, st sessions.Storage) sessions.Storage {
		old := st.(*directory.Store)
		old.Close() // the suite may have closed it already
		s, err := directory.New(old.Root(), append([]directory.Option{directory.WithSweepInterval(0)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestConformance(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []directory.Option
	}{
		{"Default", nil},
		{"Sync", []directory.Option{directory.WithSync(true)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T) sessions.Storage {
				return newStore(t, c.opts...)
			}, storagetest.WithReopen(reopen(c.opts...)))
		})
	}
}

func BenchmarkStorage(b *testing.B) {
	storagetest.Benchmark(b, func(tb testing.TB) sessions.Storage { return newStore(tb) })
}
