//go:build !windows && !plan9 && !solaris && !aix && !android

package bolt_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/bolt"
	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// The tests of damaged database files, on the systems where Open checks
// the file before bbolt reads it (prepare_flock.go) and where a file can be
// truncated while it is mapped. Each starts from a fresh copy of a
// template file (corruptfile_test.go) with one kind of damage, checks the
// error that reports it, and checks that the Store still closes, under a
// hang detector, and leaves no lock, descriptor or goroutine behind.

// Page choices for the tables.
var (
	pickFreelist   = freelistPage
	pickRoot       = rootPage
	pickBranch     = bucketRoot
	pickLeaf       = victimLeaf
	pickNewestMeta = newestMeta
	pickOlderMeta  = olderMeta
)

// resources is what a Store may leave behind: open descriptors (on Linux,
// where /proc/self/fd lists them) and goroutines.
type resources struct{ fds, goroutines int }

func countResources(t *testing.T) resources {
	t.Helper()
	r := resources{fds: -1, goroutines: runtime.NumGoroutine()}
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		r.fds = len(ents)
	}
	return r
}

// checkNoLeaks fails t unless the descriptors and goroutines are back to
// before. Goroutines of the test itself (the hang detector's) finish just
// after they report, so the count is polled up to hangTimeout.
func checkNoLeaks(t *testing.T, before resources) {
	t.Helper()
	deadline := time.Now().Add(hangTimeout)
	for {
		now := countResources(t)
		if now.fds <= before.fds && now.goroutines <= before.goroutines {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("left behind: %d descriptors and %d goroutines before, %d and %d after", before.fds, before.goroutines, now.fds, now.goroutines)
		}
		time.Sleep(time.Millisecond)
	}
}

// checkCorrupt fails t unless err reports damage: it wraps ErrCorrupt,
// starts with the package prefix, and does not name id.
func checkCorrupt(t *testing.T, what string, err error, id string) {
	t.Helper()
	switch {
	case !errors.Is(err, bolt.ErrCorrupt):
		t.Fatalf("%s = %v, want an error wrapping ErrCorrupt", what, err)
	case !strings.HasPrefix(err.Error(), "sessionkit/bolt: "):
		t.Errorf("%s: error %q lacks the package prefix", what, err)
	case id != "" && strings.Contains(err.Error(), id):
		t.Errorf("%s: error %q names the id", what, err)
	}
}

// openWithin opens path under the hang detector.
func openWithin(t *testing.T, path string, opts ...bolt.Option) (s *bolt.Store, err error) {
	t.Helper()
	opts = append([]bolt.Option{bolt.WithSweepInterval(0), bolt.WithLockTimeout(0), bolt.WithSync(false)}, opts...)
	within(t, "Open", func() { s, err = bolt.Open(path, opts...) })
	return s, err
}

// closeWithin closes s under the hang detector and fails t on an error.
func closeWithin(t *testing.T, s *bolt.Store) {
	t.Helper()
	var err error
	within(t, "Close", func() { err = s.Close() })
	if err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
}

// restoreTemplate repairs the file at path by writing an undamaged copy
// over it, in place: the same file, whose lock a failed Open must have
// released (a new file renamed over it would have a lock of its own), and
// checks that Open works on it at once (a lock left behind fails it with
// WithLockTimeout(0)).
func restoreTemplate(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, templateData, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := openWithin(t, path)
	if err != nil {
		t.Fatalf("Open of the repaired file: %v", err)
	}
	if got, err := read(s, templateID(1)); err != nil || got != string(templateContent(1)) {
		t.Errorf("Read from the repaired file = %q, %v", got, err)
	}
	closeWithin(t, s)
}

