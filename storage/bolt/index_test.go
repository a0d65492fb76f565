package bolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/bolt"
	"go.etcd.io/bbolt"
)

func content(c string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, c); return err }
}

// listed is what ReadIndex yields for one entry.
type listed struct {
	content string
	expires time.Time
}

// readIndex returns what ReadIndex yields for index, failing t if it
// yields an id twice (stopping it there) or fails.
func readIndex(t *testing.T, s *bolt.Store, index string) map[string]listed {
	t.Helper()
	got := map[string]listed{}
	err := s.ReadIndex(ctx, index, func(id string, expires time.Time, r io.Reader) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if _, dup := got[id]; dup {
			return fmt.Errorf("yielded %s twice", id) // and stop a loop that might not end
		}
		got[id] = listed{string(b), expires}
		return nil
	})
	if err != nil {
		t.Fatalf("ReadIndex(%s): %v", index, err)
	}
	return got
}

// ids returns the sorted ids of what readIndex returned.
func ids(m map[string]listed) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func TestReadIndexYieldsIDExpiryAndContent(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	expires := time.Now().Add(time.Hour)
	if err := s.CreateIndexed(ctx, "one", "user", expires, content("first")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIndexed(ctx, "two", "user", time.Time{}, content("second")); err != nil {
		t.Fatal(err)
	}
	got := readIndex(t, s, "user")
	if len(got) != 2 || got["one"].content != "first" || got["two"].content != "second" {
		t.Fatalf("ReadIndex = %v, want one and two with their content", got)
	}
	if !got["one"].expires.Equal(expires) {
		t.Errorf("expiry of one = %v, want %v", got["one"].expires, expires)
	}
	if !got["two"].expires.IsZero() {
		t.Errorf("expiry of an entry that never expires = %v, want the zero Time", got["two"].expires)
	}
	// The content Read returns is the session's, without the index key.
	if c, err := read(s, "one"); err != nil || c != "first" {
		t.Errorf("Read of an indexed entry = %q, %v", c, err)
	}
	if got := readIndex(t, s, "nobody"); len(got) != 0 {
		t.Errorf("ReadIndex of an index key with no entry = %v, want nothing", got)
	}
}

// TestEachEntryIsFiledUnderTheLastWritesIndex walks one entry through every
// kind of write; after each, the entry is listed under the index key of
// that write and under no other (Spring Session #343: a principal change
// left the old index entry).
func TestEachEntryIsFiledUnderTheLastWritesIndex(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	hour := time.Now().Add(time.Hour)
	steps := []struct {
		name  string
		do    func() error
		index string // where the entry is listed afterwards; "" nowhere
	}{
		{"CreateIndexed", func() error { return s.CreateIndexed(ctx, "id", "ann", hour, content("v1")) }, "ann"},
		{"ReplaceIndexed to another key moves it", func() error { return s.ReplaceIndexed(ctx, "id", "bob", hour, content("v2")) }, "bob"},
		{"ReplaceIndexed to the same key keeps it", func() error { return s.ReplaceIndexed(ctx, "id", "bob", hour, content("v3")) }, "bob"},
		{"Touch keeps the filing", func() error { return s.Touch(ctx, "id", hour.Add(time.Minute)) }, "bob"},
		{"Replace unfiles", func() error { return s.Replace(ctx, "id", hour, content("v4")) }, ""},
		{"ReplaceIndexed files again", func() error { return s.ReplaceIndexed(ctx, "id", "ann", hour, content("v5")) }, "ann"},
		{"Write unfiles", func() error { return s.Write(ctx, "id", hour, content("v6")) }, ""},
		{"ReplaceIndexed with an empty key files nowhere", func() error { return s.ReplaceIndexed(ctx, "id", "", hour, content("v7")) }, ""},
		{"ReplaceIndexed after an empty key", func() error { return s.ReplaceIndexed(ctx, "id", "bob", hour, content("v8")) }, "bob"},
		{"Invalidate unfiles", func() error { return s.Invalidate(ctx, "id") }, ""},
		{"CreateIndexed after Invalidate", func() error { return s.CreateIndexed(ctx, "id", "ann", hour, content("v9")) }, "ann"},
		{"Replace with a past expiry unfiles", func() error { return s.Replace(ctx, "id", time.Now().Add(-time.Second), content("gone")) }, ""},
		{"Create unfiles", func() error {
			if err := s.CreateIndexed(ctx, "id", "ann", hour, content("v10")); err != nil {
				return err
			}
			if err := s.Invalidate(ctx, "id"); err != nil {
				return err
			}
			return s.Create(ctx, "id", hour, content("v11"))
		}, ""},
		{"ReplaceIndexed with a past expiry unfiles", func() error {
			if err := s.ReplaceIndexed(ctx, "id", "bob", hour, content("v12")); err != nil {
				return err
			}
			return s.ReplaceIndexed(ctx, "id", "bob", time.Now().Add(-time.Second), content("gone"))
		}, ""},
		{"Touch with a past expiry unfiles", func() error {
			if err := s.CreateIndexed(ctx, "id", "ann", hour, content("v13")); err != nil {
				return err
			}
			return s.Touch(ctx, "id", time.Now().Add(-time.Second))
		}, ""},
		{"Write with a past expiry unfiles", func() error {
			if err := s.CreateIndexed(ctx, "id", "ann", hour, content("v14")); err != nil {
				return err
			}
			return s.Write(ctx, "id", time.Now().Add(-time.Second), content("gone"))
		}, ""},
	}
	for _, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		for _, index := range []string{"ann", "bob"} {
			got := readIndex(t, s, index)
			_, listedHere := got["id"]
			if want := index == step.index; listedHere != want {
				t.Errorf("%s: listed under %s = %v, want %v", step.name, index, listedHere, want)
			}
		}
	}
}

