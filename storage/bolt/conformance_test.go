package bolt_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/bolt"
	"github.com/sessionkit/sessionkit/storagetest"
	"go.etcd.io/bbolt"
)

// paths remembers the file of every Store the conformance tests open, so
// that the reopen func can open it again as a restarted process would.
var paths sync.Map // *bolt.Store -> string

func openAt(t *testing.T, path string) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, bolt.WithLockTimeout(0))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	paths.Store(s, path)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t,
		func(t *testing.T) sessions.Storage {
			return openAt(t, filepath.Join(t.TempDir(), "sessions.db"))
		},
		storagetest.WithReopen(func(t *testing.T, st sessions.Storage) sessions.Storage {
			path, ok := paths.Load(st)
			if !ok {
				t.Fatal("reopen: not a Store from this test")
			}
			// Close releases the file lock; Open with no lock timeout then
			// proves it did.
			if err := st.(*bolt.Store).Close(); err != nil {
				t.Fatalf("reopen: Close: %v", err)
			}
			return openAt(t, path.(string))
		}),
	)
}

// TestConformanceNew runs the suite on Stores from New that share one
// caller-owned database, each in its own bucket.
func TestConformanceNew(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "shared.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n atomic.Int64
	newStore := func(t *testing.T, bucket string) *bolt.Store {
		s, err := bolt.New(db, bolt.WithBucket(bucket))
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		paths.Store(s, bucket)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	storagetest.Run(t,
		func(t *testing.T) sessions.Storage {
			return newStore(t, fmt.Sprintf("bucket-%d", n.Add(1)))
		},
		storagetest.WithReopen(func(t *testing.T, st sessions.Storage) sessions.Storage {
			bucket, _ := paths.Load(st)
			if err := st.(*bolt.Store).Close(); err != nil {
				t.Fatalf("reopen: Close: %v", err)
			}
			return newStore(t, bucket.(string))
		}),
	)
}

func BenchmarkStorage(b *testing.B) {
	storagetest.Benchmark(b, func(tb testing.TB) sessions.Storage {
		s, err := bolt.Open(filepath.Join(tb.TempDir(), "sessions.db"))
		if err != nil {
			tb.Fatalf("Open: %v", err)
		}
		tb.Cleanup(func() { _ = s.Close() })
		return s
	})
}
