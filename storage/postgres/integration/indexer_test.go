package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/postgres"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// readIndex returns what ReadIndex yields for index, id -> content, failing
// t on an error or on an id yielded twice.
func readIndex(t testing.TB, s *postgres.Store, index string) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := s.ReadIndex(context.Background(), index, func(id string, _ time.Time, r io.Reader) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if _, dup := got[id]; dup {
			t.Errorf("ReadIndex yielded %q twice", id)
		}
		got[id] = string(b)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadIndex = %v", err)
	}
	return got
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// TestIndexedCallsAreOnePreparedStatement: the filing travels in the
// statement that writes the session, so CreateIndexed and ReplaceIndexed
// run exactly the one statement Create and Replace run, and ReadIndex runs
// one SELECT, all prepared once per connection. This is the "no extra
// round trip" proof of the index.
func TestIndexedCallsAreOnePreparedStatement(t *testing.T) {
	log := &queryLog{}
	pool := newPool(t, containers.Postgres(t), log, 1)
	s, _ := newStore(t, pool, postgres.WithSweepInterval(0))
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	past := time.Now().Add(-time.Second)
	nothing := func(string, time.Time, io.Reader) error { return nil }
	steps := []struct {
		name string
		call func() error
		verb string
		err  error
	}{
		{"Write", func() error { return s.Write(ctx, "w", exp, writeString("v")) }, "INSERT", nil},
		{"Create", func() error { return s.Create(ctx, "c", exp, writeString("v")) }, "INSERT", nil},
		{"CreateIndexed", func() error { return s.CreateIndexed(ctx, "ci", "u1", exp, writeString("v")) }, "INSERT", nil},
		{"CreateIndexedLive", func() error { return s.CreateIndexed(ctx, "ci", "u1", exp, writeString("v")) }, "INSERT", sessions.ErrExists},
		{"CreateIndexedNoKey", func() error { return s.CreateIndexed(ctx, "cn", "", exp, writeString("v")) }, "INSERT", nil},
		{"Replace", func() error { return s.Replace(ctx, "c", exp, writeString("w")) }, "UPDATE", nil},
		{"ReplaceIndexed", func() error { return s.ReplaceIndexed(ctx, "ci", "u2", exp, writeString("w")) }, "UPDATE", nil},
		{"ReplaceIndexedForever", func() error { return s.ReplaceIndexed(ctx, "ci", "u2", time.Time{}, writeString("w")) }, "UPDATE", nil},
		{"ReplaceIndexedMissing", func() error { return s.ReplaceIndexed(ctx, "gone", "u2", exp, writeString("x")) }, "UPDATE", sessions.ErrNotFound},
		{"ReplaceIndexedPast", func() error { return s.ReplaceIndexed(ctx, "cn", "u2", past, writeString("x")) }, "DELETE", nil},
		{"ReadIndex", func() error { return s.ReadIndex(ctx, "u2", nothing) }, "SELECT", nil},
		{"ReadIndexEmpty", func() error { return s.ReadIndex(ctx, "nobody", nothing) }, "SELECT", nil},
	}
	// Warm the statement cache of the pool's single connection.
	for _, st := range steps {
		st.call()
	}
	s.Invalidate(ctx, "c")
	s.Invalidate(ctx, "ci")
	s.Invalidate(ctx, "cn")
	log.take()
	for _, st := range steps {
		err := st.call()
		if st.err == nil && err != nil || st.err != nil && !errors.Is(err, st.err) {
			t.Errorf("%s returned %v, want %v", st.name, err, st.err)
		}
		queries, prepares := log.take()
		if len(queries) != 1 || !strings.HasPrefix(queries[0], st.verb+" ") {
			t.Errorf("%s ran %q, want exactly one %s", st.name, queries, st.verb)
		}
		if len(prepares) != 0 {
			t.Errorf("%s prepared %q once warm, want its statement cached", st.name, prepares)
		}
	}
}

