package sessions

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
)

// requestState is the request lifecycle: the sessions of one request,
// created by Manager.Handler, found through the request context, and
// committed once, when the response starts. What each session sees of the
// request is its exchange (exchange.go); the per-session state lives in
// sessionState (session.go); this type only holds the sessions and orders
// their commits.
//
// It is allocated on every request, so it holds nothing it can derive: it
// is itself the context of the request next sees (the request's own
// context, with the state as the value of stateKey), and req is that
// request.
type requestState struct {
	// Context is the context of the request Handler was given; the state
	// answers Value(stateKey{}) and leaves the rest to it, so the context
	// package still finds its cancellation.
	context.Context
	exchange

	m      *Manager
	w      http.ResponseWriter // the underlying writer
	slots  []slotter
	inline [1]slotter // slots of a one-session Manager, the common kind
	spare  slotter    // the sole provider's slot, allocated with the state
}

// maxInlineEdits is how many sessions a commit stages without allocating
// its list of header edits.
const maxInlineEdits = 4

type stateKey struct{}

func stateFrom(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	return st
}

// Value makes the state the context's value for stateKey.
func (st *requestState) Value(key any) any {
	if _, ok := key.(stateKey); ok {
		return st
	}
	return st.Context.Value(key)
}

// parent returns the state of an outer Manager, if any.
func (st *requestState) parent() *requestState { return stateFrom(st.Context) }

// lookup returns the slot of session type T, creating it on first use,
// with the mutex of its request state held: the caller unlocks it.
func lookup[T any](ctx context.Context) (*slot[T], error) {
	typ := typeOf[T]()
	first := stateFrom(ctx)
	for st := first; st != nil; st = st.parent() {
		i := st.m.find(typ)
		if i < 0 {
			continue
		}
		st.mu.Lock()
		if st.slots[i] == nil {
			st.slots[i] = st.newSlot(i)
		}
		return st.slots[i].(*slot[T]), nil
	}
	if first == nil {
		return nil, fmt.Errorf("%w: %v (the request did not pass through a sessions.Manager's Handler)", ErrNotRegistered, typ)
	}
	return nil, fmt.Errorf("%w: %v", ErrNotRegistered, typ)
}

// newSlot returns the slot of provider i for this request.
func (st *requestState) newSlot(i int) slotter {
	if s := st.spare; s != nil {
		st.spare = nil
		s.core().init(st.m.providers[i].base(), &st.exchange)
		return s
	}
	return st.m.providers[i].newSlot(&st.exchange)
}

// commit writes every changed session and sets the response headers. It
// runs once, before the first byte of the response. It reports whether the
// response may go on; when it may not, the error handler has answered.
func (st *requestState) commit() bool {
	st.mu.Lock()
	if st.phase != phaseOpen {
		st.mu.Unlock()
		return st.phase != phaseFailed
	}
	st.phase = phaseCommitted
	p, err := st.commitLocked()
	if err != nil {
		st.phase = phaseFailed
	}
	var ended *sessionState
	if err == nil {
		ended = st.firstEnded()
		if ended != nil && ended.p.errorHandler != nil {
			st.phase = phaseFailed // the error handler answers
		}
	}
	st.mu.Unlock()
	if err != nil {
		// Outside the lock: an error handler may call Get or Clear (which
		// then answer ErrTooLate), and must not deadlock doing so.
		st.fail(p, err)
		return false
	}
	if ended != nil {
		return st.reportEnded(ended)
	}
	return true
}

// firstEnded returns the first session the commit found ended meanwhile.
func (st *requestState) firstEnded() *sessionState {
	for _, sl := range st.slots {
		if sl != nil && sl.core().ended {
			return sl.core()
		}
	}
	return nil
}

// reportEnded tells of a session that the commit found ended: its change
// was dropped, which is the session's promise and not a failure, so by
// default the response goes on (with the cookie or header cleared) and the
// event is logged at info level. A provider's own error handler receives
// an error wrapping ErrSessionEnded and answers the request instead.
func (st *requestState) reportEnded(s *sessionState) bool {
	p := s.p
	err := fmt.Errorf("sessions: commit %s %q: %w", p.kind, p.name, ErrSessionEnded)
	if p.errorHandler != nil {
		p.errorHandler(st.w, &st.req, err)
		return false
	}
	p.log().LogAttrs(st.req.Context(), slog.LevelInfo, "sessions: a change was dropped: the session ended while the request ran",
		slog.String("session", p.name))
	return true
}

