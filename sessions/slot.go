package sessions

import (
	"context"
	"fmt"
)

// slot is one typed session within a request: the session state plus its
// decoded value.
type slot[T any] struct {
	session
	p     *provider[T]
	value T // when present
}

func (s *slot[T]) core() *session { return &s.session }

func (s *slot[T]) decode(data string) bool {
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
	if s.presence != present {
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
func (p *providerBase) newID(st *requestState) (string, error) {
	if p.identity == nil {
		return NewID(), nil
	}
	id := p.identity(st.r)
	if err := CheckID(id); err != nil {
		return "", fmt.Errorf("sessions: %s %q: WithIdentity generator: %w", p.kind, p.name, err)
	}
	return id, nil
}

// needsID reports whether a server-side session must get a new id before
// it can take a value.
func (s *slot[T]) needsID() bool {
	return s.p.storage != nil && (s.presence != present || s.server.id == "")
}

// set makes v (serialized as raw) the session, with the request's lock
// held on entry and on return. With ifAbsent it keeps a session that is
// present and returns it instead: GetOrSet. The lock is released while
// the id generator runs; the state is checked again afterwards.
func (s *slot[T]) set(ctx context.Context, v T, raw string, ifAbsent bool) (T, error) {
	var zero T
	for {
		if s.st.phase != open {
			return zero, ErrTooLate
		}
		if err := s.load(ctx, s); err != nil {
			return zero, err
		}
		if ifAbsent && s.presence == present {
			return s.value, nil
		}
		if !s.needsID() {
			break
		}
		s.st.mu.Unlock()
		id, err := s.p.newID(s.st)
		s.st.mu.Lock()
		if err != nil {
			return zero, err
		}
		if s.st.phase != open {
			return zero, ErrTooLate
		}
		if ifAbsent && s.presence == present {
			return s.value, nil // another goroutine set it meanwhile
		}
		if s.needsID() {
			// A server-side session keeps its id across Sets, but only an
			// id the storage knows: a client-chosen id is never adopted.
			s.server.id, s.server.stored = id, false
		}
		break
	}
	now := s.st.unix()
	t := times{created: now, touched: now}
	if s.presence == present {
		t.created = s.t.created // activity never extends the lifetime
	}
	prev := s.session
	s.presence, s.raw, s.t = present, raw, t
	if s.p.storage == nil {
		if err := s.client.encode(&s.session); err != nil {
			s.session = prev
			return zero, err
		}
	} else if _, err := s.server.wire(&s.session); err != nil {
		s.session = prev
		return zero, err
	}
	s.value, s.change = v, write
	return v, nil
}

// renew gives the session a new identity and a fresh lifetime, with the
// lock held on entry and on return.
func (s *slot[T]) renew(ctx context.Context) error {
	if err := s.current(ctx); err != nil {
		return err
	}
	var id string
	if s.p.storage != nil {
		s.st.mu.Unlock()
		var err error
		id, err = s.p.newID(s.st)
		s.st.mu.Lock()
		if err != nil {
			return err
		}
		if s.st.phase != open {
			return ErrTooLate
		}
		if s.presence != present {
			return ErrNoSession // cleared meanwhile
		}
	}
	now := s.st.unix()
	prev := s.session
	s.t = times{created: now, touched: now}
	if s.p.storage == nil {
		if err := s.client.encode(&s.session); err != nil {
			s.session = prev
			return err
		}
		s.change = write
		return nil
	}
	if s.server.stored {
		s.server.invalidate = append(s.server.invalidate, s.server.id)
	}
	s.server.id, s.server.stored = id, false
	if _, err := s.server.wire(&s.session); err != nil {
		s.session = prev
		return err
	}
	s.change = write
	return nil
}
