package memory

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// filings returns the index as the filing sets hold it: each index key
// with its ids, sorted.
func (s *Store) filings() map[string][]string {
	out := make(map[string][]string)
	for i := range s.index {
		is := &s.index[i]
		is.mu.Lock()
		for index, ids := range is.m {
			out[index] = slices.Sorted(maps.Keys(ids))
		}
		is.mu.Unlock()
	}
	return out
}

// recorded returns the index as the entries record it.
func (s *Store) recorded() map[string][]string {
	out := make(map[string][]string)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for id, e := range sh.m {
			if e.filed != "" {
				out[e.filed] = append(out[e.filed], id)
			}
		}
		sh.mu.RUnlock()
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}

// wantExactIndex checks that the filing sets hold exactly the filings the
// Store's entries record, with no set left for an index key without
// entries, and that they are want.
func wantExactIndex(t *testing.T, s *Store, want map[string][]string, what string) {
	t.Helper()
	got, rec := s.filings(), s.recorded()
	if !maps.EqualFunc(got, rec, slices.Equal) {
		t.Errorf("%s: the filing sets hold %v, but the entries record %v; want the same", what, got, rec)
	}
	if want == nil {
		want = map[string][]string{}
	}
	if !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("%s: the filing sets hold %v, want %v", what, got, want)
	}
}

func createIndexed(t *testing.T, s *Store, id, index string, expires time.Time, data string) {
	t.Helper()
	err := s.CreateIndexed(t.Context(), id, index, expires, func(w io.Writer) error {
		_, err := io.WriteString(w, data)
		return err
	})
	if err != nil {
		t.Fatalf("CreateIndexed: %v", err)
	}
}

