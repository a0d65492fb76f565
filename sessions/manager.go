package sessions

import (
	"errors"
	"fmt"
	"net/http"
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

// Handler returns a handler that makes the Manager's sessions available to
// next through the request context ([Get], [Set], [Clear] and the rest) and
// commits the changes before the first byte of the response: when next
// calls WriteHeader (other than for a 1xx status; 101 Switching Protocols
// commits), Write, ReadFrom, Flush or Hijack on the ResponseWriter, or
// returns. The ResponseWriter passed to next
// implements [http.Flusher] and [http.Hijacker] (returning an error when the
// underlying writer cannot), [io.ReaderFrom] and Unwrap, so
// [http.ResponseController] works through it.
//
// Nothing is read from the request or a storage until next asks for a
// session. The commit's storage calls are not cancelled when the client
// goes away (each is bounded by [WithCommitTimeout]), and no old id is
// invalidated until every provider's writes succeeded. A response that sets
// or clears a session carries Vary on its cookie or header and a
// Cache-Control with "private" (a stricter "private" or "no-store" the
// handler set is kept); a response that only read one carries the Vary.
//
// When a commit fails, the failing provider's error handler answers the
// request and what next writes afterwards is discarded. The default error
// handler first removes the headers next set that would turn its plain 500
// into a redirect or describe another body: Location, Refresh,
// Content-Location, the Content-* representation headers, ETag,
// Last-Modified, Accept-Ranges, Age, Expires, Cache-Control (replaced by
// no-store), Trailer and Transfer-Encoding. Other headers stay.
//
// Managers nest: sessions registered with an outer Manager remain available
// to handlers inside an inner one.
func (m *Manager) Handler(next http.Handler) http.Handler {
	// The work is in a method, not in the closure: a closure inlined into
	// the caller's package is compiled there again, and may lose the
	// escape analysis that keeps serve's request copy off the heap.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(next, w, r) })
}

// serve is the Handler of m around next.
func (m *Manager) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	var rw *responseWriter
	if len(m.providers) == 1 {
		// The common one-session Manager allocates the request state
		// and the session's slot in one object.
		rw = m.providers[0].newSoleRequest()
	} else {
		rw = &responseWriter{}
	}
	st := &rw.st
	st.Context, st.m, st.w = r.Context(), m, w
	if len(m.providers) <= len(st.inline) {
		st.slots = st.inline[:len(m.providers)]
	} else {
		st.slots = make([]slotter, len(m.providers))
	}
	// The shallow copy WithContext makes, into the state: the inlined
	// copy stays on the stack, and the request next sees costs no
	// allocation of its own.
	st.req = *r.WithContext(st)
	next.ServeHTTP(rw, &st.req)
	st.commit()
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
