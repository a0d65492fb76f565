//go:build linux || darwin

package bench

import (
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
)

// diskUsage measures what is under a directory store's root: its entry
// files, other files and folders, the space allocated to all of them, the
// entry files' lengths, and the file system's used inodes.
func diskUsage(root string) (Footprint, error) {
	var f Footprint
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			f.DiskBytes += int64(st.Blocks) * 512
		}
		switch {
		case d.IsDir():
			if path != root {
				f.Dirs++
			}
		case strings.HasPrefix(d.Name(), "."):
			// Folder locks and temporary files.
			f.OtherFiles++
		default:
			f.EntryFiles++
			f.ApparentBytes += info.Size()
		}
		return nil
	})
	if err != nil {
		return Footprint{}, err
	}
	var s syscall.Statfs_t
	if err := syscall.Statfs(root, &s); err == nil {
		f.InodesUsed = int64(s.Files) - int64(s.Ffree)
	}
	return f, nil
}
