package bolt

import (
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Group commit.
//
// Every change a Store makes to a session (Write, Create, Replace, Touch,
// Invalidate) is an op queued here. The first caller to find no commit running becomes the
// leader: it takes every queued op, applies them all in one bbolt Update
// (one commit, one pair of fsyncs) and hands the results back. Ops that
// arrive while that commit runs queue up and form the next batch; the
// leader then passes the lead to the first of them, so no caller commits
// more than the batches it belongs to.
//
// This plays the part of bbolt's DB.Batch, which we do not use: DB.Batch
// starts a batch's transaction only when DB.MaxBatchDelay (10 ms by
// default) has passed or DB.MaxBatchSize calls have joined. A lone writer
// then waits 10 ms for an fsync that takes well under one, and under
// parallel load each batch idles for the delay instead of the previous
// commit, so a delay short enough for the first case gathers too few calls
// for the second. Here a batch starts the moment the previous commit ends
// and holds whatever queued during it: a lone writer pays one Update, and
// parallel writers share fsyncs as far as the disk makes them wait.
//
// The property DB.Batch documents still holds: a batch whose transaction
// fails because of one op is retried without that op, so applying an op
// must be idempotent and free of side effects outside the transaction.
// Each op's result is computed afresh on every attempt and only delivered
// once the commit it took part in is known.

// errLead tells a queued caller that it is now the leader. It never
// reaches a user.
var errLead = errors.New("sessionkit/bolt: internal: take the lead")

// commit applies o, together with whatever other ops are queued, and
// returns o's result. The caller holds s.mu for reading, so the database
// stays open until every queued op is answered.
func (s *Store) commit(o *op) error {
	s.cmu.Lock()
	s.queue = append(s.queue, o)
	if s.committing {
		s.cmu.Unlock()
		if err := <-o.done; err != errLead {
			return err
		}
		s.cmu.Lock()
	} else {
		s.committing = true
	}
	batch := s.queue
	s.queue, s.spare = s.spare, nil
	s.cmu.Unlock()

	s.run(batch)

	clear(batch)
	s.cmu.Lock()
	if s.spare == nil {
		s.spare = batch[:0]
	}
	if len(s.queue) > 0 {
		s.queue[0].done <- errLead
	} else {
		s.committing = false
	}
	s.cmu.Unlock()
	return <-o.done
}

// run commits batch in one transaction and sends every op its result.
func (s *Store) run(batch []*op) {
	for len(batch) > 0 {
		failed := -1
		err := s.update("commit", func(tx *bbolt.Tx) error {
			b := tx.Bucket(s.bucket)
			if b == nil {
				return errNoBucket
			}
			now := time.Now().UnixNano()
			for i, o := range batch {
				res, err := apply(b, o, now)
				if err != nil {
					failed = i
					return err
				}
				o.result = res
			}
			return nil
		})
		// A panic on a damaged page (update's ErrCorrupt) never sets
		// failed: it poisons the Store and fails the whole batch below.
		if failed >= 0 {
			// One op broke the transaction; answer it and retry the others
			// without it, as DB.Batch does.
			batch[failed].done <- fmt.Errorf("sessionkit/bolt: %w", err)
			batch = append(batch[:failed], batch[failed+1:]...)
			continue
		}
		if err != nil && !errors.Is(err, ErrCorrupt) { // which names the commit already
			err = fmt.Errorf("sessionkit/bolt: commit: %w", err)
		}
		for _, o := range batch {
			if err != nil {
				o.done <- err
			} else {
				o.done <- o.result
			}
		}
		return
	}
}

// apply performs o in the write transaction of b. It returns o's result,
// which does not stop the batch (a Touch of an absent id), or a failure,
// which rolls the transaction back and makes run retry without o.
func apply(b *bbolt.Bucket, o *op, now int64) (result, failure error) {
	if err := o.ctx.Err(); err != nil {
		// The caller gave up while queued: nothing happens, as the
		// contract asks of a done context.
		return err, nil
	}
	switch o.kind {
	case opPut:
		return nil, putEntry(b, o.key, o.value)
	case opDelete:
		return nil, deleteEntry(b, o.key)
	case opCreate, opReplace:
		return applyConditional(b, o, now)
	case opTouch:
		v := b.Get(o.key)
		if v == nil {
			return errNotFound, nil
		}
		nanos, _, err := decode(v)
		if err != nil {
			return errCorrupt, nil
		}
		if expired(nanos, now) {
			return errNotFound, nil
		}
		if o.drop {
			return nil, deleteEntry(b, o.key)
		}
		// v belongs to the memory map and must not be written to; the new
		// value is a copy with the new header, which keeps the index key
		// and with it the filing.
		nv := append([]byte(nil), v...)
		putHeader(nv, o.nanos)
		return nil, b.Put(o.key, nv)
	}
	return fmt.Errorf("sessionkit/bolt: internal: unknown op %d", o.kind), nil
}

// applyConditional performs an opCreate or opReplace in the write
// transaction of b; see apply.
func applyConditional(b *bbolt.Bucket, o *op, now int64) (result, failure error) {
	live := false
	if v := b.Get(o.key); v != nil {
		nanos, _, err := decode(v)
		if err != nil {
			return errCorrupt, nil
		}
		live = !expired(nanos, now)
	}
	switch {
	case o.kind == opCreate && live:
		return errExists, nil
	case o.kind == opReplace && !live:
		return errNotFound, nil
	case o.drop:
		// The new expiry has passed: nothing readable may be stored, and
		// whatever was there (expired, or the live entry Replace ends) goes.
		return nil, deleteEntry(b, o.key)
	}
	return nil, putEntry(b, o.key, o.value)
}
