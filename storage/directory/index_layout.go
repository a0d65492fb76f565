package directory

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/sessionkit/sessionkit/sessions"
)

// On-disk layout of the index (sessions.Indexer)
//
//	root/
//	  3f/<name>                 entries, as in layout.go
//	  index/                    the index: never a fan-out folder name, so
//	                            List and the sweeper's entry pass skip it
//	    a7/                     fan-out folder of the index key (folderOf)
//	      <key name>/           one index key: its bytes in the base32 of names
//	        <name>              a marker: an empty file named like the entry
//	                            of an id filed under this index key
//
// An entry filed under an index key records the key in its own file
// (header version 2, see header.go), written with its content and renamed
// into place with it. The marker is only a hint of where to look: ReadIndex
// lists the markers of one index key and yields an entry only if it is
// live and records that key. A marker whose entry is absent or records
// another key (or none) is stale, and is removed by ReadIndex or the
// sweeper under the lock of the entry's folder. The invariant that makes
// ReadIndex never miss a live entry:
//
//	every entry whose file records the index key k has a marker under k.
//
// It holds because the markers are made and removed under the lock of the
// entry's fan-out folder, which every rename onto an entry takes: a write
// filed under k makes (or finds) the marker before it renames the entry
// into place, holding the lock, and a marker is removed only while holding
// the same lock, after reading that the entry is absent or records another
// key; Touch changes an expiry, never a key. A crash between the marker and
// the rename leaves a stale marker, never an entry without one. Entry names
// and key names use one encoding but live under different parents, so the
// two namespaces cannot collide.

const (
	// indexFolder is the child of root that holds the index. It is not a
	// fan-out folder name (two hex digits), so the walks over entries never
	// enter it.
	indexFolder = "index"
)

// keyFolder is where the markers of one index key live.
type keyFolder struct {
	dir  string // root/index/<fan-out>/<key name>
	name string // the key's name, which spells it: redact it in errors
}

// locateKey returns the folder of index, which has passed
// [sessions.CheckID]. As for entries, the path is checked to be where it
// must be (exactly three levels under root, under the index folder), so
// that a slip in the encoding could never be a path traversal.
func (s *Store) locateKey(index string) (keyFolder, error) {
	p := joinRel(s.prefix+indexFolder+string(filepath.Separator), index)
	rel := p[len(s.prefix):]
	if filepath.Clean(p) != p || !strings.HasPrefix(p, s.prefix+indexFolder+string(filepath.Separator)) ||
		!filepath.IsLocal(rel) || separators(rel) != 2 {
		return keyFolder{}, errors.New("sessionkit/directory: internal error: index key path is not three levels under root")
	}
	return keyFolder{dir: p, name: p[len(p)-nameEncoding.EncodedLen(len(index)):]}, nil
}

// idFromName returns the id whose entry is named name (the name of a
// marker), or false if name is not the canonical name of a valid id.
func idFromName(name string) (string, bool) {
	if name == "" || len(name) > maxNameLen || strings.HasPrefix(name, ".") {
		return "", false
	}
	b, err := nameEncoding.DecodeString(name)
	if err != nil {
		return "", false
	}
	id := string(b)
	if sessions.CheckID(id) != nil || nameEncoding.EncodeToString(b) != name {
		return "", false
	}
	return id, true
}

// redactKey replaces the name of an index key's folder in the paths of
// err, as redact does for entry names: an index key is a hash of a user's
// identity, which does not belong in logs either.
func redactKey(err error, keyName string) error {
	if keyName == "" {
		return err
	}
	hideKey := func(p string) string { return strings.ReplaceAll(p, keyName, redactedKey) }
	switch e := err.(type) {
	case *fs.PathError:
		return &fs.PathError{Op: e.Op, Path: hideKey(e.Path), Err: e.Err}
	case *os.LinkError:
		return &os.LinkError{Op: e.Op, Old: hideKey(e.Old), New: hideKey(e.New), Err: e.Err}
	}
	return err
}

// redactedKey replaces an index key's folder name in the paths of errors.
const redactedKey = "<index>"

// indexError is osError for errors about the index: both the entry's name
// and the index key's are redacted.
func indexError(op string, err error, name, keyName string) error {
	return osError(op, redactBoth(err, name, keyName), "")
}

// redactBoth redacts the entry's name and the index key's in the paths of
// err, the longer first, so that one name inside the other cannot leave
// part of it behind.
func redactBoth(err error, name, keyName string) error {
	if len(name) > len(keyName) {
		return redactKey(redact(err, name), keyName)
	}
	return redact(redactKey(err, keyName), name)
}
