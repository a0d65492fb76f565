package bench

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// The go test -bench form of the command's matrix: the same subjects,
// workloads, ids and operations (the loop of Run), one sub-benchmark per
// cell, named Subject/Workload/Size/cN. Compare subjects with benchstat,
// or run the command for the ratios. For example:
//
//	go test -run '^$' -bench 'Storage/.*memory/Mix90/4KiB' -benchtime 200ms ./benchmarks
//
// Server backends are in their own benchmarks, which get their server from
// storagetest/containers and skip (or fail, with
// SESSIONKIT_REQUIRE_SERVERS=1) when there is none.

func BenchmarkStorage(b *testing.B) { benchSubjects(b, NoServer, Env{}) }

func BenchmarkStorageRedis(b *testing.B) {
	benchSubjects(b, RedisServer, Env{RedisAddr: containers.Redis(b)})
}

func BenchmarkStoragePostgres(b *testing.B) {
	benchSubjects(b, PostgresServer, Env{PostgresDSN: containers.Postgres(b)})
}

// BenchmarkHTTP runs every contender of the HTTP comparison that needs no
// server, and the bare handler, as sub-benchmarks Scenario/Library.
func BenchmarkHTTP(b *testing.B) { benchHTTP(b, Env{Dir: b.TempDir()}, false) }

// BenchmarkHTTPRedis runs the contenders of the Redis scenario.
func BenchmarkHTTPRedis(b *testing.B) {
	benchHTTP(b, Env{Dir: b.TempDir(), RedisAddr: containers.Redis(b)}, true)
}

func benchSubjects(b *testing.B, server Server, env Env) {
	for _, s := range Subjects() {
		if s.Needs != server {
			continue
		}
		b.Run(s.Slug(), func(b *testing.B) {
			env := env
			env.Dir = b.TempDir()
			st, err := s.Open(b.Context(), env)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				if err := st.Close(); err != nil {
					b.Error(err)
				}
			})
			var mu sync.Mutex
			populated := make(map[string]bool)
			for _, wl := range Workloads {
				for _, sz := range Sizes {
					ids, payload := IDs(sz), Payload(sz.Bytes)
					for _, c := range Concurrencies {
						cell := Cell{Workload: wl, Size: sz, Concurrency: c}
						b.Run(cell.String(), func(b *testing.B) {
							// Populated the first time a cell of the size
							// runs, so that -bench filters skip the rest.
							mu.Lock()
							if !populated[sz.Name] {
								if err := Populate(b.Context(), st, ids, payload, time.Now().Add(time.Hour)); err != nil {
									mu.Unlock()
									b.Fatal(err)
								}
								populated[sz.Name] = true
							}
							mu.Unlock()
							benchCell(b, st, cell, ids, payload)
						})
					}
				}
			}
		})
	}
}

// benchCell runs the operations of cell in a testing.B loop: one goroutine
// for concurrency 1, else b.RunParallel with enough goroutines per
// GOMAXPROCS to reach the concurrency. Besides ns/op and allocs/op, it
// reports the p50 and p99 latency of single operations.
func benchCell(b *testing.B, st Store, cell Cell, ids []string, payload []byte) {
	expires := time.Now().Add(time.Hour)
	newLoop := func(g int) *loop {
		return &loop{w: st.NewWorker(), wl: cell.Workload, ids: ids, payload: payload, expires: expires, n: g * 101}
	}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	var (
		mu    sync.Mutex
		total Histogram
	)
	if cell.Concurrency == 1 {
		l := newLoop(0)
		h := new(Histogram)
		b.ResetTimer()
		prev := time.Now()
		for b.Loop() {
			if err := l.op(b.Context()); err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			h.Record(now.Sub(prev))
			prev = now
		}
		total.Merge(h)
	} else {
		procs := runtime.GOMAXPROCS(0)
		b.SetParallelism((cell.Concurrency + procs - 1) / procs)
		var next atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			l := newLoop(int(next.Add(1)))
			h := new(Histogram)
			prev := time.Now()
			for pb.Next() {
				if err := l.op(b.Context()); err != nil {
					b.Error(err)
					return
				}
				now := time.Now()
				h.Record(now.Sub(prev))
				prev = now
			}
			mu.Lock()
			total.Merge(h)
			mu.Unlock()
		})
	}
	b.ReportMetric(float64(total.Percentile(0.50)), "p50-ns")
	b.ReportMetric(float64(total.Percentile(0.99)), "p99-ns")
}

func benchHTTP(b *testing.B, env Env, redisOnly bool) {
	cs, _, err := httpContenders(b.Context(), env, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := closeContenders(cs); err != nil {
			b.Error(err)
		}
	})
	for _, c := range cs {
		if (c.Scenario == ScenarioRedis) != redisOnly {
			continue
		}
		if err := c.verify(); err != nil {
			b.Fatalf("%s, %s: %v", c.Scenario, c.Library, err)
		}
		b.Run(fmt.Sprintf("%s/%s", c.Scenario, c.Library), func(b *testing.B) {
			w := newDiscardWriter()
			b.ReportAllocs()
			for b.Loop() {
				serve(c.handler, c.request, w)
			}
			if c.misses.Load() > 0 || c.failures.Load() > 0 {
				b.Fatal(errors.New("the handler lost its session during the benchmark"))
			}
		})
	}
	b.Run("bare", func(b *testing.B) {
		w := newDiscardWriter()
		b.ReportAllocs()
		tmpl := cs[0].request
		for b.Loop() {
			serve(bareHandler, tmpl, w)
		}
	})
}
