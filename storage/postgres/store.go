package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sessionkit/sessionkit/sessions"
)

// Store is a [sessions.Storage] that keeps each session as one row of a
// PostgreSQL table, through a pgx connection pool. It also implements
// [sessions.Toucher], [sessions.ConditionalWriter], [sessions.ExpiryReader],
// [sessions.Indexer], [sessions.Lister], [sessions.Sweeper] and [io.Closer].
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
	keyIndex   string // quoted name of the index on index_key
	batchSize  int
	onSweepErr func(error)

	sqlRead, sqlWrite, sqlDelete           string
	sqlTouch, sqlExpire, sqlList, sqlSweep string
	sqlReadIndex                           string
	conditional                            conditionalSQL

	closed    atomic.Bool
	closeOnce sync.Once
	stop      context.CancelFunc // stops the background sweeper; nil without one
	done      chan struct{}      // closed when the background sweeper has returned
}

// Errors returned as is, so the hot paths allocate nothing to report them.
var (
	errNotFound = sessions.ErrNotFound // the sentinel itself: a prefix would only stack
	errClosed   = sessions.ErrClosed
)

// live is the condition every statement that must not see expired rows
// carries. It compares with the database's clock, see Store.
const live = `(expires_at IS NULL OR expires_at > now())`

// newStore builds a Store from validated options without touching the
// database.
func newStore(pool *pgxpool.Pool, o options) *Store {
	t, index, keyIndex := quoteNames(o.schema, o.table)
	return &Store{
		pool:       pool,
		table:      t,
		index:      index,
		keyIndex:   keyIndex,
		batchSize:  o.batchSize,
		onSweepErr: o.onSweepError,

		sqlRead: `SELECT data FROM ` + t + ` WHERE id = $1 AND ` + live,
		// A plain Write files the session under no index key: the row it
		// overwrites leaves the one it had.
		sqlWrite: `INSERT INTO ` + t + ` (id, data, expires_at) VALUES ($1, $2, $3) ` +
			`ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at, index_key = NULL`,
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
		// Key-set pagination by id, served by the index on (index_key, id).
		sqlReadIndex: `SELECT id, expires_at, data FROM ` + t + ` WHERE index_key = $1 AND id > $2 AND ` + live +
			` ORDER BY id LIMIT $3`,
	}
}

// quoteNames returns the quoted table name and the quoted names of its
// expiry index and of its index on index_key. An index name cannot be
// schema-qualified: it lives in the table's schema.
func quoteNames(schema, table string) (quotedTable, quotedIndex, quotedKeyIndex string) {
	ident := pgx.Identifier{table}
	if schema != "" {
		ident = pgx.Identifier{schema, table}
	}
	return ident.Sanitize(),
		pgx.Identifier{indexName(table, "_expires_at_idx")}.Sanitize(),
		pgx.Identifier{indexName(table, "_index_key_idx")}.Sanitize()
}

// indexName returns table+suffix, or, when that is longer than PostgreSQL
// keeps, a shortened table name, a hash of the whole one and suffix. The
// server would silently cut a long name at 63 bytes, so that two long table
// names sharing their first 50 bytes would name the same index, and the
// second table's CREATE INDEX IF NOT EXISTS would create nothing.
func indexName(table, suffix string) string {
	if len(table)+len(suffix) <= maxIdentifierLength {
		return table + suffix
	}
	h := fnv.New32a()
	h.Write([]byte(table))
	tag := fmt.Sprintf("_%08x", h.Sum32())
	// table is ASCII (see checkIdentifier), so any byte is a boundary.
	return table[:maxIdentifierLength-len(tag)-len(suffix)] + tag + suffix
}

// conditionalSQL are the statements of Create, Replace and ReadWithExpiry.
type conditionalSQL struct {
	create, replace, live, readExpiry string
}

func conditionalStatements(t string) conditionalSQL {
	return conditionalSQL{
		// The row is inserted, or an expired one it conflicts with is
		// overwritten; a live one is left alone and no row is affected.
		// $4 is the index key, NULL for none: Create and CreateIndexed
		// share the statement, and the filing is part of the row.
		create: `INSERT INTO ` + t + ` AS cur (id, data, expires_at, index_key) VALUES ($1, $2, $3, $4) ` +
			`ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at, index_key = EXCLUDED.index_key ` +
			`WHERE cur.expires_at IS NOT NULL AND cur.expires_at <= now()`,
		// As for create, $4 is the index key or NULL.
		replace:    `UPDATE ` + t + ` SET data = $2, expires_at = $3, index_key = $4 WHERE id = $1 AND ` + live,
		live:       `SELECT EXISTS (SELECT 1 FROM ` + t + ` WHERE id = $1 AND ` + live + `)`,
		readExpiry: `SELECT data, expires_at FROM ` + t + ` WHERE id = $1 AND ` + live,
	}
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