// TestOpenOfDamagedFileFailsWithErrCorrupt damages the pages that Open
// reads (meta, freelist, the page of the top-level buckets, the length of
// the file): Open returns ErrCorrupt instead of panicking, leaves nothing
// behind, a second Open fails the same way (not with a lock timeout), and
// once the file is repaired it opens.
func TestOpenOfDamagedFileFailsWithErrCorrupt(t *testing.T) {
	cutShort := func(t *testing.T, f *os.File, l fileLayout) {
		if err := f.Truncate(int64(len(templateData) / 2)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		damage func(*testing.T, *os.File, fileLayout)
		also   error // another error the result must wrap
	}{
		// The case: bbolt.Open's first commit frees the freelist
		// page by the id in its header and panics "cannot free page 0 or 1".
		{name: "freelist page with its id zeroed", damage: zeroHeaderID(pickFreelist)},
		{name: "zeroed freelist page", damage: zeroPage(pickFreelist)},
		{name: "random freelist page", damage: randomPage(11, pickFreelist)},
		{name: "freelist listing random pages", damage: randomBody(12, pickFreelist)},
		{name: "both meta pages zeroed", damage: both(zeroPage(metaPage(0)), zeroPage(metaPage(1))), also: berrors.ErrInvalid},
		{name: "both meta pages random", damage: both(randomPage(13, metaPage(0)), randomPage(14, metaPage(1))), also: berrors.ErrInvalid},
		{name: "zeroed page of the top-level buckets", damage: zeroPage(pickRoot)},
		{name: "random page of the top-level buckets", damage: randomPage(15, pickRoot)},
		{name: "file cut to half its length", damage: cutShort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := corruptCopy(t, tc.damage)
			before := countResources(t)
			for _, attempt := range []string{"first Open", "second Open"} {
				s, err := openWithin(t, path)
				if err == nil {
					closeWithin(t, s)
					t.Fatalf("%s of the damaged file succeeded", attempt)
				}
				checkCorrupt(t, attempt, err, "")
				if tc.also != nil && !errors.Is(err, tc.also) {
					t.Errorf("%s = %v, want it to wrap %v too", attempt, err, tc.also)
				}
				if n := strings.Count(err.Error(), path); n != 1 {
					t.Errorf("%s: error %q names the path %d times, want once", attempt, err, n)
				}
			}
			checkNoLeaks(t, before)
			restoreTemplate(t, path)
		})
	}
}

// TestOpenRecoversBboltPanicsAndReleasesTheFile skips the check Open makes
// before bbolt reads the file, so that bbolt panics: in bbolt.Open itself
// on a zeroed freelist page, and in Open's first commit (the issue's
// "cannot free page 0 or 1") on a freelist page whose id is zeroed. Open
// recovers, returns ErrCorrupt, and releases the file: a second Open fails
// the same way instead of timing out on a lock the first one kept.
func TestOpenRecoversBboltPanicsAndReleasesTheFile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(*testing.T, *os.File, fileLayout)
		panic  string // in the error
	}{
		{"zeroed freelist page", zeroPage(pickFreelist), "invalid freelist page"},
		{"freelist page with its id zeroed", zeroHeaderID(pickFreelist), "cannot free page 0 or 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := corruptCopy(t, tc.damage)
			bolt.SkipFileCheckForTest(t)
			before := countResources(t)
			for _, attempt := range []string{"first Open", "second Open"} {
				s, err := openWithin(t, path)
				if err == nil {
					closeWithin(t, s)
					t.Fatalf("%s of the damaged file succeeded", attempt)
				}
				checkCorrupt(t, attempt, err, "")
				if !strings.Contains(err.Error(), tc.panic) {
					t.Errorf("%s = %v, want bbolt's panic %q", attempt, err, tc.panic)
				}
			}
			// When bbolt.Open panics, its memory map of the file stays
			// (nothing can reach it), but no descriptor does.
			checkNoLeaks(t, before)
			restoreTemplate(t, path)
		})
	}
}

