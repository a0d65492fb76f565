//go:build !windows && !plan9 && !solaris && !aix && !android

package bolt_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/storage/bolt"
	"go.etcd.io/bbolt"
)

// Helpers that build a database file and damage chosen pages of it. They
// read bbolt's on-disk format (go.etcd.io/bbolt/internal/common) by hand,
// since that package cannot be imported: every page starts with a 16-byte
// header (id uint64, flags uint16, count uint16, overflow uint32), in the
// machine's byte order, as bbolt writes its structs straight from memory.

const (
	pageHeaderSize = 16
	elementSize    = 16 // a branch or a leaf page element

	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	freelistPageFlag = 0x10

	bucketLeafFlag = 0x01 // a leaf element that holds a bucket header

	boltMagic = 0xED0CDAED
)

var ne = binary.NativeEndian

// fileMeta is the part of a meta page the tests use: fields of bbolt's
// common.Meta, which follows the page header.
type fileMeta struct {
	valid          bool
	pageSize       int
	root, freelist uint64 // page ids
	txid           uint64
}

// fileLayout says where the pages of a database file are.
type fileLayout struct {
	pageSize      int
	metas         [2]fileMeta
	newest        int      // the index of the meta page bbolt uses
	freelist      uint64   // the freelist page
	rootPage      uint64   // the page of the top-level bucket headers
	bucketRoot    uint64   // the root page of the Store's bucket
	branches      []uint64 // branch pages of the Store's bucket, root first
	leaves        []uint64 // leaf pages of the Store's bucket, in key order
	leafKeys      map[uint64][]string
	healthyLeafID string // a key on the last leaf, away from victimLeaf
}

func parseMeta(data []byte, off int) fileMeta {
	if off+pageHeaderSize+64 > len(data) {
		return fileMeta{}
	}
	m := data[off+pageHeaderSize:]
	fm := fileMeta{
		pageSize: int(ne.Uint32(m[8:])),
		root:     ne.Uint64(m[16:]),
		freelist: ne.Uint64(m[32:]),
		txid:     ne.Uint64(m[48:]),
	}
	// magic, version, checksum (FNV-1a of the fields before it)
	fm.valid = ne.Uint32(m[0:]) == boltMagic && ne.Uint32(m[4:]) == 2 && ne.Uint64(m[56:]) == fnv64a(m[:56])
	return fm
}

