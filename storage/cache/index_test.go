package cache_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/cache"
)

// listIndex returns what ReadIndex of index yields, id to content.
func listIndex(t *testing.T, ix sessions.Indexer, index string) map[string]string {
	t.Helper()
	got := make(map[string]string)
	err := ix.ReadIndex(t.Context(), index, func(id string, _ time.Time, r io.Reader) error {
		b, err := io.ReadAll(r)
		got[id] = string(b)
		return err
	})
	if err != nil {
		t.Fatalf("ReadIndex: %v", err)
	}
	return got
}

func TestIndexerMatchesTheDelegate(t *testing.T) {
	m := newMemory(t)
	if _, ok := newCache(t, m).(sessions.Indexer); !ok {
		t.Error("a cache over memory, which is an Indexer, is not an Indexer")
	}
	if _, ok := newCache(t, plainMemory{m}).(sessions.Indexer); ok {
		t.Error("a cache over a delegate without Indexer is an Indexer")
	}
}

// TestIndexedWritesAreCachedLikeConditionalOnes: what a successful
// CreateIndexed or ReplaceIndexed wrote is served from the cache, and a
// refused one drops the cached copy, exactly as Create and Replace do.
func TestIndexedWritesAreCachedLikeConditionalOnes(t *testing.T) {
	m := newMemory(t)
	st := newCache(t, m)
	ix := st.(sessions.Indexer)
	ctx := t.Context()
	hour := time.Now().Add(time.Hour)
	if err := ix.CreateIndexed(ctx, "id", "ann", hour, writeString("created")); err != nil {
		t.Fatal(err)
	}
	before, _ := cache.StatsOf(st)
	if got, err := readString(t, st, "id"); err != nil || got != "created" {
		t.Fatalf("Read after CreateIndexed = %q, %v; want %q", got, err, "created")
	}
	if after, _ := cache.StatsOf(st); after.Hits != before.Hits+1 || after.Loads != before.Loads {
		t.Errorf("Read after CreateIndexed: hits %d -> %d, loads %d -> %d; want one hit and no load", before.Hits, after.Hits, before.Loads, after.Loads)
	}
	if err := ix.ReplaceIndexed(ctx, "id", "bob", hour, writeString("moved")); err != nil {
		t.Fatal(err)
	}
	if got, err := readString(t, st, "id"); err != nil || got != "moved" {
		t.Fatalf("Read after ReplaceIndexed = %q, %v; want %q", got, err, "moved")
	}
	// Ended behind the cache's back: the refused ReplaceIndexed drops the
	// cached copy.
	if err := m.Invalidate(ctx, "id"); err != nil {
		t.Fatal(err)
	}
	if err := ix.ReplaceIndexed(ctx, "id", "bob", hour, writeString("again")); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("ReplaceIndexed of an entry gone from the delegate = %v, want ErrNotFound", err)
	}
	if got, err := readString(t, st, "id"); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Read after a ReplaceIndexed found the entry gone = %q, %v; want ErrNotFound, not the cached copy", got, err)
	}
	// Overwritten behind the cache's back: the refused CreateIndexed drops
	// the cached copy, and the delegate's value is read.
	if err := st.Write(ctx, "other", hour, writeString("mine")); err != nil {
		t.Fatal(err)
	}
	if err := m.Write(ctx, "other", hour, writeString("theirs")); err != nil {
		t.Fatal(err)
	}
	if err := ix.CreateIndexed(ctx, "other", "ann", hour, writeString("new")); !errors.Is(err, sessions.ErrExists) {
		t.Fatalf("CreateIndexed of a live id = %v, want ErrExists", err)
	}
	if got, err := readString(t, st, "other"); err != nil || got != "theirs" {
		t.Fatalf("Read after a refused CreateIndexed = %q, %v; want the delegate's %q", got, err, "theirs")
	}
}

// TestReadIndexIsTheDelegates: ReadIndex lists what the delegate holds,
// also what was written behind the cache's back, and leaves the cache as it
// was (no entry cached, none dropped).
func TestReadIndexIsTheDelegates(t *testing.T) {
	m := newMemory(t)
	st := newCache(t, m)
	ix := st.(sessions.Indexer)
	ctx := t.Context()
	hour := time.Now().Add(time.Hour)
	if err := ix.CreateIndexed(ctx, "through", "ann", hour, writeString("cached")); err != nil {
		t.Fatal(err)
	}
	if err := m.CreateIndexed(ctx, "behind", "ann", hour, writeString("direct")); err != nil {
		t.Fatal(err)
	}
	if err := m.Write(ctx, "through", hour, writeString("changed")); err != nil {
		t.Fatal(err)
	}
	before, _ := cache.StatsOf(st)
	// "through" was rewritten in the delegate without an index key, so only
	// "behind" is filed under "ann" now, whatever the cache holds.
	if got, want := listIndex(t, ix, "ann"), map[string]string{"behind": "direct"}; !maps.Equal(got, want) {
		t.Errorf("ReadIndex = %v, want the delegate's %v", got, want)
	}
	after, _ := cache.StatsOf(st)
	if after.Entries != before.Entries || after.Loads != before.Loads || after.Hits != before.Hits {
		t.Errorf("ReadIndex changed the cache: entries %d -> %d, loads %d -> %d, hits %d -> %d; want it untouched", before.Entries, after.Entries, before.Loads, after.Loads, before.Hits, after.Hits)
	}
}

// TestReadIndexChecksBeforeTheDelegate: an invalid index key, a closed
// cache and a done context are refused without a call to the delegate.
func TestReadIndexChecksBeforeTheDelegate(t *testing.T) {
	m := newMemory(t)
	st := newCache(t, m)
	ix := st.(sessions.Indexer)
	called := false
	read := func(string, time.Time, io.Reader) error { called = true; return nil }
	if err := ix.CreateIndexed(t.Context(), "id", "ann", time.Time{}, writeString("v")); err != nil {
		t.Fatal(err)
	}
	for _, index := range []string{"", "../x", "a b"} {
		if err := ix.ReadIndex(t.Context(), index, read); !errors.Is(err, sessions.ErrInvalidID) {
			t.Errorf("ReadIndex of an invalid index key = %v, want ErrInvalidID", err)
		}
		if err := ix.CreateIndexed(t.Context(), "fresh", index, time.Time{}, writeString("v")); index != "" && !errors.Is(err, sessions.ErrInvalidID) {
			t.Errorf("CreateIndexed under an invalid index key = %v, want ErrInvalidID", err)
		}
	}
	if got := slices.Collect(maps.Keys(listIndex(t, m, "ann"))); !slices.Equal(got, []string{"id"}) {
		t.Errorf("the delegate's index of ann = %v, want [id]", got)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := ix.ReadIndex(ctx, "ann", read); !errors.Is(err, ctx.Err()) {
		t.Errorf("ReadIndex under a canceled context = %v, want it wrapped", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ix.ReadIndex(t.Context(), "ann", read); !errors.Is(err, sessions.ErrClosed) {
		t.Errorf("ReadIndex after Close = %v, want ErrClosed", err)
	}
	if called {
		t.Error("a refused ReadIndex called the read func")
	}
}