func TestConditionalIndexedWritesChangeNothingWhenRefused(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	hour := time.Now().Add(time.Hour)
	if err := s.CreateIndexed(ctx, "id", "ann", hour, content("ann's")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIndexed(ctx, "id", "bob", hour, content("bob's")); !errors.Is(err, sessions.ErrExists) {
		t.Errorf("CreateIndexed over a live entry = %v, want ErrExists", err)
	}
	if got := readIndex(t, s, "ann"); got["id"].content != "ann's" {
		t.Errorf("after the refused CreateIndexed, ann lists %v, want the entry unchanged", got)
	}
	if got := readIndex(t, s, "bob"); len(got) != 0 {
		t.Errorf("a refused CreateIndexed filed the entry under bob: %v", got)
	}
	if err := s.ReplaceIndexed(ctx, "absent", "bob", hour, content("x")); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("ReplaceIndexed of an absent id = %v, want ErrNotFound", err)
	}
	if got := readIndex(t, s, "bob"); len(got) != 0 {
		t.Errorf("a refused ReplaceIndexed filed something under bob: %v", got)
	}
	if _, err := read(s, "absent"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("a refused ReplaceIndexed created the entry: %v", err)
	}
}

// TestIndexKeysThatArePrefixesDoNotLeak: filings are keyed index+"\x00"+id,
// so that the filings of "ab" are not among those of "a", and an id that
// begins like another index key cannot pose as one of its filings.
func TestIndexKeysThatArePrefixesDoNotLeak(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	for _, e := range []struct{ id, index string }{
		// Without the separator, ab's filing of x2 would read as a's
		// filing of bx2.
		{"x1", "a"}, {"x2", "ab"}, {"x3", "a-b"}, {"b", "a"}, {"x4", "aa"}, {"x5", "A"}, {"bx2", "b"},
	} {
		if err := s.CreateIndexed(ctx, e.id, e.index, time.Time{}, content(e.id)); err != nil {
			t.Fatal(err)
		}
	}
	for index, want := range map[string][]string{
		"a":   {"b", "x1"},
		"ab":  {"x2"},
		"a-b": {"x3"},
		"aa":  {"x4"},
		"A":   {"x5"},
		"b":   {"bx2"},
	} {
		if got := ids(readIndex(t, s, index)); !slices.Equal(got, want) {
			t.Errorf("ReadIndex(%s) = %v, want %v", index, got, want)
		}
	}
}

func TestInvalidIndexKeysAreRefusedBeforeIO(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	never := func(string, time.Time, io.Reader) error {
		t.Error("read called for an invalid index key")
		return nil
	}
	for _, index := range []string{"a/b", "a\x00b", strings.Repeat("k", sessions.MaxIDLength+1), "ann "} {
		for name, err := range map[string]error{
			"CreateIndexed":  s.CreateIndexed(ctx, "id", index, time.Time{}, content("x")),
			"ReplaceIndexed": s.ReplaceIndexed(ctx, "id", index, time.Time{}, content("x")),
			"ReadIndex":      s.ReadIndex(ctx, index, never),
		} {
			if !errors.Is(err, sessions.ErrInvalidID) {
				t.Errorf("%s with index key %q = %v, want ErrInvalidID", name, index, err)
			}
		}
	}
	if _, err := read(s, "id"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("a write with an invalid index key stored the entry: %v", err)
	}
	// Nothing is filed under the empty index key, and reading it is a
	// caller's mistake.
	if err := s.ReadIndex(ctx, "", never); !errors.Is(err, sessions.ErrInvalidID) {
		t.Errorf("ReadIndex of the empty index key = %v, want ErrInvalidID", err)
	}
	// An invalid index key is refused even by a closed Store: no I/O.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIndexed(ctx, "id", "a/b", time.Time{}, content("x")); !errors.Is(err, sessions.ErrInvalidID) {
		t.Errorf("CreateIndexed with an invalid index key on a closed Store = %v, want ErrInvalidID", err)
	}
}

