package bolt

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// BenchmarkReadIndexGrowth times ReadIndex of one index key holding 10
// sessions in a store with 1,000 other sessions and in one with 1,000,000
// others: the cost must follow the index key's entries, not the store.
//
// The others are filed under index keys of their own (four sessions each,
// as users with a few devices), so the filing bucket grows with the store
// too. The 10 sessions are written first, with CreateIndexed; the others
// are then bulk-filled straight into bbolt, in the Store's layout, in
// transactions of 100,000 entries and in random key order, as hashed keys
// arrive, so that the 10 end up spread over the file as in a store grown
// by use.
//
// Each iteration reads the index key once in each store, and once in each
// with bbolt directly (the raw baseline: one read transaction, a Seek over
// the filings, a Get and a copy per session), timing the four reads apart.
// Interleaving them keeps the drift of a shared machine out of the ratios,
// as BenchmarkPaired does. Reported: 1k-ns and 1M-ns (per ReadIndex),
// x-1M/1k (their ratio), raw-x-1M/1k (the baseline's ratio) and MB (the
// size of the 1M file). What the medium adds as the store grows is in the
// baseline's ratio: a Seek and ten Gets, each descending B+trees a level
// or two deeper, through pages spread over a file a thousand times larger
// (CPU cache and TLB misses), while the number of pages read stays that of
// the index key's entries; the Store's ratio should not exceed it.
//
// The run writes a file of about 1 GB into the temporary folder and takes
// about a minute, most of it the bulk fill:
//
//	go test -run '^$' -bench ReadIndexGrowth -benchtime 2s
func BenchmarkReadIndexGrowth(b *testing.B) {
	dir := b.TempDir()
	small, smallUser := growthStore(b, filepath.Join(dir, "1k.db"), 1_000)
	bigPath := filepath.Join(dir, "1M.db")
	start := time.Now()
	big, bigUser := growthStore(b, bigPath, 1_000_000)
	b.Logf("bulk fill of 1,000,000 sessions: %v", time.Since(start).Round(time.Millisecond))

	var sink bytes.Buffer
	readStore := func(s *Store, user string) {
		n := 0
		err := s.ReadIndex(bg, user, func(_ string, _ time.Time, r io.Reader) error {
			n++
			sink.Reset()
			_, err := sink.ReadFrom(r)
			return err
		})
		if err != nil || n != 10 {
			b.Fatalf("ReadIndex yielded %d sessions, %v; want 10", n, err)
		}
	}
	readRaw := func(s *Store, user string) {
		prefix := filingKey(user, "")
		n := 0
		err := s.db.View(func(tx *bbolt.Tx) error {
			eb := tx.Bucket(s.bucket)
			c := eb.Bucket(indexBucket).Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				sink.Reset()
				sink.Write(eb.Get(k[len(prefix):]))
				n++
			}
			return nil
		})
		if err != nil || n != 10 {
			b.Fatalf("raw read yielded %d sessions, %v; want 10", n, err)
		}
	}
	var store1k, store1M, raw1k, raw1M time.Duration
	timed := func(total *time.Duration, f func()) {
		t := time.Now()
		f()
		*total += time.Since(t)
	}
	b.ReportAllocs()
	for b.Loop() {
		timed(&store1k, func() { readStore(small, smallUser) })
		timed(&store1M, func() { readStore(big, bigUser) })
		timed(&raw1k, func() { readRaw(small, smallUser) })
		timed(&raw1M, func() { readRaw(big, bigUser) })
	}
	n := float64(b.N)
	b.ReportMetric(float64(store1k.Nanoseconds())/n, "1k-ns")
	b.ReportMetric(float64(store1M.Nanoseconds())/n, "1M-ns")
	b.ReportMetric(float64(store1M)/float64(store1k), "x-1M/1k")
	b.ReportMetric(float64(raw1M)/float64(raw1k), "raw-x-1M/1k")
	if fi, err := os.Stat(bigPath); err == nil {
		b.ReportMetric(float64(fi.Size())/1e6, "MB")
	}
}

// growthStore opens a Store at path holding 10 sessions filed under one
// index key, which it returns, and others more under other index keys.
func growthStore(b *testing.B, path string, others int) (*Store, string) {
	b.Helper()
	s, err := Open(path, WithSweepInterval(0), WithSync(false))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	r := rand.New(rand.NewPCG(13, uint64(others)))
	key := func() string {
		var raw [32]byte
		for i := range raw {
			raw[i] = byte(r.Uint32())
		}
		return base64.RawURLEncoding.EncodeToString(raw[:]) // 43 characters, like the middleware's hashes
	}
	content := make([]byte, 200)
	for i := range content {
		content[i] = 'a' + byte(i%26)
	}
	expires := time.Now().Add(24 * time.Hour)
	user := key()
	for range 10 {
		err := s.CreateIndexed(bg, key(), user, expires, func(w io.Writer) error { _, err := w.Write(content); return err })
		if err != nil {
			b.Fatal(err)
		}
	}
	const perTx, perIndexKey = 100_000, 4
	for done := 0; done < others; {
		err := s.db.Update(func(tx *bbolt.Tx) error {
			eb := tx.Bucket(s.bucket)
			ib, err := eb.CreateBucketIfNotExists(indexBucket)
			if err != nil {
				return err
			}
			var index string
			for n := 0; n < perTx && done < others; n++ {
				if done%perIndexKey == 0 {
					index = key()
				}
				id := key()
				v := make([]byte, headerSize, headerSize+1+len(index)+len(content))
				v[0] = byte(indexFlag >> 56)
				putHeader(v, expires.UnixNano())
				v = append(v, byte(len(index)))
				v = append(v, index...)
				v = append(v, content...)
				if err := ib.Put(filingKey(index, id), []byte{}); err != nil {
					return err
				}
				if err := eb.Put([]byte(id), v); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return s, user
}
