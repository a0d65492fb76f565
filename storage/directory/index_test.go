package directory_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/directory"
)

func text(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// readIndex returns what ReadIndex yields for index, id -> content, failing
// tb on an error or on an id yielded twice.
func readIndex(tb testing.TB, s *directory.Store, index string) map[string]string {
	tb.Helper()
	got := map[string]string{}
	err := s.ReadIndex(context.Background(), index, func(id string, _ time.Time, r io.Reader) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if _, dup := got[id]; dup {
			tb.Errorf("ReadIndex yielded %q twice", id)
		}
		got[id] = string(b)
		return nil
	})
	if err != nil {
		tb.Fatalf("ReadIndex = %v", err)
	}
	return got
}

func indexedIDs(tb testing.TB, s *directory.Store, index string) []string {
	tb.Helper()
	return slices.Sorted(maps.Keys(readIndex(tb, s, index)))
}

// markers returns the files under root/index, relative to root.
func markers(tb testing.TB, root string) []string {
	tb.Helper()
	var out []string
	for p, st := range snapshot(tb, root) {
		rel, _ := filepath.Rel(root, p)
		if st.mode.IsRegular() && strings.HasPrefix(rel, "index"+string(filepath.Separator)) {
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return out
}

// keyFolders returns the index key folders under root/index, relative to
// root: the folders three levels down.
func keyFolders(tb testing.TB, root string) []string {
	tb.Helper()
	var out []string
	for p, st := range snapshot(tb, root) {
		rel, _ := filepath.Rel(root, p)
		if st.mode.IsDir() && strings.HasPrefix(rel, "index"+string(filepath.Separator)) && strings.Count(rel, string(filepath.Separator)) == 2 {
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return out
}

// TestIndexFollowsTheLastWrite walks one session through the life the
// middleware gives it and checks, after each step, which index key lists
// it: each entry is filed under the index key of the last write that stored
// it, and leaves every index key when it ends. The Spring Session bugs the
// steps are after: #343 (principal change), #1972/#1987 (id change),
// #2614 (expired sessions stay listed).
func TestIndexFollowsTheLastWrite(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []directory.Option
	}{{"Default", nil}, {"Sync", []directory.Option{directory.WithSync(true)}}} {
		t.Run(mode.name, func(t *testing.T) {
			s := newStore(t, mode.opts...)
			ctx := t.Context()
			exp := time.Now().Add(time.Hour)
			past := time.Now().Add(-time.Second)
			if err := s.CreateIndexed(ctx, "other", "u1", exp, text("o")); err != nil {
				t.Fatal(err)
			}
			steps := []struct {
				name   string
				do     func() error
				u1, u2 []string
			}{
				{"CreateIndexedFilesUnderItsKey", func() error { return s.CreateIndexed(ctx, "a", "u1", exp, text("1")) },
					[]string{"a", "other"}, nil},
				{"CreateIndexedOnALiveIDChangesNoFiling", func() error {
					if err := s.CreateIndexed(ctx, "a", "u2", exp, text("x")); !errors.Is(err, sessions.ErrExists) {
						return fmt.Errorf("CreateIndexed of a live id = %v, want ErrExists", err)
					}
					return nil
				}, []string{"a", "other"}, nil},
				{"TouchKeepsTheFiling", func() error { return s.Touch(ctx, "a", exp.Add(time.Hour)) },
					[]string{"a", "other"}, nil},
				{"ReplaceIndexedMovesIt", func() error { return s.ReplaceIndexed(ctx, "a", "u2", exp, text("2")) },
					[]string{"other"}, []string{"a"}},
				{"ReplaceUnfilesIt", func() error { return s.Replace(ctx, "a", exp, text("3")) },
					[]string{"other"}, nil},
				{"ReplaceIndexedFilesItAgain", func() error { return s.ReplaceIndexed(ctx, "a", "u2", exp, text("4")) },
					[]string{"other"}, []string{"a"}},
				{"WriteUnfilesIt", func() error { return s.Write(ctx, "a", exp, text("5")) },
					[]string{"other"}, nil},
				{"ReplaceIndexedWithTheEmptyKeyUnfilesIt", func() error {
					if err := s.ReplaceIndexed(ctx, "a", "u1", exp, text("6")); err != nil {
						return err
					}
					return s.ReplaceIndexed(ctx, "a", "", exp, text("7"))
				}, []string{"other"}, nil},
				{"RenewListsOnlyTheNewID", func() error {
					if err := s.ReplaceIndexed(ctx, "a", "u2", exp, text("8")); err != nil {
						return err
					}
					if err := s.CreateIndexed(ctx, "b", "u2", exp, text("9")); err != nil {
						return err
					}
					return s.Replace(ctx, "a", past, text("8"))
				}, []string{"other"}, []string{"b"}},
				{"ReplaceIndexedWithAPastExpiryEndsIt", func() error { return s.ReplaceIndexed(ctx, "b", "u2", past, text("x")) },
					[]string{"other"}, nil},
				{"ReplaceIndexedOfAnEndedIDFilesNothing", func() error {
					if err := s.ReplaceIndexed(ctx, "b", "u2", exp, text("x")); !errors.Is(err, sessions.ErrNotFound) {
						return fmt.Errorf("ReplaceIndexed of an ended id = %v, want ErrNotFound", err)
					}
					return nil
				}, []string{"other"}, nil},
				{"InvalidateEndsIt", func() error {
					if err := s.CreateIndexed(ctx, "c", "u2", exp, text("c")); err != nil {
						return err
					}
					return s.Invalidate(ctx, "c")
				}, []string{"other"}, nil},
				{"CreateOverAnExpiredIndexedEntryUnfilesIt", func() error {
					if err := s.CreateIndexed(ctx, "e", "u2", time.Now().Add(time.Millisecond), text("e")); err != nil {
						return err
					}
					time.Sleep(2 * time.Millisecond) // a lower bound: the entry is expired after it
					if got := indexedIDs(t, s, "u2"); len(got) != 0 {
						return fmt.Errorf("ReadIndex(u2) listed the expired entry: %q", got)
					}
					return s.Create(ctx, "e", exp, text("e"))
				}, []string{"other"}, nil},
			}
			for _, st := range steps {
				if err := st.do(); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				for key, want := range map[string][]string{"u1": st.u1, "u2": st.u2} {
					if got := indexedIDs(t, s, key); !slices.Equal(got, want) {
						t.Errorf("%s: ReadIndex(%s) = %q, want %q", st.name, key, got, want)
					}
				}
			}
			if got := readIndex(t, s, "u1"); got["other"] != "o" {
				t.Errorf("ReadIndex(u1) content of other = %q, want %q", got["other"], "o")
			}
			// Every step's stale markers are gone: ReadIndex removed them.
			if got := markers(t, s.Root()); len(got) != 1 {
				t.Errorf("markers left after the walk: %q, want only other's", got)
			}
		})
	}
}

// TestReadIndexYieldsContentAndExpiryOfOneVersion: the expiry passed with
// each entry is the one stored with the content read.
func TestReadIndexYieldsContentAndExpiryOfOneVersion(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	at := time.Now().Add(time.Hour)
	if err := s.CreateIndexed(ctx, "timed", "u", at, text("t")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIndexed(ctx, "forever", "u", time.Time{}, text("f")); err != nil {
		t.Fatal(err)
	}
	got := map[string]time.Time{}
	err := s.ReadIndex(ctx, "u", func(id string, expires time.Time, r io.Reader) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if want := id[:1]; string(b) != want {
			t.Errorf("content of %s = %q, want %q", id, b, want)
		}
		got[id] = expires
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !got["timed"].Equal(at) || !got["forever"].IsZero() {
		t.Errorf("ReadIndex yielded expiries %v, want timed at %v and forever at the zero Time", got, at)
	}
}

// TestIndexedEntriesReadLikeOthers: an entry that records its index key
// reads, lists, touches and sweeps exactly as one that does not; the key
// never shows in its content.
func TestIndexedEntriesReadLikeOthers(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	if err := s.CreateIndexed(ctx, "id1", strings.Repeat("k", sessions.MaxIDLength), exp, text("content")); err != nil {
		t.Fatal(err)
	}
	if got, err := get(s, "id1"); err != nil || string(got) != "content" {
		t.Errorf("Read = %q, %v; want %q", got, err, "content")
	}
	var gotExp time.Time
	err := s.ReadWithExpiry(ctx, "id1", func(r io.Reader, e time.Time) error {
		b, err := io.ReadAll(r)
		if string(b) != "content" {
			t.Errorf("ReadWithExpiry content = %q, want %q", b, "content")
		}
		gotExp = e
		return err
	})
	if err != nil || !gotExp.Equal(exp) {
		t.Errorf("ReadWithExpiry = %v, expiry %v; want %v", err, gotExp, exp)
	}
	if err := s.Touch(ctx, "id1", exp.Add(time.Hour)); err != nil {
		t.Errorf("Touch = %v", err)
	}
	if got, err := get(s, "id1"); err != nil || string(got) != "content" {
		t.Errorf("Read after Touch = %q, %v; want %q", got, err, "content")
	}
	if got := listed(t, s); !slices.Equal(got, []string{"id1"}) {
		t.Errorf("List = %q, want [id1]", got)
	}
}

// TestListAndSweepIgnoreTheIndex: the index folder is not an entry folder:
// List never yields a marker or an index key, and DeleteExpired counts
// entries only.
func TestListAndSweepIgnoreTheIndex(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	// Index keys spelled like ids, so that a walk that entered the index
	// would find names it could take for entries.
	for _, c := range [][2]string{{"a", "b"}, {"b", "a"}, {"c", "c"}} {
		if err := s.CreateIndexed(ctx, c[0], c[1], exp, text(c[0])); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateIndexed(ctx, "gone", "a", time.Now().Add(time.Millisecond), text("g")); err != nil {
		t.Fatal(err)
	}
	if got := listed(t, s); !slices.Equal(got, []string{"a", "b", "c", "gone"}) && !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("List = %q, want the entries only", got)
	}
	time.Sleep(2 * time.Millisecond) // a lower bound: "gone" is expired after it
	if n, err := s.DeleteExpired(ctx); err != nil || n != 1 {
		t.Errorf("DeleteExpired = %d, %v; want 1, nil", n, err)
	}
	if got := listed(t, s); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("List after the sweep = %q, want [a b c]", got)
	}
	if got := len(markers(t, s.Root())); got != 3 {
		t.Errorf("%d markers after the sweep, want the 3 of live entries", got)
	}
}

// TestSweeperReleasesTheFilingsOfEndedEntries: markers of entries that
// expired, were invalidated, replaced away or moved are removed by the
// sweeper even when no ReadIndex of their key ever runs, and so are the
// key folders they leave empty.
func TestSweeperReleasesTheFilingsOfEndedEntries(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateIndexed(ctx, "expires", "k1", time.Now().Add(time.Millisecond), text("x")))
	must(s.CreateIndexed(ctx, "invalidated", "k2", exp, text("x")))
	must(s.Invalidate(ctx, "invalidated"))
	must(s.CreateIndexed(ctx, "renewed", "k3", exp, text("x")))
	must(s.Replace(ctx, "renewed", time.Now().Add(-time.Second), text("x")))
	must(s.CreateIndexed(ctx, "moved", "k4", exp, text("x")))
	must(s.ReplaceIndexed(ctx, "moved", "k5", exp, text("x")))
	must(s.CreateIndexed(ctx, "kept", "k5", exp, text("x")))
	time.Sleep(2 * time.Millisecond) // a lower bound: "expires" is expired after it
	if got := len(markers(t, s.Root())); got != 6 {
		t.Fatalf("%d markers before the sweep, want 6 (one per indexed write)", got)
	}
	if _, err := s.DeleteExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(markers(t, s.Root())); got != 2 {
		t.Errorf("%d markers after the sweep, want the 2 of k5", got)
	}
	if got := keyFolders(t, s.Root()); len(got) != 1 {
		t.Errorf("index key folders after the sweep: %q, want only k5's", got)
	}
	if got := indexedIDs(t, s, "k5"); !slices.Equal(got, []string{"kept", "moved"}) {
		t.Errorf("ReadIndex(k5) = %q, want [kept moved]", got)
	}
}

// TestReadIndexRemovesStaleMarkersAndEmptyKeyFolders: after the last entry
// of a key ends, the next ReadIndex of that key leaves nothing of it on
// disk.
func TestReadIndexRemovesStaleMarkersAndEmptyKeyFolders(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	for i := range 3 {
		if err := s.CreateIndexed(ctx, fmt.Sprint("id", i), "u", time.Now().Add(time.Hour), text("v")); err != nil {
			t.Fatal(err)
		}
	}
	if got := keyFolders(t, s.Root()); len(got) != 1 {
		t.Fatalf("key folders = %q, want one", got)
	}
	for i := range 3 {
		if err := s.Invalidate(ctx, fmt.Sprint("id", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := indexedIDs(t, s, "u"); len(got) != 0 {
		t.Errorf("ReadIndex after every entry was invalidated = %q", got)
	}
	if got := markers(t, s.Root()); len(got) != 0 {
		t.Errorf("markers left: %q", got)
	}
	if got := keyFolders(t, s.Root()); len(got) != 0 {
		t.Errorf("key folders left: %q", got)
	}
	// The key can be used again.
	if err := s.CreateIndexed(ctx, "again", "u", time.Now().Add(time.Hour), text("v")); err != nil {
		t.Fatal(err)
	}
	if got := indexedIDs(t, s, "u"); !slices.Equal(got, []string{"again"}) {
		t.Errorf("ReadIndex after reuse = %q, want [again]", got)
	}
}

// TestReadIndexOfAnUnknownKeyCreatesNothing: like Read, ReadIndex never
// creates anything, so random index keys cannot fill the disk.
func TestReadIndexOfAnUnknownKeyCreatesNothing(t *testing.T) {
	s := newStore(t)
	if err := s.CreateIndexed(t.Context(), "id", "known", time.Now().Add(time.Hour), text("v")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s.Root())
	for i := range 20 {
		if got := readIndex(t, s, fmt.Sprint("unknown", i)); len(got) != 0 {
			t.Errorf("ReadIndex of an unknown key yielded %v", got)
		}
	}
	if after := snapshot(t, s.Root()); !mapsEqual(before, after) {
		t.Errorf("ReadIndex of unknown keys changed the tree: %q -> %q", keys(before), keys(after))
	}
}

// TestInvalidIndexKeysTouchNothing: an index key is checked as an id is,
// before any path is built; ReadIndex refuses the empty key too.
func TestInvalidIndexKeysTouchNothing(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	before := snapshot(t, s.Root())
	for _, k := range []string{"../x", "a/b", `a\b`, ".", "..", "a b", "index", "é", strings.Repeat("k", sessions.MaxIDLength+1)} {
		if k == "index" {
			continue // a valid key: it must simply land under the index folder
		}
		write := func(io.Writer) error { t.Errorf("the write func ran for index key %q", k); return nil }
		if err := s.CreateIndexed(ctx, "id", k, time.Time{}, write); !errors.Is(err, sessions.ErrInvalidID) {
			t.Errorf("CreateIndexed with index key %q = %v, want ErrInvalidID", k, err)
		}
		if err := s.ReplaceIndexed(ctx, "id", k, time.Time{}, write); !errors.Is(err, sessions.ErrInvalidID) {
			t.Errorf("ReplaceIndexed with index key %q = %v, want ErrInvalidID", k, err)
		}
		if err := s.ReadIndex(ctx, k, func(string, time.Time, io.Reader) error { return nil }); !errors.Is(err, sessions.ErrInvalidID) {
			t.Errorf("ReadIndex(%q) = %v, want ErrInvalidID", k, err)
		}
	}
	if err := s.ReadIndex(ctx, "", func(string, time.Time, io.Reader) error { return nil }); !errors.Is(err, sessions.ErrInvalidID) {
		t.Errorf("ReadIndex(\"\") = %v, want ErrInvalidID", err)
	}
	if after := snapshot(t, s.Root()); !mapsEqual(before, after) {
		t.Errorf("invalid index keys changed the tree: %q -> %q", keys(before), keys(after))
	}
	// A key spelled like the index folder is just a key.
	if err := s.CreateIndexed(ctx, "id", "index", time.Time{}, text("v")); err != nil {
		t.Fatal(err)
	}
	if got := indexedIDs(t, s, "index"); !slices.Equal(got, []string{"id"}) {
		t.Errorf("ReadIndex(\"index\") = %q, want [id]", got)
	}
}

// TestIndexCallsAfterCloseAndCancel: ErrClosed after Close, the context's
// error when it is done, and no effect either way.
func TestIndexCallsAfterCloseAndCancel(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	none := func(string, time.Time, io.Reader) error { return nil }
	exp := time.Now().Add(time.Hour)
	before := snapshot(t, s.Root())
	if err := s.CreateIndexed(ctx, "id", "u", exp, text("v")); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateIndexed with a cancelled context = %v", err)
	}
	if err := s.ReplaceIndexed(ctx, "id", "u", exp, text("v")); !errors.Is(err, context.Canceled) {
		t.Errorf("ReplaceIndexed with a cancelled context = %v", err)
	}
	if err := s.ReadIndex(ctx, "u", none); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadIndex with a cancelled context = %v", err)
	}
	if after := snapshot(t, s.Root()); !mapsEqual(before, after) {
		t.Errorf("cancelled calls changed the tree: %q -> %q", keys(before), keys(after))
	}
	s.Close()
	if err := s.CreateIndexed(t.Context(), "id", "u", exp, text("v")); !errors.Is(err, sessions.ErrClosed) {
		t.Errorf("CreateIndexed after Close = %v", err)
	}
	if err := s.ReplaceIndexed(t.Context(), "id", "u", exp, text("v")); !errors.Is(err, sessions.ErrClosed) {
		t.Errorf("ReplaceIndexed after Close = %v", err)
	}
	if err := s.ReadIndex(t.Context(), "u", none); !errors.Is(err, sessions.ErrClosed) {
		t.Errorf("ReadIndex after Close = %v", err)
	}
}

// TestReadIndexStopsAtReadsErrorAndLetsReadUseTheStore: read's error comes
// back as is; read may end the session it is given (no lock is held).
func TestReadIndexStopsAtReadsErrorAndLetsReadUseTheStore(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	for i := range 3 {
		if err := s.CreateIndexed(ctx, fmt.Sprint("id", i), "u", time.Time{}, text("v")); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("boom")
	calls := 0
	if err := s.ReadIndex(ctx, "u", func(string, time.Time, io.Reader) error { calls++; return boom }); !errors.Is(err, boom) || calls != 1 {
		t.Errorf("ReadIndex with a failing read = %v after %d calls, want boom after 1", err, calls)
	}
	done := make(chan error, 1)
	go func() {
		done <- s.ReadIndex(ctx, "u", func(id string, _ time.Time, _ io.Reader) error {
			if err := s.ReplaceIndexed(ctx, id, "u", time.Time{}, text("w")); err != nil {
				return err
			}
			return s.Invalidate(ctx, id)
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ReadIndex whose read ends each session = %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("ReadIndex whose read uses the Store did not return within 60s: a lock is held")
	}
	if got := indexedIDs(t, s, "u"); len(got) != 0 {
		t.Errorf("ReadIndex after ending every session = %q", got)
	}
}

// TestTwoStoresShareTheIndex: the index lives on disk, so a Store over the
// same root (another process, a restart) sees the filings of the other.
func TestTwoStoresShareTheIndex(t *testing.T) {
	a := newStore(t)
	b, err := directory.New(a.Root(), directory.WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := t.Context()
	if err := a.CreateIndexed(ctx, "id1", "u", time.Now().Add(time.Hour), text("v")); err != nil {
		t.Fatal(err)
	}
	if err := b.ReplaceIndexed(ctx, "id1", "w", time.Now().Add(time.Hour), text("v2")); err != nil {
		t.Fatal(err)
	}
	if got := indexedIDs(t, a, "u"); len(got) != 0 {
		t.Errorf("ReadIndex(u) on the first Store after the second moved the entry = %q", got)
	}
	if got := readIndex(t, a, "w"); got["id1"] != "v2" || len(got) != 1 {
		t.Errorf("ReadIndex(w) on the first Store = %v, want id1: v2", got)
	}
}

// TestIndexErrorsDoNotLeakIDsOrKeys: when the index cannot be written, the
// error names neither the id nor the index key, nor their file names, and
// the indexed write stores nothing.
func TestIndexErrorsDoNotLeakIDsOrKeys(t *testing.T) {
	s := newStore(t)
	const id, key = "SecretSessionID", "SecretUserKey"
	ctx := t.Context()
	// A file where a key's folder goes: every indexed write under it fails.
	if err := s.CreateIndexed(ctx, "probe", key, time.Now().Add(time.Hour), text("p")); err != nil {
		t.Fatal(err)
	}
	folders := keyFolders(t, s.Root())
	if len(folders) != 1 {
		t.Fatalf("key folders = %q, want one", folders)
	}
	keyDir := filepath.Join(s.Root(), folders[0])
	keyName := filepath.Base(keyDir)
	if err := os.RemoveAll(keyDir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyDir, []byte("squatter"), 0o600); err != nil {
		t.Fatal(err)
	}
	var pathErr *fs.PathError
	err := s.CreateIndexed(ctx, id, key, time.Now().Add(time.Hour), text("v"))
	if err == nil {
		t.Fatal("CreateIndexed under a squatted key folder succeeded")
	}
	msg := err.Error()
	if strings.Contains(msg, id) || strings.Contains(msg, key) || strings.Contains(msg, keyName) {
		t.Errorf("the error %q reveals the id or the index key", msg)
	}
	if !strings.HasPrefix(msg, "sessionkit/directory: ") || !strings.Contains(msg, "<index>") || !errors.As(err, &pathErr) {
		t.Errorf("the error %q lacks the package prefix, the redacted path or the *fs.PathError", msg)
	}
	// The marker is made before the rename: a write that cannot file its
	// entry leaves no entry, so no live entry goes unlisted.
	if _, err := get(s, id); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read after a failed CreateIndexed = %v, want ErrNotFound", err)
	}
	if got := tempFiles(t, s.Root()); len(got) != 0 {
		t.Errorf("temporary files left: %q", got)
	}
	// Nothing can be filed under a squatted key: ReadIndex finds nothing.
	if err := s.ReadIndex(ctx, key, func(string, time.Time, io.Reader) error { return nil }); err != nil {
		t.Errorf("ReadIndex of the squatted key = %v, want nil", err)
	}
}
