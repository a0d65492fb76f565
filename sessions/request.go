package sessions

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// requestState is the sessions of one request: created by Manager.Handler,
// found through the request context, committed when the response starts.
type requestState struct {
	mu        sync.Mutex
	m         *Manager
	parent    *requestState // the state of an outer Manager, if any
	r         *http.Request
	w         http.ResponseWriter // the underlying writer
	slots     []slotter
	inline    [4]slotter
	committed bool
	failed    bool
}

type stateKey struct{}

// slotter is one provider's session within a request.
type slotter interface {
	// prepare performs the storage side of the pending change and returns
	// what to do to the response headers; it does not touch the headers, so
	// that a failure leaves them as the application set them.
	prepare(ctx context.Context) (headerEdit, error)
	provider() *providerBase
}

// headerEdit is a response header change decided at commit.
type headerEdit struct {
	set   bool   // send value
	clear bool   // tell the client to forget the session
	value string // escaped wire value, with set
}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

// lookup returns the slot of session type T, creating it on first use,
// with the mutex of its request state held: the caller unlocks it.
func lookup[T any](ctx context.Context) (*slot[T], error) {
	typ := typeOf[T]()
	first := stateFrom(ctx)
	for st := first; st != nil; st = st.parent {
		i, ok := st.m.index[typ]
		if !ok {
			continue
		}
		st.mu.Lock()
		if st.slots[i] == nil {
			st.slots[i] = st.m.providers[i].newSlot(st)
		}
		return st.slots[i].(*slot[T]), nil
	}
	if first == nil {
		return nil, fmt.Errorf("%w: %v (the request did not pass through a sessions.Manager's Handler)", ErrNotRegistered, typ)
	}
	return nil, fmt.Errorf("%w: %v", ErrNotRegistered, typ)
}

// commit writes every changed session and sets the response headers. It
// runs once, before the first byte of the response. It reports whether the
// response may go on; when it may not, the error handler has answered.
func (st *requestState) commit() bool {
	st.mu.Lock()
	if st.committed {
		st.mu.Unlock()
		return !st.failed
	}
	st.committed = true
	p, err := st.prepareLocked()
	if err != nil {
		st.failed = true
	}
	st.mu.Unlock()
	if err != nil {
		// Outside the lock: an error handler may call Get or Clear (which
		// then answer ErrTooLate), and must not deadlock doing so.
		st.fail(p, err)
		return false
	}
	return true
}

// prepareLocked performs every slot's storage changes and then edits the
// response headers; on failure it returns the failing provider and touches
// no header.
func (st *requestState) prepareLocked() (*providerBase, error) {
	ctx := st.r.Context()
	for i, p := range st.m.providers {
		if st.slots[i] == nil && p.base().sliding {
			st.slots[i] = p.newSlot(st)
		}
	}
	var edits [len(requestState{}.inline)]headerEdit
	all := edits[:0]
	for _, s := range st.slots {
		if s == nil {
			all = append(all, headerEdit{})
			continue
		}
		e, err := s.prepare(ctx)
		if err != nil {
			return s.provider(), err
		}
		all = append(all, e)
	}
	h := st.w.Header()
	for i, e := range all {
		p := st.m.providers[i].base()
		switch {
		case e.set:
			p.send(h, e.value)
		case e.clear:
			p.sendClear(h)
		}
	}
	return nil, nil
}