func fnv64a(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// readLayout maps the database file at path. It fails t if the file does
// not have the shape the corruption tests need.
func readLayout(t testing.TB, path string) fileLayout {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var l fileLayout
	m0 := parseMeta(data, 0)
	if !m0.valid {
		t.Fatal("layout: meta page 0 is not valid")
	}
	l.pageSize = m0.pageSize
	l.metas = [2]fileMeta{m0, parseMeta(data, l.pageSize)}
	if !l.metas[1].valid {
		t.Fatal("layout: meta page 1 is not valid")
	}
	if l.metas[1].txid > l.metas[0].txid {
		l.newest = 1
	}
	meta := l.metas[l.newest]
	page := func(id uint64) []byte {
		off := int(id) * l.pageSize
		if off+l.pageSize > len(data) {
			t.Fatalf("layout: page %d is beyond the end of the file", id)
		}
		return data[off:]
	}
	header := func(id uint64) (flags, count uint16) {
		p := page(id)
		if got := ne.Uint64(p); got != id {
			t.Fatalf("layout: page %d says it is page %d", id, got)
		}
		return ne.Uint16(p[8:]), ne.Uint16(p[10:])
	}

	l.freelist = meta.freelist
	flags, count := header(l.freelist)
	if flags != freelistPageFlag || count == 0 {
		// "freelist listing random pages" needs a freelist with entries.
		t.Fatalf("layout: freelist page %d has flags %#x and %d entries", l.freelist, flags, count)
	}

	l.rootPage = meta.root
	flags, count = header(l.rootPage)
	if flags != leafPageFlag {
		t.Fatalf("layout: the root page %d has flags %#x, want a leaf", l.rootPage, flags)
	}
	for i := range int(count) {
		e := page(l.rootPage)[pageHeaderSize+i*elementSize:]
		eflags, pos, ksize := ne.Uint32(e), ne.Uint32(e[4:]), ne.Uint32(e[8:])
		key := e[pos : pos+ksize]
		if eflags&bucketLeafFlag != 0 && string(key) == bolt.DefaultBucket {
			l.bucketRoot = ne.Uint64(e[pos+ksize:])
		}
	}
	if l.bucketRoot == 0 {
		t.Fatal("layout: the Store's bucket is inline or missing")
	}

	l.leafKeys = map[uint64][]string{}
	var walk func(id uint64)
	walk = func(id uint64) {
		flags, count := header(id)
		switch flags {
		case branchPageFlag:
			l.branches = append(l.branches, id)
			for i := range int(count) {
				e := page(id)[pageHeaderSize+i*elementSize:]
				walk(ne.Uint64(e[8:]))
			}
		case leafPageFlag:
			l.leaves = append(l.leaves, id)
			for i := range int(count) {
				e := page(id)[pageHeaderSize+i*elementSize:]
				pos, ksize := ne.Uint32(e[4:]), ne.Uint32(e[8:])
				l.leafKeys[id] = append(l.leafKeys[id], string(e[pos:pos+ksize]))
			}
		default:
			t.Fatalf("layout: page %d of the bucket has flags %#x", id, flags)
		}
	}
	walk(l.bucketRoot)
	if len(l.branches) == 0 || len(l.leaves) < 3 {
		t.Fatalf("layout: %d branch and %d leaf pages, too few to damage one and keep others", len(l.branches), len(l.leaves))
	}
	last := l.leafKeys[l.leaves[len(l.leaves)-1]]
	l.healthyLeafID = last[len(last)-1]
	return l
}

// victimLeaf is the leaf page the leaf cases damage, and victimID an id
// stored in it.
func (l fileLayout) victimLeaf() uint64 { return l.leaves[len(l.leaves)/2] }
func (l fileLayout) victimID() string   { return l.leafKeys[l.victimLeaf()][0] }

// Template database files, built once per test binary: building one takes
// a few thousand bbolt operations and every corruption case starts from a
// fresh copy.
var (
	templateOnce sync.Once
	templateData []byte
	templateErr  error
)

// templateEntries is enough entries of templateContent for the bucket to
// have a branch root over many leaves.
const templateEntries = 2000

func templateContent(i int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 1))
	b := make([]byte, 200) // the session size
	for j := range b {
		b[j] = byte('a' + r.IntN(26))
	}
	return b
}

func templateID(i int) string { return fmt.Sprintf("id-%05d", i) }

