package sessions

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

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
	if sole, ok := m.sole(); ok {
		// The common one-session Manager allocates the request state
		// and the session's slot in one object.
		rw = sole.newSoleRequest()
	} else {
		rw = &responseWriter{}
	}
	st := &rw.st
	st.Context, st.m, st.w, st.clock = r.Context(), m, w, m.now
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

// responseWriter commits the sessions before the first byte of the
// response. It is the request state, which holds the underlying writer,
// with the methods of a ResponseWriter.
type responseWriter struct {
	st requestState
}

func (w *responseWriter) Header() http.Header { return w.st.w.Header() }

func (w *responseWriter) WriteHeader(code int) {
	// Informational responses (103 Early Hints) precede the real headers,
	// which may still carry session changes. 101 Switching Protocols is
	// the last response on its connection: it commits like a final status,
	// or a Renew before a WebSocket upgrade would remove the old id and
	// never send the new one.
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		if w.st.phase != phaseFailed {
			w.st.w.WriteHeader(code)
		}
		return
	}
	if w.st.commit() {
		w.st.w.WriteHeader(code)
	}
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.st.commit() {
		return 0, ErrCommitFailed
	}
	return w.st.w.Write(b)
}

// ReadFrom keeps the underlying writer's io.ReaderFrom (sendfile) path.
func (w *responseWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.st.commit() {
		return 0, ErrCommitFailed
	}
	return io.Copy(w.st.w, r)
}

// Flush commits and flushes; it does nothing when the underlying writer
// cannot flush, as http.Flusher has no way to report that.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError is Flush that reports failure; http.ResponseController uses it.
func (w *responseWriter) FlushError() error {
	if !w.st.commit() {
		return ErrCommitFailed
	}
	return http.NewResponseController(w.st.w).Flush()
}

// Hijack commits (session storage changes take effect; headers are not sent
// on a hijacked connection unless a 101 was written first) and hands over
// the connection.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.st.commit() {
		return nil, nil, ErrCommitFailed
	}
	return http.NewResponseController(w.st.w).Hijack()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.st.w }

// soleRequester is implemented by every provider[T]: it allocates the
// request state of a Manager whose only provider it is together with the
// provider's slot, which the state's lookup then takes instead of
// allocating one.
type soleRequester interface {
	newSoleRequest() *responseWriter
}

// sole returns the only provider of m, when m has one.
func (m *Manager) sole() (soleRequester, bool) {
	if len(m.providers) != 1 {
		return nil, false
	}
	s, ok := m.providers[0].(soleRequester)
	return s, ok
}

func (p *provider[T]) newSoleRequest() *responseWriter {
	if p.storage == nil {
		both := &struct {
			responseWriter
			slot slot[T]
		}{}
		both.slot.p = p
		both.st.spare = &both.slot
		return &both.responseWriter
	}
	all := &struct {
		responseWriter
		slot   slot[T]
		server serverSide
	}{}
	all.slot.p, all.slot.server = p, &all.server
	all.st.spare = &all.slot
	return &all.responseWriter
}
