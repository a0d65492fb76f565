package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"go.etcd.io/bbolt"
)

// rawPut stores entries in the store's bucket in one transaction, with the
// Store's layout, bypassing the Store: the way to make thousands of
// already-expired entries quickly.
func rawPut(t testing.TB, s *Store, expires time.Time, content []byte, ids ...string) {
	t.Helper()
	var nanos int64
	if !expires.IsZero() {
		nanos = expires.UnixNano()
	}
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(s.bucket)
		for _, id := range ids {
			v := make([]byte, headerSize+len(content))
			putHeader(v, nanos)
			copy(v[headerSize:], content)
			if err := b.Put([]byte(id), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("raw put: %v", err)
	}
}

// rawCount counts the keys in the store's bucket, expired or not.
func rawCount(t testing.TB, s *Store) int {
	t.Helper()
	n := 0
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = tx.Bucket(s.bucket).Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatalf("raw count: %v", err)
	}
	return n
}

func openTemp(t *testing.T, opts ...Option) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "sessions.db"), opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestDeleteExpiredRemovesInBoundedBatches(t *testing.T) {
	const expiredN, liveN, batch = 5000, 100, 100
	s := openTemp(t, WithSweepInterval(0), WithSweepBatch(batch))
	var perTx []int
	s.onSweepTx = func(removed int, _ time.Duration) { perTx = append(perTx, removed) }

	// Every 51st key is live, so that the batches meet both kinds.
	var expiredIDs, liveIDs []string
	for i := range expiredN + liveN {
		id := fmt.Sprintf("s%05d", i)
		if i%51 == 50 {
			liveIDs = append(liveIDs, id)
		} else {
			expiredIDs = append(expiredIDs, id)
		}
	}
	if len(liveIDs) != liveN {
		t.Fatalf("setup: %d live ids, want %d", len(liveIDs), liveN)
	}
	rawPut(t, s, time.Now().Add(-time.Minute), []byte("old"), expiredIDs...)
	rawPut(t, s, time.Now().Add(time.Hour), []byte("live"), liveIDs...)
	if got := rawCount(t, s); got != expiredN+liveN {
		t.Fatalf("setup: %d keys in the bucket, want %d (ids not unique?)", got, expiredN+liveN)
	}

	n, err := s.DeleteExpired(context.Background())
	if err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}
	if n != expiredN {
		t.Errorf("DeleteExpired = %d, want %d", n, expiredN)
	}
	if got := rawCount(t, s); got != liveN {
		t.Errorf("%d keys left in the bucket, want the %d live ones", got, liveN)
	}
	for _, id := range liveIDs {
		var got []byte
		err := s.Read(context.Background(), id, func(r io.Reader) (err error) { got, err = io.ReadAll(r); return err })
		if err != nil || string(got) != "live" {
			t.Fatalf("live entry after the sweep: %q, %v", got, err)
		}
	}
	sum := 0
	for i, removed := range perTx {
		if removed > batch {
			t.Errorf("write transaction %d removed %d entries, more than the batch of %d", i, removed, batch)
		}
		sum += removed
	}
	if want := expiredN / batch; len(perTx) < want {
		t.Errorf("%d write transactions, want at least %d for %d entries in batches of %d", len(perTx), want, expiredN, batch)
	}
	if sum != n {
		t.Errorf("transactions removed %d in total, DeleteExpired reported %d", sum, n)
	}
}

// TestDeleteExpiredRestsAfterEachBatch checks the pacing that keeps a large
// sweep from holding bbolt's single writer back to back: after every write
// transaction but the last, DeleteExpired waits three times as long as the
// transaction took. A sleep never ends early, so the sweep's length is at
// least that sum whatever the machine's speed.
func TestDeleteExpiredRestsAfterEachBatch(t *testing.T) {
	const expiredN, batch = 1000, 50
	s := openTemp(t, WithSweepInterval(0), WithSweepBatch(batch))
	var busy []time.Duration
	s.onSweepTx = func(_ int, d time.Duration) { busy = append(busy, d) }
	ids := make([]string, expiredN)
	for i := range ids {
		ids[i] = fmt.Sprintf("s%05d", i)
	}
	rawPut(t, s, time.Now().Add(-time.Minute), []byte("old"), ids...)

	t0 := time.Now()
	n, err := s.DeleteExpired(context.Background())
	elapsed := time.Since(t0)
	if err != nil || n != expiredN {
		t.Fatalf("DeleteExpired = %d, %v; want %d, nil", n, err, expiredN)
	}
	if len(busy) < expiredN/batch {
		t.Fatalf("%d write transactions, want at least %d", len(busy), expiredN/batch)
	}
	var rested time.Duration
	for _, d := range busy[:len(busy)-1] { // the last may end the walk without a rest
		rested += sweepRestFactor * d
	}
	if elapsed < rested {
		t.Errorf("the sweep took %v, less than the %v of rests its %d batches owe", elapsed, rested, len(busy))
	}
}

