package bolt

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// An entry is stored as an 8-byte header followed by the session content.
// The header is the expiry as big-endian Unix nanoseconds; 0 means never.
// Big-endian keeps the layout readable with any tool, and a fixed-size
// header lets Touch rewrite the expiry without decoding the content. The
// top bit of the header, which no expiry sets, marks an entry filed under
// an index key, which then sits between header and content (index.go).
const headerSize = 8

// indexFlag marks a header that an index key follows.
const indexFlag = uint64(1) << 63

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

// writeEntry writes the header placeholder, the index key if any, and
// then what write produces into buf. write gets a writer that is detached
// when it returns, so a write func that keeps its writer gets
// sessions.ErrWriterDone instead of writing into a pooled buffer that
// another call owns by then.
func writeEntry(buf *bytes.Buffer, index string, write func(io.Writer) error) error {
	var header [headerSize]byte
	if index != "" {
		header[0] = byte(indexFlag >> 56)
	}
	buf.Write(header[:])
	if index != "" {
		appendIndexPrefix(buf, index)
	}
	w := &detachedWriter{buf: buf}
	err := write(w)
	w.buf = nil
	return err
}

// appendIndexPrefix writes what follows the expiry header of an entry
// filed under index: its length byte and its bytes. index is CheckID-clean, so
// at most sessions.MaxIDLength (128) bytes long.
func appendIndexPrefix(buf *bytes.Buffer, index string) {
	buf.WriteByte(byte(len(index)))
	buf.WriteString(index)
}

// detachedWriter passes writes to buf until it is detached.
type detachedWriter struct{ buf *bytes.Buffer }

func (w *detachedWriter) Write(p []byte) (int, error) {
	if w.buf == nil {
		return 0, sessions.ErrWriterDone
	}
	return w.buf.Write(p)
}

// WriteString implements io.StringWriter, so encoders that produce strings
// need no conversion.
func (w *detachedWriter) WriteString(s string) (int, error) {
	if w.buf == nil {
		return 0, sessions.ErrWriterDone
	}
	return w.buf.WriteString(s)
}

// ReadFrom implements io.ReaderFrom, so io.Copy reads straight into the
// buffer.
func (w *detachedWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.buf == nil {
		return 0, sessions.ErrWriterDone
	}
	return w.buf.ReadFrom(r)
}

// decode splits a stored value into its expiry and content, skipping the
// index key it may record. The content aliases v. It fails with
// [ErrCorrupt] when v is too short for its header.
func decode(v []byte) (nanos int64, content []byte, err error) {
	nanos, _, content, err = decodeIndexed(v)
	return nanos, content, err
}

// decodeIndexed splits a stored value into its expiry, the index key it
// records (nil: filed under none) and its content, all aliasing v. It fails
// with [ErrCorrupt] when v is too short for its header or for the index key
// its header announces, or (v nil) absent.
func decodeIndexed(v []byte) (nanos int64, index, content []byte, err error) {
	if len(v) < headerSize {
		return 0, nil, nil, ErrCorrupt
	}
	h := binary.BigEndian.Uint64(v)
	if h&indexFlag == 0 {
		return int64(h), nil, v[headerSize:], nil
	}
	rest := v[headerSize:]
	if len(rest) == 0 || rest[0] == 0 || len(rest)-1 < int(rest[0]) {
		return 0, nil, nil, ErrCorrupt
	}
	n := 1 + int(rest[0])
	return int64(h &^ indexFlag), rest[1:n], rest[n:], nil
}

// expired reports whether an entry with header nanos is expired at now
// (Unix nanoseconds). An entry expires at the instant of its expiry.
func expired(nanos, now int64) bool {
	return nanos != 0 && nanos <= now
}
