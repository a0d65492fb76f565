package directory

import (
	"bufio"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math"
	"os"
	"runtime"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// Entry header, 24 bytes, before the content:
//
//	0  4  magic "SKSE"
//	4  1  format version: 1, or 2 for an entry that records an index key
//	5  1  zero, or in version 2 the length of the index key (1..128), whose
//	      bytes follow the header (see index_layout.go)
//	6  2  zero
//	8  8  expiry, Unix nanoseconds, big endian; 0 means never
//	16 4  CRC-32 (IEEE) of bytes 8..16
//	20 4  zero
//
// Touch rewrites bytes 8..20 in place with one positioned write. The CRC lets
// a reader that raced such a write detect a torn expiry and read it again,
// which makes the in-place rewrite atomic to readers.
const (
	headerSize    = 24
	headerVersion = 1
	expiryOffset  = 8
	expiryLen     = 12 // expiry and its CRC, rewritten together by Touch
)

var headerMagic = [4]byte{'S', 'K', 'S', 'E'}

const (
	// headerVersionIndexed is the version of an entry that records an
	// index key: byte 5 of the header holds the key's length (1 to
	// sessions.MaxIDLength), and the key's bytes follow the header, before
	// the content. Entries filed under no index key keep version 1, the
	// format of entries written before the index existed.
	headerVersionIndexed = 2

	// keyLenOffset is the header byte that holds the index key's length.
	keyLenOffset = 5
)

// knownVersion reports whether a header of this version, with this key
// length byte, is one this package writes.
func knownVersion(version, keyLen byte) bool {
	switch version {
	case headerVersion:
		return true
	case headerVersionIndexed:
		return 1 <= keyLen && int(keyLen) <= sessions.MaxIDLength
	}
	return false
}

// expiryNanos encodes expires for the header. The zero Time is 0 (never).
// Times at or before the Unix epoch become 1, which is just as expired.
// Times past the int64 range (year 2262) are clamped to its end.
func expiryNanos(expires time.Time) int64 {
	switch {
	case expires.IsZero():
		return 0
	case !expires.After(time.Unix(0, 0)):
		return 1
	case expires.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return expires.UnixNano()
}

// putExpiry writes the expiry and its CRC into b, which is at least
// expiryLen long.
func putExpiry(b []byte, nanos int64) {
	binary.BigEndian.PutUint64(b[0:8], uint64(nanos))
	binary.BigEndian.PutUint32(b[8:12], crc32.ChecksumIEEE(b[0:8]))
}

// putHeader fills h with the header of an entry expiring at nanos.
func putHeader(h *[headerSize]byte, nanos int64) {
	*h = [headerSize]byte{}
	copy(h[0:4], headerMagic[:])
	h[4] = headerVersion
	putExpiry(h[expiryOffset:expiryOffset+expiryLen], nanos)
}

// putIndexedHeader fills h with the header of an entry expiring at nanos
// and filed under index, which is not empty; the key's bytes go right after
// it.
func putIndexedHeader(h *[headerSize]byte, nanos int64, index string) {
	putHeader(h, nanos)
	h[4] = headerVersionIndexed
	h[keyLenOffset] = byte(len(index))
}

// headerState classifies a header.
type headerState int

const (
	headerOK      headerState = iota
	headerTorn                // the expiry's CRC does not match: retry or give up
	headerShort               // fewer than headerSize bytes: debris of a crash
	headerForeign             // wrong magic or an unknown version
)

// parseHeader returns the expiry stored in h and whether h is usable.
func parseHeader(h []byte) (int64, headerState) {
	if len(h) < headerSize {
		return 0, headerShort
	}
	if [4]byte(h[0:4]) != headerMagic || !knownVersion(h[4], h[keyLenOffset]) {
		return 0, headerForeign
	}
	e := h[expiryOffset : expiryOffset+expiryLen]
	if crc32.ChecksumIEEE(e[0:8]) != binary.BigEndian.Uint32(e[8:12]) {
		return 0, headerTorn
	}
	return int64(binary.BigEndian.Uint64(e[0:8])), headerOK
}

// expired reports whether an entry with expiry nanos is expired at now.
func expired(nanos int64, now time.Time) bool {
	return nanos != 0 && now.UnixNano() >= nanos
}

// keyLenOf returns the length of the index key that follows the header h,
// which parseHeader accepted: 0 for an entry filed under none.
func keyLenOf(h []byte) int {
	if h[4] == headerVersionIndexed {
		return int(h[keyLenOffset])
	}
	return 0
}

// readIndexKey reads the index key that follows the header h from r, which
// is positioned right after the header. It returns "" for an entry filed
// under none, and io.ErrUnexpectedEOF when the file ends inside the key
// (debris of an operating system crash).
func readIndexKey(r io.Reader, h []byte) (string, error) {
	n := keyLenOf(h)
	if n == 0 {
		return "", nil
	}
	var b [sessions.MaxIDLength]byte
	if _, err := io.ReadFull(r, b[:n]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return "", err
	}
	return string(b[:n]), nil
}

// skipIndexKey moves br past the index key that follows the header h, so
// that what remains is the content. A file that ends inside the key reads
// as an unreadable header.
func skipIndexKey(br *bufio.Reader, h []byte, name string) error {
	n := keyLenOf(h)
	if n == 0 {
		return nil
	}
	if _, err := br.Discard(n); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return errReadBadHeader
		}
		return osError("read", err, name)
	}
	return nil
}

// checkHeader parses h, the first bytes (up to headerSize) read from f. A
// header torn by a concurrent Touch is read again from f a few times; a
// Touch is a single small write, so a later read sees it whole.
func checkHeader(f *os.File, h []byte) (int64, headerState, error) {
	nanos, state := parseHeader(h)
	for i := 0; state == headerTorn && i < 10; i++ {
		runtime.Gosched()
		var again [headerSize]byte
		n, err := f.ReadAt(again[:], 0)
		if err != nil && err != io.EOF {
			return 0, 0, err
		}
		nanos, state = parseHeader(again[:n])
	}
	return nanos, state, nil
}

// peekHeader returns the expiry in the header of the entry at path.
func peekHeader(path string) (int64, headerState, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var h [headerSize]byte
	n, err := f.ReadAt(h[:], 0)
	if err != nil && err != io.EOF {
		return 0, 0, err
	}
	return checkHeader(f, h[:n])
}

// peekIndexKey returns the expiry and the index key recorded by the entry
// at path. An entry cut inside its key is reported as headerShort.
func peekIndexKey(path string) (int64, string, headerState, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", 0, err
	}
	defer f.Close()
	var b [headerSize + sessions.MaxIDLength]byte
	n, err := f.ReadAt(b[:], 0)
	if err != nil && err != io.EOF {
		return 0, "", 0, err
	}
	nanos, state, err := checkHeader(f, b[:min(n, headerSize)])
	if err != nil || state != headerOK {
		return nanos, "", state, err
	}
	kl := keyLenOf(b[:headerSize])
	if n < headerSize+kl {
		return 0, "", headerShort, nil
	}
	return nanos, string(b[headerSize : headerSize+kl]), headerOK, nil
}
