package directory

import (
	"encoding/base32"
	"encoding/binary"
	"hash/crc32"
	"math"
	"path/filepath"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// On-disk layout
//
//	root/
//	  3f/                   fan-out folder: 2 lowercase hex digits, 256 at most
//	    <name>              one entry: header + content
//	    .tmp-123456         a Write in progress (or the debris of a crashed one)
//
// <name> is the id's bytes in unpadded base32 with the lowercase alphabet
// 0-9a-v (RFC 4648 "base32hex", lowercased). That encoding is injective and
// uses only [0-9a-v], so ids that differ only in case ("Ab", "ab") get names
// that also differ on case-insensitive file systems, a name can never hold a
// separator or a dot, and no name starts with the "." of temporary files.
// Lowercase hex, the obvious alternative, doubles the length: a 128-character
// id would need 256 bytes, over the 255-byte name limit of ext4, APFS and
// NTFS. Base32 needs 205 at most.
//
// The folder is an FNV-1a hash of the id folded to one byte, so ids spread
// evenly even when an application's ids share prefixes. The hash is fixed
// (not seeded per process) because every process sharing a root must find an
// id in the same folder.

const (
	// tempPrefix starts the name of every temporary file. Entry names never
	// start with '.', so List and the sweeper tell the two apart by name.
	tempPrefix = ".tmp-"

	// fanOut is the number of folders under root.
	fanOut = 256

	// maxNameLen is the length of the name of a MaxIDLength-character id.
	maxNameLen = (sessions.MaxIDLength*8 + 4) / 5
)

var nameEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

const hexDigits = "0123456789abcdef"

// folderNames holds the 256 fan-out folder names, so that finding an id's
// folder does not allocate.
var folderNames = func() (names [fanOut]string) {
	for i := range names {
		names[i] = string([]byte{hexDigits[i>>4], hexDigits[i&0xf]})
	}
	return names
}()

// folderOf returns the fan-out folder of id: two lowercase hex digits.
func folderOf(id string) string {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return folderNames[byte(h^h>>8^h>>16^h>>24)]
}

// relPath returns the path of id's entry relative to root. id must have
// passed [sessions.CheckID].
func relPath(id string) string { return joinRel("", id) }

// joinRel returns prefix followed by the path of id's entry relative to
// root. For a prefix of ordinary length it costs one allocation.
func joinRel(prefix, id string) string {
	var buf [512]byte
	b := append(buf[:0], prefix...)
	b = append(b, folderOf(id)...)
	b = append(b, filepath.Separator)
	b = nameEncoding.AppendEncode(b, []byte(id))
	return string(b)
}

// isFolderName reports whether name is a fan-out folder name: two lowercase
// hex digits.
func isFolderName(name string) bool {
	return len(name) == 2 && isLowerHex(name[0]) && isLowerHex(name[1])
}

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// idOf returns the id stored under folder/name, or false if name is not the
// canonical name of a valid id belonging in folder: such files are foreign
// (or temporary) and every walk of the tree leaves them alone.
func idOf(folder, name string) (string, bool) {
	if name == "" || len(name) > maxNameLen || strings.HasPrefix(name, ".") {
		return "", false
	}
	b, err := nameEncoding.DecodeString(name)
	if err != nil {
		return "", false
	}
	id := string(b)
	// Base32 without padding has spare bits in its last character; only the
	// canonical spelling (spare bits zero) is the name Write would create.
	if sessions.CheckID(id) != nil || nameEncoding.EncodeToString(b) != name || folderOf(id) != folder {
		return "", false
	}
	return id, true
}

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
