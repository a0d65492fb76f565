package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/memory"
)

func TestHitDoesNotReachTheDelegate(t *testing.T) {
	c := newClock()
	f := newFake(c)
	st, _ := newTestCache(t, c, f)
	put(t, st, "id", "value", c.Now().Add(time.Hour))
	for range 3 {
		if got, err := get(t.Context(), st, "id"); err != nil || got != "value" {
			t.Fatalf("Read = %q, %v; want %q", got, err, "value")
		}
	}
	if n := f.reads.Load(); n != 0 {
		t.Errorf("the delegate was read %d times, want 0: the written value should be cached", n)
	}
	if s := statsOf(st); s.Hits != 3 || s.Misses != 0 || s.Entries != 1 || s.Bytes != 5 {
		t.Errorf("Stats = %+v, want 3 hits, 0 misses, 1 entry of 5 bytes", s)
	}
}

func TestLoadedValueIsCachedOnlyWithAKnownExpiry(t *testing.T) {
	tests := []struct {
		name      string
		delegate  func(f *fake) sessions.Storage
		wantReads int64
	}{
		// Caching it for the idle timeout could serve it past an earlier
		// expiry that plain Read does not report.
		{"PlainRead", func(f *fake) sessions.Storage { return f }, 3},
		{"ExpiryReader", func(f *fake) sessions.Storage { return withExpiry{f} }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			f := newFake(c)
			f.set("id", "value", c.Now().Add(time.Hour))
			st, _ := newTestCache(t, c, tt.delegate(f))
			for range 3 {
				if got, err := get(t.Context(), st, "id"); err != nil || got != "value" {
					t.Fatalf("Read = %q, %v; want %q", got, err, "value")
				}
			}
			if n := f.reads.Load(); n != tt.wantReads {
				t.Errorf("the delegate was read %d times for 3 Reads, want %d", n, tt.wantReads)
			}
		})
	}
}