// commitLocked commits in three steps, so that a failure anywhere leaves
// the client's sessions usable: first every session's storage writes (new
// ids, data, moved expiries), then, only when all of them succeeded, every
// invalidation of an old id, and last the response headers. On failure it
// returns the failing provider and touches no header.
//
// The storage calls run on the request's context without its
// cancellation, each bounded by its provider's commit timeout: a client
// that disconnects after a logout must not cancel the logout.
func (st *requestState) commitLocked() (*providerBase, error) {
	defer func() {
		for _, sl := range st.slots {
			if sl != nil && sl.core().server != nil {
				sl.core().server.dl.release()
			}
		}
	}()
	for i, p := range st.m.providers {
		// A session with an idle timeout moves its expiry even when the
		// handler did not touch it; only requests that carry one need a
		// slot for that.
		if st.slots[i] == nil && p.base().idle > 0 && st.carries(p.base()) {
			st.slots[i] = st.newSlot(i)
		}
	}
	var inline [maxInlineEdits]headerEdit
	edits := inline[:0]
	if len(st.slots) > len(inline) {
		edits = make([]headerEdit, 0, len(st.slots))
	}
	for _, sl := range st.slots {
		var e headerEdit
		if sl != nil {
			var err error
			if e, err = sl.core().stage(sl); err != nil {
				return sl.core().p, err
			}
		}
		edits = append(edits, e)
	}
	for i, sl := range st.slots {
		if sl != nil {
			ended, err := sl.core().finish()
			if err != nil {
				return sl.core().p, err
			}
			if ended {
				// A concurrent Renew or logout ended the session first:
				// the client keeps what it has, which is either that
				// Renew's successor or an id that no longer works.
				edits[i] = headerEdit{}
			}
		}
	}
	h := st.w.Header()
	for i, e := range edits {
		if st.slots[i] == nil {
			continue
		}
		s := st.slots[i].core()
		// A header that holds nothing yet, the common case, has no lines
		// to merge with: the session's lines are assigned, not looked up.
		// (A header session's name is never Vary or Cache-Control.)
		fresh := len(h) == 0
		switch e.op {
		case sendValue:
			s.p.send(&st.exchange, h, e)
		case sendClear:
			s.p.sendClear(&st.exchange, h)
		}
		if e.op != sendNothing {
			if fresh {
				h["Cache-Control"] = st.line("private")
			} else {
				keepFromSharedCaches(&st.exchange, h)
			}
		}
		if e.op != sendNothing || s.read {
			if fresh {
				h["Vary"] = st.line(s.p.vary)
			} else {
				addVary(&st.exchange, h, s.p.vary)
			}
		}
	}
	return nil, nil
}

// errorResponseDrops are the headers the default error handler removes
// before its 500: the application set them for the response it meant to
// send, and on a plain-text error they would redirect the client (Location,
// Refresh), describe another body (its type, encoding, range, length,
// language, file name, validators, digests), or let a cache keep the error
// as that body (Cache-Control, Expires, which it replaces with no-store).
// Other headers, such as security headers set by outer middleware and the
// application's own Set-Cookie lines, stay.
var errorResponseDrops = []string{
	"Location", "Refresh", "Content-Location",
	"Content-Type", "Content-Encoding", "Content-Length", "Content-Range", "Content-Language", "Content-Disposition",
	"Content-Digest", "Repr-Digest", "Digest", "Content-Md5",
	"Etag", "Last-Modified", "Accept-Ranges", "Age", "Expires", "Cache-Control",
	"Trailer", "Transfer-Encoding",
}

// fail answers the request through p's error handler. The headers the
// application set stay, but for those the default handler drops; no
// session header is added.
func (st *requestState) fail(p *providerBase, err error) {
	err = fmt.Errorf("sessions: commit %s %q: %w", p.kind, p.name, err)
	if p.errorHandler != nil {
		p.errorHandler(st.w, &st.req, err)
		return
	}
	p.log().ErrorContext(st.req.Context(), "sessions: commit failed",
		slog.String("session", p.name), slog.Any("error", err))
	h := st.w.Header()
	for _, name := range errorResponseDrops {
		delete(h, name)
	}
	h.Set("Cache-Control", "no-store")
	http.Error(st.w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
}
