package directory

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// staleTempAge is how old (by modification time) a temporary file must be
// before the sweeper removes it. A live Write keeps its temporary file for
// as long as its write function runs, which for a session is far less; a
// Write whose write function outlives this age may find its file gone and
// fail. The same age applies to empty or truncated entries left by an
// operating system crash.
const staleTempAge = time.Hour

// List yields the id of every live entry under the root, each once, in no
// particular order, with a nil error. It never yields an expired id, an
// entry whose header is unreadable, a temporary file, or a file or folder
// that is not an entry (foreign files are left alone); it does not follow
// symbolic links. An entry written or removed while the iteration runs may
// or may not be yielded. After Close, or when ctx is done, List yields
// ("", err) with err wrapping [sessions.ErrClosed] or ctx.Err(); any other
// failure is also yielded as ("", err), and each ends the iteration.
//
// List opens every entry to read its expiry: its cost grows with the
// number of entries, which makes it a tool for administration, not for
// serving requests.
func (s *Store) List(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := s.begin(ctx, "list"); err != nil {
			yield("", err)
			return
		}
		// A name that is removed and written again while its folder is
		// being read may show up twice in the folder's listing.
		seen := make(map[string]struct{})
		lastFolder := ""
		err := s.walk(ctx, "list", func(folder, dir string, de fs.DirEntry) (bool, error) {
			if folder != lastFolder {
				clear(seen)
				lastFolder = folder
			}
			name := de.Name()
			id, ok := idOf(folder, name)
			if !ok {
				return true, nil
			}
			if _, dup := seen[name]; dup {
				return true, nil
			}
			nanos, state, err := peekHeader(dir + string(filepath.Separator) + name)
			switch {
			case absent(err):
				return true, nil // removed since the folder was read
			case err != nil:
				return false, osError("list", err, name)
			case state != headerOK || expired(nanos, time.Now()):
				return true, nil
			}
			seen[name] = struct{}{}
			return yield(id, nil), nil
		})
		if err != nil {
			yield("", err)
		}
	}
}

// DeleteExpired removes every expired entry under the root and returns how
// many it removed. Live entries, foreign files and symbolic links are left
// alone. It also removes, without counting them, temporary files and empty
// or truncated entries older than an hour: the debris of writers that
// crashed or of an operating system crash. Then it sweeps the index: it
// removes the markers of entries that are gone or no longer record the
// marker's index key, and the index key folders left empty, and makes the
// missing marker of any live entry that records an index key (see the
// package documentation).
//
// A failure on one file does not stop the sweep: DeleteExpired goes on with
// the others and returns the full count with the first error. It stops
// early, returning the count so far with an error wrapping ctx.Err() or
// [sessions.ErrClosed], when ctx is done or the Store is closed.
//
// An entry is removed only if the file DeleteExpired found expired is still
// the entry when it removes it (same file identity), checked under the
// folder's lock that every rename onto an entry takes, so a Write or Create
// that renames fresh content over an expired entry is never undone by the
// sweep. Where the lock is only process-wide (see the package
// documentation), a Store in another process can still rename in the
// microseconds between the check and the removal; the content is then lost,
// which fails closed (the session is gone, never resurrected).
func (s *Store) DeleteExpired(ctx context.Context) (int, error) {
	if err := s.begin(ctx, "delete expired"); err != nil {
		return 0, err
	}
	return s.sweep(ctx)
}

func (s *Store) sweep(ctx context.Context) (int, error) {
	const op = "delete expired"
	removed := 0
	var first error
	pace := pacer{start: time.Now(), busy: s.sweepBusy}
	err := s.walk(ctx, op, func(folder, dir string, de fs.DirEntry) (bool, error) {
		if err := pace.step(ctx); err != nil {
			return false, fmt.Errorf("sessionkit/directory: %s: %w", op, err)
		}
		name := de.Name()
		var err error
		if strings.HasPrefix(name, tempPrefix) {
			err = removeStaleTemp(dir, de)
		} else if id, ok := idOf(folder, name); ok {
			var (
				n   int
				key string
			)
			n, key, err = sweepEntry(dir+string(filepath.Separator)+name, time.Now(), func() (func(), error) { return s.lockFolder(dir) })
			removed += n
			err = redact(err, name)
			if err == nil && key != "" {
				err = s.refile(id, key) // redacted already
			}
		}
		if err != nil && first == nil {
			first = fmt.Errorf("sessionkit/directory: %s: %w", op, err)
		}
		return true, nil
	})
	if err == nil {
		// After the entries, so that the markers of the entries just
		// removed go in the same sweep.
		err = s.sweepIndex(ctx, op)
	}
	if err == nil {
		err = first
	}
	return removed, err
}

// sweepChunk is how many files a sweep visits between two rests.
const sweepChunk = 256

// sweepRestFactor is how many times a chunk's length a sweep rests after
// it. Back to back, a sweep over a million entries opens every file and
// competes with the requests for the cores, the disk and the folders'
// locks: requests' p99 during it was twice what it was before
// (sessionbench scale).
const sweepRestFactor = 3

// pacer spaces out a sweep: after every sweepChunk files, it rests
// sweepRestFactor times as long as the chunk took, so that a sweep takes at
// most a quarter of the time it runs.
type pacer struct {
	start time.Time // when the current chunk began
	n     int       // files visited in it
	// busy, when set by a test, replaces a chunk's length.
	busy func(time.Duration) time.Duration
}

