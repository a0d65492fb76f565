package sessions

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// A user's sessions: a provider registered with [WithIndex] files each
// session under an index key made from its value (a user id, say), and
// these functions list and end the sessions of one index key, for a "your
// devices" page and for "log out everywhere else" after a password change.
// Like [Get] and the rest they reach the provider through the request
// context, so they work in handlers inside [Manager.Handler]. Their index
// argument is the application's key, what the WithIndex function returns;
// they hash it themselves. They read the storage, which changes this
// request makes reach only when the response starts: a session set or
// renewed in this request is listed from the next request on.
//
// Every storage call runs on ctx. A session type that no Manager on the
// request registered gives an error wrapping [ErrNotRegistered], and a
// provider without WithIndex an error saying so.

// Listed is one session of an index key, as [List] returns it.
type Listed[T any] struct {
	// Key is the session's storage key: what [End] takes to end it. It is
	// a hash of the provider and the id ([KeyOf]), so it does not work as
	// a cookie or header value and tells nothing of the id; End checks
	// that the key it is given is filed under the index it is given.
	Key string

	// Value is the session's value, decoded by the provider's serializer.
	Value T

	// Created is when the session was created: its first Set, or its last
	// [Renew] (a login, usually).
	Created time.Time

	// LastSeen is when a request last wrote the session: a Set, a Renew,
	// or with [WithIdleTimeout] a request that moved its idle end, which
	// happens at most once per half idle window, so LastSeen lags the last
	// request by at most about half the idle timeout. Without an idle
	// timeout it is the time of the last Set or Renew. See [Entry].
	LastSeen time.Time

	// Expires is when the session ends unless a request moves its idle
	// end: the storage entry's expiry, with the storage's precision.
	Expires time.Time

	// Current reports whether this is the session of the request List
	// runs in: the one it carries, or the one a Renew in this request
	// replaces.
	Current bool
}

// List returns the live sessions of type T filed under index, the oldest
// first (by Created). It reads what the storage files under index only,
// not the whole store. A session that ended (cleared, renewed away,
// invalidated, expired, past its lifetime as configured now) is never
// listed; entries whose value does not decode are skipped, with a debug
// record; so are entries whose value the WithIndex function maps to
// another index, which a correct storage never files there. The empty
// index lists nothing: values for which the WithIndex function returns ""
// are filed under no index.
//
// It returns the storage's error, wrapped, and the errors described above
// for an unregistered type or a provider without WithIndex.
func List[T any](ctx context.Context, index string) ([]Listed[T], error) {
	s, err := lookup[T](ctx)
	if err != nil {
		return nil, err
	}
	defer s.st.mu.Unlock()
	if s.p.indexer == nil {
		return nil, errNoIndex(&s.p.providerBase)
	}
	if index == "" {
		return nil, nil
	}
	ik := s.p.indexKey(index)
	own := s.ownKeys()
	now := s.st.unix()
	var out []Listed[T]
	err = s.readIndex(ctx, ik, func(f filed[T]) {
		switch {
		case f.reason != "":
			s.listDebug(ctx, f.reason)
		case now >= f.entry.Created.Unix()+s.p.lifetime:
			// Past the lifetime as configured now: Get refuses it too.
		default:
			out = append(out, Listed[T]{
				Key: f.key, Value: f.value, Created: f.entry.Created, LastSeen: f.entry.LastSeen,
				Expires: f.expires, Current: slices.Contains(own, f.key),
			})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("sessions: list %s %q: %w", s.p.kind, s.p.name, err)
	}
	slices.SortFunc(out, func(a, b Listed[T]) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.Key, b.Key))
	})
	return out, nil
}

// End ends the session of type T stored under key, as [List] yields it,
// only if it is filed under index: a key that a form posts for a session
// of another index (another user's) ends nothing. It removes the entry
// from the storage at once ([Storage.Invalidate]): that device finds no
// session on its next request, and a request of it in flight cannot write
// the session back. If it is the session of this request, that session is
// also cleared as by [Clear].
//
// It returns an error wrapping [ErrNoSession] when no live session under
// index has that key: it ended already, or it is another index's, which
// End does not tell apart so that a form cannot probe for other users'
// sessions. It returns an error wrapping [ErrInvalidID] for a malformed
// key, the storage's error, wrapped, and the errors described above for an
// unregistered type or a provider without WithIndex.
func End[T any](ctx context.Context, index, key string) error {
	s, err := lookup[T](ctx)
	if err != nil {
		return err
	}
	defer s.st.mu.Unlock()
	if s.p.indexer == nil {
		return errNoIndex(&s.p.providerBase)
	}
	if err := CheckID(key); err != nil {
		return err
	}
	found := false
	if index != "" {
		err := s.readIndex(ctx, s.p.indexKey(index), func(f filed[T]) {
			found = found || f.key == key && !f.elsewhere
		})
		if err != nil {
			return fmt.Errorf("sessions: end %s %q: %w", s.p.kind, s.p.name, err)
		}
	}
	if !found {
		return fmt.Errorf("sessions: end %s %q: %w: none under this index has that key", s.p.kind, s.p.name, ErrNoSession)
	}
	return s.invalidateKey(ctx, key, func() bool { return slices.Contains(s.ownKeys(), key) })
}

// EndAll ends every session of type T filed under index, the request's own
// included (it is then cleared as by [Clear]), and returns how many it
// ended: what a "log out everywhere" button or a password reset does. It
// ends them as [End] does, also those whose value no longer decodes,
// which a later deploy could otherwise bring back. The empty index ends
// nothing. On a storage error it returns the number ended so far and the
// error, wrapped; the errors described above for an unregistered type or a
// provider without WithIndex.
func EndAll[T any](ctx context.Context, index string) (int, error) {
	s, err := lookup[T](ctx)
	if err != nil {
		return 0, err
	}
	defer s.st.mu.Unlock()
	if s.p.indexer == nil {
		return 0, errNoIndex(&s.p.providerBase)
	}
	if index == "" {
		return 0, nil
	}
	return s.endIndexed(ctx, s.p.indexKey(index), false)
}

