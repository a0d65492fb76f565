package directory_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/directory"
)

// put writes data as the content of id, failing the test on error.
func put(tb testing.TB, s sessions.Storage, id string, expires time.Time, data []byte) {
	tb.Helper()
	err := s.Write(context.Background(), id, expires, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		tb.Fatalf("Write: %v", err)
	}
}

// get returns the content of id, or the error of Read.
func get(s sessions.Storage, id string) ([]byte, error) {
	var got []byte
	err := s.Read(context.Background(), id, func(r io.Reader) error {
		var err error
		got, err = io.ReadAll(r)
		return err
	})
	return got, err
}

// listed returns the ids s.List yields, sorted.
func listed(tb testing.TB, s *directory.Store) []string {
	tb.Helper()
	var ids []string
	for id, err := range s.List(context.Background()) {
		if err != nil {
			tb.Fatalf("List: %v", err)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// fileState is what snapshot records of one path under a root.
type fileState struct {
	mode    fs.FileMode
	size    int64
	modTime time.Time
}

// snapshot records every path under root (root included) with its mode,
// size and modification time, without following symbolic links.
func snapshot(tb testing.TB, root string) map[string]fileState {
	tb.Helper()
	m := make(map[string]fileState)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		m[p] = fileState{fi.Mode(), fi.Size(), fi.ModTime()}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// entryFiles returns the paths, relative to root, of the regular files
// under root that are neither temporary files nor folder lock files.
func entryFiles(tb testing.TB, root string) []string {
	tb.Helper()
	var files []string
	for p, st := range snapshot(tb, root) {
		if st.mode.IsRegular() && !strings.HasPrefix(filepath.Base(p), ".tmp-") && filepath.Base(p) != ".lock" {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
	}
	slices.Sort(files)
	return files
}

// tempFiles returns the temporary files under root.
func tempFiles(tb testing.TB, root string) []string {
	tb.Helper()
	var files []string
	for p := range snapshot(tb, root) {
		if strings.HasPrefix(filepath.Base(p), ".tmp-") {
			files = append(files, p)
		}
	}
	return files
}

// entryPath returns the file of id under s's root, found as the only file
// a Write of id adds.
func entryPath(tb testing.TB, s *directory.Store, id string) string {
	tb.Helper()
	before := entryFiles(tb, s.Root())
	put(tb, s, id, time.Time{}, []byte("probe"))
	after := entryFiles(tb, s.Root())
	var added []string
	for _, f := range after {
		if !slices.Contains(before, f) {
			added = append(added, f)
		}
	}
	if len(added) != 1 {
		tb.Fatalf("Write of a new id added files %q, want exactly one", added)
	}
	return filepath.Join(s.Root(), added[0])
}

func TestFanOutDepthIsOne(t *testing.T) {
	s := newStore(t)
	const n = 2000
	for i := range n {
		put(t, s, fmt.Sprintf("user-%06d", i), time.Time{}, []byte{byte(i)})
	}
	folders := make(map[string]int)
	for _, rel := range entryFiles(t, s.Root()) {
		parts := strings.Split(rel, string(filepath.Separator))
		if len(parts) != 2 {
			t.Fatalf("entry %q is %d levels under root, want 2 (folder/file)", rel, len(parts))
		}
		if f := parts[0]; len(f) != 2 || strings.Trim(f, "0123456789abcdef") != "" {
			t.Fatalf("folder %q is not two lowercase hex digits", f)
		}
		folders[parts[0]]++
	}
	total := 0
	for _, c := range folders {
		total += c
	}
	if total != n {
		t.Fatalf("found %d entry files, want %d", total, n)
	}
	// 2000 ids with a shared prefix over 256 folders: a hash that ignores
	// most of the id would leave many folders empty.
	if len(folders) < 240 {
		t.Errorf("%d ids with a common prefix used %d of 256 folders", n, len(folders))
	}
}

func TestReadNeverCreates(t *testing.T) {
	for _, populated := range []bool{false, true} {
		t.Run(fmt.Sprintf("populated=%v", populated), func(t *testing.T) {
			s := newStore(t)
			if populated {
				for i := range 20 {
					put(t, s, fmt.Sprintf("live-%d", i), time.Time{}, []byte("x"))
				}
			}
			parent := filepath.Dir(s.Root())
			before, beforeParent := snapshot(t, s.Root()), snapshot(t, parent)
			r := rand.New(rand.NewPCG(7, 8))
			ctx := context.Background()
			for i := range 1000 {
				id := sessions.NewID()
				if i%2 == 1 {
					id = randomID(r)
				}
				if _, err := get(s, id); !errors.Is(err, sessions.ErrNotFound) {
					t.Fatalf("Read of an unknown id: %v, want ErrNotFound", err)
				}
				if err := s.Touch(ctx, id, time.Now().Add(time.Hour)); !errors.Is(err, sessions.ErrNotFound) {
					t.Fatalf("Touch of an unknown id: %v, want ErrNotFound", err)
				}
				if err := s.Invalidate(ctx, id); err != nil {
					t.Fatalf("Invalidate of an unknown id: %v", err)
				}
			}
			if after := snapshot(t, s.Root()); !mapsEqual(before, after) {
				t.Errorf("reading 1000 unknown ids changed the tree:\nbefore %v\nafter  %v", keys(before), keys(after))
			}
			if after := snapshot(t, parent); !mapsEqual(beforeParent, after) {
				t.Errorf("reading 1000 unknown ids changed the root's parent folder")
			}
		})
	}
}

// spawn runs f in a goroutine that wg waits for.
func spawn(wg *sync.WaitGroup, f func()) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		f()
	}()
}

func randomID(r *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
	b := make([]byte, 1+r.IntN(sessions.MaxIDLength))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func mapsEqual(a, b map[string]fileState) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || v.mode != w.mode || v.size != w.size || !v.modTime.Equal(w.modTime) {
			return false
		}
	}
	return true
}

func keys(m map[string]fileState) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestInvalidIDsTouchNothing: ids that would traverse or escape are refused
// before any path is built, by every method, and nothing appears on disk.
func TestInvalidIDsTouchNothing(t *testing.T) {
	s := newStore(t)
	put(t, s, "existing", time.Time{}, []byte("x"))
	parent := filepath.Dir(s.Root())
	before, beforeParent := snapshot(t, s.Root()), snapshot(t, parent)
	ctx := context.Background()
	for _, id := range []string{"", ".", "..", "../x", "../../etc/passwd", "a/b", `a\b`, "/abs", "a\x00b", "a b", "%2e%2e", "é", strings.Repeat("a", sessions.MaxIDLength+1)} {
		calls := map[string]error{
			"Write": s.Write(ctx, id, time.Time{}, func(w io.Writer) error {
				t.Errorf("Write called the write func for invalid id %q", id)
				return nil
			}),
			"Read": s.Read(ctx, id, func(io.Reader) error {
				t.Errorf("Read called the read func for invalid id %q", id)
				return nil
			}),
			"Touch":      s.Touch(ctx, id, time.Time{}),
			"Invalidate": s.Invalidate(ctx, id),
		}
		for call, err := range calls {
			if !errors.Is(err, sessions.ErrInvalidID) {
				t.Errorf("%s(%q) = %v, want ErrInvalidID", call, id, err)
			}
			if err != nil && len(id) > 3 && strings.Contains(err.Error(), id) {
				t.Errorf("%s's error %q repeats the id", call, err)
			}
		}
	}
	if after := snapshot(t, s.Root()); !mapsEqual(before, after) {
		t.Errorf("calls with invalid ids changed the tree")
	}
	if after := snapshot(t, parent); !mapsEqual(beforeParent, after) {
		t.Errorf("calls with invalid ids changed the root's parent folder")
	}
}

// TestCaseVariantsAreDistinctEntries: "Ab" and "ab" are two sessions, and
// their files' paths differ even when compared ignoring case, as a
// case-insensitive file system compares them.
func TestCaseVariantsAreDistinctEntries(t *testing.T) {
	s := newStore(t)
	ids := []string{"Ab", "ab", "AB", "aB"}
	paths := make([]string, len(ids))
	for i, id := range ids {
		paths[i] = entryPath(t, s, id)
		put(t, s, id, time.Time{}, []byte("value of "+id))
	}
	for i, id := range ids {
		got, err := get(s, id)
		if err != nil || string(got) != "value of "+id {
			t.Errorf("Read(%q) = %q, %v; want %q", id, got, err, "value of "+id)
		}
		for j := range i {
			if strings.EqualFold(paths[i], paths[j]) {
				t.Errorf("ids %q and %q are stored at %q and %q, one file on a case-insensitive file system", ids[j], id, paths[j], paths[i])
			}
		}
	}
	if got := listed(t, s); !slices.Equal(got, []string{"AB", "Ab", "aB", "ab"}) {
		t.Errorf("List = %q, want the four case variants", got)
	}
}

// value returns a recognisable payload: n copies of b.
func value(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

// checkWhole reports whether got is one of the payloads value(b, n) of
// want, whole.
func checkWhole(got []byte, want map[byte]int) error {
	if len(got) == 0 {
		return errors.New("read an empty value")
	}
	n, ok := want[got[0]]
	if !ok {
		return fmt.Errorf("read a value starting with %q, never written", got[0])
	}
	if len(got) != n || !bytes.Equal(got, value(got[0], n)) {
		return fmt.Errorf("read %d bytes starting with %q, want the whole %d-byte value: a torn or partial write", len(got), got[0], n)
	}
	return nil
}

// TestAtomicReplaceUnderConcurrentReaders: readers, in the writer's Store
// and in a second Store over the same root, only ever see a whole value,
// while values of very different lengths replace each other.
func TestAtomicReplaceUnderConcurrentReaders(t *testing.T) {
	a := newStore(t)
	b, err := directory.New(a.Root(), directory.WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	want := map[byte]int{'a': 10, 'b': 20_000, 'c': 4096, 'd': 1}
	const id = "contended"
	put(t, a, id, time.Time{}, value('a', want['a']))

	var stop atomic.Bool
	var reads atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, s := range []*directory.Store{a, b, a, b} {
		spawn(&wg, func() {
			for !stop.Load() {
				got, err := get(s, id)
				if err == nil {
					err = checkWhole(got, want)
				}
				if err != nil {
					errs <- err
					return
				}
				reads.Add(1)
			}
		})
	}
	for i := 0; i < 100 && len(errs) == 0; i++ {
		c := "abcd"[i%4]
		put(t, a, id, time.Time{}, value(c, want[c]))
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if reads.Load() == 0 {
		t.Error("no read completed during the writes")
	}
}

// TestFailedWriteLeavesNoTempFile: whatever way a Write fails after its
// temporary file exists, the file is gone and the old content stays.
func TestFailedWriteLeavesNoTempFile(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name  string
		ctx   func() (context.Context, context.CancelFunc)
		write func(cancel context.CancelFunc) func(io.Writer) error
		check func(t *testing.T, err error, panicked any)
	}{
		{
			name: "write func fails after writing",
			write: func(context.CancelFunc) func(io.Writer) error {
				return func(w io.Writer) error {
					w.Write(value('x', 100_000)) // past the buffer: bytes reach the file
					return errBoom
				}
			},
			check: func(t *testing.T, err error, _ any) {
				if !errors.Is(err, errBoom) {
					t.Errorf("Write = %v, want the write func's error", err)
				}
			},
		},
		{
			name: "write func panics",
			write: func(context.CancelFunc) func(io.Writer) error {
				return func(w io.Writer) error {
					w.Write(value('x', 100_000))
					panic(errBoom)
				}
			},
			check: func(t *testing.T, _ error, panicked any) {
				if panicked != errBoom {
					t.Errorf("recovered %v, want the write func's panic", panicked)
				}
			},
		},
		{
			name: "context cancelled while writing",
			write: func(cancel context.CancelFunc) func(io.Writer) error {
				return func(w io.Writer) error {
					w.Write(value('x', 100))
					cancel()
					return nil
				}
			},
			check: func(t *testing.T, err error, _ any) {
				if !errors.Is(err, context.Canceled) {
					t.Errorf("Write = %v, want context.Canceled", err)
				}
			},
		},
	}
	for _, tt := range tests {
		for _, existing := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/existing=%v", tt.name, existing), func(t *testing.T) {
				s := newStore(t)
				const id = "victim"
				if existing {
					put(t, s, id, time.Time{}, []byte("old"))
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var err error
				var panicked any
				func() {
					defer func() { panicked = recover() }()
					err = s.Write(ctx, id, time.Time{}, tt.write(cancel))
				}()
				tt.check(t, err, panicked)
				if tmp := tempFiles(t, s.Root()); len(tmp) != 0 {
					t.Errorf("temporary files left behind: %q", tmp)
				}
				got, err := get(s, id)
				switch {
				case existing && (err != nil || string(got) != "old"):
					t.Errorf("after the failed Write, Read = %q, %v; want the old content", got, err)
				case !existing && !errors.Is(err, sessions.ErrNotFound):
					t.Errorf("after the failed Write of a new id, Read = %q, %v; want ErrNotFound", got, err)
				}
			})
		}
	}
}

// TestTwoStoresShareRoot: two Stores over one root, as two processes would
// have, see each other's writes, touches and removals, and concurrent
// writers in both end with one whole value.
func TestTwoStoresShareRoot(t *testing.T) {
	a := newStore(t)
	b, err := directory.New(a.Root(), directory.WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()

	const n = 200
	var wg sync.WaitGroup
	for w, s := range []*directory.Store{a, b} {
		spawn(&wg, func() {
			for i := range n {
				put(t, s, fmt.Sprintf("s%d-%d", w, i), time.Time{}, []byte(fmt.Sprintf("%d/%d", w, i)))
			}
		})
	}
	// Both Stores write the same ids at the same time, with payloads a
	// reader can recognise whole.
	want := map[byte]int{'a': 3000, 'b': 5000}
	for _, s := range []*directory.Store{a, b} {
		c := map[*directory.Store]byte{a: 'a', b: 'b'}[s]
		spawn(&wg, func() {
			for i := range 50 {
				put(t, s, fmt.Sprintf("shared-%d", i%5), time.Time{}, value(c, want[c]))
			}
		})
	}
	wg.Wait()

	for w := range 2 {
		for i := range n {
			id := fmt.Sprintf("s%d-%d", w, i)
			for _, s := range []*directory.Store{a, b} {
				got, err := get(s, id)
				if err != nil || string(got) != fmt.Sprintf("%d/%d", w, i) {
					t.Fatalf("Read(%q) = %q, %v; want the other Store's write", id, got, err)
				}
			}
		}
	}
	for i := range 5 {
		got, err := get(a, fmt.Sprintf("shared-%d", i))
		if err == nil {
			err = checkWhole(got, want)
		}
		if err != nil {
			t.Errorf("shared id after concurrent writes from two Stores: %v", err)
		}
	}

	// A removal in one Store is seen by the other.
	if err := b.Invalidate(ctx, "s0-0"); err != nil {
		t.Fatal(err)
	}
	if _, err := get(a, "s0-0"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read after the other Store's Invalidate: %v, want ErrNotFound", err)
	}
	// So is a Touch.
	if err := b.Touch(ctx, "s0-1", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := get(a, "s0-1"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read after the other Store touched the entry into the past: %v, want ErrNotFound", err)
	}
	if got := len(listed(t, a)); got != 2*n+5-2 {
		t.Errorf("List in one Store yields %d ids, want %d", got, 2*n+5-2)
	}
}

// TestTouchNeverLosesAWrite: Touch rewrites the expiry in place, so a
// Write that lands while a Touch runs is never undone, and the versions a
// reader sees never go back.
func TestTouchNeverLosesAWrite(t *testing.T) {
	s := newStore(t)
	const id = "sliding"
	ctx := context.Background()
	put(t, s, id, time.Time{}, []byte(fmt.Sprintf("%08d", 0)))
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 2 {
		spawn(&wg, func() {
			for !stop.Load() {
				if err := s.Touch(ctx, id, time.Now().Add(time.Hour)); err != nil {
					t.Errorf("Touch of a live entry: %v", err)
					return
				}
			}
		})
	}
	errs := make(chan error, 1)
	spawn(&wg, func() {
		last := 0
		for !stop.Load() {
			got, err := get(s, id)
			if err != nil {
				errs <- fmt.Errorf("Read during Touch and Write: %v", err)
				return
			}
			var v int
			fmt.Sscanf(string(got), "%d", &v)
			if v < last {
				errs <- fmt.Errorf("read version %d after version %d: a Touch brought old content back", v, last)
				return
			}
			last = v
		}
	})
	const versions = 100
	for v := 1; v <= versions; v++ {
		put(t, s, id, time.Now().Add(time.Hour), []byte(fmt.Sprintf("%08d", v)))
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, err := get(s, id); err != nil || string(got) != fmt.Sprintf("%08d", versions) {
		t.Errorf("after the last Write, Read = %q, %v; want version %d", got, err, versions)
	}
}

// TestTouchIsAtomicToReaders: a reader racing a Touch that flips the expiry
// between "never" and a far future (values that differ in most bytes)
// always sees a live entry: a torn expiry would read as garbage.
func TestTouchIsAtomicToReaders(t *testing.T) {
	s := newStore(t)
	const id = "flipping"
	ctx := context.Background()
	put(t, s, id, time.Time{}, []byte("v"))
	far := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	var stop atomic.Bool
	var wg sync.WaitGroup
	spawn(&wg, func() {
		for i := 0; !stop.Load(); i++ {
			exp := time.Time{}
			if i%2 == 1 {
				exp = far
			}
			if err := s.Touch(ctx, id, exp); err != nil {
				t.Errorf("Touch: %v", err)
				return
			}
		}
	})
	deadline := time.Now().Add(300 * time.Millisecond)
	for reads := 0; time.Now().Before(deadline) || reads < 1000; reads++ {
		if got, err := get(s, id); err != nil || string(got) != "v" {
			t.Errorf("Read during Touch = %q, %v; want the live entry", got, err)
			break
		}
	}
	stop.Store(true)
	wg.Wait()
}

func TestSweepRemovesExpiredAndDebrisOnly(t *testing.T) {
	s := newStore(t)
	root := s.Root()
	ctx := context.Background()
	now := time.Now()
	put(t, s, "live", now.Add(time.Hour), []byte("live"))
	put(t, s, "forever", time.Time{}, []byte("forever"))
	put(t, s, "expired1", now.Add(-time.Second), []byte("x"))
	put(t, s, "expired2", now.Add(-time.Hour), []byte("x"))
	put(t, s, "touched-out", now.Add(time.Hour), []byte("x"))
	if err := s.Touch(ctx, "touched-out", now.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	liveFolder := filepath.Dir(entryPath(t, s, "probe"))
	old := now.Add(-2 * time.Hour)
	mk := func(p string, data []byte, mtime time.Time) string {
		t.Helper()
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return p
	}
	staleTemp := mk(filepath.Join(liveFolder, ".tmp-111"), []byte("partial"), old)
	freshTemp := mk(filepath.Join(liveFolder, ".tmp-222"), []byte("in progress"), now)
	foreign := []string{
		mk(filepath.Join(root, "README"), nil, old),
		mk(filepath.Join(liveFolder, "notes.txt"), nil, old),
		mk(filepath.Join(liveFolder, ".hidden"), nil, old),
	}
	if err := os.Mkdir(filepath.Join(root, "zz"), 0o700); err != nil {
		t.Fatal(err)
	}
	foreign = append(foreign, mk(filepath.Join(root, "zz", "x"), nil, old))

	// An empty entry, as an operating system crash without sync can leave:
	// debris once old, possibly a write in flight when fresh.
	crashed := entryPath(t, s, "crashed")
	mk(crashed, nil, old)
	justCrashed := entryPath(t, s, "just-crashed")
	mk(justCrashed, nil, now)

	// A symbolic link named like an entry, pointing at an expired entry
	// outside the tree: neither it nor its target may be touched.
	outside := newStore(t)
	target := entryPath(t, outside, "target")
	put(t, outside, "target", now.Add(-time.Hour), []byte("x"))
	link := entryPath(t, s, "link")
	os.Remove(link)
	symlinks := runtime.GOOS != "windows"
	if symlinks {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}

	n, err := s.DeleteExpired(ctx)
	if err != nil {
		t.Fatalf("DeleteExpired: %v", err)
	}
	if n != 3 {
		t.Errorf("DeleteExpired = %d, want the 3 expired entries", n)
	}
	for _, id := range []string{"live", "forever", "probe"} {
		if _, err := get(s, id); err != nil {
			t.Errorf("live entry %q after the sweep: %v", id, err)
		}
	}
	gone := []string{staleTemp, crashed}
	kept := append([]string{freshTemp, justCrashed}, foreign...)
	if symlinks {
		kept = append(kept, link, target)
	}
	for _, p := range gone {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s survived the sweep: %v", p, err)
		}
	}
	for _, p := range kept {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed by the sweep: %v", p, err)
		}
	}
	if got := listed(t, s); !slices.Equal(got, []string{"forever", "live", "probe"}) {
		t.Errorf("List after the sweep = %q", got)
	}
	if n, err := s.DeleteExpired(ctx); n != 0 || err != nil {
		t.Errorf("a second DeleteExpired = %d, %v; want 0, nil", n, err)
	}
}

func TestBackgroundSweeperRemovesExpired(t *testing.T) {
	s, err := directory.New(t.TempDir(), directory.WithSweepInterval(10*time.Millisecond),
		directory.WithSweepErrorHandler(func(err error) { t.Errorf("background sweep: %v", err) }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	path := entryPath(t, s, "short")
	put(t, s, "short", time.Now().Add(50*time.Millisecond), []byte("x"))
	put(t, s, "long", time.Now().Add(time.Hour), []byte("x"))
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background sweeper did not remove an expired entry within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := get(s, "long"); err != nil {
		t.Errorf("the background sweeper removed a live entry: %v", err)
	}
}

func TestCloseTwiceReportsClosed(t *testing.T) {
	s := newStore(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, sessions.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// TestUnreadableEntryReadsAsAbsent: an entry whose header is cut short (an
// operating system crash without sync) or foreign reads as absent, so the
// session is replaced rather than failing every request.
func TestUnreadableEntryReadsAsAbsent(t *testing.T) {
	tests := []struct {
		name   string
		damage func(path string) error
	}{
		{"empty", func(p string) error { return os.Truncate(p, 0) }},
		{"cut inside the header", func(p string) error { return os.Truncate(p, 10) }},
		{"wrong magic", func(p string) error { return os.WriteFile(p, value('?', 100), 0o600) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			p := entryPath(t, s, "damaged")
			if err := tt.damage(p); err != nil {
				t.Fatal(err)
			}
			if _, err := get(s, "damaged"); !errors.Is(err, sessions.ErrNotFound) {
				t.Errorf("Read = %v, want ErrNotFound", err)
			}
			if err := s.Touch(context.Background(), "damaged", time.Time{}); !errors.Is(err, sessions.ErrNotFound) {
				t.Errorf("Touch = %v, want ErrNotFound", err)
			}
			if got := listed(t, s); len(got) != 0 {
				t.Errorf("List = %q, want nothing", got)
			}
			put(t, s, "damaged", time.Time{}, []byte("fresh"))
			if got, err := get(s, "damaged"); err != nil || string(got) != "fresh" {
				t.Errorf("Read after rewriting = %q, %v", got, err)
			}
		})
	}
}

func TestStaleWriterAndReaderStopWorking(t *testing.T) {
	s := newStore(t)
	var kept io.Writer
	put(t, s, "other", time.Time{}, []byte("other"))
	err := s.Write(context.Background(), "id", time.Time{}, func(w io.Writer) error {
		kept = w
		_, err := io.WriteString(w, "content")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := kept.Write([]byte("late")); n != 0 || err == nil {
		t.Errorf("writing after Write returned = %d, %v; want an error", n, err)
	}
	var keptR io.Reader
	if err := s.Read(context.Background(), "id", func(r io.Reader) error { keptR = r; return nil }); err != nil {
		t.Fatal(err)
	}
	if n, err := keptR.Read(make([]byte, 10)); n != 0 || err == nil || err == io.EOF {
		t.Errorf("reading after Read returned = %d, %v; want an error", n, err)
	}
	for id, want := range map[string]string{"id": "content", "other": "other"} {
		if got, err := get(s, id); err != nil || string(got) != want {
			t.Errorf("Read(%q) = %q, %v; want %q", id, got, err, want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		root string
		opts []directory.Option
	}{
		{"empty root", "", nil},
		{"root is a file", file, nil},
		{"root under a file", filepath.Join(file, "sub"), nil},
		{"file mode without owner write", dir, []directory.Option{directory.WithFileMode(0o400)}},
		{"folder mode without owner search", dir, []directory.Option{directory.WithDirMode(0o600)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := directory.New(tt.root, tt.opts...)
			if err == nil {
				s.Close()
				t.Fatal("New succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), "sessionkit/directory: new: ") {
				t.Errorf("error %q lacks the package and op prefix", err)
			}
		})
	}

	nested := filepath.Join(dir, "a", "b", "sessions")
	s, err := directory.New(nested, directory.WithSweepInterval(0))
	if err != nil {
		t.Fatalf("New with missing parents: %v", err)
	}
	defer s.Close()
	if fi, err := os.Stat(nested); err != nil || !fi.IsDir() {
		t.Errorf("New did not create the root: %v", err)
	}
}

func TestRelativeRootIsMadeAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s, err := directory.New("sessions", directory.WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := filepath.Join(dir, "sessions"); s.Root() != want {
		t.Errorf("Root() = %q, want %q", s.Root(), want)
	}
	put(t, s, "id", time.Time{}, []byte("x"))
	t.Chdir(t.TempDir())
	if got, err := get(s, "id"); err != nil || string(got) != "x" {
		t.Errorf("Read after a change of working directory = %q, %v", got, err)
	}
}

// TestWriteRecreatesRemovedFolders: the Store never removes folders, but an
// operator may; the next Write makes them again.
func TestWriteRecreatesRemovedFolders(t *testing.T) {
	s := newStore(t)
	p := entryPath(t, s, "id")
	if err := os.RemoveAll(filepath.Dir(p)); err != nil {
		t.Fatal(err)
	}
	put(t, s, "id", time.Time{}, []byte("again"))
	if err := os.RemoveAll(s.Root()); err != nil {
		t.Fatal(err)
	}
	if _, err := get(s, "id"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read with the root removed = %v, want ErrNotFound", err)
	}
	if got := listed(t, s); len(got) != 0 {
		t.Errorf("List with the root removed = %q, want nothing", got)
	}
	put(t, s, "id", time.Time{}, []byte("third"))
	if got, err := get(s, "id"); err != nil || string(got) != "third" {
		t.Errorf("Read after recreating the root = %q, %v", got, err)
	}
}

// TestInvalidateKeepsFolders: the folder of a removed entry stays, so a
// concurrent Write into it never finds it gone.
func TestInvalidateKeepsFolders(t *testing.T) {
	s := newStore(t)
	p := entryPath(t, s, "only")
	if err := s.Invalidate(context.Background(), "only"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Dir(p)); err != nil || !fi.IsDir() {
		t.Errorf("the folder of the last entry is gone after Invalidate: %v", err)
	}
}

// TestOSErrorsDoNotLeakIDs provokes failures whose os errors carry the
// entry's path (a folder squatting on the entry's name) and checks that
// neither the id nor its file name reaches the message, while errors.As
// still finds the os error.
func TestOSErrorsDoNotLeakIDs(t *testing.T) {
	s := newStore(t)
	const id = "SecretSessionID"
	p := entryPath(t, s, id)
	name := filepath.Base(p)
	os.Remove(p)
	if err := os.MkdirAll(filepath.Join(p, "squatter"), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var pathErr *fs.PathError
	var linkErr *os.LinkError
	calls := []struct {
		name string
		err  error
		as   any
	}{
		{"Write", s.Write(ctx, id, time.Time{}, func(w io.Writer) error { return nil }), &linkErr},
		{"Read", s.Read(ctx, id, func(io.Reader) error { return nil }), &pathErr},
		{"Touch", s.Touch(ctx, id, time.Time{}), &pathErr},
		{"Invalidate", s.Invalidate(ctx, id), &pathErr},
	}
	for _, c := range calls {
		if c.err == nil {
			t.Errorf("%s over a folder squatting the entry's name succeeded", c.name)
			continue
		}
		msg := c.err.Error()
		if strings.Contains(msg, id) || strings.Contains(msg, name) {
			t.Errorf("%s's error %q reveals the id", c.name, msg)
		}
		if !strings.HasPrefix(msg, "sessionkit/directory: ") || !strings.Contains(msg, "<id>") {
			t.Errorf("%s's error %q lacks the package prefix or the redacted path", c.name, msg)
		}
		if !errors.As(c.err, c.as) {
			t.Errorf("%s's error %q: errors.As finds no %T", c.name, msg, c.as)
		}
	}
}
