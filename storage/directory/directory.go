package directory

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// Store is a [sessions.Storage] that keeps one file per session under a root
// folder. It implements [sessions.Toucher], [sessions.ConditionalWriter],
// [sessions.ExpiryReader], [sessions.Indexer], [sessions.Lister],
// [sessions.Sweeper] and [io.Closer].
//
// A Store is safe for concurrent use by multiple goroutines, and several
// Stores, in one process or in several, may share one root: the guarantees
// come from the atomicity of renaming a file over another and from a lock
// file per fan-out folder (see the package documentation), none from locks
// held in memory. Concurrent Writes to one id end with exactly one of the
// written values, and a Read sees the whole old or the whole new content.
type Store struct {
	root   string // absolute and clean
	prefix string // root with a trailing separator
	opts   options

	closed atomic.Bool
	// processLocks makes lockFolder use processLock even where flock(2)
	// is available, so that tests exercise the fallback everywhere.
	processLocks bool
	// stopSweeper cancels the background sweeper; sweeperDone is closed when
	// its goroutine has returned. Both exist from New on (nil when the
	// sweeper is disabled), so Close never races the goroutine's start.
	stopSweeper context.CancelFunc
	sweeperDone chan struct{}
	// sweepBusy, when set by a test, replaces the length of a sweep's
	// chunk that its rest is based on.
	sweepBusy func(time.Duration) time.Duration
}

var (
	_ sessions.Storage = (*Store)(nil)
	_ sessions.Toucher = (*Store)(nil)
	_ sessions.Lister  = (*Store)(nil)
	_ sessions.Sweeper = (*Store)(nil)
	_ io.Closer        = (*Store)(nil)
)

// New returns a Store that keeps its entries under root, creating root (and
// its missing parents) with the folder mode if it does not exist. A relative
// root is made absolute at once, so a later change of the working directory
// does not move the Store. Entries already under root, written by an earlier
// Store, are served as they are.
//
// New returns an error if root exists and is not a folder, if it cannot be
// created, or if an option is invalid. Unless [WithSweepInterval] disables
// it, New starts a background sweeper; call Close to stop it.
func New(root string, opts ...Option) (*Store, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if o.fileMode&0o600 != 0o600 {
		return nil, fmt.Errorf("sessionkit/directory: new: file mode %v lacks owner read and write", o.fileMode)
	}
	if o.dirMode&0o700 != 0o700 {
		return nil, fmt.Errorf("sessionkit/directory: new: folder mode %v lacks owner read, write and search", o.dirMode)
	}
	if root == "" {
		return nil, errors.New("sessionkit/directory: new: empty root")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("sessionkit/directory: new: %w", err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := mkdirAll(abs, o.dirMode); err != nil {
			return nil, fmt.Errorf("sessionkit/directory: new: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("sessionkit/directory: new: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("sessionkit/directory: new: root %s is not a folder", abs)
	}

	s := &Store{root: abs, prefix: abs, opts: o}
	if !strings.HasSuffix(s.prefix, string(filepath.Separator)) {
		s.prefix += string(filepath.Separator)
	}
	if o.sweepInterval > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		s.stopSweeper = cancel
		s.sweeperDone = make(chan struct{})
		go s.sweepLoop(ctx, o.sweepInterval)
	}
	return s, nil
}

// Root returns the absolute path of the folder the Store keeps its entries
// in.
func (s *Store) Root() string { return s.root }

// Close stops the background sweeper, waiting for it to return, and marks
// the Store closed: every later call, Close included, returns an error
// wrapping [sessions.ErrClosed]. Calls already running when Close is called
// complete normally. The entries stay on disk for the next Store.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return sessions.ErrClosed
	}
	if s.stopSweeper != nil {
		s.stopSweeper()
		<-s.sweeperDone
	}
	return nil
}

// begin checks what every call checks before it touches the disk: that the
// Store is open and ctx is not done.
func (s *Store) begin(ctx context.Context, op string) error {
	if s.closed.Load() {
		return sessions.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessionkit/directory: %s: %w", op, err)
	}
	return nil
}

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

// Write implements [sessions.Storage]. What is particular to this Store:
// the content goes to a temporary file in the entry's folder, which is then
// renamed over the entry, so a concurrent Read, in this process or another,
// sees the whole old or the whole new content. If write panics, or ctx is
// done by the time the content is complete, the temporary file is removed
// and nothing changes. The writer passed to write is buffered; its errors
// wrap the file system's. Expiries past the year 2262 are clamped to it.
func (s *Store) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.put(ctx, "write", id, "", expires, write, nil)
}

// Read implements [sessions.Storage]. What is particular to this Store: an
// entry whose header is unreadable (an empty file left by an operating
// system crash without [WithSync], or a file this package did not write)
// reads as absent, so that the session is replaced instead of failing every
// request that carries it. Expired entries are left for the sweeper: a Read
// cannot remove a file without racing a Write that renames fresh content
// into place at the same moment. The reader passed to read is buffered.
func (s *Store) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	if err := sessions.CheckID(id); err != nil {
		return err // it says all there is: no prefix to stack on it
	}
	if err := s.begin(ctx, "read"); err != nil {
		return err
	}
	e, err := s.locate(id)
	if err != nil {
		return err
	}
	return readLive(e, func(r io.Reader, _ time.Time) error { return read(r) })
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

