package directory

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func indexText(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// idsUnder returns the ids ReadIndex yields for index, sorted.
func idsUnder(t *testing.T, s *Store, index string) []string {
	t.Helper()
	var ids []string
	err := s.ReadIndex(context.Background(), index, func(id string, _ time.Time, _ io.Reader) error {
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadIndex = %v", err)
	}
	slices.Sort(ids)
	return ids
}

// markerPath returns where the marker of id under index lives.
func markerPath(t *testing.T, s *Store, index, id string) string {
	t.Helper()
	k, err := s.locateKey(index)
	if err != nil {
		t.Fatal(err)
	}
	e, err := s.locate(id)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(k.dir, e.name)
}

// TestEntryFormatRecordsTheIndexKey pins the on-disk format: an entry filed
// under no index key is exactly the version 1 file of before (so older
// Stores sharing a root read it), and one filed under a key is version 2
// with the key's length in byte 5 and its bytes between the header and the
// content. The marker is an empty file at root/index/<fan-out>/<key>/<name>.
func TestEntryFormatRecordsTheIndexKey(t *testing.T) {
	s := openTest(t, t.TempDir(), false)
	ctx := t.Context()
	exp := time.Unix(0, 1_900_000_000_000_000_000)
	if err := s.Write(ctx, "plain", exp, indexText("content")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIndexed(ctx, "filed", "user-1", exp, indexText("content")); err != nil {
		t.Fatal(err)
	}
	var v1 [headerSize]byte
	putHeader(&v1, exp.UnixNano())
	cases := []struct {
		id   string
		want []byte
	}{
		{"plain", append(v1[:], "content"...)},
		{"filed", func() []byte {
			h := v1
			h[4], h[5] = 2, byte(len("user-1"))
			return append(append(h[:], "user-1"...), "content"...)
		}()},
	}
	for _, c := range cases {
		e, _ := s.locate(c.id)
		got, err := os.ReadFile(e.path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.want) {
			t.Errorf("the file of %s is %q, want %q", c.id, got, c.want)
		}
	}
	if int64(binary.BigEndian.Uint64(cases[1].want[8:16])) != exp.UnixNano() {
		t.Error("the test's own header is wrong")
	}
	p := markerPath(t, s, "user-1", "filed")
	fi, err := os.Stat(p)
	if err != nil || fi.Size() != 0 {
		t.Errorf("marker %s: %v, size %v; want an empty file", p, err, fi)
	}
	rel, _ := filepath.Rel(s.Root(), p)
	if parts := strings.Split(rel, string(filepath.Separator)); len(parts) != 4 || parts[0] != indexFolder || parts[1] != folderOf("user-1") {
		t.Errorf("marker at %s, want index/<fan-out>/<key>/<name>", rel)
	}
}

// TestCrashBetweenMarkerAndRenameLeavesAStaleMarker: a write filed under a
// key makes its marker before it renames the entry into place, so a crash
// in between leaves a marker without an entry (or with an entry of another
// key): ReadIndex yields nothing for it and removes it.
func TestCrashBetweenMarkerAndRenameLeavesAStaleMarker(t *testing.T) {
	s := openTest(t, t.TempDir(), false)
	ctx := t.Context()
	for _, id := range []string{"neverRenamed", "renamedElsewhere"} {
		e, _ := s.locate(id)
		if err := s.fileMarker("u", e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateIndexed(ctx, "renamedElsewhere", "other", time.Now().Add(time.Hour), indexText("v")); err != nil {
		t.Fatal(err)
	}
	if got := idsUnder(t, s, "u"); len(got) != 0 {
		t.Errorf("ReadIndex(u) = %q after a crash between marker and rename, want nothing", got)
	}
	for _, id := range []string{"neverRenamed", "renamedElsewhere"} {
		if _, err := os.Lstat(markerPath(t, s, "u", id)); !os.IsNotExist(err) {
			t.Errorf("the stale marker of %s is still there (%v)", id, err)
		}
	}
}

// TestReadIndexReadsOnlyTheMarkers: ReadIndex finds entries through their
// markers and nothing else. An entry that records a key but lost its marker
// (an operating system crash that kept the rename and not the marker,
// without WithSync) is not found by ReadIndex, which proves it never scans
// the entries, and is filed again by the next sweep.
func TestReadIndexReadsOnlyTheMarkers(t *testing.T) {
	s := openTest(t, t.TempDir(), false)
	ctx := t.Context()
	if err := s.CreateIndexed(ctx, "lost", "u", time.Now().Add(time.Hour), indexText("v")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(markerPath(t, s, "u", "lost")); err != nil {
		t.Fatal(err)
	}
	if got := idsUnder(t, s, "u"); len(got) != 0 {
		t.Errorf("ReadIndex(u) = %q without a marker: it looked beyond the markers", got)
	}
	if _, err := s.DeleteExpired(ctx); err != nil {
		t.Fatal(err)
	}
	if got := idsUnder(t, s, "u"); !slices.Equal(got, []string{"lost"}) {
		t.Errorf("ReadIndex(u) after a sweep = %q, want the sweep to have filed lost again", got)
	}
}

// TestEntriesOfTheFormerVersionStillWork: a version 1 file written before
// the index existed reads, and becomes filed by ReplaceIndexed.
func TestEntriesOfTheFormerVersionStillWork(t *testing.T) {
	s := openTest(t, t.TempDir(), false)
	e, _ := s.locate("old")
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	var h [headerSize]byte
	putHeader(&h, 0)
	if err := os.WriteFile(e.path, append(h[:], "old content"...), 0o600); err != nil {
		t.Fatal(err)
	}
	var got []byte
	if err := s.Read(t.Context(), "old", func(r io.Reader) (err error) { got, err = io.ReadAll(r); return err }); err != nil || string(got) != "old content" {
		t.Fatalf("Read of a version 1 entry = %q, %v", got, err)
	}
	if err := s.ReplaceIndexed(t.Context(), "old", "u", time.Time{}, indexText("new")); err != nil {
		t.Fatal(err)
	}
	if got := idsUnder(t, s, "u"); !slices.Equal(got, []string{"old"}) {
		t.Errorf("ReadIndex(u) = %q, want [old]", got)
	}
}

// TestTruncatedKeyIsDebris: a version 2 file cut inside its key (an
// operating system crash without WithSync) reads as absent and is not
// yielded; its marker stays for the sweeper, which judges the entry.
func TestTruncatedKeyIsDebris(t *testing.T) {
	s := openTest(t, t.TempDir(), false)
	if err := s.CreateIndexed(t.Context(), "cut", "user-key", time.Time{}, indexText("v")); err != nil {
		t.Fatal(err)
	}
	e, _ := s.locate("cut")
	if err := os.Truncate(e.path, headerSize+3); err != nil {
		t.Fatal(err)
	}
	if err := s.Read(t.Context(), "cut", func(io.Reader) error { return nil }); err == nil {
		t.Error("Read of an entry cut inside its key succeeded")
	}
	if got := idsUnder(t, s, "user-key"); len(got) != 0 {
		t.Errorf("ReadIndex yielded %q, an entry cut inside its key", got)
	}
}

// TestConcurrentCleanupNeverUnfilesALiveEntry races ReadIndex's removal of
// stale markers against writes that move an entry back under the index key
// being read: a ReadIndex that finds the entry under another key decides
// its marker is stale, while the write renames it back under the key. The
// lock of the entry's folder orders the two, so whenever the mover has put
// the entry back (and nothing moves it until the check), the next ReadIndex
// yields it. Both lock kinds are run: flock and the in-process fallback.
func TestConcurrentCleanupNeverUnfilesALiveEntry(t *testing.T) {
	for _, lock := range []string{"Flock", "ProcessLock"} {
		t.Run(lock, func(t *testing.T) {
			s := openTest(t, t.TempDir(), lock == "ProcessLock")
			ctx := t.Context()
			exp := time.Now().Add(time.Hour)
			const movers = 2
			for m := range movers {
				if err := s.CreateIndexed(ctx, fmt.Sprint("mover", m), "u", exp, indexText("v")); err != nil {
					t.Fatal(err)
				}
			}
			stop := make(chan struct{})
			var cleaners sync.WaitGroup
			for range 2 {
				cleaners.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						if err := s.ReadIndex(ctx, "u", func(string, time.Time, io.Reader) error { return nil }); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			var movs sync.WaitGroup
			for m := range movers {
				id := fmt.Sprint("mover", m)
				movs.Go(func() {
					for i := range 300 {
						err := s.ReplaceIndexed(ctx, id, "elsewhere", exp, indexText("v"))
						if err == nil {
							err = s.ReplaceIndexed(ctx, id, "u", exp, indexText("v"))
						}
						var got []string
						if err == nil {
							err = s.ReadIndex(ctx, "u", func(id string, _ time.Time, _ io.Reader) error {
								got = append(got, id)
								return nil
							})
						}
						if err != nil {
							t.Error(err)
							return
						}
						if !slices.Contains(got, id) {
							t.Errorf("round %d: ReadIndex(u) = %q right after %s was filed back under u", i, got, id)
							return
						}
					}
				})
			}
			movs.Wait()
			close(stop)
			cleaners.Wait()
		})
	}
}

// TestFilingSurvivesItsFolderBeingRemoved races filed writes under one
// index key against ReadIndex and sweeps, which remove the key's folder
// (and the fan-out folder above it) whenever they find it empty. A write
// that makes the folder and has it removed before it made its marker, even
// between making the folder and setting its mode, makes it again: a filed
// write never fails because a cleaner found the folder empty.
func TestFilingSurvivesItsFolderBeingRemoved(t *testing.T) {
	s := openTest(t, t.TempDir(), false)
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	stop := make(chan struct{})
	var cleaners sync.WaitGroup
	for c := range 2 {
		cleaners.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if c == 0 {
					err = s.ReadIndex(ctx, "u", func(string, time.Time, io.Reader) error { return nil })
				} else {
					_, err = s.DeleteExpired(ctx)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	var writers sync.WaitGroup
	for w := range 2 {
		writers.Go(func() {
			id := fmt.Sprint("writer", w)
			for i := range 300 {
				// Each round leaves the folder empty for the cleaners: the
				// entry is filed, then ended, and its marker is stale.
				if err := s.CreateIndexed(ctx, id, "u", exp, indexText("v")); err != nil {
					t.Errorf("round %d: CreateIndexed under a key whose folder cleaners remove = %v", i, err)
					return
				}
				if err := s.Invalidate(ctx, id); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	writers.Wait()
	close(stop)
	cleaners.Wait()
}