func TestNothingIsServedPastItsExpiry(t *testing.T) {
	tests := []struct {
		name string
		// fill makes the cache hold "id" with a value that expires in a
		// minute.
		fill func(t *testing.T, c *clock, f *fake, st Store)
	}{
		{"WrittenThroughTheCache", func(t *testing.T, c *clock, f *fake, st Store) {
			put(t, st, "id", "value", c.Now().Add(time.Minute))
		}},
		{"LoadedWithItsExpiry", func(t *testing.T, c *clock, f *fake, st Store) {
			f.set("id", "value", c.Now().Add(time.Minute))
			if _, err := get(t.Context(), st, "id"); err != nil {
				t.Fatal(err)
			}
		}},
		{"TouchedEarlierThroughTheCache", func(t *testing.T, c *clock, f *fake, st Store) {
			put(t, st, "id", "value", c.Now().Add(time.Hour))
			if err := st.(sessions.Toucher).Touch(t.Context(), "id", c.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			f := newFake(c)
			st, _ := newTestCache(t, c, withExpiry{f}, WithIdleTimeout(time.Hour))
			tt.fill(t, c, f, st)
			c.Advance(time.Minute - 1)
			if got, err := get(t.Context(), st, "id"); err != nil || got != "value" {
				t.Fatalf("Read just before the expiry = %q, %v; want %q", got, err, "value")
			}
			hits := statsOf(st).Hits
			if hits == 0 {
				t.Fatal("the value was not cached; the test would prove nothing")
			}
			c.Advance(1)
			if got, err := get(t.Context(), st, "id"); !errors.Is(err, sessions.ErrNotFound) {
				t.Errorf("Read at the expiry = %q, %v; want ErrNotFound", got, err)
			}
			if s := statsOf(st); s.Hits != hits {
				t.Errorf("Read at the expiry was answered by the cache (%d hits, want %d)", s.Hits, hits)
			}
		})
	}
}

func TestIdleEntryIsDropped(t *testing.T) {
	c := newClock()
	f := newFake(c)
	st, _ := newTestCache(t, c, f, WithIdleTimeout(time.Minute))
	put(t, st, "id", "value", time.Time{})
	// Each read within the timeout restarts it.
	for range 3 {
		c.Advance(time.Minute - time.Second)
		if _, err := get(t.Context(), st, "id"); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.reads.Load(); n != 0 {
		t.Fatalf("reads within the idle timeout reached the delegate %d times, want 0", n)
	}
	c.Advance(time.Minute)
	if got, err := get(t.Context(), st, "id"); err != nil || got != "value" {
		t.Fatalf("Read after the idle timeout = %q, %v; want the delegate's %q", got, err, "value")
	}
	if n := f.reads.Load(); n != 1 {
		t.Errorf("Read after the idle timeout did not reach the delegate (%d reads, want 1)", n)
	}
	if s := statsOf(st); s.Expirations != 1 {
		t.Errorf("Stats.Expirations = %d, want 1", s.Expirations)
	}
}

// TestIdleEntriesAreTrimmedOnInsert: idle entries are not just skipped but
// given back, by the next insertion into their shard.
func TestIdleEntriesAreTrimmedOnInsert(t *testing.T) {
	c := newClock()
	st, s := newTestCache(t, c, newFake(c), WithIdleTimeout(time.Minute))
	ids := sameShardIDs(s, 3)
	put(t, st, ids[0], "a", time.Time{})
	put(t, st, ids[1], "b", time.Time{})
	c.Advance(time.Minute)
	put(t, st, ids[2], "c", time.Time{})
	if got := s.cachedIDs(); !slices.Equal(got, []string{ids[2]}) {
		t.Errorf("after an insertion the shard holds %v, want only %v", got, ids[2])
	}
}

// sameShardIDs returns n ids that hash to one shard of s.
func sameShardIDs(s *store, n int) []string {
	want := s.shardIndex("x0")
	ids := []string{"x0"}
	for i := 1; len(ids) < n; i++ {
		if id := fmt.Sprintf("x%d", i); s.shardIndex(id) == want {
			ids = append(ids, id)
		}
	}
	return ids
}

func TestEvictionIsLeastRecentlyUsed(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		// ops: "w:id:size" writes a value of size bytes, "r:id" reads;
		// the clock moves a second after each.
		ops  []string
		want []string
	}{
		{"EntryBound", []Option{WithMaxEntries(3)},
			[]string{"w:a:1", "w:b:1", "w:c:1", "r:a", "w:d:1"}, []string{"a", "c", "d"}},
		{"ByteBound", []Option{WithMaxBytes(100)},
			[]string{"w:a:40", "w:b:40", "r:a", "w:c:40"}, []string{"a", "c"}},
		{"ByteBoundEvictsSeveral", []Option{WithMaxBytes(100)},
			[]string{"w:a:30", "w:b:30", "w:c:30", "w:d:90"}, []string{"d"}},
		{"TouchCountsAsUse", []Option{WithMaxEntries(2)},
			[]string{"w:a:1", "w:b:1", "t:a", "w:c:1"}, []string{"a", "c"}},
		{"OverwriteCountsAsUse", []Option{WithMaxEntries(2)},
			[]string{"w:a:1", "w:b:1", "w:a:2", "w:c:1"}, []string{"a", "c"}},
	}
	for _, tt := range tests {
		// Within a shard the LRU list decides; across shards the published
		// tails do.
		for _, oneShard := range []bool{false, true} {
			name := tt.name + "/AcrossShards"
			if oneShard {
				name = tt.name + "/OneShard"
			}
			t.Run(name, func(t *testing.T) {
				c := newClock()
				st, s := newTestCache(t, c, newFake(c), append(tt.opts, WithIdleTimeout(0))...)
				idOf := func(name string) string { return name }
				if oneShard {
					ids := sameShardIDs(s, 4)
					idOf = func(name string) string { return ids[name[0]-'a'] }
				}
				runLRUOps(t, c, st, tt.ops, idOf)
				var want []string
				for _, n := range tt.want {
					want = append(want, idOf(n))
				}
				slices.Sort(want)
				if got := s.cachedIDs(); !slices.Equal(got, want) {
					t.Errorf("the cache holds %v, want %v", got, want)
				}
				if ev := statsOf(st).Evictions; ev == 0 {
					t.Error("Stats.Evictions = 0, want the evictions counted")
				}
			})
		}
	}
}

// runLRUOps runs the operations of TestEvictionIsLeastRecentlyUsed.
func runLRUOps(t *testing.T, c *clock, st Store, ops []string, idOf func(string) string) {
	t.Helper()
	for _, op := range ops {
		parts := strings.Split(op, ":")
		id := idOf(parts[1])
		switch parts[0] {
		case "w":
			var size int
			fmt.Sscan(parts[2], &size)
			put(t, st, id, strings.Repeat("v", size), time.Time{})
		case "r":
			if _, err := get(t.Context(), st, id); err != nil {
				t.Fatal(err)
			}
		case "t":
			if err := st.(sessions.Toucher).Touch(t.Context(), id, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		c.Advance(time.Second)
	}
}

func TestValueLargerThanTheCacheIsPassedThrough(t *testing.T) {
	c := newClock()
	f := newFake(c)
	st, _ := newTestCache(t, c, withExpiry{f}, WithMaxBytes(10))
	big := strings.Repeat("x", 11)
	put(t, st, "written", big, time.Time{})
	f.set("loaded", big, time.Time{})
	for _, id := range []string{"written", "loaded"} {
		for range 2 {
			if got, err := get(t.Context(), st, id); err != nil || got != big {
				t.Fatalf("Read(%s) = %q, %v; want the 11-byte value", id, got, err)
			}
		}
	}
	s := statsOf(st)
	if s.Entries != 0 || s.Hits != 0 {
		t.Errorf("Stats = %+v, want nothing cached and no hits", s)
	}
	if s.Uncached != 5 { // one write, four loads
		t.Errorf("Stats.Uncached = %d, want 5", s.Uncached)
	}
}

// gate blocks the first call that reaches it until Open; later calls pass.
type gate struct {
	once    sync.Once
	reached chan struct{}
	open    chan struct{}
}

func newGate() *gate { return &gate{reached: make(chan struct{}), open: make(chan struct{})} }

func (g *gate) wait(ctx context.Context) error {
	first := false
	g.once.Do(func() { first = true })
	if !first {
		return nil
	}
	close(g.reached)
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func spawn(wg *sync.WaitGroup, f func()) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		f()
	}()
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func TestConcurrentMissesLoadOnce(t *testing.T) {
	for _, name := range []string{"PlainRead", "ExpiryReader"} {
		t.Run(name, func(t *testing.T) {
			c := newClock()
			f := newFake(c)
			f.set("id", "value", time.Time{})
			g := newGate()
			f.onRead = g.wait
			var d sessions.Storage = f
			if name == "ExpiryReader" {
				d = withExpiry{f}
			}
			st, _ := newTestCache(t, c, d)
			const n = 8
			results := make(chan string, n)
			var wg sync.WaitGroup
			for range n {
				spawn(&wg, func() {
					got, err := get(context.Background(), st, "id")
					if err != nil {
						got = err.Error()
					}
					results <- got
				})
			}
			waitFor(t, "every reader missed", func() bool { return statsOf(st).Misses == n })
			close(g.open)
			wg.Wait()
			close(results)
			for got := range results {
				if got != "value" {
					t.Errorf("a reader got %q, want %q", got, "value")
				}
			}
			if r := f.reads.Load(); r != 1 {
				t.Errorf("%d concurrent misses read the delegate %d times, want once", n, r)
			}
			if s := statsOf(st); s.Loads != 1 {
				t.Errorf("Stats.Loads = %d, want 1", s.Loads)
			}
		})
	}
}

func TestWaiterStopsWaitingWhenItsContextEnds(t *testing.T) {
	c := newClock()
	f := newFake(c)
	f.set("id", "value", time.Time{})
	g := newGate()
	f.onRead = g.wait
	st, _ := newTestCache(t, c, f)
	leader := make(chan error)
	go func() {
		_, err := get(context.Background(), st, "id")
		leader <- err
	}()
	<-g.reached
	ctx, cancel := context.WithCancel(t.Context())
	waiter := make(chan error)
	go func() {
		_, err := get(ctx, st, "id")
		waiter <- err
	}()
	waitFor(t, "the waiter joined the load", func() bool { return statsOf(st).Misses == 2 })
	cancel()
	if err := <-waiter; !errors.Is(err, context.Canceled) {
		t.Errorf("the waiter whose context ended got %v, want context.Canceled", err)
	}
	close(g.open)
	if err := <-leader; err != nil {
		t.Errorf("the loading reader got %v, want the value", err)
	}
}

func TestLoaderCancellationDoesNotFailOthers(t *testing.T) {
	c := newClock()
	f := newFake(c)
	f.set("id", "value", time.Time{})
	g := newGate()
	f.onRead = g.wait // the first read waits for its context to end
	st, _ := newTestCache(t, c, f)
	ctx, cancel := context.WithCancel(t.Context())
	leader := make(chan error)
	go func() {
		_, err := get(ctx, st, "id")
		leader <- err
	}()
	<-g.reached
	waiter := make(chan string)
	go func() {
		got, err := get(context.Background(), st, "id")
		if err != nil {
			got = err.Error()
		}
		waiter <- got
	}()
	waitFor(t, "the waiter joined the load", func() bool { return statsOf(st).Misses == 2 })
	cancel()
	if err := <-leader; !errors.Is(err, context.Canceled) {
		t.Errorf("the cancelled loader got %v, want context.Canceled", err)
	}
	if got := <-waiter; got != "value" {
		t.Errorf("the waiter got %q after the loader was cancelled, want %q from a new load", got, "value")
	}
}

func TestPanicInTheDelegateReleasesWaiters(t *testing.T) {
	c := newClock()
	f := newFake(c)
	g := newGate()
	f.onRead = func(ctx context.Context) error {
		if err := g.wait(ctx); err != nil {
			return err
		}
		panic("delegate bug")
	}
	st, _ := newTestCache(t, c, f)
	leader := make(chan any)
	go func() {
		defer func() { leader <- recover() }()
		_, _ = get(context.Background(), st, "id")
	}()
	<-g.reached
	waiter := make(chan error)
	go func() {
		_, err := get(context.Background(), st, "id")
		waiter <- err
	}()
	waitFor(t, "the waiter joined the load", func() bool { return statsOf(st).Misses == 2 })
	close(g.open)
	if p := <-leader; p != "delegate bug" {
		t.Errorf("the loader recovered %v, want the delegate's panic", p)
	}
	if err := <-waiter; !errors.Is(err, errLoadPanicked) {
		t.Errorf("the waiter got %v, want errLoadPanicked", err)
	}
}

// TestMutationDuringLoadIsNeverCached is the race of Ktor's cache: a read
// that started before a mutation must not put what it read into the cache
// after the mutation, and callers arriving after the mutation must not get
// it either. The delegate's Read is stopped after it looked the entry up,
// the mutation runs to completion, then the read is let go.
func TestMutationDuringLoadIsNeverCached(t *testing.T) {
	tests := []struct {
		name    string
		initial string // "" means absent
		mutate  func(t *testing.T, c *clock, st Store)
		// want is what a Read gets after the mutation, before and after
		// the old read completes ("" means ErrNotFound).
		want string
		// advance moves the clock before the final Read.
		advance time.Duration
	}{
		{"InvalidateDuringLoadOfValue", "old", func(t *testing.T, c *clock, st Store) {
			if err := st.Invalidate(t.Context(), "id"); err != nil {
				t.Fatal(err)
			}
		}, "", 0},
		{"WriteDuringLoadOfValue", "old", func(t *testing.T, c *clock, st Store) {
			put(t, st, "id", "new", c.Now().Add(time.Hour))
		}, "new", 0},
		{"WriteDuringLoadOfNotFound", "", func(t *testing.T, c *clock, st Store) {
			put(t, st, "id", "new", c.Now().Add(time.Hour))
		}, "new", 0},
		{"TouchDuringLoadOfValue", "old", func(t *testing.T, c *clock, st Store) {
			if err := st.(sessions.Toucher).Touch(t.Context(), "id", c.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}, "", time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			f := newFake(c)
			if tt.initial != "" {
				f.set("id", tt.initial, c.Now().Add(time.Hour))
			}
			g := newGate()
			f.onRead = g.wait
			// ExpiryReader and negative caching make every load
			// installable, so only the coherence guard stands between the
			// old read and the cache.
			st, _ := newTestCache(t, c, withExpiry{f}, WithNegativeTTL(time.Hour))
			old := make(chan string)
			go func() {
				got, err := get(context.Background(), st, "id")
				if err != nil {
					got = ""
				}
				old <- got
			}()
			<-g.reached // the old read has looked the entry up
			tt.mutate(t, c, st)
			check := func(when string) {
				t.Helper()
				got, err := get(t.Context(), st, "id")
				if err != nil && !errors.Is(err, sessions.ErrNotFound) {
					t.Fatal(err)
				}
				if got != tt.want {
					t.Errorf("Read %s = %q, want %q", when, got, tt.want)
				}
			}
			if tt.advance == 0 {
				check("after the mutation, during the old read")
			}
			close(g.open)
			if got := <-old; got != tt.initial {
				t.Errorf("the read that started before the mutation got %q, want the old %q", got, tt.initial)
			}
			c.Advance(tt.advance)
			check("after the old read completed")
		})
	}
}

// TestLoadStartedDuringAMutationIsNotShared: a load that starts while an
// Invalidate is in progress may read the old value; a caller arriving after
// the Invalidate returned must not share that load.
func TestLoadStartedDuringAMutationIsNotShared(t *testing.T) {
	c := newClock()
	f := newFake(c)
	f.set("id", "old", time.Time{})
	invalidating := make(chan struct{})
	proceed := make(chan struct{})
	f.onInvalidate = func() {
		close(invalidating)
		<-proceed
	}
	g := newGate()
	f.onRead = g.wait
	st, _ := newTestCache(t, c, withExpiry{f})
	invalidated := make(chan error)
	go func() { invalidated <- st.Invalidate(context.Background(), "id") }()
	<-invalidating
	old := make(chan string)
	go func() {
		got, _ := get(context.Background(), st, "id")
		old <- got
	}()
	<-g.reached // the load has read "old" and waits
	close(proceed)
	if err := <-invalidated; err != nil {
		t.Fatal(err)
	}
	late := make(chan string)
	go func() {
		got, err := get(context.Background(), st, "id")
		if err != nil {
			got = ""
		}
		late <- got
	}()
	select {
	case got := <-late:
		if got != "" {
			t.Errorf("a Read after Invalidate returned got %q, want ErrNotFound", got)
		}
	case <-time.After(30 * time.Second):
		t.Error("a Read after Invalidate returned is waiting for a load that started before")
	}
	close(g.open)
	if got := <-old; got != "old" {
		t.Errorf("the concurrent Read got %q, want %q", got, "old")
	}
	if got, err := get(t.Context(), st, "id"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("the final Read = %q, %v; want ErrNotFound", got, err)
	}
}

// TestOverlappingWritesNeverLeaveAStaleValue: two Writes of one id overlap;
// the delegate commits the second one's value first and the first one's
// last, but the second Write returns last. Installing each Write's value
// when it returns would leave the cache with "second" while the delegate
// holds "first".
func TestOverlappingWritesNeverLeaveAStaleValue(t *testing.T) {
	c := newClock()
	f := newFake(c)
	st, _ := newTestCache(t, c, f)
	firstCommit := make(chan struct{}) // released: "first" may commit
	secondCommitted := make(chan struct{})
	secondReturn := make(chan struct{}) // released: "second" may return
	f.onWrite = func(value string, committed bool) {
		switch {
		case value == "first" && !committed:
			<-firstCommit
		case value == "second" && committed:
			close(secondCommitted)
			<-secondReturn
		}
	}
	var wg sync.WaitGroup
	write := func(value string) {
		if err := st.Write(context.Background(), "id", time.Time{}, func(w io.Writer) error {
			_, err := io.WriteString(w, value)
			return err
		}); err != nil {
			t.Errorf("Write(%s): %v", value, err)
		}
	}
	spawn(&wg, func() { write("first") })
	waitFor(t, "the first Write reached the delegate", func() bool { return f.writes.Load() == 1 })
	spawn(&wg, func() { write("second") })
	<-secondCommitted
	close(firstCommit)
	waitFor(t, "the first Write returned", func() bool {
		s := implOf(st)
		sh := s.shard("id")
		sh.mu.Lock()
		defer sh.mu.Unlock()
		return sh.pending["id"] != nil && sh.pending["id"].mutators == 1
	})
	close(secondReturn)
	wg.Wait()
	if got, err := get(t.Context(), st, "id"); err != nil || got != "first" {
		t.Errorf("Read after overlapping Writes = %q, %v; want %q, what the delegate kept", got, err, "first")
	}
}

// TestFailedDelegateWriteIsNotCached: when the delegate's Write fails the
// cache cannot know what the delegate holds, so the next Read must get
// whatever the delegate has, whether the failure came before or after the
// delegate stored the value.
func TestFailedDelegateWriteIsNotCached(t *testing.T) {
	tests := []struct {
		name         string
		beforeCommit bool
		want         string
	}{
		{"FailsBeforeStoring", true, "old"},
		{"FailsAfterStoring", false, "new"}, // a sync that failed after the rename, say
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClock()
			f := newFake(c)
			st, _ := newTestCache(t, c, f)
			put(t, st, "id", "old", time.Time{})
			f.writeErr, f.failBeforeCommit = errTest, tt.beforeCommit
			err := st.Write(t.Context(), "id", time.Time{}, func(w io.Writer) error {
				_, err := io.WriteString(w, "new")
				return err
			})
			if !errors.Is(err, errTest) {
				t.Fatalf("Write = %v, want the delegate's error", err)
			}
			if got, err := get(t.Context(), st, "id"); err != nil || got != tt.want {
				t.Errorf("Read after the failed Write = %q, %v; want the delegate's %q", got, err, tt.want)
			}
		})
	}
}

func TestFailedWriteFunctionLeavesTheCachedValue(t *testing.T) {
	c := newClock()
	f := newFake(c)
	st, _ := newTestCache(t, c, f)
	put(t, st, "id", "old", time.Time{})
	err := st.Write(t.Context(), "id", time.Time{}, func(w io.Writer) error {
		_, _ = io.WriteString(w, "half")
		return errTest
	})
	if !errors.Is(err, errTest) {
		t.Fatalf("Write = %v, want the write function's error", err)
	}
	if got, err := get(t.Context(), st, "id"); err != nil || got != "old" {
		t.Errorf("Read after the failed Write = %q, %v; want %q", got, err, "old")
	}
}

func TestNegativeEntries(t *testing.T) {
	t.Run("OffByDefault", func(t *testing.T) {
		c := newClock()
		f := newFake(c)
		st, _ := newTestCache(t, c, f)
		for range 2 {
			if _, err := get(t.Context(), st, "unknown"); !errors.Is(err, sessions.ErrNotFound) {
				t.Fatalf("Read = %v, want ErrNotFound", err)
			}
		}
		if r, s := f.reads.Load(), statsOf(st); r != 2 || s.Entries != 0 {
			t.Errorf("delegate reads = %d, entries = %d; want 2 and 0", r, s.Entries)
		}
	})
	t.Run("RememberedForTheTTL", func(t *testing.T) {
		c := newClock()
		f := newFake(c)
		st, _ := newTestCache(t, c, f, WithNegativeTTL(time.Minute))
		for range 2 {
			if _, err := get(t.Context(), st, "unknown"); !errors.Is(err, sessions.ErrNotFound) {
				t.Fatalf("Read = %v, want ErrNotFound", err)
			}
		}
		if r, s := f.reads.Load(), statsOf(st); r != 1 || s.NegativeHits != 1 {
			t.Errorf("delegate reads = %d, negative hits = %d; want 1 and 1", r, s.NegativeHits)
		}
		c.Advance(time.Minute)
		_, _ = get(t.Context(), st, "unknown")
		if r := f.reads.Load(); r != 2 {
			t.Errorf("after the TTL the delegate was read %d times in all, want 2", r)
		}
	})
	t.Run("BoundedByMaxEntries", func(t *testing.T) {
		c := newClock()
		f := newFake(c)
		st, _ := newTestCache(t, c, f, WithNegativeTTL(time.Hour), WithMaxEntries(10))
		put(t, st, "known", "value", time.Time{})
		for i := range 100 {
			c.Advance(time.Millisecond)
			_, _ = get(t.Context(), st, fmt.Sprint("forged", i))
		}
		if s := statsOf(st); s.Entries > 10 || s.Evictions < 90 {
			t.Errorf("after 100 unknown ids Stats = %+v, want at most 10 entries and at least 90 evictions", s)
		}
	})
	t.Run("ReplacedByAWrite", func(t *testing.T) {
		c := newClock()
		f := newFake(c)
		st, _ := newTestCache(t, c, f, WithNegativeTTL(time.Hour))
		_, _ = get(t.Context(), st, "id")
		put(t, st, "id", "value", time.Time{})
		if got, err := get(t.Context(), st, "id"); err != nil || got != "value" {
			t.Errorf("Read after a Write = %q, %v; want %q", got, err, "value")
		}
	})
	t.Run("DroppedByASuccessfulTouch", func(t *testing.T) {
		c := newClock()
		f := newFake(c)
		st, _ := newTestCache(t, c, f, WithNegativeTTL(time.Hour))
		_, _ = get(t.Context(), st, "id")
		f.set("id", "value", time.Time{}) // created behind the cache's back
		if err := st.(sessions.Toucher).Touch(t.Context(), "id", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if got, err := get(t.Context(), st, "id"); err != nil || got != "value" {
			t.Errorf("Read after a successful Touch = %q, %v; want %q", got, err, "value")
		}
	})
}

// plain is a delegate with no optional capability.
type plain struct{ f *fake }

func (p plain) Write(ctx context.Context, id string, e time.Time, w func(io.Writer) error) error {
	return p.f.Write(ctx, id, e, w)
}
func (p plain) Read(ctx context.Context, id string, r func(io.Reader) error) error {
	return p.f.Read(ctx, id, r)
}
func (p plain) Invalidate(ctx context.Context, id string) error { return p.f.Invalidate(ctx, id) }

// Delegates with each combination of optional capabilities: T(oucher),
// L(ister), S(weeper).
type (
	capT   struct{ plain }
	capL   struct{ plain }
	capS   struct{ plain }
	capTL  struct{ plain }
	capTS  struct{ plain }
	capLS  struct{ plain }
	capTLS struct{ plain }
)

func (d capT) Touch(ctx context.Context, id string, e time.Time) error  { return d.f.Touch(ctx, id, e) }
func (d capTL) Touch(ctx context.Context, id string, e time.Time) error { return d.f.Touch(ctx, id, e) }
func (d capTS) Touch(ctx context.Context, id string, e time.Time) error { return d.f.Touch(ctx, id, e) }
func (d capTLS) Touch(ctx context.Context, id string, e time.Time) error {
	return d.f.Touch(ctx, id, e)
}
func (capL) List(context.Context) iter.Seq2[string, error]   { return oneID }
func (capTL) List(context.Context) iter.Seq2[string, error]  { return oneID }
func (capLS) List(context.Context) iter.Seq2[string, error]  { return oneID }
func (capTLS) List(context.Context) iter.Seq2[string, error] { return oneID }
func (capS) DeleteExpired(context.Context) (int, error)      { return 7, nil }
func (capTS) DeleteExpired(context.Context) (int, error)     { return 7, nil }
func (capLS) DeleteExpired(context.Context) (int, error)     { return 7, nil }
func (capTLS) DeleteExpired(context.Context) (int, error)    { return 7, nil }

func oneID(yield func(string, error) bool) { yield("listed", nil) }

func TestCapabilitiesMatchTheDelegate(t *testing.T) {
	c := newClock()
	p := plain{newFake(c)}
	tests := []struct {
		name     string
		delegate sessions.Storage
		t, l, s  bool
	}{
		{"None", p, false, false, false},
		{"Toucher", capT{p}, true, false, false},
		{"Lister", capL{p}, false, true, false},
		{"Sweeper", capS{p}, false, false, true},
		{"ToucherLister", capTL{p}, true, true, false},
		{"ToucherSweeper", capTS{p}, true, false, true},
		{"ListerSweeper", capLS{p}, false, true, true},
		{"All", capTLS{p}, true, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := newTestCache(t, c, tt.delegate)
			to, isT := st.(sessions.Toucher)
			l, isL := st.(sessions.Lister)
			sw, isS := st.(sessions.Sweeper)
			if isT != tt.t || isL != tt.l || isS != tt.s {
				t.Fatalf("cache is Toucher %v, Lister %v, Sweeper %v; want %v, %v, %v", isT, isL, isS, tt.t, tt.l, tt.s)
			}
			if isT {
				put(t, st, "id", "value", time.Time{})
				exp := c.Now().Add(time.Hour)
				if err := to.Touch(t.Context(), "id", exp); err != nil {
					t.Fatalf("Touch: %v", err)
				}
				if got := p.f.m["id"].expires; !got.Equal(exp) {
					t.Errorf("Touch did not reach the delegate: its expiry is %v, want %v", got, exp)
				}
			}
			if isL {
				var ids []string
				for id, err := range l.List(t.Context()) {
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, id)
				}
				if !slices.Equal(ids, []string{"listed"}) {
					t.Errorf("List yielded %v, want the delegate's [listed]", ids)
				}
			}
			if isS {
				if n, err := sw.DeleteExpired(t.Context()); n != 7 || err != nil {
					t.Errorf("DeleteExpired = %d, %v; want the delegate's 7, nil", n, err)
				}
			}
		})
	}
}

