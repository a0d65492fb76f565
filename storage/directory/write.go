package directory

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// put is Write, Create and Replace, and their indexed forms: the content
// goes to a temporary file, which is renamed over the entry under the
// folder's lock if cond (nil for Write) accepts whether the entry is live at
// that moment. An index other than "" is recorded in the entry's header,
// and its marker is made under the same lock before the rename (see
// index_layout.go).
func (s *Store) put(ctx context.Context, op, id, index string, expires time.Time, write func(io.Writer) error, cond func(live bool) error) error {
	if err := sessions.CheckID(id); err != nil {
		return fmt.Errorf("sessionkit/directory: %s: %w", op, err)
	}
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	e, err := s.locate(id)
	if err != nil {
		return err
	}

	f, err := os.CreateTemp(e.dir, tempPrefix+"*")
	if errors.Is(err, fs.ErrNotExist) {
		if op == "replace" {
			// No folder, no entry: a Replace creates nothing.
			return errReplaceNotFound
		}
		// Folders are made on the first Write into them and never removed
		// by the Store, but an operator may have removed one.
		if err = s.mkdir(e.dir); err == nil {
			f, err = os.CreateTemp(e.dir, tempPrefix+"*")
		}
	}
	if err != nil {
		return osError(op, err, e.name)
	}
	tmp, fileClosed, renamed := f.Name(), false, false
	defer func() {
		// Also runs when write panics: no temporary file outlives a
		// failed Write.
		if !fileClosed {
			f.Close()
		}
		if !renamed {
			os.Remove(tmp)
		}
	}()

	if s.opts.fileMode != 0o600 { // CreateTemp made it 0o600
		if err := f.Chmod(s.opts.fileMode); err != nil {
			return osError(op, err, e.name)
		}
	}

	bw := writerPool.Get().(*bufio.Writer)
	bw.Reset(f)
	w := &entryWriter{w: bw}
	defer func() {
		w.w = nil // even after a panic, before bw serves another Write
		bw.Reset(nil)
		writerPool.Put(bw)
	}()
	var h [headerSize]byte
	if index == "" {
		putHeader(&h, expiryNanos(expires))
		bw.Write(h[:]) // cannot fail: the buffer is larger than the header
	} else {
		putIndexedHeader(&h, expiryNanos(expires), index)
		bw.Write(h[:])
		bw.WriteString(index) // nor can this: header and key take at most 152 bytes
	}

	err = write(w)
	w.w = nil
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return osError(op, err, e.name)
	}
	if s.opts.sync {
		if err := f.Sync(); err != nil {
			return osError(op, err, e.name)
		}
	}
	fileClosed = true
	if err := f.Close(); err != nil {
		return osError(op, err, e.name)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessionkit/directory: %s: %w", op, err)
	}
	unlock, err := s.lockFolder(e.dir)
	if err != nil {
		return osError(op, err, "")
	}
	err = func() error {
		defer unlock()
		if cond != nil {
			live, err := s.liveAt(e.path)
			if err != nil {
				return osError(op, err, e.name)
			}
			if err := cond(live); err != nil {
				return err
			}
		}
		if index != "" {
			// Before the rename: a crash in between leaves a stale
			// marker, never an entry filed under index without one.
			if err := s.fileMarker(index, e); err != nil {
				return fmt.Errorf("sessionkit/directory: %s: %w", op, err)
			}
		}
		if err := os.Rename(tmp, e.path); err != nil {
			return osError(op, err, e.name)
		}
		renamed = true
		return nil
	}()
	if err != nil {
		return err
	}
	if s.opts.sync {
		if err := syncDir(e.dir); err != nil {
			return osError(op, err, e.name)
		}
	}
	return nil
}

// liveAt reports whether the entry at path is live now: present, with a
// readable header and an expiry that has not passed.
func (s *Store) liveAt(path string) (bool, error) {
	nanos, state, err := peekHeader(path)
	switch {
	case absent(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return state == headerOK && !expired(nanos, time.Now()), nil
}