// EndOthers ends every session of type T filed under the index of the
// request's own session, except that one, and returns how many it ended:
// "log out all other devices", after a password change for example. The
// index is the one the WithIndex function gives for the session's value
// as it is in this request. It returns [ErrNoSession] when the request has
// no session of type T, and 0 when the value is filed under no index; on
// a storage error the number ended so far and the error, wrapped; and the
// errors described above for an unregistered type or a provider without
// WithIndex.
func EndOthers[T any](ctx context.Context) (int, error) {
	s, err := lookup[T](ctx)
	if err != nil {
		return 0, err
	}
	defer s.st.mu.Unlock()
	if s.p.indexer == nil {
		return 0, errNoIndex(&s.p.providerBase)
	}
	if err := s.current(ctx); err != nil {
		return 0, err
	}
	ik := s.indexKey()
	if ik == "" {
		return 0, nil
	}
	return s.endIndexed(ctx, ik, true)
}

// endIndexed ends the sessions filed under ik, but for those whose value
// maps to another index key, and, with others, but for the request's own.
// When it ends the request's own session, that session is cleared. The
// caller holds the request's lock.
func (s *slot[T]) endIndexed(ctx context.Context, ik string, others bool) (int, error) {
	var keys []string
	err := s.readIndex(ctx, ik, func(f filed[T]) {
		if !f.elsewhere {
			keys = append(keys, f.key)
		}
	})
	if err != nil {
		return 0, fmt.Errorf("sessions: end %s %q: %w", s.p.kind, s.p.name, err)
	}
	own := s.ownKeys()
	n, current := 0, false
	for _, key := range keys {
		mine := slices.Contains(own, key)
		if mine && others {
			continue
		}
		if err = s.p.storage.Invalidate(ctx, key); err != nil {
			err = fmt.Errorf("sessions: end %s %q: %w", s.p.kind, s.p.name, err)
			break
		}
		n++
		current = current || mine
	}
	if current && s.st.phase == phaseOpen {
		s.forgetSession()
		var zero T
		s.value = zero
	}
	return n, err
}

// filed is one entry that ReadIndex yields, decoded as far as it goes.
type filed[T any] struct {
	key     string
	expires time.Time
	entry   Entry
	value   T
	// reason says why the entry is not a session of this provider: it is
	// malformed or its value does not decode. "" when it is one.
	reason string
	// elsewhere is set when the value decodes and the WithIndex function
	// maps it to another index key than the one read: a storage that
	// filed it there is wrong, and nothing is listed or ended on its word.
	elsewhere bool
}

// readIndex reads the entries the storage files under ik and calls each
// with what they hold. The storage's callbacks only collect: each is
// called after ReadIndex returned, so none runs inside a storage call.
func (s *slot[T]) readIndex(ctx context.Context, ik string, each func(filed[T])) error {
	var all []filed[T]
	err := s.p.indexer.ReadIndex(ctx, ik, func(key string, expires time.Time, r io.Reader) error {
		var b strings.Builder
		if _, err := io.Copy(&b, r); err != nil {
			return err
		}
		f := filed[T]{key: key, expires: expires}
		e, err := DecodeEntry(b.String())
		if err != nil {
			f.reason = "malformed entry"
			all = append(all, f)
			return nil
		}
		f.entry = e
		v, err := s.p.serializer.Deserialize(e.Value)
		if err != nil {
			f.reason = "value does not decode"
			all = append(all, f)
			return nil
		}
		f.value = v
		if s.p.indexKey(s.p.indexFn(v)) != ik {
			f.reason, f.elsewhere = "filed under another index key than its value's", true
		}
		all = append(all, f)
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range all {
		each(f)
	}
	return nil
}

func (s *sessionState) listDebug(ctx context.Context, reason string) {
	s.p.log().LogAttrs(ctx, slog.LevelDebug, "sessions: skipping a listed session",
		slog.String("session", s.p.name), slog.String("reason", reason))
}

// ownKeys returns the storage keys of the request's own session: its
// current id's, and those of the ids the request carries, among them the
// one a Renew in this request replaces (stored until the commit ends it)
// and one a Clear in this request has not yet removed from the storage.
func (s *sessionState) ownKeys() []string {
	var own []string
	sv := s.server
	if sv.id != "" {
		own = append(own, sv.keyOf(s.p, sv.id))
	}
	in := s.p.incoming(&s.st.req)
	for raw, ok := in.next(); ok; raw, ok = in.next() {
		if v, reason := s.p.decodeWire(raw); reason == "" {
			if id, _, ok := splitID(v); ok {
				own = append(own, s.p.key(id))
			}
		}
	}
	return own
}

// IndexKeyOf returns the index key under which m files the server-side
// sessions of type T whose [WithIndex] function returns index: for tools
// and tests that read an [Indexer] directly (handlers use [List] and the
// functions beside it, which hash index themselves). The empty index gives
// "", which files under no index key. It returns an error wrapping
// [ErrNotRegistered] when m has no provider of T, and an error when the
// provider has no WithIndex.
func IndexKeyOf[T any](m *Manager, index string) (string, error) {
	i := m.find(typeOf[T]())
	if i < 0 {
		return "", fmt.Errorf("%w: %v", ErrNotRegistered, typeOf[T]())
	}
	p := m.providers[i].base()
	if p.indexer == nil {
		return "", errNoIndex(p)
	}
	return p.indexKey(index), nil
}
