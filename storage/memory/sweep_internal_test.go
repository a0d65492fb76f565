package memory

import (
	"context"
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
	sweptBatch = func(sh *shard) {
		if sh != &s.shards[0] || batches > 0 {
			return
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
