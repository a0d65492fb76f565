package storagetest

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// benchIDs is the number of ids each payload size is pre-populated with.
const benchIDs = 1000

// benchSizes are the payload sizes of the workloads: a small session (a
// user id and a few flags), a typical one, and a large one.
var benchSizes = []struct {
	name string
	size int
}{
	{"128B", 128},
	{"4KiB", 4 << 10},
	{"64KiB", 64 << 10},
}

// benchWorkloads are the operations: writeEvery is how many operations in
// each run of ten are Writes, the rest being Reads.
var benchWorkloads = []struct {
	name       string
	writeEvery int
}{
	{"Read", 0},
	{"Write", 10},
	{"Mix90", 1},
}

// Benchmark runs the standard workloads against a storage made by
// newStorage, so that the numbers of different storages compare (with
// benchstat, say). The sub-benchmarks are named Workload/Size/Mode:
//
//   - Workload is Read (every operation reads a whole entry), Write (every
//     operation replaces a whole entry) or Mix90 (nine reads for each
//     write);
//   - Size is the payload: 128B, 4KiB or 64KiB;
//   - Mode is Serial (one goroutine) or Parallel (b.RunParallel, GOMAXPROCS
//     goroutines; raise it with -cpu).
//
// Operations pick among 1,000 ids per payload size, written before the
// timer starts, with expiries an hour ahead. Each sub-benchmark reports
// bytes per operation (b.SetBytes) and allocations. newStorage is called
// once for the whole run, with b, and must return an empty storage; the
// Reads check the length of what they read and fail the benchmark if a
// Read errs, so that a broken storage cannot look fast.
func Benchmark(b *testing.B, newStorage func(tb testing.TB) sessions.Storage) {
	st := newStorage(b)
	if st == nil {
		b.Fatal("newStorage returned a nil storage")
	}
	var mu sync.Mutex
	populated := make(map[int]bool)
	// populate writes the ids of one payload size the first time a
	// sub-benchmark needs them, so that -bench filters skip the others.
	populate := func(b *testing.B, size int, ids []string, payload []byte) {
		mu.Lock()
		defer mu.Unlock()
		if populated[size] {
			return
		}
		for _, id := range ids {
			if err := put(b.Context(), st, id, time.Now().Add(time.Hour), payload); err != nil {
				b.Fatalf("Write while populating the benchmark ids returned %v", err)
			}
		}
		populated[size] = true
	}
	for _, w := range benchWorkloads {
		b.Run(w.name, func(b *testing.B) {
			for _, sz := range benchSizes {
				ids := make([]string, benchIDs)
				for i := range ids {
					ids[i] = fmt.Sprintf("bench-%s-%04d", sz.name, i)
				}
				payload := value(7, sz.size)
				bw := benchWorkload{st: st, ids: ids, payload: payload, writeEvery: w.writeEvery}
				b.Run(sz.name, func(b *testing.B) {
					b.Run("Serial", func(b *testing.B) {
						populate(b, sz.size, ids, payload)
						bw.serial(b)
					})
					b.Run("Parallel", func(b *testing.B) {
						populate(b, sz.size, ids, payload)
						bw.parallel(b)
					})
				})
			}
		})
	}
}

// benchWorkload is one workload on one payload size.
type benchWorkload struct {
	st         sessions.Storage
	ids        []string
	payload    []byte
	writeEvery int // Writes per ten operations
}

// worker is the per-goroutine state of a workload: its own read buffer and
// position in the id sequence.
type worker struct {
	bw    *benchWorkload
	buf   bytes.Buffer
	n     int
	read  func(io.Reader) error
	write func(io.Writer) error
}

func (bw *benchWorkload) newWorker(start int) *worker {
	w := &worker{bw: bw, n: start}
	// The callbacks are made once so that their allocation is not counted
	// against the storage.
	w.read = func(r io.Reader) error {
		w.buf.Reset()
		_, err := w.buf.ReadFrom(r)
		return err
	}
	w.write = func(wr io.Writer) error {
		_, err := wr.Write(bw.payload)
		return err
	}
	return w
}

// op runs the next operation and returns its error.
func (w *worker) op(b *testing.B) error {
	bw := w.bw
	// A multiplicative step spreads consecutive operations over the ids
	// instead of walking them in order.
	id := bw.ids[(w.n*7919)%len(bw.ids)]
	isWrite := w.n%10 < bw.writeEvery
	w.n++
	if isWrite {
		return bw.st.Write(b.Context(), id, time.Now().Add(time.Hour), w.write)
	}
	if err := bw.st.Read(b.Context(), id, w.read); err != nil {
		return err
	}
	if w.buf.Len() != len(bw.payload) {
		return fmt.Errorf("storagetest: Read returned %d bytes, want the %d written", w.buf.Len(), len(bw.payload))
	}
	return nil
}

func (bw *benchWorkload) serial(b *testing.B) {
	w := bw.newWorker(0)
	b.SetBytes(int64(len(bw.payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := w.op(b); err != nil {
			b.Fatal(err)
		}
	}
}

func (bw *benchWorkload) parallel(b *testing.B) {
	var next atomic.Int64
	b.SetBytes(int64(len(bw.payload)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		// Goroutines start far apart in the id sequence so that they do
		// not all contend for the same id.
		w := bw.newWorker(int(next.Add(1)) * 101)
		for pb.Next() {
			if err := w.op(b); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
