package bench

import (
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/storage/bolt"
	"github.com/sessionkit/sessionkit/storage/cache"
)

// TestCacheOverBoltKeepsLoadedValuesAfterReopen: a cache in front of a bolt
// Store that was just reopened, as after a restart, caches what it loads,
// because bolt reports expiries (sessions.ExpiryReader). n sessions, each
// read ten times: the first read of each misses and loads, the other nine
// hit. It lives here because backends never import each other.
func TestCacheOverBoltKeepsLoadedValuesAfterReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	const n, reads = 100, 10
	ctx := t.Context()
	before, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := before.Write(ctx, fmt.Sprintf("s-%03d", i), time.Now().Add(time.Hour), func(w io.Writer) error {
			_, err := fmt.Fprint(w, i)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := before.Close(); err != nil {
		t.Fatal(err)
	}

	after, err := bolt.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	c := cache.New(after, cache.WithCloseDelegate(true))
	defer c.Close()
	for range reads {
		for i := range n {
			var got []byte
			err := c.Read(ctx, fmt.Sprintf("s-%03d", i), func(r io.Reader) error {
				var err error
				got, err = io.ReadAll(r)
				return err
			})
			if err != nil || string(got) != fmt.Sprint(i) {
				t.Fatalf("Read through the cache = %q, %v; want %q", got, err, fmt.Sprint(i))
			}
		}
	}
	st, _ := cache.StatsOf(c)
	ratio := float64(st.Hits) / float64(st.Hits+st.Misses)
	t.Logf("cache over bolt after a reopen: %d hits, %d misses, %d loads: hit ratio %.2f", st.Hits, st.Misses, st.Loads, ratio)
	if st.Hits != n*(reads-1) || st.Misses != n {
		t.Errorf("cache over bolt after a reopen: %d hits and %d misses for %d reads of %d sessions; want %d hits and %d misses (every value loaded once is kept)", st.Hits, st.Misses, n*reads, n, n*(reads-1), n)
	}
}
