package sessions

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"time"
)

// A Provider describes one typed session: its Go type, the cookie or header
// that carries it, and where its value is kept. Cookie and Header make
// providers; New registers them. A Provider is immutable and may be shared.
type Provider interface {
	// Name returns the cookie or header name that carries the session.
	Name() string
	base() *providerBase
	newSlot(st *requestState) slotter
}

type transportKind uint8

const (
	cookieTransport transportKind = iota
	headerTransport
)

// providerBase holds everything about a provider that does not depend on
// its session type.
type providerBase struct {
	name         string
	typ          reflect.Type
	kind         transportKind
	cookie       http.Cookie // template; Name set, Value empty
	cookieSuffix string      // "; Path=/; Max-Age=…" of a Set-Cookie line, after the value
	clearLine    string      // the whole Set-Cookie line that clears the cookie
	storage      Storage
	transformers []Transformer
	identity     func(*http.Request) string
	sliding      bool
	lifetime     time.Duration // storage entry / embedded expiry
	errorHandler func(http.ResponseWriter, *http.Request, error)
	logger       *slog.Logger
	err          error // a configuration error, reported by New
}

type provider[T any] struct {
	providerBase
	serializer Serializer[T]
}

func (p *provider[T]) Name() string        { return p.name }
func (p *provider[T]) base() *providerBase { return &p.providerBase }
func (p *provider[T]) newSlot(st *requestState) slotter {
	return &slot[T]{p: p, st: st}
}

// Cookie returns a provider for a session of type T carried by the cookie
// name. By default the session is kept client-side, encoded with Compact[T]
// and not signed: add WithTransformers to sign or encrypt it, or
// WithStorage to keep it server-side. Configuration errors are reported by
// New.
func Cookie[T any](name string, opts ...Option) Provider {
	return newProvider[T](cookieTransport, name, opts)
}

// Header returns a provider for a session of type T carried by the request
// and response header name, for clients that are not browsers. Set sends the
// header with the value (or id); Clear sends it with an empty value, which
// clients should take as "forget the session". Configuration errors are
// reported by New.
func Header[T any](name string, opts ...Option) Provider {
	return newProvider[T](headerTransport, name, opts)
}

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
		sliding:      c.sliding,
		errorHandler: c.errorHandler,
		logger:       c.logger,
	}}
	if kind == headerTransport {
		p.name = http.CanonicalHeaderKey(name)
	}
	p.cookie = http.Cookie{
		Name:     name,
		Path:     "/",
		MaxAge:   int(DefaultMaxAge / time.Second),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	for _, edit := range c.cookieEdits {
		edit(&p.cookie)
	}
	p.cookie.Name, p.cookie.Value = name, ""
	p.lifetime = c.ttl
	if p.lifetime <= 0 {
		p.lifetime = DefaultMaxAge
	}
	if kind == cookieTransport && p.cookie.MaxAge > 0 {
		p.lifetime = time.Duration(p.cookie.MaxAge) * time.Second
	}
	switch s := c.serializer.(type) {
	case nil:
		p.serializer = Compact[T]()
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
		p.err = p.check(c)
	}
	if p.err == nil && kind == cookieTransport {
		// The attributes are the same on every response: format them once
		// with net/http's own rules, and splice the value in per request.
		line := p.cookieLine("v", p.cookie.MaxAge)
		p.cookieSuffix = line[len(name)+len("=v"):]
		p.clearLine = p.cookieLine("", -1)
	}
	if p.err != nil {
		p.err = fmt.Errorf("sessions: %s %q: %w", kind, name, p.err)
	}
	return p
}

func (k transportKind) String() string {
	if k == headerTransport {
		return "header"
	}
	return "cookie"
}

// check validates the provider's configuration.
func (p *providerBase) check(c config) error {
	if c.storageSet && c.storage == nil {
		return errors.New("WithStorage given a nil Storage")
	}
	for i, t := range p.transformers {
		if t == nil {
			return fmt.Errorf("transformer %d is nil", i)
		}
	}
	if p.kind == headerTransport {
		if !isToken(p.name) {
			return errors.New("invalid header name")
		}
		return nil
	}
	if !isToken(p.name) {
		return errors.New("invalid cookie name")
	}
	if err := p.cookie.Valid(); err != nil {
		return err
	}
	ck := &p.cookie
	switch {
	case strings.HasPrefix(ck.Name, "__Host-") && (!ck.Secure || ck.Path != "/" || ck.Domain != ""):
		return errors.New("a __Host- cookie needs Secure, Path \"/\" and no Domain")
	case strings.HasPrefix(ck.Name, "__Secure-") && !ck.Secure:
		return errors.New("a __Secure- cookie needs Secure")
	case ck.SameSite == http.SameSiteNoneMode && !ck.Secure:
		return errors.New("SameSite=None needs Secure")
	case ck.MaxAge < 0:
		return errors.New("negative MaxAge would delete the cookie on every write")
	}
	return nil
}

func (p *providerBase) log() *slog.Logger {
	if p.logger != nil {
		return p.logger
	}
	return slog.Default()
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
