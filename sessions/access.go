package sessions

import (
	"context"
	"errors"
	"fmt"
)

// These functions reach the sessions of the request whose context ctx is
// (or derives from): the request passed to a handler inside
// [Manager.Handler]. For one request they are safe for concurrent use. A
// session type that no [Manager] on the request registered gives an error
// wrapping [ErrNotRegistered] and naming the type. Every storage call they
// make runs on ctx, so a handler's deadline bounds them.

// Get returns the session of type T that the request carries, or that the
// handler set earlier in the request. It returns [ErrNoSession] when there
// is none, including when the client sent a value that does not verify,
// decrypt or decode, that has outlived its lifetime or idle timeout, or an
// id the storage does not know (such a cookie is cleared in the response).
// A storage failure is returned wrapped, so a handler can tell "not logged
// in" from "store down". The session is loaded on the first successful
// call and cached for the rest of the request; a failed load is tried
// again by the next call.
func Get[T any](ctx context.Context) (T, error) {
	var zero T
	s, err := lookup[T](ctx)
	if err != nil {
		return zero, err
	}
	defer s.st.mu.Unlock()
	if err := s.current(ctx); err != nil {
		return zero, err
	}
	return s.value, nil
}

// Set makes v the session of type T. The value is serialized at once, so
// later changes to v (through maps, slices or pointers it holds) are not
// seen; the change is written when the response starts. A session that
// exists keeps its creation time, so Set never extends its lifetime. A
// server-side session keeps its id if the request carried a valid one, and
// otherwise gets a new id: an id the storage does not know is never
// adopted. Set returns [ErrTooLate] once the response has started,
// [ErrTooLarge] when the cookie or header would exceed its bound (nothing
// is sent then), the serializer's error, the id generator's error, or a
// storage error from reading the current session.
func Set[T any](ctx context.Context, v T) error {
	s, err := lookup[T](ctx)
	if err != nil {
		return err
	}
	defer s.st.mu.Unlock()
	raw, err := s.serialize(v)
	if err != nil {
		return err
	}
	_, err = s.set(ctx, v, raw, false)
	return err
}

// Clear ends the session of type T: the response tells the client to forget
// it, and a server-side session's entry is removed from the storage when
// the response starts (after every provider's writes succeeded). Clearing
// an absent session is not an error. A Set later in the same request
// starts a new session with a new id. Clear returns [ErrTooLate] once the
// response has started.
func Clear[T any](ctx context.Context) error {
	s, err := lookup[T](ctx)
	if err != nil {
		return err
	}
	defer s.st.mu.Unlock()
	if s.st.phase != phaseOpen {
		return ErrTooLate
	}
	s.forgetSession()
	var zero T
	s.value = zero
	return nil
}

