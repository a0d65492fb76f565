package memory_test

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/memory"
)

// benchIDs are the ids every read benchmark spreads over, in the middleware's
// format.
var benchIDs = func() []string {
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = sessions.NewID()
	}
	return ids
}()

var benchSizes = []int{128, 4 << 10}

// rwMap is the baseline: the least a concurrent map store can do, a single
// RWMutex around a map, with the copy-out any store must make so that
// callers cannot modify what it holds.
type rwMap struct {
	mu sync.RWMutex
	m  map[string][]byte
}

func (m *rwMap) get(id string) ([]byte, bool) {
	m.mu.RLock()
	v, ok := m.m[id]
	if !ok {
		m.mu.RUnlock()
		return nil, false
	}
	out := make([]byte, len(v))
	copy(out, v)
	m.mu.RUnlock()
	return out, true
}

// BenchmarkReadVsMap compares Store.Read with the rwMap baseline on the same
// ids and payloads; the target is memory/... at most 2x map/... in the same
// run. Both deliver the value into a fresh slice of its size, which is the
// copy-out either way; the Store also checks the id, the context and the
// expiry. checkid/... measures sessions.CheckID alone, to show how much of
// the difference is the id check that the Storage contract requires.
func BenchmarkReadVsMap(b *testing.B) {
	ctx := context.Background()
	for _, size := range benchSizes {
		payload := make([]byte, size)
		for i := range payload {
			payload[i] = byte(i)
		}
		store := memory.New(memory.WithSweepInterval(0))
		b.Cleanup(func() { _ = store.Close() })
		base := &rwMap{m: make(map[string][]byte)}
		expires := time.Now().Add(time.Hour)
		for _, id := range benchIDs {
			err := store.Write(ctx, id, expires, func(w io.Writer) error {
				_, err := w.Write(payload)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			base.m[id] = append([]byte(nil), payload...)
		}
		readStore := func(i int) error {
			return store.Read(ctx, benchIDs[i%len(benchIDs)], func(r io.Reader) error {
				out := make([]byte, size)
				_, err := io.ReadFull(r, out)
				return err
			})
		}
		readMap := func(i int) error {
			if _, ok := base.get(benchIDs[i%len(benchIDs)]); !ok {
				return sessions.ErrNotFound
			}
			return nil
		}
		// checkid is the share of sessions.CheckID, which every Storage
		// must run first and the baseline does not, measured alone.
		checkID := func(i int) error { return sessions.CheckID(benchIDs[i%len(benchIDs)]) }
		for _, impl := range []struct {
			name string
			read func(i int) error
		}{{"memory", readStore}, {"map", readMap}, {"checkid", checkID}} {
			b.Run(fmt.Sprintf("%dB/Serial/%s", size, impl.name), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if err := impl.read(i); err != nil {
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
						if err := impl.read(i); err != nil {
							b.Error(err)
							return
						}
						i += 7
					}
				})
			})
		}
	}
}
