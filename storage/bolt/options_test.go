package bolt

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// The options policy of docs/storage-authors.md: an invalid option is an
// error from Open and New, never a silent default.
func TestInvalidOptionIsAnErrorFromOpenAndNew(t *testing.T) {
	cases := []struct {
		name string
		opt  Option
	}{
		{"ZeroSweepBatch", WithSweepBatch(0)},
		{"NegativeSweepBatch", WithSweepBatch(-1)},
		{"EmptyBucket", WithBucket("")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if s, err := Open(filepath.Join(dir, "open.db"), tc.opt); err == nil {
				s.Close()
				t.Error("Open succeeded")
			} else if !strings.HasPrefix(err.Error(), "sessionkit/bolt: ") {
				t.Errorf("Open: error %q lacks the package prefix", err)
			}
			db, err := bbolt.Open(filepath.Join(dir, "new.db"), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if s, err := New(db, tc.opt); err == nil {
				s.Close()
				t.Error("New succeeded")
			}
		})
	}
}

// A nil handler discards, and the background sweeper's errors reach the
// handler instead of being dropped.
func TestSweepErrorHandler(t *testing.T) {
	o := defaultOptions()
	WithSweepErrorHandler(nil)(&o)
	if o.onSweepError == nil {
		t.Fatal("WithSweepErrorHandler(nil) left no handler")
	}
	o.onSweepError(errors.New("discarded")) // must not panic

	db, err := bbolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	errs := make(chan error, 1)
	s, err := New(db, WithSweepInterval(time.Millisecond), WithSweepErrorHandler(func(err error) {
		select {
		case errs <- err:
		default:
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Every sweep fails once the Store's bucket is gone.
	if err := db.Update(func(tx *bbolt.Tx) error { return tx.DeleteBucket([]byte(DefaultBucket)) }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !strings.HasPrefix(err.Error(), "sessionkit/bolt: ") {
			t.Errorf("sweep error %q lacks the package prefix", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("no sweep error reached the handler within a minute")
	}
}

// An Open that fails on the file names the path once: bbolt's error
// already says "open PATH: ...".
func TestOpenErrorNamesThePathOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "s.db")
	_, err := Open(path)
	if err == nil {
		t.Fatal("Open in a missing folder succeeded")
	}
	if n := strings.Count(err.Error(), path); n != 1 {
		t.Errorf("error %q names the path %d times, want once", err, n)
	}
	if !strings.HasPrefix(err.Error(), "sessionkit/bolt: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
}
