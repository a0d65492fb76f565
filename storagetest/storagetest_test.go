package storagetest_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storagetest"
)

// newRef is the newStorage of the reference storage.
func newRef(t testing.TB) sessions.Storage {
	s := newRefStore()
	t.Cleanup(func() { s.Close() })
	return s
}

// reopenRef closes s and opens a refStore over its data, as a durable
// storage reopens its file.
func reopenRef(t *testing.T, s sessions.Storage) sessions.Storage {
	r := s.(*refStore)
	if err := r.Close(); err != nil {
		t.Fatalf("Close before reopening returned %v", err)
	}
	re := openRefStore(r.d)
	t.Cleanup(func() { re.Close() })
	return re
}

// TestReferencePasses: the reference storage obeys the contract, so every
// failure the suite reports about it would be a bug in the suite.
func TestReferencePasses(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) sessions.Storage { return newRef(t) }, storagetest.WithReopen(reopenRef))
}

// TestReferencePassesSequentially: the suite does not depend on running its
// subtests in parallel.
func TestReferencePassesSequentially(t *testing.T) {
	if testing.Short() {
		t.Skip("the sequential run takes a few seconds")
	}
	storagetest.Run(t, func(t *testing.T) sessions.Storage { return newRef(t) },
		storagetest.WithReopen(reopenRef), storagetest.WithSequentialSubtests())
}

// TestLazyIndexPasses: the reference storage with the index that
// docs/storage-authors.md recommends where an exact one costs a round trip
// (filings only added by writes, each entry recording its index key, and
// ReadIndex checking both) passes too: the Indexer rules do not demand an
// exact index.
func TestLazyIndexPasses(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) sessions.Storage {
		s := newRefStore()
		s.d.lazy = true
		t.Cleanup(func() { s.Close() })
		return s
	}, storagetest.WithReopen(reopenRef))
}

// TestFromBytesPasses: a ByteStorage adapted with sessions.FromBytes, the
// way most third-party storages will be written, passes the suite when the
// ByteStorage is correct.
func TestFromBytesPasses(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) sessions.Storage {
		s := sessions.FromBytes(refBytes{newRefStore()})
		t.Cleanup(func() { s.(io.Closer).Close() })
		return s
	})
}

// BenchmarkReference runs the standard workloads on the reference storage.
func BenchmarkReference(b *testing.B) {
	storagetest.Benchmark(b, newRef)
}

// BenchmarkNop runs the standard workloads on a storage that does nothing
// but call the callbacks: the cost of the harness itself, the baseline
// against which BenchmarkReference (and any storage's numbers) compare.
func BenchmarkNop(b *testing.B) {
	storagetest.Benchmark(b, func(testing.TB) sessions.Storage { return &nopStore{} })
}

// nopStore keeps the size of the last value written and reads back that
// many zero bytes: just enough for the benchmark's length check.
type nopStore struct{ size atomic.Int64 }

func (s *nopStore) Write(_ context.Context, _ string, _ time.Time, write func(io.Writer) error) error {
	var c countWriter
	if err := write(&c); err != nil {
		return err
	}
	s.size.Store(int64(c))
	return nil
}

func (s *nopStore) Read(_ context.Context, _ string, read func(io.Reader) error) error {
	return read(io.LimitReader(zeros{}, s.size.Load()))
}

func (s *nopStore) Invalidate(context.Context, string) error { return nil }

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// refBytes is the reference storage as a sessions.ByteStorage; it keeps the
// reference's Touch, List, DeleteExpired and Close, which FromBytes passes
// through.
type refBytes struct{ *refStore }

func (b refBytes) Load(ctx context.Context, id string) ([]byte, error) {
	var data []byte
	err := b.refStore.Read(ctx, id, func(r io.Reader) error {
		var err error
		data, err = io.ReadAll(r)
		return err
	})
	return data, err
}

func (b refBytes) Save(ctx context.Context, id string, data []byte, expires time.Time) error {
	return b.refStore.Write(ctx, id, expires, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

func (b refBytes) Delete(ctx context.Context, id string) error {
	return b.refStore.Invalidate(ctx, id)
}
