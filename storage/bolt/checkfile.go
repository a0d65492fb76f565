package bolt

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"
)

// checkFile looks at the pages of f that bbolt.Open reads before it trusts
// them: the meta pages and the freelist page, which a write-mode Open loads
// and then frees in its first commit. Where these are damaged, bbolt.Open
// panics ("invalid freelist page", "cannot free page 0 or 1"), reads past
// the end of the file into a fault, or hands out pages that are in use. The
// caller holds the file lock, so no writer changes f meanwhile.
//
// checkFile mirrors how bbolt picks the meta page it uses. It returns an
// error wrapping ErrCorrupt for damage it is sure of, and nil when the file
// is empty (bbolt initialises it), when no meta page is valid (bbolt.Open
// then fails with its own error), or when the file keeps no freelist (bbolt
// rebuilds it by walking the tree). It reads a few pages: the meta pages
// and the freelist, whose size follows the number of free pages.
func checkFile(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return nil // bbolt reports the first and handles the second
	}
	size := fi.Size()
	pageSize := findPageSize(f, size)
	if pageSize == 0 {
		return nil
	}
	m0 := readMeta(f, 0)
	m1 := readMeta(f, pageSize)
	// bbolt's DB.meta: the meta with the higher transaction id if it is
	// valid, else the other one.
	m, other := m0, m1
	if m1.txid > m0.txid {
		m, other = m1, m0
	}
	if !m.valid {
		m = other
	}
	if !m.valid {
		return nil
	}
	damaged := func(format string, args ...any) error {
		return fmt.Errorf("%w: open %s: the database file is damaged: %s", ErrCorrupt, f.Name(), fmt.Sprintf(format, args...))
	}
	pages := uint64(size / pageSize)
	if m.pgid > pages {
		return damaged("the meta page counts %d pages of %d bytes, the file holds %d bytes (cut short?)", m.pgid, pageSize, size)
	}
	if m.root < 2 || m.root >= m.pgid {
		return damaged("the root page %d is outside pages 2 to %d", m.root, m.pgid-1)
	}
	if m.freelist == noFreelist {
		return nil
	}
	if m.freelist < 2 || m.freelist >= m.pgid {
		return damaged("the freelist page %d is outside pages 2 to %d", m.freelist, m.pgid-1)
	}

	var h [pageHeaderSize]byte
	if _, err := f.ReadAt(h[:], int64(m.freelist)*pageSize); err != nil {
		return damaged("reading the freelist page %d: %v", m.freelist, err)
	}
	id := binary.NativeEndian.Uint64(h[0:])
	flags := binary.NativeEndian.Uint16(h[8:])
	count := uint64(binary.NativeEndian.Uint16(h[10:]))
	overflow := uint64(binary.NativeEndian.Uint32(h[12:]))
	switch {
	case id != m.freelist:
		return damaged("the freelist page %d says it is page %d", m.freelist, id)
	case flags != freelistPageFlag:
		return damaged("the freelist page %d has page flags %#x, not those of a freelist", m.freelist, flags)
	case m.freelist+overflow >= m.pgid:
		return damaged("the freelist page %d runs over %d more pages, past the last page %d", m.freelist, overflow, m.pgid-1)
	}
	span := int64(overflow+1) * pageSize
	body := make([]byte, span-pageHeaderSize)
	if _, err := f.ReadAt(body, int64(m.freelist)*pageSize+pageHeaderSize); err != nil {
		return damaged("reading the freelist page %d: %v", m.freelist, err)
	}
	first := uint64(0)
	if count == 0xFFFF {
		// bbolt's overflow form: the first element holds the count.
		count = binary.NativeEndian.Uint64(body)
		first = 1
	}
	if count > uint64(len(body)/8)-first {
		return damaged("the freelist page %d lists %d pages, more than its %d bytes hold", m.freelist, count, span)
	}
	ids := make([]uint64, count)
	for i := range ids {
		ids[i] = binary.NativeEndian.Uint64(body[8*(first+uint64(i)):])
	}
	slices.Sort(ids)
	for i, id := range ids {
		switch {
		case id < 2 || id >= m.pgid:
			return damaged("the freelist lists page %d, outside pages 2 to %d", id, m.pgid-1)
		case id >= m.freelist && id <= m.freelist+overflow:
			return damaged("the freelist lists its own page %d", id)
		case id == m.root:
			return damaged("the freelist lists the root page %d", id)
		case i > 0 && id == ids[i-1]:
			return damaged("the freelist lists page %d twice", id)
		}
	}
	return nil
}

// findPageSize returns the page size of the file as bbolt's getPageSize
// finds it: from the first meta page if it is valid, else from the first
// valid meta page at 1 KiB, 2 KiB, ... 16 MiB. It returns 0 when there is
// none.
func findPageSize(f *os.File, size int64) int64 {
	if m := readMeta(f, 0); m.valid {
		return m.pageSize
	}
	for i := range 15 {
		pos := int64(1024) << i
		if pos >= size-1024 {
			break
		}
		if m := readMeta(f, pos); m.valid {
			return m.pageSize
		}
	}
	return 0
}

// readMeta reads the meta page at off. A meta page that cannot be read, or
// whose magic, version, checksum or page size is wrong, is not valid.
func readMeta(f *os.File, off int64) fileMeta {
	var b [pageHeaderSize + metaSize]byte
	if n, err := f.ReadAt(b[:], off); err != nil && (err != io.EOF || n < len(b)) {
		return fileMeta{}
	}
	m := b[pageHeaderSize:]
	ne := binary.NativeEndian
	h := fnv.New64a()
	h.Write(m[:56]) // every field before the checksum
	fm := fileMeta{
		pageSize: int64(ne.Uint32(m[8:])),
		root:     ne.Uint64(m[16:]),
		freelist: ne.Uint64(m[32:]),
		pgid:     ne.Uint64(m[40:]),
		txid:     ne.Uint64(m[48:]),
	}
	fm.valid = ne.Uint32(m[0:]) == boltMagic && ne.Uint32(m[4:]) == boltVersion &&
		ne.Uint64(m[56:]) == h.Sum64() && fm.pageSize >= 1024
	return fm
}

// A meta page as checkFile reads it: the fields of bbolt's common.Meta
// after the page header (magic, version, page size, flags, root bucket,
// freelist, high water mark, transaction id, checksum).
type fileMeta struct {
	valid    bool
	pageSize int64
	root     uint64 // the root page of the top-level buckets
	freelist uint64 // the freelist page, or noFreelist
	pgid     uint64 // the high water mark: pages 0 to pgid-1 are in use
	txid     uint64
}

const (
	pageHeaderSize   = 16
	metaSize         = 64
	freelistPageFlag = 0x10
	noFreelist       = ^uint64(0) // bbolt's PgidNoFreelist
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
)
