package directory_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/directory"
)

// envRequire is storagetest/containers' EnvRequireServers, which this module
// cannot import (it pulls in testcontainers): CI sets it, and then a test
// that cannot get its environment fails instead of skipping.
const envRequire = "SESSIONKIT_REQUIRE_SERVERS"

// required parses envRequire as containers.Required does: any value
// strconv.ParseBool accepts as true, or one it cannot parse.
func required() bool {
	v := strings.TrimSpace(os.Getenv(envRequire))
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// mountTmpfs mounts a tmpfs with the given mount options on a fresh folder
// and unmounts it when the test ends, after the cleanups registered later
// (the Stores' Close) have run. Mounting needs root or CAP_SYS_ADMIN: without
// it the test is skipped, or fails when envRequire is set.
func mountTmpfs(t *testing.T, options string) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, options); err != nil {
		msg := fmt.Sprintf("cannot mount a tmpfs (%s) on %s: %v; mounting needs root or CAP_SYS_ADMIN", options, dir, err)
		if required() {
			t.Fatalf("%s\n%s is set, so this is a failure, not a skip.", msg, envRequire)
		}
		t.Skipf("%s (set %s=1 to make this a failure)", msg, envRequire)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			// Still busy: detach it, so that no mount outlives the test,
			// and report what kept it busy.
			t.Errorf("unmount %s: %v (detaching it)", dir, err)
			if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
				t.Errorf("detach %s: %v", dir, err)
			}
		}
	})
	return dir
}