// TestOneDamagedMetaPageOpensFromTheOther: bbolt keeps two meta pages and
// falls back to the valid one. The template's two newest transactions
// changed no entry, so every entry is there whichever meta page survives,
// the Store works, and the file passes bbolt's consistency check after.
func TestOneDamagedMetaPageOpensFromTheOther(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(*testing.T, *os.File, fileLayout)
	}{
		{"newest meta page zeroed", zeroPage(pickNewestMeta)},
		{"older meta page zeroed", zeroPage(pickOlderMeta)},
		{"newest meta page random", randomPage(21, pickNewestMeta)},
		{"older meta page random", randomPage(22, pickOlderMeta)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, _ := corruptCopy(t, tc.damage)
			s, err := openWithin(t, path)
			if err != nil {
				t.Fatalf("Open = %v, want bbolt to use the other meta page", err)
			}
			for i := range templateEntries {
				got, err := read(s, templateID(i))
				switch {
				case templateLive(i) && (err != nil || got != string(templateContent(i))):
					t.Fatalf("Read(%s) = %d bytes, %v; want its content", templateID(i), len(got), err)
				case !templateLive(i) && !errors.Is(err, sessions.ErrNotFound):
					t.Fatalf("Read(%s) of a removed entry = %v, want ErrNotFound", templateID(i), err)
				}
			}
			if err := write(s, "after-recovery", time.Time{}, "new"); err != nil {
				t.Fatalf("Write after the recovery: %v", err)
			}
			closeWithin(t, s)

			db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Nanosecond, ReadOnly: true})
			if err != nil {
				t.Fatalf("reopening with bbolt: %v", err)
			}
			defer db.Close()
			err = db.View(func(tx *bbolt.Tx) error {
				for err := range tx.Check() {
					t.Errorf("bbolt consistency check: %v", err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// corruptCall is a call that must find a damaged page of the bucket.
type corruptCall struct {
	name string
	// opts returns options to open the Store with; errs receives the
	// background sweeper's errors. nil: none.
	opts func(errs chan<- error) []bolt.Option
	run  func(t *testing.T, s *bolt.Store, id string, errs <-chan error) error
}

func writeFunc(content string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, content); return err }
}

// bucketCalls are the calls that read or change the Store's bucket, each
// touching the entry of id.
var bucketCalls = []corruptCall{
	{name: "Read", run: func(_ *testing.T, s *bolt.Store, id string, _ <-chan error) error {
		_, err := read(s, id)
		return err
	}},
	{name: "ReadWithExpiry", run: func(_ *testing.T, s *bolt.Store, id string, _ <-chan error) error {
		return s.ReadWithExpiry(ctx, id, func(io.Reader, time.Time) error { return nil })
	}},
	{name: "Write", run: func(_ *testing.T, s *bolt.Store, id string, _ <-chan error) error {
		return s.Write(ctx, id, time.Time{}, writeFunc("new"))
	}},
	{name: "Create", run: func(_ *testing.T, s *bolt.Store, id string, _ <-chan error) error {
		return s.Create(ctx, id, time.Time{}, writeFunc("new"))
	}},
	{name: "Replace", run: func(_ *testing.T, s *bolt.Store, id string, _ <-chan error) error {
		return s.Replace(ctx, id, time.Time{}, writeFunc("new"))
	}},
	{name: "Touch", run: func(_ *testing.T, s *bolt.Store, id string, _ <-chan error) error {
		return s.Touch(ctx, id, time.Now().Add(time.Hour))
	}},
	{name: "Invalidate", run: func(_ *testing.T, s *bolt.Store, id string, _ <-chan error) error {
		return s.Invalidate(ctx, id)
	}},
	{name: "List", run: func(_ *testing.T, s *bolt.Store, _ string, _ <-chan error) error {
		for _, err := range s.List(ctx) {
			if err != nil {
				return err
			}
		}
		return nil
	}},
	{name: "DeleteExpired", run: func(_ *testing.T, s *bolt.Store, _ string, _ <-chan error) error {
		_, err := s.DeleteExpired(ctx)
		return err
	}},
	{
		name: "background sweeper",
		opts: func(errs chan<- error) []bolt.Option {
			return []bolt.Option{
				bolt.WithSweepInterval(time.Millisecond),
				bolt.WithSweepErrorHandler(func(err error) {
					select {
					case errs <- err:
					default: // the first error is the one the test reads
					}
				}),
			}
		},
		run: func(t *testing.T, _ *bolt.Store, _ string, errs <-chan error) error {
			select {
			case err := <-errs:
				return err
			case <-time.After(hangTimeout):
				t.Fatalf("no sweep error within %v", hangTimeout)
				return nil
			}
		},
	},
}

// bucketPageDamage are the kinds of damage to a page of the Store's bucket,
// which Open does not read.
var bucketPageDamage = []struct {
	name   string
	damage func(*testing.T, *os.File, fileLayout)
}{
	{"zeroed branch page", zeroPage(pickBranch)},
	{"random branch page", randomPage(31, pickBranch)},
	// The header still says branch page and how many elements: the
	// elements' key offsets and child page ids are garbage.
	{"branch page with random elements", randomBody(32, pickBranch)},
	{"branch page with its id zeroed", zeroHeaderID(pickBranch)},
	{"zeroed leaf page", zeroPage(pickLeaf)},
	{"random leaf page", randomPage(33, pickLeaf)},
	// With this seed, the first key offset bbolt follows points far outside
	// any memory mapping: without SetPanicOnFault the process dies of the
	// fault ("fatal error: fault"), which no recover can stop.
	{"leaf page with random elements", randomBody(3, pickLeaf)},
	{"leaf page with its id zeroed", zeroHeaderID(pickLeaf)},
}

// TestDamagedPageFailsTheCallAndPoisonsTheStore damages a branch or leaf
// page of the bucket, which Open does not read, and makes each call that
// reaches it: the call returns ErrCorrupt instead of panicking, every later
// call returns ErrCorrupt too (even for an id on a healthy page), Close
// succeeds and releases the file, and nothing is left behind.
func TestDamagedPageFailsTheCallAndPoisonsTheStore(t *testing.T) {
	for _, d := range bucketPageDamage {
		for _, c := range bucketCalls {
			t.Run(d.name+"/"+c.name, func(t *testing.T) {
				path, l := corruptCopy(t, d.damage)
				before := countResources(t)
				errs := make(chan error, 1)
				var opts []bolt.Option
				if c.opts != nil {
					opts = c.opts(errs)
				}
				s, err := openWithin(t, path, opts...)
				if err != nil {
					t.Fatalf("Open = %v; the damaged page is not one Open reads", err)
				}
				id := l.victimID()
				within(t, c.name, func() { err = c.run(t, s, id, errs) })
				checkCorrupt(t, c.name, err, id)

				// Poisoned: every call fails, also away from the damage.
				for _, later := range bucketCalls[:len(bucketCalls)-1] {
					within(t, "a later "+later.name, func() { err = later.run(t, s, l.healthyLeafID, nil) })
					checkCorrupt(t, "a later "+later.name, err, l.healthyLeafID)
				}
				closeWithin(t, s)
				if _, err := read(s, id); !errors.Is(err, sessions.ErrClosed) {
					t.Errorf("Read after Close = %v, want ErrClosed", err)
				}
				checkNoLeaks(t, before)

				// The lock is free: Open succeeds at once, as the damage
				// is still where Open does not look.
				again, err := openWithin(t, path)
				if err != nil {
					t.Fatalf("Open after Close: %v", err)
				}
				closeWithin(t, again)
			})
		}
	}
}

// TestReadOfDamagedPageDoesNotHangClose is the second report: a
// Read that reaches a damaged leaf panicked inside bbolt's View, a panic
// net/http recovers per request, and the Store's read lock stayed held, so
// that Close waited for good. Like net/http, the test recovers a panic of
// Read, so that it gets to Close.
func TestReadOfDamagedPageDoesNotHangClose(t *testing.T) {
	path, l := corruptCopy(t, zeroPage(pickLeaf))
	s, err := openWithin(t, path)
	if err != nil {
		t.Fatal(err)
	}
	handler := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("Read panicked: %v", p)
			}
		}()
		_, err = read(s, l.victimID())
		return err
	}
	if err := handler(); !errors.Is(err, bolt.ErrCorrupt) {
		t.Errorf("Read of a key on a zeroed leaf page = %v, want ErrCorrupt", err)
	}
	closeWithin(t, s)
}

