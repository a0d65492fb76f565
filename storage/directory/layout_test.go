package directory

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

// randomID returns a valid id of random length and content, both cases.
func randomID(r *rand.Rand) string {
	b := make([]byte, 1+r.IntN(sessions.MaxIDLength))
	for i := range b {
		b[i] = idAlphabet[r.IntN(len(idAlphabet))]
	}
	return string(b)
}

// edgeIDs are valid ids at the corners of the alphabet and length range.
var edgeIDs = []string{
	"a", "A", "0", "-", "_", "--", "__", "-_", "_-", "Ab", "ab", "AB", "aB",
	strings.Repeat("z", sessions.MaxIDLength),
	strings.Repeat("Z", sessions.MaxIDLength),
	strings.Repeat("_", sessions.MaxIDLength),
	strings.Repeat("-", sessions.MaxIDLength),
	sessions.NewID(),
}

func TestNameEncodingIsInjective(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ids := append([]string(nil), edgeIDs...)
	for range 20000 {
		ids = append(ids, randomID(r))
	}
	seen := make(map[string]string)
	for _, id := range ids {
		rel := relPath(id)
		folder, name, ok := strings.Cut(rel, string(filepath.Separator))
		if !ok {
			t.Fatalf("relPath(%q) = %q, want folder and name", id, rel)
		}
		got, ok := idOf(folder, name)
		if !ok || got != id {
			t.Fatalf("idOf(relPath(%q)) = %q, %v: the encoding does not round-trip", id, got, ok)
		}
		if other, dup := seen[rel]; dup && other != id {
			t.Fatalf("ids %q and %q share the path %q", other, id, rel)
		}
		seen[rel] = id
	}
}

func TestNamesFitTheFileSystemLimit(t *testing.T) {
	// ext4, APFS and NTFS allow 255 bytes in a name.
	name := filepath.Base(relPath(strings.Repeat("Z", sessions.MaxIDLength)))
	if len(name) > 255 || len(name) != maxNameLen {
		t.Fatalf("the name of a %d-character id is %d bytes, want %d and at most 255", sessions.MaxIDLength, len(name), maxNameLen)
	}
}