// TestIndexIsExact: every way an entry leaves the Store or its index key
// (Invalidate, a Write, Replace or ReplaceIndexed with a past expiry, a
// Touch to the past, a plain rewrite, a move, a sweep, an eviction, Close)
// takes its id out of the filing set in the same step, and a set whose
// last id leaves is deleted: the space of an ended session's filing is
// released at once, which the conformance suite cannot see.
func TestIndexIsExact(t *testing.T) {
	c := newClock()
	s := newTestStore(t, withClock(c))
	hour, minute := c.Now().Add(time.Hour), c.Now().Add(time.Minute)
	ids := []string{"inv", "wpast", "rpast", "ripast", "tpast", "plain", "moved", "swept", "kept"}
	for _, id := range ids {
		exp := hour
		if id == "swept" {
			exp = minute
		}
		createIndexed(t, s, id, "ann", exp, "v")
	}
	wantExactIndex(t, s, map[string][]string{"ann": slices.Sorted(slices.Values(ids))}, "after filing")
	ctx := t.Context()
	nothing := func(io.Writer) error { return nil }
	past := c.Now().Add(-time.Second)
	steps := []struct {
		what string
		do   func() error
	}{
		{"Invalidate", func() error { return s.Invalidate(ctx, "inv") }},
		{"Write with a past expiry", func() error { return s.Write(ctx, "wpast", past, nothing) }},
		{"Replace with a past expiry", func() error { return s.Replace(ctx, "rpast", past, nothing) }},
		{"ReplaceIndexed with a past expiry", func() error { return s.ReplaceIndexed(ctx, "ripast", "ann", past, nothing) }},
		{"Touch to the past", func() error { return s.Touch(ctx, "tpast", past) }},
		{"a plain Write", func() error { return s.Write(ctx, "plain", hour, nothing) }},
		{"a move", func() error { return s.ReplaceIndexed(ctx, "moved", "bob", hour, nothing) }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.what, err)
		}
	}
	wantExactIndex(t, s, map[string][]string{"ann": {"kept", "swept"}, "bob": {"moved"}}, "after each way of leaving")
	c.Advance(2 * time.Minute)
	if n, err := s.DeleteExpired(ctx); err != nil || n != 1 {
		t.Fatalf("DeleteExpired = %d, %v; want 1, nil", n, err)
	}
	wantExactIndex(t, s, map[string][]string{"ann": {"kept"}, "bob": {"moved"}}, "after the sweep")
	for _, id := range []string{"kept", "moved"} {
		if err := s.Invalidate(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	wantExactIndex(t, s, nil, "after the last entries left (no set may stay for an index key without entries)")
	createIndexed(t, s, "again", "ann", hour, "v")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wantExactIndex(t, s, nil, "after Close")
}

// TestEvictionUnfiles: an entry evicted to keep a bound leaves its index
// key, and the bound counts entries, not filings.
func TestEvictionUnfiles(t *testing.T) {
	c := newClock()
	s := newTestStore(t, withClock(c), WithMaxEntries(3))
	for i := range 5 {
		createIndexed(t, s, fmt.Sprintf("id-%d", i), "ann", c.Now().Add(time.Duration(i+1)*time.Minute), "v")
	}
	wantExactIndex(t, s, map[string][]string{"ann": {"id-2", "id-3", "id-4"}}, "after 5 entries under a bound of 3 (the earliest expiries are evicted)")
}

// TestIndexStaysExactUnderConcurrentEviction: indexed writes, moves,
// invalidations and ReadIndex calls from several goroutines, with a bound
// that evicts all the time, leave the filing sets exactly as the entries
// record them. The race detector checks the lock order meanwhile.
func TestIndexStaysExactUnderConcurrentEviction(t *testing.T) {
	s := newTestStore(t, WithMaxEntries(40))
	keys := []string{"ann", "bob", "cid"}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range 400 {
				id := fmt.Sprintf("g%d-%d", g, i%50)
				index := keys[(g+i)%len(keys)]
				exp := time.Now().Add(time.Duration(i%7+1) * time.Minute)
				write := func(w io.Writer) error { _, err := io.WriteString(w, id); return err }
				var err error
				switch i % 5 {
				case 0, 1:
					err = s.CreateIndexed(ctx, id, index, exp, write)
				case 2:
					err = s.ReplaceIndexed(ctx, id, index, exp, write)
				case 3:
					err = s.Invalidate(ctx, id)
				case 4:
					err = s.ReadIndex(ctx, index, func(id string, _ time.Time, r io.Reader) error {
						_, err := io.Copy(io.Discard, r)
						return err
					})
				}
				if err != nil && !errors.Is(err, sessions.ErrExists) && !errors.Is(err, sessions.ErrNotFound) {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got, rec := s.filings(), s.recorded()
	if !maps.EqualFunc(got, rec, slices.Equal) {
		t.Errorf("after concurrent indexed writes under eviction the filing sets hold %v, but the entries record %v", got, rec)
	}
}

// TestReadIndexMayCallTheStore: ReadIndex holds no lock while read runs, so
// read may end each session it is given, which is how "log out everywhere"
// works over an index. A deadlock fails the test after 30 seconds.
func TestReadIndexMayCallTheStore(t *testing.T) {
	s := newTestStore(t)
	for i := range 20 {
		createIndexed(t, s, fmt.Sprintf("id-%02d", i), "ann", time.Time{}, "v")
	}
	done := make(chan error, 1)
	go func() {
		done <- s.ReadIndex(t.Context(), "ann", func(id string, _ time.Time, _ io.Reader) error {
			if err := s.ReplaceIndexed(t.Context(), id, "bob", time.Time{}, func(io.Writer) error { return nil }); err != nil {
				return err
			}
			return s.Invalidate(t.Context(), id)
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ReadIndex whose read func ends each session returned %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ReadIndex whose read func calls the Store did not return within 30s: a lock is held while read runs")
	}
	wantExactIndex(t, s, nil, "after ending every session from inside ReadIndex")
}

// TestReadIndexUsesTheStoreClock: an entry filed under an index key is not
// listed once its expiry passes on the Store's clock, with no sweep, and
// the expiry it is listed with is the one it was given.
func TestReadIndexUsesTheStoreClock(t *testing.T) {
	c := newClock()
	s := newTestStore(t, withClock(c))
	exp := c.Now().Add(time.Minute)
	createIndexed(t, s, "short", "ann", exp, "v")
	list := func() map[string]time.Time {
		got := make(map[string]time.Time)
		if err := s.ReadIndex(t.Context(), "ann", func(id string, expires time.Time, _ io.Reader) error {
			got[id] = expires
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := list(); !got["short"].Equal(exp) || len(got) != 1 {
		t.Errorf("ReadIndex before the expiry yielded %v, want short with %v", got, exp)
	}
	c.Advance(time.Minute) // the instant of expiry counts as expired
	if got := list(); len(got) != 0 {
		t.Errorf("ReadIndex at the expiry yielded %v, want nothing", got)
	}
}
