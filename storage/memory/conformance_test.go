package memory_test

import (
	"testing"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/memory"
	"github.com/sessionkit/sessionkit/storagetest"
)

func newStore(tb testing.TB, opts ...memory.Option) *memory.Store {
	s := memory.New(opts...)
	tb.Cleanup(func() { _ = s.Close() }) // ErrClosed when the test closed it already
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) sessions.Storage { return newStore(t) })
}

// TestConformanceBounded runs the suite with bounds large enough for every
// subtest's data, so that the bookkeeping of a bounded Store (the totals
// and the eviction check after each Write) is held to the same contract.
func TestConformanceBounded(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) sessions.Storage {
		return newStore(t, memory.WithMaxEntries(100_000), memory.WithMaxBytes(1<<30))
	})
}

func BenchmarkStorage(b *testing.B) {
	storagetest.Benchmark(b, func(tb testing.TB) sessions.Storage { return newStore(tb) })
}
