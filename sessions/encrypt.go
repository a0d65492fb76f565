package sessions

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

const (
	// encNonceLen is the standard AES-GCM nonce length, 96 bits.
	encNonceLen = 12

	// encTagLen is the AES-GCM tag length, 128 bits.
	encTagLen = 16

	// encOverhead is what [Encrypt] adds to a value before base64.
	encOverhead = encNonceLen + encTagLen
)

// Encrypt returns a [Transformer] that encrypts and authenticates session
// values with AES-GCM, so that a client can neither read nor change its
// session. Use it for by-value sessions whose content is secret.
//
// The output of TransformWrite is base64url without padding of a fresh
// random 12-byte nonce followed by the ciphertext and its 16-byte tag; the
// output is 28 bytes longer than the value before base64, and two writes of
// the same value differ. The session name is the associated data, so a
// value moved from one cookie or header to another does not decrypt.
// TransformRead accepts a value encrypted by any key of the ring and
// returns the original value; for anything else (a changed, truncated or
// extended value, another session's value, a non-canonical encoding, a key
// no longer in the ring) it returns "" and [ErrUntrusted].
//
// key encrypts every new value; key and every key in older decrypt. To
// rotate, put the new key first and keep the old one in older until every
// session encrypted with it has expired: Encrypt(newKey, oldKey). Dropping a
// key from the ring ends every session it encrypted.
//
// Every key must be exactly 16, 24 or 32 bytes (AES-128, AES-192,
// AES-256); 32 bytes from crypto/rand are recommended. Any other length, in
// key or in older, makes Encrypt return a nil [Transformer] and an error that
// names the offending key by position and length. The keys are expanded
// before Encrypt returns: the caller may zero or reuse its slices. A key
// used here should not also serve another purpose, such as
// [MessageAuthentication].
//
// Random 96-bit nonces are safe for about 2^32 writes per key; rotate the
// key well before that. Encryption on its own does not expire a value, but
// the middleware encrypts the session's creation and activity times with
// it, so a value replayed after its lifetime or idle timeout
// ([WithLifetime], [WithIdleTimeout]) is "no session"; within them, a client
// can replay a value it once received for as long as the key stays in the
// ring.
//
// The returned [Transformer] is safe for concurrent use.
func Encrypt(key []byte, older ...[]byte) (Transformer, error) {
	ring, err := tfCheckKeys("Encrypt", key, older, func(n int) error {
		switch n {
		case 16, 24, 32:
			return nil
		}
		return errors.New("AES keys must be 16, 24 or 32 bytes")
	})
	if err != nil {
		return nil, err
	}
	t := &encTransformer{aeads: make([]cipher.AEAD, len(ring))}
	for i, k := range ring {
		// Both calls copy what they need from k; an AEAD is safe for
		// concurrent use, so one per key serves every request.
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("sessions: Encrypt: %w", err)
		}
		if t.aeads[i], err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("sessions: Encrypt: %w", err)
		}
	}
	return t, nil
}

type encTransformer struct {
	aeads []cipher.AEAD // aeads[0] encrypts
}

// TransformWrite returns base64url(nonce || AES-GCM(value, ad=name)) with a
// fresh nonce from crypto/rand. It never fails: crypto/rand does not fail
// on supported platforms.
func (t *encTransformer) TransformWrite(name, value string) (string, error) {
	return t.transformWriteParts(name, nil, value), nil
}

func (*encTransformer) sealedLen(n int) int { return encOverhead + n }

func (t *encTransformer) sealTimes(name string, tm times, value string, room int) (*tfBuffer, []byte) {
	var head [32]byte
	return t.seal(name, appendTimes(head[:0], tm), value, room)
}

// transformWriteParts is TransformWrite of prefix followed by value.
func (t *encTransformer) transformWriteParts(name string, prefix []byte, value string) string {
	// One buffer: [nonce | ciphertext and tag | name | base64 text].
	n := tfEncoding.EncodedLen(encOverhead + len(prefix) + len(value))
	buf, sealed := t.seal(name, prefix, value, n)
	defer tfPutBuffer(buf)
	text := buf.b[len(buf.b)-n:]
	tfEncoding.Encode(text, sealed)
	return string(text)
}

// seal lays out, in a pooled buffer of room bytes more, a fresh nonce and
// the ciphertext and tag of prefix followed by value, and returns the
// buffer and those bytes, which the text encodes. The value is copied
// where its ciphertext goes and sealed in place; the name, the associated
// data, follows them. The caller returns the buffer with tfPutBuffer.
func (t *encTransformer) seal(name string, prefix []byte, value string, room int) (*tfBuffer, []byte) {
	sealed := encOverhead + len(prefix) + len(value)
	buf := tfGetBuffer(sealed + len(name) + room)
	b := buf.b

	nonce := b[:encNonceLen]
	rand.Read(nonce)
	k := copy(b[encNonceLen:], prefix)
	plain := b[encNonceLen : encNonceLen+k+copy(b[encNonceLen+k:], value)]
	ad := b[sealed : sealed+copy(b[sealed:sealed+len(name)], name)]
	t.aeads[0].Seal(plain[:0], nonce, plain, ad)
	return buf, b[:sealed]
}

// TransformRead decrypts a value made by TransformWrite for name under any
// key of the ring and returns the original value. Every failure returns ""
// and [ErrUntrusted].
func (t *encTransformer) TransformRead(name, value string) (string, error) {
	if len(value) < tfEncoding.EncodedLen(encOverhead) {
		return "", ErrUntrusted
	}
	// One buffer: [base64 text | nonce, ciphertext and tag | name |
	// plaintext]. The plaintext has its own region because a failed Open
	// may overwrite its destination, and the next key needs the ciphertext.
	dmax := tfEncoding.DecodedLen(len(value))
	adAt := len(value) + dmax
	plainAt := adAt + len(name)
	buf := tfGetBuffer(plainAt + dmax - encOverhead)
	defer tfPutBuffer(buf)
	b := buf.b

	text := b[:copy(b, value)]
	n, ok := tfDecode(b[len(text):adAt], text)
	if !ok || n < encOverhead {
		return "", ErrUntrusted
	}
	sealed := b[len(text) : len(text)+n]
	nonce, ciphertext := sealed[:encNonceLen], sealed[encNonceLen:]
	ad := b[adAt : adAt+copy(b[adAt:plainAt], name)]
	for _, aead := range t.aeads {
		if plain, err := aead.Open(b[plainAt:plainAt], nonce, ciphertext, ad); err == nil {
			return string(plain), nil
		}
	}
	return "", ErrUntrusted
}

// Format prints the transformer and the size of its ring, never a key.
func (t *encTransformer) Format(f fmt.State, _ rune) {
	tfDescribe(f, "Encrypt", len(t.aeads))
}
