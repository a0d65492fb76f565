package sessions

import (
	"errors"
	"fmt"
	"reflect"
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
	p.indexFn, p.indexer, p.indexPrefix, p.maxSessions = key, ix, indexKeyPrefix(p.kind, p.name), c.maxSessions
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

func errNoIndex(p *providerBase) error {
	return fmt.Errorf("sessions: %s %q has no index: register it with WithIndex", p.kind, p.name)
}
