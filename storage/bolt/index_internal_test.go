package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// rawFilings returns every filing in the filing bucket as "index id", and
// every entry that records an index key the same way, read in one
// transaction directly from bbolt.
func rawFilings(t testing.TB, db *bbolt.DB, bucket []byte) (filings, recorded []string) {
	t.Helper()
	err := db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucket)
		if ib := b.Bucket(indexBucket); ib != nil {
			if err := ib.ForEach(func(k, _ []byte) error {
				index, id, ok := bytes.Cut(k, []byte{0})
				if !ok {
					return fmt.Errorf("filing %q has no separator", k)
				}
				filings = append(filings, string(index)+" "+string(id))
				return nil
			}); err != nil {
				return err
			}
		}
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				return nil // the filing bucket
			}
			_, index, _, err := decodeIndexed(v)
			if err != nil {
				return fmt.Errorf("entry %q: %w", k, err)
			}
			if index != nil {
				recorded = append(recorded, string(index)+" "+string(k))
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("raw filings: %v", err)
	}
	slices.Sort(filings)
	slices.Sort(recorded)
	return filings, recorded
}

// checkExact fails t unless the filing bucket holds exactly the filings the
// entries record: no filing without its entry, no filed entry without its
// filing.
func checkExact(t testing.TB, s *Store, when string) {
	t.Helper()
	filings, recorded := rawFilings(t, s.db, s.bucket)
	if !slices.Equal(filings, recorded) {
		t.Fatalf("%s: the filing bucket holds %q, the entries record %q", when, filings, recorded)
	}
}

func writeString(c string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, c); return err }
}

