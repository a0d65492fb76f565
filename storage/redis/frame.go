package redis

import (
	"errors"
	"io"

	"github.com/sessionkit/sessionkit/sessions"
)

// Every value a Store writes starts with a frame that records the index key
// the entry is filed under: one byte n, the length of the index key (0 for
// none, at most sessions.MaxIDLength), then the n bytes of the index key,
// then the content exactly as the write func produced it.
//
// The frame lives in the value rather than in a key of its own because it
// must change with the content in one step: the SET that writes the content
// writes the frame, so an entry and the index key it records can never
// disagree, on a Cluster too (one key, one slot), at a cost of one byte for
// an entry filed under no index key and 1+43 bytes for one filed under a
// middleware index key. A second key per entry would cost a key's overhead
// (some 50 bytes in the keyspace, plus an expiry), a second command on
// every write and Touch, and a second slot on a Cluster.
//
// Lengths above sessions.MaxIDLength are not a frame; they are left for a
// later format to tell itself apart.

// frameHeads[n] is the one-byte head of a frame for an index key of n bytes,
// kept as strings so that writing a head allocates nothing.
var frameHeads = func() (h [sessions.MaxIDLength + 1]string) {
	for n := range h {
		h[n] = string([]byte{byte(n)})
	}
	return h
}()

// errMalformed reports a value under the Store's prefix that does not start
// with a frame: not written by a Store of this version.
var errMalformed = errors.New("sessionkit/redis: read: the entry is not in the Store's format")

// framed returns a write func that writes the frame of index, then what
// write writes. index has passed sessions.CheckID or is empty.
func framed(index string, write func(io.Writer) error) func(io.Writer) error {
	return func(w io.Writer) error {
		if _, err := io.WriteString(w, frameHeads[len(index)]); err != nil {
			return err
		}
		if _, err := io.WriteString(w, index); err != nil {
			return err
		}
		return write(w)
	}
}

// parseFrame splits a stored value into the index key its frame records
// and the content. ok is false when v does not start with a frame.
func parseFrame(v string) (index, content string, ok bool) {
	if v == "" {
		return "", "", false
	}
	n := int(v[0])
	if n > sessions.MaxIDLength || len(v) < 1+n {
		return "", "", false
	}
	return v[1 : 1+n], v[1+n:], true
}
