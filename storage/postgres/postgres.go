package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/sessions"
)

// Compile-time checks of the capabilities Store promises.
var (
	_ sessions.Storage = (*Store)(nil)
	_ sessions.Toucher = (*Store)(nil)
	_ sessions.Lister  = (*Store)(nil)
	_ sessions.Sweeper = (*Store)(nil)
	_ io.Closer        = (*Store)(nil)
)

// New returns a Store that keeps sessions in a table of the database pool
// connects to. Unless WithCreateTable(false) is given, it first creates the
// table and its indexes when the table is missing, with these statements
// (for the default table name):
//
//	CREATE TABLE IF NOT EXISTS "sessionkit_sessions" (
//		id         text COLLATE "C" NOT NULL,
//		data       bytea NOT NULL,
//		expires_at timestamptz NULL,
//		index_key  text COLLATE "C" NULL,
//		PRIMARY KEY (id) INCLUDE (expires_at)
//	);
//	ALTER TABLE "sessionkit_sessions"
//		ADD COLUMN IF NOT EXISTS index_key text COLLATE "C" NULL;
//	CREATE INDEX IF NOT EXISTS "sessionkit_sessions_expires_at_idx"
//		ON "sessionkit_sessions" (expires_at);
//	CREATE INDEX IF NOT EXISTS "sessionkit_sessions_index_key_idx"
//		ON "sessionkit_sessions" (index_key, id) WHERE index_key IS NOT NULL;
//
// The same statements bring a table made before the index_key column
// existed up to date: when the table exists but lacks that column or an
// index on it, New runs them too (adding a column that may be NULL is a
// change of the catalog only; building the index reads the table once,
// blocking writes to it meanwhile). A table that is up to date is left
// alone. The statements run in one transaction under an advisory lock, so
// that application instances starting together do not trip over each
// other. In either case New then checks that the table exists with the
// columns id, data, expires_at and index_key, and returns a descriptive
// error if it does not. A table managed elsewhere may use other
// collations for id and index_key, as long as they are deterministic (the
// default ones are).
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
		if err := createTable(ctx, pool, s.table, s.schemaSQL()); err != nil {
			return nil, err
		}
	}
	if err := checkTable(ctx, pool, s.table, allColumns); err != nil {
		return nil, err
	}
	s.startSweeper(o.sweepInterval)
	return s, nil
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
// (as accepted by [WithTable]) and its indexes, for applications that
// manage their schema with migrations and use WithCreateTable(false). They
// are idempotent and also bring a table made by an earlier version of this
// package, before the index_key column, up to date. TableSQL returns an
// error if name is not a valid table name.
func TableSQL(name string) (string, error) {
	schema, table, err := parseTableName(name)
	if err != nil {
		return "", err
	}
	t, index, keyIndex := quoteNames(schema, table)
	return strings.Join(schemaStatements(t, index, keyIndex), ";\n") + ";\n", nil
}

// schemaSQL returns the statements that create the Store's table and
// indexes, or complete them.
func (s *Store) schemaSQL() []string { return schemaStatements(s.table, s.index, s.keyIndex) }

