package memory

import (
	"bytes"
	"io"
)

// reader gives read access to a stored value without exposing the slice
// that holds it: the caller only ever receives copies (into its own buffer
// through Read, or a fresh slice through WriteTo). Stored slices are never
// modified, so a reader stays consistent even if the entry is replaced or
// removed while it is being read.
type reader struct {
	data []byte
	off  int
}

// Read implements io.Reader.
func (r *reader) Read(p []byte) (int, error) {
	if r.off >= len(r.data) {
		return 0, io.EOF
	}
	n := copy(p, r.data[r.off:])
	r.off += n
	return n, nil
}

// WriteTo implements io.WriterTo so that io.Copy does not need a 32 KiB
// intermediate buffer. It hands w a copy: io.Writer forbids retaining or
// modifying p, but a store must not depend on every caller's writer obeying
// that.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	rest := r.data[r.off:]
	if len(rest) == 0 {
		return 0, nil
	}
	n, err := w.Write(bytes.Clone(rest))
	r.off += n
	if err == nil && n < len(rest) {
		err = io.ErrShortWrite
	}
	return int64(n), err
}

// Len returns the number of bytes not yet read, as bytes.Reader does, so a
// caller can size its buffer once.
func (r *reader) Len() int { return len(r.data) - r.off }
