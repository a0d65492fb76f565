package sessions

import (
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
)

const (
	// digestLen is the length of a SHA-384 sum.
	digestLen = sha512.Size384

	// digestDomain starts every digested message, so that these sums never
	// collide with hashes made for another purpose or a later layout.
	digestDomain = "sessionkit/sessions.Digest/v1\x00"
)

// Digest returns a [Transformer] that appends a salted SHA-384 digest to
// session values and checks it on read. It detects accidental corruption
// and casual editing, and nothing more: it is integrity only, not
// authentication. Anyone who knows or guesses the salt (it is not a key,
// it sits in configuration and source code, and a short one can be found
// by brute force from a single cookie) can forge values that verify. Use
// [MessageAuthentication], whose key is a real secret, to stop clients from
// changing their sessions, and [Encrypt] to also stop them from reading them.
// Digest exists for parity with Ktor's transformer of that name.
//
// The output of TransformWrite is base64url without padding of the value
// followed by SHA-384 over a domain string, the salt, the session name and
// the value, each but the last prefixed by its length; the value therefore
// stays readable by the client. Binding the name means a value moved from
// one cookie or header to another does not verify. TransformRead returns
// the original value for its own output under the same salt and name, and
// "" and [ErrUntrusted] for anything else; the comparison is constant time.
// SHA-384 is truncated SHA-512, which resists the length extension that
// broke Ktor's original secret-prefix digest.
//
// Any salt, even empty, is accepted. The returned [Transformer] is safe for
// concurrent use.
func Digest(salt string) Transformer {
	prefix := make([]byte, 0, len(digestDomain)+8+len(salt))
	prefix = append(prefix, digestDomain...)
	prefix = tfAppendLen(prefix, len(salt))
	prefix = append(prefix, salt...)
	return &digestTransformer{prefix: prefix}
}

type digestTransformer struct {
	prefix []byte // digestDomain, len(salt), salt
}

// appendHeader appends what precedes the value in the digested message.
func (t *digestTransformer) appendHeader(b []byte, name string) []byte {
	b = append(b, t.prefix...)
	b = tfAppendLen(b, len(name))
	return append(b, name...)
}

// TransformWrite returns base64url(value || SHA-384(message)). It never
// fails.
func (t *digestTransformer) TransformWrite(name, value string) (string, error) {
	// One buffer: [message | digest | base64 text]; value and digest are
	// adjacent, so they are encoded in one pass without a copy.
	off := len(t.prefix) + 8 + len(name)
	end := off + len(value) + digestLen
	buf := tfGetBuffer(end + tfEncoding.EncodedLen(len(value)+digestLen))
	defer tfPutBuffer(buf)
	b := buf.b

	msg := append(t.appendHeader(b[:0], name), value...)
	sum := sha512.Sum384(msg)
	copy(b[len(msg):end], sum[:])
	text := b[end:]
	tfEncoding.Encode(text, b[off:end])
	return string(text), nil
}

// TransformRead checks a value made by TransformWrite for name under this
// salt and returns the original value. Every failure returns "" and
// [ErrUntrusted].
func (t *digestTransformer) TransformRead(name, value string) (string, error) {
	if len(value) < tfEncoding.EncodedLen(digestLen) {
		return "", ErrUntrusted
	}
	// One buffer: [base64 text | message and received digest]. Decoding
	// straight after the header makes the message contiguous.
	hdr := len(t.prefix) + 8 + len(name)
	buf := tfGetBuffer(len(value) + hdr + tfEncoding.DecodedLen(len(value)))
	defer tfPutBuffer(buf)
	b := buf.b

	text := b[:copy(b, value)]
	rest := b[len(text):]
	t.appendHeader(rest[:0], name)
	n, ok := tfDecode(rest[hdr:], text)
	if !ok || n < digestLen {
		return "", ErrUntrusted
	}
	msgEnd := hdr + n - digestLen
	sum := sha512.Sum384(rest[:msgEnd])
	if subtle.ConstantTimeCompare(sum[:], rest[msgEnd:hdr+n]) != 1 {
		return "", ErrUntrusted
	}
	return string(rest[hdr:msgEnd]), nil
}

// Format prints the transformer, never its salt.
func (t *digestTransformer) Format(f fmt.State, _ rune) {
	tfDescribe(f, "Digest", 0)
}
