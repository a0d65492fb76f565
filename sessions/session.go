package sessions

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// sessionState is the state of one provider's session within a request,
// apart from its typed value (slot[T] adds that). Its life is a small
// state machine:
//
//   - presence says what is known of the session: unloaded until a handler
//     asks (loading is lazy), then absent or present;
//   - change is the pending change the commit carries out: nothing, move
//     the idle expiry, write the current value, or make the client forget
//     the session;
//   - keep is where the value lives between requests, clientSide or
//     serverSide, which each know their own wire form and storage work.
//
// Every field is guarded by the request's mutex. The session is allocated
// with the request state (a one-session Manager) or with its slot, on
// every request: it holds only what every session needs, and a pointer to
// the server-side part, which only a server-side session has.
type sessionState struct {
	p  *providerBase
	st *exchange

	presence presence
	change   pending
	stale    bool   // the request carried only refused values: clear them
	ended    bool   // the commit found the session ended meanwhile: dropped, cleared, reported
	read     bool   // the response depends on what the request carried
	raw      string // the serialized value, when present
	t        times  // when present

	client clientSide
	server *serverSide // a server-side session's, allocated with its slot; nil for a client-side one
}

// keep returns where the session's value lives: the server-side part,
// when the session has one.
func (s *sessionState) keep() keeping {
	if s.server != nil {
		return s.server
	}
	return &s.client
}

// storageCtx returns the context of the commit's storage calls of a
// server-side session: the request's context without its cancellation,
// bounded by the provider's commit timeout from the first call on. It is
// made only when the commit has storage work: a client-side commit, or
// one that only read its session, needs none. WithoutCancel also keeps the
// request's cancellation out of context.Cause and of the contexts a
// storage derives.
func (s *sessionState) storageCtx() context.Context {
	dl := &s.server.dl
	if dl.parent == nil {
		dl.start(context.WithoutCancel(s.st.req.Context()), s.p.commitTO)
	}
	return dl
}

// presence is what is known of the session.
type presence uint8

const (
	sessionUnloaded presence = iota // nothing read yet
	sessionAbsent                   // no valid session
	sessionPresent                  // raw, t (and the typed value) hold the session
)

// pending is the change the commit makes.
type pending uint8

const (
	changeNone    pending = iota // nothing, unless an idle timeout is due
	changeRefresh                // move the idle expiry of an unchanged session
	changeWrite                  // store or send the current value
	changeForget                 // tell the client to forget the session
)

// keeping is the part of a session that depends on where its value lives.
type keeping interface {
	// open turns one value the client sent, its transformers reversed,
	// into the session's serialized value and times. A refused value
	// gives a reason for the debug log; only a storage failure is an error.
	phaseOpen(ctx context.Context, s *sessionState, v string) (opened, string, error)
	// peek returns the times v claims, without a storage call, to decide
	// whether an idle timeout is due.
	peek(v string) (times, bool)
	// needsID reports whether the session needs a new id before it takes
	// a value (renewing: before it is renewed); adopt gives it that id.
	needsID(s *sessionState, renewing bool) bool
	adopt(s *sessionState, id string, renewing bool)
	// forget queues what a Clear must undo at commit.
	forget(s *sessionState)
	// prepare builds what a write will send, so that a value over its
	// bound is refused by Set and Renew, not at commit.
	prepare(s *sessionState) error
	// stage performs the commit's storage writes and returns the header
	// edit; finish then performs its invalidations, and reports whether it
	// found the session ended, in which case nothing is to be sent for it.
	stage(s *sessionState) (headerEdit, error)
	finish(s *sessionState) (ended bool, err error)
}

// opened is a value open accepted.
type opened struct {
	data string
	t    times
	id   string // server-side: the id it was read under
}

// decoder turns a serialized value into the slot's typed value, and gives
// the index key of that value ([WithIndex]); slot[T] implements it, so that
// the loading and commit logic needs no type parameter.
type decoder interface {
	decode(data string) bool
	indexKey() string
}

// init makes s a session of provider p in the request st. The caller has
// set s.server for a provider with a storage.
func (s *sessionState) init(p *providerBase, st *exchange) {
	s.p, s.st = p, st
}

