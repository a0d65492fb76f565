package sessions

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/sessions/internal/compact"
)

// A Provider describes one typed session: its Go type, the cookie or header
// that carries it, and where its value is kept. [Cookie] and [Header] make
// providers; [New] registers them. A Provider is immutable and may be
// shared.
type Provider interface {
	// Name returns the cookie or header name that carries the session.
	Name() string
	base() *providerBase
	newSlot(st *exchange) slotter
}

// Cookie returns a provider for a session of type T carried by the cookie
// name. By default the session is kept client-side and encoded with
// [Compact][T]; a client-side session must be signed or encrypted with
// [WithTransformers] ([MessageAuthentication] or [Encrypt]) unless it says
// [WithUnsigned]. [WithStorage] keeps it server-side. Configuration errors
// are reported by [New].
func Cookie[T any](name string, opts ...Option) Provider {
	return newProvider[T](cookieTransport, name, opts)
}

// Header returns a provider for a session of type T carried by the request
// and response header name, for clients that are not browsers. Set sends the
// header with the value (or id); Clear sends it with an empty value, which
// clients should take as "forget the session". Configuration errors are
// reported by [New]; among them, a name that HTTP or this package already
// gives a meaning ([Header] "Set-Cookie", "Location", "Vary" and the like).
func Header[T any](name string, opts ...Option) Provider {
	return newProvider[T](headerTransport, name, opts)
}

// maxAgeMark is a Max-Age no session uses, formatted once to find where
// the Max-Age attribute sits in a Set-Cookie line.
const maxAgeMark = 987654321