// TestDamagedPageLeavesCallersDBClosable: a Store from New that met a
// damaged page leaves no lock of bbolt held, so the caller's db.Close
// returns.
func TestDamagedPageLeavesCallersDBClosable(t *testing.T) {
	path, l := corruptCopy(t, zeroPage(pickLeaf))
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Nanosecond, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	s, err := bolt.New(db, bolt.WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	// A write transaction, whose rollback after a panic must release
	// bbolt's single writer lock.
	within(t, "Write", func() { err = write(s, l.victimID(), time.Time{}, "x") })
	checkCorrupt(t, "Write", err, l.victimID())
	closeWithin(t, s)
	within(t, "the caller's db.Close", func() { err = db.Close() })
	if err != nil {
		t.Fatalf("db.Close = %v", err)
	}
}

// TestFileDamagedWhileOpen damages the file under an open Store, as another
// process writing over it or an operator copying a backup over it would.
// With the meta pages gone, bbolt panics while it begins a transaction,
// halfway through taking its locks, which no rollback releases. With the
// freelist page gone, a commit panics ("cannot free page 0 or 1"), and the
// rollback that db.Update would run rereads the freelist page and panics
// again while it holds bbolt's writer lock. Either way the call returns
// ErrCorrupt, Close returns (and releases the file), and the path opens
// again.
func TestFileDamagedWhileOpen(t *testing.T) {
	zeroMetas := func(t *testing.T, path string, l fileLayout) {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		writeAt(t, f, make([]byte, 2*l.pageSize), 0)
	}
	zeroFreelist := func(t *testing.T, path string, _ fileLayout) {
		// Open's commit wrote a new freelist page: find the current one.
		l := readLayout(t, path)
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		writeAt(t, f, make([]byte, l.pageSize), int64(l.freelist)*int64(l.pageSize))
	}
	truncate := func(t *testing.T, path string, _ fileLayout) {
		// Reading the memory map past the new end of the file is a
		// SIGBUS, which SetPanicOnFault turns into a panic.
		if err := os.Truncate(path, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name     string
		damage   func(*testing.T, string, fileLayout)
		find     string // the first call after the damage: Read, Write or sweeper
		reopenOK bool   // an empty file opens as a new database
	}{
		{name: "meta pages zeroed, found by Read", damage: zeroMetas, find: "Read"},
		{name: "meta pages zeroed, found by the sweeper", damage: zeroMetas, find: "sweeper"},
		{name: "file truncated, found by Read", damage: truncate, find: "Read", reopenOK: true},
		{name: "file truncated, found by the sweeper", damage: truncate, find: "sweeper", reopenOK: true},
		{name: "freelist page zeroed, found by Write", damage: zeroFreelist, find: "Write"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, l := corruptCopy(t, nil)
			before := countResources(t)
			errs := make(chan error, 1)
			var opts []bolt.Option
			if tc.find == "sweeper" {
				opts = []bolt.Option{
					bolt.WithSweepInterval(time.Millisecond),
					bolt.WithSweepErrorHandler(func(err error) {
						select {
						case errs <- err:
						default: // the first error is the one the test reads
						}
					}),
				}
			}
			s, err := openWithin(t, path, opts...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := read(s, l.healthyLeafID); err != nil {
				t.Fatalf("Read before the damage: %v", err)
			}
			tc.damage(t, path, l)
			switch tc.find {
			case "sweeper":
				select {
				case err = <-errs:
				case <-time.After(hangTimeout):
					t.Fatalf("no sweep error within %v", hangTimeout)
				}
			case "Read":
				within(t, "Read", func() { _, err = read(s, l.healthyLeafID) })
			case "Write":
				within(t, "Write", func() { err = write(s, l.healthyLeafID, time.Time{}, "x") })
			}
			checkCorrupt(t, "the first call after the damage", err, l.healthyLeafID)
			within(t, "a later Write", func() { err = write(s, l.healthyLeafID, time.Time{}, "x") })
			checkCorrupt(t, "a later Write", err, l.healthyLeafID)
			closeWithin(t, s)
			checkNoLeaks(t, before)

			again, err := openWithin(t, path)
			switch {
			case tc.reopenOK && err != nil:
				t.Fatalf("Open of the emptied file = %v, want a new database", err)
			case tc.reopenOK:
				closeWithin(t, again)
			case err == nil:
				closeWithin(t, again)
				t.Fatal("Open of the damaged file succeeded")
			default:
				// ErrCorrupt, not a lock timeout: Close released the lock.
				checkCorrupt(t, "Open after Close", err, "")
			}
		})
	}
}
