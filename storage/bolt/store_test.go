package bolt_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/bolt"
	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

var ctx = context.Background()

func open(t *testing.T, path string, opts ...bolt.Option) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// ownDB opens a bbolt database the test owns, as a New caller would.
func ownDB(t *testing.T) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "own.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func newStore(t *testing.T, db *bbolt.DB, opts ...bolt.Option) *bolt.Store {
	t.Helper()
	s, err := bolt.New(db, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func write(s sessions.Storage, id string, expires time.Time, content string) error {
	return s.Write(ctx, id, expires, func(w io.Writer) error {
		_, err := io.WriteString(w, content)
		return err
	})
}

func read(s sessions.Storage, id string) (string, error) {
	var got []byte
	err := s.Read(ctx, id, func(r io.Reader) (err error) {
		got, err = io.ReadAll(r)
		return err
	})
	return string(got), err
}

func TestOpenLockedFileFailsAfterTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	first := open(t, path)
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		atLeast time.Duration // bbolt retries every 50ms and may stop one retry early
	}{
		{"zero fails at once", 0, 0},
		{"negative fails at once", -time.Second, 0},
		{"waits the timeout", 300 * time.Millisecond, 250 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			s, err := bolt.Open(path, bolt.WithLockTimeout(tc.timeout))
			elapsed := time.Since(start)
			if err == nil {
				s.Close()
				t.Fatal("a second Open of a locked file succeeded")
			}
			if !errors.Is(err, berrors.ErrTimeout) {
				t.Errorf("error %q does not wrap bbolt's ErrTimeout", err)
			}
			if !strings.Contains(err.Error(), "locked") {
				t.Errorf("error %q does not say the file is locked", err)
			}
			if elapsed < tc.atLeast || elapsed > tc.timeout+2*time.Second {
				t.Errorf("Open gave up after %v, want about %v", elapsed, max(tc.timeout, 0))
			}
		})
	}
	// Close releases the lock.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := bolt.Open(path, bolt.WithLockTimeout(0))
	if err != nil {
		t.Fatalf("Open after the first Store closed: %v", err)
	}
	second.Close()
}

