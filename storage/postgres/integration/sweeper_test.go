package integration

import (
	"context"
	"runtime"
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

func sweeperGoroutines() int {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Count(string(buf), "postgres.(*Store).sweepLoop(")
}

// waitSweepers waits up to two seconds for want sweeper goroutines (a
// goroutine just started may not show in a stack dump yet) and returns how
// many there are.
func waitSweepers(want int) int {
	deadline := time.Now().Add(2 * time.Second)
	for {
		n := sweeperGoroutines()
		if n == want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBackgroundSweeperRemovesExpiredRowsAndStopsOnClose(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	before := sweeperGoroutines()
	s, table := newStore(t, pool, postgres.WithSweepInterval(20*time.Millisecond))
	if got := waitSweepers(before + 1); got != before+1 {
		t.Fatalf("%d sweeper goroutines after New, want %d", got, before+1)
	}
	insertRows(t, pool, table, "expired", 300, -time.Hour)
	insertRows(t, pool, table, "live", 10, time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for countRows(t, pool, table) != 10 {
		if time.Now().After(deadline) {
			t.Fatalf("the background sweeper left %d rows after 10s, want the 10 live ones", countRows(t, pool, table))
		}
		time.Sleep(20 * time.Millisecond)
	}

	s.Close()
	if got := sweeperGoroutines(); got != before {
		t.Errorf("%d sweeper goroutines after Close, want %d: Close must stop and wait for the sweeper", got, before)
	}
	insertRows(t, pool, table, "later", 5, -time.Hour)
	time.Sleep(200 * time.Millisecond)
	if got := countRows(t, pool, table); got != 15 {
		t.Errorf("%d rows 200ms after Close, want 15: a sweeper still deletes", got)
	}
}

func TestNoBackgroundSweeperWithIntervalZero(t *testing.T) {
	pool := newPool(t, containers.Postgres(t), nil)
	before := sweeperGoroutines()
	newStore(t, pool, postgres.WithSweepInterval(0))
	if got := waitSweepers(before + 1); got != before {
		t.Errorf("WithSweepInterval(0) started a sweeper (%d goroutines, %d before)", got, before)
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
	// Give the sweep time to reach the row the open transaction holds.
	time.Sleep(300 * time.Millisecond)
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if v, err := readString(ctx, s, "r1"); err != nil || v != "live" {
		t.Errorf("after a sweep raced the Write that revived it, Read = %q, %v; want \"live\"", v, err)
	}
	if r.n != 2 {
		t.Errorf("DeleteExpired = %d, want 2 (r0 and r2)", r.n)
	}
}
