package directory

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storagetest"
)

func openTest(t *testing.T, root string, processLocks bool) *Store {
	t.Helper()
	s, err := New(root, WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	s.processLocks = processLocks
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestConformanceProcessLocks runs the suite with the lock that platforms
// without flock(2) use, so that the fallback is tested everywhere.
func TestConformanceProcessLocks(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) sessions.Storage { return openTest(t, t.TempDir(), true) })
}

// split is one storage made of two Stores on one root: each call goes to
// one or the other, in turn, so the suite's concurrent Creates, and its
// Replaces racing Invalidates, run between two Stores that share nothing
// in memory.
type split struct {
	a, b *Store
	n    *atomic.Uint64
}

func (s split) next() *Store {
	if s.n.Add(1)%2 == 0 {
		return s.a
	}
	return s.b
}

func (s split) Write(ctx context.Context, id string, exp time.Time, w func(io.Writer) error) error {
	return s.next().Write(ctx, id, exp, w)
}
func (s split) Read(ctx context.Context, id string, r func(io.Reader) error) error {
	return s.next().Read(ctx, id, r)
}
func (s split) Invalidate(ctx context.Context, id string) error { return s.next().Invalidate(ctx, id) }
func (s split) Touch(ctx context.Context, id string, exp time.Time) error {
	return s.next().Touch(ctx, id, exp)
}
func (s split) Create(ctx context.Context, id string, exp time.Time, w func(io.Writer) error) error {
	return s.next().Create(ctx, id, exp, w)
}
func (s split) Replace(ctx context.Context, id string, exp time.Time, w func(io.Writer) error) error {
	return s.next().Replace(ctx, id, exp, w)
}
func (s split) ReadWithExpiry(ctx context.Context, id string, r func(io.Reader, time.Time) error) error {
	return s.next().ReadWithExpiry(ctx, id, r)
}
func (s split) List(ctx context.Context) iter.Seq2[string, error] { return s.next().List(ctx) }
func (s split) DeleteExpired(ctx context.Context) (int, error)    { return s.next().DeleteExpired(ctx) }
func (s split) Close() error                                      { return errors.Join(s.a.Close(), s.b.Close()) }

// TestConformanceTwoStoresOneRoot: two Stores on one root, used in turn,
// are one correct storage; with flock(2) they exclude each other through the
// lock files alone.
func TestConformanceTwoStoresOneRoot(t *testing.T) {
	if !flockAvailable {
		t.Skip("without flock(2), Stores exclude each other only within one process, by folder path; TestConformanceProcessLocks covers that")
	}
	storagetest.Run(t, func(t *testing.T) sessions.Storage {
		root := t.TempDir()
		return split{openTest(t, root, false), openTest(t, root, false), new(atomic.Uint64)}
	})
}

// childRootEnv names the root that TestCrossProcessHelper works on; only a
// child process started by TestCrossProcessConditionalWrites sets it.
const childRootEnv = "DIRECTORY_TEST_CHILD_ROOT"

const crossIDs = 400

