package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/storage/postgres"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// insertRows adds n rows to table directly, expiring at now() + offset by
// the database's clock, with ids prefix0, prefix1, ...
func insertRows(t testing.TB, pool *pgxpool.Pool, table, prefix string, n int, offset time.Duration) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `INSERT INTO `+pgx.Identifier{table}.Sanitize()+
		` (id, data, expires_at) SELECT $1 || i, 'x', now() + $2::interval FROM generate_series(0, $3 - 1) AS i`,
		prefix, offset, n)
	if err != nil {
		t.Fatal(err)
	}
}

func TestDeleteExpiredDeletesInBatchesAndKeepsLiveRows(t *testing.T) {
	log := &queryLog{}
	pool := newPool(t, containers.Postgres(t), log)
	s, table := newStore(t, pool, postgres.WithSweepInterval(0))
	insertRows(t, pool, table, "expired", 5000, -time.Hour)
	insertRows(t, pool, table, "live", 100, time.Hour)
	insertRows(t, pool, table, "justexpired", 5, -time.Millisecond)
	log.take()

	n, err := s.DeleteExpired(t.Context())
	if err != nil || n != 5005 {
		t.Fatalf("DeleteExpired = %d, %v; want 5005, nil", n, err)
	}
	// Batches of DefaultSweepBatch: five full ones, then a short last one.
	if got := log.count("FOR UPDATE SKIP LOCKED"); got != 6 {
		t.Errorf("DeleteExpired ran %d delete statements for 5005 rows, want 6 batches of at most %d", got, postgres.DefaultSweepBatch)
	}
	if got := countRows(t, pool, table); got != 100 {
		t.Errorf("%d rows left, want the 100 live ones", got)
	}
	if n, err := s.DeleteExpired(t.Context()); err != nil || n != 0 {
		t.Errorf("a second DeleteExpired = %d, %v; want 0, nil", n, err)
	}
}

func TestDeleteExpiredHonoursWithSweepBatch(t *testing.T) {
	log := &queryLog{}
	pool := newPool(t, containers.Postgres(t), log)
	s, table := newStore(t, pool, postgres.WithSweepInterval(0), postgres.WithSweepBatch(7))
	insertRows(t, pool, table, "expired", 21, -time.Hour)
	log.take()
	if n, err := s.DeleteExpired(t.Context()); err != nil || n != 21 {
		t.Fatalf("DeleteExpired = %d, %v; want 21, nil", n, err)
	}
	// 21 rows in batches of 7: three full batches, then one that finds none.
	if got := log.count("FOR UPDATE SKIP LOCKED"); got != 4 {
		t.Errorf("DeleteExpired ran %d delete statements, want 4", got)
	}
}

// sweepsOf counts the sweep statements the log holds for table.
func (l *queryLog) sweepsOf(table string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	ident := pgx.Identifier{table}.Sanitize()
	n := 0
	for _, q := range l.queries {
		if strings.Contains(q, ident) && strings.Contains(q, "FOR UPDATE SKIP LOCKED") {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds, failing t after a deadline no healthy
// run comes near.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// witnessSweeps starts a second Store with a short sweep interval on a
// table of its own and waits until its sweeper has run n more times: proof
// that time passed in which any other running sweeper of that interval
// would have swept too, however slow the machine.
func witnessSweeps(t *testing.T, pool *pgxpool.Pool, log *queryLog, n int) {
	t.Helper()
	_, table := newStore(t, pool, postgres.WithSweepInterval(witnessInterval))
	start := log.sweepsOf(table)
	waitFor(t, "the witness sweeper runs", func() bool { return log.sweepsOf(table) >= start+n })
}

const witnessInterval = 20 * time.Millisecond

func TestBackgroundSweeperRemovesExpiredRowsAndStopsOnClose(t *testing.T) {
	log := &queryLog{}
	pool := newPool(t, containers.Postgres(t), log)
	s, table := newStore(t, pool, postgres.WithSweepInterval(witnessInterval))
	insertRows(t, pool, table, "expired", 300, -time.Hour)
	insertRows(t, pool, table, "live", 10, time.Hour)
	waitFor(t, "the background sweeper leaves the 10 live rows", func() bool { return countRows(t, pool, table) == 10 })

	s.Close()
	// Close waits for the sweeper to return, and a statement is logged
	// before it is sent: no sweep of table may start from here on.
	after := log.sweepsOf(table)
	insertRows(t, pool, table, "later", 5, -time.Hour)
	witnessSweeps(t, pool, log, 3)
	if got := log.sweepsOf(table); got != after {
		t.Errorf("%d sweeps of the table after Close returned: Close must stop and wait for the sweeper", got-after)
	}
	if got := countRows(t, pool, table); got != 15 {
		t.Errorf("%d rows after Close, want 15: a sweeper still deletes", got)
	}
}

func TestNoBackgroundSweeperWithIntervalZero(t *testing.T) {
	log := &queryLog{}
	pool := newPool(t, containers.Postgres(t), log)
	_, table := newStore(t, pool, postgres.WithSweepInterval(0))
	insertRows(t, pool, table, "expired", 5, -time.Hour)
	witnessSweeps(t, pool, log, 3)
	if got := log.sweepsOf(table); got != 0 {
		t.Errorf("WithSweepInterval(0) swept %d times while another sweeper ran three", got)
	}
	if got := countRows(t, pool, table); got != 5 {
		t.Errorf("%d rows left, want the 5 expired ones nobody swept", got)
	}
}

// TestSweepNeverDeletesARowRewrittenConcurrently runs a sweep while a
// Write that revives an expired row is in flight: the sweep's batch query
// sees the row as expired, but it must not delete it once the Write has
// committed, or a session written a moment ago would vanish. The Write's
// transaction is held open explicitly to make the interleaving certain.
func TestSweepNeverDeletesARowRewrittenConcurrently(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	s, table := newStore(t, pool, postgres.WithSweepInterval(0))
	ctx := t.Context()
	insertRows(t, pool, table, "r", 3, -time.Hour) // r0, r1, r2

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, `INSERT INTO `+pgx.Identifier{table}.Sanitize()+` (id, data, expires_at)
		VALUES ('r1', 'live', now() + interval '1 hour')
		ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`); err != nil {
		t.Fatal(err)
	}
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := s.DeleteExpired(ctx)
		done <- result{n, err}
	}()
	// The sweep skips the row the open transaction holds (SKIP LOCKED), so
	// it finishes while the row is still locked; one that waited for the
	// lock would never finish before the commit below.
	var r result
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the sweep waited for the row an open transaction holds: it must skip locked rows")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := readString(ctx, s, "r1"); err != nil || v != "live" {
		t.Errorf("after a sweep raced the Write that revived it, Read = %q, %v; want \"live\"", v, err)
	}
	if r.n != 2 {
		t.Errorf("DeleteExpired = %d, want 2 (r0 and r2)", r.n)
	}
}
