package directory

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
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
