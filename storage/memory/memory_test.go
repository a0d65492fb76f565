package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/sessionkit/sessionkit/sessions"
)

// clock is a manual clock for tests: expiry decisions become exact and need
// no sleeping.
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

// newTestStore returns a Store without a sweeper (unless opts add one) that
// is closed when the test ends.
func newTestStore(t *testing.T, opts ...Option) *Store {
	t.Helper()
	s := New(append([]Option{WithSweepInterval(0)}, opts...)...)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func put(t *testing.T, s *Store, id string, expires time.Time, data []byte) {
	t.Helper()
	err := s.Write(t.Context(), id, expires, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// get returns the content of id, or nil and the error.
func get(t *testing.T, s *Store, id string) ([]byte, error) {
	t.Helper()
	var got []byte
	err := s.Read(t.Context(), id, func(r io.Reader) error {
		var err error
		got, err = io.ReadAll(r)
		return err
	})
	return got, err
}

// entries returns the ids the Store holds, expired or not, sorted.
func (s *Store) entryIDs() []string {
	var ids []string
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for id := range sh.m {
			ids = append(ids, id)
		}
		sh.mu.RUnlock()
	}
	slices.Sort(ids)
	return ids
}

func TestWriteKeepsACopyOfTheCallersBytes(t *testing.T) {
	s := newTestStore(t)
	buf := []byte("original")
	put(t, s, "id", time.Time{}, buf)
	copy(buf, "XXXXXXXX") // a caller recycling its buffer
	got, err := get(t, s, "id")
	if err != nil || string(got) != "original" {
		t.Fatalf("Read after the caller reused its buffer = %q, %v; want %q", got, err, "original")
	}
}

// scribbler is an io.Writer that breaks the io.Writer rules: it keeps and
// overwrites the slices it is given.
type scribbler struct{ kept [][]byte }

func (w *scribbler) Write(p []byte) (int, error) {
	w.kept = append(w.kept, p)
	for i := range p {
		//lint:ignore SA1023 the broken writer is the point of the test
		p[i] = 'X'
	}
	return len(p), nil
}

func TestReadNeverExposesTheStoredBytes(t *testing.T) {
	tests := []struct {
		name string
		read func(r io.Reader) error
	}{
		{"ReadIntoCallerBuffer", func(r io.Reader) error {
			buf := make([]byte, 64)
			n, err := r.Read(buf)
			clear(buf[:n])
			return err
		}},
		{"CopyThroughWriteTo", func(r io.Reader) error {
			_, err := io.Copy(&scribbler{}, r)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t)
			put(t, s, "id", time.Time{}, []byte("original"))
			if err := s.Read(t.Context(), "id", tt.read); err != nil {
				t.Fatalf("Read: %v", err)
			}
			got, err := get(t, s, "id")
			if err != nil || string(got) != "original" {
				t.Fatalf("after a reader modified what it received, Read = %q, %v; want %q", got, err, "original")
			}
		})
	}
}

func TestWriterIsDeadAfterWriteReturns(t *testing.T) {
	s := newTestStore(t)
	var kept io.Writer
	err := s.Write(t.Context(), "id", time.Time{}, func(w io.Writer) error {
		kept = w
		_, err := io.WriteString(w, "value")
		return err
	})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	// Another Write now owns the pooled buffer; the kept writer must not
	// reach it.
	put(t, s, "other", time.Time{}, []byte("other value"))
	if _, err := kept.Write([]byte("late")); !errors.Is(err, sessions.ErrWriterDone) {
		t.Errorf("Write on a writer kept past its write function = %v, want sessions.ErrWriterDone", err)
	}
	for id, want := range map[string]string{"id": "value", "other": "other value"} {
		if got, err := get(t, s, id); err != nil || string(got) != want {
			t.Errorf("Read(%s) = %q, %v; want %q", id, got, err, want)
		}
	}
}

func TestIDIsCopiedWhenAnEntryIsCreated(t *testing.T) {
	s := newTestStore(t)
	// A server that turns its pooled request buffer into a string without
	// copying (unsafe.String) hands the Store an id whose bytes change later.
	raw := []byte("session-a")
	put(t, s, unsafe.String(&raw[0], len(raw)), time.Time{}, []byte("A"))
	copy(raw, "session-b")
	if got, err := get(t, s, "session-a"); err != nil || string(got) != "A" {
		t.Errorf("Read(session-a) after the caller reused the id's bytes = %q, %v; want %q", got, err, "A")
	}
	if _, err := get(t, s, "session-b"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read(session-b) = %v, want ErrNotFound: the reused bytes must not rename the entry", err)
	}
}

func TestExpiredEntryIsNeverServed(t *testing.T) {
	tests := []struct {
		name string
		call func(t *testing.T, s *Store) error
	}{
		{"Read", func(t *testing.T, s *Store) error {
			_, err := get(t, s, "id")
			return err
		}},
		{"ReadWithExpiry", func(t *testing.T, s *Store) error {
			return s.ReadWithExpiry(t.Context(), "id", func(io.Reader, time.Time) error { return nil })
		}},
		{"Touch", func(t *testing.T, s *Store) error {
			return s.Touch(t.Context(), "id", time.Time{})
		}},
		{"List", func(t *testing.T, s *Store) error {
			for id, err := range s.List(t.Context()) {
				if err != nil {
					return err
				}
				return fmt.Errorf("List yielded %q", id)
			}
			return sessions.ErrNotFound
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			s := newTestStore(t, withClock(c))
			put(t, s, "id", c.Now().Add(time.Minute), []byte("v"))
			c.Advance(time.Minute) // the instant of expiry is already expired
			if err := tt.call(t, s); !errors.Is(err, sessions.ErrNotFound) {
				t.Errorf("%s at the expiry instant returned %v, want ErrNotFound", tt.name, err)
			}
		})
	}
}

func TestReadWithExpiryReportsTheExpiry(t *testing.T) {
	c := newClock()
	s := newTestStore(t, withClock(c))
	tests := []struct {
		name    string
		expires time.Time
		want    time.Time
	}{
		{"Never", time.Time{}, time.Time{}},
		{"InAnHour", c.Now().Add(time.Hour), c.Now().Add(time.Hour)},
		// Unix nanoseconds end in 2262; a later expiry is kept as the
		// latest instant they can hold instead of overflowing into the
		// past.
		{"BeyondYear2262", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), maxNanos},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			put(t, s, tt.name, tt.expires, []byte("v"))
			var got time.Time
			err := s.ReadWithExpiry(t.Context(), tt.name, func(_ io.Reader, exp time.Time) error {
				got = exp
				return nil
			})
			if err != nil || !got.Equal(tt.want) {
				t.Errorf("ReadWithExpiry = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestWriteBeforeYear1678StoresNothing(t *testing.T) {
	s := newTestStore(t)
	put(t, s, "id", time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), []byte("v"))
	if _, err := get(t, s, "id"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Read after a Write with an expiry in year 1000 = %v, want ErrNotFound", err)
	}
}

// sameShardIDs returns n ids that hash to one shard of s, so that a test can
// check the rules that hold within a shard.
func sameShardIDs(s *Store, n int) []string {
	want := s.shardIndex("x0")
	ids := []string{"x0"}
	for i := 1; len(ids) < n; i++ {
		if id := fmt.Sprintf("x%d", i); s.shardIndex(id) == want {
			ids = append(ids, id)
		}
	}
	return ids
}

func TestEvictionOrder(t *testing.T) {
	type write struct {
		id   string
		in   time.Duration // expiry relative to the clock; 0 means never
		size int
	}
	tests := []struct {
		name      string
		opts      []Option
		sameShard bool // ids a, b, c... are replaced by ids of one shard
		writes    []write
		advance   time.Duration // clock moves after all writes but the last
		want      []string
	}{
		{
			name:   "EarliestExpiryFirst",
			opts:   []Option{WithMaxEntries(3)},
			writes: []write{{"a", 30 * time.Minute, 1}, {"b", 10 * time.Minute, 1}, {"c", 0, 1}, {"d", 20 * time.Minute, 1}},
			want:   []string{"a", "c", "d"},
		},
		{
			name:    "ExpiredBeforeLive",
			opts:    []Option{WithMaxEntries(2)},
			writes:  []write{{"a", time.Minute, 1}, {"b", 0, 1}, {"c", 0, 1}},
			advance: 2 * time.Minute,
			want:    []string{"b", "c"},
		},
		{
			name:   "NeverExpiringLast",
			opts:   []Option{WithMaxEntries(2)},
			writes: []write{{"a", 0, 1}, {"b", 365 * 24 * time.Hour, 1}, {"c", 0, 1}},
			want:   []string{"a", "c"},
		},
		{
			name:   "JustWrittenEntryIsKeptEvenIfItExpiresFirst",
			opts:   []Option{WithMaxEntries(2)},
			writes: []write{{"a", time.Hour, 1}, {"b", 2 * time.Hour, 1}, {"c", time.Minute, 1}},
			want:   []string{"b", "c"},
		},
		{
			name:   "OverwriteKeepsTheEntryCountAndEvictsNothing",
			opts:   []Option{WithMaxEntries(2)},
			writes: []write{{"a", time.Hour, 1}, {"b", 2 * time.Hour, 1}, {"a", 3 * time.Hour, 1}},
			want:   []string{"a", "b"},
		},
		{
			name:      "TiesGoToTheLeastRecentlyWrittenInAShard",
			opts:      []Option{WithMaxEntries(3)},
			sameShard: true,
			// Rewriting a makes b the least recently written.
			writes: []write{{"a", 0, 1}, {"b", 0, 1}, {"c", 0, 1}, {"a", 0, 1}, {"d", 0, 1}},
			want:   []string{"a", "c", "d"},
		},
		{
			name:   "ByteBoundEvictsUntilTheValueFits",
			opts:   []Option{WithMaxBytes(100)},
			writes: []write{{"a", time.Hour, 40}, {"b", 3 * time.Hour, 40}, {"c", 2 * time.Hour, 20}, {"d", 4 * time.Hour, 90}},
			want:   []string{"d"},
		},
		{
			name:   "ByteBoundEvictsOnlyWhatIsNeeded",
			opts:   []Option{WithMaxBytes(100)},
			writes: []write{{"a", time.Hour, 40}, {"b", 3 * time.Hour, 40}, {"c", 2 * time.Hour, 30}},
			want:   []string{"b", "c"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			s := newTestStore(t, append(tt.opts, withClock(c))...)
			names := map[string]string{} // test name -> id
			if tt.sameShard {
				for i, id := range sameShardIDs(s, 5) {
					names[string(rune('a'+i))] = id
				}
			}
			idOf := func(n string) string {
				if id, ok := names[n]; ok {
					return id
				}
				return n
			}
			for i, w := range tt.writes {
				if i == len(tt.writes)-1 {
					c.Advance(tt.advance)
				}
				var exp time.Time
				if w.in != 0 {
					exp = c.Now().Add(w.in)
				}
				put(t, s, idOf(w.id), exp, bytes.Repeat([]byte{'v'}, w.size))
			}
			var want []string
			for _, n := range tt.want {
				want = append(want, idOf(n))
			}
			slices.Sort(want)
			if got := s.entryIDs(); !slices.Equal(got, want) {
				t.Errorf("after the writes the Store holds %v, want %v", got, want)
			}
		})
	}
}

// TestEvictionLooksPastTheJustWrittenEntry: the entry a Write stores may be
// the earliest-expiring one in its shard; the victim is then the earliest
// entry of the whole Store after it, not the next one in that shard.
func TestEvictionLooksPastTheJustWrittenEntry(t *testing.T) {
	c := newClock()
	s := newTestStore(t, withClock(c), WithMaxEntries(2))
	pair := sameShardIDs(s, 2)
	other := "other"
	for s.shardIndex(other) == s.shardIndex(pair[0]) {
		other += "x"
	}
	put(t, s, pair[1], c.Now().Add(3*time.Hour), []byte("v"))
	put(t, s, other, c.Now().Add(time.Hour), []byte("v"))
	put(t, s, pair[0], c.Now().Add(time.Minute), []byte("v"))
	want := []string{pair[0], pair[1]}
	slices.Sort(want)
	if got := s.entryIDs(); !slices.Equal(got, want) {
		t.Errorf("the Store holds %v, want %v: the entry expiring in an hour should have gone", got, want)
	}
}

func TestValueLargerThanTheByteBoundIsTooLarge(t *testing.T) {
	s := newTestStore(t, WithMaxBytes(10))
	put(t, s, "id", time.Time{}, []byte("old"))
	put(t, s, "other", time.Time{}, []byte("other"))
	err := s.Write(t.Context(), "id", time.Time{}, func(w io.Writer) error {
		_, err := w.Write(make([]byte, 11))
		return err
	})
	if !errors.Is(err, sessions.ErrTooLarge) {
		t.Fatalf("Write of 11 bytes under WithMaxBytes(10) = %v, want ErrTooLarge", err)
	}
	if got, err := get(t, s, "id"); err != nil || string(got) != "old" {
		t.Errorf("after the refused Write, Read = %q, %v; want the previous %q", got, err, "old")
	}
	if got := s.entryIDs(); !slices.Equal(got, []string{"id", "other"}) {
		t.Errorf("the refused Write left %v, want nothing evicted", got)
	}
	// Exactly the bound fits.
	put(t, s, "id", time.Time{}, make([]byte, 10))
}

func TestNonPositiveBoundsMeanUnbounded(t *testing.T) {
	s := newTestStore(t, WithMaxEntries(-1), WithMaxBytes(0))
	for i := range 100 {
		put(t, s, fmt.Sprint("id", i), time.Time{}, make([]byte, 100))
	}
	if n := len(s.entryIDs()); n != 100 {
		t.Errorf("Store holds %d entries, want all 100", n)
	}
}

func TestBoundHoldsAfterConcurrentWrites(t *testing.T) {
	const bound = 50
	s := newTestStore(t, WithMaxEntries(bound), WithMaxBytes(bound*8))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				id := fmt.Sprintf("g%d-%d", g, i%97)
				exp := time.Now().Add(time.Duration(i%13+1) * time.Minute)
				err := s.Write(context.Background(), id, exp, func(w io.Writer) error {
					_, err := w.Write(make([]byte, i%9))
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	n, total := 0, int64(0)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		total += sh.bytes
		if len(sh.m) != len(sh.heap) {
			t.Errorf("shard %d: %d entries in the map, %d in the heap", i, len(sh.m), len(sh.heap))
		}
		sh.mu.RUnlock()
	}
	if n > bound || total > bound*8 {
		t.Errorf("after the writes the Store holds %d entries, %d bytes; bounds are %d, %d", n, total, bound, bound*8)
	}
	if n == 0 {
		t.Error("the Store is empty: eviction removed everything")
	}
	if got := s.entries.Load(); got != int64(n) {
		t.Errorf("entry counter = %d, want %d", got, n)
	}
	if got := s.bytes.Load(); got != total {
		t.Errorf("byte counter = %d, want %d", got, total)
	}
}

func TestTouchReordersExpiry(t *testing.T) {
	c := newClock()
	s := newTestStore(t, withClock(c))
	// One shard, one heap: the Touch must move b ahead of a in it.
	ids := sameShardIDs(s, 2)
	a, b := ids[0], ids[1]
	put(t, s, a, c.Now().Add(time.Hour), []byte("a"))
	put(t, s, b, c.Now().Add(2*time.Hour), []byte("b"))
	if err := s.Touch(t.Context(), b, c.Now().Add(time.Minute)); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	c.Advance(2 * time.Minute)
	n, err := s.DeleteExpired(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpired = %d, %v; want 1, nil", n, err)
	}
	if got := s.entryIDs(); !slices.Equal(got, []string{a}) {
		t.Errorf("after the sweep the Store holds %v, want [%s]", got, a)
	}
}

func TestSweeperRemovesExpiredEntries(t *testing.T) {
	c := newClock()
	s := newTestStore(t, withClock(c), WithSweepInterval(time.Millisecond))
	put(t, s, "old", c.Now().Add(time.Minute), []byte("v"))
	put(t, s, "live", c.Now().Add(time.Hour), []byte("v"))
	put(t, s, "forever", time.Time{}, []byte("v"))
	c.Advance(2 * time.Minute)
	deadline := time.Now().Add(30 * time.Second)
	for slices.Contains(s.entryIDs(), "old") {
		if time.Now().After(deadline) {
			t.Fatal("the sweeper did not remove the expired entry within 30s")
		}
		time.Sleep(time.Millisecond)
	}
	if got := s.entryIDs(); !slices.Equal(got, []string{"forever", "live"}) {
		t.Errorf("after sweeping the Store holds %v, want [forever live]", got)
	}
}

// TestCloseStopsTheSweeper relies on s.done, which the sweeper closes as it
// returns: unlike a goroutine count, it cannot be moved by other tests.
func TestCloseStopsTheSweeper(t *testing.T) {
	stores := make([]*Store, 20)
	for i := range stores {
		stores[i] = New(WithSweepInterval(time.Millisecond))
	}
	for _, s := range stores {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		select {
		case <-s.done:
		default:
			t.Fatal("Close returned before the sweeper goroutine ended")
		}
	}
}

// TestCloseRightAfterNew covers the scs race: the stop channel must exist
// before the sweeper goroutine runs.
func TestCloseRightAfterNew(t *testing.T) {
	for range 100 {
		s := New(WithSweepInterval(time.Nanosecond))
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

func TestCloseTwiceReturnsErrClosed(t *testing.T) {
	s := New()
	if err := s.Close(); err != nil {
		t.Fatalf("first Close = %v, want nil", err)
	}
	if err := s.Close(); !errors.Is(err, sessions.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

func TestErrorsNeverContainTheIDOrIndexKey(t *testing.T) {
	const secret = "secret-session-id-0123456789"
	s := newTestStore(t, WithMaxBytes(1))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var errs []error
	errs = append(errs, s.Write(t.Context(), secret, time.Time{}, func(w io.Writer) error {
		_, err := w.Write([]byte("too long"))
		return err
	}))
	_, err := get(t, s, secret)
	errs = append(errs, err, s.Invalidate(ctx, secret), s.Touch(t.Context(), secret, time.Time{}))
	errs = append(errs, s.Write(t.Context(), secret+"/", time.Time{}, nil))
	// Index keys are as secret as ids: they name a user.
	nothing := func(io.Writer) error { return nil }
	none := func(string, time.Time, io.Reader) error { return nil }
	errs = append(errs,
		s.CreateIndexed(t.Context(), secret, secret+"/", time.Time{}, nothing),
		s.ReplaceIndexed(t.Context(), secret, secret, time.Time{}, nothing),
		s.ReadIndex(ctx, secret, none),
		s.ReadIndex(t.Context(), secret+"/", none))
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		if bytes.Contains([]byte(err.Error()), []byte("secret")) {
			t.Errorf("error %q contains the id", err)
		}
	}
}