// buildTemplate writes templateEntries entries in the Store's layout with
// bbolt directly (one transaction, instead of thousands of commits), removes
// a few (so that the freelist lists pages), and then opens and closes the
// file twice with a Store, so that the two newest transactions change no
// entry: damaging the newest meta page then loses nothing.
func buildTemplate(dir string) ([]byte, error) {
	path := filepath.Join(dir, "template.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{NoSync: true})
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte(bolt.DefaultBucket))
		if err != nil {
			return err
		}
		for i := range templateEntries {
			v := append(make([]byte, 8), templateContent(i)...) // header 0: never expires
			if err := b.Put([]byte(templateID(i)), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		err = db.Update(func(tx *bbolt.Tx) error {
			b := tx.Bucket([]byte(bolt.DefaultBucket))
			for i := 0; i < templateEntries; i += 7 {
				if err := b.Delete([]byte(templateID(i))); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	for range 2 {
		s, err := bolt.Open(path, bolt.WithSweepInterval(0))
		if err != nil {
			return nil, err
		}
		if err := s.Close(); err != nil {
			return nil, err
		}
	}
	return os.ReadFile(path)
}

// templateLive reports whether entry i is in the template.
func templateLive(i int) bool { return i%7 != 0 }

// corruptCopy writes a fresh copy of the template at a new path, applies
// damage to it, and returns the path and the layout of the undamaged file.
func corruptCopy(t *testing.T, damage func(t *testing.T, f *os.File, l fileLayout)) (string, fileLayout) {
	t.Helper()
	templateOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sessionkit-bolt-template-")
		if err != nil {
			templateErr = err
			return
		}
		defer os.RemoveAll(dir)
		templateData, templateErr = buildTemplate(dir)
	})
	if templateErr != nil {
		t.Fatalf("building the template file: %v", templateErr)
	}
	path := filepath.Join(t.TempDir(), "sessions.db")
	if err := os.WriteFile(path, templateData, 0o600); err != nil {
		t.Fatal(err)
	}
	l := readLayout(t, path)
	if damage != nil {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		damage(t, f, l)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return path, l
}

// writeAt overwrites the file at off, failing t on error.
func writeAt(t *testing.T, f *os.File, b []byte, off int64) {
	t.Helper()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// Damage of one page, by the page's id chosen from the layout.

func zeroPage(pick func(fileLayout) uint64) func(*testing.T, *os.File, fileLayout) {
	return func(t *testing.T, f *os.File, l fileLayout) {
		writeAt(t, f, make([]byte, l.pageSize), int64(pick(l))*int64(l.pageSize))
	}
}

// zeroHeaderID zeroes the first eight bytes of a page: its id.
func zeroHeaderID(pick func(fileLayout) uint64) func(*testing.T, *os.File, fileLayout) {
	return func(t *testing.T, f *os.File, l fileLayout) {
		writeAt(t, f, make([]byte, 8), int64(pick(l))*int64(l.pageSize))
	}
}

// randomPage overwrites a whole page, header included, with bytes from a
// fixed seed, so that every run damages the file the same way.
func randomPage(seed uint64, pick func(fileLayout) uint64) func(*testing.T, *os.File, fileLayout) {
	return func(t *testing.T, f *os.File, l fileLayout) {
		writeAt(t, f, randomBytes(seed, l.pageSize), int64(pick(l))*int64(l.pageSize))
	}
}

// randomBody overwrites a page after its header with bytes from a fixed
// seed: the page still says what it is and how many elements it holds, and
// the elements are garbage.
func randomBody(seed uint64, pick func(fileLayout) uint64) func(*testing.T, *os.File, fileLayout) {
	return func(t *testing.T, f *os.File, l fileLayout) {
		off := int64(pick(l))*int64(l.pageSize) + pageHeaderSize
		writeAt(t, f, randomBytes(seed, l.pageSize-pageHeaderSize), off)
	}
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x5e55))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// both applies two kinds of damage.
func both(a, b func(*testing.T, *os.File, fileLayout)) func(*testing.T, *os.File, fileLayout) {
	return func(t *testing.T, f *os.File, l fileLayout) { a(t, f, l); b(t, f, l) }
}

func metaPage(i int) func(fileLayout) uint64 { return func(fileLayout) uint64 { return uint64(i) } }
func newestMeta(l fileLayout) uint64         { return uint64(l.newest) }
func olderMeta(l fileLayout) uint64          { return uint64(1 - l.newest) }
func freelistPage(l fileLayout) uint64       { return l.freelist }
func rootPage(l fileLayout) uint64           { return l.rootPage }
func bucketRoot(l fileLayout) uint64         { return l.bucketRoot }
func victimLeaf(l fileLayout) uint64         { return l.victimLeaf() }

// hangTimeout is how long a call may take before the test calls it hung:
// far beyond what any of these calls takes on a loaded machine, so that a
// failure means a real hang.
const hangTimeout = 60 * time.Second

// within runs f in a goroutine and fails t if it has not returned after
// hangTimeout. A hung f is left behind; the test binary ends soon anyway.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(hangTimeout):
		t.Fatalf("%s did not return within %v: it hangs", what, hangTimeout)
	}
}