func (s *sessionState) debug(reason string) {
	s.p.log().LogAttrs(s.st.req.Context(), slog.LevelDebug, "sessions: ignoring the session the request carries",
		slog.String("session", s.p.name), slog.String("reason", reason))
}

// load finds the session the request carries, once: it tries every value
// the request carries for the provider, in order, and takes the first that
// verifies, exists and decodes, so that a cookie tossed from a sibling
// domain or a deeper path does not hide the real one. Only when none does
// is the request's value stale (cleared in the response). A storage
// failure is returned and not remembered, so that a later call, perhaps
// with a longer deadline, tries again.
func (s *sessionState) load(ctx context.Context, d decoder) error {
	if s.presence != sessionUnloaded {
		return nil
	}
	s.read = true
	refused := false
	in := s.p.incoming(&s.st.req)
	for raw, ok := in.next(); ok; raw, ok = in.next() {
		v, reason := s.p.decodeWire(raw)
		if reason == "" {
			var o opened
			var err error
			if o, reason, err = s.keep().phaseOpen(ctx, s, v); err != nil {
				return fmt.Errorf("sessions: load %s %q: %w", s.p.kind, s.p.name, err)
			}
			if reason == "" {
				if d.decode(o.data) {
					s.presence, s.raw, s.t = sessionPresent, o.data, o.t
					if sv := s.server; sv != nil {
						sv.id, sv.stored = o.id, o.id != ""
					}
					s.stale = false
					return nil
				}
				reason = "value does not decode"
			}
		}
		refused = true
		s.debug(reason)
	}
	s.presence = sessionAbsent
	s.stale = s.stale || refused
	return nil
}

// peek returns the times of the first value the request carries that
// verifies, without a storage call.
func (s *sessionState) peek() (times, bool) {
	s.read = true
	in := s.p.incoming(&s.st.req)
	for raw, ok := in.next(); ok; raw, ok = in.next() {
		if v, reason := s.p.decodeWire(raw); reason == "" {
			if t, ok := s.keep().peek(v); ok {
				return t, true
			}
		}
	}
	return times{}, false
}

// end returns when a session of times t ends: its lifetime after its
// creation, or its idle timeout after its last activity, whichever is
// first.
func (p *providerBase) end(t times) int64 {
	e := t.created + p.lifetime
	if p.idle > 0 {
		e = min(e, t.touched+p.idle)
	}
	return e
}

// due reports whether a request at now should move the idle expiry of a
// session of times t: when less than half of the idle window remains and
// moving it gains something (it never passes the lifetime). A burst of
// requests therefore moves it once.
func (p *providerBase) due(t times, now int64) bool {
	if p.idle == 0 {
		return false
	}
	end := p.end(t)
	return p.end(times{t.created, now}) > end && 2*(end-now) < p.idle
}

// stage runs the idle timeout of an unchanged session, then the keeping's
// storage work.
func (s *sessionState) stage(d decoder) (headerEdit, error) {
	if s.change == changeNone && s.p.idle > 0 && s.presence != sessionAbsent {
		s.maybeRefresh(d)
	}
	if s.change == changeNone && !s.stale {
		return headerEdit{}, nil
	}
	if s.p.indexer != nil && (s.change == changeWrite || s.change == changeRefresh) {
		// The value is final: what is written is filed under its index key.
		s.server.index = d.indexKey()
	}
	return s.keep().stage(s)
}

// finish performs the commit's invalidations, after every provider's
// writes succeeded. It reports whether the session turned out to have
// ended, and marks it so.
func (s *sessionState) finish() (bool, error) {
	ended, err := s.keep().finish(s)
	if ended {
		s.ended = true
	}
	return ended, err
}

func (s *sessionState) maybeRefresh(d decoder) {
	now := s.st.unix()
	if s.presence == sessionUnloaded {
		// The times the request claims decide, without a storage call,
		// whether anything is due; only then is the session read.
		t, ok := s.peek()
		if !ok || !s.p.due(t, now) {
			return
		}
		// Only a server-side session reads a storage, under the
		// commit's deadline.
		ctx := s.st.req.Context()
		if s.server != nil {
			ctx = s.storageCtx()
		}
		if err := s.load(ctx, d); err != nil {
			s.refreshFailed(err)
			return
		}
	}
	if s.presence == sessionPresent && s.p.due(s.t, now) {
		s.change = changeRefresh
	}
}

