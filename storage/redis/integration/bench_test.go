package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/redis"
	"github.com/sessionkit/sessionkit/storagetest"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// BenchmarkVersusRaw compares the Store with go-redis doing the same work
// on the same server in the same run: GET for Read, SET ... PX for Write.
// Each sub-benchmark, Op/Mode, runs both side by side (see compare); the
// target is a Store throughput of at least 0.9 times the raw one.
func BenchmarkVersusRaw(b *testing.B) {
	client := newClient(b, containers.Redis(b))
	prefix := uniquePrefix()
	b.Cleanup(func() { deleteKeys(b, client, prefix) })
	s := mustNew(b, client, redis.WithPrefix(prefix))

	const nIDs = 1000
	payload := bytes.Repeat([]byte("s"), 1024)
	ids := make([]string, nIDs)
	keys := make([]string, nIDs)
	for i := range ids {
		ids[i] = sessions.NewID()
		keys[i] = prefix + ids[i]
		if err := client.Set(b.Context(), keys[i], payload, time.Hour).Err(); err != nil {
			b.Fatal(err)
		}
	}
	write := func(w io.Writer) error { _, err := w.Write(payload); return err }
	read := func(r io.Reader) error {
		n, err := io.Copy(io.Discard, r)
		if err == nil && n != int64(len(payload)) {
			err = fmt.Errorf("read %d bytes, want %d", n, len(payload))
		}
		return err
	}
	rawRead := func(ctx context.Context, i int) error {
		v, err := client.Get(ctx, keys[i]).Result()
		if err == nil && len(v) != len(payload) {
			err = fmt.Errorf("read %d bytes, want %d", len(v), len(payload))
		}
		return err
	}
	// 1h plus a fraction of a second makes go-redis send PX, not EX.
	rawWrite := func(ctx context.Context, i int) error {
		return client.Set(ctx, keys[i], payload, time.Hour+time.Millisecond).Err()
	}
	storeRead := func(ctx context.Context, i int) error { return s.Read(ctx, ids[i], read) }
	storeWrite := func(ctx context.Context, i int) error {
		return s.Write(ctx, ids[i], time.Now().Add(time.Hour), write)
	}

	ops := []struct {
		name       string
		raw, store func(ctx context.Context, i int) error
	}{
		{"Read", rawRead, storeRead},
		{"Write", rawWrite, storeWrite},
	}
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			b.Run("Serial", func(b *testing.B) { compare(b, len(payload), op.raw, op.store, false) })
			b.Run("Parallel", func(b *testing.B) { compare(b, len(payload), op.raw, op.store, true) })
		})
	}
}

// compare runs the raw and the Store form of one operation alternately, each
// b.N times, serially or from GOMAXPROCS goroutines (b.RunParallel), and
// reports the mean latency of each (raw-ns/op, store-ns/op) and their
// throughput ratio (store/raw, the target being at least 0.9). Alternating
// within one benchmark puts both under the same load at the same moment: on
// a shared, noisy machine, separate benchmarks a second apart differ by more
// than the overhead being measured. The order within each pair alternates
// too, so neither side always runs on a warmer connection.
func compare(b *testing.B, size int, raw, store func(ctx context.Context, i int) error, parallel bool) {
	ctx := b.Context()
	b.SetBytes(int64(2 * size))
	b.ReportAllocs()
	var rawNs, storeNs, ops atomic.Int64
	run := func(i int) (r, s time.Duration, err error) {
		fs := [2]func(ctx context.Context, i int) error{raw, store}
		var took [2]time.Duration
		for k := range 2 {
			j := (k + i) % 2 // raw first on even i, Store first on odd i
			start := time.Now()
			if err := fs[j](ctx, i%1000); err != nil {
				return 0, 0, err
			}
			took[j] = time.Since(start)
		}
		return took[0], took[1], nil
	}
	if !parallel {
		var r, s time.Duration
		for i := 0; b.Loop(); i++ {
			dr, ds, err := run(i)
			if err != nil {
				b.Fatal(err)
			}
			r, s = r+dr, s+ds
			ops.Add(1)
		}
		rawNs.Add(int64(r))
		storeNs.Add(int64(s))
	} else {
		var next atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			var r, s time.Duration
			for pb.Next() {
				dr, ds, err := run(int(next.Add(1)))
				if err != nil {
					b.Error(err)
					return
				}
				r, s = r+dr, s+ds
				ops.Add(1)
			}
			rawNs.Add(int64(r))
			storeNs.Add(int64(s))
		})
	}
	if n := ops.Load(); n > 0 && storeNs.Load() > 0 {
		b.ReportMetric(float64(rawNs.Load())/float64(n), "raw-ns/op")
		b.ReportMetric(float64(storeNs.Load())/float64(n), "store-ns/op")
		b.ReportMetric(float64(rawNs.Load())/float64(storeNs.Load()), "store/raw")
	}
}

// BenchmarkStorage runs the standard storagetest workloads, whose numbers
// compare with the other sessionkit backends.
func BenchmarkStorage(b *testing.B) {
	client := goredis.NewClient(&goredis.Options{Addr: containers.Redis(b), ContextTimeoutEnabled: true})
	b.Cleanup(func() { client.Close() })
	storagetest.Benchmark(b, func(tb testing.TB) sessions.Storage {
		prefix := uniquePrefix()
		s := mustNew(tb, client, redis.WithPrefix(prefix))
		tb.Cleanup(func() {
			s.Close()
			deleteKeys(tb, client, prefix)
		})
		return s
	})
}
