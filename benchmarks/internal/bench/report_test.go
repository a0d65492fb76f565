package bench

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

func TestRatio(t *testing.T) {
	tests := []struct {
		name      string
		ops, base float64
		want      float64
		ok        bool
	}{
		{"faster", 300, 100, 3, true},
		{"slower", 50, 200, 0.25, true},
		{"equal", 7, 7, 1, true},
		{"no baseline", 100, 0, 0, false},
		{"negative baseline", 100, -5, 0, false},
		{"no throughput", 0, 100, 0, false},
		{"NaN", math.NaN(), 100, 0, false},
		{"infinite baseline", 100, math.Inf(1), 0, false},
		{"infinite throughput", math.Inf(1), 100, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Ratio(tt.ops, tt.base)
			if ok != tt.ok || (ok && math.Abs(got-tt.want) > 1e-12) {
				t.Errorf("Ratio(%v, %v) = %v, %v; want %v, %v", tt.ops, tt.base, got, ok, tt.want, tt.ok)
			}
		})
	}
}

var (
	cellA = Cell{Workload: Workloads[0], Size: Sizes[1], Concurrency: 8}
	cellB = Cell{Workload: Workloads[2], Size: Sizes[1], Concurrency: 8}
)

func res(subject, kind string, role Role, cell Cell, ops float64, err string) Result {
	return Result{Subject: subject, Kind: kind, Role: role, Cell: cell,
		Measurement: Measurement{OpsPerSec: ops, P50: time.Microsecond, P99: 3 * time.Microsecond}, Err: err}
}

func TestBaselinesPickTheRawDriverAndTheFastestWorkingPeer(t *testing.T) {
	results := []Result{
		res("sessionkit/redis", KindRedis, Sessionkit, cellA, 900, ""),
		res("raw/go-redis", KindRedis, Raw, cellA, 1000, ""),
		res("peer/slow", KindRedis, Peer, cellA, 400, ""),
		res("peer/fast", KindRedis, Peer, cellA, 600, ""),
		// A failed peer must not become the best: its zero (or a stale
		// number) is not a measurement.
		res("peer/broken", KindRedis, Peer, cellA, 5000, "connection refused"),
		// Another cell and another kind must not leak into cellA's
		// redis baselines.
		res("peer/other-cell", KindRedis, Peer, cellB, 9000, ""),
		res("raw/map", KindMemory, Raw, cellA, 1e6, ""),
	}
	bases := ComputeBaselines(results)
	b := bases[BaselineKey{Kind: KindRedis, Cell: cellA}]
	if b.Raw != 1000 || b.BestPeer != 600 || b.PeerName != "peer/fast" {
		t.Fatalf("baselines = %+v, want raw 1000 and best peer 600 (peer/fast)", b)
	}
	if r, ok := b.VsRaw(results[0]); !ok || r != 0.9 {
		t.Errorf("VsRaw = %v, %v; want 0.9", r, ok)
	}
	if r, ok := b.VsPeer(results[0]); !ok || r != 1.5 {
		t.Errorf("VsPeer = %v, %v; want 1.5", r, ok)
	}
	if m := bases[BaselineKey{Kind: KindMemory, Cell: cellA}]; m.BestPeer != 0 {
		t.Errorf("memory has no peer in the results, yet BestPeer = %v", m.BestPeer)
	}
	if _, ok := (Baselines{}).VsPeer(results[0]); ok {
		t.Error("a missing peer baseline gave a ratio")
	}
}

