package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"go.etcd.io/bbolt"
)

// Write implements [sessions.Storage]. What is particular to this Store:
// write runs into a memory buffer before any transaction opens, and the
// buffer is committed in one write transaction that concurrent Writes,
// Touches and Invalidates share (group commit), so that parallel callers
// share the cost of an fsync. Write returns once that transaction is
// committed and, unless [WithSync](false) was given, synced. Content beyond
// bbolt's value limit (about 2 GiB) fails with an error wrapping
// [sessions.ErrTooLarge]. A ctx that ends before the change enters a
// transaction changes nothing; once it has entered one, Write waits for the
// commit. bbolt errors are wrapped; a damaged page of the file fails Write,
// and every change committed with it, with an error wrapping [ErrCorrupt]
// and poisons the Store (see Store).
func (s *Store) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
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
	if err := writeEntry(buf, "", write); err != nil {
		return err
	}
	if buf.Len() > bbolt.MaxValueSize {
		return fmt.Errorf("sessionkit/bolt: write: %d bytes of content, bbolt stores at most %d: %w", buf.Len()-headerSize, bbolt.MaxValueSize-headerSize, sessions.ErrTooLarge)
	}
	nanos, live := expiryNanos(expires, time.Now())
	var o *op
	if live {
		putHeader(buf.Bytes(), nanos)
		o = getOp(ctx, opPut, []byte(id))
		o.value = buf.Bytes()
	} else {
		o = getOp(ctx, opDelete, []byte(id))
	}
	defer putOp(o)
	release, err := s.acquire()
	if err != nil {
		return err
	}
	defer release()
	return s.commit(o)
}

// Read implements [sessions.Storage]. What is particular to this Store: the
// content is copied out in a read transaction that ends before read runs,
// so a slow read function holds no bbolt transaction (which would stall the
// file's growth, and with it every writer), and read may call back into the
// Store. A value that is not a Store entry fails with [ErrCorrupt]; bbolt
// errors are wrapped. A damaged page of the file also fails with an error
// wrapping ErrCorrupt, and poisons the Store (see Store).
func (s *Store) Read(ctx context.Context, id string, read func(io.Reader) error) error {
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
	err = s.view("read", func(tx *bbolt.Tx) error {
		b := tx.Bucket(s.bucket)
		if b == nil {
			return errNoBucket
		}
		// Get returns nil for a nested bucket too: not a session.
		v := b.Get([]byte(id))
		if v == nil {
			return errNotFound
		}
		nanos, content, err := decode(v)
		if err != nil {
			return errCorrupt
		}
		if expired(nanos, time.Now().UnixNano()) {
			return errNotFound
		}
		buf.Write(content)
		return nil
	})
	release()
	if err != nil {
		return err
	}
	return read(bytes.NewReader(buf.Bytes()))
}

// Invalidate implements [sessions.Storage]. Like Write, it shares its commit
// with concurrent changes and returns once the removal is committed. Its
// errors are Write's.
func (s *Store) Invalidate(ctx context.Context, id string) error {
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
	defer release()
	o := getOp(ctx, opDelete, []byte(id))
	defer putOp(o)
	return s.commit(o)
}

// Touch implements [sessions.Toucher] by rewriting the entry's 8-byte
// expiry header; the content is kept. Like Write, it shares its commit with
// concurrent changes. A value that is not a Store entry fails with
// [ErrCorrupt]; its other errors are Write's.
func (s *Store) Touch(ctx context.Context, id string, expires time.Time) error {
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
	defer release()
	o := getOp(ctx, opTouch, []byte(id))
	defer putOp(o)
	nanos, live := expiryNanos(expires, time.Now())
	o.nanos, o.drop = nanos, !live
	return s.commit(o)
}

// listChunk is how many keys one read transaction of List visits at most.
const listChunk = 512

// List yields the id of every live entry, each once and in byte order,
// with a nil error; it never yields an expired id.
//
// List reads the bucket in chunks of a few hundred keys, each in its own
// short read transaction, and yields a chunk only after its transaction
// has ended. So a slow consumer holds no bbolt transaction (which would
// stall the file's growth and every writer), and the consumer may call the
// Store, even Close. The price is that List is not a snapshot: an entry
// written, removed or expiring while the iteration runs may or may not be
// yielded, though no id is ever yielded twice.
//
// A failure is yielded as ("", err) and ends the iteration: ctx.Err() when
// ctx is done between chunks, an error wrapping [sessions.ErrClosed] when the
// Store is closed, an error wrapping [ErrCorrupt] when a page of the file is
// damaged (which poisons the Store, see Store), or a wrapped bbolt error.
func (s *Store) List(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		var after []byte // the last key visited, nil before the first chunk
		ids := make([]string, 0, 64)
		for {
			if err := ctx.Err(); err != nil {
				yield("", err)
				return
			}
			release, err := s.acquire()
			if err != nil {
				yield("", err)
				return
			}
			ids = ids[:0]
			more := false
			err = s.view("list", func(tx *bbolt.Tx) error {
				b := tx.Bucket(s.bucket)
				if b == nil {
					return errNoBucket
				}
				c := b.Cursor()
				k, v := seekAfter(c, after)
				now := time.Now().UnixNano()
				for n := 0; k != nil; k, v = c.Next() {
					if n == listChunk {
						more = true
						break
					}
					n++
					after = append(after[:0], k...)
					if v == nil || sessions.CheckID(string(k)) != nil {
						continue // a nested bucket or a foreign key
					}
					if nanos, _, err := decode(v); err != nil || expired(nanos, now) {
						continue
					}
					ids = append(ids, string(k))
				}
				return nil
			})
			release()
			if err != nil {
				if !errors.Is(err, ErrCorrupt) { // which names the call already
					err = fmt.Errorf("sessionkit/bolt: list: %w", err)
				}
				yield("", err)
				return
			}
			for _, id := range ids {
				if !yield(id, nil) {
					return
				}
			}
			if !more {
				return
			}
		}
	}
}

// Interface checks.
var (
	_ sessions.Storage = (*Store)(nil)
	_ sessions.Toucher = (*Store)(nil)
	_ sessions.Lister  = (*Store)(nil)
	_ sessions.Sweeper = (*Store)(nil)
	_ io.Closer        = (*Store)(nil)
)
