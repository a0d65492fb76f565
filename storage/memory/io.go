package memory

import (
	"bytes"
	"errors"
	"io"
	"sync"
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

// errWriterDone is returned by a writer used after the write function it
// was given to has returned, which the Storage contract forbids.
var errWriterDone = errors.New("memory: writer used after its write function returned")

// bufPool holds the buffers that Write streams into before it copies the
// result into an exact-size slice.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps a rare huge session from pinning megabytes in the
// pool.
const maxPooledBuffer = 64 << 10

// writer is what a write function receives. It is detached from the pooled
// buffer as soon as the write function returns, so a write function that
// keeps the writer and uses it later gets an error instead of scribbling
// over a buffer that another Write is using by then.
type writer struct{ buf *bytes.Buffer }

func (w *writer) Write(p []byte) (int, error) {
	if w.buf == nil {
		return 0, errWriterDone
	}
	return w.buf.Write(p)
}

// WriteString implements io.StringWriter, avoiding a conversion for
// encoders that produce strings.
func (w *writer) WriteString(s string) (int, error) {
	if w.buf == nil {
		return 0, errWriterDone
	}
	return w.buf.WriteString(s)
}

// ReadFrom implements io.ReaderFrom so that io.Copy reads straight into the
// buffer.
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	if w.buf == nil {
		return 0, errWriterDone
	}
	return w.buf.ReadFrom(r)
}

// capture runs write against a pooled buffer and returns an exact-size copy
// of what it wrote. The copy is what the store keeps: callers may reuse
// whatever buffers they passed to the writer.
func capture(write func(io.Writer) error) ([]byte, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	w := &writer{buf: buf}
	err := write(w)
	w.buf = nil
	var data []byte
	if err == nil {
		data = bytes.Clone(buf.Bytes())
		if data == nil {
			data = []byte{} // bytes.Clone keeps nil for an empty buffer
		}
	}
	if buf.Cap() <= maxPooledBuffer {
		bufPool.Put(buf)
	}
	return data, err
}
