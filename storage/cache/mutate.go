package cache

import (
	"context"
	"io"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// Write stores the value in the delegate first and, only if the delegate
// succeeds, caches it with its expiry. If the delegate fails, Write returns
// the delegate's error unchanged and drops any cached value of id, since
// the delegate's state is then unknown; if the write function fails,
// Write returns its error, as the delegate does. A value larger than
// [WithMaxBytes] is written to the delegate but not cached.
func (s *store) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.writeWith(ctx, "write", id, expires, write, s.delegate.Write)
}

// writeWith is Write through op, the delegate's Write, Create or Replace.
func (s *store) writeWith(ctx context.Context, name, id string, expires time.Time, write func(io.Writer) error, op func(context.Context, string, time.Time, func(io.Writer) error) error) error {
	if err := s.checkCall(ctx, name, id); err != nil {
		return err
	}
	sh := s.shard(id)
	c := capture{limit: s.opts.maxBytes}
	defer c.release()
	exp := expiresNanos(expires)
	return s.mutate(sh, id, func() error {
		return op(ctx, id, expires, c.wrap(write))
	}, func(err error, now int64) bool {
		if c.tooBig && err == nil {
			sh.uncached++
		}
		if err != nil || c.value == nil || exp != 0 && exp <= now {
			return false
		}
		s.putLocked(sh, id, c.value, false, exp, now)
		return true
	})
}

// Invalidate removes id from the delegate, then from the cache. The cached
// value is dropped even if the delegate fails, whose error Invalidate then
// returns unchanged. After Invalidate returns, no Read returns the removed
// content: a delegate read that ran during the Invalidate is not left in
// the cache, and callers that arrive later do not share it.
func (s *store) Invalidate(ctx context.Context, id string) error {
	if err := s.checkCall(ctx, "invalidate", id); err != nil {
		return err
	}
	return s.mutate(s.shard(id), id, func() error {
		return s.delegate.Invalidate(ctx, id)
	}, func(error, int64) bool { return false })
}

// touch forwards Touch to the delegate, then moves the cached expiry; see
// Store.
func (s *store) touch(ctx context.Context, t sessions.Toucher, id string, expires time.Time) error {
	if err := s.checkCall(ctx, "touch", id); err != nil {
		return err
	}
	sh := s.shard(id)
	exp := expiresNanos(expires)
	return s.mutate(sh, id, func() error {
		return t.Touch(ctx, id, expires)
	}, func(err error, now int64) bool {
		e := sh.m[id]
		if err != nil || e == nil || e.negative || exp != 0 && exp <= now {
			return false
		}
		e.expires = exp
		sh.use(e, now)
		return true
	})
}

// mutate runs op, a Write, Invalidate or Touch of id on the delegate, and
// then updates the cache through end and apply; it returns op's error. If
// op panics, the entry for id is dropped before the panic goes on.
func (s *store) mutate(sh *shard, id string, op func() error, apply func(err error, now int64) bool) error {
	sh.mu.Lock()
	p := sh.begin(id)
	sh.mu.Unlock()
	finished := false
	defer func() {
		if !finished {
			s.end(sh, id, p, nil)
		}
	}()
	err := op()
	finished = true
	if s.end(sh, id, p, func(now int64) bool { return apply(err, now) }) {
		s.evict()
	}
	return err
}

// end finishes a mutation begun with begin. Unless the mutation overlapped
// another one on the same id or the cache was closed, it calls apply (if
// not nil) with the lock held to update the cache; when apply returns
// false, or is not called, the entry for id is dropped. It reports whether
// apply kept or installed an entry.
func (s *store) end(sh *shard, id string, p *pending, apply func(now int64) bool) bool {
	now := s.now()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p.mutators--
	// A load that started during the mutation may have read the delegate
	// before the mutation took effect; no later miss may share it.
	p.detachLoad()
	applied := apply != nil && !p.overlapped && !s.closed.Load() && apply(now)
	if !applied {
		if e := sh.m[id]; e != nil {
			s.removeLocked(sh, e)
		}
	}
	if p.mutators == 0 {
		p.overlapped = false
	}
	sh.release(id, p)
	return applied
}
