package cache_test

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/cache"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func readString(t *testing.T, st sessions.Storage, id string) (string, error) {
	t.Helper()
	var got []byte
	err := st.Read(t.Context(), id, func(r io.Reader) error {
		var err error
		got, err = io.ReadAll(r)
		return err
	})
	return string(got), err
}

func TestConditionalCapabilitiesMatchTheDelegate(t *testing.T) {
	m := newMemory(t)
	for _, tt := range []struct {
		name     string
		delegate sessions.Storage
		cw, er   bool
	}{
		{"Memory", m, true, true},
		{"Plain", plainMemory{m}, false, false},
	} {
		st := newCache(t, tt.delegate)
		_, cw := st.(sessions.ConditionalWriter)
		_, er := st.(sessions.ExpiryReader)
		if cw != tt.cw || er != tt.er {
			t.Errorf("%s: the cache is ConditionalWriter %v, ExpiryReader %v; want %v, %v", tt.name, cw, er, tt.cw, tt.er)
		}
	}
}

// TestReplaceOfAnEndedSessionDropsTheCachedCopy: a session ended behind the
// cache's back (by another process, or directly in the delegate) stays
// cached until a Replace finds it gone; from then on the cache does not
// serve it either.
func TestReplaceOfAnEndedSessionDropsTheCachedCopy(t *testing.T) {
	m := newMemory(t)
	st := newCache(t, m)
	cw := st.(sessions.ConditionalWriter)
	ctx := t.Context()
	if err := st.Write(ctx, "id", time.Now().Add(time.Hour), writeString("v1")); err != nil {
		t.Fatal(err)
	}
	if err := m.Invalidate(ctx, "id"); err != nil {
		t.Fatal(err)
	}
	if err := cw.Replace(ctx, "id", time.Now().Add(time.Hour), writeString("v2")); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Replace of an entry gone from the delegate = %v, want ErrNotFound", err)
	}
	if got, err := readString(t, st, "id"); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Read after a Replace found the entry gone = %q, %v; want ErrNotFound, not the cached copy", got, err)
	}
	// A refused Create drops the cached copy too: the delegate holds
	// something the cache did not write.
	if err := st.Write(ctx, "other", time.Now().Add(time.Hour), writeString("mine")); err != nil {
		t.Fatal(err)
	}
	if err := m.Write(ctx, "other", time.Now().Add(time.Hour), writeString("theirs")); err != nil {
		t.Fatal(err)
	}
	if err := cw.Create(ctx, "other", time.Now().Add(time.Hour), writeString("new")); !errors.Is(err, sessions.ErrExists) {
		t.Fatalf("Create of a live id = %v, want ErrExists", err)
	}
	if got, err := readString(t, st, "other"); err != nil || got != "theirs" {
		t.Fatalf("Read after a refused Create = %q, %v; want the delegate's %q", got, err, "theirs")
	}
}

// TestConditionalWritesAreCachedWithTheirExpiry: what a successful Create or
// Replace wrote is served from the cache, with the expiry it was given.
func TestConditionalWritesAreCachedWithTheirExpiry(t *testing.T) {
	m := newMemory(t)
	st := newCache(t, m)
	cw := st.(sessions.ConditionalWriter)
	er := st.(sessions.ExpiryReader)
	ctx := t.Context()
	exp := time.Now().Add(time.Hour).Round(0)
	if err := cw.Create(ctx, "id", exp, writeString("created")); err != nil {
		t.Fatal(err)
	}
	// The delegate changes behind the cache's back: a hit still sees what
	// the Create wrote, which shows the value came from the cache.
	if err := m.Write(ctx, "id", exp, writeString("behind")); err != nil {
		t.Fatal(err)
	}
	if got, err := readString(t, st, "id"); err != nil || got != "created" {
		t.Fatalf("Read after Create = %q, %v; want the cached %q", got, err, "created")
	}
	exp2 := exp.Add(time.Hour)
	if err := cw.Replace(ctx, "id", exp2, writeString("replaced")); err != nil {
		t.Fatal(err)
	}
	before, _ := cache.StatsOf(st)
	var gotExp time.Time
	var got []byte
	if err := er.ReadWithExpiry(ctx, "id", func(r io.Reader, e time.Time) error {
		gotExp = e
		var err error
		got, err = io.ReadAll(r)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	after, _ := cache.StatsOf(st)
	if string(got) != "replaced" || !gotExp.Equal(exp2) {
		t.Errorf("ReadWithExpiry after Replace = %q, %v; want %q, %v", got, gotExp, "replaced", exp2)
	}
	if after.Hits != before.Hits+1 || after.Loads != before.Loads {
		t.Errorf("ReadWithExpiry after Replace: hits %d -> %d, loads %d -> %d; want one hit and no load", before.Hits, after.Hits, before.Loads, after.Loads)
	}
}
