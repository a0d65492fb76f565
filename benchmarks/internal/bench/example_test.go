package bench_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/sessionkit/sessionkit/benchmarks/internal/bench"
)

func ExampleHistogram() {
	var h bench.Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	fmt.Println("p50 within 1.6%:", h.Percentile(0.50) >= 492*time.Microsecond && h.Percentile(0.50) <= 508*time.Microsecond)
	fmt.Println("max:", h.Max())
	// Output:
	// p50 within 1.6%: true
	// max: 1ms
}

func ExampleRatio() {
	// sessionkit/redis did 18,000 ops/s where raw go-redis did 20,000.
	r, ok := bench.Ratio(18_000, 20_000)
	fmt.Printf("%.2f× %v\n", r, ok)
	// A missing baseline gives no ratio, rather than zero or infinity.
	_, ok = bench.Ratio(18_000, 0)
	fmt.Println(ok)
	// Output:
	// 0.90× true
	// false
}

func ExampleSelectSubjects() {
	subjects, err := bench.SelectSubjects(bench.Subjects(), "bolt,scs/memstore")
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range subjects {
		fmt.Println(s.Name, s.Role)
	}
	// Output:
	// scs/memstore peer
	// sessionkit/bolt sessionkit
	// raw/bbolt raw
}

// Run measures one cell on one store; RunMatrix does it for every cell
// and subject, as the sessionbench command does.
func ExampleRun() {
	subjects, _ := bench.SelectSubjects(bench.Subjects(), "sessionkit/memory")
	st, err := subjects[0].Open(context.Background(), bench.Env{Dir: os.TempDir()})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	size := bench.Sizes[1] // 4KiB
	ids, payload := bench.IDs(size), bench.Payload(size.Bytes)
	if err := bench.Populate(context.Background(), st, ids, payload, time.Now().Add(time.Hour)); err != nil {
		log.Fatal(err)
	}
	cell := bench.Cell{Workload: bench.Workloads[2], Size: size, Concurrency: 8}
	m, err := bench.Run(context.Background(), st, cell, ids, payload, bench.RunOptions{Duration: 100 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %s ops/s, p99 %s\n", cell, bench.FormatRate(m.OpsPerSec), bench.FormatDuration(m.P99))
}