// TestNamesSurviveCaseFolding checks the rule that a case-insensitive file
// system (macOS, Windows) must not fold two ids into one file: the whole
// relative path of every id is lowercase, so folding changes nothing, and
// ids differing only in case get paths that differ case-insensitively.
func TestNamesSurviveCaseFolding(t *testing.T) {
	groups := [][]string{
		{"Ab", "ab", "AB", "aB"},
		{"session", "Session", "SESSION", "sEsSiOn"},
		{strings.Repeat("x", sessions.MaxIDLength), strings.Repeat("X", sessions.MaxIDLength)},
	}
	for _, g := range groups {
		folded := make(map[string]string)
		for _, id := range g {
			rel := relPath(id)
			if rel != strings.ToLower(rel) {
				t.Errorf("relPath(%q) = %q has uppercase letters", id, rel)
			}
			key := strings.ToLower(rel)
			if other, dup := folded[key]; dup {
				t.Errorf("ids %q and %q get paths %q and %q, equal when case is folded", other, id, relPath(other), rel)
			}
			folded[key] = id
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		id := randomID(r)
		if rel := relPath(id); strings.ToLower(rel) != rel {
			t.Fatalf("relPath(%q) = %q has uppercase letters", id, rel)
		}
	}
}

// TestNamesAvoidWindowsDeviceNames: Windows opens a device, not a file, for
// CON, PRN, AUX, NUL, COM0-9 and LPT0-9, in any case. Such names have 3 or
// 4 characters; the names of 1- and 2-character ids are the only names that
// short, so all of them are checked.
func TestNamesAvoidWindowsDeviceNames(t *testing.T) {
	reserved := map[string]bool{"con": true, "prn": true, "aux": true, "nul": true}
	for d := '0'; d <= '9'; d++ {
		reserved["com"+string(d)] = true
		reserved["lpt"+string(d)] = true
	}
	check := func(id string) {
		if name := filepath.Base(relPath(id)); reserved[name] {
			t.Errorf("id %q gets the Windows device name %q", id, name)
		}
	}
	for i := range len(idAlphabet) {
		check(idAlphabet[i : i+1])
		for j := range len(idAlphabet) {
			check(idAlphabet[i:i+1] + idAlphabet[j:j+1])
		}
	}
}

func TestFoldersSpreadEvenly(t *testing.T) {
	// Ids sharing a long prefix, as an application's own scheme might make
	// them, must still use every folder.
	counts := make(map[string]int)
	const n = 256 * 40
	for i := range n {
		counts[folderOf("user-000000-session-"+strconv.Itoa(i))]++
	}
	if len(counts) != fanOut {
		t.Fatalf("%d ids used %d folders, want all %d", n, len(counts), fanOut)
	}
	for f, c := range counts {
		if c < n/fanOut/3 || c > 3*n/fanOut {
			t.Errorf("folder %s holds %d of %d ids, want about %d", f, c, n, n/fanOut)
		}
		if !isFolderName(f) {
			t.Errorf("folder name %q is not two lowercase hex digits", f)
		}
	}
}

func TestIDOfRejectsForeignNames(t *testing.T) {
	good := "Ab"
	folder, name, _ := strings.Cut(relPath(good), string(filepath.Separator))
	// The last character of a 2-byte id's name carries 4 spare bits (it is
	// '0' or 'g'); setting the lowest spells the same bytes non-canonically.
	last := name[len(name)-1]
	if last != '0' && last != 'g' {
		t.Fatalf("test setup: the name of %q ends in %q, want spare bits zero", good, last)
	}
	nonCanonical := name[:len(name)-1] + string(last+1)
	if b, err := nameEncoding.DecodeString(nonCanonical); err != nil || string(b) != good {
		t.Fatalf("test setup: %q does not decode to %q", nonCanonical, good)
	}
	otherFolder := "00"
	if otherFolder == folder {
		otherFolder = "01"
	}
	tests := []struct{ name, folder, file string }{
		{"temporary file", folder, ".tmp-12345"},
		{"dot file", folder, ".hidden"},
		{"empty", folder, ""},
		{"uppercase", folder, strings.ToUpper(name)},
		{"not base32", folder, "readme.txt"},
		{"non-canonical spelling", folder, nonCanonical},
		{"wrong folder", otherFolder, name},
		{"decodes to an invalid id", folderOf("a/b"), nameEncoding.EncodeToString([]byte("a/b"))},
		{"too long", folder, strings.Repeat("0", maxNameLen+8)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if id, ok := idOf(tt.folder, tt.file); ok {
				t.Errorf("idOf(%q, %q) = %q, true; want a foreign file", tt.folder, tt.file, id)
			}
		})
	}
	if id, ok := idOf(folder, name); !ok || id != good {
		t.Errorf("idOf of a real entry = %q, %v; want %q, true", id, ok, good)
	}
}

// TestPathsStayUnderRoot checks the built path of every kind of valid id:
// exactly two levels under root, the folder then the file.
func TestPathsStayUnderRoot(t *testing.T) {
	s, err := New(t.TempDir(), WithSweepInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(5, 6))
	ids := append([]string(nil), edgeIDs...)
	for range 2000 {
		ids = append(ids, randomID(r))
	}
	for _, id := range ids {
		e, err := s.locate(id)
		if err != nil {
			t.Fatalf("locate(%q): %v", id, err)
		}
		rel, err := filepath.Rel(s.Root(), e.path)
		if err != nil || !filepath.IsLocal(rel) {
			t.Fatalf("entry path %q of id %q is not under root %q", e.path, id, s.Root())
		}
		if parts := strings.Split(rel, string(filepath.Separator)); len(parts) != 2 {
			t.Fatalf("entry path of id %q is %d levels under root, want 2", id, len(parts))
		}
		if filepath.Dir(e.path) != e.dir || filepath.Dir(e.dir) != s.Root() || filepath.Base(e.path) != e.name {
			t.Fatalf("entry of id %q = %+v, inconsistent with root %q", id, e, s.Root())
		}
	}
}

