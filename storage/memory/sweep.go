package memory

import (
	"context"
	"fmt"
	"time"
)

// DeleteExpired removes every entry whose expiry has passed and returns how
// many it removed; live entries are kept. The background sweeper (see
// [WithSweepInterval]) calls it periodically; calling it by hand is useful
// when the sweeper is disabled.
//
// It removes at most 128 entries per hold of a shard's lock and, after each
// such batch, rests three times as long as the batch took, so that a sweep
// of many expired entries takes at most a quarter of a core and the
// requests around it keep their latency; a sweep lasts about four times
// its own work.
//
// It checks ctx between batches and, when ctx is done, returns the number
// removed so far with an error wrapping ctx.Err(). After Close it returns
// the number removed so far and an error wrapping [sessions.ErrClosed].
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	now := s.now()
	n := 0
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("sessionkit/memory: delete expired: %w", err)
		}
		sh := &s.shards[i]
		for more := true; more; {
			if s.closed.Load() {
				return n, errClosed
			}
			t0 := time.Now()
			var removed int
			removed, more = s.sweepSome(sh, now)
			n += removed
			if removed == 0 {
				break
			}
			busy := time.Since(t0)
			if sweptBatch != nil {
				busy = sweptBatch(sh, busy)
			}
			if err := rest(ctx, sweepRestFactor*busy); err != nil {
				return n, fmt.Errorf("sessionkit/memory: delete expired: %w", err)
			}
		}
	}
	return n, nil
}

// sweepBatch bounds the entries one hold of a shard's lock removes. A sweep
// of many expired entries then delays a request of that shard by one
// batch, not by the whole shard: at a million sessions with half of them
// expired, one hold removed 7,812 entries in about 10 ms, and requests'
// p99 during the sweep rose from 13 µs to 10 ms (sessionbench scale).
const sweepBatch = 128

// sweepRestFactor is how many times a batch's length a sweep rests after
// it. Without the rests a sweep is a goroutine that runs without pause
// for as long as Go's scheduler lets it (up to a 10 ms time slice) while
// the requests queued on its processor wait: over 100,000 sessions,
// requests' p99 during a sweep was 3.1 times what it was before it
// (sessionbench scale).
const sweepRestFactor = 3

// rest waits for d, or until ctx is done, and returns ctx.Err() then.
func rest(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sweepSome removes up to sweepBatch entries of sh that expired by now, and
// reports whether more may be left.
func (s *Store) sweepSome(sh *shard, now int64) (int, bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for i := range sweepBatch {
		if len(sh.heap) == 0 || sh.heap[0].liveAt(now) {
			return i, false
		}
		s.removeLocked(sh, sh.heap[0].id)
	}
	return sweepBatch, true
}

// sweptBatch, when set by a test, runs after each batch of a sweep, with
// no lock held, and returns the batch's length the rest is based on (busy
// as measured, or a stand-in).
var sweptBatch func(sh *shard, busy time.Duration) time.Duration

// sweepLoop runs DeleteExpired every interval until ctx, which Close
// cancels, is done; that also ends a sweep under way at its next batch.
func (s *Store) sweepLoop(ctx context.Context, every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Its only errors are Close's and the cancellation that
			// comes with it.
			_, _ = s.DeleteExpired(ctx)
		}
	}
}