// TestIndexFollowsTheLastWrite walks one session through the life the
// middleware gives it and checks, after each step, which index key lists
// it: each entry is filed under the index key of the last write that stored
// it, and leaves every index key when it ends.
func TestIndexFollowsTheLastWrite(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	s, table := newStore(t, pool, postgres.WithSweepInterval(0))
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	past := time.Now().Add(-time.Second)
	// A neighbour under u1 that every step must leave listed.
	if err := s.CreateIndexed(ctx, "other", "u1", exp, writeString("o")); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		do     func() error
		u1, u2 []string // the ids each index key must list after the step
	}{
		{"CreateIndexedFilesUnderItsKey", func() error { return s.CreateIndexed(ctx, "a", "u1", exp, writeString("1")) },
			[]string{"a", "other"}, nil},
		{"CreateIndexedOnALiveIDChangesNoFiling", func() error {
			if err := s.CreateIndexed(ctx, "a", "u2", exp, writeString("x")); !errors.Is(err, sessions.ErrExists) {
				return fmt.Errorf("CreateIndexed of a live id = %v, want ErrExists", err)
			}
			return nil
		}, []string{"a", "other"}, nil},
		{"TouchKeepsTheFiling", func() error { return s.Touch(ctx, "a", exp.Add(time.Hour)) },
			[]string{"a", "other"}, nil},
		// Spring Session #343: a principal change must move the entry.
		{"ReplaceIndexedMovesIt", func() error { return s.ReplaceIndexed(ctx, "a", "u2", exp, writeString("2")) },
			[]string{"other"}, []string{"a"}},
		{"ReplaceUnfilesIt", func() error { return s.Replace(ctx, "a", exp, writeString("3")) },
			[]string{"other"}, nil},
		{"ReplaceIndexedFilesItAgain", func() error { return s.ReplaceIndexed(ctx, "a", "u2", exp, writeString("4")) },
			[]string{"other"}, []string{"a"}},
		{"WriteUnfilesIt", func() error { return s.Write(ctx, "a", exp, writeString("5")) },
			[]string{"other"}, nil},
		{"ReplaceIndexedWithTheEmptyKeyUnfilesIt", func() error {
			if err := s.ReplaceIndexed(ctx, "a", "u1", exp, writeString("6")); err != nil {
				return err
			}
			return s.ReplaceIndexed(ctx, "a", "", exp, writeString("7"))
		}, []string{"other"}, nil},
		// Spring Session #1972/#1987: the id changes (Renew), and the old
		// id, consumed with Replace(past expiry), must not stay listed.
		{"RenewListsOnlyTheNewID", func() error {
			if err := s.ReplaceIndexed(ctx, "a", "u2", exp, writeString("8")); err != nil {
				return err
			}
			if err := s.CreateIndexed(ctx, "b", "u2", exp, writeString("9")); err != nil {
				return err
			}
			return s.Replace(ctx, "a", past, writeString("8"))
		}, []string{"other"}, []string{"b"}},
		{"ReplaceIndexedWithAPastExpiryEndsIt", func() error { return s.ReplaceIndexed(ctx, "b", "u2", past, writeString("x")) },
			[]string{"other"}, nil},
		{"ReplaceIndexedOfAnEndedIDFilesNothing", func() error {
			if err := s.ReplaceIndexed(ctx, "b", "u2", exp, writeString("x")); !errors.Is(err, sessions.ErrNotFound) {
				return fmt.Errorf("ReplaceIndexed of an ended id = %v, want ErrNotFound", err)
			}
			return nil
		}, []string{"other"}, nil},
		{"InvalidateEndsIt", func() error {
			if err := s.CreateIndexed(ctx, "c", "u2", exp, writeString("c")); err != nil {
				return err
			}
			return s.Invalidate(ctx, "c")
		}, []string{"other"}, nil},
		{"CreateOverAnExpiredIndexedRowUnfilesIt", func() error {
			insertIndexedRows(t, pool, table, "e", "u2", 1, -time.Second)
			return s.Create(ctx, "e0", exp, writeString("e"))
		}, []string{"other"}, nil},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		for key, want := range map[string][]string{"u1": st.u1, "u2": st.u2} {
			if got := sortedKeys(readIndex(t, s, key)); !slices.Equal(got, want) {
				t.Errorf("%s: ReadIndex(%s) = %q, want %q", st.name, key, got, want)
			}
		}
	}
	if got := readIndex(t, s, "u1"); got["other"] != "o" {
		t.Errorf("ReadIndex(u1) content of other = %q, want %q", got["other"], "o")
	}
}

