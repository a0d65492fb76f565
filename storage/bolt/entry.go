package bolt

import (
	"encoding/binary"
	"math"
	"time"
)

// An entry is stored as an 8-byte header followed by the session content.
// The header is the expiry as big-endian Unix nanoseconds; 0 means never.
// Big-endian keeps the layout readable with any tool, and a fixed-size
// header lets Touch rewrite the expiry without decoding the content. The
// top bit of the header, which no expiry sets, marks an entry filed under
// an index key, which then sits between header and content (index.go).
const headerSize = 8

// maxExpiry is the latest instant Unix nanoseconds can hold (in 2262).
// Later expiries are stored as this one: the difference is academic, and
// time.Time.UnixNano is undefined beyond it.
var maxExpiry = time.Unix(0, math.MaxInt64)

// expiryNanos encodes expires for the header. It reports false when
// expires is not the zero Time and has already passed at now, in which case
// nothing readable may be stored.
func expiryNanos(expires, now time.Time) (int64, bool) {
	if expires.IsZero() {
		return 0, true
	}
	if !expires.After(now) {
		return 0, false
	}
	if expires.After(maxExpiry) {
		return math.MaxInt64, true
	}
	// expires is after now, and now is after 1970, so the nanoseconds are
	// positive and cannot collide with the "never" marker 0.
	return expires.UnixNano(), true
}

// putHeader sets the expiry in the header b starts with, keeping the
// header's index flag (see index.go).
func putHeader(b []byte, nanos int64) {
	flag := binary.BigEndian.Uint64(b[:headerSize]) & indexFlag
	binary.BigEndian.PutUint64(b[:headerSize], uint64(nanos)|flag)
}

// decode splits a stored value into its expiry and content, skipping the
// index key it may record. The content aliases v. It fails with
// [ErrCorrupt] when v is too short for its header.
func decode(v []byte) (nanos int64, content []byte, err error) {
	nanos, _, content, err = decodeIndexed(v)
	return nanos, content, err
}

// expired reports whether an entry with header nanos is expired at now
// (Unix nanoseconds). An entry expires at the instant of its expiry.
func expired(nanos, now int64) bool {
	return nanos != 0 && nanos <= now
}
