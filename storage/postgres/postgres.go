package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/sessions"
)

// Store is a [sessions.Storage] that keeps each session as one row of a
// PostgreSQL table, through a pgx connection pool. It also implements
// [sessions.Toucher], [sessions.ConditionalWriter], [sessions.ExpiryReader],
// [sessions.Lister], [sessions.Sweeper] and [io.Closer].
//
// Every operation on one session is a single statement, so a Store is safe
// for concurrent use by multiple goroutines and inherits PostgreSQL's
// atomicity: concurrent Writes to one id end with exactly one of the written
// values, and a Read sees either a whole old or a whole new value.
//
// Whether a row is live is judged by the database server's clock (now()),
// in every statement, so all application servers agree on it whatever their
// own clock skew.
type Store struct {
	pool       *pgxpool.Pool
	table      string // quoted, possibly schema-qualified
	index      string // quoted expiry index name
	batchSize  int
	onSweepErr func(error)

	sqlRead, sqlWrite, sqlDelete           string
	sqlTouch, sqlExpire, sqlList, sqlSweep string
	conditional                            conditionalSQL

	closed    atomic.Bool
	closeOnce sync.Once
	stop      context.CancelFunc // stops the background sweeper; nil without one
	done      chan struct{}      // closed when the background sweeper has returned
}

// Compile-time checks of the capabilities Store promises.
var (
	_ sessions.Storage = (*Store)(nil)
	_ sessions.Toucher = (*Store)(nil)
	_ sessions.Lister  = (*Store)(nil)
	_ sessions.Sweeper = (*Store)(nil)
	_ io.Closer        = (*Store)(nil)
)

// Errors returned as is, so the hot paths allocate nothing to report them.
var (
	errNotFound = sessions.ErrNotFound // the sentinel itself: a prefix would only stack
	errClosed   = sessions.ErrClosed
)

// live is the condition every statement that must not see expired rows
// carries. It compares with the database's clock, see Store.
const live = `(expires_at IS NULL OR expires_at > now())`

// New returns a Store that keeps sessions in a table of the database pool
// connects to. Unless WithCreateTable(false) is given, it first creates the
// table and its expiry index when the table is missing, with these
// statements (for the default table name):
//
//	CREATE TABLE IF NOT EXISTS "sessionkit_sessions" (
//		id         text COLLATE "C" PRIMARY KEY,
//		data       bytea NOT NULL,
//		expires_at timestamptz NULL
//	);
//	CREATE INDEX IF NOT EXISTS "sessionkit_sessions_expires_at_idx"
//		ON "sessionkit_sessions" (expires_at);
//
// The two statements run in one transaction under an advisory lock, so that
// application instances starting together do not trip over each other. In
// either case New then checks that the table exists with the columns id,
// data and expires_at, and returns a descriptive error if it does not. A
// table managed elsewhere may use another collation for id, as long as it is
// deterministic (the default ones are).
//
// New starts the background sweeper unless WithSweepInterval(0) is given;
// Close stops it. The Store never closes pool: the caller owns it and closes
// it after the Store is no longer used.
//
// New returns an error for a nil pool, an invalid option, or a failure to
// create or check the table; the error wraps the driver's error.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, errors.New("sessionkit/postgres: New: nil pool")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := errors.Join(o.errs...); err != nil {
		return nil, err
	}

	s := newStore(pool, o)

	if o.createTable {
		if err := createTable(ctx, pool, s.table, s.index); err != nil {
			return nil, err
		}
	}
	if err := checkTable(ctx, pool, s.table); err != nil {
		return nil, err
	}
	s.startSweeper(o.sweepInterval)
	return s, nil
}

