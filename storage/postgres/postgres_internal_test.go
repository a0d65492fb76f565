package postgres

// These tests need no PostgreSQL server: the pool points at a port nothing
// listens on and counts its dials, so a test can prove that a call never
// reached the network. Tests against real servers live in the integration
// module.

import (
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/sessions"
)

// deadPool returns a pool for a loopback port nothing listens on, and the
// number of dials it has made so far.
func deadPool(t *testing.T) (*pgxpool.Pool, *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return poolFor(t, addr)
}

// poolFor returns a pool for the server at addr, and the number of dials it
// has made so far.
func poolFor(t *testing.T, addr string) (*pgxpool.Pool, *atomic.Int64) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig("postgres://postgres@" + addr + "/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	var dials atomic.Int64
	var d net.Dialer
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, &dials
}

// offlineStore returns a Store on a dead pool, built without New's table
// check, which needs a server.
func offlineStore(t *testing.T, opts ...Option) (*Store, *atomic.Int64) {
	t.Helper()
	pool, dials := deadPool(t)
	return storeOn(t, pool, opts...), dials
}

// storeOn returns a Store on pool, built without New's table check.
func storeOn(t *testing.T, pool *pgxpool.Pool, opts ...Option) *Store {
	t.Helper()
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if len(o.errs) > 0 {
		t.Fatal(o.errs)
	}
	return newStore(pool, o)
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// op is one Store call on an id, for tests that hold for every operation.
type op struct {
	name string
	call func(ctx context.Context, s *Store, id string) error
}

// idOps are the Store calls that take an id.
var idOps = []op{
	{"Write", func(ctx context.Context, s *Store, id string) error {
		return s.Write(ctx, id, time.Now().Add(time.Hour), writeString("v"))
	}},
	{"Read", func(ctx context.Context, s *Store, id string) error {
		return s.Read(ctx, id, func(io.Reader) error { return nil })
	}},
	{"Invalidate", func(ctx context.Context, s *Store, id string) error { return s.Invalidate(ctx, id) }},
	{"Touch", func(ctx context.Context, s *Store, id string) error {
		return s.Touch(ctx, id, time.Now().Add(time.Hour))
	}},
	{"CreateIndexed", func(ctx context.Context, s *Store, id string) error {
		return s.CreateIndexed(ctx, id, "ix", time.Now().Add(time.Hour), writeString("v"))
	}},
	{"ReplaceIndexed", func(ctx context.Context, s *Store, id string) error {
		return s.ReplaceIndexed(ctx, id, "ix", time.Now().Add(time.Hour), writeString("v"))
	}},
	// ReadIndex takes an index key where the others take an id: the same
	// checks apply to it.
	{"ReadIndex", func(ctx context.Context, s *Store, index string) error {
		return s.ReadIndex(ctx, index, func(string, time.Time, io.Reader) error { return nil })
	}},
}

func TestInvalidIDsAreRefusedBeforeAnyDial(t *testing.T) {
	s, dials := offlineStore(t)
	ids := []string{"", "../x", "a/b", `a\b`, ".", "..", "a\x00b", "a b", "%2e%2e", "é", "x'; DROP TABLE t; --", strings.Repeat("a", sessions.MaxIDLength+1)}
	for _, o := range idOps {
		for _, id := range ids {
			if err := o.call(t.Context(), s, id); !errors.Is(err, sessions.ErrInvalidID) {
				t.Errorf("%s(%q) = %v, want an error wrapping ErrInvalidID", o.name, id, err)
			}
		}
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("invalid ids caused %d dials, want none", n)
	}
}

func TestFailingWriterRunsNoStatement(t *testing.T) {
	s, dials := offlineStore(t)
	boom := errors.New("boom")
	for _, expires := range []time.Time{{}, time.Now().Add(time.Hour), time.Now().Add(-time.Hour)} {
		err := s.Write(t.Context(), "id", expires, func(w io.Writer) error {
			io.WriteString(w, "half")
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("Write with a failing writer (expires %v) = %v, want the writer's error", expires, err)
		}
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("a failing writer caused %d dials, want none", n)
	}
}

func TestCancelledContextRunsNoStatement(t *testing.T) {
	s, dials := offlineStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, o := range idOps {
		if err := o.call(ctx, s, "id"); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context = %v, want an error wrapping context.Canceled", o.name, err)
		}
	}
	for _, err := range s.List(ctx) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("List with a cancelled context yielded %v, want an error wrapping context.Canceled", err)
		}
	}
	if _, err := s.DeleteExpired(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("DeleteExpired with a cancelled context = %v, want an error wrapping context.Canceled", err)
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("a cancelled context caused %d dials, want none", n)
	}
}

