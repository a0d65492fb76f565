package bolt

import (
	"bytes"
	"fmt"

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
