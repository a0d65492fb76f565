package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// Read answers from the cache when it holds a fresh entry for id, and
// otherwise reads the delegate; concurrent misses on one id share a single
// delegate read. The reader passed to read is valid only during the call.
//
// Read returns an error wrapping [sessions.ErrNotFound] if id is absent or
// expired (from the delegate, or from a negative entry), and read's error
// unchanged if read fails. Errors of the delegate are returned unchanged;
// a caller that shared another caller's delegate read gets that read's
// error, except that a cancellation of the other caller's context makes it
// try again rather than fail. If ctx ends while Read waits for a shared
// read, Read returns an error wrapping ctx.Err().
func (s *store) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	return s.read(ctx, "read", id, func(r io.Reader, _ int64) error { return read(r) })
}

// read is Read that also passes read the entry's expiry in the cached form
// (0: never). The expiry is exact only when the delegate is an
// ExpiryReader: a value is then cached only with the expiry it was written,
// touched or loaded with.
func (s *store) read(ctx context.Context, op, id string, read func(r io.Reader, expires int64) error) error {
	if err := s.checkCall(ctx, op, id); err != nil {
		return err
	}
	sh := s.shard(id)
	counted := false
	for {
		now := s.now()
		sh.mu.Lock()
		if e := sh.m[id]; e != nil {
			if s.fresh(e, now) {
				sh.use(e, now)
				sh.hits++
				data, negative, exp := e.data, e.negative, e.expires
				if negative {
					sh.negativeHits++
				}
				sh.mu.Unlock()
				if negative {
					return errNegative
				}
				return read(&reader{data: data}, exp)
			}
			s.removeLocked(sh, e)
			sh.expirations++
		}
		if !counted {
			sh.misses++
			counted = true
		}
		p := sh.pending[id]
		if p != nil && p.load != nil {
			f := p.load
			sh.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return fmt.Errorf("sessionkit/cache: read: %w", ctx.Err())
			}
			if f.ctxDone && f.err != nil && ctx.Err() == nil {
				continue // the loader's context ended, not ours
			}
			return deliver(f, read)
		}
		f := &flight{done: make(chan struct{})}
		if p == nil {
			p = &pending{}
			sh.pending[strings.Clone(id)] = p // see shard.begin
		}
		p.load = f
		sh.loads++
		sh.mu.Unlock()
		s.load(ctx, sh, id, p, f)
		return deliver(f, read)
	}
}

func deliver(f *flight, read func(io.Reader, int64) error) error {
	if f.err != nil {
		return f.err
	}
	return read(&reader{data: f.data}, f.expires)
}

// load runs the delegate read for f, installs the result unless a mutation
// made it stale, and releases the callers waiting for it.
func (s *store) load(ctx context.Context, sh *shard, id string, p *pending, f *flight) {
	completed := false
	installed := false
	defer func() {
		if !completed {
			f.err = errLoadPanicked
		}
		now := s.now()
		sh.mu.Lock()
		if completed && !f.stale && !s.closed.Load() {
			installed = s.installLoaded(sh, id, f, now)
		}
		if p.load == f {
			p.load = nil
		}
		sh.release(id, p)
		sh.mu.Unlock()
		close(f.done)
		if installed {
			s.evict()
		}
	}()
	if s.expiry != nil {
		f.err = s.expiry.ReadWithExpiry(ctx, id, func(r io.Reader, t time.Time) error {
			var err error
			f.data, err = readAll(r)
			f.expires, f.known = expiresNanos(t), true
			return err
		})
	} else {
		f.err = s.delegate.Read(ctx, id, func(r io.Reader) error {
			var err error
			f.data, err = readAll(r)
			return err
		})
	}
	f.ctxDone = ctx.Err() != nil
	completed = true
}

// installLoaded caches the result of a load, if it may be cached: a value
// whose expiry the delegate reported and that fits, or a not-found when
// negative caching is on. The caller holds the shard lock.
func (s *store) installLoaded(sh *shard, id string, f *flight, now int64) bool {
	switch {
	case f.err == nil:
		if !f.known || f.expires != 0 && f.expires <= now {
			return false
		}
		if s.opts.maxBytes > 0 && int64(len(f.data)) > s.opts.maxBytes {
			sh.uncached++
			return false
		}
		s.putLocked(sh, id, f.data, false, f.expires, now)
		return true
	case errors.Is(f.err, sessions.ErrNotFound) && s.opts.negativeTTL > 0 && !f.ctxDone:
		s.putLocked(sh, id, nil, true, now+int64(s.opts.negativeTTL), now)
		return true
	}
	return false
}
