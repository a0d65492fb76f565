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
// renewed it). Session writes get the database between batches. An entry
// that expires or is written while the sweep runs may or may not be
// removed.
//
// ctx is checked between batches: when it is done, DeleteExpired returns
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
		n, next, err := s.sweepBatch(after)
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
	}
}

// sweepBatch removes up to s.opts.sweepBatch expired entries among the keys
// after after (from the first key when after is nil). It returns how many
// it removed and the key to continue after, nil when the bucket has been
// walked to its end.
func (s *Store) sweepBatch(after []byte) (removed int, next []byte, err error) {
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
		return 0, next, err
	}
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
	if err != nil {
		return 0, nil, err
	}
	if s.onSweepTx != nil {
		s.onSweepTx(removed)
	}
	return removed, next, nil
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
