package sessions

import (
	"crypto/sha256"
	"encoding/base64"
)

// keyDomain starts what a storage key hashes, so that these keys can never
// equal a hash made for another purpose.
const keyDomain = "sessionkit/storage-key/v1\x00"

// storageKeyPrefix is what every key of provider p hashes before the id: the
// transport and the name, so that a cookie and a header session of one
// name, or two providers sharing a storage, never share a key.
func storageKeyPrefix(kind transportKind, name string) string {
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

// indexDomain starts what an index key hashes, so that an index key never
// equals a storage key, nor a hash made for another purpose.
const indexDomain = "sessionkit/index-key/v1\x00"

// indexKeyPrefix is what every index key of a provider hashes before the
// application's key: the transport and the name, as for storage keys, so
// that two providers indexing by the same user id never share an index key.
func indexKeyPrefix(kind transportKind, name string) string {
	return indexDomain + kind.String() + "\x00" + name + "\x00"
}

// indexKey returns the index key under which the provider files the
// sessions whose [WithIndex] function returns userKey: the SHA-256 of the
// provider's index prefix and userKey, in unpadded base64url, 43
// characters of the id alphabet. A storage therefore never holds the
// application's key (a user id, an e-mail address) in the clear. The empty
// userKey files under no index key, and gives "".
func (p *providerBase) indexKey(userKey string) string {
	if userKey == "" {
		return ""
	}
	var buf [192]byte
	b := append(append(buf[:0], p.indexPrefix...), userKey...)
	sum := sha256.Sum256(b)
	// Encoded on the stack: one allocation, the string, where
	// EncodeToString makes two.
	var out [keyLen]byte
	base64.RawURLEncoding.Encode(out[:], sum[:])
	return string(out[:])
}