// TestFilingCommitsWithItsEntry makes indexed writes fail at each stage:
// before the transaction (a failing writer, a closed Store) and inside it
// (bbolt refuses the entry's Put after the filing was written, because a
// nested bucket sits under the id). None leaves a filing or an entry.
func TestFilingCommitsWithItsEntry(t *testing.T) {
	s := openTemp(t, WithSweepInterval(0))
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.Bucket(s.bucket).CreateBucket([]byte("nested"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIndexed(bg, "moved", "ann", time.Time{}, writeString("x")); err != nil {
		t.Fatal(err)
	}
	failing := errors.New("writer fails")
	for _, tc := range []struct {
		name string
		do   func() error
		want error
	}{
		{"CreateIndexed with a failing writer", func() error {
			return s.CreateIndexed(bg, "new", "ann", time.Time{}, func(io.Writer) error { return failing })
		}, failing},
		{"ReplaceIndexed with a failing writer", func() error {
			return s.ReplaceIndexed(bg, "moved", "bob", time.Time{}, func(io.Writer) error { return failing })
		}, failing},
		{"CreateIndexed whose Put bbolt refuses", func() error {
			return s.CreateIndexed(bg, "nested", "ann", time.Time{}, writeString("x"))
		}, berrors.ErrIncompatibleValue},
	} {
		if err := tc.do(); !errors.Is(err, tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, err, tc.want)
		}
		checkExact(t, s, tc.name)
		filings, _ := rawFilings(t, s.db, s.bucket)
		if !slices.Equal(filings, []string{"ann moved"}) {
			t.Errorf("%s: filings %q, want only [ann moved]", tc.name, filings)
		}
	}
	path := s.db.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateIndexed(bg, "new", "ann", time.Time{}, writeString("x")); !errors.Is(err, sessions.ErrClosed) {
		t.Errorf("CreateIndexed after Close = %v, want ErrClosed", err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	filings, recorded := rawFilings(t, db, s.bucket)
	if !slices.Equal(filings, []string{"ann moved"}) || !slices.Equal(recorded, filings) {
		t.Errorf("after Close: filings %q, recorded %q, want only [ann moved]", filings, recorded)
	}
}

// TestSweeperRemovesFilingsWithTheirEntries: expired filed entries that the
// sweeper finds go with their filings in the same transaction, and
// ReadIndex skips them until it does.
func TestSweeperRemovesFilingsWithTheirEntries(t *testing.T) {
	s := openTemp(t, WithSweepInterval(0), WithSweepBatch(7))
	for i := range 50 {
		if err := s.CreateIndexed(bg, fmt.Sprintf("id%02d", i), "ann", time.Time{}, writeString("x")); err != nil {
			t.Fatal(err)
		}
	}
	// Every other entry expires, as the passing of time would do it.
	var expiredIDs []string
	for i := 0; i < 50; i += 2 {
		expiredIDs = append(expiredIDs, fmt.Sprintf("id%02d", i))
	}
	expire(t, s, expiredIDs...)
	n := 0
	if err := s.ReadIndex(bg, "ann", func(id string, _ time.Time, _ io.Reader) error {
		if slices.Contains(expiredIDs, id) {
			t.Errorf("ReadIndex yielded %s, which expired before the call", id)
		}
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 25 {
		t.Errorf("ReadIndex yielded %d live entries, want 25", n)
	}
	if removed, err := s.DeleteExpired(bg); err != nil || removed != 25 {
		t.Fatalf("DeleteExpired = %d, %v; want 25", removed, err)
	}
	checkExact(t, s, "after the sweep")
	if filings, _ := rawFilings(t, s.db, s.bucket); len(filings) != 25 {
		t.Errorf("%d filings after the sweep, want the 25 live ones", len(filings))
	}
}

// TestReadIndexYieldsOnlyEntriesThatRecordTheIndexKey: the filing bucket
// is exact as long as only the Store writes it; filings added by hand, for
// an entry filed elsewhere, an unfiled one or an absent one, yield nothing.
func TestReadIndexYieldsOnlyEntriesThatRecordTheIndexKey(t *testing.T) {
	s := openTemp(t, WithSweepInterval(0))
	if err := s.CreateIndexed(bg, "elsewhere", "bob", time.Time{}, writeString("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(bg, "unfiled", time.Time{}, writeString("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error {
		ib := tx.Bucket(s.bucket).Bucket(indexBucket)
		for _, id := range []string{"elsewhere", "unfiled", "absent"} {
			if err := ib.Put(filingKey("ann", id), []byte{}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReadIndex(bg, "ann", func(id string, _ time.Time, _ io.Reader) error {
		t.Errorf("ReadIndex(ann) yielded %s, which is not filed under ann", id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// expire moves the expiry of the entries under ids a second into the past,
// keeping the rest of each value, in one transaction.
func expire(t testing.TB, s *Store, ids ...string) {
	t.Helper()
	past := time.Now().Add(-time.Second).UnixNano()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(s.bucket)
		for _, id := range ids {
			v := b.Get([]byte(id))
			if v == nil {
				continue
			}
			nv := bytes.Clone(v)
			putHeader(nv, past)
			if err := b.Put([]byte(id), nv); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("expire: %v", err)
	}
}

var bg = context.Background()

// indexModel is what the Store should hold for one id.
type indexModel struct {
	present, live bool
	index         string
	content       string
}

// TestIndexMatchesAModelThroughRandomChanges applies thousands of random
// changes of every kind (the Indexer's, Storage's, ConditionalWriter's,
// Touch, expiry and sweeps) to a few ids and index keys, and after each
// checks the filing bucket against the entries and ReadIndex against a
// model; every few hundred changes the file is closed and reopened, and
// checked again.
func TestIndexMatchesAModelThroughRandomChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	openStore := func() *Store {
		s, err := Open(path, WithSweepInterval(0), WithSweepBatch(2), WithLockTimeout(0))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := openStore()
	defer func() { _ = s.Close() }()
	ids := []string{"i0", "i1", "i2", "i3", "i4", "i5"}
	indexes := []string{"a", "ab", "b", ""}
	model := map[string]*indexModel{}
	for _, id := range ids {
		model[id] = &indexModel{}
	}
	r := rand.New(rand.NewPCG(13, 13))
	hour := time.Now().Add(time.Hour)
	past := time.Now().Add(-time.Second)
	const changes = 3000
	for step := range changes {
		id := ids[r.IntN(len(ids))]
		index := indexes[r.IntN(len(indexes))]
		m := model[id]
		c := fmt.Sprintf("c%d", step)
		var err error
		var name string
		var want error
		switch r.IntN(12) {
		case 0:
			name = "Write"
			err = s.Write(bg, id, hour, writeString(c))
			*m = indexModel{present: true, live: true, content: c}
		case 1:
			name = "Create"
			err = s.Create(bg, id, hour, writeString(c))
			if m.live {
				want = sessions.ErrExists
			} else {
				*m = indexModel{present: true, live: true, content: c}
			}
		case 2, 3:
			name = "CreateIndexed " + index
			err = s.CreateIndexed(bg, id, index, hour, writeString(c))
			if m.live {
				want = sessions.ErrExists
			} else {
				*m = indexModel{present: true, live: true, index: index, content: c}
			}
		case 4:
			name = "Replace"
			err = s.Replace(bg, id, hour, writeString(c))
			if !m.live {
				want = sessions.ErrNotFound
			} else {
				*m = indexModel{present: true, live: true, content: c}
			}
		case 5, 6:
			name = "ReplaceIndexed " + index
			err = s.ReplaceIndexed(bg, id, index, hour, writeString(c))
			if !m.live {
				want = sessions.ErrNotFound
			} else {
				*m = indexModel{present: true, live: true, index: index, content: c}
			}
		case 7:
			name = "ReplaceIndexed to the past " + index
			err = s.ReplaceIndexed(bg, id, index, past, writeString(c))
			if !m.live {
				want = sessions.ErrNotFound
			} else {
				*m = indexModel{}
			}
		case 8:
			name = "Invalidate"
			err = s.Invalidate(bg, id)
			*m = indexModel{}
		case 9:
			name = "Touch"
			if r.IntN(2) == 0 {
				err = s.Touch(bg, id, hour)
				if !m.live {
					want = sessions.ErrNotFound
				}
			} else {
				name = "Touch to the past"
				err = s.Touch(bg, id, past)
				if !m.live {
					want = sessions.ErrNotFound
				} else {
					*m = indexModel{}
				}
			}
		case 10:
			name = "expire"
			expire(t, s, id)
			m.live = false
		case 11:
			name = "DeleteExpired"
			want := 0
			for _, m := range model {
				if m.present && !m.live {
					want++
					*m = indexModel{}
				}
			}
			n, err := s.DeleteExpired(bg)
			if err != nil || n != want {
				t.Fatalf("step %d: DeleteExpired = %d, %v; want %d", step, n, err, want)
			}
		}
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Fatalf("step %d: %s(%s) = %v, want %v", step, name, id, err, want)
		}
		when := fmt.Sprintf("step %d, after %s(%s)", step, name, id)
		if step%300 == 299 {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = openStore()
			when += " and reopening"
		}
		checkExact(t, s, when)
		for _, index := range indexes[:3] {
			want := map[string]string{}
			for id, m := range model {
				if m.live && m.index == index {
					want[id] = m.content
				}
			}
			got := map[string]string{}
			if err := s.ReadIndex(bg, index, func(id string, _ time.Time, r io.Reader) error {
				b, err := io.ReadAll(r)
				got[id] = string(b)
				return err
			}); err != nil {
				t.Fatalf("%s: ReadIndex(%s): %v", when, index, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: ReadIndex(%s) = %v, want %v", when, index, got, want)
			}
		}
	}
}
