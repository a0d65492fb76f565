package bolt

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"go.etcd.io/bbolt"
)

// Interface checks.
var (
	_ sessions.ConditionalWriter = (*Store)(nil)
	_ sessions.ExpiryReader      = (*Store)(nil)
)

// Create stores what write produces as the content of id only if id is
// absent or expired, as sessions.ConditionalWriter describes; otherwise it
// returns an error wrapping sessions.ErrExists. The check and the Put run in
// the same write transaction (shared with concurrent changes by the group
// commit, in queue order), so nothing can come between them; expiry is
// judged by this process's clock at that transaction. Its other errors are
// Write's (an error wrapping [ErrCorrupt] on a damaged file among them), plus
// ErrCorrupt when id holds a value that is not a Store entry.
func (s *Store) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, opCreate, id, "", expires, write)
}

// Replace stores what write produces as the content of id only if id holds
// a live entry, as sessions.ConditionalWriter describes; otherwise it
// returns an error wrapping sessions.ErrNotFound and creates nothing. The
// check and the Put run in one write transaction, like Create's. An expires
// that has already passed removes the live entry. Its errors are Create's.
func (s *Store) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, opReplace, id, "", expires, write)
}

// writeIf is Write for the conditional op kinds; a non-empty index files
// the entry under it (see index.go).
func (s *Store) writeIf(ctx context.Context, kind opKind, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := sessions.CheckID(id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closing.Load() {
		return errClosed
	}
	buf := getBuffer()
	defer putBuffer(buf)
	if err := writeEntry(buf, index, write); err != nil {
		return err
	}
	if buf.Len() > bbolt.MaxValueSize {
		return fmt.Errorf("sessionkit/bolt: %w: %d bytes of content, bbolt stores at most %d", sessions.ErrTooLarge, buf.Len()-headerSize, bbolt.MaxValueSize-headerSize)
	}
	nanos, live := expiryNanos(expires, time.Now())
	o := getOp(ctx, kind, []byte(id))
	defer putOp(o)
	putHeader(buf.Bytes(), nanos)
	o.value, o.drop = buf.Bytes(), !live
	release, err := s.acquire()
	if err != nil {
		return err
	}
	defer release()
	return s.commit(o)
}

// ReadWithExpiry is Read that also passes read the expiry of the entry (the
// zero Time: never), with the nanosecond precision of the entry's header,
// read in the same transaction as the content. Its errors are Read's,
// [ErrCorrupt] on a damaged file among them.
func (s *Store) ReadWithExpiry(ctx context.Context, id string, read func(r io.Reader, expires time.Time) error) error {
	if err := sessions.CheckID(id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	release, err := s.acquire()
	if err != nil {
		return err
	}
	buf := getBuffer()
	defer putBuffer(buf)
	var nanos int64
	err = s.view("read", func(tx *bbolt.Tx) error {
		b := tx.Bucket(s.bucket)
		if b == nil {
			return errNoBucket
		}
		v := b.Get([]byte(id))
		if v == nil {
			return errNotFound
		}
		n, content, err := decode(v)
		if err != nil {
			return errCorrupt
		}
		if expired(n, time.Now().UnixNano()) {
			return errNotFound
		}
		nanos = n
		buf.Write(content)
		return nil
	})
	release()
	if err != nil {
		return err
	}
	var t time.Time
	if nanos != 0 {
		t = time.Unix(0, nanos)
	}
	return read(bytes.NewReader(buf.Bytes()), t)
}