// newStore builds a Store from validated options without touching the
// database.
func newStore(pool *pgxpool.Pool, o options) *Store {
	t, index := quoteNames(o.schema, o.table)
	return &Store{
		pool:       pool,
		table:      t,
		index:      index,
		batchSize:  o.batchSize,
		onSweepErr: o.onSweepError,

		sqlRead: `SELECT data FROM ` + t + ` WHERE id = $1 AND ` + live,
		sqlWrite: `INSERT INTO ` + t + ` (id, data, expires_at) VALUES ($1, $2, $3) ` +
			`ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`,
		sqlDelete:   `DELETE FROM ` + t + ` WHERE id = $1`,
		conditional: conditionalStatements(t),
		sqlTouch:    `UPDATE ` + t + ` SET expires_at = $2 WHERE id = $1 AND ` + live,
		sqlExpire:   `DELETE FROM ` + t + ` WHERE id = $1 AND ` + live,
		sqlList:     `SELECT id FROM ` + t + ` WHERE id > $1 AND ` + live + ` ORDER BY id LIMIT $2`,
		// SKIP LOCKED: rows another transaction is rewriting are not expired
		// for long, and sweepers in several instances must not queue up
		// behind each other or behind requests.
		sqlSweep: `DELETE FROM ` + t + ` WHERE id IN (SELECT id FROM ` + t +
			` WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED)`,
	}
}

// quoteNames returns the quoted table name and the quoted name of its expiry
// index. An index name cannot be schema-qualified: it lives in the table's
// schema.
func quoteNames(schema, table string) (quotedTable, quotedIndex string) {
	ident := pgx.Identifier{table}
	if schema != "" {
		ident = pgx.Identifier{schema, table}
	}
	return ident.Sanitize(), pgx.Identifier{table + "_expires_at_idx"}.Sanitize()
}

// startSweeper starts the background sweeper when interval is positive.
func (s *Store) startSweeper(interval time.Duration) {
	if interval <= 0 {
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	s.stop, s.done = stop, make(chan struct{})
	go s.sweepLoop(ctx, interval)
}

// TableSQL returns the statements New runs to create the table named name
// (as accepted by [WithTable]) and its expiry index, for applications that
// manage their schema with migrations and use WithCreateTable(false). It
// returns an error if name is not a valid table name.
func TableSQL(name string) (string, error) {
	schema, table, err := parseTableName(name)
	if err != nil {
		return "", err
	}
	t, index := quoteNames(schema, table)
	return createTableSQL(t) + ";\n" + createIndexSQL(index, t) + ";\n", nil
}

func createTableSQL(table string) string {
	return `CREATE TABLE IF NOT EXISTS ` + table + ` (
	id         text COLLATE "C" PRIMARY KEY,
	data       bytea NOT NULL,
	expires_at timestamptz NULL
)`
}

// createIndexSQL: the index lets sweeps find expired rows without scanning
// the table.
func createIndexSQL(index, table string) string {
	return `CREATE INDEX IF NOT EXISTS ` + index + ` ON ` + table + ` (expires_at)`
}

// createTable creates the table and its index unless the table exists. An
// existing table is left alone, so that a role without CREATE rights works
// with a table made by migrations even without WithCreateTable(false). The
// DDL runs in one transaction holding an advisory lock on the table's name:
// concurrent CREATE TABLE IF NOT EXISTS of one name can fail with a unique
// violation in the catalog when instances start together.
func createTable(ctx context.Context, pool *pgxpool.Pool, table, index string) error {
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.QueryExecModeExec, table).Scan(&exists); err != nil {
		return tableError("checking", table, err)
	}
	if exists {
		return nil
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "sessionkit/postgres:"+table); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, createTableSQL(table)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, createIndexSQL(index, table))
		return err
	})
	if err != nil {
		return tableError("creating", table, err)
	}
	return nil
}

// checkTable makes a missing table or column an error at New, with a message
// that says what is wrong, rather than an error on every request later.
func checkTable(ctx context.Context, pool *pgxpool.Pool, table string) error {
	// The simple protocol keeps this one-off query out of the statement cache.
	rows, err := pool.Query(ctx, `SELECT id, data, expires_at FROM `+table+` WHERE false`,
		pgx.QueryExecModeSimpleProtocol)
	if err == nil {
		rows.Close()
		err = rows.Err()
	}
	if err == nil {
		return nil
	}
	return tableError("checking", table, err)
}

