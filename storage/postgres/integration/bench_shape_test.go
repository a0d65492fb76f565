package integration

import (
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/postgres"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// BenchmarkWriteVersusBareTable explains the Write ratio of sessionbench's
// report (issue 15): its raw/pgx baseline upserts into a table with the
// primary key only, while a Store's table also has the expiry index the
// sweeper needs (and the partial index of ReadIndex, which a row filed
// under no key does not enter). An upsert that changes expires_at cannot
// be a HOT update when expires_at is indexed, so every write also inserts
// an entry into that index: server work, not the Store's.
//
// Three pairs, each run alternately in one benchmark (see compare), with a
// 4 KiB payload of sessionbench's alphabet (incompressible enough to be
// TOASTed) from 8 goroutines, sessionbench's middle concurrency:
//   - Store/BareTable: what sessionbench's report compares;
//   - SameTable/BareTable: the expiry index's cost alone, pgx on both sides;
//   - Store/SameTable: the Store's own cost, the same statement's work.
func BenchmarkWriteVersusBareTable(b *testing.B) {
	pool := newPool(b, containers.Postgres(b), nil)
	s, _ := newStore(b, pool, postgres.WithSweepInterval(0))

	// The table of a Store, made by the Store's own DDL.
	same := uniqueTable(b, pool)
	ddl, err := postgres.TableSQL(same)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(b.Context(), ddl); err != nil {
		b.Fatal(err)
	}
	// The table of sessionbench's raw/pgx, created as it does.
	bare := uniqueTable(b, pool)
	if _, err := pool.Exec(b.Context(), `CREATE TABLE `+pgx.Identifier{bare}.Sanitize()+` (
		id text COLLATE "C" PRIMARY KEY,
		data bytea NOT NULL,
		expires_at timestamptz NULL)`); err != nil {
		b.Fatal(err)
	}
	upsert := func(table string) string {
		t := pgx.Identifier{table}.Sanitize()
		return `INSERT INTO ` + t + ` (id, data, expires_at) VALUES ($1, $2, $3) ` +
			`ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`
	}
	sqlSame, sqlBare := upsert(same), upsert(bare)

	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	payload := make([]byte, 4096)
	for i := range payload {
		payload[i] = alphabet[rand.IntN(len(alphabet))]
	}
	ids := make([]string, 1000)
	expires := time.Now().Add(time.Hour)
	write := func(w io.Writer) error { _, err := w.Write(payload); return err }
	for i := range ids {
		ids[i] = sessions.NewID()
		for _, q := range []string{sqlSame, sqlBare} {
			if _, err := pool.Exec(b.Context(), q, ids[i], payload, expires); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Write(b.Context(), ids[i], expires, write); err != nil {
			b.Fatal(err)
		}
	}
	rawWrite := func(q string) func(ctx context.Context, i int) error {
		return func(ctx context.Context, i int) error {
			_, err := pool.Exec(ctx, q, ids[i], payload, time.Now().Add(time.Hour))
			return err
		}
	}
	storeWrite := func(ctx context.Context, i int) error {
		return s.Write(ctx, ids[i], time.Now().Add(time.Hour), write)
	}
	pairs := []struct {
		name     string
		raw, cmp func(ctx context.Context, i int) error
	}{
		{"Store/BareTable", rawWrite(sqlBare), storeWrite},
		{"SameTable/BareTable", rawWrite(sqlBare), rawWrite(sqlSame)},
		{"Store/SameTable", rawWrite(sqlSame), storeWrite},
	}
	for _, p := range pairs {
		b.Run(p.name, func(b *testing.B) {
			b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
			compare(b, len(payload), p.raw, p.cmp, true)
		})
	}
}
