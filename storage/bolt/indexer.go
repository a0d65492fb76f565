package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"go.etcd.io/bbolt"
)

// indexChunk and indexChunkBytes bound what one read transaction of
// ReadIndex visits and copies; see ReadIndex.
const (
	indexChunk      = 512
	indexChunkBytes = 1 << 20
)

// errReaderDone is what a reader ReadIndex handed out returns once the read
// call it was given to has returned.
var errReaderDone = errors.New("sessionkit/bolt: reader used after its read function returned")

// Interface check.
var _ sessions.Indexer = (*Store)(nil)

// CreateIndexed is [Store.Create] that also files id under index, in the
// same write transaction as the entry, as [sessions.Indexer] describes: if
// id holds a live entry it returns an error wrapping [sessions.ErrExists]
// and changes nothing, the entry's filing included. An expired entry it
// replaces leaves the index key it was filed under. An empty index files
// the entry under none, as Create does. An index that is not empty and
// fails [sessions.CheckID] is an error wrapping [sessions.ErrInvalidID],
// returned before any I/O. Its other errors are Create's.
func (s *Store) CreateIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := checkIndex(index); err != nil {
		return err
	}
	return s.writeIf(ctx, opCreate, id, index, expires, write)
}

// ReplaceIndexed is [Store.Replace] that also files id under index, in the
// same write transaction as the entry, moving it from the index key it was
// filed under, if another: if id is absent, expired or invalidated it
// returns an error wrapping [sessions.ErrNotFound] and files nothing. An
// expires that has already passed removes the live entry and its filing.
// An empty index files the entry under none, as Replace does. Its errors
// are CreateIndexed's.
func (s *Store) ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := checkIndex(index); err != nil {
		return err
	}
	return s.writeIf(ctx, opReplace, id, index, expires, write)
}

func checkIndex(index string) error {
	if index == "" {
		return nil
	}
	if err := sessions.CheckID(index); err != nil {
		return fmt.Errorf("sessionkit/bolt: index key: %w", err)
	}
	return nil
}

// ReadIndex calls read once for every live entry filed under index, as
// [sessions.Indexer] describes, in the byte order of the ids. index must
// pass [sessions.CheckID] (the empty index key files entries under none,
// so there is nothing to read under it); otherwise ReadIndex returns an
// error wrapping [sessions.ErrInvalidID] before any I/O.
//
// The filings of index are read with one cursor over the filing bucket,
// never a scan of the store, and each entry's expiry and content come from
// the entries bucket in the same read transaction; expired entries the
// sweeper has not removed yet are skipped. Like List, ReadIndex reads in
// chunks (at most 512 filings and about 1 MiB of content per read
// transaction) and copies them out, and calls read only after the
// transaction has ended: read holds no bbolt transaction and may call back
// into the Store (Invalidate what it is given, or Close). So the reader
// read gets is a copy, valid only during that call: afterwards it returns
// an error. An entry written, moved or ended while ReadIndex runs may or
// may not be yielded; none is yielded twice.
//
// If read returns an error, ReadIndex returns it as it is. ctx is checked
// before the first read transaction and between chunks; when it is done
// ReadIndex returns ctx.Err(). After Close it returns an error wrapping
// [sessions.ErrClosed]; a value under a filed id that is not a Store entry
// is skipped; bbolt errors are wrapped.
func (s *Store) ReadIndex(ctx context.Context, index string, read func(id string, expires time.Time, r io.Reader) error) error {
	if err := sessions.CheckID(index); err != nil {
		return fmt.Errorf("sessionkit/bolt: index key: %w", err)
	}
	prefix := filingKey(index, "")
	var after []byte // the last filing visited, nil before the first chunk
	arena := getBuffer()
	defer putBuffer(arena)
	type found struct {
		id         string
		nanos      int64
		start, end int // the content in arena
	}
	entries := make([]found, 0, 16)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		release, err := s.acquire()
		if err != nil {
			return err
		}
		arena.Reset()
		entries = entries[:0]
		more := false
		err = s.view("read index", func(tx *bbolt.Tx) error {
			b := tx.Bucket(s.bucket)
			if b == nil {
				return errNoBucket
			}
			ib := b.Bucket(indexBucket)
			if ib == nil {
				return nil // nothing was ever filed
			}
			c := ib.Cursor()
			var k []byte
			if after == nil {
				k, _ = c.Seek(prefix)
			} else {
				k, _ = seekAfter(c, after)
			}
			now := time.Now().UnixNano()
			for n := 0; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				if n == indexChunk || arena.Len() >= indexChunkBytes {
					more = true
					break
				}
				n++
				after = append(after[:0], k...)
				id := k[len(prefix):]
				nanos, filed, content, err := decodeIndexed(b.Get(id))
				// The filing bucket is exact, so the check of the index
				// key recorded in the entry only guards against a hand
				// edited file.
				if err != nil || expired(nanos, now) || string(filed) != index {
					continue
				}
				start := arena.Len()
				arena.Write(content)
				entries = append(entries, found{string(id), nanos, start, arena.Len()})
			}
			return nil
		})
		release()
		if err != nil {
			return fmt.Errorf("sessionkit/bolt: read index: %w", err)
		}
		for _, e := range entries {
			var expires time.Time
			if e.nanos != 0 {
				expires = time.Unix(0, e.nanos)
			}
			r := new(detachedReader)
			r.r.Reset(arena.Bytes()[e.start:e.end])
			err := read(e.id, expires, r)
			r.done = true
			if err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
	}
}

// detachedReader passes reads to r until it is detached, so that a read
// function that keeps its reader cannot read the pooled buffer of a later
// chunk or call, which may hold another session's content.
type detachedReader struct {
	r    bytes.Reader
	done bool
}

func (d *detachedReader) Read(p []byte) (int, error) {
	if d.done {
		return 0, errReaderDone
	}
	return d.r.Read(p)
}

// WriteTo implements io.WriterTo, so io.Copy and io.ReadAll-style callers
// write the content out without an intermediate buffer.
func (d *detachedReader) WriteTo(w io.Writer) (int64, error) {
	if d.done {
		return 0, errReaderDone
	}
	return d.r.WriteTo(w)
}
