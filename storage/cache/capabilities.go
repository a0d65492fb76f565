package cache

import (
	"context"
	"iter"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// The forwarders add one optional capability each to a store. New embeds
// the ones the delegate supports next to the store, so that the value it
// returns has exactly the delegate's capabilities: a cache that claimed
// Toucher in front of a delegate without it would break callers that pick
// a strategy by type assertion (the middleware slides sessions with Touch
// when it can, and rewrites them otherwise).

type touchForwarder struct {
	s *store
	t sessions.Toucher
}

// Touch sets the expiry of id in the delegate, then in the cache. It
// returns the delegate's error unchanged (wrapping [sessions.ErrNotFound] if
// id is absent or expired), in which case the cached entry is dropped. It
// returns an error wrapping [sessions.ErrInvalidID] for a malformed id,
// [sessions.ErrClosed] after Close, and ctx.Err() if ctx is already done.
func (f touchForwarder) Touch(ctx context.Context, id string, expires time.Time) error {
	return f.s.touch(ctx, f.t, id, expires)
}

type listForwarder struct {
	s *store
	l sessions.Lister
}

// List yields the delegate's ids; the cache holds only some of them. After
// Close it yields ("", err) with err wrapping [sessions.ErrClosed].
func (f listForwarder) List(ctx context.Context) iter.Seq2[string, error] {
	return f.s.list(ctx, f.l)
}

type sweepForwarder struct {
	s  *store
	sw sessions.Sweeper
}

// DeleteExpired runs the delegate's DeleteExpired and returns its result,
// and drops the cache's own expired and idle entries. After Close it
// returns 0 and an error wrapping [sessions.ErrClosed].
func (f sweepForwarder) DeleteExpired(ctx context.Context) (int, error) {
	return f.s.deleteExpired(ctx, f.sw)
}

// withCapabilities returns s as a Store that also implements exactly the
// optional interfaces of its delegate: one type per combination.
func (s *store) withCapabilities() Store {
	t, hasT := s.delegate.(sessions.Toucher)
	l, hasL := s.delegate.(sessions.Lister)
	sw, hasS := s.delegate.(sessions.Sweeper)
	tf, lf, sf := touchForwarder{s, t}, listForwarder{s, l}, sweepForwarder{s, sw}
	switch {
	case hasT && hasL && hasS:
		return struct {
			*store
			touchForwarder
			listForwarder
			sweepForwarder
		}{s, tf, lf, sf}
	case hasT && hasL:
		return struct {
			*store
			touchForwarder
			listForwarder
		}{s, tf, lf}
	case hasT && hasS:
		return struct {
			*store
			touchForwarder
			sweepForwarder
		}{s, tf, sf}
	case hasL && hasS:
		return struct {
			*store
			listForwarder
			sweepForwarder
		}{s, lf, sf}
	case hasT:
		return struct {
			*store
			touchForwarder
		}{s, tf}
	case hasL:
		return struct {
			*store
			listForwarder
		}{s, lf}
	case hasS:
		return struct {
			*store
			sweepForwarder
		}{s, sf}
	}
	return s
}
