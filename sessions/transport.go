package sessions

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Values travel as cookie-safe text: RFC 6265 cookie-octets except '%'.
// Anything else is escaped as %XX (uppercase hex), and decoding accepts only
// that canonical form, so one value has one spelling on the wire. The
// transformers and the Compact codec emit only safe bytes, which makes the
// escape free for them; it exists for serializers such as JSON.
var safeTable = func() (t [256]bool) {
	for c := 0x21; c <= 0x7e; c++ {
		t[c] = true
	}
	for _, c := range "\"%,;\\" {
		t[c] = false
	}
	return t
}()

const upperHex = "0123456789ABCDEF"

func escapeValue(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !safeTable[s[i]] {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if safeTable[c] {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
	return b.String()
}

var errBadEscape = errors.New("malformed escape")

func unescapeValue(s string) (string, error) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			n++
			continue
		}
		if !safeTable[c] {
			return "", errBadEscape
		}
	}
	if n == 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(s) {
			return "", errBadEscape
		}
		hi, lo := strings.IndexByte(upperHex, s[i+1]), strings.IndexByte(upperHex, s[i+2])
		if hi < 0 || lo < 0 {
			return "", errBadEscape
		}
		c = byte(hi<<4 | lo)
		if safeTable[c] {
			// A safe byte is never escaped: accepting it would give one
			// value several spellings.
			return "", errBadEscape
		}
		b = append(b, c)
		i += 2
	}
	return string(b), nil
}

// readRaw returns the escaped value the request carries for p.
func (p *providerBase) readRaw(r *http.Request) (string, bool) {
	if p.kind == headerTransport {
		v := r.Header[p.name]
		if len(v) == 0 || v[0] == "" {
			return "", false
		}
		return v[0], true
	}
	return findCookie(r.Header["Cookie"], p.name)
}

// findCookie returns the first cookie called name in the Cookie headers,
// without the allocations of parsing every cookie as r.Cookie does. Like
// net/http it strips one pair of surrounding double quotes.
func findCookie(lines []string, name string) (string, bool) {
	for _, line := range lines {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || k != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}

// send sets the session's value (already escaped) in the response headers.
func (p *providerBase) send(h http.Header, value string) {
	if p.kind == headerTransport {
		h[p.name] = []string{value}
		return
	}
	h["Set-Cookie"] = append(h["Set-Cookie"], p.name+"="+value+p.cookieSuffix)
}

// sendClear tells the client to forget the session. A cookie is cleared with
// the same Path, Domain, Secure, SameSite and Partitioned attributes it was
// set with, or the browser would keep it.
func (p *providerBase) sendClear(h http.Header) {
	if p.kind == headerTransport {
		h[p.name] = []string{""}
		return
	}
	h["Set-Cookie"] = append(h["Set-Cookie"], p.clearLine)
}

var epoch = time.Unix(0, 0)

func (p *providerBase) cookieLine(value string, maxAge int) string {
	c := p.cookie
	c.Value = value
	c.MaxAge = maxAge
	if maxAge < 0 {
		c.Expires = epoch
	}
	return c.String()
}

// fits reports whether value, escaped, respects the cookie size limit.
func (p *providerBase) fits(value string) bool {
	return p.kind != cookieTransport || len(p.name)+len(value) <= MaxCookieSize
}

// Client-side values carry their own expiry, inside what the transformers
// sign or encrypt, so a captured cookie cannot be replayed after its
// lifetime: "<unix seconds, base 36>.<serialized value>".
func embedExpiry(expires time.Time, serialized string) string {
	b := make([]byte, 0, 8+len(serialized))
	b = strconv.AppendInt(b, expires.Unix(), 36)
	b = append(b, '.')
	b = append(b, serialized...)
	return string(b)
}

var errExpired = errors.New("expired")

func splitExpiry(s string, now time.Time) (string, error) {
	head, rest, ok := strings.Cut(s, ".")
	if !ok {
		return "", errBadEscape
	}
	exp, err := strconv.ParseInt(head, 36, 64)
	if err != nil || strconv.FormatInt(exp, 36) != head {
		return "", errBadEscape
	}
	if now.Unix() >= exp {
		return "", errExpired
	}
	return rest, nil
}