func (s *sessionState) refreshFailed(err error) {
	s.p.log().LogAttrs(s.st.req.Context(), slog.LevelWarn, "sessions: moving the idle timeout failed",
		slog.String("session", s.p.name), slog.Any("error", err))
}

// valueEdit is the header edit that sends wire for the session's times.
func (s *sessionState) valueEdit(wire string) headerEdit {
	return headerEdit{op: sendValue, value: wire, maxAge: s.maxAge()}
}

// maxAge is how many seconds the session has left, which its cookie lives.
func (s *sessionState) maxAge() int64 { return s.p.end(s.t) - s.st.unix() }

// forgetSession ends the session in this request: nothing is sent for it
// and, server-side, the ids it had are invalidated at commit.
func (s *sessionState) forgetSession() {
	s.read = true // what is sent depends on what the request carried
	s.keep().forget(s)
	if s.change != changeNone || s.st.carries(s.p) {
		s.change = changeForget
	}
	s.presence, s.raw, s.t = sessionAbsent, "", times{}
	if sv := s.server; sv != nil {
		sv.id, sv.stored = "", false
	}
}

// clientSide keeps the whole value in the cookie or header: the times and
// the serialized value, through the transformers.
type clientSide struct {
	// sent is what a write sends, built at Set or Renew so that
	// ErrTooLarge reaches the caller: the escaped value, or, for a
	// provider that sends lines (encodeTimes), the whole Set-Cookie line
	// that carries it.
	sent string
}

func (*clientSide) phaseOpen(_ context.Context, s *sessionState, v string) (opened, string, error) {
	t, data, ok := cutTimes(v)
	if !ok {
		return opened{}, "malformed timestamp", nil
	}
	if s.st.unix() >= s.p.end(t) {
		return opened{}, "expired", nil
	}
	return opened{data: data, t: t}, "", nil
}

func (*clientSide) peek(v string) (times, bool) {
	t, _, ok := cutTimes(v)
	return t, ok
}

func (*clientSide) needsID(*sessionState, bool) bool  { return false }
func (*clientSide) adopt(*sessionState, string, bool) {}
func (*clientSide) forget(*sessionState)              {}
func (c *clientSide) prepare(s *sessionState) error   { return c.encode(s) }

// encode builds the wire value of the session's current times and value,
// and with it, when it can, the line that sends it: the cookie's Max-Age
// is already known, as the request's clock and the times are fixed until
// the next encode.
func (c *clientSide) encode(s *sessionState) error {
	sent, err := s.p.encodeTimes(s.t, s.raw, s.maxAge())
	if err != nil {
		return err
	}
	c.sent = sent
	return nil
}

// edit is the header edit that sends the encoded value.
func (c *clientSide) edit(s *sessionState) headerEdit {
	if s.p.sendsLines() {
		return headerEdit{op: sendValue, line: c.sent}
	}
	return s.valueEdit(c.sent)
}

func (c *clientSide) stage(s *sessionState) (headerEdit, error) {
	switch s.change {
	case changeWrite:
		return c.edit(s), nil
	case changeRefresh:
		s.t.touched = s.st.unix()
		if err := c.encode(s); err != nil {
			s.refreshFailed(err)
			return headerEdit{}, nil
		}
		return c.edit(s), nil
	}
	// forget, or a stale value
	return headerEdit{op: sendClear}, nil
}

func (*clientSide) finish(*sessionState) (bool, error) { return false, nil }

// serverSide keeps the value in the provider's storage under an id; only
// the id travels (with the session's times as a hint when it has an idle
// timeout).
type serverSide struct {
	id         string // the current id, when present
	stored     bool   // id exists in the storage: the request carried it and it was read
	keyID, key string // the last id hashed into a storage key, and its key

	// With WithIndex: the index key the commit files the session under;
	// with WithMaxSessions also the index key of the value as stored
	// before the request changed it (fromKnown: computed), and whether the
	// commit's write made the session join an index key.
	index, fromIndex  string
	fromKnown, joined bool

	ends *serverEnds    // what a Clear or Renew left to end; nil until one does
	dl   commitDeadline // the context of the commit's storage calls
}

