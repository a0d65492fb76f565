package sessions

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

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
		if w.st.phase != failed {
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
