package cache_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/cache"
)

// BenchmarkHitVsMemory compares a cache hit with a Read of the memory
// backend on the same ids and payloads: the target is cache/... at most
// 1.5x memory/... in the same run. The memory store is the cache's
// delegate, read directly; every id was written through the cache, so every
// cache Read is a hit.
func BenchmarkHitVsMemory(b *testing.B) {
	ctx := context.Background()
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = sessions.NewID()
	}
	for _, size := range []int{128, 4 << 10} {
		payload := make([]byte, size)
		for i := range payload {
			payload[i] = byte(i)
		}
		mem := newMemory(b)
		c := newCache(b, mem)
		expires := time.Now().Add(time.Hour)
		for _, id := range ids {
			if err := c.Write(ctx, id, expires, func(w io.Writer) error {
				_, err := w.Write(payload)
				return err
			}); err != nil {
				b.Fatal(err)
			}
		}
		for _, impl := range []struct {
			name string
			st   sessions.Storage
		}{{"cache", c}, {"memory", mem}} {
			read := func(i int) error {
				return impl.st.Read(ctx, ids[i%len(ids)], func(r io.Reader) error {
					out := make([]byte, size)
					_, err := io.ReadFull(r, out)
					return err
				})
			}
			b.Run(fmt.Sprintf("%dB/Serial/%s", size, impl.name), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if err := read(i); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
			b.Run(fmt.Sprintf("%dB/Parallel/%s", size, impl.name), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						if err := read(i); err != nil {
							b.Error(err)
							return
						}
						i += 7
					}
				})
			})
		}
		if s := must(cache.StatsOf(c)); s.Misses != 0 {
			b.Fatalf("the cache missed %d times; the benchmark must measure hits", s.Misses)
		}
	}
}
