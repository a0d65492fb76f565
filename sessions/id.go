package sessions

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// MaxIDLength is the longest id a [Storage] must accept.
const MaxIDLength = 128

// CheckID reports whether id is a valid session id: 1 to [MaxIDLength]
// characters from [A-Za-z0-9_-]. It returns nil for a valid id and an error
// wrapping [ErrInvalidID] otherwise. Storages call it before they build a key,
// a path or a query from id. The error never repeats the id: ids are secrets
// and must not reach logs.
func CheckID(id string) error {
	if len(id) == 0 || len(id) > MaxIDLength {
		return fmt.Errorf("%w: length %d outside 1..%d", ErrInvalidID, len(id), MaxIDLength)
	}
	for i := 0; i < len(id); i++ {
		if !idTable[id[i]] {
			return fmt.Errorf("%w: byte %d is not in [A-Za-z0-9_-]", ErrInvalidID, i)
		}
	}
	return nil
}

// idTable is the id alphabet as a lookup table: every storage call checks
// its id, and a table has no branches for random ids to mispredict.
var idTable = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
	}
	return t
}()

// NewID returns a fresh session id: 32 bytes from crypto/rand as 64
// lowercase hex characters. It is the default id generator of by-id
// sessions. crypto/rand does not fail on supported platforms, so neither
// does NewID.
func NewID() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
