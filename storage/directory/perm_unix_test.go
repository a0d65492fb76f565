//go:build unix

package directory_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/storage/directory"
)

// TestPermissions checks the modes of what a Store creates, under a umask
// that would strip group and other bits, so that an option's mode is seen
// to be applied exactly.
func TestPermissions(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	tests := []struct {
		name              string
		opts              []directory.Option
		wantFile, wantDir fs.FileMode
	}{
		{"defaults", nil, 0o600, 0o700},
		{"options", []directory.Option{directory.WithFileMode(0o640), directory.WithDirMode(0o750)}, 0o640, 0o750},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "parent", "root")
			s, err := directory.New(root, append([]directory.Option{directory.WithSweepInterval(0)}, tt.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			p := entryPath(t, s, "id")
			put(t, s, "id", time.Time{}, []byte("rewritten"))
			for path, want := range map[string]fs.FileMode{
				root:            tt.wantDir,
				filepath.Dir(p): tt.wantDir,
				p:               tt.wantFile,
			} {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != want {
					t.Errorf("%s has mode %v, want %v", path, got, want)
				}
			}
		})
	}
}

// TestPermissionErrorsAreWrapped: a folder the process cannot write to
// gives an error that errors.Is matches with fs.ErrPermission.
func TestPermissionErrorsAreWrapped(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores permission bits")
	}
	s := newStore(t)
	p := entryPath(t, s, "id")
	if err := os.Chmod(filepath.Dir(p), 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Dir(p), 0o700)
	err := s.Write(t.Context(), "id", time.Time{}, func(w io.Writer) error { return nil })
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Write into a read-only folder = %v, want fs.ErrPermission", err)
	}
}