// serverEnds are the ids a commit ends once every provider's writes
// succeeded: only a Clear or a Renew (a logout, a login) makes any, so
// they are allocated then, not with every request's state.
type serverEnds struct {
	renewedFrom string   // the stored id a Renew replaced: ended at commit, only if still live
	invalidate  []string // ids to remove
}

// endsOf returns sv's ends, allocating them on first use.
func (sv *serverSide) endsOf() *serverEnds {
	if sv.ends == nil {
		sv.ends = new(serverEnds)
	}
	return sv.ends
}

// keyOf returns the storage key of id. A request usually reads and then
// writes one id: the hash is computed once for both.
func (sv *serverSide) keyOf(p *providerBase, id string) string {
	if id != sv.keyID || sv.key == "" {
		sv.keyID, sv.key = id, p.key(id)
	}
	return sv.key
}

// splitID splits what a server-side session carries into its id and the
// times it claims; without an idle timeout, or from an older cookie, there
// are no times.
func splitID(v string) (string, times, bool) {
	id, rest, hinted := strings.Cut(v, ".")
	if CheckID(id) != nil {
		return "", times{}, false
	}
	if !hinted {
		return id, times{}, true
	}
	c, rest, ok := cutUnix(rest)
	if !ok {
		return "", times{}, false
	}
	u, ok := parseUnix(rest)
	if !ok {
		return "", times{}, false
	}
	return id, times{c, u}, true
}

func (*serverSide) peek(v string) (times, bool) {
	_, t, ok := splitID(v)
	return t, ok
}

func (*serverSide) phaseOpen(ctx context.Context, s *sessionState, v string) (opened, string, error) {
	id, hint, ok := splitID(v)
	if !ok {
		return opened{}, "invalid id", nil
	}
	data, err := s.server.read(ctx, s, s.server.keyOf(s.p, id))
	switch {
	case errors.Is(err, ErrNotFound):
		return opened{}, "unknown or expired id", nil
	case err != nil:
		return opened{}, "", err
	}
	e, err := DecodeEntry(data)
	if err != nil {
		return opened{}, "malformed entry", nil
	}
	// The storage enforces the expiry it was given; the creation time
	// enforces the lifetime as configured now. The activity time is only
	// the client's hint, used to decide when to move the expiry.
	t := times{created: e.Created.Unix(), touched: hint.touched}
	if s.st.unix() >= t.created+s.p.lifetime {
		return opened{}, "expired", nil
	}
	return opened{data: e.Value, t: t, id: id}, "", nil
}

// forget queues the ids of the session for invalidation: the one that
// was read, or, when nothing was read, every id the request carries
// (removing an absent id is harmless, and a logout must not depend on
// which of several same-name cookies is real).
func (sv *serverSide) forget(s *sessionState) {
	if s.presence == sessionUnloaded {
		in := s.p.incoming(&s.st.req)
		for raw, ok := in.next(); ok; raw, ok = in.next() {
			if v, reason := s.p.decodeWire(raw); reason == "" {
				if id, _, ok := splitID(v); ok {
					e := sv.endsOf()
					e.invalidate = append(e.invalidate, id)
				}
			}
		}
		return
	}
	if sv.stored {
		e := sv.endsOf()
		e.invalidate = append(e.invalidate, sv.id)
	}
	if e := sv.ends; e != nil && e.renewedFrom != "" {
		e.invalidate = append(e.invalidate, e.renewedFrom)
		e.renewedFrom = ""
	}
}

// needsID: a server-side session keeps its id across Sets, but only an id
// the storage knows, so a client-chosen id is never adopted; Renew always
// makes a new one.
func (sv *serverSide) needsID(s *sessionState, renewing bool) bool {
	return renewing || s.presence != sessionPresent || sv.id == ""
}

func (sv *serverSide) adopt(_ *sessionState, id string, renewing bool) {
	if renewing && sv.stored {
		sv.endsOf().renewedFrom = sv.id
	}
	sv.id, sv.stored = id, false
}

func (sv *serverSide) prepare(s *sessionState) error {
	_, err := sv.wire(s)
	return err
}

// wire builds what travels for the current id.
func (sv *serverSide) wire(s *sessionState) (string, error) {
	if s.p.idle == 0 {
		return s.p.encodeWire(sv.id)
	}
	b := make([]byte, 0, len(sv.id)+24)
	b = append(b, sv.id...)
	b = append(b, '.')
	b = appendTimes(b, s.t)
	return s.p.encodeWire(string(b[:len(b)-1]))
}

