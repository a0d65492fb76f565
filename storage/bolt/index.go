package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"go.etcd.io/bbolt"
)

// The index (sessions.Indexer).
//
// An entry filed under an index key records that key in its value: the
// top bit of the 8-byte header (never set by an expiry, which is at most
// math.MaxInt64) says an index key follows the header, as one length byte
// and the key's bytes, before the content:
//
//	unfiled: expiry(8)                      content
//	filed:   expiry(8)|1<<63  len(1) index  content
//
// Entries written before the index existed, and every entry written by
// Write, Create or Replace, keep the unfiled layout byte for byte.
//
// The filings live in a bucket nested in the Store's bucket, under the key
// indexBucket, created by the first indexed write. Its keys are
// index + "\x00" + id with empty values, so the filings of one index key
// are adjacent and ReadIndex reads them with one cursor Seek: the cost is
// the entries of that index key, whatever the store holds. Index keys and
// ids are CheckID-clean, so the separator "\x00" cannot occur in either
// and no index key's prefix can run into another's; indexBucket starts
// with "\x00" too and can never be an id.
//
// The filing bucket is exact: it holds index+"\x00"+id exactly when the
// entries bucket holds an entry for id that records index. putEntry and
// deleteEntry keep it so, and every change the Store makes to an entry
// (the group commit's ops, the sweeper) goes through them, in the write
// transaction of the change itself: the filing commits or rolls back with
// its entry. An entry past its expiry that the sweeper has not removed yet
// keeps its filing until then; ReadIndex skips it.

// indexBucket is the key of the nested bucket of filings.
var indexBucket = []byte("\x00sessionkit-index")

// indexFlag marks a header that an index key follows.
const indexFlag = uint64(1) << 63

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

// filingKey is the key of id's filing under index in the filing bucket;
// with an empty id, the prefix of every filing of index.
func filingKey(index, id string) []byte {
	k := make([]byte, 0, len(index)+1+len(id))
	k = append(k, index...)
	k = append(k, 0)
	return append(k, id...)
}

// putEntry puts value, an encoded entry, under key in the entries bucket b
// and files it under the index key value records: the filing of the entry
// it replaces, if under another index key, goes. Everything happens in b's
// write transaction, and the filing is written before the entry, so that
// a Put that fails leaves a filing the transaction's rollback must undo
// (which the tests prove).
func putEntry(b *bbolt.Bucket, key, value []byte) error {
	_, index, _, err := decodeIndexed(value)
	if err != nil {
		return fmt.Errorf("sessionkit/bolt: internal: %w", err)
	}
	old := filingOf(b, key)
	if old != nil && !bytes.Equal(old[:len(old)-len(key)-1], index) {
		if err := deleteFiling(b, old); err != nil {
			return err
		}
	}
	if index != nil {
		ib, err := b.CreateBucketIfNotExists(indexBucket)
		if err != nil {
			return err
		}
		if err := ib.Put(filingKey(string(index), string(key)), []byte{}); err != nil {
			return err
		}
	}
	return b.Put(key, value)
}

// deleteEntry removes key from the entries bucket b together with its
// filing, in b's write transaction.
func deleteEntry(b *bbolt.Bucket, key []byte) error {
	if old := filingOf(b, key); old != nil {
		if err := deleteFiling(b, old); err != nil {
			return err
		}
	}
	return b.Delete(key)
}

// filingOf returns the filing key of the entry under key, a copy that stays
// valid while the transaction changes b, or nil when that entry is absent,
// filed under none or not a Store entry.
func filingOf(b *bbolt.Bucket, key []byte) []byte {
	_, index, _, err := decodeIndexed(b.Get(key))
	if err != nil || index == nil {
		return nil
	}
	return filingKey(string(index), string(key))
}

func deleteFiling(b *bbolt.Bucket, filing []byte) error {
	ib := b.Bucket(indexBucket)
	if ib == nil {
		return nil // filed by hand, or the bucket was removed by hand
	}
	return ib.Delete(filing)
}

// appendIndexPrefix writes what follows the expiry header of an entry
// filed under index: its length byte and its bytes. index is CheckID-clean, so
// at most sessions.MaxIDLength (128) bytes long.
func appendIndexPrefix(buf *bytes.Buffer, index string) {
	buf.WriteByte(byte(len(index)))
	buf.WriteString(index)
}

// decodeIndexed splits a stored value into its expiry, the index key it
// records (nil: filed under none) and its content, all aliasing v. It fails
// with [ErrCorrupt] when v is too short for its header or for the index key
// its header announces, or (v nil) absent.
func decodeIndexed(v []byte) (nanos int64, index, content []byte, err error) {
	if len(v) < headerSize {
		return 0, nil, nil, ErrCorrupt
	}
	h := binary.BigEndian.Uint64(v)
	if h&indexFlag == 0 {
		return int64(h), nil, v[headerSize:], nil
	}
	rest := v[headerSize:]
	if len(rest) == 0 || rest[0] == 0 || len(rest)-1 < int(rest[0]) {
		return 0, nil, nil, ErrCorrupt
	}
	n := 1 + int(rest[0])
	return int64(h &^ indexFlag), rest[1:n], rest[n:], nil
}