func testReport() *Report {
	return &Report{
		Date:          time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
		Command:       "go run ./benchmarks/cmd/sessionbench -quick",
		Machine:       Machine{CPUs: 2, GOMAXPROCS: 2, CPUModel: "Test CPU", MemoryMiB: 4096, GoVersion: "go1.26", OS: "linux", Arch: "amd64"},
		Duration:      time.Second,
		Warmup:        100 * time.Millisecond,
		ClockCost:     25 * time.Nanosecond,
		Workloads:     []Workload{Workloads[0], Workloads[2]},
		Sizes:         []Size{Sizes[1]},
		Concurrencies: []int{8},
		Subjects: []SubjectInfo{
			{Name: "sessionkit/memory", Kind: KindMemory, Role: Sessionkit, Note: "memory.New()"},
			{Name: "raw/map+RWMutex", Kind: KindMemory, Role: Raw, Note: "a | pipe"},
			{Name: "sessionkit/bolt", Kind: KindBolt, Role: Sessionkit},
		},
		Results: []Result{
			res("sessionkit/memory", KindMemory, Sessionkit, cellA, 2e6, ""),
			res("raw/map+RWMutex", KindMemory, Raw, cellA, 4e6, ""),
			res("sessionkit/memory", KindMemory, Sessionkit, cellB, 0, "boom | bang"),
			res("sessionkit/bolt", KindBolt, Sessionkit, cellA, 5e5, ""),
			res("sessionkit/bolt", KindBolt, Sessionkit, cellB, 1234, ""),
		},
		Skipped:     []Skipped{{Subject: "sessionkit/redis", Kind: KindRedis, Reason: "no Redis: engine down"}},
		Unavailable: []Unavailable{{Module: "example.com/peer", Kind: KindBolt, Reason: "403"}},
	}
}

func TestMarkdownShowsRatiosFailuresAndGaps(t *testing.T) {
	var buf bytes.Buffer
	if err := testReport().WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	checks := []struct{ what, want string }{
		{"the machine", "2 CPUs (nproc), Test CPU, 4.0 GiB memory"},
		{"the command", "`go run ./benchmarks/cmd/sessionbench -quick`"},
		{"the ratio to raw", "| **sessionkit/memory** | sessionkit | 8 | 2.00M | 1.00µs | 3.00µs | 0.0 | 0.50× | — |"},
		{"a failure, escaped", `failed: boom \| bang`},
		{"a missing raw baseline", "| **sessionkit/bolt** | sessionkit | 8 | 500k | 1.00µs | 3.00µs | 0.0 | — | — |"},
		{"the skipped backend", "Skipped **sessionkit/redis** (redis): no Redis: engine down"},
		{"the unavailable peer", "Unavailable peer `example.com/peer` (bolt): 403"},
		{"an escaped note", `a \| pipe`},
	}
	for _, c := range checks {
		if !strings.Contains(md, c.want) {
			t.Errorf("the Markdown lacks %s: %q\n%s", c.what, c.want, md)
		}
	}
}

func TestReplaceBlock(t *testing.T) {
	doc := "# Title\n\nintro\n" + ReadmeBegin + "\nold table\n" + ReadmeEnd + "\nfooter\n"
	got, err := ReplaceBlock([]byte(doc), []byte("\nnew table\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "# Title\n\nintro\n" + ReadmeBegin + "\nnew table\n" + ReadmeEnd + "\nfooter\n"
	if string(got) != want {
		t.Errorf("ReplaceBlock =\n%s\nwant\n%s", got, want)
	}
	for _, bad := range []string{"no markers", ReadmeEnd + " before " + ReadmeBegin, ReadmeBegin + " only"} {
		if _, err := ReplaceBlock([]byte(bad), []byte("x")); err == nil {
			t.Errorf("ReplaceBlock(%q) succeeded, want an error", bad)
		}
	}
}

func TestFormat(t *testing.T) {
	rates := map[float64]string{0: "0.00", 7.5: "7.50", 999.4: "999", 999.6: "1.00k", 12345: "12.3k", 4.56e6: "4.56M", 2e9: "2.00G"}
	for v, want := range rates {
		if got := FormatRate(v); got != want {
			t.Errorf("FormatRate(%v) = %q, want %q", v, got, want)
		}
	}
	durs := map[time.Duration]string{0: "0", 85: "85.0ns", 999: "999ns", 1000: "1.00µs", 12345: "12.3µs",
		4560 * time.Microsecond: "4.56ms", 1200 * time.Millisecond: "1.20s"}
	for d, want := range durs {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
