package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/postgres"
	"github.com/sessionkit/sessionkit/storagetest"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// BenchmarkVersusRaw compares the Store with pgx doing the same work on the
// same server in the same run: a prepared SELECT by primary key for Read and
// a prepared upsert for Write, on a table of the same shape. Each
// sub-benchmark, Op/Mode, runs both side by side (see compare); the target
// is a Store throughput of at least 0.9 times the raw one. The raw SELECT
// does not even filter expired rows, which the Store's Read must.
func BenchmarkVersusRaw(b *testing.B) {
	pool := newPool(b, containers.Postgres(b), nil)
	s, _ := newStore(b, pool, postgres.WithSweepInterval(0))
	rawTable := uniqueTable(b, pool)
	ddl, err := postgres.TableSQL(rawTable)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(b.Context(), ddl); err != nil {
		b.Fatal(err)
	}
	raw := pgx.Identifier{rawTable}.Sanitize()
	rawSelect := `SELECT data FROM ` + raw + ` WHERE id = $1`
	rawUpsert := `INSERT INTO ` + raw + ` (id, data, expires_at) VALUES ($1, $2, $3) ` +
		`ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`

	const nIDs = 1000
	payload := bytes.Repeat([]byte("s"), 1024)
	ids := make([]string, nIDs)
	expires := time.Now().Add(time.Hour)
	for i := range ids {
		ids[i] = sessions.NewID()
		if _, err := pool.Exec(b.Context(), rawUpsert, ids[i], payload, expires); err != nil {
			b.Fatal(err)
		}
		if err := s.Write(b.Context(), ids[i], expires, func(w io.Writer) error { _, err := w.Write(payload); return err }); err != nil {
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
		var data []byte
		err := pool.QueryRow(ctx, rawSelect, ids[i]).Scan(&data)
		if err == nil && len(data) != len(payload) {
			err = fmt.Errorf("read %d bytes, want %d", len(data), len(payload))
		}
		return err
	}
	rawWrite := func(ctx context.Context, i int) error {
		_, err := pool.Exec(ctx, rawUpsert, ids[i], payload, time.Now().Add(time.Hour))
		return err
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
	pool, err := pgxpool.New(b.Context(), containers.Postgres(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	storagetest.Benchmark(b, func(tb testing.TB) sessions.Storage {
		s, _ := newStore(tb, pool, postgres.WithSweepInterval(0))
		return s
	})
}
