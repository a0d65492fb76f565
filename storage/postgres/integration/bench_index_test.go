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
// generate_series statement, then ANALYZE, so the planner knows the table's
// new size.
//
// A shared machine's load drifts between the two phases by more than the
// effect measured, so each phase alternates, call by call, between the
// growing table and a control table that keeps 1,000 others: x-vs-control
// is the growing table's latency over the control's in the second phase,
// divided by the same quotient in the first, the ratio with the drift
// taken out.
//
//	go test -run '^$' -bench ReadIndexGrowth -benchtime=2s -v ./...
func BenchmarkReadIndexGrowth(b *testing.B) {
	pool := newPool(b, containers.Postgres(b), nil)
	payload := strings.Repeat("s", 100)
	grown, grownTable := newStore(b, pool, postgres.WithSweepInterval(0))
	control, controlTable := newStore(b, pool, postgres.WithSweepInterval(0))
	for _, s := range []*postgres.Store{grown, control} {
		for i := range 10 {
			if err := s.CreateIndexed(b.Context(), fmt.Sprintf("target%02d", i), "target", time.Now().Add(time.Hour), writeString(payload)); err != nil {
				b.Fatal(err)
			}
		}
	}
	fillOthers(b, pool, grownTable, 0, 1000, payload)
	fillOthers(b, pool, controlTable, 0, 1000, payload)

	var perOp, vsControl [2]float64 // per phase: ns per ReadIndex of grown, and grown/control
	measure := func(b *testing.B, phase int) {
		ctx := b.Context()
		readTarget := func(s *postgres.Store) time.Duration {
			got := 0
			start := time.Now()
			if err := s.ReadIndex(ctx, "target", func(string, time.Time, io.Reader) error { got++; return nil }); err != nil {
				b.Fatal(err)
			}
			took := time.Since(start)
			if got != 10 {
				b.Fatalf("ReadIndex yielded %d sessions, want 10", got)
			}
			return took
		}
		var g, c time.Duration
		n := 0
		for b.Loop() {
			if n%2 == 0 { // alternate which goes first
				g += readTarget(grown)
				c += readTarget(control)
			} else {
				c += readTarget(control)
				g += readTarget(grown)
			}
			n++
		}
		perOp[phase] = float64(g.Nanoseconds()) / float64(n)
		vsControl[phase] = float64(g) / float64(c)
		b.ReportMetric(perOp[phase], "grown-ns/op")
		b.ReportMetric(float64(c.Nanoseconds())/float64(n), "control-ns/op")
	}
	b.Run("Others=1k", func(b *testing.B) { measure(b, 0) })
	start := time.Now()
	fillOthers(b, pool, grownTable, 1000, 1_000_000, payload)
	filled := time.Since(start)
	b.Run("Others=1M", func(b *testing.B) {
		b.Logf("filled 999,000 rows in %v", filled.Round(time.Millisecond))
		logTableSize(b, pool, grownTable)
		measure(b, 1)
		if perOp[0] > 0 {
			b.ReportMetric(perOp[0], "ns-1k/op")
			b.ReportMetric(perOp[1], "ns-1M/op")
			b.ReportMetric(perOp[1]/perOp[0], "x-1M/1k")
			b.ReportMetric(vsControl[1]/vsControl[0], "x-vs-control")
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
