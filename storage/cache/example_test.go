package cache_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/cache"
	"github.com/sessionkit/sessionkit/storage/directory"
	"github.com/sessionkit/sessionkit/storage/memory"
)

func write(s sessions.Storage, id, value string, expires time.Time) {
	err := s.Write(context.Background(), id, expires, func(w io.Writer) error {
		_, err := io.WriteString(w, value)
		return err
	})
	if err != nil {
		panic(err)
	}
}

func read(s sessions.Storage, id string) string {
	var got string
	err := s.Read(context.Background(), id, func(r io.Reader) error {
		b, err := io.ReadAll(r)
		got = string(b)
		return err
	})
	if err != nil {
		return err.Error()
	}
	return got
}

// A cached directory storage: what Ktor calls
// directorySessionStorage(root, cached = true).
func ExampleNew() {
	root, err := os.MkdirTemp("", "sessions")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	dir, err := directory.New(root)
	if err != nil {
		panic(err)
	}
	defer dir.Close()
	store := cache.New(dir)
	defer store.Close()

	write(store, "session-1", `{"user":"ann"}`, time.Now().Add(time.Hour))
	fmt.Println(read(store, "session-1")) // served from memory
	fmt.Println(read(store, "session-1"))

	st, _ := cache.StatsOf(store)
	fmt.Printf("hits %d, misses %d, entries %d\n", st.Hits, st.Misses, st.Entries)

	// The Store has the delegate's capabilities: a directory can touch,
	// list and sweep, so the cache can too.
	_, ok := store.(sessions.Toucher)
	fmt.Println("toucher:", ok)
	// Output:
	// {"user":"ann"}
	// {"user":"ann"}
	// hits 2, misses 0, entries 1
	// toucher: true
}

// Misses on ids the delegate does not have are remembered for a short time,
// so repeated forged or stale cookies do not reach the delegate each time.
func ExampleWithNegativeTTL() {
	delegate := memory.New()
	defer delegate.Close()
	store := cache.New(delegate, cache.WithNegativeTTL(10*time.Second))
	defer store.Close()

	fmt.Println(read(store, "forged"))
	fmt.Println(read(store, "forged"))
	st, _ := cache.StatsOf(store)
	fmt.Printf("delegate reads %d, remembered not-found %d\n", st.Loads, st.NegativeHits)
	// Output:
	// sessions: not found
	// sessionkit/cache: a remembered miss: sessions: not found
	// delegate reads 1, remembered not-found 1
}

// The bounds evict the least recently used entries; the delegate keeps
// everything.
func ExampleWithMaxEntries() {
	delegate := memory.New()
	defer delegate.Close()
	store := cache.New(delegate, cache.WithMaxEntries(2))
	defer store.Close()

	write(store, "a", "A", time.Time{})
	write(store, "b", "B", time.Time{})
	read(store, "a")                    // a is now more recently used than b
	write(store, "c", "C", time.Time{}) // evicts b

	st, _ := cache.StatsOf(store)
	fmt.Printf("entries %d, evictions %d\n", st.Entries, st.Evictions)
	fmt.Println(read(store, "b")) // a miss, loaded from the delegate
	// Output:
	// entries 2, evictions 1
	// B
}
