package sessions

import (
	"crypto/sha256"
	"encoding/base64"
)

// keyDomain starts what a storage key hashes, so that these keys can never
// equal a hash made for another purpose.
const keyDomain = "sessionkit/storage-key/v1\x00"

// keyPrefix is what every key of provider p hashes before the id: the
// transport and the name, so that a cookie and a header session of one
// name, or two providers sharing a storage, never share a key.
func keyPrefix(kind transportKind, name string) string {
	return keyDomain + kind.String() + "\x00" + name + "\x00"
}

// key returns the storage key of the session id: the SHA-256 of the
// provider's prefix and the id, in unpadded base64url, 43 characters of
// the id alphabet. A storage therefore never holds a raw id: a dump of it
// or a listing of its keys yields no value that works as a cookie (the
// middleware would hash it again), and a lookup takes the same time
// whatever prefix of an id a client guesses.
func (p *providerBase) key(id string) string {
	var buf [192]byte
	b := append(append(buf[:0], p.keyPrefix...), id...)
	sum := sha256.Sum256(b)
	// Encoded on the stack: EncodeToString would allocate the bytes and
	// then the string.
	var text [keyLen]byte
	base64.RawURLEncoding.Encode(text[:], sum[:])
	return string(text[:])
}

// keyLen is the length of a storage key: unpadded base64 of 32 bytes.
const keyLen = (sha256.Size*8 + 5) / 6