// GetOrSet returns the session of type T, or, when there is none, sets the
// value create returns and returns it. It is atomic per session within a
// request: concurrent callers all return the same session, the one that
// was stored. create runs without the request's lock, so it may use other
// sessions; when two goroutines find no session at once, both may call
// create, and the value of the one that loses is dropped. Errors other
// than [ErrNoSession] are returned without calling create.
func GetOrSet[T any](ctx context.Context, create func() T) (T, error) {
	v, err := Get[T](ctx)
	if !errors.Is(err, ErrNoSession) {
		return v, err
	}
	v = create()
	s, err := lookup[T](ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	defer s.st.mu.Unlock()
	raw, err := s.serialize(v)
	if err != nil {
		var zero T
		return zero, err
	}
	return s.set(ctx, v, raw, true)
}

// Renew gives the session of type T a new identity and a fresh lifetime,
// with the same data. A server-side session gets a new id, and the old id
// is removed from the storage when the response starts, after every
// provider's writes succeeded: call it on login and on any privilege
// change, the defence against session fixation. A client-side session is
// sent again with a new creation time (and, with [Encrypt], a fresh
// nonce). It returns [ErrNoSession] when there is no session to renew,
// [ErrTooLate] once the response has started, and the id generator's or
// the storage's error.
func Renew[T any](ctx context.Context) error {
	s, err := lookup[T](ctx)
	if err != nil {
		return err
	}
	defer s.st.mu.Unlock()
	if s.st.phase != phaseOpen {
		return ErrTooLate
	}
	return s.renew(ctx)
}

// ID returns the id of the server-side session of type T: the id the
// request carried, or the new id a Set or Renew in this request chose (it
// is stored when the response starts). It returns [ErrNoSession] when
// there is no session, a storage error from loading it, and an error for
// a client-side session, which has no id.
func ID[T any](ctx context.Context) (string, error) {
	s, err := lookup[T](ctx)
	if err != nil {
		return "", err
	}
	defer s.st.mu.Unlock()
	if s.p.storage == nil {
		return "", fmt.Errorf("sessions: %s %q is kept client-side and has no id", s.p.kind, s.p.name)
	}
	if err := s.current(ctx); err != nil {
		return "", err
	}
	return s.server.id, nil
}

// Invalidate removes the server-side session id of type T from the storage
// at once, for example to log a user out of one device whose id the
// application kept ([EndOthers] and the functions beside it do this for a
// provider with [WithIndex], without the application keeping ids). If id is the current
// session's own id, the current session is also cleared as by [Clear]. It
// returns an error wrapping [ErrInvalidID] for a malformed id, the
// storage's error, or an error for a client-side session, whose values
// cannot be revoked.
func Invalidate[T any](ctx context.Context, id string) error {
	s, err := lookup[T](ctx)
	if err != nil {
		return err
	}
	defer s.st.mu.Unlock()
	if s.p.storage == nil {
		return fmt.Errorf("sessions: %s %q is kept client-side; its values cannot be invalidated", s.p.kind, s.p.name)
	}
	if err := CheckID(id); err != nil {
		return err
	}
	return s.invalidateKey(ctx, s.p.key(id), func() bool { return s.server.id == id || s.carriesID(id) })
}

// KeyOf returns the storage key under which m keeps the server-side session
// id of type T: for tools and tests that look at a storage directly, since
// no storage holds a raw id. It returns an error wrapping
// [ErrNotRegistered] when m has no provider of T, one wrapping
// [ErrInvalidID] for a malformed id, and an error for a client-side
// session, which has no key.
func KeyOf[T any](m *Manager, id string) (string, error) {
	i := m.find(typeOf[T]())
	if i < 0 {
		return "", fmt.Errorf("%w: %v", ErrNotRegistered, typeOf[T]())
	}
	p := m.providers[i].base()
	if p.storage == nil {
		return "", fmt.Errorf("sessions: %s %q is kept client-side and has no key", p.kind, p.name)
	}
	if err := CheckID(id); err != nil {
		return "", err
	}
	return p.key(id), nil
}

// Key returns the storage key of the server-side session of type T: what
// the storage holds it under, and what a listing of the storage yields for
// it. A key is derived from the id and the provider ([Storage] keys are
// never raw ids), so it cannot be used as a cookie or header value; it
// serves to tell the current session apart in a listing and to end a
// listed session with [InvalidateKey]. Key returns [ErrNoSession] when
// there is no session, and an error for a client-side session.
func Key[T any](ctx context.Context) (string, error) {
	s, err := lookup[T](ctx)
	if err != nil {
		return "", err
	}
	defer s.st.mu.Unlock()
	if s.p.storage == nil {
		return "", fmt.Errorf("sessions: %s %q is kept client-side and has no key", s.p.kind, s.p.name)
	}
	if err := s.current(ctx); err != nil {
		return "", err
	}
	return s.server.keyOf(&s.p.providerBase, s.server.id), nil
}

// InvalidateKey is [Invalidate] for a session named by its storage key, as
// a listing of the storage yields it or [Key] returns it: it removes that
// entry from the storage at once, and if it is the current session's, the
// current session is also cleared as by [Clear]. The application must
// check that the entry is one the user may end. It returns an error
// wrapping [ErrInvalidID] for a malformed key, the storage's error, or an
// error for a client-side session.
func InvalidateKey[T any](ctx context.Context, key string) error {
	s, err := lookup[T](ctx)
	if err != nil {
		return err
	}
	defer s.st.mu.Unlock()
	if s.p.storage == nil {
		return fmt.Errorf("sessions: %s %q is kept client-side; its values cannot be invalidated", s.p.kind, s.p.name)
	}
	if err := CheckID(key); err != nil {
		return err
	}
	return s.invalidateKey(ctx, key, func() bool { return s.carriesKey(key) })
}

// invalidateKey removes key from the storage and, when current says it is
// the session of this request, clears that session too. The caller holds
// the request's lock.
func (s *slot[T]) invalidateKey(ctx context.Context, key string, current func() bool) error {
	if err := s.p.storage.Invalidate(ctx, key); err != nil {
		return fmt.Errorf("sessions: invalidate %s %q: %w", s.p.kind, s.p.name, err)
	}
	if s.st.phase == phaseOpen && current() {
		s.forgetSession()
		var zero T
		s.value = zero
	}
	return nil
}

// carriesKey reports whether the session's current id, or an id the
// request carries for it, is stored under key.
func (s *sessionState) carriesKey(key string) bool {
	if s.server.id != "" && s.server.keyOf(s.p, s.server.id) == key {
		return true
	}
	in := s.p.incoming(&s.st.req)
	for raw, ok := in.next(); ok; raw, ok = in.next() {
		if v, reason := s.p.decodeWire(raw); reason == "" {
			if id, _, ok := splitID(v); ok && s.p.key(id) == key {
				return true
			}
		}
	}
	return false
}

// carriesID reports whether the request carries id for this session.
func (s *sessionState) carriesID(id string) bool {
	in := s.p.incoming(&s.st.req)
	for raw, ok := in.next(); ok; raw, ok = in.next() {
		if v, reason := s.p.decodeWire(raw); reason == "" {
			if got, _, ok := splitID(v); ok && got == id {
				return true
			}
		}
	}
	return false
}