func TestReadIndexReturnsReadsErrorAndStops(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	for i := range 3 {
		if err := s.CreateIndexed(ctx, fmt.Sprintf("id%d", i), "ann", time.Time{}, content("x")); err != nil {
			t.Fatal(err)
		}
	}
	stop := errors.New("stop here")
	calls := 0
	err := s.ReadIndex(ctx, "ann", func(string, time.Time, io.Reader) error {
		calls++
		return fmt.Errorf("wrapped: %w", stop)
	})
	if !errors.Is(err, stop) {
		t.Errorf("ReadIndex = %v, want read's error", err)
	}
	if calls != 1 {
		t.Errorf("read called %d times after returning an error, want 1", calls)
	}
}

// TestReadIndexCallbacksRunOutsideTransactions reads more filings than one
// chunk holds, ending each entry from inside read (what EndAll does): no
// transaction is open while read runs, every entry is yielded once, and
// every one is gone afterwards.
func TestReadIndexCallbacksRunOutsideTransactions(t *testing.T) {
	db := ownDB(t)
	s := newStore(t, db)
	const n = 1300 // more than two chunks of 512
	for i := range n {
		if err := s.CreateIndexed(ctx, fmt.Sprintf("id%04d", i), "ann", time.Time{}, content("x")); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	err := s.ReadIndex(ctx, "ann", func(id string, _ time.Time, r io.Reader) error {
		if open := db.Stats().OpenTxN; open != 0 {
			t.Fatalf("%d read transactions open while read runs", open)
		}
		seen[id]++
		return s.Invalidate(ctx, id)
	})
	if err != nil {
		t.Fatalf("ReadIndex: %v", err)
	}
	if len(seen) != n {
		t.Errorf("ReadIndex yielded %d ids, want %d", len(seen), n)
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s yielded %d times", id, k)
		}
	}
	if got := readIndex(t, s, "ann"); len(got) != 0 {
		t.Errorf("%d entries still listed after invalidating them all", len(got))
	}
}

