package directory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

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
