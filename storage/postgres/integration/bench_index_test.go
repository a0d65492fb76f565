package integration

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/storage/postgres"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// BenchmarkReadIndexGrowth measures ReadIndex of one index key holding 10
// sessions, first with 1,000 other sessions in the table, then, in the same
// run, after the table has grown to 1,000,000 others. The others are filed
// 10 to an index key, so the index itself grows a thousandfold too. The
// second sub-benchmark reports both latencies and their ratio (x-1M/1k),
// whose target is about 1: the index on (index_key, id) makes ReadIndex
// cost what its own rows cost. The fill is one INSERT ... SELECT
// generate_series statement (about 10 s for the million here), then
// ANALYZE, so the planner knows the table's new size.
//
//	go test -run '^$' -bench ReadIndexGrowth -benchtime=2s ./...
func BenchmarkReadIndexGrowth(b *testing.B) {
	pool := newPool(b, containers.Postgres(b), nil)
	s, table := newStore(b, pool, postgres.WithSweepInterval(0))
	ctx := b.Context()
	payload := strings.Repeat("s", 100)
	for i := range 10 {
		if err := s.CreateIndexed(ctx, fmt.Sprintf("target%02d", i), "target", time.Now().Add(time.Hour), writeString(payload)); err != nil {
			b.Fatal(err)
		}
	}
	read := func(string, time.Time, io.Reader) error { return nil }
	var perOp [2]float64 // ns per ReadIndex with 1k and with 1M others
	measure := func(b *testing.B, i int) {
		n := 0
		start := time.Now()
		for b.Loop() {
			got := 0
			if err := s.ReadIndex(ctx, "target", func(id string, e time.Time, r io.Reader) error { got++; return read(id, e, r) }); err != nil {
				b.Fatal(err)
			}
			if got != 10 {
				b.Fatalf("ReadIndex yielded %d sessions, want 10", got)
			}
			n++
		}
		perOp[i] = float64(time.Since(start).Nanoseconds()) / float64(n)
	}
	fillOthers(b, pool, table, 0, 1000, payload)
	b.Run("Others=1k", func(b *testing.B) { measure(b, 0) })
	start := time.Now()
	fillOthers(b, pool, table, 1000, 1_000_000, payload)
	b.Logf("filled %d rows in %v", 999_000, time.Since(start).Round(time.Millisecond))
	logTableSize(b, pool, table)
	b.Run("Others=1M", func(b *testing.B) {
		measure(b, 1)
		if perOp[0] > 0 {
			b.ReportMetric(perOp[0], "1k-ns/op")
			b.ReportMetric(perOp[1], "1M-ns/op")
			b.ReportMetric(perOp[1]/perOp[0], "x-1M/1k")
		}
	})
}

// fillOthers inserts the sessions other0..other(to-1) from from on, filed
// ten to an index key, live for an hour, with one statement, then analyzes
// the table.
func fillOthers(b *testing.B, pool *pgxpool.Pool, table string, from, to int, payload string) {
	b.Helper()
	ctx := context.Background()
	t := pgx.Identifier{table}.Sanitize()
	if _, err := pool.Exec(ctx, `INSERT INTO `+t+` (id, data, expires_at, index_key)
		SELECT 'other' || i, convert_to($3, 'UTF8'), now() + interval '1 hour', 'key' || (i / 10)
		FROM generate_series($1::int, $2::int - 1) AS i`, from, to, payload); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE `+t); err != nil {
		b.Fatal(err)
	}
}

// logTableSize logs the size of table with its indexes.
func logTableSize(b *testing.B, pool *pgxpool.Pool, table string) {
	var total, keyIndex string
	if err := pool.QueryRow(context.Background(), `SELECT pg_size_pretty(pg_total_relation_size($1::regclass)),
		pg_size_pretty(pg_relation_size($2::regclass))`, pgx.Identifier{table}.Sanitize(),
		pgx.Identifier{table + "_index_key_idx"}.Sanitize()).Scan(&total, &keyIndex); err != nil {
		b.Fatal(err)
	}
	b.Logf("table with indexes: %s, of which the index on index_key: %s", total, keyIndex)
}
