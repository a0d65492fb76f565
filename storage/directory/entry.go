package directory

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// entry is where an id lives on disk.
type entry struct {
	dir  string // the fan-out folder
	path string // the file
	name string // the file's name, which spells the id: redact it in errors
}

// locate returns the entry of id, which has passed [sessions.CheckID].
func (s *Store) locate(id string) (entry, error) {
	p := joinRel(s.prefix, id)
	rel := p[len(s.prefix):]
	// rel is two names made of [0-9a-v] by construction, so p cannot leave
	// root. It is checked anyway, because a slip in the encoding would be a
	// path traversal: p must be clean (no ".", "..", or doubled separator),
	// start with root, and continue with a local path (IsLocal also refuses
	// Windows device names such as NUL) of exactly two elements. None of
	// this allocates.
	if filepath.Clean(p) != p || !strings.HasPrefix(p, s.prefix) || !filepath.IsLocal(rel) || separators(rel) != 1 {
		return entry{}, errors.New("sessionkit/directory: internal error: entry path is not two levels under root")
	}
	name := rel[len("ab")+1:] // past the folder and the separator
	return entry{dir: p[:len(p)-len(name)-1], path: p, name: name}, nil
}

// separators counts the path separators in p.
func separators(p string) int {
	n := 0
	for i := 0; i < len(p); i++ {
		if os.IsPathSeparator(p[i]) {
			n++
		}
	}
	return n
}

// The buffers are pooled: a Write or Read costs a few system calls, and a
// fresh 4 KiB buffer for each would be most of its allocation.
var (
	writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}
)

// entryWriter is the writer a write function gets. It hides the buffer and
// the file behind it (a type assertion cannot reach them) and stops working
// when the write function returns, so a writer kept too long cannot write
// into another session's pooled buffer.
type entryWriter struct{ w *bufio.Writer }

func (w *entryWriter) Write(p []byte) (int, error) {
	if w.w == nil {
		return 0, errStaleWriter
	}
	n, err := w.w.Write(p)
	if err != nil {
		err = fmt.Errorf("sessionkit/directory: write: %w", err)
	}
	return n, err
}

func (w *entryWriter) WriteString(p string) (int, error) {
	if w.w == nil {
		return 0, errStaleWriter
	}
	n, err := w.w.WriteString(p)
	if err != nil {
		err = fmt.Errorf("sessionkit/directory: write: %w", err)
	}
	return n, err
}

// entryReader is the reader a read function gets; see entryWriter.
type entryReader struct {
	r    *bufio.Reader
	name string // the entry's file name, to redact from errors
}

func (r *entryReader) Read(p []byte) (int, error) {
	if r.r == nil {
		return 0, errStaleReader
	}
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = osError("read", err, r.name)
	}
	return n, err
}

// openEntry opens the file of e, reads and checks its header, and calls fn
// with the buffered reader just past the header, a reader of the content
// that stops working when fn returns (even on a panic, before the pooled
// buffer serves another call), the header, its expiry and its state. It
// reports false, with no error, when the file does not exist. Errors of
// the file system are passed through wrap; fn's are returned as they are.
func openEntry(e entry, wrap func(error) error, fn func(br *bufio.Reader, r *entryReader, h []byte, nanos int64, state headerState) error) (bool, error) {
	f, err := os.Open(e.path)
	if err != nil {
		if absent(err) {
			return false, nil
		}
		return false, wrap(err)
	}
	defer f.Close()

	br := readerPool.Get().(*bufio.Reader)
	br.Reset(f)
	r := &entryReader{r: br, name: e.name}
	defer func() {
		r.r = nil
		br.Reset(nil)
		readerPool.Put(br)
	}()
	var h [headerSize]byte
	n, err := io.ReadFull(br, h[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return true, wrap(err)
	}
	nanos, state, err := checkHeader(f, h[:n])
	if err != nil {
		return true, wrap(err)
	}
	return true, fn(br, r, h[:], nanos, state)
}

// readLive calls read with the content and the expiry (the zero Time:
// never) of the entry e, from one open file, if it is live; it is Read and
// ReadWithExpiry after their checks, with their errors.
func readLive(e entry, read func(r io.Reader, expires time.Time) error) error {
	found, err := openEntry(e, func(err error) error { return osError("read", err, e.name) },
		func(br *bufio.Reader, r *entryReader, h []byte, nanos int64, state headerState) error {
			if state != headerOK {
				return errReadBadHeader
			}
			if expired(nanos, time.Now()) {
				return errReadNotFound
			}
			if err := skipIndexKey(br, h, e.name); err != nil {
				return err
			}
			var t time.Time
			if nanos != 0 {
				t = time.Unix(0, nanos)
			}
			return read(r, t)
		})
	if !found && err == nil {
		return errReadNotFound
	}
	return err
}
