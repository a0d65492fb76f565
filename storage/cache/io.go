package cache

import (
	"bytes"
	"errors"
	"io"
	"sync"
)

// reader gives read access to a cached value without exposing the slice
// that holds it: the caller only ever receives copies (into its own buffer
// through Read, or a fresh slice through WriteTo). Cached slices are never
// modified, so a reader stays consistent even if the entry is replaced or
// dropped while it is being read.
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
// modifying p, but a cache must not depend on every caller's writer obeying
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

// bufPool holds the buffers that values are collected in before they are
// copied into exact-size slices.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps a rare huge session from pinning megabytes in the
// pool.
const maxPooledBuffer = 64 << 10

func getBuffer() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer {
		bufPool.Put(b)
	}
}

// exact returns a copy of b's content that the cache can keep, never nil.
func exact(b *bytes.Buffer) []byte {
	if b.Len() == 0 {
		return []byte{}
	}
	return bytes.Clone(b.Bytes())
}

// errWriterDone is returned by a writer used after the write function it
// was given to has returned, which the Storage contract forbids.
var errWriterDone = errors.New("sessionkit/cache: writer used after its write function returned")

// tee is the writer a write function receives from Write: it passes every
// byte to the delegate's writer and keeps a copy, up to limit bytes, for the
// cache. It is detached when the write function returns, so a write function
// that keeps it cannot reach buffers that belong to other calls by then.
type tee struct {
	w     io.Writer     // the delegate's writer
	buf   *bytes.Buffer // the copy for the cache
	limit int64         // 0: no limit
	over  bool          // the value exceeded limit; the copy was dropped
}

func (t *tee) Write(p []byte) (int, error) {
	if t.w == nil {
		return 0, errWriterDone
	}
	n, err := t.w.Write(p)
	if t.room(n) {
		t.buf.Write(p[:n])
	}
	return n, err
}

// WriteString implements io.StringWriter, for encoders that produce strings.
func (t *tee) WriteString(s string) (int, error) {
	if t.w == nil {
		return 0, errWriterDone
	}
	n, err := io.WriteString(t.w, s)
	if t.room(n) {
		t.buf.WriteString(s[:n])
	}
	return n, err
}

// room reports whether n more bytes fit in the copy; once they do not, the
// copy is dropped for good.
func (t *tee) room(n int) bool {
	if t.over {
		return false
	}
	if t.limit > 0 && int64(t.buf.Len()+n) > t.limit {
		t.over = true
		t.buf.Reset()
		return false
	}
	return true
}

// capture wraps the write function given to Write, so that the cache learns
// the bytes the delegate stores.
type capture struct {
	limit int64
	buf   *bytes.Buffer
	// value is what the last run of the write function produced, or nil if
	// it failed, exceeded the limit or never ran. A delegate may run the
	// write function more than once (a retry); only the last run counts.
	value  []byte
	tooBig bool
}

func (c *capture) wrap(write func(io.Writer) error) func(io.Writer) error {
	return func(w io.Writer) error {
		c.value, c.tooBig = nil, false
		if c.buf == nil {
			c.buf = getBuffer()
		}
		c.buf.Reset()
		t := &tee{w: w, buf: c.buf, limit: c.limit}
		err := write(t)
		t.w = nil
		switch {
		case err != nil:
		case t.over:
			c.tooBig = true
		default:
			c.value = exact(c.buf)
		}
		return err
	}
}

func (c *capture) release() {
	if c.buf != nil {
		putBuffer(c.buf)
		c.buf = nil
	}
}

// readAll collects what r yields into an exact-size slice.
func readAll(r io.Reader) ([]byte, error) {
	buf := getBuffer()
	defer putBuffer(buf)
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	return exact(buf), nil
}