func TestCloseDelegateOption(t *testing.T) {
	tests := []struct {
		name       string
		opts       []Option
		wantClosed bool
	}{
		{"DefaultLeavesItOpen", nil, false},
		{"True", []Option{WithCloseDelegate(true)}, true},
		{"False", []Option{WithCloseDelegate(false)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := memory.New(memory.WithSweepInterval(0))
			t.Cleanup(func() { _ = m.Close() })
			st := New(m, tt.opts...)
			if err := st.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			err := m.Invalidate(t.Context(), "id")
			if closed := errors.Is(err, sessions.ErrClosed); closed != tt.wantClosed {
				t.Errorf("after the cache's Close the delegate's Invalidate = %v; want closed %v", err, tt.wantClosed)
			}
		})
	}
}

func TestCachedBytesAreNeverExposed(t *testing.T) {
	c := newClock()
	st, _ := newTestCache(t, c, newFake(c))
	buf := []byte("original")
	if err := st.Write(t.Context(), "id", time.Time{}, func(w io.Writer) error {
		_, err := w.Write(buf)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXX") // the caller recycles its buffer
	// Other writes recycle the cache's own pooled buffers.
	for i := range 10 {
		put(t, st, fmt.Sprint("other", i), "YYYYYYYY", time.Time{})
	}
	// A writer that breaks the io.Writer rules and scribbles over what it
	// is given, reached through io.Copy's WriteTo path.
	if err := st.Read(t.Context(), "id", func(r io.Reader) error {
		_, err := io.Copy(scribbler{}, r)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := get(t.Context(), st, "id"); err != nil || got != "original" {
		t.Errorf("Read = %q, %v; want %q", got, err, "original")
	}
	if statsOf(st).Hits != 2 {
		t.Error("the reads were not hits; the test would prove nothing")
	}
}

type scribbler struct{}

// Write breaks the io.Writer rules on purpose: the test proves the cache
// survives a writer that scribbles over its buffer.
func (scribbler) Write(p []byte) (int, error) {
	for i := range p {
		//lint:ignore SA1023 the broken writer is the point of the test
		p[i] = 'X'
	}
	return len(p), nil
}

func TestDelegateErrorsPassUnchanged(t *testing.T) {
	c := newClock()
	f := newFake(c)
	f.onRead = func(context.Context) error { return errTest }
	st, _ := newTestCache(t, c, f)
	if _, err := get(t.Context(), st, "id"); err != errTest {
		t.Errorf("Read = %v, want the delegate's error itself", err)
	}
}

func TestDeleteExpiredDropsTheCachesExpiredEntries(t *testing.T) {
	c := newClock()
	f := newFake(c)
	st, s := newTestCache(t, c, capTLS{plain{f}}, WithIdleTimeout(time.Hour))
	put(t, st, "expiring", "v", c.Now().Add(time.Minute))
	put(t, st, "idle", "v", time.Time{})
	c.Advance(59 * time.Minute)
	put(t, st, "live", "v", time.Time{})
	c.Advance(time.Minute)
	if _, err := st.(sessions.Sweeper).DeleteExpired(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := s.cachedIDs(); !slices.Equal(got, []string{"live"}) {
		t.Errorf("after DeleteExpired the cache holds %v, want [live]", got)
	}
}

// TestCacheAgreesWithTheDelegateAfterConcurrentUse hammers a few ids with
// every kind of call at once, in rounds; after each round, once the calls
// have returned, every Read through the cache must give what the delegate
// holds. The delegate pauses at random points to widen the windows in which
// the cache could get the order of events wrong.
func TestCacheAgreesWithTheDelegateAfterConcurrentUse(t *testing.T) {
	m := memory.New(memory.WithSweepInterval(0))
	t.Cleanup(func() { _ = m.Close() })
	st := New(jittery{m}, WithNegativeTTL(time.Hour), WithMaxEntries(3))
	t.Cleanup(func() { _ = st.Close() })
	ids := []string{"a", "b", "c", "d"}
	for round := range 60 {
		var wg sync.WaitGroup
		for g := range 6 {
			spawn(&wg, func() {
				ctx := context.Background()
				for i := range 8 {
					id := ids[rand.IntN(len(ids))]
					var err error
					switch rand.IntN(5) {
					case 0, 1:
						_, err = get(ctx, st, id)
					case 2:
						err = st.Write(ctx, id, time.Now().Add(time.Hour), func(w io.Writer) error {
							_, err := fmt.Fprintf(w, "%d-%d-%d", round, g, i)
							return err
						})
					case 3:
						err = st.Invalidate(ctx, id)
					case 4:
						err = st.(sessions.Toucher).Touch(ctx, id, time.Now().Add(time.Duration(i+1)*time.Minute))
					}
					if err != nil && !errors.Is(err, sessions.ErrNotFound) {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		for _, id := range ids {
			want, wantErr := get(t.Context(), m, id)
			for range 2 { // the second Read may be a hit
				got, err := get(t.Context(), st, id)
				if got != want || errors.Is(err, sessions.ErrNotFound) != errors.Is(wantErr, sessions.ErrNotFound) {
					t.Fatalf("round %d, %s: cache Read = %q, %v; the delegate holds %q, %v", round, id, got, err, want, wantErr)
				}
			}
		}
	}
}

// jittery delays a memory store's calls at random points, between the
// moment a call takes effect and the moment it returns, to widen the
// windows in which a cache could get the order of events wrong.
type jittery struct{ m *memory.Store }

func pause() { time.Sleep(time.Duration(rand.IntN(50)) * time.Microsecond) }

func (j jittery) Write(ctx context.Context, id string, e time.Time, w func(io.Writer) error) error {
	pause()
	err := j.m.Write(ctx, id, e, w)
	pause()
	return err
}

func (j jittery) Read(ctx context.Context, id string, r func(io.Reader) error) error {
	return j.ReadWithExpiry(ctx, id, func(rd io.Reader, _ time.Time) error { return r(rd) })
}

func (j jittery) ReadWithExpiry(ctx context.Context, id string, r func(io.Reader, time.Time) error) error {
	var (
		data []byte
		exp  time.Time
	)
	err := j.m.ReadWithExpiry(ctx, id, func(rd io.Reader, e time.Time) error {
		var err error
		data, err = io.ReadAll(rd)
		exp = e
		return err
	})
	pause()
	if err != nil {
		return err
	}
	return r(bytes.NewReader(data), exp)
}

func (j jittery) Invalidate(ctx context.Context, id string) error {
	pause()
	err := j.m.Invalidate(ctx, id)
	pause()
	return err
}

func (j jittery) Touch(ctx context.Context, id string, e time.Time) error {
	pause()
	err := j.m.Touch(ctx, id, e)
	pause()
	return err
}