func TestExpiryEncoding(t *testing.T) {
	tests := []struct {
		name    string
		expires time.Time
		want    int64
	}{
		{"zero means never", time.Time{}, 0},
		{"the epoch is in the past, not never", time.Unix(0, 0), 1},
		{"before the epoch", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 1},
		{"before the int64 range", time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), 1},
		{"an ordinary time", time.Unix(1_700_000_000, 5), 1_700_000_000_000_000_005},
		{"past the int64 range", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := expiryNanos(tt.expires); got != tt.want {
				t.Errorf("expiryNanos(%v) = %d, want %d", tt.expires, got, tt.want)
			}
		})
	}
}

// TestTornExpiryIsDetected: Touch rewrites the expiry in place; a reader
// that sees part of the old and part of the new bytes must notice.
func TestTornExpiryIsDetected(t *testing.T) {
	var oldH, newH [headerSize]byte
	putHeader(&oldH, 0) // never
	putHeader(&newH, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	for cut := expiryOffset + 1; cut < expiryOffset+expiryLen; cut++ {
		var torn [headerSize]byte
		copy(torn[:], newH[:cut])
		copy(torn[cut:], oldH[cut:])
		if _, state := parseHeader(torn[:]); state != headerTorn {
			t.Errorf("a header with the new expiry up to byte %d and the old after parses as state %d, want torn", cut, state)
		}
	}
	for _, h := range [][headerSize]byte{oldH, newH} {
		if _, state := parseHeader(h[:]); state != headerOK {
			t.Errorf("a whole header parses as state %d, want ok", state)
		}
	}
	bad := newH
	bad[0] = 'X'
	if _, state := parseHeader(bad[:]); state != headerForeign {
		t.Errorf("a header with a wrong magic parses as state %d, want foreign", state)
	}
	if _, state := parseHeader(newH[:10]); state != headerShort {
		t.Errorf("a 10-byte header parses as state %d, want short", state)
	}
}

func TestCloseStopsSweeper(t *testing.T) {
	s, err := New(t.TempDir(), WithSweepInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// Close a sweeper that has done work: wait until it removed an
	// expired entry.
	path := filepath.Join(s.Root(), relPath("swept"))
	err = s.Write(context.Background(), "swept", time.Now().Add(time.Millisecond), func(w io.Writer) error {
		_, err := io.WriteString(w, "x")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background sweeper removed no expired entry within 30s")
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.sweeperDone:
	default:
		t.Fatal("Close returned before the sweeper goroutine did")
	}
}

func TestOSErrorsHideTheName(t *testing.T) {
	const name = "c5h66p35"
	tests := []struct {
		name string
		err  error
	}{
		{"path error", &fs.PathError{Op: "open", Path: "/srv/s/3f/" + name, Err: syscall.EACCES}},
		{"link error", &os.LinkError{Op: "rename", Old: "/srv/s/3f/.tmp-1", New: "/srv/s/3f/" + name, Err: syscall.EACCES}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := osError("write", tt.err, name)
			if strings.Contains(err.Error(), name) {
				t.Errorf("error %q contains the entry name", err)
			}
			if !strings.Contains(err.Error(), "/srv/s/3f/"+redactedName) || !strings.HasPrefix(err.Error(), "sessionkit/directory: write: ") {
				t.Errorf("error %q lost its op or folder", err)
			}
			if !errors.Is(err, fs.ErrPermission) {
				t.Errorf("errors.Is(%q, fs.ErrPermission) = false", err)
			}
		})
	}
}
