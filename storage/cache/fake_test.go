package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// clock is a manual clock shared by a cache and its fake delegate, so that
// expiry decisions are exact and need no sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func withClock(c *clock) Option { return func(o *options) { o.now = c.Now } }

// fake is a delegate the tests control: a map with expiry on the test
// clock, counting its calls, with hooks that let a test stop a call at a
// chosen point. It implements sessions.Storage and sessions.Toucher; wrap
// it in withExpiry to add ExpiryReader.
type fake struct {
	clock *clock

	mu sync.Mutex
	m  map[string]fakeEntry

	reads, writes atomic.Int64

	// onRead, if set, runs in Read after the entry was looked up and
	// before it is delivered; an error it returns is Read's result.
	onRead func(ctx context.Context) error
	// onWrite, if set, runs in Write before the value is committed
	// (committed false) and after (committed true).
	onWrite func(value string, committed bool)
	// onInvalidate, if set, runs in Invalidate before the entry is
	// removed.
	onInvalidate func()
	// writeErr, if set, is Write's result: returned after committing (a
	// delegate that fails half-way), or instead of committing when
	// failBeforeCommit is set.
	writeErr         error
	failBeforeCommit bool
}

type fakeEntry struct {
	data    []byte
	expires time.Time
}

func newFake(c *clock) *fake { return &fake{clock: c, m: make(map[string]fakeEntry)} }

// set stores a value directly in the delegate, behind the cache's back.
func (f *fake) set(id, value string, expires time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[id] = fakeEntry{[]byte(value), expires}
}

func (f *fake) live(e fakeEntry) bool {
	return e.expires.IsZero() || f.clock.Now().Before(e.expires)
}

func (f *fake) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	f.writes.Add(1)
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	if f.onWrite != nil {
		f.onWrite(buf.String(), false)
	}
	if f.writeErr != nil && f.failBeforeCommit {
		return f.writeErr
	}
	f.mu.Lock()
	if !expires.IsZero() && !f.clock.Now().Before(expires) {
		delete(f.m, id)
	} else {
		f.m[id] = fakeEntry{buf.Bytes(), expires}
	}
	f.mu.Unlock()
	if f.onWrite != nil {
		f.onWrite(buf.String(), true)
	}
	return f.writeErr
}

func (f *fake) lookup(ctx context.Context, id string) (fakeEntry, error) {
	f.reads.Add(1)
	f.mu.Lock()
	e, ok := f.m[id]
	f.mu.Unlock()
	if f.onRead != nil {
		if err := f.onRead(ctx); err != nil {
			return fakeEntry{}, err
		}
	}
	if !ok || !f.live(e) {
		return fakeEntry{}, fmt.Errorf("fake: %w", sessions.ErrNotFound)
	}
	return e, nil
}

func (f *fake) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	e, err := f.lookup(ctx, id)
	if err != nil {
		return err
	}
	return read(bytes.NewReader(e.data))
}

func (f *fake) Invalidate(ctx context.Context, id string) error {
	if f.onInvalidate != nil {
		f.onInvalidate()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, id)
	return nil
}

func (f *fake) Touch(ctx context.Context, id string, expires time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.m[id]
	if !ok || !f.live(e) {
		return fmt.Errorf("fake: %w", sessions.ErrNotFound)
	}
	e.expires = expires
	f.m[id] = e
	return nil
}

// withExpiry is a fake that also reports expiries, so loaded values can be
// cached.
type withExpiry struct{ *fake }

func (f withExpiry) ReadWithExpiry(ctx context.Context, id string, read func(io.Reader, time.Time) error) error {
	e, err := f.lookup(ctx, id)
	if err != nil {
		return err
	}
	return read(bytes.NewReader(e.data), e.expires)
}

// newTestCache returns a cache on c's clock over delegate, closed when the
// test ends, and its implementation for inspection.
func newTestCache(t *testing.T, c *clock, delegate sessions.Storage, opts ...Option) (Store, *store) {
	t.Helper()
	st := New(delegate, append([]Option{withClock(c)}, opts...)...)
	t.Cleanup(func() { _ = st.Close() })
	return st, implOf(st)
}

// implOf digs the *store out of what New returned, through the Unwrap of
// sessions.Compose.
func implOf(st Store) *store { return st.(interface{ Unwrap() sessions.Storage }).Unwrap().(*store) }

func put(t *testing.T, st sessions.Storage, id, value string, expires time.Time) {
	t.Helper()
	if err := st.Write(t.Context(), id, expires, func(w io.Writer) error {
		_, err := io.WriteString(w, value)
		return err
	}); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// get returns the content of id, or "" and the error.
func get(ctx context.Context, st sessions.Storage, id string) (string, error) {
	var got []byte
	err := st.Read(ctx, id, func(r io.Reader) error {
		var err error
		got, err = io.ReadAll(r)
		return err
	})
	return string(got), err
}

// cachedIDs returns the ids s holds, sorted.
func (s *store) cachedIDs() []string {
	var ids []string
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for id := range sh.m {
			ids = append(ids, id)
		}
		sh.mu.Unlock()
	}
	slices.Sort(ids)
	return ids
}

var errTest = errors.New("test error")

// statsOf returns the counters of a cache made by New.
func statsOf(s sessions.Storage) Stats {
	st, ok := StatsOf(s)
	if !ok {
		panic("statsOf: not a cache")
	}
	return st
}
