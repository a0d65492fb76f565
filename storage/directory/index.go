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
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

var _ sessions.Indexer = (*Store)(nil)

// CreateIndexed is [Store.Create] that also files id under index: the
// entry records index in its header, and a marker under index's folder
// points at it (see the package documentation). Both happen in the locked
// step that renames the entry into place, the marker first, so every Store
// sharing the root sees the entry filed exactly when it sees the entry. If
// id holds a live entry it returns an error wrapping [sessions.ErrExists]
// and changes nothing, the filing of that entry included. An empty index
// files id under no index key, as Create does; so does an expiry already
// past, which stores nothing readable. An id or index that fails
// [sessions.CheckID] yields an error wrapping [sessions.ErrInvalidID]
// before anything touches the disk; the other errors are Create's.
func (s *Store) CreateIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	index, err := s.checkIndex("create", index, expires)
	if err != nil {
		return err
	}
	return s.put(ctx, "create", id, index, expires, write, func(live bool) error {
		if live {
			return errCreateExists
		}
		return nil
	})
}

// ReplaceIndexed is [Store.Replace] that also files id under index, moving
// it from the index key it had: the new entry records index, and the marker
// under index is made in the locked step that renames it into place; the
// marker under the old key goes stale at that same rename (the entry no
// longer records that key) and is removed later, by ReadIndex of the old
// key or by the sweeper. If id is absent, expired or invalidated it returns
// an error wrapping [sessions.ErrNotFound] and files nothing. An empty
// index, or an expiry already past (which ends the entry), files id under
// no index key. Invalid ids and index keys are refused as by CreateIndexed;
// the other errors are Replace's.
func (s *Store) ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	index, err := s.checkIndex("replace", index, expires)
	if err != nil {
		return err
	}
	return s.put(ctx, "replace", id, index, expires, write, func(live bool) error {
		if !live {
			return errReplaceNotFound
		}
		return nil
	})
}

// checkIndex checks the index key of an indexed write and returns the one
// to record: "" when the entry cannot be live (an expiry already past by
// the local clock), so that no marker is made for it.
func (s *Store) checkIndex(op, index string, expires time.Time) (string, error) {
	if index == "" {
		return "", nil
	}
	if err := sessions.CheckID(index); err != nil {
		return "", fmt.Errorf("sessionkit/directory: %s: %w", op, err)
	}
	if !expires.IsZero() && !expires.After(time.Now()) {
		return "", nil
	}
	return index, nil
}

// ReadIndex calls read with the id, expiry (the zero Time: never) and
// content of every live entry filed under index, as [sessions.Indexer]
// describes, in no particular order.
//
// It lists the folder of index's markers (never any other folder: its cost
// is that of index's own entries and stale markers, whatever the root
// holds) and, for each marker, opens the entry it names and yields it only
// if the entry is live and records index in its header; expiry and content
// come from that one open file, so from one version of the entry even when
// a Write renames another into place meanwhile. A marker whose entry is
// absent, or records another index key or none, is stale: ReadIndex removes
// it, under the lock of the entry's folder after reading the entry again,
// once the listing is done. Markers of entries that are merely expired stay
// until the sweeper has removed the entries. ReadIndex never creates
// anything, and holds no lock while read runs, so read may use the Store.
//
// If read returns an error, ReadIndex stops and returns it as is. An index
// that fails [sessions.CheckID], the empty one included, yields an error
// wrapping [sessions.ErrInvalidID] before anything touches the disk; after
// Close, [sessions.ErrClosed]; when ctx is done, an error wrapping
// ctx.Err(). File system errors are wrapped, with the names of entries and
// of index keys redacted.
func (s *Store) ReadIndex(ctx context.Context, index string, read func(id string, expires time.Time, r io.Reader) error) error {
	const op = "read index"
	if err := sessions.CheckID(index); err != nil {
		return err // it says all there is: no prefix to stack on it
	}
	if err := s.begin(ctx, op); err != nil {
		return err
	}
	k, err := s.locateKey(index)
	if err != nil {
		return err
	}
	d, err := os.Open(k.dir)
	if err != nil {
		if absent(err) {
			return nil // nothing was ever filed under index, or all of it is gone
		}
		return indexError(op, err, "", k.name)
	}
	defer d.Close()

	// A marker removed and made again while the folder is read may show up
	// twice in its listing; an entry is yielded once.
	seen := make(map[string]struct{})
	var stale []string // ids whose markers looked stale
	for {
		batch, rerr := d.ReadDir(256)
		for _, de := range batch {
			if err := s.begin(ctx, op); err != nil {
				return err
			}
			id, ok := idFromName(de.Name())
			if !ok || !de.Type().IsRegular() {
				continue // foreign: left alone
			}
			if _, dup := seen[id]; dup {
				continue
			}
			seen[id] = struct{}{}
			filed, err := s.readFiled(op, id, index, k, read)
			if err != nil {
				return err
			}
			if !filed {
				stale = append(stale, id)
			}
		}
		// ENOENT: another ReadIndex or a sweep removed the folder, which
		// it does only once the folder is empty, so no entry filed under
		// index for the whole call is left to list.
		if rerr == io.EOF || absent(rerr) {
			break
		}
		if rerr != nil {
			return indexError(op, rerr, "", k.name)
		}
	}
	d.Close()
	removed := 0
	for _, id := range stale {
		n, err := s.unfileIfStale(op, index, id, k)
		if err != nil {
			return err
		}
		removed += n
	}
	if removed > 0 && removed == len(seen) {
		// Every marker was stale: the folder is likely empty. Removing it
		// fails harmlessly if a marker was made meanwhile, and fileMarker
		// makes the folder again if it removes it under a write's feet.
		os.Remove(k.dir)
	}
	return nil
}