// fail answers the request through p's error handler. The headers the
// application set stay; no session header is added.
func (st *requestState) fail(p *providerBase, err error) {
	err = fmt.Errorf("sessions: commit %s %q: %w", p.kind, p.name, err)
	if p.errorHandler != nil {
		p.errorHandler(st.w, st.r, err)
		return
	}
	p.log().ErrorContext(st.r.Context(), "sessions: commit failed",
		slog.String("session", p.name), slog.Any("error", err))
	http.Error(st.w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}

// slot is the state of one typed session within a request.
type slot[T any] struct {
	p  *provider[T]
	st *requestState

	loaded  bool
	present bool  // a valid session exists (loaded, or set in this request)
	loadErr error // a storage failure while loading
	value   T
	raw     string // serialized value as loaded or set
	stale   bool   // the request carried a value that was refused

	id       string // by-id: the current id, when present
	idStored bool   // by-id: id exists in storage (came from the client and was read)

	incomingParsed bool
	incoming       string // the raw value the request carried, unescaped and untransformed
	hadIncoming    bool

	slid       bool     // by-id: the lifetime was moved by Touch; resend wire
	write      bool     // store (by-id) or send (by-value) the current value
	wire       string   // the escaped value to send, built at Set (by-value) or slide (by-id)
	clear      bool     // tell the client to forget the session
	invalidate []string // by-id: ids to remove at commit
}

func (s *slot[T]) provider() *providerBase { return &s.p.providerBase }

func (s *slot[T]) debug(reason string) {
	s.p.log().LogAttrs(s.st.r.Context(), slog.LevelDebug, "sessions: ignoring the session the request carries",
		slog.String("session", s.p.name), slog.String("reason", reason))
}

// parseIncoming reads the value the request carries and reverses the
// transformers. It reads no storage.
func (s *slot[T]) parseIncoming() {
	if s.incomingParsed {
		return
	}
	s.incomingParsed = true
	raw, ok := s.p.readRaw(s.st.r)
	if !ok {
		return
	}
	s.hadIncoming = true
	v, err := unescapeValue(raw)
	if err != nil {
		s.refuse("malformed value")
		return
	}
	for i := len(s.p.transformers) - 1; i >= 0; i-- {
		if v, err = s.p.transformers[i].TransformRead(s.p.name, v); err != nil {
			s.refuse("transformer refused the value")
			return
		}
	}
	s.incoming = v
}

func (s *slot[T]) refuse(reason string) {
	s.stale = true
	s.incoming = ""
	s.debug(reason)
}

// incomingID returns the valid id the request carries, or "".
func (s *slot[T]) incomingID() string {
	s.parseIncoming()
	if s.incoming == "" {
		return ""
	}
	if CheckID(s.incoming) != nil {
		s.refuse("invalid id")
		return ""
	}
	return s.incoming
}

// load decodes the session the request carries, once.
func (s *slot[T]) load() {
	if s.loaded {
		return
	}
	s.loaded = true
	if s.p.storage == nil {
		s.parseIncoming()
		if s.incoming == "" {
			return
		}
		payload, err := splitExpiry(s.incoming, s.st.m.now())
		if err != nil {
			s.refuse("expired or malformed timestamp")
			return
		}
		s.decode(payload)
		return
	}
	id := s.incomingID()
	if id == "" {
		return
	}
	var data string
	err := s.p.storage.Read(s.st.r.Context(), id, func(r io.Reader) error {
		var b strings.Builder
		_, err := io.Copy(&b, r)
		data = b.String()
		return err
	})
	switch {
	case errors.Is(err, ErrNotFound):
		s.refuse("unknown or expired id")
		return
	case err != nil:
		s.loadErr = fmt.Errorf("sessions: load %s %q: %w", s.p.kind, s.p.name, err)
		return
	}
	if s.decode(data) {
		s.id, s.idStored = id, true
	}
}

// current loads the session and reports why there is none: a storage
// failure, or ErrNoSession.
func (s *slot[T]) current() error {
	s.load()
	switch {
	case s.loadErr != nil:
		return s.loadErr
	case !s.present:
		return ErrNoSession
	}
	return nil
}

func (s *slot[T]) decode(data string) bool {
	v, err := s.p.serializer.Deserialize(data)
	if err != nil {
		s.refuse("value does not decode")
		return false
	}
	s.value, s.raw, s.present = v, data, true
	return true
}

func (s *slot[T]) expires() time.Time { return s.st.m.now().Add(s.p.lifetime) }

// wireValue builds what a client-side session sends: the embedded expiry
// and the serialized value, through the transformers.
func (s *slot[T]) wireValue(serialized string) (string, error) {
	return s.p.encodeWire(embedExpiry(s.expires(), serialized))
}

// encodeWire is the write side of the wire format: transformers in order,
// escape, size check. Its reverse is parseIncoming.
func (p *providerBase) encodeWire(v string) (string, error) {
	for _, t := range p.transformers {
		var err error
		if v, err = t.TransformWrite(p.name, v); err != nil {
			return "", fmt.Errorf("sessions: %s %q: transform: %w", p.kind, p.name, err)
		}
	}
	v = escapeValue(v)
	if !p.fits(v) {
		return "", fmt.Errorf("%w: %s %q would be %d bytes, over %d", ErrTooLarge, p.kind, p.name, len(p.name)+len(v), MaxCookieSize)
	}
	return v, nil
}

func (s *slot[T]) newID() (string, error) {
	if s.p.identity == nil {
		return NewID(), nil
	}
	id := s.p.identity(s.st.r)
	if err := CheckID(id); err != nil {
		return "", fmt.Errorf("sessions: %s %q: WithIdentity generator: %w", s.p.kind, s.p.name, err)
	}
	return id, nil
}

func (s *slot[T]) set(v T) error {
	raw, err := s.p.serializer.Serialize(v)
	if err != nil {
		return fmt.Errorf("sessions: %s %q: serialize: %w", s.p.kind, s.p.name, err)
	}
	if s.p.storage == nil {
		wire, err := s.wireValue(raw)
		if err != nil {
			return err
		}
		s.loaded, s.present, s.value, s.raw = true, true, v, raw
		s.write, s.wire, s.clear = true, wire, false
		return nil
	}
	// A server-side session keeps its id across Sets, but only an id the
	// storage knows: a client-chosen id is never adopted.
	s.load()
	if s.loadErr != nil {
		return s.loadErr
	}
	if !s.present {
		id, err := s.newID()
		if err != nil {
			return err
		}
		s.id, s.idStored = id, false
	}
	s.loaded, s.present, s.value, s.raw = true, true, v, raw
	s.write, s.clear = true, false
	return nil
}

func (s *slot[T]) clearSession() {
	if s.p.storage != nil {
		// The id the request carries is removed even when it was never
		// loaded; removing an absent id is harmless.
		if id := s.incomingID(); id != "" {
			s.invalidate = append(s.invalidate, id)
		}
	} else {
		s.parseIncoming()
	}
	var zero T
	s.loaded, s.present, s.value, s.raw = true, false, zero, ""
	s.id, s.idStored = "", false
	s.write, s.wire = false, ""
	s.clear = s.hadIncoming || s.clear
}

func (s *slot[T]) renew() error {
	if err := s.current(); err != nil {
		return err
	}
	if s.p.storage == nil {
		wire, err := s.wireValue(s.raw)
		if err != nil {
			return err
		}
		s.write, s.wire = true, wire
		return nil
	}
	if s.idStored {
		s.invalidate = append(s.invalidate, s.id)
	}
	id, err := s.newID()
	if err != nil {
		return err
	}
	s.id, s.idStored, s.write = id, false, true
	return nil
}

func (s *slot[T]) prepare(ctx context.Context) (headerEdit, error) {
	if s.p.sliding && !s.write && !s.clear {
		s.slide(ctx)
	}
	if s.p.storage == nil {
		switch {
		case s.write:
			return headerEdit{set: true, value: s.wire}, nil
		case s.clear || s.stale:
			return headerEdit{clear: true}, nil
		}
		return headerEdit{}, nil
	}
	var e headerEdit
	if s.write {
		wire, err := s.p.encodeWire(s.id)
		if err != nil {
			return e, err
		}
		raw := s.raw
		err = s.p.storage.Write(ctx, s.id, s.expires(), func(w io.Writer) error {
			_, err := io.WriteString(w, raw)
			return err
		})
		if err != nil {
			return e, err
		}
		e = headerEdit{set: true, value: wire}
	} else if s.slid {
		e = headerEdit{set: true, value: s.wire}
	} else if s.clear || s.stale {
		e = headerEdit{clear: true}
	}
	// Old ids go after the new one is written: if the write fails, the user
	// keeps the session they had.
	for _, id := range s.invalidate {
		if err := s.p.storage.Invalidate(ctx, id); err != nil {
			return headerEdit{}, err
		}
	}
	return e, nil
}

// slide renews the lifetime of a session the handler did not change.
// Failures are logged and otherwise ignored: the request did not ask for a
// session change, so it does not fail for one.
func (s *slot[T]) slide(ctx context.Context) {
	if t, ok := s.p.storage.(Toucher); ok && !s.loaded {
		id := s.incomingID()
		if id == "" {
			return
		}
		switch err := t.Touch(ctx, id, s.expires()); {
		case errors.Is(err, ErrNotFound):
			s.refuse("unknown or expired id")
		case err != nil:
			s.slideFailed(err)
		default:
			wire, err := s.p.encodeWire(id)
			if err != nil {
				s.slideFailed(err)
				return
			}
			s.wire, s.slid = wire, true
		}
		return
	}
	s.load()
	if s.loadErr != nil {
		s.slideFailed(s.loadErr)
		return
	}
	if !s.present {
		return
	}
	if s.p.storage == nil {
		wire, err := s.wireValue(s.raw)
		if err != nil {
			s.slideFailed(err)
			return
		}
		s.write, s.wire = true, wire
		return
	}
	// Without Toucher the entry is rewritten with the data just read.
	s.write = true
}

func (s *slot[T]) slideFailed(err error) {
	s.p.log().LogAttrs(s.st.r.Context(), slog.LevelWarn, "sessions: sliding expiry failed",
		slog.String("session", s.p.name), slog.Any("error", err))
}
