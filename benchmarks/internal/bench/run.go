package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Measurement is what one cell measured on one store.
type Measurement struct {
	// Ops is the number of operations completed in Elapsed, all
	// goroutines together.
	Ops uint64
	// Elapsed is the wall time from the start of the first operation to
	// the end of the last one.
	Elapsed time.Duration
	// OpsPerSec is Ops divided by Elapsed.
	OpsPerSec float64
	// P50, P99, Mean and Max describe the latency of single operations,
	// from a Histogram (P50 and P99 to within about 1.6 %).
	P50, P99, Mean, Max time.Duration
	// AllocsPerOp is the number of heap allocations the process made
	// during the cell (runtime.MemStats.Mallocs), divided by Ops. It
	// includes what the driver's own goroutines (connection pools,
	// sweepers) allocate meanwhile, which is part of the cost of using it.
	AllocsPerOp float64
}

// RunOptions sets how long a cell runs.
type RunOptions struct {
	// Duration is how long operations are measured. It must be positive.
	Duration time.Duration
	// Warmup is how long operations run, unmeasured, before: it fills
	// connection pools, caches and branch predictors. Zero skips it.
	Warmup time.Duration
	// MinOps is the number of operations a cell measures at least, so
	// that a slow store (an fsync per write) still gets a p50 and a
	// throughput worth reporting: goroutines that have not done their
	// share by the end of Duration go on, but for no more than three more
	// Durations. Zero sets no minimum.
	MinOps int
}

// overtime is how many Durations past the first a cell may run to reach
// RunOptions.MinOps.
const overtime = 3

// ctxCheckEvery is how many operations a goroutine runs between checks of
// its context: checking on every operation would add its cost to the
// fastest stores.
const ctxCheckEvery = 64

// errShortRead is wrapped by the error of a Read that returned another
// length than the payload written, so that a broken store cannot look fast.
var errShortRead = errors.New("benchmarks: read returned a wrong length")

// Populator is implemented by a Store that has a faster way than single
// Writes to fill itself before a cell, such as one transaction for every id.
// Population is not measured.
type Populator interface {
	// Populate writes payload under every id, to expire at expires.
	Populate(ctx context.Context, ids []string, payload []byte, expires time.Time) error
}

// Populate writes payload under every id, each entry to expire at
// expires: with the store's Populator when it has one, else with Writes
// from up to 16 goroutines. It returns the first error met.
func Populate(ctx context.Context, st Store, ids []string, payload []byte, expires time.Time) error {
	if p, ok := st.(Populator); ok {
		if err := p.Populate(ctx, ids, payload, expires); err != nil {
			return fmt.Errorf("benchmarks: populate: %w", err)
		}
		return nil
	}
	const goroutines = 16
	var (
		wg       sync.WaitGroup
		next     atomic.Int64
		errOnce  sync.Once
		firstErr error
	)
	for range min(goroutines, len(ids)) {
		w := st.NewWorker()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) || ctx.Err() != nil {
					return
				}
				if err := w.Write(ctx, ids[i], payload, expires); err != nil {
					errOnce.Do(func() { firstErr = err })
					next.Store(int64(len(ids)))
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("benchmarks: populate: %w", firstErr)
	}
	return ctx.Err()
}

// Run measures cell on st, which must hold payload under every id (see
// Populate): cell.Concurrency goroutines, each with its own Worker, issue
// the operations of cell.Workload for opts.Warmup and then opts.Duration.
//
// As in storagetest.Benchmark, operation n of a goroutine uses
// ids[(n*7919) % len(ids)] and is a Write when n%10 < WriteEvery;
// goroutine g starts at n = g*101, so that goroutines do not all contend
// for one id. Every Write sets the expiry an hour after the cell started.
// Every Read's length is checked against the payload.
//
// The latency of an operation is the time between the clock reads that end
// it and the one before, so each operation pays for one clock read (see
// ClockCost) and nothing else of the harness but a few instructions.
//
// Run returns the first error of any operation (the other goroutines stop
// at once), or ctx's error when ctx ends first.
func Run(ctx context.Context, st Store, cell Cell, ids []string, payload []byte, opts RunOptions) (Measurement, error) {
	if opts.Duration <= 0 {
		return Measurement{}, errors.New("benchmarks: Run needs a positive duration")
	}
	if cell.Concurrency < 1 || len(ids) == 0 {
		return Measurement{}, errors.New("benchmarks: Run needs a concurrency of at least 1 and some ids")
	}
	workers := make([]Worker, cell.Concurrency)
	for i := range workers {
		workers[i] = st.NewWorker()
	}
	expires := time.Now().Add(time.Hour)
	if opts.Warmup > 0 {
		if _, _, err := phase(ctx, workers, cell.Workload, ids, payload, expires, opts.Warmup, 0, false); err != nil {
			return Measurement{}, err
		}
	}
	// Garbage from earlier cells and the warmup is collected now rather
	// than during the measurement.
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	share := (opts.MinOps + len(workers) - 1) / len(workers)
	hist, elapsed, err := phase(ctx, workers, cell.Workload, ids, payload, expires, opts.Duration, share, true)
	runtime.ReadMemStats(&after)
	if err != nil {
		return Measurement{}, err
	}
	m := Measurement{
		Ops:     hist.Count(),
		Elapsed: elapsed,
		P50:     hist.Percentile(0.50),
		P99:     hist.Percentile(0.99),
		Mean:    hist.Mean(),
		Max:     hist.Max(),
	}
	if m.Ops > 0 && elapsed > 0 {
		m.OpsPerSec = float64(m.Ops) / elapsed.Seconds()
		m.AllocsPerOp = float64(after.Mallocs-before.Mallocs) / float64(m.Ops)
	}
	return m, nil
}

