package directory

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

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
