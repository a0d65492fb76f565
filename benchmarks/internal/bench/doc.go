// Package bench compares sessionkit's storage backends with the
// drivers they are built on and with other libraries' session stores, and
// sessionkit's HTTP middleware with gorilla/sessions and scs, so that users
// can choose a backend per deployment on their own hardware. The
// sessionbench command (cmd/sessionbench) runs it and writes the report;
// the package's go test benchmarks run the same workloads one cell at a
// time.
//
// # Subjects and store kinds
//
// A Subject is one store: a sessionkit backend (memory, directory, cache
// over directory, bolt, redis, postgres, cache over redis), the raw driver
// of its kind doing the same work directly (a map under a sync.RWMutex, os
// temp file and rename, bbolt Put/Get, go-redis GET/SET PX, pgx
// SELECT/upsert), or a peer library's store used through its own API (scs
// memstore, goredisstore and pgxstore, gorilla/sessions' FilesystemStore,
// boj/redistore, gofiber's Redis storage). Peers whose modules the Go
// module proxy refused are listed by UnavailablePeers and named in every
// report. Each subject's Note says what it does differently from the
// others of its kind: scs's memstore, for one, neither copies what it is
// given nor what it returns, and the gorilla-based stores can only be
// driven through requests, so their numbers include their encoding and a
// signed cookie.
//
// # Workloads and cells
//
// The workloads are those of storagetest.Benchmark: Read, Write and Mix90
// (nine reads per write), on payloads of 128 B, 4 KiB and 64 KiB, over
// 1,000 ids per size written beforehand, picked in the same order. Each is
// run at 1, 8 and 64 goroutines. One workload on one size at one
// concurrency is a Cell; Run measures one cell on one Store for a fixed
// time after a warm-up and reports throughput, the p50 and p99 latency of
// single operations (from a Histogram: fixed memory, about 1.6 % error) and
// heap allocations per operation. Every Read's length is checked, so a
// broken store cannot look fast.
//
// Each cell is compared with the raw driver of the subject's kind and with
// the fastest peer of that kind on the same cell (Ratio, Baselines): the
// ratios are throughputs divided, above 1 meaning faster. A cache backend
// has the kind of its delegate, so its ratio shows what the cache buys.
//
// # The HTTP comparison
//
// RunHTTP serves a request that carries a valid session cookie through a
// handler that reads the session, increments a counter in it and saves it,
// with each library: a signed client-side cookie (sessionkit with
// MessageAuthentication, gorilla/sessions' CookieStore), and server-side
// sessions in memory (sessionkit, scs), in a directory (sessionkit,
// gorilla's FilesystemStore) and in Redis (sessionkit, scs, redistore, and
// the bare driver's GET and SET as the floor no library avoids). What a
// library adds is its time per request minus that of a bare handler given
// the same requests, each the fastest of several rounds; HTTPTargets are
// the goals, judged in the report whether met or not.
//
// # Scale
//
// RunScale (sessionbench scale) measures how each backend's cost grows with
// the number of live sessions (1,000, 100,000 and 1,000,000 of 200 bytes by
// default), each count in a fresh store filled by the backend's fastest
// path: its footprint (heap growth, files, disk blocks and inodes, bolt's
// file, free pages and tree depth, Postgres's table, indexes and dead
// tuples, Redis's used_memory), the p50 and p99 of single reads and writes
// as a ratio to the smallest count, a full List, a DeleteExpired with
// nothing expired, and a churn of as many expiring sessions as live ones,
// removed by DeleteExpired in two halves, the first while requests run so
// that their p99 during the sweep can be set against their p99 before it.
// ScaleReport writes its section of results.md and its two charts.
//
// # Honesty
//
// Every operation pays for one clock read (ClockCost, reported), which
// weighs on the fastest in-memory rows only. Allocation counts are the
// process's during the cell, so they include the driver's own goroutines.
// Servers come from storagetest/containers or the addresses in its
// environment variables; a subject whose server is missing is reported as
// skipped with the reason, and a failing cell is reported as failed, never
// dropped. The numbers are only as quiet as the machine: compare ratios
// within one run, not absolute numbers across runs.
package bench