// phase runs the workers for d (each goroutine longer, up to overtime more
// d, until it has done minOps operations) and returns their merged
// latencies (when record is set) and the wall time they took.
func phase(ctx context.Context, workers []Worker, wl Workload, ids []string, payload []byte,
	expires time.Time, d time.Duration, minOps int, record bool) (*Histogram, time.Duration, error) {
	var (
		wg       sync.WaitGroup
		stop     atomic.Bool
		errOnce  sync.Once
		firstErr error
		start    = make(chan struct{})
		hists    = make([]*Histogram, len(workers))
		// deadline and limit are set before start is closed, and read by
		// the goroutines only after it is: the close orders the two.
		deadline, limit time.Time
	)
	for g, w := range workers {
		if record {
			hists[g] = new(Histogram)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			l := loop{w: w, wl: wl, ids: ids, payload: payload, expires: expires, n: g * 101, h: hists[g], stop: &stop,
				deadline: deadline, limit: limit, minOps: minOps}
			if err := l.run(ctx); err != nil {
				errOnce.Do(func() { firstErr = err })
				stop.Store(true)
			}
		}()
	}
	t0 := time.Now()
	deadline, limit = t0.Add(d), t0.Add((1+overtime)*d)
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	total := new(Histogram)
	for _, h := range hists {
		if h != nil {
			total.Merge(h)
		}
	}
	if firstErr != nil {
		return nil, 0, firstErr
	}
	return total, elapsed, ctx.Err()
}

// loop is one goroutine of a phase.
type loop struct {
	w       Worker
	wl      Workload
	ids     []string
	payload []byte
	expires time.Time
	n       int
	h       *Histogram // nil: do not record
	stop    *atomic.Bool
	// The loop ends at deadline once it has done minOps operations, and
	// at limit in any case.
	deadline, limit time.Time
	minOps          int
}

func (l *loop) run(ctx context.Context) error {
	prev := time.Now()
	for i := 1; ; i++ {
		err := l.op(ctx)
		now := time.Now()
		if err != nil {
			return err
		}
		if l.h != nil {
			l.h.Record(now.Sub(prev))
		}
		prev = now
		if !now.Before(l.deadline) && (i >= l.minOps || !now.Before(l.limit)) {
			return nil
		}
		if i%ctxCheckEvery == 0 {
			if l.stop.Load() {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
}

// op runs the next operation of the workload and returns its error; a
// Read of another length than the payload is an error wrapping
// errShortRead.
func (l *loop) op(ctx context.Context) error {
	id := l.ids[(l.n*7919)%len(l.ids)]
	isWrite := l.n%10 < l.wl.WriteEvery
	l.n++
	if isWrite {
		return l.w.Write(ctx, id, l.payload, l.expires)
	}
	got, err := l.w.Read(ctx, id)
	if err == nil && got != len(l.payload) {
		err = fmt.Errorf("%w: %d bytes, want the %d written", errShortRead, got, len(l.payload))
	}
	return err
}

// ClockCost measures what one read of the clock costs on this machine: the
// harness reads it once per operation, so every measured operation carries
// it. Reports state it so that readers can judge the fastest rows.
func ClockCost() time.Duration {
	const n = 200_000
	t0 := time.Now()
	var t time.Time
	for range n {
		t = time.Now()
	}
	return t.Sub(t0) / n
}