// tableError describes what is wrong with the table when err says so: a
// missing table, or one of another shape (an existing table with other
// columns also makes the CREATE INDEX of New fail).
func tableError(doing, table string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "42P01", "3F000": // undefined_table, invalid_schema_name
			return fmt.Errorf("sessionkit/postgres: table %s does not exist; create it "+
				"(see TableSQL) or leave WithCreateTable at its default: %w", table, err)
		case "42703": // undefined_column
			return fmt.Errorf("sessionkit/postgres: table %s lacks a column of "+
				"(id text, data bytea, expires_at timestamptz): %w", table, err)
		}
	}
	return fmt.Errorf("sessionkit/postgres: %s table %s: %w", doing, table, err)
}

// Write implements [sessions.Storage] with one upsert (INSERT ... ON
// CONFLICT (id) DO UPDATE), or a DELETE when expires is already past by the
// local clock. write runs before any statement, so a failing write runs
// none. Timestamps keep microsecond resolution (expires is truncated, never
// extended) and are judged by the server's clock. Driver errors are wrapped.
func (s *Store) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.check(ctx, "write", id); err != nil {
		return err
	}
	// WriteBuffered never passes a nil slice: pgx would send nil as NULL,
	// and an empty session is an empty bytea.
	return sessions.WriteBuffered(write, func(data []byte) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sessionkit/postgres: write: %w", err)
		}
		var err error
		switch {
		case expires.IsZero():
			_, err = s.pool.Exec(ctx, s.sqlWrite, id, data, nil)
		case !expires.After(time.Now()):
			_, err = s.pool.Exec(ctx, s.sqlDelete, id)
		default:
			_, err = s.pool.Exec(ctx, s.sqlWrite, id, data, expires)
		}
		if err != nil {
			return wrap(ctx, "write", err)
		}
		return nil
	})
}

// Read implements [sessions.Storage] with one SELECT that skips expired
// rows. Driver errors are wrapped.
func (s *Store) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	if err := s.check(ctx, "read", id); err != nil {
		return err
	}
	var data []byte
	if err := s.pool.QueryRow(ctx, s.sqlRead, id).Scan(&data); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound
		}
		return wrap(ctx, "read", err)
	}
	return read(bytes.NewReader(data))
}

// Invalidate implements [sessions.Storage] with one DELETE. Driver errors
// are wrapped.
func (s *Store) Invalidate(ctx context.Context, id string) error {
	if err := s.check(ctx, "invalidate", id); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, s.sqlDelete, id); err != nil {
		return wrap(ctx, "invalidate", err)
	}
	return nil
}

// Touch implements [sessions.Toucher] with one UPDATE of a live row, or a
// DELETE of it when expires is already past by the local clock.
func (s *Store) Touch(ctx context.Context, id string, expires time.Time) error {
	if err := s.check(ctx, "touch", id); err != nil {
		return err
	}
	var (
		tag pgconn.CommandTag
		err error
	)
	switch {
	case expires.IsZero():
		tag, err = s.pool.Exec(ctx, s.sqlTouch, id, nil)
	case !expires.After(time.Now()):
		tag, err = s.pool.Exec(ctx, s.sqlExpire, id)
	default:
		tag, err = s.pool.Exec(ctx, s.sqlTouch, id, expires)
	}
	if err != nil {
		return wrap(ctx, "touch", err)
	}
	if tag.RowsAffected() == 0 {
		return errNotFound
	}
	return nil
}

