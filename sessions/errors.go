package sessions

import "errors"

// Sentinel errors. Callers branch on them with errors.Is; every error this
// module and its backends return that means one of these outcomes wraps the
// matching sentinel.
var (
	// ErrNotFound is returned by a [Storage] when an id is absent or expired.
	ErrNotFound = errors.New("sessions: not found")

	// ErrInvalidID is returned when an id is outside the allowed alphabet
	// ([A-Za-z0-9_-], 1 to 128 characters). Storages return it before they
	// touch disk or network.
	ErrInvalidID = errors.New("sessions: invalid session id")

	// ErrExists is returned by [ConditionalWriter.Create] when the id holds
	// a live entry, which Create then leaves as it was.
	ErrExists = errors.New("sessions: entry exists")

	// ErrClosed is returned by every call on a [Storage] after its Close.
	ErrClosed = errors.New("sessions: storage closed")

	// ErrTooLarge is returned when a value exceeds a limit: a cookie whose
	// name and value together exceed 4096 bytes, or an entry larger than a
	// storage accepts. The value is refused whole, never truncated.
	ErrTooLarge = errors.New("sessions: value too large")

	// ErrNoSession is returned by Get, ID and Renew when the request carries
	// no session of the asked type, or carries one that does not verify,
	// decrypt, decode or exist. It plays the part http.ErrNoCookie plays for
	// cookies: the normal "not logged in" outcome, not a failure.
	ErrNoSession = errors.New("sessions: no session")

	// ErrTooLate is returned by Set, Clear and Renew once the response has
	// started: session changes travel in response headers, which are gone.
	ErrTooLate = errors.New("sessions: response already committed")

	// ErrNotRegistered is returned when a session type has no provider in
	// the Manager that handles the request, or when the request did not pass
	// through a Manager's Handler at all.
	ErrNotRegistered = errors.New("sessions: session type not registered")

	// ErrCommitFailed is returned by writes to the response after the
	// sessions could not be committed; the error handler has already
	// answered the request and the handler's own output is discarded.
	ErrCommitFailed = errors.New("sessions: session commit failed")

	// ErrSessionEnded is what a provider's error handler receives when a
	// commit finds that the session the request changed or renewed ended
	// meanwhile, by a concurrent logout, Renew or Invalidate: the change is
	// dropped rather than allowed to bring the session back, and the
	// response clears the cookie or header. The default handler logs it at
	// info level and lets the response go on.
	ErrSessionEnded = errors.New("sessions: session ended while the request ran")
)