// readFiled opens the entry of id and, if it is live and records index,
// calls read with it. It reports whether the entry records index (live or
// not): false means the marker that led here is stale. An unreadable entry
// (a crash's debris, a foreign file) is not yielded and counts as filed,
// so that its marker stays until the sweeper has dealt with the entry.
func (s *Store) readFiled(op, id, index string, k keyFolder, read func(id string, expires time.Time, r io.Reader) error) (bool, error) {
	e, err := s.locate(id)
	if err != nil {
		return false, err
	}
	filed := false
	found, err := openEntry(e, func(err error) error { return indexError(op, err, e.name, k.name) },
		func(br *bufio.Reader, r *entryReader, h []byte, nanos int64, state headerState) error {
			if state != headerOK {
				filed = true
				return nil
			}
			key, err := readIndexKey(br, h)
			switch {
			case err == io.ErrUnexpectedEOF:
				filed = true // cut inside its key: debris, for the sweeper
				return nil
			case err != nil:
				return indexError(op, err, e.name, k.name)
			case key != index:
				return nil
			}
			filed = true
			if expired(nanos, time.Now()) {
				return nil
			}
			var t time.Time
			if nanos != 0 {
				t = time.Unix(0, nanos)
			}
			return read(id, t, r)
		})
	if !found {
		return false, err
	}
	return filed, err
}

// fileMarker makes the marker of e's id under index, if it is missing. The
// caller holds the lock of e's folder. Errors have the names redacted but
// no prefix. The folders of the index are made as
// needed; a concurrent ReadIndex or sweep may remove an index key's folder
// that it found empty, so a marker that cannot be made for want of its
// folder is tried again. With WithSync, the marker and any folder made for
// it are flushed before fileMarker returns, so that the rename that follows
// never reaches the disk without them.
func (s *Store) fileMarker(index string, e entry) error {
	k, err := s.locateKey(index)
	if err != nil {
		return err
	}
	path := k.dir + string(filepath.Separator) + e.name
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		switch {
		case err == nil:
			if s.opts.fileMode != 0o600 {
				err = f.Chmod(s.opts.fileMode)
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err == nil && s.opts.sync {
				err = syncDir(k.dir)
			}
			if err != nil {
				return redactBoth(err, e.name, k.name)
			}
			return nil
		case errors.Is(err, fs.ErrExist):
			return nil // filed already
		case absent(err) && attempt < 100:
			// A folder mkdirIndex makes can be removed again, found empty,
			// before it is done with it: that too is tried again.
			if err := s.mkdirIndex(k.dir); err != nil && !absent(err) {
				return redactBoth(err, e.name, k.name)
			}
		default:
			return redactBoth(err, e.name, k.name)
		}
	}
}

// mkdirIndex makes the folder of an index key and the index folders above
// it that are missing, each with the folder mode exactly; with WithSync it
// flushes the parent of each folder it made.
func (s *Store) mkdirIndex(dir string) error {
	parent := filepath.Dir(dir)
	if parent != s.root {
		if _, err := os.Lstat(parent); absent(err) {
			if err := s.mkdirIndex(parent); err != nil {
				return err
			}
		}
	} else if _, err := os.Lstat(s.root); absent(err) {
		if err := mkdirAll(s.root, s.opts.dirMode); err != nil {
			return err
		}
	}
	err := os.Mkdir(dir, s.opts.dirMode)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil
	case err != nil:
		return err
	}
	if err := os.Chmod(dir, s.opts.dirMode); err != nil {
		return err
	}
	if s.opts.sync {
		return syncDir(parent)
	}
	return nil
}

// unfileIfStale removes the marker of id under index if, read again under
// the lock of id's folder, id's entry is absent or records another index
// key (or none). It returns 1 if it removed the marker. With the lock held
// no write can rename an entry filed under index into place between that
// read and the removal: such a write makes its marker under the same lock,
// before its rename.
func (s *Store) unfileIfStale(op, index, id string, k keyFolder) (int, error) {
	e, err := s.locate(id)
	if err != nil {
		return 0, err
	}
	unlock, err := s.lockFolder(e.dir)
	switch {
	case absent(err):
		// No folder, no entry; and no write holds the lock of a folder that
		// does not exist, so none is between its marker and its rename.
		unlock = func() {}
	case err != nil:
		return 0, indexError(op, err, "", k.name)
	}
	defer unlock()
	_, key, state, err := peekIndexKey(e.path)
	switch {
	case absent(err):
	case err != nil:
		return 0, indexError(op, err, e.name, k.name)
	case state != headerOK || key == index:
		return 0, nil // still filed, or debris that the sweeper judges
	}
	if err := os.Remove(k.dir + string(filepath.Separator) + e.name); err != nil {
		if absent(err) {
			return 0, nil // another ReadIndex or sweep was first
		}
		return 0, indexError(op, err, e.name, k.name)
	}
	return 1, nil
}

// peekIndexKey returns the expiry and the index key recorded by the entry
// at path. An entry cut inside its key is reported as headerShort.
func peekIndexKey(path string) (int64, string, headerState, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", 0, err
	}
	defer f.Close()
	var b [headerSize + sessions.MaxIDLength]byte
	n, err := f.ReadAt(b[:], 0)
	if err != nil && err != io.EOF {
		return 0, "", 0, err
	}
	nanos, state, err := checkHeader(f, b[:min(n, headerSize)])
	if err != nil || state != headerOK {
		return nanos, "", state, err
	}
	kl := keyLenOf(b[:headerSize])
	if n < headerSize+kl {
		return 0, "", headerShort, nil
	}
	return nanos, string(b[headerSize : headerSize+kl]), headerOK, nil
}
