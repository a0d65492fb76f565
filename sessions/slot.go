package sessions

import (
	"context"
	"fmt"
)

// slot is one typed session within a request: the session state plus its
// decoded value.
type slot[T any] struct {
	sessionState
	p     *provider[T]
	value T // when present
}

func (s *slot[T]) core() *sessionState { return &s.sessionState }

// decode makes data the slot's value. It runs only while the session is
// unloaded, when the value is the zero T, as decoding in place needs.
func (s *slot[T]) decode(data string) bool {
	if into := s.p.deserializeInto; into != nil {
		return into(data, &s.value) == nil
	}
	v, err := s.p.serializer.Deserialize(data)
	if err != nil {
		return false
	}
	s.value = v
	return true
}

// current loads the session and reports why there is none: a storage
// failure, or ErrNoSession.
func (s *slot[T]) current(ctx context.Context) error {
	if err := s.load(ctx, s); err != nil {
		return err
	}
	if s.presence != sessionPresent {
		return ErrNoSession
	}
	return nil
}

func (s *slot[T]) serialize(v T) (string, error) {
	raw, err := s.p.serializer.Serialize(v)
	if err != nil {
		return "", fmt.Errorf("sessions: %s %q: serialize: %w", s.p.kind, s.p.name, err)
	}
	return raw, nil
}

// newID makes an id with the provider's generator. It is called without
// the request's lock held: a generator may read other sessions.
func (p *providerBase) newID(st *exchange) (string, error) {
	if p.identity == nil {
		return NewID(), nil
	}
	id := p.identity(&st.req)
	if err := CheckID(id); err != nil {
		return "", fmt.Errorf("sessions: %s %q: WithIdentity generator: %w", p.kind, p.name, err)
	}
	return id, nil
}

// newIDUnlocked runs the provider's id generator without the request's
// lock, which a generator that reads other sessions would otherwise
// deadlock on. The lock is held again on return; a commit that happened
// meanwhile makes it ErrTooLate.
func (s *sessionState) newIDUnlocked() (string, error) {
	s.st.mu.Unlock()
	id, err := s.p.newID(s.st)
	s.st.mu.Lock()
	if err == nil && s.st.phase != phaseOpen {
		err = ErrTooLate
	}
	return id, err
}

// set makes v (serialized as raw) the session, with the request's lock
// held on entry and on return. With ifAbsent it keeps a session that is
// present and returns it instead: GetOrSet. The state is checked again
// after the id generator ran without the lock.
func (s *slot[T]) set(ctx context.Context, v T, raw string, ifAbsent bool) (T, error) {
	var zero T
	if s.st.phase != phaseOpen {
		return zero, ErrTooLate
	}
	if err := s.load(ctx, s); err != nil {
		return zero, err
	}
	if ifAbsent && s.presence == sessionPresent {
		return s.value, nil
	}
	if s.keep().needsID(&s.sessionState, false) {
		id, err := s.newIDUnlocked()
		if err != nil {
			return zero, err
		}
		if ifAbsent && s.presence == sessionPresent {
			return s.value, nil // another goroutine set it meanwhile
		}
		if s.keep().needsID(&s.sessionState, false) {
			s.keep().adopt(&s.sessionState, id, false)
		}
	}
	now := s.st.unix()
	t := times{created: now, touched: now}
	if s.presence == sessionPresent {
		t.created = s.t.created // activity never extends the lifetime
	}
	// Only these fields change before prepare; they are restored by hand
	// rather than by copying the whole session.
	prevPresence, prevRaw, prevT := s.presence, s.raw, s.t
	s.presence, s.raw, s.t = sessionPresent, raw, t
	if err := s.keep().prepare(&s.sessionState); err != nil {
		s.presence, s.raw, s.t = prevPresence, prevRaw, prevT
		return zero, err
	}
	if s.p.maxSessions > 0 && s.server.stored && !s.server.fromKnown { // maxSessions: server-side
		// The index key of the value as stored, before this change: the
		// commit compares it with the new value's to tell whether the
		// session joins another index key (WithMaxSessions).
		s.server.fromIndex, s.server.fromKnown = s.indexKey(), true
	}
	s.value, s.change = v, changeWrite
	return v, nil
}

// renew gives the session a new identity and a fresh lifetime, with the
// lock held on entry and on return.
func (s *slot[T]) renew(ctx context.Context) error {
	if err := s.current(ctx); err != nil {
		return err
	}
	var id string
	if s.keep().needsID(&s.sessionState, true) {
		var err error
		if id, err = s.newIDUnlocked(); err != nil {
			return err
		}
		if s.presence != sessionPresent {
			return ErrNoSession // cleared meanwhile
		}
	}
	now := s.st.unix()
	prevT := s.t
	var prevID, prevFrom string
	var prevStored bool
	if sv := s.server; sv != nil {
		// What adopt changes, restored by hand if prepare refuses.
		prevID, prevStored = sv.id, sv.stored
		if sv.ends != nil {
			prevFrom = sv.ends.renewedFrom
		}
	}
	s.t = times{created: now, touched: now}
	s.keep().adopt(&s.sessionState, id, true)
	if err := s.keep().prepare(&s.sessionState); err != nil {
		s.t = prevT
		if sv := s.server; sv != nil {
			sv.id, sv.stored = prevID, prevStored
			if sv.ends != nil {
				sv.ends.renewedFrom = prevFrom
			}
		}
		return err
	}
	s.change = changeWrite
	return nil
}

// indexKey returns the index key of the slot's current value.
func (s *slot[T]) indexKey() string { return s.p.indexKey(s.p.indexFn(s.value)) }

// slotter is one provider's session within a request: a *slot[T].
type slotter interface {
	core() *sessionState
	decoder
}

// newSlot allocates a slot of p for the request st: with its server-side
// part in the same allocation when p has a storage.
func (p *provider[T]) newSlot(st *exchange) slotter {
	var s *slot[T]
	if p.storage == nil {
		s = &slot[T]{p: p}
	} else {
		both := &struct {
			slot   slot[T]
			server serverSide
		}{}
		s = &both.slot
		s.p, s.server = p, &both.server
	}
	s.init(&p.providerBase, st)
	return s
}