// insertIndexedRows adds n rows filed under index directly, expiring at
// now() + offset by the database's clock, with ids prefix0, prefix1, ...
func insertIndexedRows(t testing.TB, pool *pgxpool.Pool, table, prefix, index string, n int, offset time.Duration) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `INSERT INTO `+pgx.Identifier{table}.Sanitize()+
		` (id, data, expires_at, index_key) SELECT $1 || i, 'x', now() + $2::interval, $3 FROM generate_series(0, $4 - 1) AS i`,
		prefix, offset, index, n)
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadIndexYieldsContentAndExpiryOfOneVersion: content and expiry
// arrive together (Spring Session #2614: expired sessions stayed listed),
// and a row expired by the database's clock is never yielded.
func TestReadIndexYieldsContentAndExpiryOfOneVersion(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	s, table := newStore(t, pool, postgres.WithSweepInterval(0))
	ctx := t.Context()
	at := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	if err := s.CreateIndexed(ctx, "timed", "u", at, writeString("t")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIndexed(ctx, "forever", "u", time.Time{}, writeString("f")); err != nil {
		t.Fatal(err)
	}
	insertIndexedRows(t, pool, table, "expired", "u", 3, -time.Millisecond)
	got := map[string]time.Time{}
	err := s.ReadIndex(ctx, "u", func(id string, expires time.Time, r io.Reader) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if want := id[:1]; string(b) != want {
			t.Errorf("content of %s = %q, want %q", id, b, want)
		}
		got[id] = expires
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got["timed"].Equal(at) || !got["forever"].IsZero() {
		t.Errorf("ReadIndex yielded expiries %v, want timed at %v and forever at the zero Time, nothing expired", got, at)
	}
}

// TestReadIndexPaginatesWithoutHoldingAConnection reads an index key of 10
// rows in batches of 3 from a pool of one connection while read uses the
// Store: every row once, in four statements, and read never waits.
func TestReadIndexPaginatesWithoutHoldingAConnection(t *testing.T) {
	log := &queryLog{}
	pool := newPool(t, containers.Postgres(t), log, 1)
	s, _ := newStore(t, pool, postgres.WithSweepInterval(0), postgres.WithSweepBatch(3))
	ctx := t.Context()
	var want []string
	for i := range 10 {
		id := fmt.Sprintf("id%02d", i)
		want = append(want, id)
		if err := s.CreateIndexed(ctx, id, "u", time.Now().Add(time.Hour), writeString(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateIndexed(ctx, "zz", "v", time.Now().Add(time.Hour), writeString("zz")); err != nil {
		t.Fatal(err)
	}
	log.take()
	var got []string
	err := s.ReadIndex(ctx, "u", func(id string, _ time.Time, r io.Reader) error {
		if v, err := readString(ctx, s, id); err != nil || v != id {
			t.Errorf("Read inside ReadIndex = %q, %v; want %q", v, err, id)
		}
		got = append(got, id)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ReadIndex yielded %q, want %q in order, each once", got, want)
	}
	if n := log.count("ORDER BY id LIMIT"); n != 4 {
		t.Errorf("ReadIndex ran %d batch queries for 10 rows in batches of 3, want 4", n)
	}
}

// TestReadIndexStopsAtReadsError: the error of read comes back as is, and
// no further row is read.
func TestReadIndexStopsAtReadsError(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	s, _ := newStore(t, pool, postgres.WithSweepInterval(0))
	ctx := t.Context()
	for i := range 3 {
		if err := s.CreateIndexed(ctx, fmt.Sprint("id", i), "u", time.Time{}, writeString("v")); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("boom")
	calls := 0
	err := s.ReadIndex(ctx, "u", func(string, time.Time, io.Reader) error { calls++; return boom })
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("ReadIndex with a failing read = %v after %d calls, want boom after 1", err, calls)
	}
}

// TestSweeperRemovesTheFilingsOfExpiredRows: the filing is a column of the
// row, so DeleteExpired's DELETE releases it; no filing outlives its row.
func TestSweeperRemovesTheFilingsOfExpiredRows(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	s, table := newStore(t, pool, postgres.WithSweepInterval(0))
	insertIndexedRows(t, pool, table, "old", "u", 50, -time.Hour)
	insertIndexedRows(t, pool, table, "new", "u", 5, time.Hour)
	if n, err := s.DeleteExpired(t.Context()); err != nil || n != 50 {
		t.Fatalf("DeleteExpired = %d, %v; want 50", n, err)
	}
	var filed int
	if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()+
		` WHERE index_key IS NOT NULL`).Scan(&filed); err != nil {
		t.Fatal(err)
	}
	if filed != 5 {
		t.Errorf("%d rows filed under an index key after the sweep, want the 5 live ones", filed)
	}
	if got := readIndex(t, s, "u"); len(got) != 5 {
		t.Errorf("ReadIndex after the sweep yielded %d, want 5", len(got))
	}
}

// TestReadIndexUsesTheIndex asks the planner how it runs the very statement
// ReadIndex sends (taken from a tracer) on a table of 20,000 rows: through
// the index on index_key, never a scan of the table.
func TestReadIndexUsesTheIndex(t *testing.T) {
	log := &queryLog{}
	pool := newPool(t, containers.Postgres(t), log)
	s, table := newStore(t, pool, postgres.WithSweepInterval(0))
	ctx := t.Context()
	_, err := pool.Exec(ctx, `INSERT INTO `+pgx.Identifier{table}.Sanitize()+
		` (id, data, expires_at, index_key) SELECT 'id' || i, 'x', now() + interval '1 hour', 'k' || (i % 2000) FROM generate_series(0, 19999) AS i`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE `+pgx.Identifier{table}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	log.take()
	if got := readIndex(t, s, "k7"); len(got) != 10 {
		t.Fatalf("ReadIndex(k7) yielded %d rows, want 10", len(got))
	}
	queries, _ := log.take()
	if len(queries) != 1 {
		t.Fatalf("ReadIndex ran %q, want one statement", queries)
	}
	// A generic plan is what a prepared statement runs once cached; force
	// it, so that the plan checked does not depend on the parameter values.
	for _, mode := range []string{"force_custom_plan", "force_generic_plan"} {
		t.Run(mode, func(t *testing.T) {
			conn, err := pool.Acquire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Release()
			if _, err := conn.Exec(ctx, `SET plan_cache_mode = `+mode); err != nil {
				t.Fatal(err)
			}
			defer conn.Exec(context.Background(), `RESET plan_cache_mode`)
			rows, err := conn.Query(ctx, `EXPLAIN `+queries[0], "k7", "", 1000)
			if err != nil {
				t.Fatal(err)
			}
			plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			if !strings.Contains(text, table+"_index_key_idx") || strings.Contains(text, "Seq Scan") {
				t.Errorf("ReadIndex's plan does not go through %s_index_key_idx:\n%s", table, text)
			}
		})
	}
}

// oldSchema is the DDL of the table before the index_key column existed.
func oldSchema(table string) string {
	t := pgx.Identifier{table}.Sanitize()
	return `CREATE TABLE ` + t + ` (
	id         text COLLATE "C" PRIMARY KEY,
	data       bytea NOT NULL,
	expires_at timestamptz NULL
);
CREATE INDEX ` + pgx.Identifier{table + "_expires_at_idx"}.Sanitize() + ` ON ` + t + ` (expires_at)`
}

// TestNewUpgradesATableMadeBeforeIndexKey: a table of the previous shape,
// with sessions in it, gets the column and its index from New; its sessions
// stay readable and filed under none; the next New finds it up to date and
// runs no DDL.
func TestNewUpgradesATableMadeBeforeIndexKey(t *testing.T) {
	log := &queryLog{}
	pool := newPool(t, containers.Postgres(t), log)
	ctx := t.Context()
	table := uniqueTable(t, pool)
	if _, err := pool.Exec(ctx, oldSchema(table)); err != nil {
		t.Fatal(err)
	}
	insertRows(t, pool, table, "old", 3, time.Hour)
	log.take()

	s, err := postgres.New(ctx, pool, postgres.WithTable(table), postgres.WithSweepInterval(0))
	if err != nil {
		t.Fatalf("New on a table made before index_key = %v", err)
	}
	defer s.Close()
	queries, _ := log.take()
	if !slices.ContainsFunc(queries, func(q string) bool { return strings.HasPrefix(q, "ALTER TABLE") }) {
		t.Errorf("New on an old table ran %q, want the ALTER TABLE that adds index_key", queries)
	}
	var indexdef string
	if err := pool.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE tablename = $1 AND indexname = $2`,
		table, table+"_index_key_idx").Scan(&indexdef); err != nil {
		t.Fatalf("the index on index_key is missing after the upgrade: %v", err)
	}
	if v, err := readString(ctx, s, "old1"); err != nil || v != "x" {
		t.Errorf("Read of a session written before the upgrade = %q, %v; want \"x\"", v, err)
	}
	if err := s.ReplaceIndexed(ctx, "old1", "u", time.Now().Add(time.Hour), writeString("y")); err != nil {
		t.Fatal(err)
	}
	if got := readIndex(t, s, "u"); !slices.Equal(sortedKeys(got), []string{"old1"}) {
		t.Errorf("ReadIndex after the upgrade = %q, want only old1", sortedKeys(got))
	}

	log.take()
	again, err := postgres.New(ctx, pool, postgres.WithTable(table), postgres.WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	queries, _ = log.take()
	for _, q := range queries {
		if strings.HasPrefix(q, "ALTER") || strings.HasPrefix(q, "CREATE") || strings.Contains(q, "advisory") {
			t.Errorf("New on an up-to-date table ran %q", q)
		}
	}
}

// TestConcurrentNewUpgradeTheTableOnce starts several instances at once on
// a table of the previous shape: all succeed, and the table ends with one
// index_key column and one index on it.
func TestConcurrentNewUpgradeTheTableOnce(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil, 16)
	ctx := t.Context()
	for round := range 3 {
		table := uniqueTable(t, pool)
		if _, err := pool.Exec(ctx, oldSchema(table)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				s, err := postgres.New(ctx, pool, postgres.WithTable(table), postgres.WithSweepInterval(0))
				if err == nil {
					s.Close()
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("round %d: one of 8 concurrent New on an old table failed: %v", round, err)
			}
		}
		var indexes int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%index_key%'`,
			table).Scan(&indexes); err != nil || indexes != 1 {
			t.Errorf("round %d: %d indexes on index_key (%v), want 1", round, indexes, err)
		}
	}
}

// TestWithCreateTableFalseOnATableMadeBeforeIndexKeyFailsClearly: without
// DDL, an old table is an error at New that says what to do, and the table
// is left as it is.
func TestWithCreateTableFalseOnATableMadeBeforeIndexKeyFailsClearly(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	ctx := t.Context()
	table := uniqueTable(t, pool)
	if _, err := pool.Exec(ctx, oldSchema(table)); err != nil {
		t.Fatal(err)
	}
	_, err := postgres.New(ctx, pool, postgres.WithTable(table), postgres.WithCreateTable(false))
	if err == nil || !strings.Contains(err.Error(), "index_key") || !strings.Contains(err.Error(), "TableSQL") {
		t.Errorf("New(WithCreateTable(false)) on an old table = %v, want an error naming index_key and TableSQL", err)
	}
	var has bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = 'index_key')`,
		table).Scan(&has); err != nil || has {
		t.Errorf("WithCreateTable(false) added index_key (%v, %v)", has, err)
	}
	// TableSQL's statements upgrade the same table, for migrations.
	ddl, err := postgres.TableSQL(table)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, ddl); err != nil {
		t.Fatalf("TableSQL's statements on an old table: %v", err)
	}
	s, err := postgres.New(ctx, pool, postgres.WithTable(table), postgres.WithCreateTable(false))
	if err != nil {
		t.Fatalf("New(WithCreateTable(false)) after TableSQL = %v", err)
	}
	s.Close()
}
