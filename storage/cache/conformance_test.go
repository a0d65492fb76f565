package cache_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/cache"
	"github.com/sessionkit/sessionkit/storage/directory"
	"github.com/sessionkit/sessionkit/storage/memory"
	"github.com/sessionkit/sessionkit/storagetest"
)

// newMemory returns a memory store that is closed when the test ends.
func newMemory(tb testing.TB) *memory.Store {
	m := memory.New(memory.WithSweepInterval(0))
	tb.Cleanup(func() { _ = m.Close() })
	return m
}

// newCache returns a cache over delegate that is closed when the test ends.
func newCache(tb testing.TB, delegate sessions.Storage, opts ...cache.Option) cache.Store {
	c := cache.New(delegate, opts...)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// plainMemory hides memory's ReadWithExpiry (and every optional capability
// but the ones listed), the way a delegate that cannot report expiries
// looks to the cache.
type plainMemory struct{ m *memory.Store }

func (p plainMemory) Write(ctx context.Context, id string, exp time.Time, w func(io.Writer) error) error {
	return p.m.Write(ctx, id, exp, w)
}
func (p plainMemory) Read(ctx context.Context, id string, r func(io.Reader) error) error {
	return p.m.Read(ctx, id, r)
}
func (p plainMemory) Invalidate(ctx context.Context, id string) error { return p.m.Invalidate(ctx, id) }

// plainToucherMemory is plainMemory with Touch.
type plainToucherMemory struct{ plainMemory }

func (p plainToucherMemory) Touch(ctx context.Context, id string, exp time.Time) error {
	return p.m.Touch(ctx, id, exp)
}

func TestConformance(t *testing.T) {
	tests := []struct {
		name string
		new  func(t *testing.T) sessions.Storage
	}{
		// Values loaded by Read are cached (memory reports expiries).
		{"OverMemory", func(t *testing.T) sessions.Storage {
			return newCache(t, newMemory(t), cache.WithNegativeTTL(time.Minute))
		}},
		// Only values written or touched through the cache are cached.
		{"OverPlainDelegate", func(t *testing.T) sessions.Storage {
			return newCache(t, plainToucherMemory{plainMemory{newMemory(t)}})
		}},
		// A cache far smaller than the suite's data evicts all the time;
		// the contract must hold regardless.
		{"TinyCacheOverMemory", func(t *testing.T) sessions.Storage {
			return newCache(t, newMemory(t), cache.WithMaxEntries(3), cache.WithMaxBytes(4<<10))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storagetest.Run(t, tt.new)
		})
	}
	// Over a durable delegate, the durability rules hold through the
	// cache: a new cache over a new directory store on the same root sees
	// what the old one wrote.
	t.Run("OverDirectory", func(t *testing.T) {
		var roots sync.Map // cache.Store -> root
		open := func(t *testing.T, root string) sessions.Storage {
			d, err := directory.New(root)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = d.Close() })
			c := newCache(t, d, cache.WithCloseDelegate(true))
			roots.Store(c, root)
			return c
		}
		storagetest.Run(t, func(t *testing.T) sessions.Storage { return open(t, t.TempDir()) },
			storagetest.WithReopen(func(t *testing.T, s sessions.Storage) sessions.Storage {
				root, _ := roots.Load(s)
				_ = s.(io.Closer).Close()
				return open(t, root.(string))
			}))
	})
}

// TestConformanceClosingTheDelegate checks the rules of io.Closer when Close
// also closes the delegate.
func TestConformanceClosingTheDelegate(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) sessions.Storage {
		return newCache(t, newMemory(t), cache.WithCloseDelegate(true))
	})
}

func BenchmarkStorage(b *testing.B) {
	b.Run("OverMemory", func(b *testing.B) {
		storagetest.Benchmark(b, func(tb testing.TB) sessions.Storage { return newCache(tb, newMemory(tb)) })
	})
	b.Run("OverDirectory", func(b *testing.B) {
		storagetest.Benchmark(b, func(tb testing.TB) sessions.Storage {
			d, err := directory.New(tb.TempDir())
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { _ = d.Close() })
			return newCache(tb, d)
		})
	})
}

// must returns the Stats of a cache, which StatsOf always finds.
func must(st cache.Stats, ok bool) cache.Stats {
	if !ok {
		panic("not a cache")
	}
	return st
}
