package sessions

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/sessions/internal/compact"
)

// Values travel as cookie-safe text: RFC 6265 cookie-octets except '%'
// (compact.CookieSafe, the one table the codec writes by too). Anything
// else is escaped as %XX (compact.UpperHex), and decoding accepts only that
// canonical form, so one value has one spelling on the wire. The
// transformers and the Compact codec emit only safe bytes, which makes the
// escape free for them; it exists for serializers such as JSON.
const upperHex = compact.UpperHex

func escapeValue(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !compact.CookieSafe(s[i]) {
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
		if compact.CookieSafe(c) {
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
		if !compact.CookieSafe(c) {
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
		if compact.CookieSafe(c) {
			// A safe byte is never escaped: accepting it would give one
			// value several spellings.
			return "", errBadEscape
		}
		b = append(b, c)
		i += 2
	}
	return string(b), nil
}

// maxCandidates bounds how many same-name cookies a request may make the
// middleware try: a few cover cookies tossed from a sibling subdomain or a
// deeper path, and the bound keeps a hostile Cookie header from costing a
// storage read per cookie.
const maxCandidates = 4

// incoming walks the values a request carries for one provider, in order:
// every cookie of the provider's name (browsers send the most specific
// path first), or the first value of its header.
type incoming struct {
	lines []string // Cookie lines not yet scanned
	line  string   // the rest of the current line
	name  string
	left  int // candidates still allowed
}

func (p *providerBase) incoming(r *http.Request) incoming {
	if p.kind == headerTransport {
		v := r.Header[p.name]
		if len(v) == 0 || v[0] == "" {
			return incoming{}
		}
		return incoming{line: v[0], left: 1}
	}
	return incoming{lines: r.Header["Cookie"], name: p.name, left: maxCandidates}
}

// next returns the next raw (escaped) value, without the allocations of
// parsing every cookie as r.Cookies does. Like net/http it strips one pair
// of surrounding double quotes from a cookie value.
func (in *incoming) next() (string, bool) {
	if in.left <= 0 {
		return "", false
	}
	if in.name == "" { // a header
		in.left = 0
		return in.line, true
	}
	for {
		for len(in.line) > 0 {
			var part string
			part, in.line, _ = strings.Cut(in.line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || k != in.name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			in.left--
			return v, true
		}
		if len(in.lines) == 0 {
			return "", false
		}
		in.line, in.lines = in.lines[0], in.lines[1:]
	}
}

// tooLarge reports whether an escaped value is over the provider's bound:
// name plus value for a cookie, the value for a header.
func (p *providerBase) tooLarge(value string) bool {
	n := len(value)
	if p.kind == cookieTransport {
		n += len(p.name)
	}
	return n > p.limit
}

// encodeWire is the write side of the wire format: transformers in order,
// escape, size check. Its reverse is decodeWire.
func (p *providerBase) encodeWire(v string) (string, error) {
	for _, t := range p.transformers {
		var err error
		if v, err = t.TransformWrite(p.bound, v); err != nil {
			return "", fmt.Errorf("sessions: %s %q: transform: %w", p.kind, p.name, err)
		}
	}
	if !p.safeText {
		v = escapeValue(v)
	}
	return p.checkSize(v)
}

// checkSize refuses an escaped value over the provider's bound.
func (p *providerBase) checkSize(v string) (string, error) {
	if err := p.checkLen(len(v)); err != nil {
		return "", err
	}
	return v, nil
}

// checkLen refuses an escaped value of n bytes over the provider's bound.
func (p *providerBase) checkLen(n int) error {
	if p.kind == cookieTransport {
		n += len(p.name)
	}
	if n > p.limit {
		return fmt.Errorf("%w: %s %q would be %d bytes, over %d", ErrTooLarge, p.kind, p.name, n, p.limit)
	}
	return nil
}

// sendsLines reports whether encodeTimes returns the whole Set-Cookie
// line, not the wire value: for a cookie sealed by one of this package's
// transformers alone.
func (p *providerBase) sendsLines() bool {
	return p.kind == cookieTransport && p.sealer != nil
}

// encodeTimes is encodeWire of a client-side value: the times, then the
// serialized value. With one of this package's sealing transformers alone,
// the value is written straight into what is sent: a header's value, or
// the Set-Cookie line that sends a cookie with maxAge seconds to live,
// which is returned instead of the wire value (sendsLines). Otherwise it
// returns the wire value, and send builds the line at commit.
func (p *providerBase) encodeTimes(t times, v string, maxAge int64) (string, error) {
	if p.sealer == nil {
		var head [32]byte
		return p.encodeWire(string(appendTimes(head[:0], t)) + v)
	}
	// The text is the base64url of the sealed bytes, with nothing to
	// escape; its length is known before sealing (the sealer's overhead
	// is fixed), so the sealer leaves room for it in its buffer.
	n := tfEncoding.EncodedLen(p.sealer.sealedLen(timesLen(t) + len(v)))
	if err := p.checkLen(n); err != nil {
		return "", err
	}
	buf, sealed := p.sealer.sealTimes(p.bound, t, v, n)
	defer tfPutBuffer(buf)
	text := buf.b[len(buf.b)-n:]
	tfEncoding.Encode(text, sealed)
	if p.kind == headerTransport {
		return string(text), nil
	}
	var num [24]byte
	age := p.maxAgeAttr(num[:0], maxAge)
	var b strings.Builder
	b.Grow(len(p.name) + 1 + n + len(p.cookieHead) + len(age) + len(p.cookieTail))
	b.WriteString(p.name)
	b.WriteByte('=')
	b.Write(text)
	b.WriteString(p.cookieHead)
	b.Write(age)
	b.WriteString(p.cookieTail)
	return b.String(), nil
}

// maxAgeAttr appends the Max-Age attribute of a cookie that lives maxAge
// seconds, or nothing for a browser-session cookie.
func (p *providerBase) maxAgeAttr(b []byte, maxAge int64) []byte {
	if p.browserOnly {
		return b
	}
	return strconv.AppendInt(append(b, "; Max-Age="...), max(maxAge, 1), 10)
}

// decodeWire reverses encodeWire on a value the client sent. The size
// bound comes first, so an oversized value costs nothing but its length.
// On failure it returns the reason, for the debug log.
func (p *providerBase) decodeWire(raw string) (string, string) {
	if p.tooLarge(raw) {
		return "", "value over the size bound"
	}
	v, err := raw, error(nil)
	if !p.safeText {
		if v, err = unescapeValue(raw); err != nil {
			return "", "malformed value"
		}
	}
	for i := len(p.transformers) - 1; i >= 0; i-- {
		if v, err = p.transformers[i].TransformRead(p.bound, v); err != nil {
			return "", "transformer refused the value"
		}
	}
	return v, ""
}

// send sets the session's value (already escaped) in the response
// headers, as e says: a cookie with e.maxAge seconds to live, or by the
// line e carries when encodeTimes built it. A line that is the first of
// its header takes an element of st's array.
func (p *providerBase) send(st *exchange, h http.Header, e headerEdit) {
	if p.kind == headerTransport {
		h[p.name] = st.line(e.value)
		return
	}
	if e.line != "" {
		addSetCookie(st, h, e.line)
		return
	}
	var num [24]byte
	age := p.maxAgeAttr(num[:0], e.maxAge)
	var b strings.Builder
	b.Grow(len(p.name) + 1 + len(e.value) + len(p.cookieHead) + len(age) + len(p.cookieTail))
	b.WriteString(p.name)
	b.WriteByte('=')
	b.WriteString(e.value)
	b.WriteString(p.cookieHead)
	b.Write(age)
	b.WriteString(p.cookieTail)
	addSetCookie(st, h, b.String())
}

// addSetCookie appends line to the response's Set-Cookie lines.
func addSetCookie(st *exchange, h http.Header, line string) {
	if lines := h["Set-Cookie"]; len(lines) > 0 {
		h["Set-Cookie"] = append(lines, line)
		return
	}
	h["Set-Cookie"] = st.line(line)
}

// sendClear tells the client to forget the session. A cookie is cleared with
// the same Path, Domain, Secure, SameSite and Partitioned attributes it was
// set with, or the browser would keep it.
func (p *providerBase) sendClear(st *exchange, h http.Header) {
	if p.kind == headerTransport {
		h[p.name] = st.line("")
		return
	}
	addSetCookie(st, h, p.clearLine)
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

// addVary adds name to the Vary header unless it, or "*", is already there:
// a response that depends on a session depends on the header carrying it.
func addVary(st *exchange, h http.Header, name string) {
	lines := h["Vary"]
	for _, line := range lines {
		for line != "" {
			var v string
			v, line, _ = strings.Cut(line, ",")
			v = strings.TrimSpace(v)
			if v == "*" || strings.EqualFold(v, name) {
				return
			}
		}
	}
	if len(lines) == 0 {
		h["Vary"] = st.line(name)
		return
	}
	h["Vary"] = append(lines, name)
}

// keepFromSharedCaches makes a response that sets or clears a session
// uncacheable by shared caches, which would otherwise hand one user's
// session to the next: "private" is added, unless the handler already
// said "private" or "no-store", which are as strict or stricter and are
// kept as they are. Directives that grant shared caches more ("public",
// "s-maxage") are dropped; the handler's other directives are kept.
func keepFromSharedCaches(st *exchange, h http.Header) {
	lines := h["Cache-Control"]
	if len(lines) == 0 {
		h["Cache-Control"] = st.line("private")
		return
	}
	var kept []string
	for _, line := range lines {
		for line != "" {
			var d string
			d, line, _ = strings.Cut(line, ",")
			d = strings.TrimSpace(d)
			name, _, _ := strings.Cut(d, "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store":
				return
			case "private":
				if !strings.Contains(d, "=") {
					return
				}
			case "public", "s-maxage":
				continue
			case "":
				continue
			}
			kept = append(kept, d)
		}
	}
	h["Cache-Control"] = []string{strings.Join(append(kept, "private"), ", ")}
}

// headerEdit is a response header change decided at commit.
type headerEdit struct {
	op     headerOp
	value  string // escaped wire value, with sendValue
	maxAge int64  // seconds, with sendValue
	line   string // with sendValue, instead of value and maxAge: the whole Set-Cookie line
}

type headerOp uint8

const (
	sendNothing headerOp = iota
	sendValue
	sendClear
)

// carries reports whether the request carries a value for p.
func (st *exchange) carries(p *providerBase) bool {
	in := p.incoming(&st.req)
	_, ok := in.next()
	return ok
}
