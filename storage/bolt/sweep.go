package bolt

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// DeleteExpired removes every entry whose expiry has passed and returns
// how many it removed. Live entries, and values that are not Store entries,
// are kept.
//
// bbolt has a single writer, so one transaction deleting a million entries
// would stop every session write for its whole length. DeleteExpired
// instead walks the bucket in short read transactions, collecting up to
// the [WithSweepBatch] number of expired keys at a time, and removes each
// such batch in its own write transaction, checking again inside it that
// every entry is still expired (a concurrent Write or Touch may have
// renewed it). After each such transaction DeleteExpired rests three times
// as long as it took, so that session writes get the database between
// batches and a sweep holds the writer for at most a quarter of its time:
// a sweep takes about four times its own work, and the requests around it
// barely notice. An entry that expires or is written while the sweep runs
// may or may not be removed.
//
// ctx is checked between batches and ends a rest: when it is done,
// DeleteExpired returns
// the number removed so far and ctx.Err(). Other failures (an error
// wrapping [sessions.ErrClosed] after Close, an error wrapping [ErrCorrupt]
// when a page of the file is damaged, which poisons the Store, a wrapped
// bbolt error) are returned the same way, with the number removed before
// them.
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	total := 0
	var after []byte
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		release, err := s.acquire()
		if err != nil {
			return total, err
		}
		n, next, busy, err := s.sweepBatch(after)
		release()
		total += n
		if err != nil {
			if !errors.Is(err, ErrCorrupt) { // which names the call already
				err = fmt.Errorf("sessionkit/bolt: delete expired: %w", err)
			}
			return total, err
		}
		if next == nil {
			return total, nil
		}
		after = next
		if err := rest(ctx, busy); err != nil {
			return total, err
		}
	}
}

// rest waits, after a write transaction of a sweep that held bbolt's
// single writer for busy, for sweepRestFactor times as long, or until ctx is
// done. Session writes that queued behind the batch commit meanwhile, and
// a long sweep holds the writer for at most a quarter of its time instead
// of back to back. Measured by sessionbench scale over 100,000 sessions,
// the requests' p99 during a sweep of 50,000 was 11× what it was before
// with batches of 1,000 and no rest, 2.3× with batches of 100 (2.7ms each,
// most of it the fsync) resting as long as each took, and 1.1–1.7× resting
// three times as long; the sweep took 0.5s, 2.8s and 5.5s.
func rest(ctx context.Context, busy time.Duration) error {
	if busy <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(busy * sweepRestFactor)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sweepBatch removes up to s.opts.sweepBatch expired entries among the keys
// after after (from the first key when after is nil). It returns how many
// it removed and the key to continue after, nil when the bucket has been
// walked to its end.
func (s *Store) sweepBatch(after []byte) (removed int, next []byte, busy time.Duration, err error) {
	batch := s.opts.sweepBatch
	// Bound the keys one read transaction visits too, so that a bucket of
	// mostly live entries is also walked in short transactions.
	scanLimit := 4 * batch
	var (
		arena []byte // the expired keys, back to back
		ends  []int  // where each key ends in arena
	)
	err = s.view("delete expired", func(tx *bbolt.Tx) error {
		b := tx.Bucket(s.bucket)
		if b == nil {
			return errNoBucket
		}
		c := b.Cursor()
		now := time.Now().UnixNano()
		var last []byte
		scanned := 0
		for k, v := seekAfter(c, after); k != nil; k, v = c.Next() {
			if len(ends) == batch || scanned == scanLimit {
				next = append([]byte(nil), last...)
				break
			}
			scanned++
			last = k
			if v == nil {
				continue // a nested bucket
			}
			if nanos, _, err := decode(v); err == nil && expired(nanos, now) {
				arena = append(arena, k...)
				ends = append(ends, len(arena))
			}
		}
		return nil
	})
	if err != nil || len(ends) == 0 {
		return 0, next, 0, err
	}
	t0 := time.Now()
	err = s.update("delete expired", func(tx *bbolt.Tx) error {
		removed = 0 // the function runs once, but keep the count honest
		b := tx.Bucket(s.bucket)
		if b == nil {
			return errNoBucket
		}
		now := time.Now().UnixNano()
		start := 0
		for _, end := range ends {
			k := arena[start:end]
			start = end
			nanos, _, err := decode(b.Get(k))
			if err != nil || !expired(nanos, now) {
				continue // renewed, removed or replaced since the scan
			}
			if err := deleteEntry(b, k); err != nil { // and its filing
				return err
			}
			removed++
		}
		return nil
	})
	busy = time.Since(t0)
	if s.sweepBusy != nil {
		busy = s.sweepBusy(busy)
	}
	if err != nil {
		return 0, nil, busy, err
	}
	if s.onSweepTx != nil {
		s.onSweepTx(removed, busy)
	}
	return removed, next, busy, nil
}

// sweepLoop runs DeleteExpired every interval until ctx is done.
func (s *Store) sweepLoop(ctx context.Context, interval time.Duration) {
	defer close(s.sweepDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// The next tick retries; a sweep cut short by Close is no error.
			if _, err := s.DeleteExpired(ctx); err != nil && ctx.Err() == nil {
				s.opts.onSweepError(err)
			}
		}
	}
}

// sweepRestFactor is how many times its write transaction's length a sweep
// rests after each batch.
const sweepRestFactor = 3
