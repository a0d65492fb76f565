package memory

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

var (
	_ sessions.ConditionalWriter = (*Store)(nil)
	_ sessions.ExpiryReader      = (*Store)(nil)
)

var errExists = sessions.ErrExists // the sentinel itself: a prefix would only stack

// Create stores what write produces as the content of id only if id is
// absent or expired, as sessions.ConditionalWriter describes; otherwise it
// returns an error wrapping sessions.ErrExists. The check and the store
// happen under the lock of id's shard, after write has run, so no Write,
// Create, Replace, Touch or Invalidate of id can come between them. It
// returns the errors Write returns in the same cases.
func (s *Store) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, "create", id, "", expires, write, createCond)
}

// createCond is the condition of Create: id is absent or expired.
func createCond(e *entry, now int64) error {
	if e != nil && e.liveAt(now) {
		return errExists
	}
	return nil
}

// Replace stores what write produces as the content of id only if id holds
// a live entry, as sessions.ConditionalWriter describes; otherwise it
// returns an error wrapping sessions.ErrNotFound and creates nothing. The
// check and the store happen under the lock of id's shard, after write has
// run. An expires that is not after the current time removes the live
// entry. It returns the errors Write returns in the same cases.
func (s *Store) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, "replace", id, "", expires, write, replaceCond)
}

// replaceCond is the condition of Replace: id holds a live entry.
func replaceCond(e *entry, now int64) error {
	if e == nil || !e.liveAt(now) {
		return errNotFound
	}
	return nil
}

// writeIf is Write with a condition on the current entry of id (nil when
// absent), checked under the shard's lock just before the store, which
// files the entry under index ("": none) in the same step.
func (s *Store) writeIf(ctx context.Context, op, id, index string, expires time.Time, write func(io.Writer) error, cond func(e *entry, now int64) error) error {
	if err := s.checkCall(ctx, op, id); err != nil {
		return err
	}
	if err := checkIndex(index); err != nil {
		return err
	}
	var data []byte
	if err := sessions.WriteBuffered(write, func(b []byte) error {
		data = append(make([]byte, 0, len(b)), b...)
		return nil
	}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessionkit/memory: %s: %w", op, err)
	}
	if s.opts.maxBytes > 0 && int64(len(data)) > s.opts.maxBytes {
		return fmt.Errorf("sessionkit/memory: %s: value of %d bytes exceeds the bound of %d bytes: %w",
			op, len(data), s.opts.maxBytes, sessions.ErrTooLarge)
	}
	exp := expiresNanos(expires)
	home := s.shardIndex(id)
	sh := &s.shards[home]
	sh.mu.Lock()
	if s.closed.Load() {
		sh.mu.Unlock()
		return errClosed
	}
	now := s.now()
	if err := cond(sh.m[id], now); err != nil {
		sh.mu.Unlock()
		return err
	}
	if exp != 0 && exp <= now {
		s.removeLocked(sh, id)
		sh.mu.Unlock()
		return nil
	}
	e, dEntries, dBytes := sh.put(id, data, exp)
	s.refileLocked(e, index)
	if s.bounded() {
		s.entries.Add(dEntries)
		s.bytes.Add(dBytes)
	}
	sh.mu.Unlock()
	if s.bounded() {
		s.evict(home, e)
	}
	return nil
}