func TestReadIndexChunksByContentSize(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	big := strings.Repeat("z", 300<<10) // four of these pass the 1 MiB a chunk copies
	for i := range 10 {
		if err := s.CreateIndexed(ctx, fmt.Sprintf("id%d", i), "ann", time.Time{}, content(big+fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	got := readIndex(t, s, "ann")
	if len(got) != 10 {
		t.Fatalf("ReadIndex yielded %d entries, want 10", len(got))
	}
	for id, e := range got {
		if want := big + strings.TrimPrefix(id, "id"); e.content != want {
			t.Errorf("%s: %d bytes of content, want %d", id, len(e.content), len(want))
		}
	}
}

// TestKeptReaderIsDetached: a read function that keeps its reader cannot
// read, through it, the content of the next entry (which reuses the
// buffer).
func TestKeptReaderIsDetached(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	for _, id := range []string{"a", "b"} {
		if err := s.CreateIndexed(ctx, id, "ann", time.Time{}, content("secret of "+id)); err != nil {
			t.Fatal(err)
		}
	}
	var kept []io.Reader
	err := s.ReadIndex(ctx, "ann", func(_ string, _ time.Time, r io.Reader) error {
		kept = append(kept, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range kept {
		if b, err := io.ReadAll(r); err == nil || len(b) != 0 {
			t.Errorf("kept reader %d read %q, %v after its call returned; want an error and nothing", i, b, err)
		}
		var out bytes.Buffer
		if _, err := io.Copy(&out, r); err == nil || out.Len() != 0 {
			t.Errorf("kept reader %d copied %q, %v after its call returned", i, out.String(), err)
		}
	}
}

func TestIndexerHonoursContextAndClose(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"))
	if err := s.CreateIndexed(ctx, "id", "ann", time.Time{}, content("x")); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	never := func(string, time.Time, io.Reader) error {
		t.Error("read called")
		return nil
	}
	for name, err := range map[string]error{
		"CreateIndexed":  s.CreateIndexed(canceled, "new", "ann", time.Time{}, content("x")),
		"ReplaceIndexed": s.ReplaceIndexed(canceled, "id", "bob", time.Time{}, content("x")),
		"ReadIndex":      s.ReadIndex(canceled, "ann", never),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context = %v, want context.Canceled", name, err)
		}
	}
	if got := ids(readIndex(t, s, "ann")); !slices.Equal(got, []string{"id"}) {
		t.Errorf("after the canceled calls ann lists %v, want [id]", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"CreateIndexed":  s.CreateIndexed(ctx, "new", "ann", time.Time{}, content("x")),
		"ReplaceIndexed": s.ReplaceIndexed(ctx, "id", "bob", time.Time{}, content("x")),
		"ReadIndex":      s.ReadIndex(ctx, "ann", never),
	} {
		if !errors.Is(err, sessions.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func TestIndexErrorsNeverNameTheIDOrIndexKey(t *testing.T) {
	db := ownDB(t)
	s := newStore(t, db)
	const id, index = "secret-id-0123456789", "secret-user-0123456789"
	// A nested bucket under the id makes the write fail inside bbolt.
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.Bucket([]byte(bolt.DefaultBucket)).CreateBucket([]byte(id + "b"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIndexed(ctx, id, index, time.Time{}, content("x")); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"CreateIndexed exists":   s.CreateIndexed(ctx, id, index, time.Time{}, content("x")),
		"ReplaceIndexed absent":  s.ReplaceIndexed(ctx, id+"x", index, time.Time{}, content("x")),
		"CreateIndexed invalid":  s.CreateIndexed(ctx, id, index+"/", time.Time{}, content("x")),
		"ReadIndex invalid":      s.ReadIndex(ctx, index+"/", func(string, time.Time, io.Reader) error { return nil }),
		"CreateIndexed in bbolt": s.CreateIndexed(ctx, id+"b", index, time.Time{}, content("x")),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error %q names the id or index key", name, err)
		}
	}
}

// TestIndexedValueLayout pins the layout of a filed entry (the documented
// one: the header's top bit, the index key's length and bytes, then the
// content) and that Touch keeps it.
func TestIndexedValueLayout(t *testing.T) {
	db := ownDB(t)
	s := newStore(t, db)
	expires := time.Now().Add(time.Hour)
	if err := s.CreateIndexed(ctx, "id", "ann", expires, content("content")); err != nil {
		t.Fatal(err)
	}
	check := func(when string, nanos int64) {
		t.Helper()
		var v []byte
		var filings []string
		_ = db.View(func(tx *bbolt.Tx) error {
			b := tx.Bucket([]byte(bolt.DefaultBucket))
			v = bytes.Clone(b.Get([]byte("id")))
			return b.Bucket([]byte("\x00sessionkit-index")).ForEach(func(k, _ []byte) error {
				filings = append(filings, string(k))
				return nil
			})
		})
		want := binary.BigEndian.AppendUint64(nil, uint64(nanos)|1<<63)
		want = append(want, 3)
		want = append(want, "ann"...)
		want = append(want, "content"...)
		if !bytes.Equal(v, want) {
			t.Errorf("%s: value %q, want %q", when, v, want)
		}
		if !slices.Equal(filings, []string{"ann\x00id"}) {
			t.Errorf("%s: filings %q, want [ann\\x00id]", when, filings)
		}
	}
	check("after CreateIndexed", expires.UnixNano())
	later := expires.Add(time.Hour)
	if err := s.Touch(ctx, "id", later); err != nil {
		t.Fatal(err)
	}
	check("after Touch", later.UnixNano())
	if err := s.Touch(ctx, "id", time.Time{}); err != nil {
		t.Fatal(err)
	}
	check("after Touch to never", 0)
}

func TestIndexSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path, bolt.WithLockTimeout(0))
	if err := s.CreateIndexed(ctx, "kept", "ann", time.Time{}, content("kept")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIndexed(ctx, "moved", "ann", time.Time{}, content("moved")); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceIndexed(ctx, "moved", "bob", time.Time{}, content("moved")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, bolt.WithLockTimeout(0))
	if got := ids(readIndex(t, s, "ann")); !slices.Equal(got, []string{"kept"}) {
		t.Errorf("after reopening, ann lists %v, want [kept]", got)
	}
	if got := ids(readIndex(t, s, "bob")); !slices.Equal(got, []string{"moved"}) {
		t.Errorf("after reopening, bob lists %v, want [moved]", got)
	}
}