func newProvider[T any](kind transportKind, name string, opts []Option) *provider[T] {
	var c config
	for _, o := range opts {
		o(&c)
	}
	p := &provider[T]{providerBase: providerBase{
		name:         name,
		typ:          reflect.TypeFor[T](),
		kind:         kind,
		storage:      c.storage,
		transformers: c.transformers,
		identity:     c.identity,
		errorHandler: c.errorHandler,
		logger:       c.logger,
		commitTO:     DefaultCommitTimeout,
		limit:        MaxCookieSize,
		vary:         "Cookie",
	}}
	if kind == headerTransport {
		p.name = http.CanonicalHeaderKey(name)
		p.vary = p.name
	}
	p.bound = kind.String() + " " + p.name
	p.keyPrefix = storageKeyPrefix(kind, p.name)
	p.cond, _ = c.storage.(ConditionalWriter)
	p.bytes = bytesUnder(c.storage)
	if n := len(p.transformers); n > 0 {
		switch p.transformers[n-1].(type) {
		case *macTransformer, *encTransformer, *digestTransformer:
			p.safeText = true
		}
		if n == 1 {
			p.sealer, _ = p.transformers[0].(partsSealer)
		}
	}
	lifetime := DefaultLifetime
	if c.lifetimeSet {
		lifetime = c.lifetime
	}
	p.lifetime, p.idle = int64(lifetime/time.Second), int64(c.idle/time.Second)
	if c.commitSet {
		p.commitTO = c.commitTimeout
	}
	if c.headerSet {
		p.limit = c.headerLimit
	}
	// The template's MaxAge is a marker the edits may only turn into 0.
	p.cookie = http.Cookie{
		Name:     name,
		Path:     "/",
		MaxAge:   maxAgeMark,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	for _, edit := range c.cookieEdits {
		edit(&p.cookie)
	}
	p.cookie.Name, p.cookie.Value = name, ""
	switch s := c.serializer.(type) {
	case nil:
		codec := compact.For[T]()
		p.serializer, p.deserializeInto = codec, codec.DeserializeInto
		// The default codec refuses some types (channels, funcs,
		// interfaces): say so at registration, not on every request.
		var zero T
		if _, err := p.serializer.Serialize(zero); errors.Is(err, errors.ErrUnsupported) {
			p.err = err
		}
	case Serializer[T]:
		p.serializer = s
	default:
		p.err = fmt.Errorf("serializer %T does not serialize %v", c.serializer, p.typ)
	}
	if p.err == nil {
		p.err = p.check(c, lifetime)
	}
	if p.err == nil {
		p.err = p.setIndex(c)
	}
	if p.err == nil && kind == cookieTransport {
		// The attributes are the same on every response but Max-Age: format
		// them once with net/http's own rules, and splice the value and the
		// Max-Age in per response.
		p.browserOnly = p.cookie.MaxAge == 0
		line := p.cookieLine("v", maxAgeMark)
		attrs := line[len(name)+len("=v"):]
		mark := fmt.Sprintf("; Max-Age=%d", maxAgeMark)
		i := strings.Index(attrs, mark)
		p.cookieHead, p.cookieTail = attrs[:i], attrs[i+len(mark):]
		p.clearLine = p.cookieLine("", -1)
	}
	if p.err != nil {
		p.err = fmt.Errorf("sessions: %s %q: %w", kind, name, p.err)
	}
	return p
}

// reservedHeaders are the names a header session may not use, in canonical
// form: the cookie headers (a session there would replace or forge every
// cookie), the message framing and hop-by-hop headers (which proxies strip
// or which would corrupt the response), the redirect headers, and the
// caching headers this package sets itself.
var reservedHeaders = func() map[string]bool {
	m := map[string]bool{}
	for _, h := range []string{
		"Cookie", "Set-Cookie", "Cookie2", "Set-Cookie2",
		"Host", "Content-Length", "Transfer-Encoding", "Content-Encoding", "Content-Type", "Content-Range",
		"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Trailer", "Upgrade",
		"Proxy-Authenticate", "Proxy-Authorization", "Expect",
		"Location", "Content-Location", "Refresh",
		"Vary", "Cache-Control", "Date",
	} {
		m[http.CanonicalHeaderKey(h)] = true
	}
	return m
}()

// check validates the provider's configuration.
func (p *providerBase) check(c config, lifetime time.Duration) error {
	if c.storageSet && c.storage == nil {
		return errors.New("WithStorage given a nil Storage")
	}
	for i, t := range p.transformers {
		if t == nil {
			return fmt.Errorf("transformer %d is nil", i)
		}
	}
	switch {
	case lifetime < time.Second:
		return fmt.Errorf("WithLifetime(%v): the lifetime must be at least one second", lifetime)
	case c.idle < 0 || c.idle > 0 && c.idle < time.Second:
		return fmt.Errorf("WithIdleTimeout(%v): the idle timeout must be at least one second, or 0 for none", c.idle)
	case p.commitTO <= 0:
		return fmt.Errorf("WithCommitTimeout(%v): the timeout must be positive", p.commitTO)
	}
	if p.kind == headerTransport {
		if !isToken(p.name) {
			return errors.New("invalid header name")
		}
		if reservedHeaders[p.name] {
			return fmt.Errorf("header %q is reserved: HTTP or this package gives it its own meaning; choose another name, such as X-Session", p.name)
		}
		if c.headerSet && c.headerLimit <= 0 {
			return fmt.Errorf("WithHeaderLimit(%d): the limit must be positive", c.headerLimit)
		}
		return checkProtected(c)
	}
	if c.headerSet {
		return errors.New("WithHeaderLimit applies to header sessions; cookies are bounded by MaxCookieSize")
	}
	if !isToken(p.name) {
		return errors.New("invalid cookie name")
	}
	ck := &p.cookie
	switch {
	case !ck.Expires.IsZero():
		return errors.New("WithCookie set Expires, which would be fixed at registration; the cookie's Max-Age follows the session's lifetime: use WithLifetime")
	case ck.MaxAge != maxAgeMark && ck.MaxAge != 0:
		return fmt.Errorf("WithCookie set MaxAge %d; the cookie's Max-Age follows the session's lifetime: use WithLifetime, or MaxAge 0 for a browser-session cookie", ck.MaxAge)
	}
	if err := ck.Valid(); err != nil {
		return err
	}
	switch {
	case strings.HasPrefix(ck.Name, "__Host-") && (!ck.Secure || ck.Path != "/" || ck.Domain != ""):
		return errors.New("a __Host- cookie needs Secure, Path \"/\" and no Domain")
	case strings.HasPrefix(ck.Name, "__Secure-") && !ck.Secure:
		return errors.New("a __Secure- cookie needs Secure")
	case ck.SameSite == http.SameSiteNoneMode && !ck.Secure:
		return errors.New("SameSite=None needs Secure")
	}
	return checkProtected(c)
}

// checkProtected refuses a client-side session that the client could
// change, unless the provider said WithUnsigned.
func checkProtected(c config) error {
	if c.storage == nil && !c.unsigned && !protects(c.transformers) {
		return errors.New("a client-side session needs MessageAuthentication or Encrypt among its transformers " +
			"(Digest alone is not protection): add WithTransformers with a transformer from sessions.MessageAuthentication " +
			"or sessions.Encrypt, keep the session server-side with WithStorage, or say WithUnsigned() to send it unprotected")
	}
	return nil
}

// protects reports whether ts holds a transformer that stops a client from
// changing what it carries: [MessageAuthentication] or [Encrypt].
func protects(ts []Transformer) bool {
	for _, t := range ts {
		switch t.(type) {
		case *macTransformer, *encTransformer:
			return true
		}
	}
	return false
}

// isToken reports whether s is a non-empty RFC 7230 token, the syntax of
// both cookie names and header names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !tokenTable[c] {
			return false
		}
	}
	return true
}

var tokenTable = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()