// crossRun is what both processes do once the go file exists: try to
// Create every id, and report each one won; then Replace every odd id
// while the other process Invalidates it.
func crossRun(s *Store, who string, won func(id string)) error {
	ctx := context.Background()
	for i := range crossIDs {
		id := fmt.Sprintf("c-%03d", i)
		err := s.Create(ctx, id, time.Time{}, func(w io.Writer) error { _, err := io.WriteString(w, who); return err })
		switch {
		case err == nil:
			won(id)
		case !errors.Is(err, sessions.ErrExists):
			return err
		}
	}
	for i := range crossIDs {
		id := fmt.Sprintf("r-%03d", i)
		var err error
		if who == "parent" {
			err = s.Replace(ctx, id, time.Time{}, func(w io.Writer) error { _, err := io.WriteString(w, who); return err })
			if errors.Is(err, sessions.ErrNotFound) {
				err = nil
			}
		} else {
			err = s.Invalidate(ctx, id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// waitFile polls for path, which the other process makes, for up to a
// minute.
func waitFile(path string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not appear within a minute", path)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCrossProcessHelper is the child process of
// TestCrossProcessConditionalWrites.
func TestCrossProcessHelper(t *testing.T) {
	root := os.Getenv(childRootEnv)
	if root == "" {
		t.Skip("runs only as a child process of TestCrossProcessConditionalWrites")
	}
	s := openTest(t, root, false)
	if err := os.WriteFile(filepath.Join(root, "ready"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := waitFile(filepath.Join(root, "go")); err != nil {
		t.Fatal(err)
	}
	if err := crossRun(s, "child", func(id string) { fmt.Println("WON", id) }); err != nil {
		t.Fatal(err)
	}
}

// TestCrossProcessConditionalWrites: this process and a child (the test
// binary run again) share a root and, starting together, Create the same
// ids: each id is won by exactly one of them and holds the winner's value.
// Then this process Replaces ids that the child Invalidates: none is left.
func TestCrossProcessConditionalWrites(t *testing.T) {
	if !flockAvailable {
		t.Skip("conditional writes are atomic across processes only with flock(2)")
	}
	root := t.TempDir()
	s := openTest(t, root, false)
	for i := range crossIDs {
		if err := s.Write(t.Context(), fmt.Sprintf("r-%03d", i), time.Time{}, func(w io.Writer) error { _, err := io.WriteString(w, "old"); return err }); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrossProcessHelper$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), childRootEnv+"="+root)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := waitFile(filepath.Join(root, "ready")); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	won := make(map[string]string)
	runErr := crossRun(s, "parent", func(id string) { won[id] = "parent" })
	waitErr := cmd.Wait()
	if runErr != nil || waitErr != nil {
		t.Fatalf("parent: %v; child: %v\n%s", runErr, waitErr, out.String())
	}
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "WON "); ok {
			if won[id] != "" {
				t.Errorf("both processes won the Create of %q", id)
			}
			won[id] = "child"
		}
	}
	for i := range crossIDs {
		id := fmt.Sprintf("c-%03d", i)
		var got []byte
		err := s.Read(t.Context(), id, func(r io.Reader) error { var err error; got, err = io.ReadAll(r); return err })
		switch {
		case won[id] == "":
			t.Errorf("neither process won the Create of %q", id)
		case err != nil || string(got) != won[id]:
			t.Errorf("%q holds %q (%v), want the value of its winner, the %s", id, got, err, won[id])
		}
		id = fmt.Sprintf("r-%03d", i)
		if err := s.Read(t.Context(), id, func(io.Reader) error { return nil }); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("%q, Replaced by one process while the other Invalidated it, reads %v; want it gone", id, err)
		}
	}
}

// lockChildEnv names the root on which TestCrossProcessLockHelper Creates
// lockedID; only TestFolderLockExcludesAnotherProcess sets it.
const lockChildEnv = "DIRECTORY_TEST_LOCK_CHILD_ROOT"

const lockedID = "locked-entry"

// TestCrossProcessLockHelper is the child process of
// TestFolderLockExcludesAnotherProcess: it Creates lockedID and exits.
func TestCrossProcessLockHelper(t *testing.T) {
	root := os.Getenv(lockChildEnv)
	if root == "" {
		t.Skip("runs only as a child process of TestFolderLockExcludesAnotherProcess")
	}
	s := openTest(t, root, false)
	if err := os.WriteFile(filepath.Join(root, "creating"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(context.Background(), lockedID, time.Time{}, func(w io.Writer) error { _, err := io.WriteString(w, "child"); return err }); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "created"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestFolderLockExcludesAnotherProcess holds the lock of an entry's folder
// in this process while a child process Creates that entry: the child must
// wait for the lock. A lock that excluded only this process's goroutines
// would let the child's Create finish at once, and it is then caught here
// (unless the machine is too slow to let the child finish within the grace
// period, in which case the test proves less but does not fail).
func TestFolderLockExcludesAnotherProcess(t *testing.T) {
	if !flockAvailable {
		t.Skip("the folder lock is cross-process only with flock(2)")
	}
	root := t.TempDir()
	dir := filepath.Join(root, folderOf(lockedID))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	unlock, err := fileLock(filepath.Join(dir, lockName), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	locked := true
	defer func() {
		if locked {
			unlock()
		}
	}()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrossProcessLockHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+root)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := waitFile(filepath.Join(root, "creating")); err != nil {
		t.Fatal(err)
	}
	for grace := time.Now().Add(500 * time.Millisecond); time.Now().Before(grace); time.Sleep(time.Millisecond) {
		if _, err := os.Stat(filepath.Join(root, "created")); err == nil {
			t.Fatal("the child's Create finished while this process held the folder's lock")
		}
	}
	unlock()
	locked = false
	if err := <-exited; err != nil {
		t.Fatalf("child: %v\n%s", err, out.String())
	}
	s := openTest(t, root, false)
	var got []byte
	err = s.Read(t.Context(), lockedID, func(r io.Reader) error { var err error; got, err = io.ReadAll(r); return err })
	if err != nil || string(got) != "child" {
		t.Errorf("after the lock was released, %q holds %q (%v); want the child's value", lockedID, got, err)
	}
}
