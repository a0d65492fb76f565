package directory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
)

// expiredStore returns a Store without a background sweeper holding n
// entries that expired a minute ago.
func expiredStore(t *testing.T, n int) *Store {
	t.Helper()
	s, err := New(t.TempDir(), WithSweepInterval(0), WithSync(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for i := range n {
		err := s.Write(context.Background(), fmt.Sprint("id", i), time.Now().Add(-time.Minute),
			func(w io.Writer) error { _, err := io.WriteString(w, "v"); return err })
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestSweepRestsAfterEachChunk checks the pacing that keeps a sweep of a
// large root from competing with requests back to back: after every
// sweepChunk files it waits three times as long as the chunk took. Each
// chunk stands for 5ms of work here, so the sweep owes at least 15ms of
// rest per full chunk; a sleep never ends early.
func TestSweepRestsAfterEachChunk(t *testing.T) {
	const chunks = 3
	s := expiredStore(t, chunks*sweepChunk)
	rests := 0
	s.sweepBusy = func(time.Duration) time.Duration { rests++; return 5 * time.Millisecond }
	t0 := time.Now()
	n, err := s.DeleteExpired(context.Background())
	elapsed := time.Since(t0)
	if err != nil || n != chunks*sweepChunk {
		t.Fatalf("DeleteExpired = %d, %v; want %d, nil", n, err, chunks*sweepChunk)
	}
	if rests < chunks-1 {
		t.Fatalf("%d rests in a sweep of %d files, want at least %d", rests, chunks*sweepChunk, chunks-1)
	}
	if owed := time.Duration(rests) * sweepRestFactor * 5 * time.Millisecond; elapsed < owed {
		t.Errorf("the sweep took %v, less than the %v of rests its %d chunks owe", elapsed, owed, rests)
	}
}

// TestSweepStopsRestingWhenCancelled checks that a rest ends with ctx: a
// sweep whose chunk stands for an hour's work returns at ctx's deadline,
// with an error wrapping ctx's, instead of finishing its wait.
func TestSweepStopsRestingWhenCancelled(t *testing.T) {
	s := expiredStore(t, 2*sweepChunk)
	s.sweepBusy = func(time.Duration) time.Duration { return time.Hour }
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	n, err := s.DeleteExpired(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || n == 0 {
		t.Fatalf("DeleteExpired = %d, %v; want some removed and context.DeadlineExceeded", n, err)
	}
}
