package sessions

import (
	"log/slog"
	"net/http"
	"time"
)

// DefaultLifetime is the absolute lifetime of a session when the provider
// does not set one with [WithLifetime]: 7 days from its creation.
const DefaultLifetime = 7 * 24 * time.Hour

// DefaultCommitTimeout bounds the storage calls of a commit when the
// provider does not set a bound with [WithCommitTimeout]: 5 seconds, long
// enough for a healthy store under load and short enough that a hung store
// does not hold the response forever.
const DefaultCommitTimeout = 5 * time.Second

// MaxCookieSize is the largest cookie, name plus value, that a session sends
// or accepts. Browsers drop larger cookies silently; [Set] refuses them with
// [ErrTooLarge], and an incoming cookie over the bound is "no session"
// before anything decodes it. It is also the default bound of a header
// session's value (see [WithHeaderLimit]).
const MaxCookieSize = 4096

// An Option configures one session provider made by [Cookie] or [Header].
// Options are applied in order; a later option overrides an earlier one.
// An option that does not fit its provider (a serializer of another type, a
// nil storage, a header limit on a cookie) makes [New] return an error
// naming the session.
type Option func(*config)

type config struct {
	storage       Storage
	storageSet    bool
	transformers  []Transformer
	serializer    any
	cookieEdits   []func(*http.Cookie)
	identity      func(*http.Request) string
	lifetime      time.Duration
	lifetimeSet   bool
	idle          time.Duration
	commitTimeout time.Duration
	commitSet     bool
	unsigned      bool
	headerLimit   int
	headerSet     bool
	errorHandler  func(http.ResponseWriter, *http.Request, error)
	logger        *slog.Logger
	index         any // a func(T) string, checked against the provider's T by New
	indexSet      bool
	maxSessions   int
	maxSet        bool
}

// WithStorage keeps the session server-side in s: only its id travels in
// the cookie or header, and the data is written to s under that id. Without
// this option the session is kept client-side: its whole serialized value
// travels, after the transformers.
func WithStorage(s Storage) Option {
	return func(c *config) { c.storage, c.storageSet = s, true }
}

// WithTransformers sets the transformers that sign or encrypt what travels:
// the value of a client-side session, or the id of a server-side one. They
// run in the given order on write and in reverse order on read. A value that
// any of them refuses on read is "no session". Default: none, which [New]
// refuses for a client-side session unless the provider also says
// [WithUnsigned].
func WithTransformers(t ...Transformer) Option {
	return func(c *config) { c.transformers = append([]Transformer(nil), t...) }
}

// WithSerializer sets how the session value becomes text. s must be a
// [Serializer] of the provider's own session type; otherwise [New] returns
// an error. Default: [Compact][T]().
func WithSerializer[T any](s Serializer[T]) Option {
	return func(c *config) { c.serializer = s }
}

// WithCookie edits the template of the session cookie. The template starts
// with Path "/", HttpOnly and SameSite Lax; the edit may change Path,
// Domain, Secure, HttpOnly, SameSite and Partitioned, and may set MaxAge to
// 0 to make a browser-session cookie, which the browser forgets when it
// closes (the session still ends at its lifetime). Any other MaxAge, and
// any Expires, make [New] return an error: the cookie's Max-Age follows the
// session's remaining lifetime, which [WithLifetime] and
// [WithIdleTimeout] set, and an Expires fixed at registration would make
// every cookie sent after that date arrive expired.
//
// Name and Value are set by the provider and edits to them are ignored. [New]
// checks the result: a __Host- or __Secure- name needs Secure (and __Host-
// also Path "/" and no Domain), SameSite None and Partitioned need Secure.
// Several WithCookie options apply in order. Header sessions ignore it.
func WithCookie(edit func(*http.Cookie)) Option {
	return func(c *config) { c.cookieEdits = append(c.cookieEdits, edit) }
}

