package sessions

import (
	"net/http"
	"sync"
	"time"
)

// exchange is what a session sees of the HTTP exchange it belongs to: the
// lock that guards every session of the request, where the request is in
// its lifecycle, its clock, the request the handler sees, and the lines
// the commit adds to the response's headers. The request state
// (requestState, commit.go) embeds it, and it lives in that allocation.
type exchange struct {
	mu     sync.Mutex // guards phase and every session of the request
	phase  phase
	nlines uint8            // elements of lines taken
	now    int64            // Unix seconds, read once per request on first use
	clock  func() time.Time // the Manager's

	// req is the request next sees, the one with the request state as
	// its context: what r.WithContext would allocate, kept in the
	// state's allocation.
	req http.Request
	// lines backs the header values a commit adds to a header that held
	// none (a session's Set-Cookie or header line, Cache-Control, Vary),
	// so that the usual commit allocates no []string.
	lines [3]string
}

// phase is where the request is in its lifecycle.
type phase uint8

const (
	phaseOpen      phase = iota // the handler may change sessions
	phaseCommitted              // the response started; changes are too late
	phaseFailed                 // the commit failed; the error handler answered
)

// unix returns the request's clock in Unix seconds. One reading serves the
// whole request, so that every lifetime decision in it agrees.
func (st *exchange) unix() int64 {
	if st.now == 0 {
		st.now = st.clock().Unix()
	}
	return st.now
}

// line returns the header value []string{v}, backed by the exchange's
// array while it has room: a commit usually adds three lines (the
// session's, Cache-Control and Vary). Each value has its own element of
// the array, of this request only, and its capacity is its length, so
// that whoever appends to one gets a copy and cannot write into a
// neighbour; only the commit assigns the array's elements, each once.
func (st *exchange) line(v string) []string {
	i := int(st.nlines)
	if i == len(st.lines) {
		return []string{v}
	}
	st.nlines++
	st.lines[i] = v
	return st.lines[i : i+1 : i+1]
}