func TestOpenCreatesFileWithMode(t *testing.T) {
	for _, mode := range []os.FileMode{bolt.DefaultFileMode, 0o640} {
		path := filepath.Join(t.TempDir(), "sessions.db")
		var opts []bolt.Option
		if mode != bolt.DefaultFileMode {
			opts = append(opts, bolt.WithFileMode(mode))
		}
		open(t, path, opts...)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		// The umask may only clear bits; 022 is the usual one.
		if got := fi.Mode().Perm(); got&^mode != 0 || got&0o600 != 0o600 {
			t.Errorf("file mode %v, want %v (less the umask)", got, mode)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	notBolt := filepath.Join(dir, "not-bolt.db")
	if err := os.WriteFile(notBolt, []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
		opts []bolt.Option
	}{
		{"missing folder", filepath.Join(dir, "missing", "sessions.db"), nil},
		{"not a bbolt file", notBolt, nil},
		{"empty bucket name", filepath.Join(dir, "ok.db"), []bolt.Option{bolt.WithBucket("")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := bolt.Open(tc.path, tc.opts...)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.HasPrefix(err.Error(), "sessionkit/bolt: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if _, err := bolt.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}

// closedCalls are the calls that must fail with ErrClosed after Close.
var closedCalls = []struct {
	name string
	call func(s *bolt.Store) error
}{
	{"Write", func(s *bolt.Store) error { return write(s, "id", time.Time{}, "x") }},
	{"Read", func(s *bolt.Store) error { _, err := read(s, "id"); return err }},
	{"Invalidate", func(s *bolt.Store) error { return s.Invalidate(ctx, "id") }},
	{"Touch", func(s *bolt.Store) error { return s.Touch(ctx, "id", time.Time{}) }},
	{"DeleteExpired", func(s *bolt.Store) error { _, err := s.DeleteExpired(ctx); return err }},
	{"List", func(s *bolt.Store) error {
		for _, err := range s.List(ctx) {
			return err
		}
		return errors.New("List yielded nothing")
	}},
	{"Close", func(s *bolt.Store) error { return s.Close() }},
}

func TestNewLeavesCallersDBOpen(t *testing.T) {
	db := ownDB(t)
	s := newStore(t, db, bolt.WithBucket("mine"))
	if err := write(s, "id", time.Time{}, "kept"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, c := range closedCalls {
		if err := c.call(s); !errors.Is(err, sessions.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", c.name, err)
		}
	}
	// The caller's db is still open, and holds the entry in the bucket.
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte("mine"))
		if b == nil {
			return errors.New("bucket missing")
		}
		if v := b.Get([]byte("id")); string(v[8:]) != "kept" {
			return fmt.Errorf("value %q", v)
		}
		return nil
	})
	if err != nil {
		t.Errorf("the caller's db after Close: %v", err)
	}
	// A new Store over the same db picks the entry up.
	again := newStore(t, db, bolt.WithBucket("mine"))
	if got, err := read(again, "id"); err != nil || got != "kept" {
		t.Errorf("Read through a second Store = %q, %v", got, err)
	}
}

func TestOpenClosesItsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	s := open(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range closedCalls {
		if err := c.call(s); !errors.Is(err, sessions.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", c.name, err)
		}
	}
	// The file is unlocked: bbolt itself can open it at once.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Nanosecond})
	if err != nil {
		t.Fatalf("the file is still locked after Close: %v", err)
	}
	db.Close()
}

func TestBucketsSeparateStores(t *testing.T) {
	db := ownDB(t)
	a := newStore(t, db, bolt.WithBucket("a"))
	b := newStore(t, db, bolt.WithBucket("b"))
	if err := write(a, "same", time.Time{}, "in a"); err != nil {
		t.Fatal(err)
	}
	if _, err := read(b, "same"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read from the other bucket = %v, want ErrNotFound", err)
	}
	if err := b.Invalidate(ctx, "same"); err != nil {
		t.Fatal(err)
	}
	if got, err := read(a, "same"); err != nil || got != "in a" {
		t.Errorf("after Invalidate in the other bucket: %q, %v", got, err)
	}
}

func TestValueLayout(t *testing.T) {
	db := ownDB(t)
	s := newStore(t, db)
	expires := time.Now().Add(time.Hour)
	if err := write(s, "dated", expires, "content"); err != nil {
		t.Fatal(err)
	}
	if err := write(s, "never", time.Time{}, "forever"); err != nil {
		t.Fatal(err)
	}
	if err := write(s, "far", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), "far"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id      string
		nanos   uint64
		content string
	}{
		{"dated", uint64(expires.UnixNano()), "content"},
		{"never", 0, "forever"},
		{"far", 1<<63 - 1, "far"}, // beyond 2262: the largest instant the header holds
	} {
		err := db.View(func(tx *bbolt.Tx) error {
			v := tx.Bucket([]byte(bolt.DefaultBucket)).Get([]byte(tc.id))
			if len(v) < 8 {
				return fmt.Errorf("value %q shorter than the header", v)
			}
			if got := binary.BigEndian.Uint64(v); got != tc.nanos {
				return fmt.Errorf("header %d, want %d", got, tc.nanos)
			}
			if got := string(v[8:]); got != tc.content {
				return fmt.Errorf("content %q, want %q", got, tc.content)
			}
			return nil
		})
		if err != nil {
			t.Errorf("%s: %v", tc.id, err)
		}
	}
}

func TestForeignValuesAreReportedNotReturned(t *testing.T) {
	db := ownDB(t)
	s := newStore(t, db)
	err := db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bolt.DefaultBucket))
		if err := b.Put([]byte("short"), []byte{1, 2, 3}); err != nil {
			return err
		}
		_, err := b.CreateBucket([]byte("nested"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := read(s, "short"); !errors.Is(err, bolt.ErrCorrupt) {
		t.Errorf("Read of a 3-byte value = %v, want ErrCorrupt", err)
	}
	if err := s.Touch(ctx, "short", time.Time{}); !errors.Is(err, bolt.ErrCorrupt) {
		t.Errorf("Touch of a 3-byte value = %v, want ErrCorrupt", err)
	}
	if _, err := read(s, "nested"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read of a nested bucket = %v, want ErrNotFound", err)
	}
	for id, err := range s.List(ctx) {
		t.Errorf("List yielded %q, %v from a bucket with no session", id, err)
	}
	if n, err := s.DeleteExpired(ctx); n != 0 || err != nil {
		t.Errorf("DeleteExpired = %d, %v; want 0, nil", n, err)
	}
}

func TestErrorsNeverNameTheID(t *testing.T) {
	db := ownDB(t)
	s := newStore(t, db)
	const id = "secret-session-id-0123456789"
	err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bolt.DefaultBucket)).Put([]byte(id+"c"), []byte{1})
	})
	if err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for name, err := range map[string]error{
		"Read absent":   func() error { _, err := read(s, id); return err }(),
		"Touch absent":  s.Touch(ctx, id, time.Time{}),
		"Read corrupt":  func() error { _, err := read(s, id+"c"); return err }(),
		"Touch corrupt": s.Touch(ctx, id+"c", time.Time{}),
		"Write invalid": write(s, id+"/..", time.Time{}, "x"),
		"Write canceled": s.Write(canceled, id, time.Time{}, func(io.Writer) error {
			return nil
		}),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error %q contains the id", name, err)
		}
	}
}

