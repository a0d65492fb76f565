package sessions

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// A Manager holds the registered session providers and wraps handlers so
// that they can use them. A Manager is immutable after [New] and safe for
// concurrent use by any number of requests.
type Manager struct {
	providers []Provider
	index     map[reflect.Type]int
	types     []reflect.Type   // types[i] is providers[i]'s session type
	now       func() time.Time // tests move the clock
}

// New registers providers and returns a Manager for them. It returns an
// error, naming the session, when two providers share a session type or a
// name (cookie names exactly, header names case-insensitively), or when a
// provider's configuration is invalid: an empty or malformed name, a
// __Host- or __Secure- cookie whose attributes break the prefix rules,
// SameSite None or Partitioned without Secure, a serializer of another type,
// or a nil storage or transformer.
func New(providers ...Provider) (*Manager, error) {
	m := &Manager{index: make(map[reflect.Type]int, len(providers)), now: time.Now}
	names := make(map[string]bool, len(providers))
	var errs []error
	for _, p := range providers {
		if p == nil {
			errs = append(errs, errors.New("sessions: nil Provider"))
			continue
		}
		b := p.base()
		if b.err != nil {
			errs = append(errs, b.err)
			continue
		}
		if _, dup := m.index[b.typ]; dup {
			errs = append(errs, fmt.Errorf("sessions: type %v is registered twice", b.typ))
			continue
		}
		key := b.kind.String() + ":" + b.name
		if b.kind == headerTransport {
			key = strings.ToLower(key)
		}
		if names[key] {
			errs = append(errs, fmt.Errorf("sessions: %s %q is registered twice", b.kind, b.name))
			continue
		}
		names[key] = true
		m.index[b.typ] = len(m.providers)
		m.types = append(m.types, b.typ)
		m.providers = append(m.providers, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// find returns the index of the provider of session type typ, or -1. A
// Manager has few providers: comparing their types beats hashing one.
func (m *Manager) find(typ reflect.Type) int {
	if len(m.types) > 8 {
		if i, ok := m.index[typ]; ok {
			return i
		}
		return -1
	}
	for i, t := range m.types {
		if t == typ {
			return i
		}
	}
	return -1
}