// TestDeleteExpiredStopsRestingWhenCancelled checks that a rest ends with
// ctx: a sweep cancelled between batches returns ctx's error and what it
// removed, instead of finishing its wait.
func TestDeleteExpiredStopsRestingWhenCancelled(t *testing.T) {
	const batch = 10
	s := openTemp(t, WithSweepInterval(0), WithSweepBatch(batch))
	ids := make([]string, 10*batch)
	for i := range ids {
		ids[i] = fmt.Sprintf("s%05d", i)
	}
	rawPut(t, s, time.Now().Add(-time.Minute), []byte("old"), ids...)
	ctx, cancel := context.WithCancel(context.Background())
	// The first batch cancels and pretends to have held the writer for an
	// hour: only the cancellation can end the rest that follows.
	s.onSweepTx = func(int, time.Duration) { cancel() }
	s.sweepBusy = func(time.Duration) time.Duration { return time.Hour }
	n, err := s.DeleteExpired(ctx)
	if !errors.Is(err, context.Canceled) || n != batch {
		t.Fatalf("DeleteExpired = %d, %v; want %d, context.Canceled", n, err, batch)
	}
}

func TestBackgroundSweeperStopsOnClose(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "own.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const interval = 5 * time.Millisecond
	s, err := New(db, WithSweepInterval(interval))
	if err != nil {
		t.Fatal(err)
	}

	// The sweeper runs: an expired entry disappears without a call.
	rawPut(t, s, time.Now().Add(-time.Second), []byte("x"), "first")
	waitUntil(t, "the background sweeper removes an expired entry", func() bool { return rawCount(t, s) == 0 })

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-s.sweepDone:
	default:
		t.Fatal("the sweeper goroutine is still running after Close returned")
	}
	// And it no longer sweeps: the goroutine has returned, so an expired
	// entry put now stays without any wait to prove it.
	rawPut(t, s, time.Now().Add(-time.Second), []byte("x"), "second")
	if got := rawCount(t, s); got != 1 {
		t.Errorf("%d keys in the bucket after Close, want the 1 expired entry left alone", got)
	}
}

func TestSweeperOffWhenIntervalIsZero(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		s := openTemp(t, WithSweepInterval(d))
		if s.sweepDone != nil {
			t.Errorf("WithSweepInterval(%v) started a background sweeper", d)
		}
	}
	if s := openTemp(t); s.sweepDone == nil {
		t.Error("the default options started no background sweeper")
	}
}

func TestSyncOption(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	for _, noSync := range []bool{false, true} {
		s, err := Open(path, WithSync(!noSync), WithSweepInterval(0))
		if err != nil {
			t.Fatal(err)
		}
		if s.db.NoSync != noSync {
			t.Errorf("WithSync(%v): db.NoSync = %v", !noSync, s.db.NoSync)
		}
		id := "nosync-" + map[bool]string{false: "off", true: "on"}[noSync]
		err = s.Write(context.Background(), id, time.Time{}, func(w io.Writer) error {
			_, err := io.WriteString(w, id)
			return err
		})
		if err != nil {
			t.Fatalf("WithSync(%v): Write: %v", !noSync, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// A clean Close keeps writes made without fsync: they reached the file.
	s, err := Open(path, WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"nosync-off", "nosync-on"} {
		var got []byte
		err := s.Read(context.Background(), id, func(r io.Reader) (err error) { got, err = io.ReadAll(r); return err })
		if err != nil || string(got) != id {
			t.Errorf("after reopening: Read(%s) = %q, %v", id, got, err)
		}
	}
}

func TestConcurrentChangesShareOneCommit(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "own.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := New(db, WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	txID := func() int {
		var id int
		_ = db.View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil })
		return id
	}

	// Hold bbolt's single writer so that the Store's changes queue up.
	hold, err := db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	before := txID()
	const writers = 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			id := "w" + string(rune('a'+i))
			errs <- s.Write(context.Background(), id, time.Time{}, func(w io.Writer) error {
				_, err := io.WriteString(w, id)
				return err
			})
		})
	}
	// One writer leads and waits for the held transaction; the others queue.
	waitUntil(t, fmt.Sprintf("%d writers queue", writers-1), func() bool {
		s.cmu.Lock()
		defer s.cmu.Unlock()
		return len(s.queue) == writers-1
	})
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Write: %v", err)
		}
	}
	// The leader commits its own write, then the next leader the 7 queued.
	if commits := txID() - before; commits > 2 {
		t.Errorf("%d concurrent Writes took %d commits, want at most 2", writers, commits)
	}
	for i := range writers {
		id := "w" + string(rune('a'+i))
		var got []byte
		err := s.Read(context.Background(), id, func(r io.Reader) (err error) { got, err = io.ReadAll(r); return err })
		if err != nil || !bytes.Equal(got, []byte(id)) {
			t.Errorf("Read(%s) = %q, %v", id, got, err)
		}
	}
}

// TestContextCanceledWhileQueuedChangesNothing cancels a Write while it
// waits behind a held write transaction, after it has passed every entry
// check: the commit must see the done context and change nothing.
func TestContextCanceledWhileQueuedChangesNothing(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "s.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := New(db, WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hold, err := db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.Write(c, "queued", time.Time{}, func(w io.Writer) error {
			_, err := io.WriteString(w, "x")
			return err
		})
	}()
	// The Write leads a commit once it is past its own checks; it then
	// waits in bbolt for the held transaction.
	waitUntil(t, "the Write leads a commit", func() bool {
		s.cmu.Lock()
		defer s.cmu.Unlock()
		return s.committing
	})
	cancel()
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Write = %v, want context.Canceled", err)
	}
	err = s.Read(context.Background(), "queued", func(io.Reader) error { return nil })
	if !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read after the canceled Write = %v, want ErrNotFound", err)
	}
}

// waitUntil polls cond until it holds, failing t after a deadline no
// healthy run comes near.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