// step counts one file and, at the end of a chunk, rests; it returns
// ctx.Err() when ctx is done before the rest ends.
func (p *pacer) step(ctx context.Context) error {
	if p.n++; p.n < sweepChunk {
		return nil
	}
	d := time.Since(p.start)
	if p.busy != nil {
		d = p.busy(d)
	}
	t := time.NewTimer(sweepRestFactor * d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.n, p.start = 0, time.Now()
	return nil
}

// sweepEntry removes the entry at path if it is expired at now (and returns
// 1), or if its header is truncated and it is older than staleTempAge (and
// returns 0). It keeps everything else, and returns the index key a live
// entry it keeps records ("" for none). The removal happens under the
// folder's lock, taken by lock, after checking that the file found is still
// the entry: every rename onto an entry takes the same lock, so no fresh
// content can arrive between that check and the removal.
func sweepEntry(path string, now time.Time, lock func() (func(), error)) (int, string, error) {
	f, err := os.Open(path)
	if err != nil {
		if absent(err) {
			return 0, "", nil
		}
		return 0, "", err
	}
	key := ""
	found, err := func() (os.FileInfo, error) {
		defer f.Close()                               // before the removal: Windows cannot remove an open file
		var h [headerSize + sessions.MaxIDLength]byte // the header and an index key
		n, err := f.ReadAt(h[:], 0)
		if err != nil && err != io.EOF {
			return nil, err
		}
		nanos, state, err := checkHeader(f, h[:min(n, headerSize)])
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err != nil {
			return nil, err
		}
		switch {
		case state == headerOK && expired(nanos, now):
		case state == headerShort && now.Sub(fi.ModTime()) > staleTempAge:
		default:
			if kl := keyLenOf(h[:]); state == headerOK && kl > 0 && n >= headerSize+kl {
				key = string(h[headerSize : headerSize+kl])
			}
			return nil, nil
		}
		return fi, nil
	}()
	if found == nil || err != nil {
		return 0, key, err
	}
	unlock, err := lock()
	if err != nil {
		if absent(err) {
			return 0, "", nil
		}
		return 0, "", err
	}
	defer unlock()
	// A Write may have renamed fresh content over the entry since it was
	// opened; that content is not expired and must stay.
	cur, err := os.Lstat(path)
	if err != nil {
		if absent(err) {
			return 0, "", nil
		}
		return 0, "", err
	}
	if !os.SameFile(found, cur) {
		return 0, "", nil
	}
	if err := os.Remove(path); err != nil {
		if absent(err) {
			return 0, "", nil // another sweeper or an Invalidate was first
		}
		return 0, "", err
	}
	if found.Size() < headerSize {
		return 0, "", nil // debris, not an expired entry
	}
	return 1, "", nil
}

// removeStaleTemp removes the temporary file de in dir if it is older than
// staleTempAge.
func removeStaleTemp(dir string, de fs.DirEntry) error {
	fi, err := de.Info()
	if err != nil {
		if absent(err) {
			return nil // renamed into place or removed by its writer
		}
		return err
	}
	if time.Since(fi.ModTime()) <= staleTempAge {
		return nil
	}
	if err := os.Remove(dir + string(filepath.Separator) + de.Name()); err != nil && !absent(err) {
		return err
	}
	return nil
}

// walk calls visit with every regular file in every fan-out folder under
// the root, until visit returns false or an error. Anything else under the
// root (files, other folders, symbolic links, which are never followed) is
// not visited. A root or folder that does not exist has nothing to visit.
func (s *Store) walk(ctx context.Context, op string, visit func(folder, dir string, de fs.DirEntry) (bool, error)) error {
	folders, err := os.ReadDir(s.root)
	if err != nil {
		if absent(err) {
			return nil
		}
		return osError(op, err, "")
	}
	for _, fd := range folders {
		// A DirEntry describes the link itself, so a symbolic link to a
		// folder is not IsDir and is skipped.
		if !fd.IsDir() || !isFolderName(fd.Name()) {
			continue
		}
		if s.closed.Load() {
			return sessions.ErrClosed
		}
		more, err := walkFolder(ctx, op, fd.Name(), s.prefix+fd.Name(), visit)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// walkFolder is walk for one fan-out folder. It reads the folder in batches,
// so a folder of any size costs bounded memory.
func walkFolder(ctx context.Context, op, folder, dir string, visit func(folder, dir string, de fs.DirEntry) (bool, error)) (bool, error) {
	d, err := os.Open(dir)
	if err != nil {
		if absent(err) {
			return true, nil
		}
		return false, osError(op, err, "")
	}
	defer d.Close()
	for {
		batch, err := d.ReadDir(256)
		for _, de := range batch {
			if err := ctx.Err(); err != nil {
				return false, fmt.Errorf("sessionkit/directory: %s: %w", op, err)
			}
			if !de.Type().IsRegular() {
				continue
			}
			if more, err := visit(folder, dir, de); err != nil || !more {
				return false, err
			}
		}
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, osError(op, err, "")
		}
	}
}

// sweepLoop runs the background sweeper until ctx is cancelled: a sweep at
// once, then one per interval.
func (s *Store) sweepLoop(ctx context.Context, every time.Duration) {
	defer close(s.sweeperDone)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_, err := s.sweep(ctx)
		// A sweep cut short by Close is not a failure worth reporting.
		if err != nil && ctx.Err() == nil && !s.closed.Load() && s.opts.onSweepError != nil {
			s.opts.onSweepError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
