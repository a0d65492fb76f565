package sessions

import (
	"bytes"
	"errors"
	"io"
	"sync"
)

// WriteBuffered runs write against a pooled buffer and, when write
// succeeds, calls commit with the bytes it wrote. It is Storage.Write's
// "a failing writer changes nothing" rule for storages that need the whole
// value before they send or keep it: commit runs only after write has
// returned nil, so nothing half-written ever reaches the store.
//
// data is never nil (an empty value is an empty slice) and is valid only
// during commit: the buffer goes back to a pool afterwards, so a storage
// that keeps the bytes copies them. A writer that write keeps and uses after
// it returns gets [ErrWriterDone] instead of writing into a buffer another
// call owns. When write fails, WriteBuffered returns its error unchanged and
// does not call commit; otherwise it returns commit's error. It is safe for
// concurrent use.
func WriteBuffered(write func(io.Writer) error, commit func(data []byte) error) error {
	buf := writeBufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		// A pooled buffer keeps its capacity; letting a rare huge session
		// pin megabytes in the pool would cost more than it saves.
		if buf.Cap() <= maxPooledWriteBuf {
			writeBufPool.Put(buf)
		}
	}()
	w := &bufferedWriter{buf: buf}
	err := write(w)
	w.buf = nil
	if err != nil {
		return err
	}
	data := buf.Bytes()
	if data == nil {
		data = []byte{}
	}
	return commit(data)
}

// ErrWriterDone is returned by the writer [WriteBuffered] hands out when it is
// used after the write function it was given to has returned, which the
// [Storage] contract forbids.
var ErrWriterDone = errors.New("sessions: writer used after its write function returned")

var writeBufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledWriteBuf = 64 << 10

type bufferedWriter struct{ buf *bytes.Buffer }

func (w *bufferedWriter) Write(p []byte) (int, error) {
	if w.buf == nil {
		return 0, ErrWriterDone
	}
	return w.buf.Write(p)
}

// WriteString implements io.StringWriter, so encoders that produce strings
// need no conversion.
func (w *bufferedWriter) WriteString(s string) (int, error) {
	if w.buf == nil {
		return 0, ErrWriterDone
	}
	return w.buf.WriteString(s)
}

// ReadFrom implements [io.ReaderFrom], so io.Copy reads straight into the
// buffer.
func (w *bufferedWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.buf == nil {
		return 0, ErrWriterDone
	}
	return w.buf.ReadFrom(r)
}