// schemaStatements are the DDL of a table, in order. Each is idempotent:
//   - the table, for a database that has none;
//   - index_key, for a table made before the column existed (ADD COLUMN of
//     a column without a default only changes the catalog);
//   - the expiry index, which lets sweeps find expired rows without
//     scanning the table;
//   - the index of ReadIndex, on (index_key, id) so that it also serves
//     ReadIndex's key-set pagination, and partial: rows filed under no
//     index key, the sessions of a provider without WithIndex, cost it
//     nothing. The planner uses it for index_key = $1, which implies
//     index_key IS NOT NULL whatever $1 is.
func schemaStatements(table, index, keyIndex string) []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS ` + table + ` (
	id         text COLLATE "C" NOT NULL,
	data       bytea NOT NULL,
	expires_at timestamptz NULL,
	index_key  text COLLATE "C" NULL,
	PRIMARY KEY (id) INCLUDE (expires_at)
)`,
		`ALTER TABLE ` + table + ` ADD COLUMN IF NOT EXISTS index_key text COLLATE "C" NULL`,
		`CREATE INDEX IF NOT EXISTS ` + index + ` ON ` + table + ` (expires_at)`,
		`CREATE INDEX IF NOT EXISTS ` + keyIndex + ` ON ` + table + ` (index_key, id) WHERE index_key IS NOT NULL`,
	}
}

// The columns checkTable asks for: those of every version, and all of them.
const (
	baseColumns = `id, data, expires_at`
	allColumns  = baseColumns + `, index_key`
)

// createTable runs the schema statements unless the table exists with the
// index_key column and an index on it. An up-to-date table is left alone,
// so that a role without CREATE rights works with a table made by
// migrations even without WithCreateTable(false); an existing table of
// another shape (without data or expires_at) is reported, not altered. The
// DDL runs in one transaction holding an advisory lock on the table's name:
// concurrent CREATE TABLE IF NOT EXISTS of one name can fail with a unique
// violation in the catalog when instances start together, and concurrent
// ALTER TABLEs would queue on the table's lock anyway.
func createTable(ctx context.Context, pool *pgxpool.Pool, table string, ddl []string) error {
	doing := "creating"
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.QueryExecModeExec, table).Scan(&exists); err != nil {
		return tableError("checking", table, err)
	}
	if exists {
		if err := checkTable(ctx, pool, table, baseColumns); err != nil {
			return err
		}
		current, err := upToDate(ctx, pool, table)
		if err != nil {
			return tableError("checking", table, err)
		}
		if current {
			return nil
		}
		doing = "adding the column index_key and its index to"
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "sessionkit/postgres:"+table); err != nil {
			return err
		}
		for _, q := range ddl {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return tableError(doing, table, err)
	}
	return nil
}

// upToDate reports whether the existing table has the index_key column and
// an index whose first column it is (by any name: a table managed by
// migrations may call it otherwise).
func upToDate(ctx context.Context, pool *pgxpool.Pool, table string) (bool, error) {
	var column, index bool
	err := pool.QueryRow(ctx, `SELECT
	EXISTS (SELECT 1 FROM pg_attribute
		WHERE attrelid = $1::regclass AND attname = 'index_key' AND NOT attisdropped),
	EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
		WHERE i.indrelid = $1::regclass AND a.attname = 'index_key')`,
		pgx.QueryExecModeExec, table).Scan(&column, &index)
	return column && index, err
}

// checkTable makes a missing table or column an error at New, with a message
// that says what is wrong, rather than an error on every request later.
func checkTable(ctx context.Context, pool *pgxpool.Pool, table, columns string) error {
	// The simple protocol keeps this one-off query out of the statement cache.
	rows, err := pool.Query(ctx, `SELECT `+columns+` FROM `+table+` WHERE false`,
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
// missing table, or one of another shape.
func tableError(doing, table string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "42P01", "3F000": // undefined_table, invalid_schema_name
			return fmt.Errorf("sessionkit/postgres: table %s does not exist; create it "+
				"(see TableSQL) or leave WithCreateTable at its default: %w", table, err)
		case "42703": // undefined_column
			return fmt.Errorf("sessionkit/postgres: table %s lacks a column of "+
				"(id text, data bytea, expires_at timestamptz, index_key text); a table made "+
				"before index_key existed gets it from New with WithCreateTable at its default, "+
				"or from the statements of TableSQL: %w", table, err)
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
// that moment are skipped, as they are being rewritten. After each full
// batch it rests three times as long as the batch took, so that a large
// sweep takes at most a quarter of the server's time: it lasts about four
// times its own work, and the requests around it keep their latency.
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
	return sweepPaced(ctx, s.batchSize, func(ctx context.Context) (int, error) {
		tag, err := s.pool.Exec(ctx, s.sqlSweep, s.batchSize)
		if err != nil {
			return 0, wrap(ctx, "delete expired", err)
		}
		return int(tag.RowsAffected()), nil
	})
}

// sweepRestFactor is how many times a batch's length a sweep rests after
// it.
const sweepRestFactor = 3

// sweepPaced calls batch, which deletes up to size rows, until it deletes
// fewer, and returns the total. After each full batch it rests
// sweepRestFactor times as long as the batch took, or until ctx is done, so
// that a sweep of a large table takes at most a quarter of the server's
// time and the requests around it keep their latency: a batch of 1,000
// rows costs the server tens of milliseconds of CPU and WAL (43ms at
// 1,000,000 sessions, sessionbench scale), which on a small server back to
// back is the requests' time too.
func sweepPaced(ctx context.Context, size int, batch func(context.Context) (int, error)) (int, error) {
	total := 0
	for {
		t0 := time.Now()
		n, err := batch(ctx)
		total += n
		if err != nil {
			return total, err
		}
		if n < size {
			return total, nil
		}
		rest := time.NewTimer(sweepRestFactor * time.Since(t0))
		select {
		case <-rest.C:
		case <-ctx.Done():
			rest.Stop()
			return total, fmt.Errorf("sessionkit/postgres: delete expired: %w", ctx.Err())
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
