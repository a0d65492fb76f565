package memory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"
)

// TestSweepLetsRequestsInBetweenBatches: a sweep of a shard with many
// expired entries releases the shard's lock between batches, so a request
// for a live entry of that shard is served in between, not after the whole
// shard: held for the whole shard, the Read below would wait for the sweep
// while the sweep waits for the Read, and the test would fail at its hang
// detector.
func TestSweepLetsRequestsInBetweenBatches(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s := New(WithSweepInterval(0))
	s.opts.now = func() time.Time { return now }
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	// Fill one shard: ids are spread by hash, so keep those of shard 0.
	var live string
	expired := 0
	for i := 0; expired < 5*sweepBatch || live == ""; i++ {
		id := fmt.Sprint("id", i)
		if s.shardIndex(id) != 0 {
			continue
		}
		exp := now.Add(time.Second)
		if live == "" {
			live, exp = id, now.Add(time.Hour)
		} else {
			expired++
		}
		if err := s.Write(ctx, id, exp, func(w io.Writer) error { _, err := io.WriteString(w, "v"); return err }); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(time.Minute)

	batches := 0
	sweptBatch = func(sh *shard, busy time.Duration) time.Duration {
		if sh != &s.shards[0] || batches > 0 {
			return busy
		}
		batches++
		// Between two batches no lock is held: a Read of the same shard
		// completes before the sweep goes on.
		done := make(chan error, 1)
		go func() { done <- s.Read(ctx, live, func(io.Reader) error { return nil }) }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Read of a live entry between two sweep batches = %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Errorf("a Read of the swept shard did not return between two batches within 60s: the sweep holds the lock for the whole shard")
		}
		return busy
	}
	t.Cleanup(func() { sweptBatch = nil })
	n, err := s.DeleteExpired(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != expired {
		t.Errorf("DeleteExpired removed %d entries, want the %d expired ones", n, expired)
	}
	if batches == 0 {
		t.Errorf("a sweep of %d expired entries in one shard ran in one batch, want batches of %d", expired, sweepBatch)
	}
}

// TestSweepRestsAfterEachBatch checks the pacing that keeps a large sweep
// from running without pause while requests wait for the processor: after
// every batch the sweep waits three times as long as the batch took. A
// sleep never ends early, so the bound holds whatever the machine's speed.
func TestSweepRestsAfterEachBatch(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s := New(WithSweepInterval(0))
	s.opts.now = func() time.Time { return now }
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	const expired = 20 * sweepBatch
	for i := range expired {
		if err := s.Write(ctx, fmt.Sprint("id", i), now.Add(time.Second), func(w io.Writer) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(time.Minute)
	var owed time.Duration
	batches := 0
	sweptBatch = func(_ *shard, busy time.Duration) time.Duration {
		batches++
		owed += sweepRestFactor * busy
		return busy
	}
	t.Cleanup(func() { sweptBatch = nil })
	t0 := time.Now()
	n, err := s.DeleteExpired(ctx)
	elapsed := time.Since(t0)
	if err != nil || n != expired {
		t.Fatalf("DeleteExpired = %d, %v; want %d, nil", n, err, expired)
	}
	if elapsed < owed {
		t.Errorf("the sweep took %v, less than the %v of rests its %d batches owe", elapsed, owed, batches)
	}
}

// TestSweepStopsRestingWhenCancelled checks that a rest ends with ctx: a
// sweep cancelled during one returns what it removed and an error wrapping
// ctx's, instead of finishing its wait.
func TestSweepStopsRestingWhenCancelled(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	s := New(WithSweepInterval(0))
	s.opts.now = func() time.Time { return now }
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	for i := range 4 * sweepBatch {
		if err := s.Write(ctx, fmt.Sprint("id", i), now.Add(time.Second), func(w io.Writer) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(time.Minute)
	// The first batch cancels and stands for an hour's work: only the
	// cancellation can end the rest that follows.
	sweptBatch = func(*shard, time.Duration) time.Duration { cancel(); return time.Hour }
	t.Cleanup(func() { sweptBatch = nil })
	n, err := s.DeleteExpired(ctx)
	if !errors.Is(err, context.Canceled) || n == 0 {
		t.Fatalf("DeleteExpired = %d, %v; want some removed and context.Canceled", n, err)
	}
}
