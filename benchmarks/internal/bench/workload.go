package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Workload is an operation mix: of every ten operations, WriteEvery replace
// a whole entry and the rest read one. The names and mixes are those of
// storagetest.Benchmark, so that numbers from either tool compare.
type Workload struct {
	Name       string
	WriteEvery int // Writes per ten operations, 0 to 10
}

// Size is a payload size: the length of every entry a workload writes and
// reads.
type Size struct {
	Name  string
	Bytes int
}

// The standard workloads, payload sizes and concurrency levels, in the
// order reports show them. They are those of storagetest.Benchmark (a small
// session, a typical one and a large one; reads, writes and nine reads per
// write), plus the concurrency levels of a quiet, a busy and an overloaded
// server.
var (
	Workloads = []Workload{
		{Name: "Read", WriteEvery: 0},
		{Name: "Write", WriteEvery: 10},
		{Name: "Mix90", WriteEvery: 1},
	}
	Sizes = []Size{
		{Name: "128B", Bytes: 128},
		{Name: "4KiB", Bytes: 4 << 10},
		{Name: "64KiB", Bytes: 64 << 10},
	}
	Concurrencies = []int{1, 8, 64}
)

// IDsPerSize is the number of ids each payload size is populated with
// before its cells run, as in storagetest.Benchmark.
const IDsPerSize = 1000

// Cell is one measurement of a matrix: a workload, on one payload size, at
// one concurrency (the number of goroutines issuing operations).
type Cell struct {
	Workload    Workload
	Size        Size
	Concurrency int
}

// String returns "Workload/Size/cN", the name of the cell in progress lines
// and in go test -bench names.
func (c Cell) String() string {
	return fmt.Sprintf("%s/%s/c%d", c.Workload.Name, c.Size.Name, c.Concurrency)
}

// IDs returns the ids of size: "bench-<size>-0000" to "bench-<size>-0999",
// the ids storagetest.Benchmark uses. They are valid session ids.
func IDs(size Size) []string {
	ids := make([]string, IDsPerSize)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-%s-%04d", size.Name, i)
	}
	return ids
}

// Payload returns n bytes of printable text that differ from one position
// to the next, so that no store or network layer can compress them to
// nothing.
func Payload(n int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	p := make([]byte, n)
	x := uint32(2463534242)
	for i := range p {
		// xorshift32: cheap, deterministic, and far from periodic within
		// 64 KiB.
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		p[i] = alphabet[x%uint32(len(alphabet))]
	}
	return p
}

// Store is what the workloads drive: one subject (a sessionkit backend, a
// raw driver or a peer library's store) reading and writing whole entries.
//
// A Store is used by several goroutines at once, each through its own
// Worker; Close is called once, after every Worker is done.
type Store interface {
	// NewWorker returns the state of one goroutine issuing operations. It
	// is called before the goroutine starts, so that the allocations it
	// makes (buffers, callbacks) are not counted against the operations.
	NewWorker() Worker
	// Close releases what the Store holds (connections, files, tables,
	// keys) and returns the first error met.
	Close() error
}

// Worker issues the operations of one goroutine. It is used by that
// goroutine only.
type Worker interface {
	// Read reads the whole content of id into the worker's own memory and
	// returns its length, or the store's error. For an API that returns a
	// byte slice, holding the slice counts as read: no copy is added.
	Read(ctx context.Context, id string) (int, error)
	// Write replaces the content of id with payload, to expire at expires.
	// The store must not keep payload after Write returns unless its own
	// API documents that it does (and the subject's note then says so).
	Write(ctx context.Context, id string, payload []byte, expires time.Time) error
}

// ParseWorkloads returns the standard workloads named in the
// comma-separated list s (case-insensitive), in the standard order, or an
// error naming an unknown one. An empty s selects all of them.
func ParseWorkloads(s string) ([]Workload, error) {
	return parseNamed(s, "workload", Workloads, func(w Workload) string { return w.Name })
}

// ParseSizes is ParseWorkloads for the payload sizes.
func ParseSizes(s string) ([]Size, error) {
	return parseNamed(s, "size", Sizes, func(z Size) string { return z.Name })
}

// ParseConcurrencies parses a comma-separated list of positive goroutine
// counts, returned in increasing order without duplicates. An empty s
// selects Concurrencies.
func ParseConcurrencies(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return slices.Clone(Concurrencies), nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(f), "%d", &n); err != nil || n < 1 || n > 4096 ||
			fmt.Sprint(n) != strings.TrimSpace(f) {
			return nil, fmt.Errorf("benchmarks: concurrency %q is not a whole number from 1 to 4096", f)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func parseNamed[T any](s, what string, all []T, name func(T) string) ([]T, error) {
	if strings.TrimSpace(s) == "" {
		return slices.Clone(all), nil
	}
	want := make(map[string]bool)
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		found := false
		for _, v := range all {
			if strings.ToLower(name(v)) == f {
				found = true
			}
		}
		if !found {
			names := make([]string, len(all))
			for i, v := range all {
				names[i] = name(v)
			}
			return nil, fmt.Errorf("benchmarks: unknown %s %q (known: %s)", what, f, strings.Join(names, ", "))
		}
		want[f] = true
	}
	var out []T
	for _, v := range all {
		if want[strings.ToLower(name(v))] {
			out = append(out, v)
		}
	}
	return out, nil
}
