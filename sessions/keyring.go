package sessions

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrUntrusted is the error of every failed TransformRead of [Digest],
// [MessageAuthentication] and [Encrypt]: the value was not produced by
// TransformWrite under this session name and a key (or salt) of the ring.
// Whatever the cause (malformed base64, a non-canonical encoding, a value
// too short to hold a tag, a wrong tag, a value moved from another session
// name, a key dropped from the ring) the transformers return ErrUntrusted
// itself and nothing else, so that neither logs nor clients learn which
// check failed. The middleware treats it as "no session".
var ErrUntrusted = errors.New("sessions: value failed verification")

// tfEncoding is the only text form the transformers emit and accept. Strict
// mode rejects encodings whose unused trailing bits are not zero, so that
// exactly one string decodes to a given byte slice; tfDecode also rejects
// the CR and LF that the decoder silently skips even in strict mode.
var tfEncoding = base64.RawURLEncoding.Strict()

// tfMaxPooled bounds the capacity of a buffer returned to tfBufPool: a rare
// huge value must not pin megabytes in the pool for the life of the process.
const tfMaxPooled = 64 << 10

// tfBuffer is scratch space for one TransformRead or TransformWrite. Each
// call lays out every region it needs (base64 text, decoded bytes, the MAC
// message, plaintext) in one buffer, so that a call allocates nothing but
// the string it returns.
type tfBuffer struct{ b []byte }

var tfBufPool = sync.Pool{New: func() any { return new(tfBuffer) }}

// tfGetBuffer returns a pooled buffer of length n. Callers write every byte
// before they read it and never reach past its length.
func tfGetBuffer(n int) *tfBuffer {
	buf := tfBufPool.Get().(*tfBuffer)
	if cap(buf.b) < n {
		buf.b = make([]byte, n)
	}
	buf.b = buf.b[:n]
	return buf
}

// tfPutBuffer zeroes buf and returns it to the pool. Zeroing keeps one
// request's session content (plaintext, in [Encrypt]'s case) from surviving
// in memory that a later request, or a later bug, could expose.
func tfPutBuffer(buf *tfBuffer) {
	if cap(buf.b) > tfMaxPooled {
		return
	}
	clear(buf.b)
	tfBufPool.Put(buf)
}

// tfDecode decodes the base64url text that is already copied into src into
// dst and returns the number of bytes decoded. It reports false for
// anything that is not the one canonical unpadded encoding of some bytes:
// characters outside the alphabet, padding, non-zero trailing bits, and CR
// or LF, which the decoder skips. A canonical text of n bytes has exactly
// EncodedLen(n) characters, and a skipped character breaks that equality.
// dst must have room for DecodedLen(len(src)) bytes.
func tfDecode(dst, src []byte) (int, bool) {
	n, err := tfEncoding.Decode(dst, src)
	if err != nil || tfEncoding.EncodedLen(n) != len(src) {
		return 0, false
	}
	return n, true
}

// tfAppendLen appends n as 8 bytes, big endian. Length prefixes keep the
// boundary between a session name and its value unambiguous: ("ab", "c")
// and ("a", "bc") authenticate different messages.
func tfAppendLen(b []byte, n int) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(n))
}

// tfCheckKeys checks key and older with valid and returns them as one
// ring, first key first. It does not copy: constructors copy or expand the
// keys before they return. what names the constructor in errors, which
// name the offending key by position and length, never by content.
func tfCheckKeys(what string, key []byte, older [][]byte, valid func(n int) error) ([][]byte, error) {
	ring := make([][]byte, 0, 1+len(older))
	ring = append(ring, key)
	ring = append(ring, older...)
	for i, k := range ring {
		if err := valid(len(k)); err != nil {
			where := "key"
			if i > 0 {
				where = fmt.Sprintf("older[%d]", i-1)
			}
			return nil, fmt.Errorf("sessions: %s: %s is %d bytes; %v", what, where, len(k), err)
		}
	}
	return ring, nil
}

// tfDescribe prints a transformer as a description and a count of keys.
// The transformers implement fmt.Formatter with it for every verb, so that
// logging a transformer or a configuration that holds one (%v, %+v, %#v,
// %x, ...) can never print a key, a salt or an expanded key schedule.
func tfDescribe(w io.Writer, name string, keys int) {
	if keys == 0 {
		fmt.Fprintf(w, "sessions.%s", name)
		return
	}
	fmt.Fprintf(w, "sessions.%s(%d keys)", name, keys)
}
