package sessions

import (
	"context"
	"errors"
	"fmt"
)

// These functions reach the sessions of the request whose context ctx is
// (or derives from): the request passed to a handler inside
// Manager.Handler. For one request they are safe for concurrent use. A
// session type that no Manager on the request registered gives an error
// wrapping ErrNotRegistered and naming the type.

// Get returns the session of type T that the request carries, or that the
// handler set earlier in the request. It returns ErrNoSession when there is
// none, including when the client sent a value that does not verify,
// decrypt or decode, or an id the storage does not know (such a cookie is
// cleared in the response). A storage failure is returned wrapped, so a
// handler can tell "not logged in" from "store down". The session is loaded
// on the first call and cached for the rest of the request.
func Get[T any](ctx context.Context) (T, error) {
	var zero T
	s, err := lookup[T](ctx)
	if err != nil {
		return zero, err
	}
	defer s.st.mu.Unlock()
	if err := s.current(); err != nil {
		return zero, err
	}
	return s.value, nil
}

// Set makes v the session of type T. The value is serialized at once, so
// later changes to v (through maps, slices or pointers it holds) are not
// seen; the change is written when the response starts. A server-side
// session keeps its id if the request carried a valid one, and otherwise
// gets a new id: an id the storage does not know is never adopted. Set
// returns ErrTooLate once the response has started, ErrTooLarge when a
// client-side cookie would exceed MaxCookieSize (nothing is sent then), the
// serializer's error, or a storage error from reading the current session.
func Set[T any](ctx context.Context, v T) error {
	return change(ctx, func(s *slot[T]) error { return s.set(v) })
}

// Clear ends the session of type T: the response tells the client to forget
// it, and a server-side session's entry is removed from the storage when
// the response starts. Clearing an absent session is not an error. A Set
// later in the same request starts a new session with a new id. Clear
// returns ErrTooLate once the response has started.
func Clear[T any](ctx context.Context) error {
	return change(ctx, func(s *slot[T]) error { s.clearSession(); return nil })
}

// GetOrSet returns the session of type T, or, when there is none, sets the
// value create returns and returns it. Errors other than ErrNoSession are
// returned without calling create.
func GetOrSet[T any](ctx context.Context, create func() T) (T, error) {
	v, err := Get[T](ctx)
	if !errors.Is(err, ErrNoSession) {
		return v, err
	}
	v = create()
	if err := Set(ctx, v); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// Renew gives the server-side session of type T a new id with the same data
// and removes the old id from the storage when the response starts (after
// the new one is written): call it on login and on any privilege change, the
// defence against session fixation. For a client-side session Renew sends
// the value again with a fresh lifetime (and, with Encrypt, a fresh nonce).
// It returns ErrNoSession when there is no session to renew and ErrTooLate
// once the response has started.
func Renew[T any](ctx context.Context) error {
	return change(ctx, (*slot[T]).renew)
}

// ID returns the id of the server-side session of type T: the id the
// request carried, or the new id a Set or Renew in this request chose (it
// is stored when the response starts). It returns ErrNoSession when there
// is no session, and an error for a client-side session, which has no id.
func ID[T any](ctx context.Context) (string, error) {
	s, err := lookup[T](ctx)
	if err != nil {
		return "", err
	}
	defer s.st.mu.Unlock()
	if s.p.storage == nil {
		return "", fmt.Errorf("sessions: %s %q is kept client-side and has no id", s.p.kind, s.p.name)
	}
	if err := s.current(); err != nil {
		return "", err
	}
	return s.id, nil
}

// Invalidate removes the server-side session id of type T from the storage
// at once, for example to log a user out of their other devices (the
// application keeps the list of a user's ids). If id is the current
// session's own id, the current session is also cleared as by Clear. It
// returns an error wrapping ErrInvalidID for a malformed id, the storage's
// error, or an error for a client-side session, whose values cannot be
// revoked.
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
	if err := s.p.storage.Invalidate(ctx, id); err != nil {
		return fmt.Errorf("sessions: invalidate %s %q: %w", s.p.kind, s.p.name, err)
	}
	if !s.st.committed && (s.id == id || s.incomingID() == id) {
		s.clearSession()
	}
	return nil
}

// change applies a session change under the request's lock, refusing it
// once the response has started.
func change[T any](ctx context.Context, f func(*slot[T]) error) error {
	s, err := lookup[T](ctx)
	if err != nil {
		return err
	}
	defer s.st.mu.Unlock()
	if s.st.committed {
		return ErrTooLate
	}
	return f(s)
}
