package sessions

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"time"
)

// WithIndex files every session of the provider under an index key made
// from what key returns for its value, typically the user id of a login
// session, so that handlers can list a user's sessions ([List]) and end
// them ([End], [EndAll], [EndOthers]) without scanning the storage. T must
// be the provider's session type, and the provider must be server-side
// ([WithStorage]) over a storage that implements [Indexer] (every backend
// of this repository does); [New] returns an error otherwise, naming the
// two types or the storage.
//
// Every write of the session files it under the index key of the value it
// writes, in the same storage call: a new session is created under it, a
// changed one moves to it when key returns something else than before (a
// login on an anonymous session, a switch of user), and a session that
// slides ([WithIdleTimeout]) is rewritten with it rather than touched, so
// that its LastSeen moves too. A session that ends (cleared, renewed away,
// invalidated, expired) leaves its index key; the storage guarantees it is
// never listed again. A value for which key returns "" is filed under no
// index key and listed by none.
//
// The storage never sees what key returns: the index key is a SHA-256 of
// the provider's transport and name and of key's result, 43 characters of
// the id alphabet, as storage keys are ([IndexKeyOf] computes one). key
// must be a cheap, pure function of the value, safe for concurrent use: it
// runs when the session is committed (and, with [WithMaxSessions], when a
// stored session is changed), with the request's sessions locked, as the
// serializer does. It is given only the value, and must not reach the
// request's sessions by other means, which would deadlock.
func WithIndex[T any](key func(T) string) Option {
	return func(c *config) { c.index, c.indexSet = key, true }
}

// WithMaxSessions caps the sessions of one index key ([WithIndex]) at n,
// after Spring Security's maximumSessions. When a session joins an index
// key (it is created under it, by a Set or a Renew, or a change moves it
// there from another), the commit reads that index key once every
// provider's writes have succeeded, and ends the oldest of the other
// sessions there, by creation time, until n remain with the joining one.
// The joining session is never the one ended, even when it was created
// earlier than others. Sessions that stay under their index key (a Set
// that keeps the user, a slide) trigger nothing.
//
// Ending is [Storage.Invalidate]: those devices find no session on their
// next request, and a request of theirs in flight cannot write it back. A
// failure to read the index key or to end a session is logged at error
// level and does not fail the request: its own session is written by
// then. Concurrent logins under one index key each read it after their
// own write, so the last to commit sees all the others: the cap holds
// once they have all committed, while for a moment more than n may live.
//
// n = 0 means no cap, the default. [New] refuses a negative n, and the
// option on a provider without WithIndex.
func WithMaxSessions(n int) Option {
	return func(c *config) { c.maxSessions, c.maxSet = n, true }
}

// setIndex checks the provider's WithIndex and WithMaxSessions and takes
// them: the key func of the provider's own type, and the storage's Indexer.
func (p *provider[T]) setIndex(c config) error {
	if c.maxSet {
		switch {
		case c.maxSessions < 0:
			return fmt.Errorf("WithMaxSessions(%d): the cap must be positive, or 0 for none", c.maxSessions)
		case !c.indexSet:
			return errors.New("WithMaxSessions caps the sessions of an index key: it needs WithIndex")
		}
	}
	if !c.indexSet {
		return nil
	}
	if c.storage == nil {
		return errors.New("WithIndex needs a server-side session (WithStorage): a client-side session is kept in no storage that could list it")
	}
	key, ok := c.index.(func(T) string)
	if !ok {
		// WithIndex is the only setter: c.index is a func(X) string.
		return fmt.Errorf("WithIndex given a func(%v) string, but the session type is %v", reflect.TypeOf(c.index).In(0), p.typ)
	}
	if key == nil {
		return errors.New("WithIndex given a nil func")
	}
	ix := CapabilitiesOf(c.storage).Indexer
	if ix == nil {
		return fmt.Errorf("WithIndex: the storage %s lacks sessions.Indexer, the capability that files a user's sessions and lists them", storageName(c.storage))
	}
	p.indexFn, p.indexer, p.indexPrefix, p.maxSessions = key, ix, indexPrefix(p.kind, p.name), c.maxSessions
	return nil
}

// storageName names the type of s for an error, and the types it wraps
// (see [Compose]'s Unwrap), whose names say more than a composed type's.
func storageName(s Storage) string {
	name := fmt.Sprintf("%T", s)
	for range 4 {
		u, ok := s.(interface{ Unwrap() Storage })
		if !ok {
			break
		}
		if s = u.Unwrap(); s == nil {
			break
		}
		name += fmt.Sprintf(" over %T", s)
	}
	return name
}

// indexKey returns the index key of the slot's current value.
func (s *slot[T]) indexKey() string { return s.p.indexKey(s.p.indexFn(s.value)) }

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

func errNoIndex(p *providerBase) error {
	return fmt.Errorf("sessions: %s %q has no index: register it with WithIndex", p.kind, p.name)
}

// writeIndexed is write for a provider with WithIndex: a new id is created
// under the value's index key, a stored one is replaced with it (moving it
// when the key changed), and either way the filing travels with the write.
// It notes when the session joined an index key, for WithMaxSessions.
func (sv *serverSide) writeIndexed(ctx context.Context, s *session, key string, expires time.Time, content func(io.Writer) error) error {
	ix := s.p.indexer
	if sv.stored {
		err := ix.ReplaceIndexed(ctx, key, sv.index, expires, content)
		if errors.Is(err, ErrNotFound) {
			return errEnded
		}
		// A slide keeps the value and so its index key; only a change can
		// move the session.
		if err == nil && s.p.maxSessions > 0 && s.change == write && sv.index != "" && sv.index != sv.fromIndex {
			sv.joined = true
		}
		return err
	}
	err := ix.CreateIndexed(ctx, key, sv.index, expires, content)
	if err == nil && s.p.maxSessions > 0 && sv.index != "" {
		sv.joined = true
	}
	return err
}

// enforceCap ends the oldest sessions of the index key the session joined
// beyond WithMaxSessions, itself excepted. It runs in the commit's finish
// step, after every provider's writes succeeded; failures are logged, not
// returned: the session itself is written.
func (sv *serverSide) enforceCap(ctx context.Context, s *session) {
	type other struct {
		key     string
		created int64
	}
	own := sv.keyOf(s.p, sv.id)
	var others []other
	// The listing is collected first and acted on after: a storage need
	// not accept calls from inside its own ReadIndex.
	err := s.p.indexer.ReadIndex(ctx, sv.index, func(key string, _ time.Time, r io.Reader) error {
		if key == own {
			return nil
		}
		// The creation time leads the entry: "<created>.<lastseen>.".
		var head [16]byte
		n, err := io.ReadFull(r, head[:])
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return err
		}
		if created, _, ok := cutUnix(string(head[:n])); ok {
			others = append(others, other{key, created})
		}
		return nil
	})
	if err != nil {
		s.capFailed(err)
		return
	}
	excess := len(others) + 1 - s.p.maxSessions
	if excess <= 0 {
		return
	}
	slices.SortFunc(others, func(a, b other) int {
		return cmp.Or(cmp.Compare(a.created, b.created), strings.Compare(a.key, b.key))
	})
	for _, o := range others[:excess] {
		if err := s.p.storage.Invalidate(ctx, o.key); err != nil {
			s.capFailed(err)
			return
		}
	}
}

func (s *session) capFailed(err error) {
	s.p.log().LogAttrs(s.st.req.Context(), slog.LevelError, "sessions: ending the sessions over WithMaxSessions failed; the request's own session is written",
		slog.String("session", s.p.name), slog.Any("error", err))
}