func TestCallsAfterCloseFailWithErrClosed(t *testing.T) {
	s, dials := offlineStore(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	for _, o := range idOps {
		if err := o.call(t.Context(), s, "id"); !errors.Is(err, sessions.ErrClosed) {
			t.Errorf("%s after Close = %v, want an error wrapping ErrClosed", o.name, err)
		}
	}
	n := 0
	for id, err := range s.List(t.Context()) {
		n++
		if id != "" || !errors.Is(err, sessions.ErrClosed) {
			t.Errorf("List after Close yielded (%q, %v), want (\"\", ErrClosed)", id, err)
		}
	}
	if n != 1 {
		t.Errorf("List after Close yielded %d times, want once", n)
	}
	if _, err := s.DeleteExpired(t.Context()); !errors.Is(err, sessions.ErrClosed) {
		t.Errorf("DeleteExpired after Close = %v, want an error wrapping ErrClosed", err)
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("calls after Close caused %d dials, want none", n)
	}
	// The pool belongs to the caller: closing the Store leaves it open.
	// (Acquire fails here anyway, as nothing listens, but not as closed.)
	if _, err := s.pool.Acquire(t.Context()); err != nil && strings.Contains(err.Error(), "closed pool") {
		t.Errorf("Store.Close closed the caller's pool: Acquire = %v", err)
	}
}

func TestDriverErrorsAreWrapped(t *testing.T) {
	s, dials := offlineStore(t)
	for _, o := range idOps {
		err := o.call(t.Context(), s, "id")
		var netErr net.Error
		var opErr *net.OpError
		if err == nil || !strings.HasPrefix(err.Error(), "sessionkit/postgres: ") ||
			!(errors.As(err, &netErr) || errors.As(err, &opErr)) {
			t.Errorf("%s on a dead server = %v, want the network error wrapped with the package prefix", o.name, err)
		}
	}
	if dials.Load() == 0 {
		t.Errorf("no dial was made: the test does not reach the driver")
	}
}

func TestBackgroundSweeperReportsErrorsAndStopsOnClose(t *testing.T) {
	errs := make(chan error, 100)
	s, dials := offlineStore(t, WithSweepErrorHandler(func(err error) {
		select {
		case errs <- err:
		default:
		}
	}))
	s.startSweeper(10 * time.Millisecond)
	select {
	case err := <-errs:
		if !strings.HasPrefix(err.Error(), "sessionkit/postgres: delete expired: ") {
			t.Errorf("the sweeper reported %q, want a wrapped delete expired error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the sweeper reported no error from a dead server within 30s")
	}
	if dials.Load() == 0 {
		t.Error("the sweeper never reached the pool")
	}
	s.Close()
	// The sweeper closes done as it returns; Close must wait for it.
	select {
	case <-s.done:
	default:
		t.Fatal("Close returned while the sweeper goroutine still runs")
	}
	// The goroutine has returned, so nothing can report after this drain.
	for len(errs) > 0 {
		<-errs
	}
	if len(errs) != 0 {
		t.Errorf("the sweeper reported %d errors after Close returned", len(errs))
	}
}

func TestNoSweeperWhenIntervalIsZero(t *testing.T) {
	s, _ := offlineStore(t)
	s.startSweeper(0)
	if s.stop != nil || s.done != nil {
		t.Error("startSweeper(0) started a sweeper")
	}
	s.Close()
}

func TestDefaultsAreTheDocumentedOnes(t *testing.T) {
	o := defaultOptions()
	if o.table != DefaultTable || o.schema != "" || !o.createTable ||
		o.sweepInterval != DefaultSweepInterval || o.batchSize != DefaultSweepBatch || o.onSweepError == nil {
		t.Errorf("defaultOptions() = %+v, want the documented defaults", o)
	}
	if DefaultTable != "sessionkit_sessions" || DefaultSweepInterval != 5*time.Minute || DefaultSweepBatch != 1000 {
		t.Error("a default constant differs from its documentation")
	}
}

func TestStatementsQuoteTheTableName(t *testing.T) {
	s, _ := offlineStore(t, WithTable("app.Sessions"))
	for _, q := range []string{s.sqlRead, s.sqlWrite, s.sqlDelete, s.sqlTouch, s.sqlExpire, s.sqlList, s.sqlSweep} {
		if !strings.Contains(q, `"app"."Sessions"`) || strings.Contains(q, " app.Sessions") {
			t.Errorf("statement %q does not use the quoted name \"app\".\"Sessions\"", q)
		}
	}
	if s.index != `"Sessions_expires_at_idx"` {
		t.Errorf("index name = %s, want \"Sessions_expires_at_idx\"", s.index)
	}
}

func TestNewRefusesInvalidOptionsBeforeTouchingTheDatabase(t *testing.T) {
	cases := []struct {
		name string
		opt  Option
	}{
		{"EmptyTable", WithTable("")},
		{"Injection", WithTable("t; DROP TABLE users; --")},
		{"QuoteBreakout", WithTable(`t" ; DROP TABLE users; --`)},
		{"SingleQuote", WithTable("t'x")},
		{"Space", WithTable("my table")},
		{"Hyphen", WithTable("my-table")},
		{"LeadingDigit", WithTable("1table")},
		{"LeadingDollar", WithTable("$t")},
		{"ThreeParts", WithTable("db.app.sessions")},
		{"EmptySchema", WithTable(".sessions")},
		{"EmptyTablePart", WithTable("app.")},
		{"Comment", WithTable("t/*x*/")},
		{"NonASCII", WithTable("séance")},
		{"NUL", WithTable("t\x00")},
		{"TooLong", WithTable(strings.Repeat("t", maxIdentifierLength+1))},
		{"ZeroBatch", WithSweepBatch(0)},
	}
	pool, dials := deadPool(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(t.Context(), pool, tc.opt)
			if err == nil || s != nil {
				t.Fatalf("New = %v, %v; want an error", s, err)
			}
			if !strings.HasPrefix(err.Error(), "sessionkit/postgres: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if n := dials.Load(); n != 0 {
		t.Errorf("invalid options caused %d dials, want none", n)
	}
	if _, err := New(t.Context(), nil); err == nil {
		t.Error("New with a nil pool succeeded")
	}
}

func TestWithTableAcceptsIdentifiers(t *testing.T) {
	cases := []struct{ name, schema, table string }{
		{"sessions", "", "sessions"},
		{"_s", "", "_s"},
		{"Sessions2", "", "Sessions2"},
		{"app.sessions", "app", "sessions"},
		{"a$b", "", "a$b"},
		{strings.Repeat("t", maxIdentifierLength), "", strings.Repeat("t", maxIdentifierLength)},
	}
	for _, tc := range cases {
		o := defaultOptions()
		WithTable(tc.name)(&o)
		if len(o.errs) > 0 || o.schema != tc.schema || o.table != tc.table {
			t.Errorf("WithTable(%q) = schema %q, table %q, errors %v; want %q, %q", tc.name, o.schema, o.table, o.errs, tc.schema, tc.table)
		}
	}
}

// stalledServer accepts connections and never answers, like a server that
// hangs or a network that drops packets. It returns its address.
func stalledServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func TestCallsReturnByTheDeadlineOfAStalledServer(t *testing.T) {
	pool, _ := poolFor(t, stalledServer(t))
	s := storeOn(t, pool)
	const timeout = 300 * time.Millisecond
	calls := append(slices.Clone(idOps),
		op{"List", func(ctx context.Context, s *Store, _ string) error {
			for _, err := range s.List(ctx) {
				return err
			}
			return nil
		}},
		op{"DeleteExpired", func(ctx context.Context, s *Store, _ string) error {
			_, err := s.DeleteExpired(ctx)
			return err
		}})
	for _, o := range calls {
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		start := time.Now()
		err := o.call(ctx, s, "id")
		took := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s against a stalled server = %v, want an error wrapping context.DeadlineExceeded", o.name, err)
		}
		if took > timeout+time.Second {
			t.Errorf("%s took %v under a %v deadline", o.name, took, timeout)
		}
	}
}

// The options policy of docs/storage-authors.md: a nil handler discards, a
// sweep interval of zero or less turns the sweeper off.
func TestOptionsPolicy(t *testing.T) {
	cases := []struct {
		name  string
		opt   Option
		check func(options) bool
	}{
		{"NilSweepErrorHandlerDiscards", WithSweepErrorHandler(nil), func(o options) bool {
			o.onSweepError(errors.New("dropped")) // must not panic
			return o.onSweepError != nil
		}},
		{"NegativeSweepIntervalTurnsTheSweeperOff", WithSweepInterval(-time.Second), func(o options) bool { return o.sweepInterval == 0 }},
		{"ZeroSweepIntervalTurnsTheSweeperOff", WithSweepInterval(0), func(o options) bool { return o.sweepInterval == 0 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := defaultOptions()
			tc.opt(&o)
			if len(o.errs) != 0 || !tc.check(o) {
				t.Errorf("options = %+v", o)
			}
		})
	}
}

// TestSweepRestsAfterEachFullBatch checks the pacing that keeps a large
// sweep from taking the server back to back: after every full batch the
// sweep waits three times as long as the batch took, and it stops at the
// first batch that deletes fewer rows than its size. A sleep never ends
// early, so the bound holds whatever the machine's speed.
func TestSweepRestsAfterEachFullBatch(t *testing.T) {
	const size, full = 100, 5
	var owed time.Duration // the full batches' rests
	calls := 0
	t0 := time.Now()
	total, err := sweepPaced(context.Background(), size, func(context.Context) (int, error) {
		calls++
		time.Sleep(2 * time.Millisecond) // a statement's work
		if calls <= full {
			// Its length as the sweep sees it is at least the sleep.
			owed += sweepRestFactor * 2 * time.Millisecond
			return size, nil
		}
		return size / 2, nil
	})
	elapsed := time.Since(t0)
	if err != nil || total != full*size+size/2 || calls != full+1 {
		t.Fatalf("sweepPaced = %d, %v after %d batches; want %d, nil after %d", total, err, calls, full*size+size/2, full+1)
	}
	if elapsed < owed {
		t.Errorf("the sweep took %v; want at least the %v its %d full batches owe in rests", elapsed, owed, full)
	}
}

// TestSweepStopsRestingWhenCancelled checks that a rest ends with ctx: the
// sweep returns what it deleted and an error wrapping ctx's, instead of
// finishing its wait.
func TestSweepStopsRestingWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var total int
	var err error
	go func() {
		defer close(done)
		total, err = sweepPaced(ctx, 10, func(context.Context) (int, error) {
			// Always full, and blind to ctx: only the rests'
			// watch of ctx can end the sweep.
			time.Sleep(time.Millisecond)
			return 10, nil
		})
	}()
	time.AfterFunc(20*time.Millisecond, cancel)
	<-done
	if !errors.Is(err, context.Canceled) || total < 10 {
		t.Fatalf("sweepPaced = %d, %v; want at least 10, context.Canceled", total, err)
	}
}
