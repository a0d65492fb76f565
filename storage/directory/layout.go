package directory

import (
	"encoding/base32"
	"path/filepath"
	"strings"

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
