package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sessionkit/sessionkit/sessions"
)

var (
	_ sessions.ConditionalWriter = (*Store)(nil)
	_ sessions.ExpiryReader      = (*Store)(nil)
)

var errExists = sessions.ErrExists // the sentinel itself: a prefix would only stack

// Create stores what write produces as the content of id only if id has no
// live row, with one statement: INSERT ... ON CONFLICT (id) DO UPDATE ...
// WHERE the existing row has expired by the database's clock. When id is
// live, Create returns an error wrapping sessions.ErrExists and changes
// nothing. Of concurrent Creates of one id, PostgreSQL makes the later ones
// wait for the first to commit and then see its live row, so exactly one
// succeeds.
//
// When expires is already past by the local clock, nothing readable may be
// stored: Create then only checks, with one SELECT, whether id is live, to
// report ErrExists. Otherwise it behaves as Write; the errors are Write's.
//
// Create files id under no index key: a row it overwrites (an expired one)
// leaves the index key it had, see [Store.CreateIndexed].
func (s *Store) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.check(ctx, "create", id); err != nil {
		return err
	}
	return s.create(ctx, id, nil, expires, write)
}

// create is Create and CreateIndexed, whose checks have passed; index is
// the index key, or nil for none.
func (s *Store) create(ctx context.Context, id string, index any, expires time.Time, write func(io.Writer) error) error {
	return sessions.WriteBuffered(write, func(data []byte) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sessionkit/postgres: create: %w", err)
		}
		if !expires.IsZero() && !expires.After(time.Now()) {
			var exists bool
			if err := s.pool.QueryRow(ctx, s.conditional.live, id).Scan(&exists); err != nil {
				return wrap(ctx, "create", err)
			}
			if exists {
				return errExists
			}
			return nil
		}
		tag, err := s.pool.Exec(ctx, s.conditional.create, id, data, nullTime(expires), index)
		if err != nil {
			return wrap(ctx, "create", err)
		}
		if tag.RowsAffected() == 0 {
			return errExists
		}
		return nil
	})
}

// Replace stores what write produces as the content of id only if id has a
// live row, with one UPDATE ... WHERE id = $1 AND the row is live by the
// database's clock. When it is absent or expired, Replace returns an error
// wrapping sessions.ErrNotFound and creates nothing. A Replace racing an
// Invalidate waits for the DELETE's row lock and then finds no row, or
// updates first and the DELETE removes what it wrote.
//
// When expires is already past by the local clock, Replace deletes the live
// row instead. Otherwise it behaves as Write; the errors are Write's.
//
// Replace files id under no index key: the row leaves the index key it had,
// see [Store.ReplaceIndexed].
func (s *Store) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.check(ctx, "replace", id); err != nil {
		return err
	}
	return s.replace(ctx, id, nil, expires, write)
}

// replace is Replace and ReplaceIndexed, whose checks have passed; index is
// the index key, or nil for none.
func (s *Store) replace(ctx context.Context, id string, index any, expires time.Time, write func(io.Writer) error) error {
	return sessions.WriteBuffered(write, func(data []byte) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sessionkit/postgres: replace: %w", err)
		}
		var (
			tag pgconn.CommandTag
			err error
		)
		if !expires.IsZero() && !expires.After(time.Now()) {
			tag, err = s.pool.Exec(ctx, s.sqlExpire, id)
		} else {
			tag, err = s.pool.Exec(ctx, s.conditional.replace, id, data, nullTime(expires), index)
		}
		if err != nil {
			return wrap(ctx, "replace", err)
		}
		if tag.RowsAffected() == 0 {
			return errNotFound
		}
		return nil
	})
}

// nullTime is the zero Time as NULL (never), any other time as itself.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// ReadWithExpiry is Read that also passes read the row's expires_at (the
// zero Time for NULL: never), with the microsecond resolution of
// timestamptz, from the same SELECT as the content. Its errors are Read's.
func (s *Store) ReadWithExpiry(ctx context.Context, id string, read func(r io.Reader, expires time.Time) error) error {
	if err := s.check(ctx, "read", id); err != nil {
		return err
	}
	var (
		data []byte
		exp  *time.Time
	)
	if err := s.pool.QueryRow(ctx, s.conditional.readExpiry, id).Scan(&data, &exp); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound
		}
		return wrap(ctx, "read", err)
	}
	var t time.Time
	if exp != nil {
		t = *exp
	}
	return read(bytes.NewReader(data), t)
}