// fillBlocks fills the file system of dir with one file until a write of a
// single byte fails with ENOSPC, and returns a function that frees the space.
func fillBlocks(t *testing.T, dir string) (free func()) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for _, size := range []int{len(chunk), 1} { // then byte by byte: tmpfs counts whole pages
		for {
			if _, err := f.Write(chunk[:size]); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("filling the file system: %v", err)
				}
				break
			}
		}
	}
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// fillInodes creates empty files in dir until the file system has no inode
// left, and returns a function that removes them.
func fillInodes(t *testing.T, dir string) (free func()) {
	t.Helper()
	var paths []string
	for i := 0; ; i++ {
		p := filepath.Join(dir, fmt.Sprintf("inode-%d", i))
		f, err := os.Create(p)
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("using up the inodes: %v", err)
			}
			break
		}
		f.Close()
		paths = append(paths, p)
		if i > 1<<20 {
			t.Fatal("the file system does not run out of inodes")
		}
	}
	return func() {
		for _, p := range paths {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// fullFSCall is a change that must fail on the full file system.
type fullFSCall struct {
	name string
	call func(s *directory.Store, id string, content []byte) error
}

func writeContent(content []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(content) // its error, ENOSPC, is the write func's
		return err
	}
}

var fullFSChanges = []fullFSCall{
	{"Write", func(s *directory.Store, id string, c []byte) error {
		return s.Write(context.Background(), id, time.Time{}, writeContent(c))
	}},
	{"Create", func(s *directory.Store, id string, c []byte) error {
		return s.Create(context.Background(), id, time.Time{}, writeContent(c))
	}},
	{"Replace", func(s *directory.Store, id string, c []byte) error {
		return s.Replace(context.Background(), id, time.Time{}, writeContent(c))
	}},
}

// TestFullFileSystemFailsWritesAndKeepsOldContent fills a small tmpfs, of
// data blocks or of inodes, under a Store with entries, and checks what a
// user relies on: every Write, Create and Replace fails with an error
// wrapping ENOSPC and leaves the old content byte for byte and no temporary
// file; new ids are not created; Read, ReadWithExpiry and List keep
// working; Touch keeps working (it rewrites 12 bytes in place, which needs
// no new block or inode on tmpfs); Invalidate keeps working; and once space
// is freed, writes work again.
func TestFullFileSystemFailsWritesAndKeepsOldContent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		options string
		fill    func(t *testing.T, dir string) (free func())
	}{
		{"no free blocks", "size=1m,mode=0700", fillBlocks},
		{"no free inodes", "size=16m,nr_inodes=256,mode=0700", fillInodes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mnt := mountTmpfs(t, tc.options)
			root := filepath.Join(mnt, "sessions")
			s, err := directory.New(root, directory.WithSweepInterval(0))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })

			// "small" fits the Store's write buffer, so the error comes
			// from the flush after the write func; "large" does not, so
			// the write func itself sees it.
			old := map[string][]byte{
				"small":  value('s', 300),
				"large":  value('l', 100_000),
				"doomed": value('d', 10),
			}
			expires := time.Now().Add(time.Hour).Truncate(time.Second)
			for id, c := range old {
				put(t, s, id, expires, c)
			}
			onDisk := func() map[string][]byte {
				files := map[string][]byte{}
				for _, rel := range entryFiles(t, root) {
					b, err := os.ReadFile(filepath.Join(root, rel))
					if err != nil {
						t.Fatal(err)
					}
					files[rel] = b
				}
				return files
			}
			before := onDisk()
			free := tc.fill(t, mnt)

			for _, c := range fullFSChanges {
				for _, id := range []string{"small", "large"} {
					for _, size := range []int{10, 200_000} {
						err := c.call(s, id, value('n', size))
						if !errors.Is(err, syscall.ENOSPC) {
							t.Errorf("%s of %s with %d bytes on a full file system = %v, want an error wrapping ENOSPC", c.name, id, size, err)
						}
					}
				}
				// A new id: nothing is created. Replace of an absent id is
				// ErrNotFound whether or not its folder has room.
				err := c.call(s, "fresh", value('f', 10))
				if c.name == "Replace" {
					if !errors.Is(err, sessions.ErrNotFound) && !errors.Is(err, syscall.ENOSPC) {
						t.Errorf("Replace of a new id = %v, want ErrNotFound or ENOSPC", err)
					}
				} else if !errors.Is(err, syscall.ENOSPC) {
					t.Errorf("%s of a new id on a full file system = %v, want an error wrapping ENOSPC", c.name, err)
				}
			}
			if tmp := tempFiles(t, root); len(tmp) != 0 {
				t.Errorf("temporary files left by the failed writes: %q", tmp)
			}
			if after := onDisk(); !mapsEqualBytes(before, after) {
				t.Errorf("entry files changed by the failed writes: %d before, %d after, or their bytes differ", len(before), len(after))
			}
			if _, err := get(s, "fresh"); !errors.Is(err, sessions.ErrNotFound) {
				t.Errorf("Read of the new id after the failed writes = %v, want ErrNotFound", err)
			}

			// Reads keep working.
			for id, c := range old {
				got, err := get(s, id)
				if err != nil || !bytes.Equal(got, c) {
					t.Errorf("Read(%s) on the full file system = %d bytes, %v; want its %d old bytes", id, len(got), err, len(c))
				}
			}
			if ids := listed(t, s); !slices.Equal(ids, []string{"doomed", "large", "small"}) {
				t.Errorf("List on the full file system = %q", ids)
			}
			// Touch rewrites the expiry in place: no new block, no new
			// inode.
			later := expires.Add(time.Hour)
			if err := s.Touch(context.Background(), "small", later); err != nil {
				t.Errorf("Touch on the full file system = %v, want it to work in place", err)
			}
			err = s.ReadWithExpiry(context.Background(), "small", func(r io.Reader, got time.Time) error {
				if !got.Equal(later) {
					t.Errorf("expiry after Touch = %v, want %v", got, later)
				}
				b, err := io.ReadAll(r)
				if !bytes.Equal(b, old["small"]) {
					t.Errorf("content after Touch = %d bytes, want the old %d", len(b), len(old["small"]))
				}
				return err
			})
			if err != nil {
				t.Errorf("ReadWithExpiry on the full file system: %v", err)
			}
			// A logout must work on a full disk: removal needs no space.
			if err := s.Invalidate(context.Background(), "doomed"); err != nil {
				t.Errorf("Invalidate on the full file system = %v", err)
			}
			if _, err := get(s, "doomed"); !errors.Is(err, sessions.ErrNotFound) {
				t.Errorf("Read after Invalidate = %v, want ErrNotFound", err)
			}

			// Once there is room again, so are writes.
			free()
			for _, c := range fullFSChanges {
				content := value(c.name[0], 5000)
				if err := c.call(s, "small", content); c.name != "Create" && err != nil {
					t.Errorf("%s after space was freed: %v", c.name, err)
				}
				if err := c.call(s, "fresh-"+c.name, content); c.name != "Replace" && err != nil {
					t.Errorf("%s of a new id after space was freed: %v", c.name, err)
				}
			}
			if got, err := get(s, "small"); err != nil || !bytes.Equal(got, value('R', 5000)) {
				t.Errorf("Read after the writes that followed = %d bytes, %v; want Replace's content", len(got), err)
			}
			if got, err := get(s, "fresh-Write"); err != nil || !bytes.Equal(got, value('W', 5000)) {
				t.Errorf("Read of a new id written after space was freed = %d bytes, %v", len(got), err)
			}
			if tmp := tempFiles(t, root); len(tmp) != 0 {
				t.Errorf("temporary files left behind: %q", tmp)
			}
		})
	}
}

func mapsEqualBytes(a, b map[string][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}
