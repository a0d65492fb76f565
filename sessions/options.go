package sessions

import (
	"log/slog"
	"net/http"
	"time"
)

// DefaultMaxAge is the default lifetime of a session: the Max-Age of its
// cookie and the expiry of its storage entry.
const DefaultMaxAge = 7 * 24 * time.Hour

// MaxCookieSize is the largest cookie, name plus value, that a session sends.
// Browsers drop larger cookies silently; Set refuses them with ErrTooLarge.
const MaxCookieSize = 4096

// An Option configures one session provider made by Cookie or Header.
// Options are applied in order; a later option overrides an earlier one.
// An option that does not fit its provider (a serializer of another type, a
// nil storage) makes New return an error naming the session.
type Option func(*config)

type config struct {
	storage      Storage
	storageSet   bool
	transformers []Transformer
	serializer   any
	cookieEdits  []func(*http.Cookie)
	identity     func(*http.Request) string
	sliding      bool
	ttl          time.Duration
	errorHandler func(http.ResponseWriter, *http.Request, error)
	logger       *slog.Logger
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
// any of them refuses on read is "no session". Default: none.
func WithTransformers(t ...Transformer) Option {
	return func(c *config) { c.transformers = append([]Transformer(nil), t...) }
}

// WithSerializer sets how the session value becomes text. s must be a
// Serializer of the provider's own session type; otherwise New returns an
// error. Default: Compact[T]().
func WithSerializer[T any](s Serializer[T]) Option {
	return func(c *config) { c.serializer = s }
}

// WithCookie edits the template of the session cookie. The template starts
// with Path "/", HttpOnly, SameSite Lax and a Max-Age of DefaultMaxAge; the
// edit may change Path, Domain, MaxAge (0 makes a browser-session cookie,
// which lasts until the browser closes; the storage entry then expires after
// the WithStorageTTL duration), Secure, HttpOnly, SameSite and Partitioned.
// Name and Value are set by the provider and edits to them are ignored. New
// checks the result: a __Host- or __Secure- name needs Secure (and __Host-
// also Path "/" and no Domain), SameSite None and Partitioned need Secure.
// Several WithCookie options apply in order. Header sessions ignore it:
// their lifetime is set by WithStorageTTL.
func WithCookie(edit func(*http.Cookie)) Option {
	return func(c *config) { c.cookieEdits = append(c.cookieEdits, edit) }
}

// WithIdentity sets the generator of new ids for a server-side session.
// Every id it returns is checked with CheckID; an invalid id makes Set
// return an error wrapping ErrInvalidID. The generator must make ids that
// cannot be guessed. Default: NewID.
func WithIdentity(generate func(*http.Request) string) Option {
	return func(c *config) { c.identity = generate }
}

// WithSlidingExpiry renews the session's lifetime on every request that
// carries a valid session, even when the handler does not touch it: the
// cookie is sent again with a fresh Max-Age and the storage entry's expiry is
// moved (through Toucher when the storage has it, else by a read and a
// write). This costs a storage round trip and a Set-Cookie on every request;
// a failure to slide is logged, and the request goes on. Default: off, the
// session expires its lifetime after its last Set.
func WithSlidingExpiry() Option {
	return func(c *config) { c.sliding = true }
}

// WithStorageTTL sets how long a session lives when its cookie has no
// Max-Age (a browser-session cookie) or when it travels in a header: the expiry
// of its storage entry, or of a client-side value's embedded timestamp.
// Default: DefaultMaxAge. A non-positive d restores the default.
func WithStorageTTL(d time.Duration) Option {
	return func(c *config) { c.ttl = d }
}

// WithErrorHandler sets what answers the request when this session cannot
// be committed: a storage write or invalidation fails as the response
// starts. The handler receives the underlying ResponseWriter; everything the
// application writes afterwards is discarded, and none of the request's
// session headers are sent. Default: a log/slog error record and a plain
// HTTP 500.
func WithErrorHandler(h func(w http.ResponseWriter, r *http.Request, err error)) Option {
	return func(c *config) { c.errorHandler = h }
}

// WithLogger sets the logger for commit failures (error level) and for
// values that were refused on read (debug level). Records name the session
// and the reason, never an id or a value. Default: slog.Default() at the
// time of logging.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}
