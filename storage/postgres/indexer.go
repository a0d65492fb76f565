package postgres

import (
	"bytes"
	"context"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sessionkit/sessionkit/sessions"
)

var _ sessions.Indexer = (*Store)(nil)

// The index is a column of the session's row, index_key (NULL: filed under
// none), with a partial index on (index_key, id). Filing a session is thus
// part of the statement that writes it: no other statement, no other round
// trip, and no state of the index that can disagree with the row. A row
// that ends (DELETE, or an expiry in the past) leaves its index key with
// it, ReadIndex filters on liveness like every read, and the sweeper's
// DELETE of expired rows removes their filings. The index is exact: there
// is no stale filing to clean up lazily.

// CreateIndexed is [Store.Create] that also files id under index, in the
// same INSERT ... ON CONFLICT statement (the row's index_key column). If id
// holds a live row it returns an error wrapping [sessions.ErrExists] and
// changes nothing, the row's index key included. An empty index files id
// under no index key, as Create does. An id or index that fails
// [sessions.CheckID] yields an error wrapping [sessions.ErrInvalidID]
// before any statement; the other errors are Create's.
func (s *Store) CreateIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := s.checkIndexed(ctx, "create", id, index); err != nil {
		return err
	}
	return s.create(ctx, id, nullString(index), expires, write)
}

// ReplaceIndexed is [Store.Replace] that also files id under index, moving
// it from the index key it had, in the same UPDATE statement. If id has no
// live row it returns an error wrapping [sessions.ErrNotFound] and files
// nothing. With an expiry already past, the row is deleted, as by Replace:
// it ends, and leaves every index key. An empty index files id under no
// index key, as Replace does. Invalid ids and index keys are refused as by
// CreateIndexed; the other errors are Replace's.
func (s *Store) ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := s.checkIndexed(ctx, "replace", id, index); err != nil {
		return err
	}
	return s.replace(ctx, id, nullString(index), expires, write)
}

// ReadIndex calls read with the id, expiry (the zero Time: never) and
// content of every live row filed under index, in byte order of the ids,
// as [sessions.Indexer] describes. It reads them with
//
//	SELECT id, expires_at, data ... WHERE index_key = $1 AND id > $2
//		AND (expires_at IS NULL OR expires_at > now()) ORDER BY id LIMIT n
//
// which the index on (index_key, id) serves: its cost is that of the rows
// of index, whatever the table holds. One statement reads up to
// [WithSweepBatch] rows (1000 by default), so an index key of fewer rows
// costs one round trip; a larger one is read batch after batch by key-set
// pagination, so that a row live and filed under index for the whole call
// is read exactly once. Each row's id, expiry and content come from one
// statement, hence from one version of the row. Liveness is judged by the
// database's clock, as everywhere.
//
// ReadIndex holds no connection while read runs (each batch is read whole
// first), so read may use the Store, even with a pool of one connection,
// for example to invalidate the entry it was given. If read returns an
// error, ReadIndex stops and returns it as is. An index that fails
// [sessions.CheckID], the empty one included, yields an error wrapping
// [sessions.ErrInvalidID] before any statement; after Close, an error
// wrapping [sessions.ErrClosed]; when ctx is done, an error wrapping
// ctx.Err(). Driver errors are wrapped. Rows whose id is not a valid
// session id (inserted by another program) are skipped.
func (s *Store) ReadIndex(ctx context.Context, index string, read func(id string, expires time.Time, r io.Reader) error) error {
	const op = "read index"
	if err := s.check(ctx, op, index); err != nil {
		return err
	}
	type row struct {
		id      string
		expires time.Time
		data    []byte
	}
	var (
		batch []row
		r     row
		exp   *time.Time
	)
	after := ""
	for {
		rows, err := s.pool.Query(ctx, s.sqlReadIndex, index, after, s.batchSize)
		if err != nil {
			return wrap(ctx, op, err)
		}
		batch = batch[:0]
		_, err = pgx.ForEachRow(rows, []any{&r.id, &exp, &r.data}, func() error {
			r.expires = time.Time{}
			if exp != nil {
				r.expires = *exp
			}
			batch = append(batch, r)
			r.data = nil // the next row scans into a slice of its own
			return nil
		})
		if err != nil {
			return wrap(ctx, op, err)
		}
		for _, e := range batch {
			// A row another program inserted may hold an id no Store call
			// accepts; it is not a session of this Store.
			if sessions.CheckID(e.id) != nil {
				continue
			}
			if err := read(e.id, e.expires, bytes.NewReader(e.data)); err != nil {
				return err
			}
		}
		if len(batch) < s.batchSize {
			return nil
		}
		after = batch[len(batch)-1].id
		if err := s.ready(ctx, op); err != nil {
			return err
		}
	}
}

// checkIndexed is check for the writes that take an index key: the id and
// the index key before anything else (the empty index key is none, and
// valid), then Close, then the context.
func (s *Store) checkIndexed(ctx context.Context, op, id, index string) error {
	if err := sessions.CheckID(id); err != nil {
		return err // it says all there is: no prefix to stack on it
	}
	if index != "" {
		if err := sessions.CheckID(index); err != nil {
			return err
		}
	}
	return s.ready(ctx, op)
}

// nullString is the empty string as NULL (no index key), any other string
// as itself.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