// WithIdentity sets the generator of new ids for a server-side session.
// Every id it returns is checked with [CheckID]; an invalid id makes [Set]
// or [Renew] return an error wrapping [ErrInvalidID]. The generator must
// make ids that cannot be guessed. It runs outside the request's session
// lock, so it may itself read other sessions of the request; it may be
// called by concurrent goroutines of one request, and an id it made may go
// unused when another goroutine's Set won. Default: [NewID].
func WithIdentity(generate func(*http.Request) string) Option {
	return func(c *config) { c.identity = generate }
}

// WithLifetime sets the absolute lifetime of the session: it ends d after
// its creation (the first [Set], or the last [Renew]) whatever its
// activity. Every storage write carries the end as the entry's expiry, a
// client-side value carries its creation time inside what the transformers
// protect, and the cookie's Max-Age is the time that remains. d must be at
// least one second; [New] refuses anything shorter. Default:
// [DefaultLifetime], 7 days.
//
// The lifetime is read when a session is read, so shortening it ends the
// sessions already older than the new lifetime.
func WithLifetime(d time.Duration) Option {
	return func(c *config) { c.lifetime, c.lifetimeSet = d, true }
}

// WithIdleTimeout ends the session after d without a request that carries
// it, and never later than its lifetime ([WithLifetime]). Each request
// that carries a valid session moves the end to d after the request, but
// only once less than half of d remains: a burst of requests costs one
// storage Touch (through [Toucher] when the storage has it, else a read
// and a rewrite, as always with [WithIndex], whose entries record when
// they were last seen) and one resent cookie or header, not one per
// request. A
// failure to move the end is logged and the request goes on. A server-side
// session's cookie or header then also carries the session's times, as a
// hint of when to move the end; the storage entry's expiry stays the
// authority. d must be at least one second; 0 turns the idle timeout off.
// Default: off.
func WithIdleTimeout(d time.Duration) Option {
	return func(c *config) { c.idle = d }
}

// WithCommitTimeout bounds the storage calls the commit of this session
// makes (writes, touches, invalidations): together they get d from the
// first of them, after which their context is done with
// [context.DeadlineExceeded]. The commit runs on the request's context
// without its cancellation, so a client that disconnects after a logout
// cannot cancel the logout; this bound is what keeps a hung storage from
// holding the response forever. d must be positive. Default:
// [DefaultCommitTimeout], 5 seconds.
func WithCommitTimeout(d time.Duration) Option {
	return func(c *config) { c.commitTimeout, c.commitSet = d, true }
}

// WithUnsigned allows a client-side session without [MessageAuthentication]
// or [Encrypt] among its transformers. Without them the client can read and
// change the value, and the creation and activity times that bound its
// lifetime: use it only for values the application would accept from any
// client, such as a display preference. [New] refuses an unprotected
// client-side session without this option; [Digest] alone does not count
// as protection. A [Transformer] of your own that authenticates is not
// recognised either, and needs this option.
func WithUnsigned() Option {
	return func(c *config) { c.unsigned = true }
}

// WithHeaderLimit sets the largest value, in bytes, that a header session
// accepts from a request and sends in a response. An incoming value over
// the bound is "no session" before any transformer or decoder sees it;
// [Set] refuses a value over it with [ErrTooLarge]. n must be positive, and
// the option is an error on a cookie session, whose bound is
// [MaxCookieSize]. Default: [MaxCookieSize].
func WithHeaderLimit(n int) Option {
	return func(c *config) { c.headerLimit, c.headerSet = n, true }
}

// WithErrorHandler sets what answers the request when this session cannot
// be committed: a storage write or invalidation fails as the response
// starts. The handler receives the underlying ResponseWriter; everything the
// application writes afterwards is discarded, and none of the request's
// session headers are sent. Default: a [log/slog] error record and a plain
// HTTP 500; before it, the default removes the response headers the
// application set that would turn the 500 into a redirect or describe a
// body it no longer has (see [Manager.Handler]).
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, err error)) Option {
	return func(c *config) { c.errorHandler = h }
}

// WithLogger sets the logger for commit failures (error level), failures
// to move an idle timeout (warning level) and values that were refused on
// read (debug level). Records name the session and the reason, never an id
// or a value. Default: [slog.Default] at the time of logging.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}