func (sv *serverSide) stage(s *sessionState) (headerEdit, error) {
	switch s.change {
	case changeWrite:
		wire, err := sv.wire(s)
		if err != nil {
			return headerEdit{}, err
		}
		switch err := sv.write(s.storageCtx(), s); {
		case errors.Is(err, errEnded):
			s.endedMeanwhile()
			return headerEdit{op: sendClear}, nil
		case err != nil:
			return headerEdit{}, err
		}
		sv.stored = true
		return s.valueEdit(wire), nil
	case changeRefresh:
		return sv.refresh(s.storageCtx(), s), nil
	}
	// forget, or a stale id
	return headerEdit{op: sendClear}, nil
}

// write stores the session's entry: its creation time and the time of
// this write (the request's: Set, Renew and a slide all set t.touched to
// it), then its value. With WithIndex it files the entry too
// (writeIndexed). With a storage that writes conditionally, a new id is
// created only if absent (an id a custom generator repeats never
// overwrites another session: the commit fails with ErrExists), and a
// stored one is replaced only while it is live, or write returns errEnded:
// a concurrent logout, Renew or Invalidate has ended the session, and it
// must not come back. Without one, the write is an unconditional replace,
// which can do exactly that.
func (sv *serverSide) write(ctx context.Context, s *sessionState) error {
	key, expires := sv.keyOf(s.p, sv.id), time.Unix(s.p.end(s.t), 0)
	if a := s.p.bytes; a != nil && s.p.indexer == nil {
		return sv.writeBytes(ctx, s, a, key, expires)
	}
	return sv.writeStream(ctx, s, key, expires)
}

// read returns the content of key.
func (sv *serverSide) read(ctx context.Context, s *sessionState, key string) (string, error) {
	if a := s.p.bytes; a != nil {
		// FromBytes's Read, without its reader and the function that
		// would copy from it: the one copy is the string.
		data, err := a.b.load(ctx, key)
		return string(data), err
	}
	var b strings.Builder
	err := s.p.storage.Read(ctx, key, func(r io.Reader) error {
		_, err := io.Copy(&b, r)
		return err
	})
	return b.String(), err
}

// writeBytes is write through FromBytes's adapter, as its Write, Create
// and Replace would do it, with the content built in a pooled buffer
// rather than by a function writing to one.
func (sv *serverSide) writeBytes(ctx context.Context, s *sessionState, a *adaptedBytes, key string, expires time.Time) error {
	if err := CheckID(key); err != nil {
		return err
	}
	buf := writeBufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledWriteBuf {
			writeBufPool.Put(buf)
		}
	}()
	var head [32]byte
	buf.Write(appendTimes(head[:0], s.t))
	buf.WriteString(s.raw)
	data := buf.Bytes()
	switch {
	case a.create == nil:
		return saveBytes(ctx, a.save, key, data, expires)
	case sv.stored:
		err := saveBytes(ctx, a.replace, key, data, expires)
		if errors.Is(err, ErrNotFound) {
			return errEnded
		}
		return err
	}
	return saveBytes(ctx, a.create, key, data, expires)
}

// writeStream is write through the Storage's streaming methods.
func (sv *serverSide) writeStream(ctx context.Context, s *sessionState, key string, expires time.Time) error {
	var head [32]byte
	entry := appendTimes(head[:0], s.t)
	content := func(w io.Writer) error {
		if _, err := w.Write(entry); err != nil {
			return err
		}
		_, err := io.WriteString(w, s.raw)
		return err
	}
	switch {
	case s.p.indexer != nil:
		return sv.writeIndexed(ctx, s, key, expires, content)
	case s.p.cond == nil:
		return s.p.storage.Write(ctx, key, expires, content)
	case sv.stored:
		err := s.p.cond.Replace(ctx, key, expires, content)
		if errors.Is(err, ErrNotFound) {
			return errEnded
		}
		return err
	}
	return s.p.cond.Create(ctx, key, expires, content)
}

// errEnded is what write returns when the session it replaces has ended.
var errEnded = fmt.Errorf("sessions: replace: %w", ErrSessionEnded)

