//go:build !(linux || darwin)

package bench

import (
	"io/fs"
	"path/filepath"
	"strings"
)

// diskUsage measures what is under a directory store's root. Without
// st_blocks and statfs, the space allocated is taken as the files'
// lengths and inodes are not counted.
func diskUsage(root string) (Footprint, error) {
	var f Footprint
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if path != root {
				f.Dirs++
			}
		case strings.HasPrefix(d.Name(), "."):
			f.OtherFiles++
		default:
			info, err := d.Info()
			if err != nil {
				return err
			}
			f.EntryFiles++
			f.ApparentBytes += info.Size()
			f.DiskBytes += info.Size()
		}
		return nil
	})
	return f, err
}
