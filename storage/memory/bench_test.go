package memory_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"runtime"
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

// BenchmarkReadIndexGrowth times ReadIndex of one index key with 10
// sessions, first with 1,000 other sessions in the Store and then, in the
// same run, with 1,000,000: the others are filed under index keys of their
// own, 10 sessions each, as other users' sessions are. It reports both
// costs (ns-1k/op, ns-1M/op) and their ratio (x-1M/1k), whose goal is 1: a
// ReadIndex costs what its index key's entries cost, not what the Store
// holds.
//
// Each cost is timed by hand in the same run: the fastest of 15 batches of
// 1,000 calls, after a warm-up batch, since other work on the machine only
// ever adds time to a batch. The benchmark's own loop (ns/op) then runs
// ReadIndex with 1,000,000 others for the bench time; it is the mean over
// that time, and on a loaded machine it is mostly the load.
func BenchmarkReadIndexGrowth(b *testing.B) {
	ctx := context.Background()
	store := memory.New(memory.WithSweepInterval(0))
	b.Cleanup(func() { _ = store.Close() })
	expires := time.Now().Add(time.Hour)
	payload := make([]byte, 64)
	write := func(w io.Writer) error { _, err := w.Write(payload); return err }
	user := indexKey("user")
	for range 10 {
		if err := store.CreateIndexed(ctx, sessions.NewID(), user, expires, write); err != nil {
			b.Fatal(err)
		}
	}
	others := 0
	grow := func(to int) {
		for ; others < to; others++ {
			if err := store.CreateIndexed(ctx, fmt.Sprintf("other-%07d", others), indexKey(fmt.Sprint("other", others/10)), expires, write); err != nil {
				b.Fatal(err)
			}
		}
	}
	listed := 0
	readIndex := func() {
		listed = 0
		err := store.ReadIndex(ctx, user, func(_ string, _ time.Time, r io.Reader) error {
			listed++
			_, err := io.Copy(io.Discard, r)
			return err
		})
		if err != nil || listed != 10 {
			b.Fatalf("ReadIndex listed %d sessions and returned %v, want 10 and nil", listed, err)
		}
	}
	measure := func() float64 {
		const batches, calls = 15, 1000
		for range calls {
			readIndex()
		}
		fastest := 0.0
		for i := range batches {
			start := time.Now()
			for range calls {
				readIndex()
			}
			if ns := float64(time.Since(start).Nanoseconds()) / calls; i == 0 || ns < fastest {
				fastest = ns
			}
		}
		return fastest
	}
	grow(1_000)
	small := measure()
	grow(1_000_000)
	runtime.GC() // the fill's garbage is not ReadIndex's cost
	large := measure()
	for b.Loop() {
		readIndex()
	}
	b.ReportMetric(small, "ns-1k/op")
	b.ReportMetric(large, "ns-1M/op")
	b.ReportMetric(large/small, "x-1M/1k")
}

// indexKey is an index key of the middleware's form: 43 characters, a
// SHA-256 in unpadded base64url.
func indexKey(name string) string {
	sum := sha256.Sum256([]byte(name))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
