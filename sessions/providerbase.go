package sessions

import (
	"log/slog"
	"net/http"
	"reflect"
	"time"
)

// transportKind is what carries a session between client and server.
type transportKind uint8

const (
	cookieTransport transportKind = iota
	headerTransport
)

// providerBase holds everything about a provider that does not depend on
// its session type.
type providerBase struct {
	name string
	// bound is the name the transformers bind: the transport and the
	// name, so that a value made for cookie "Token" is refused by header
	// session "Token" under the same key.
	bound        string
	typ          reflect.Type
	kind         transportKind
	cookie       http.Cookie // template; Name set, Value empty
	cookieHead   string      // a Set-Cookie line's attributes before Max-Age
	cookieTail   string      // and after it
	browserOnly  bool        // a browser-session cookie: no Max-Age
	clearLine    string      // the whole Set-Cookie line that clears the cookie
	vary         string      // the request header responses depend on
	storage      Storage
	cond         ConditionalWriter // storage's, when it has one
	bytes        *adaptedBytes     // what storage adapts, when it is FromBytes's adapter
	keyPrefix    string            // what the storage keys of this provider hash first
	indexer      Indexer           // storage's, when the provider has WithIndex
	indexPrefix  string            // what the index keys of this provider hash first
	maxSessions  int               // WithMaxSessions; 0: no cap
	transformers []Transformer
	identity     func(*http.Request) string
	lifetime     int64 // seconds
	idle         int64 // seconds; 0: no idle timeout
	commitTO     time.Duration
	limit        int // the largest value (a cookie: name plus value) accepted or sent
	// safeText is set when the last transformer is one of this package's,
	// whose output is base64url: escaping it changes nothing, and its
	// reverse refuses anything an unescape could make of a value.
	safeText bool
	// sealer is the only transformer, when it is MessageAuthentication or
	// Encrypt: encodeTimes writes its output straight into what is sent.
	sealer       partsSealer
	errorHandler func(http.ResponseWriter, *http.Request, error)
	logger       *slog.Logger
	err          error // a configuration error, reported by New
}

type provider[T any] struct {
	providerBase
	serializer Serializer[T]
	// deserializeInto is the serializer's decoding into a T of the
	// caller's, when it has one (Compact does): the slot's value is
	// decoded in place.
	deserializeInto func(string, *T) error
	indexFn         func(T) string // WithIndex, when indexer is set
}

func (p *provider[T]) Name() string { return p.name }

func (p *provider[T]) base() *providerBase { return &p.providerBase }

func (k transportKind) String() string {
	if k == headerTransport {
		return "header"
	}
	return "cookie"
}

func (p *providerBase) log() *slog.Logger {
	if p.logger != nil {
		return p.logger
	}
	return slog.Default()
}

// partsSealer is implemented by this package's MessageAuthentication and
// Encrypt: they seal a client-side value's times and the value as if
// joined, without the join, and leave the base64 to the caller, which
// writes it straight into the header line.
type partsSealer interface {
	// sealTimes returns the bytes whose unpadded base64url is what
	// TransformWrite returns for the times t followed by value, in a
	// pooled buffer that the caller returns with tfPutBuffer. The last
	// room bytes of the buffer are the caller's.
	sealTimes(name string, t times, value string, room int) (*tfBuffer, []byte)
	// sealedLen is the length of what sealTimes returns for n bytes of
	// times and value.
	sealedLen(n int) int
}
