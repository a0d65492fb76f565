package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/postgres"
	"github.com/sessionkit/sessionkit/storagetest"
)

// runID keeps the tables of concurrent test runs against one shared database
// apart.
var runID = func() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}()

var tableSeq atomic.Int64

// uniqueTable returns a table name no other store of this run uses, and
// drops the table when t ends.
func uniqueTable(t testing.TB, pool *pgxpool.Pool) string {
	name := fmt.Sprintf("sktest_%s_%d", runID, tableSeq.Add(1))
	t.Cleanup(func() { dropTable(t, pool, name) })
	return name
}

func dropTable(t testing.TB, pool *pgxpool.Pool, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Errorf("dropping the test's table: %v", err)
	}
}

// newPool returns a pool for dsn, closed when t ends. tracer, when not nil,
// sees every query; maxConns, when positive, bounds the pool.
func newPool(t testing.TB, dsn string, tracer pgx.QueryTracer, maxConns ...int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = tracer
	if len(maxConns) > 0 {
		cfg.MaxConns = maxConns[0]
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// newStore returns a Store on a fresh table, closed when t ends.
func newStore(t testing.TB, pool *pgxpool.Pool, opts ...postgres.Option) (*postgres.Store, string) {
	t.Helper()
	table := uniqueTable(t, pool)
	s, err := postgres.New(t.Context(), pool, append([]postgres.Option{postgres.WithTable(table)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, table
}

// runSuite runs storagetest.Run on pool: each store gets a table of its own,
// dropped when its test ends. A reopened store is a new Store over the same
// table, as a restarted process would make.
func runSuite(t *testing.T, pool *pgxpool.Pool, opts ...postgres.Option) {
	var tables sync.Map // *postgres.Store -> its table
	open := func(t *testing.T, table string) sessions.Storage {
		s, err := postgres.New(context.Background(), pool, append([]postgres.Option{postgres.WithTable(table)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		tables.Store(s, table)
		t.Cleanup(func() { s.Close() })
		return s
	}
	newStorage := func(t *testing.T) sessions.Storage { return open(t, uniqueTable(t, pool)) }
	reopen := func(t *testing.T, old sessions.Storage) sessions.Storage {
		table, ok := tables.Load(old)
		if !ok {
			t.Fatalf("reopen of a storage the suite did not get from newStorage")
		}
		old.(*postgres.Store).Close()
		return open(t, table.(string))
	}
	storagetest.Run(t, newStorage, storagetest.WithReopen(reopen))
}

// queryLog is a pgx tracer that records the SQL of every query and of every
// statement preparation.
type queryLog struct {
	mu       sync.Mutex
	queries  []string
	prepares []string
}

func (l *queryLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	l.queries = append(l.queries, data.SQL)
	l.mu.Unlock()
	return ctx
}

func (l *queryLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (l *queryLog) TracePrepareStart(ctx context.Context, _ *pgx.Conn, data pgx.TracePrepareStartData) context.Context {
	l.mu.Lock()
	l.prepares = append(l.prepares, data.SQL)
	l.mu.Unlock()
	return ctx
}

func (l *queryLog) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// take returns the queries and preparations recorded since the last call and
// forgets them.
func (l *queryLog) take() (queries, prepares []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	queries, prepares = l.queries, l.prepares
	l.queries, l.prepares = nil, nil
	return queries, prepares
}

// count returns how many recorded queries contain substr.
func (l *queryLog) count(substr string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, q := range l.queries {
		if strings.Contains(q, substr) {
			n++
		}
	}
	return n
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func readString(ctx context.Context, s sessions.Storage, id string) (string, error) {
	var got []byte
	err := s.Read(ctx, id, func(r io.Reader) (err error) {
		got, err = io.ReadAll(r)
		return err
	})
	return string(got), err
}

// listIDs collects what List yields, in the order yielded.
func listIDs(t testing.TB, l sessions.Lister) []string {
	t.Helper()
	var ids []string
	for id, err := range l.List(context.Background()) {
		if err != nil {
			t.Fatalf("List yielded %v", err)
		}
		ids = append(ids, id)
	}
	return ids
}

// countRows returns the number of rows of table, expired or not.
func countRows(t testing.TB, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// driverGoroutines returns the stacks of goroutines that run code of pgx,
// its pool, or the Store. Goroutines of the test harness (the container
// engine's HTTP client, say) do not count.
func driverGoroutines() []string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "driverGoroutines") {
			continue
		}
		if strings.Contains(g, "github.com/jackc/") || strings.Contains(g, "sessionkit/storage/postgres.") {
			out = append(out, g)
		}
	}
	return out
}

// checkNoLeak fails t unless the driver goroutines fall back to at most
// baseline within 30 seconds, a deadline no healthy run comes near.
func checkNoLeak(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		gs := driverGoroutines()
		if len(gs) <= baseline {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d pgx goroutines still run after the pool was closed (%d before it was made):\n%s",
				len(gs), baseline, strings.Join(gs, "\n\n"))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// isServerDown reports whether err says the server could not be reached in
// time: a context deadline, or a network error.
func isServerDown(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr)
}
