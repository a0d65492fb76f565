package directory

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// sweepIndex is the sweeper's pass over the index, after its pass over the
// entries: it removes every stale marker (one whose entry is absent or
// records another index key or none, checked again under the entry
// folder's lock, as ReadIndex does) and every index key folder left empty.
// It visits each marker once, so it costs what the index holds; markers of
// live entries cost one open and one read of a header each. Foreign files
// and folders are left alone. Like the entry pass it goes on after a
// failure and returns the first, and stops early when ctx is done or the
// Store is closed.
func (s *Store) sweepIndex(ctx context.Context, op string) error {
	base := s.prefix + indexFolder
	folders, err := os.ReadDir(base)
	if err != nil {
		if absent(err) {
			return nil // nothing was ever filed
		}
		return osError(op, err, "")
	}
	var first error
	for _, fd := range folders {
		if !fd.IsDir() || !isFolderName(fd.Name()) {
			continue
		}
		err := s.sweepKeyFolders(ctx, op, fd.Name(), base+string(filepath.Separator)+fd.Name(), &first)
		if err != nil {
			return err
		}
	}
	return first
}

// sweepKeyFolders sweeps the index key folders in one fan-out folder of the
// index. It returns an error that ends the sweep (ctx, Close); the others go
// to *first.
func (s *Store) sweepKeyFolders(ctx context.Context, op, folder, dir string, first *error) error {
	d, err := os.Open(dir)
	if err != nil {
		if !absent(err) && *first == nil {
			*first = osError(op, err, "")
		}
		return nil
	}
	defer d.Close()
	for {
		batch, rerr := d.ReadDir(256)
		for _, de := range batch {
			if err := s.begin(ctx, op); err != nil {
				return err
			}
			index, ok := idOf(folder, de.Name()) // key folders are named and placed as entries are
			if !ok || !de.IsDir() {
				continue
			}
			if err := s.sweepKey(ctx, op, index); err != nil && *first == nil {
				*first = err
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			if *first == nil {
				*first = osError(op, rerr, "")
			}
			return nil
		}
	}
}

// sweepKey removes the stale markers of one index key, and its folder if
// nothing is left in it.
func (s *Store) sweepKey(ctx context.Context, op, index string) error {
	k, err := s.locateKey(index)
	if err != nil {
		return err
	}
	d, err := os.Open(k.dir)
	if err != nil {
		if absent(err) {
			return nil
		}
		return indexError(op, err, "", k.name)
	}
	defer d.Close()
	var stale []string
	left := 0 // markers kept and foreign files: the folder is not empty
	for {
		batch, rerr := d.ReadDir(256)
		for _, de := range batch {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("sessionkit/directory: %s: %w", op, err)
			}
			id, ok := idFromName(de.Name())
			if !ok || !de.Type().IsRegular() {
				left++
				continue
			}
			e, err := s.locate(id)
			if err != nil {
				return err
			}
			_, key, state, err := peekIndexKey(e.path)
			switch {
			case absent(err):
				stale = append(stale, id)
			case err != nil:
				return indexError(op, err, e.name, k.name)
			case state == headerOK && key != index:
				stale = append(stale, id)
			default:
				left++ // filed (live or expired), or debris the entry pass judges
			}
		}
		if rerr == io.EOF || absent(rerr) { // absent: removed meanwhile, empty
			break
		}
		if rerr != nil {
			return indexError(op, rerr, "", k.name)
		}
	}
	d.Close()
	for _, id := range stale {
		n, err := s.unfileIfStale(op, index, id, k)
		if err != nil {
			return err
		}
		left += 1 - n
	}
	if left == 0 {
		// Fails harmlessly if a marker was made meanwhile; fileMarker makes
		// the folder again if this removes it under a write's feet.
		os.Remove(k.dir)
	}
	return nil
}

// refile makes the marker of id under index if it is missing while id's
// entry, live, records index: the entry pass of the sweeper calls it for
// every live entry that records an index key. Writes make the marker
// before the rename, so it is missing only if an operating system crash
// (without WithSync) kept the rename and lost the marker; the first sweep
// after the restart, which New starts at once, files the entry again.
// Errors have the names redacted but no prefix.
func (s *Store) refile(id, index string) error {
	if sessions.CheckID(index) != nil {
		return nil // not a key any write records: leave the entry to be read as it is
	}
	k, err := s.locateKey(index)
	if err != nil {
		return err
	}
	e, err := s.locate(id)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(k.dir + string(filepath.Separator) + e.name); err == nil || !absent(err) {
		return redactBoth(err, e.name, k.name) // nil when filed, as nearly always
	}
	unlock, err := s.lockFolder(e.dir)
	if err != nil {
		if absent(err) {
			return nil
		}
		return redactBoth(err, e.name, k.name)
	}
	defer unlock()
	nanos, key, state, err := peekIndexKey(e.path)
	switch {
	case absent(err):
		return nil
	case err != nil:
		return redactBoth(err, e.name, k.name)
	case state != headerOK || key != index || expired(nanos, time.Now()):
		return nil
	}
	return s.fileMarker(index, e)
}