// endedMeanwhile records that the session ended while the request ran: the
// change is dropped and the cookie or header cleared.
func (s *sessionState) endedMeanwhile() {
	s.ended = true
	s.presence, s.raw, s.t = sessionAbsent, "", times{}
	s.server.id, s.server.stored = "", false
}

// refresh moves the expiry of an unchanged session. Failures are logged
// and otherwise ignored: the request did not ask for a session change, so
// it does not fail for one.
func (sv *serverSide) refresh(ctx context.Context, s *sessionState) headerEdit {
	old := s.t
	s.t.touched = s.st.unix()
	wire, err := sv.wire(s)
	if err != nil {
		s.t = old
		s.refreshFailed(err)
		return headerEdit{}
	}
	if t, ok := s.p.storage.(Toucher); ok && s.p.indexer == nil {
		err = t.Touch(ctx, sv.keyOf(s.p, sv.id), time.Unix(s.p.end(s.t), 0))
	} else {
		// Without Toucher the entry is rewritten with the data just read,
		// only if it is still live where the storage can tell. An indexed
		// session is always rewritten: its filing and the time it was last
		// seen, which the entry holds, move with it.
		err = sv.write(ctx, s)
	}
	switch {
	case errors.Is(err, ErrNotFound) || errors.Is(err, errEnded):
		// Gone since it was read: the session ended.
		s.endedMeanwhile()
		return headerEdit{op: sendClear}
	case err != nil:
		s.t = old
		s.refreshFailed(err)
		return headerEdit{}
	}
	return s.valueEdit(wire)
}

func (sv *serverSide) finish(s *sessionState) (bool, error) {
	if sv.ends == nil && !sv.joined {
		return false, nil // nothing to end: no storage call
	}
	ctx := s.storageCtx()
	e := sv.ends
	if e == nil {
		e = &serverEnds{} // stays on the stack
	}
	if old := e.renewedFrom; old != "" {
		e.renewedFrom = ""
		if s.p.cond != nil {
			// The renewed-away id ends only if it is still live: of two
			// concurrent Renews, or a Renew racing a logout, exactly one
			// ends it, and the others must not leave a successor behind.
			err := s.p.cond.Replace(ctx, s.p.key(old), endedLongAgo, func(io.Writer) error { return nil })
			switch {
			case errors.Is(err, ErrNotFound):
				if err := s.p.storage.Invalidate(ctx, sv.keyOf(s.p, sv.id)); err != nil {
					return false, err
				}
				s.presence, s.raw, s.t = sessionAbsent, "", times{}
				sv.id, sv.stored = "", false
				return true, nil
			case err != nil:
				return false, err
			}
		}
		e.invalidate = append(e.invalidate, old)
	}
	for _, id := range e.invalidate {
		if id == sv.id {
			continue // renewed back or kept: the current id stays
		}
		if err := s.p.storage.Invalidate(ctx, s.p.key(id)); err != nil {
			return false, err
		}
	}
	if sv.joined {
		sv.joined = false
		sv.enforceCap(ctx, s)
	}
	return false, nil
}

// endedLongAgo is the expiry that ends an entry through Replace: long past
// by any clock, and not the zero Time, which means "never".
var endedLongAgo = time.Unix(1, 0)

// writeIndexed is write for a provider with WithIndex: a new id is created
// under the value's index key, a stored one is replaced with it (moving it
// when the key changed), and either way the filing travels with the write.
// It notes when the session joined an index key, for WithMaxSessions.
func (sv *serverSide) writeIndexed(ctx context.Context, s *sessionState, key string, expires time.Time, content func(io.Writer) error) error {
	ix := s.p.indexer
	if sv.stored {
		err := ix.ReplaceIndexed(ctx, key, sv.index, expires, content)
		if errors.Is(err, ErrNotFound) {
			return errEnded
		}
		// A slide keeps the value and so its index key; only a change can
		// move the session.
		if err == nil && s.p.maxSessions > 0 && s.change == changeWrite && sv.index != "" && sv.index != sv.fromIndex {
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
func (sv *serverSide) enforceCap(ctx context.Context, s *sessionState) {
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

func (s *sessionState) capFailed(err error) {
	s.p.log().LogAttrs(s.st.req.Context(), slog.LevelError, "sessions: ending the sessions over WithMaxSessions failed; the request's own session is written",
		slog.String("session", s.p.name), slog.Any("error", err))
}