func TestFailingWriterOpensNoWriteTransaction(t *testing.T) {
	db := ownDB(t)
	s := newStore(t, db)
	if err := write(s, "id", time.Time{}, "old"); err != nil {
		t.Fatal(err)
	}
	// bbolt has one writer: while this transaction is open, a Write that
	// tried to begin one would block.
	hold, err := db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	boom := errors.New("writer failed")
	done := make(chan error, 1)
	go func() {
		done <- s.Write(ctx, "id", time.Time{}, func(w io.Writer) error {
			io.WriteString(w, "partial")
			return boom
		})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, boom) {
			t.Errorf("Write = %v, want the writer's error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a Write whose writer failed waited for the write transaction")
	}
	hold.Rollback()
	if got, err := read(s, "id"); err != nil || got != "old" {
		t.Errorf("after the failed Write: %q, %v; want the old content", got, err)
	}
}

func TestCallbacksRunOutsideTransactions(t *testing.T) {
	db := ownDB(t)
	s := newStore(t, db)
	// More entries than one List chunk holds.
	rawIDs := make([]string, 0, 1200)
	err := db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bolt.DefaultBucket))
		for i := range 1200 {
			id := fmt.Sprintf("id%04d", i)
			rawIDs = append(rawIDs, id)
			if err := b.Put([]byte(id), []byte("\x00\x00\x00\x00\x00\x00\x00\x00v")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	openTx := func() int { return db.Stats().OpenTxN }

	err = s.Read(ctx, "id0000", func(r io.Reader) error {
		if n := openTx(); n != 0 {
			t.Errorf("%d read transactions open while the read function runs", n)
		}
		// Calling back into the store must not deadlock.
		return write(s, "id0000", time.Time{}, "rewritten inside read")
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	seen := map[string]int{}
	for id, err := range s.List(ctx) {
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if n := openTx(); n != 0 {
			t.Fatalf("%d read transactions open while List yields", n)
		}
		seen[id]++
		if id == "id0001" {
			if err := s.Invalidate(ctx, "id0001"); err != nil {
				t.Fatalf("Invalidate inside List: %v", err)
			}
		}
	}
	for _, id := range rawIDs {
		if seen[id] != 1 {
			t.Errorf("List yielded %s %d times, want once", id, seen[id])
		}
	}
	if got, err := read(s, "id0000"); err != nil || got != "rewritten inside read" {
		t.Errorf("the Write made inside read: %q, %v", got, err)
	}
}

func TestCloseInsideListEndsIteration(t *testing.T) {
	db := ownDB(t)
	s := newStore(t, db)
	const n = 2000 // several List chunks
	err := db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bolt.DefaultBucket))
		for i := range n {
			if err := b.Put(fmt.Appendf(nil, "id%04d", i), make([]byte, 9)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ids, yields := 0, 0
	var last error
	for _, err := range s.List(ctx) {
		yields++
		last = err
		if err != nil {
			continue
		}
		ids++
		if ids == 1 {
			if err := s.Close(); err != nil {
				t.Fatalf("Close inside List: %v", err)
			}
		}
	}
	if ids == 0 || ids >= n {
		t.Errorf("List yielded %d of %d ids around a Close, want the first chunk only", ids, n)
	}
	if !errors.Is(last, sessions.ErrClosed) || yields != ids+1 {
		t.Errorf("List ended with %v after %d yields of %d ids, want one final ErrClosed", last, yields, ids)
	}
}

func TestTouchOfExpiredOrPastExpiry(t *testing.T) {
	db := ownDB(t)
	s := newStore(t, db, bolt.WithSweepInterval(0))
	// An entry that expired a second ago, put in place directly so that a
	// slow machine cannot let it expire before the Store stores it.
	expired := binary.BigEndian.AppendUint64(nil, uint64(time.Now().Add(-time.Second).UnixNano()))
	err := db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bolt.DefaultBucket)).Put([]byte("expired"), append(expired, 'x'))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, "expired", time.Now().Add(time.Hour)); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Touch of an expired entry = %v, want ErrNotFound", err)
	}
	if _, err := read(s, "expired"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Touch revived an expired entry: %v", err)
	}
	if err := write(s, "live", time.Time{}, "x"); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, "live", time.Now().Add(-time.Second)); err != nil {
		t.Errorf("Touch of a live entry to a past expiry = %v", err)
	}
	if _, err := read(s, "live"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read after Touch to the past = %v, want ErrNotFound", err)
	}
	// "expired" is still there, untouched; "live" was removed by Touch.
	if n, err := s.DeleteExpired(ctx); err != nil || n != 1 {
		t.Errorf("DeleteExpired = %d, %v; want 1 (the expired entry only)", n, err)
	}
}