// List yields the id of every live session, each once, in byte order of the
// ids. It reads them in batches ([WithSweepBatch]) with key-set pagination, one
// short query per batch, so that a large table holds neither a long-running
// cursor nor a connection while the loop body runs: the body may use the
// Store, even with a pool of one connection.
//
// Rows whose id is not a valid session id (inserted by another program) are
// skipped. Sessions written or removed while the iteration runs may or may
// not be yielded. A failure, including [sessions.ErrClosed] after Close and the
// context's error, is yielded as ("", err) and ends the iteration.
func (s *Store) List(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		after := ""
		for {
			if err := s.ready(ctx, "list"); err != nil {
				yield("", err)
				return
			}
			rows, err := s.pool.Query(ctx, s.sqlList, after, s.batchSize)
			if err != nil {
				yield("", wrap(ctx, "list", err))
				return
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				yield("", wrap(ctx, "list", err))
				return
			}
			for _, id := range ids {
				// A row another program inserted may hold an id no Store
				// call accepts; it is not a session of this Store.
				if sessions.CheckID(id) != nil {
					continue
				}
				if !yield(id, nil) {
					return
				}
			}
			if len(ids) < s.batchSize {
				return
			}
			after = ids[len(ids)-1]
		}
	}
}

// DeleteExpired deletes every row whose expiry has passed by the database's
// clock and returns how many it deleted. Live rows are kept. It deletes in
// batches ([WithSweepBatch]), one short statement each, so a large sweep never
// holds many locks or a long transaction; rows another transaction holds at
// that moment are skipped, as they are being rewritten.
//
// On error, including the context's, DeleteExpired returns the number
// deleted so far with the error, wrapped. After Close it returns an error
// wrapping [sessions.ErrClosed].
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	if err := s.ready(ctx, "delete expired"); err != nil {
		return 0, err
	}
	return s.sweep(ctx)
}

func (s *Store) sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		tag, err := s.pool.Exec(ctx, s.sqlSweep, s.batchSize)
		if err != nil {
			return total, wrap(ctx, "delete expired", err)
		}
		n := int(tag.RowsAffected())
		total += n
		if n < s.batchSize {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("sessionkit/postgres: delete expired: %w", err)
		}
	}
}

// minSweepTimeout is the least time a background sweep is given before it is
// cancelled and reported as failed.
const minSweepTimeout = time.Minute

// sweepLoop is the background sweeper: one sweep per interval until ctx is
// cancelled by Close. A sweep may take one interval or minSweepTimeout,
// whichever is longer: a stalled server then shows up as an error rather
// than a sweeper silently stuck. The ticker drops the ticks that pass during
// a sweep, so sweeps never pile up.
func (s *Store) sweepLoop(ctx context.Context, interval time.Duration) {
	defer close(s.done)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		sweepCtx, cancel := context.WithTimeout(ctx, max(interval, minSweepTimeout))
		_, err := s.sweep(sweepCtx)
		cancel()
		if err != nil && ctx.Err() == nil {
			s.onSweepErr(err)
		}
	}
}

// Close marks the Store closed, so that every later call returns an error
// wrapping [sessions.ErrClosed], and stops the background sweeper, waiting
// until its goroutine has returned (a sweep in progress is cancelled). An
// iteration of List in progress ends with [sessions.ErrClosed] before its next
// batch. Close does not close the pool, which belongs to the caller. Calls
// already in flight finish normally. Close is safe to call more than once,
// also concurrently, and always returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if s.stop != nil {
			s.stop()
			<-s.done
		}
	})
	return nil
}

// check runs the checks every operation on one id starts with, in the order
// the contract sets: the id before anything else, then Close, then the
// context, so that a call that cannot succeed sends nothing.
func (s *Store) check(ctx context.Context, op, id string) error {
	if err := sessions.CheckID(id); err != nil {
		return err // it says all there is: no prefix to stack on it
	}
	return s.ready(ctx, op)
}

// ready reports [sessions.ErrClosed] after Close and the context's error when
// ctx is done.
func (s *Store) ready(ctx context.Context, op string) error {
	if s.closed.Load() {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessionkit/postgres: %s: %w", op, err)
	}
	return nil
}

// wrap turns a driver error into the Store's error. When the context is done
// by the time the statement failed, the context's error is wrapped as well,
// so callers can test for context.DeadlineExceeded whatever form the driver
// gave the failure.
func wrap(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("sessionkit/postgres: %s: %w: %w", op, cerr, err)
	}
	return fmt.Errorf("sessionkit/postgres: %s: %w", op, err)
}
