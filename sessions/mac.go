package sessions

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"
	"sync"
)

const (
	// macMinKeyLen is the shortest key [MessageAuthentication] accepts: 128
	// bits, the least that resists brute force; 32 random bytes are better.
	macMinKeyLen = 16

	// macTagLen is the length of the untruncated HMAC-SHA256 tag.
	macTagLen = sha256.Size

	// macDomain starts every authenticated message, so that a tag made by
	// this transformer is never valid for another use of the same key, nor
	// for a later version of this layout.
	macDomain = "sessionkit/sessions.MessageAuthentication/v1\x00"
)

// MessageAuthentication returns a [Transformer] that signs session values
// with HMAC-SHA256, so that a client can read its session but not change
// it. Use it for by-value sessions whose content is not secret; use [Encrypt]
// when the client must not read the content either.
//
// The output of TransformWrite is base64url without padding of the value
// followed by its 32-byte tag. The tag covers the session name as well as
// the value, so a value moved from one cookie or header to another does not
// verify. TransformRead accepts a value signed by any key of the ring and
// returns the original value; for anything else (a changed, truncated or
// extended value, another session's value, a non-canonical encoding, a key
// no longer in the ring) it returns "" and [ErrUntrusted]. Tags are compared
// in constant time.
//
// key signs every new value; key and every key in older verify. To rotate,
// put the new key first and keep the old one in older until every session
// signed with it has expired: MessageAuthentication(newKey, oldKey).
// Dropping a key from the ring ends every session it signed.
//
// Every key must be at least 16 bytes; 32 bytes from crypto/rand are
// recommended. A shorter, nil or empty key, in key or in older, makes
// MessageAuthentication return a nil [Transformer] and an error that names
// the offending key by position and length. The keys are copied: the caller
// may zero or reuse its slices afterwards. A key used here should not also
// serve another purpose, such as [Encrypt].
//
// Signing does not hide the value. On its own it does not expire it either,
// but the middleware signs the session's creation and activity times in with
// the value, so a value replayed after its lifetime or idle timeout
// ([WithLifetime], [WithIdleTimeout]) is "no session"; within them, a client
// can replay a value it once received for as long as the key stays in the
// ring.
//
// The returned [Transformer] is safe for concurrent use.
func MessageAuthentication(key []byte, older ...[]byte) (Transformer, error) {
	ring, err := tfCheckKeys("MessageAuthentication", key, older, func(n int) error {
		if n < macMinKeyLen {
			return fmt.Errorf("keys must be at least %d bytes", macMinKeyLen)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	t := &macTransformer{keys: make([]*macKey, len(ring))}
	for i, k := range ring {
		t.keys[i] = macNewKey(k)
	}
	return t, nil
}

type macTransformer struct {
	keys []*macKey // keys[0] signs
}

// macKey keeps ready HMAC states for one key. hmac.New allocates the two
// hash states and runs the key through both; a pooled state reset to its
// keyed start is several times cheaper (see BenchmarkMACHashPerCall).
type macKey struct {
	pool sync.Pool // of hash.Hash
}

func macNewKey(key []byte) *macKey {
	k := append([]byte(nil), key...)
	mk := &macKey{}
	mk.pool.New = func() any { return hmac.New(sha256.New, k) }
	return mk
}

// sum appends the HMAC of msg to dst. With a dst of capacity macTagLen
// beyond its length, the tag is written in place.
func (k *macKey) sum(dst, msg []byte) []byte {
	h := k.pool.Get().(hash.Hash)
	h.Reset()
	h.Write(msg)
	dst = h.Sum(dst)
	k.pool.Put(h)
	return dst
}

// macAppendHeader appends what precedes the value in the authenticated
// message: the domain, then the length of name, then name.
func macAppendHeader(b []byte, name string) []byte {
	b = append(b, macDomain...)
	b = tfAppendLen(b, len(name))
	return append(b, name...)
}

// TransformWrite returns base64url(value || HMAC-SHA256(key, message)),
// where message is the domain, len(name), name and value. It never fails.
func (t *macTransformer) TransformWrite(name, value string) (string, error) {
	return t.transformWriteParts(name, nil, value), nil
}

func (*macTransformer) sealedLen(n int) int { return n + macTagLen }

func (t *macTransformer) sealTimes(name string, tm times, value string, room int) (*tfBuffer, []byte) {
	var head [32]byte
	return t.seal(name, appendTimes(head[:0], tm), value, room)
}

// transformWriteParts is TransformWrite of prefix followed by value.
func (t *macTransformer) transformWriteParts(name string, prefix []byte, value string) string {
	// One buffer: [message | tag | base64 text]; value and tag are adjacent,
	// so they are encoded in one pass without a copy.
	n := tfEncoding.EncodedLen(len(prefix) + len(value) + macTagLen)
	buf, sealed := t.seal(name, prefix, value, n)
	defer tfPutBuffer(buf)
	text := buf.b[len(buf.b)-n:]
	tfEncoding.Encode(text, sealed)
	return string(text)
}

// seal lays out, in a pooled buffer of room bytes more, the authenticated
// message of prefix followed by value and its tag, and returns the buffer
// and the bytes the text encodes: prefix, value and tag, which are
// adjacent. The caller returns the buffer with tfPutBuffer.
func (t *macTransformer) seal(name string, prefix []byte, value string, room int) (*tfBuffer, []byte) {
	n := len(prefix) + len(value)
	off := len(macDomain) + 8 + len(name)
	end := off + n + macTagLen
	buf := tfGetBuffer(end + room)
	b := buf.b
	msg := append(append(macAppendHeader(b[:0], name), prefix...), value...)
	t.keys[0].sum(msg[len(msg):len(msg):end], msg)
	return buf, b[off:end]
}

// TransformRead verifies a value made by TransformWrite for name under any
// key of the ring and returns the original value. Every failure returns ""
// and [ErrUntrusted].
func (t *macTransformer) TransformRead(name, value string) (string, error) {
	if len(value) < tfEncoding.EncodedLen(macTagLen) {
		return "", ErrUntrusted
	}
	// One buffer: [base64 text | message and received tag | computed tag].
	// Decoding straight after the header makes the message contiguous.
	hdr := len(macDomain) + 8 + len(name)
	dmax := tfEncoding.DecodedLen(len(value))
	sumAt := len(value) + hdr + dmax
	buf := tfGetBuffer(sumAt + macTagLen)
	defer tfPutBuffer(buf)
	b := buf.b

	text := b[:copy(b, value)]
	rest := b[len(text):sumAt]
	macAppendHeader(rest[:0], name)
	n, ok := tfDecode(rest[hdr:], text)
	if !ok || n < macTagLen {
		return "", ErrUntrusted
	}
	msgEnd := hdr + n - macTagLen
	msg, tag := rest[:msgEnd], rest[msgEnd:hdr+n]
	for _, k := range t.keys {
		if hmac.Equal(k.sum(b[sumAt:sumAt], msg), tag) {
			return string(msg[hdr:]), nil
		}
	}
	return "", ErrUntrusted
}

// Format prints the transformer and the size of its ring, never a key.
func (t *macTransformer) Format(f fmt.State, _ rune) {
	tfDescribe(f, "MessageAuthentication", len(t.keys))
}