// Touch implements [sessions.Toucher] by rewriting the expiry in the entry's
// header in place, with one positioned write covering the expiry and its
// checksum; a reader that races it sees a checksum mismatch and reads the
// header again, so it sees the old or the new expiry. In place, Touch can
// never lose a concurrent Write: if a Write renames new content over the
// entry while a Touch runs, the Touch lands on the replaced file and the
// Write's content and expiry win, as if the Touch had happened just before.
// A Touch that races the very instant the entry expires may report success
// while the sweeper removes the entry. In place, Touch needs no new block on
// most file systems, so it keeps working on a full one (see the package
// documentation).
func (s *Store) Touch(ctx context.Context, id string, expires time.Time) error {
	if err := sessions.CheckID(id); err != nil {
		return err // it says all there is: no prefix to stack on it
	}
	if err := s.begin(ctx, "touch"); err != nil {
		return err
	}
	e, err := s.locate(id)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(e.path, os.O_RDWR, 0)
	if err != nil {
		if absent(err) {
			return errTouchNotFound
		}
		return osError("touch", err, e.name)
	}
	defer f.Close()
	var h [headerSize]byte
	n, err := f.ReadAt(h[:], 0)
	if err != nil && err != io.EOF {
		return osError("touch", err, e.name)
	}
	nanos, state, err := checkHeader(f, h[:n])
	if err != nil {
		return osError("touch", err, e.name)
	}
	if state != headerOK {
		return errTouchBadHeader
	}
	if expired(nanos, time.Now()) {
		return errTouchNotFound
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessionkit/directory: touch: %w", err)
	}
	var b [expiryLen]byte
	putExpiry(b[:], expiryNanos(expires))
	if _, err := f.WriteAt(b[:], expiryOffset); err != nil {
		return osError("touch", err, e.name)
	}
	if s.opts.sync {
		if err := f.Sync(); err != nil {
			return osError("touch", err, e.name)
		}
	}
	if err := f.Close(); err != nil {
		return osError("touch", err, e.name)
	}
	return nil
}

// Invalidate implements [sessions.Storage], for every process sharing the
// root. The entry's folder is kept even when it becomes empty: there are at
// most 256 folders, and removing one would race a Write that has just
// created its temporary file in it.
func (s *Store) Invalidate(ctx context.Context, id string) error {
	if err := sessions.CheckID(id); err != nil {
		return err // it says all there is: no prefix to stack on it
	}
	if err := s.begin(ctx, "invalidate"); err != nil {
		return err
	}
	e, err := s.locate(id)
	if err != nil {
		return err
	}
	// Under the folder's lock, so that a Replace or Create in any process
	// sharing the root either renames before the removal (and its entry is
	// removed) or checks after it (and finds the entry gone).
	unlock, err := s.lockFolder(e.dir)
	if err != nil {
		if absent(err) {
			return nil // no folder, no entry
		}
		return osError("invalidate", err, "")
	}
	err = os.Remove(e.path)
	unlock()
	if err != nil {
		if absent(err) {
			return nil
		}
		return osError("invalidate", err, e.name)
	}
	if s.opts.sync {
		if err := syncDir(e.dir); err != nil {
			return osError("invalidate", err, e.name)
		}
	}
	return nil
}

// checkHeader parses h, the first bytes (up to headerSize) read from f. A
// header torn by a concurrent Touch is read again from f a few times; a
// Touch is a single small write, so a later read sees it whole.
func checkHeader(f *os.File, h []byte) (int64, headerState, error) {
	nanos, state := parseHeader(h)
	for i := 0; state == headerTorn && i < 10; i++ {
		runtime.Gosched()
		var again [headerSize]byte
		n, err := f.ReadAt(again[:], 0)
		if err != nil && err != io.EOF {
			return 0, 0, err
		}
		nanos, state = parseHeader(again[:n])
	}
	return nanos, state, nil
}

// mkdir creates the fan-out folder dir, and root if an operator removed it.
// A folder that another Store created meanwhile is fine.
func (s *Store) mkdir(dir string) error {
	err := os.Mkdir(dir, s.opts.dirMode)
	if errors.Is(err, fs.ErrNotExist) {
		if err := mkdirAll(s.root, s.opts.dirMode); err != nil {
			return err
		}
		err = os.Mkdir(dir, s.opts.dirMode)
	}
	switch {
	case err == nil:
		// Mkdir's mode went through the umask; the option promises the
		// exact bits.
		return os.Chmod(dir, s.opts.dirMode)
	case errors.Is(err, fs.ErrExist):
		return nil
	}
	return err
}

// mkdirAll creates dir and its missing parents and gives dir exactly mode.
func mkdirAll(dir string, mode fs.FileMode) error {
	if err := os.MkdirAll(dir, mode); err != nil {
		return err
	}
	return os.Chmod(dir, mode)
}

// syncDir flushes the folder dir, so that a rename or removal in it
// survives an operating system crash.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		// Windows cannot open a folder for flushing, and NTFS journals the
		// rename itself.
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
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
