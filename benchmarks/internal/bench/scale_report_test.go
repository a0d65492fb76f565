package bench

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func us(n float64) time.Duration { return time.Duration(n * float64(time.Microsecond)) }

// scaleFixture is a run of two backends at three counts with round
// numbers: memory grows (1.5× and 3× on read p99 at 100k and 1M), bolt
// stays flat; bolt's smallest step failed before its latencies.
func scaleFixture() *ScaleReport {
	lat := func(readP50, readP99, writeP50, writeP99 float64) (Percentiles, Percentiles) {
		return Percentiles{P50: us(readP50), P99: us(readP99), Ops: 1000}, Percentiles{P50: us(writeP50), P99: us(writeP99), Ops: 1000}
	}
	mem := func(n int, heapPer int64, r, w [2]float64, sweepOps uint64) ScaleResult {
		res := ScaleResult{Subject: "sessionkit/memory", Kind: KindMemory, N: n, Fill: time.Second,
			Empty: Footprint{HeapBytes: 1 << 20}, Live: Footprint{HeapBytes: 1<<20 + heapPer*int64(n)},
			List: Timed{Elapsed: time.Duration(n) * 20, Count: n}, IdleSweep: &Timed{Elapsed: time.Millisecond},
			Sweep: &SweepUnderLoad{Expired: n / 2, Sweep: Timed{Elapsed: 100 * time.Millisecond, Count: n / 2},
				Before: Percentiles{P99: us(10), Ops: 5000}, During: Percentiles{P99: us(25), Ops: sweepOps}},
			ChurnSweep: &Timed{Elapsed: time.Millisecond, Count: n - n/2}}
		res.Read, res.Write = lat(r[0], r[1], w[0], w[1])
		return res
	}
	bolt := func(n int, fileBytes int64) ScaleResult {
		res := ScaleResult{Subject: "sessionkit/bolt", Kind: KindBolt, N: n, Fill: time.Second,
			Empty: Footprint{FileBytes: 32 << 10}, Live: Footprint{FileBytes: 32<<10 + fileBytes, TreeDepth: 3, PageSize: 4096},
			AfterChurn: &Footprint{FileBytes: 2 * fileBytes, FreePages: 10, PageSize: 4096}}
		res.Read, res.Write = lat(2, 20, 1000, 5000)
		return res
	}
	failed := ScaleResult{Subject: "sessionkit/bolt", Kind: KindBolt, N: 1000, Err: "fill: disk full"}
	return &ScaleReport{
		Date: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Command: "go run ./benchmarks/cmd/sessionbench scale -n 1k,100k",
		Counts: []int{1000, 100_000, 1_000_000}, PayloadBytes: 200, Concurrency: 4, Rounds: 3, Duration: time.Second,
		ExpireAfter: time.Second, LoadStart: LoadAverage{1.5, 2, 3}, LoadEnd: LoadAverage{2, 2, 3},
		Subjects: []SubjectInfo{
			{Name: "sessionkit/memory", Kind: KindMemory, Note: "memory.New()"},
			{Name: "sessionkit/bolt", Kind: KindBolt, Note: "bolt.New(db)"},
		},
		Results: []ScaleResult{
			mem(1000, 400, [2]float64{1, 10}, [2]float64{2, 20}, 50),
			mem(100_000, 380, [2]float64{1.1, 15}, [2]float64{2.2, 20}, 5000),
			mem(1_000_000, 390, [2]float64{1.2, 30}, [2]float64{2, 22}, 5000),
			failed,
			bolt(100_000, 40_000_000),
			bolt(1_000_000, 400_000_000),
		},
	}
}

func TestScaleRatiosDivideByTheSmallestCountWithLatencies(t *testing.T) {
	rep := scaleFixture()
	cases := []struct {
		subject string
		n       int
		want    LatencyRatios
		ok      bool
	}{
		{"sessionkit/memory", 1000, LatencyRatios{Base: 1000, ReadP50: 1, ReadP99: 1, WriteP50: 1, WriteP99: 1}, true},
		{"sessionkit/memory", 100_000, LatencyRatios{Base: 1000, ReadP50: 1.1, ReadP99: 1.5, WriteP50: 1.1, WriteP99: 1}, true},
		{"sessionkit/memory", 1_000_000, LatencyRatios{Base: 1000, ReadP50: 1.2, ReadP99: 3, WriteP50: 1, WriteP99: 1.1}, true},
		// Bolt's 1,000 failed before its latencies: 100,000 is the base.
		{"sessionkit/bolt", 1000, LatencyRatios{}, false},
		{"sessionkit/bolt", 1_000_000, LatencyRatios{Base: 100_000, ReadP50: 1, ReadP99: 1, WriteP50: 1, WriteP99: 1}, true},
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	for _, tc := range cases {
		r, _ := rep.find(tc.subject, tc.n)
		got, ok := rep.Ratios(r)
		if ok != tc.ok || got.Base != tc.want.Base || !near(got.ReadP50, tc.want.ReadP50) || !near(got.ReadP99, tc.want.ReadP99) ||
			!near(got.WriteP50, tc.want.WriteP50) || !near(got.WriteP99, tc.want.WriteP99) {
			t.Errorf("Ratios(%s at %d) = %+v, %v; want %+v, %v", tc.subject, tc.n, got, ok, tc.want, tc.ok)
		}
	}
	for _, tc := range []struct {
		l    LatencyRatios
		flat bool
	}{
		{LatencyRatios{ReadP50: 1.2, ReadP99: 1.2, WriteP50: 1, WriteP99: 0.5}, true},
		// Shown as 1.20×: the percentiles are not good to better than that.
		{LatencyRatios{ReadP50: 1, ReadP99: 1.2049, WriteP50: 1, WriteP99: 1}, true},
		{LatencyRatios{ReadP50: 1, ReadP99: 1, WriteP50: 1, WriteP99: 1.21}, false},
	} {
		if got := tc.l.Flat(); got != tc.flat {
			t.Errorf("%+v.Flat() = %v, want %v: the largest ratio, as shown to two decimals, at most 1.2×", tc.l, got, tc.flat)
		}
	}
}

func TestScaleGoalsListEveryRatioBesideItsGoal(t *testing.T) {
	goals := scaleFixture().Goals()
	// Memory: 4 latency ratios at 100k and at 1M, and 3 sweeps; bolt: 4
	// latency ratios at 1M and no sweep.
	if len(goals) != 4+4+3+4 {
		t.Fatalf("%d goals, want 15: %+v", len(goals), goals)
	}
	count := func(pred func(Goal) bool) int {
		n := 0
		for _, g := range goals {
			if pred(g) {
				n++
			}
		}
		return n
	}
	if n := count(func(g Goal) bool { return !g.Judged }); n != 1 {
		t.Errorf("%d goals not judged, want 1: the sweep at 1,000 with 50 requests during it", n)
	}
	// Missed: memory read p99 at 100k (1.5×) and 1M (3×), and the two
	// judged sweeps (25µs against 10µs: 2.5×).
	missed := count(func(g Goal) bool { return g.Judged && !g.Met })
	if missed != 4 {
		t.Errorf("%d goals missed, want 4: %+v", missed, goals)
	}
	if n := count(func(g Goal) bool { return g.What == "read p50 vs 1,000" && g.N == 1_000_000 && g.Met }); n != 1 {
		t.Error("a ratio of exactly 1.2× is not met: the goal is at most 1.2×")
	}
}

func TestPerSessionMeasuresEachMediumsGrowth(t *testing.T) {
	empty := Footprint{HeapBytes: 100, DiskBytes: 4096, FileBytes: 32768, TableBytes: 8192, IndexBytes: 16384, UsedMemory: 1000}
	f := Footprint{HeapBytes: 100 + 4000, DiskBytes: 4096 + 8000, FileBytes: 32768 + 6000, TableBytes: 8192 + 3000,
		IndexBytes: 16384 + 1000, UsedMemory: 1000 + 5000}
	for _, tc := range []struct {
		kind string
		n    int
		want float64
		ok   bool
	}{
		{KindMemory, 10, 400, true},
		{KindDirectory, 10, 800, true},
		{KindBolt, 10, 600, true},
		{KindPostgres, 10, 400, true},
		{KindRedis, 10, 500, true},
		{"cache", 10, 0, false},
		{KindMemory, 0, 0, false},
	} {
		got, ok := PerSession(tc.kind, empty, f, tc.n)
		if got != tc.want || ok != tc.ok {
			t.Errorf("PerSession(%s, n=%d) = %v, %v; want %v, %v", tc.kind, tc.n, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseCounts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
	}{
		{"", DefaultScaleCounts},
		{"1k,100k,1M", []int{1000, 100_000, 1_000_000}},
		{"10000, 1000,1000", []int{1000, 10000}},
		{"1_000_000", []int{1_000_000}},
	} {
		got, err := ParseCounts(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseCounts(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"0", "-5", "1.5k", "ten", "1k,", "101M"} {
		if got, err := ParseCounts(bad); err == nil {
			t.Errorf("ParseCounts(%q) = %v, want an error", bad, got)
		}
	}
}

func TestFormatCountSeparatesThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100_000: "100,000", 1_000_000: "1,000,000", -1234: "-1,234"} {
		if got := FormatCount(n); got != want {
			t.Errorf("FormatCount(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseLoadAverage(t *testing.T) {
	got, err := parseLoadAverage("13.93 13.60 11.24 9/1203 4242\n")
	if err != nil || got != (LoadAverage{13.93, 13.60, 11.24}) || got.String() != "13.93 13.60 11.24" {
		t.Errorf("parseLoadAverage = %+v (%s), %v", got, got, err)
	}
	if _, err := parseLoadAverage("1.0 x"); err == nil {
		t.Error("parseLoadAverage accepted two fields")
	}
	if (LoadAverage{}).String() != "unknown" {
		t.Error("the zero LoadAverage does not read as unknown")
	}
}

func TestScaleMarkdownShowsEveryTableAndWhyNotFlat(t *testing.T) {
	var b bytes.Buffer
	if err := scaleFixture().WriteMarkdown(&b, func(name string) string { return "charts/" + name }); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"## Scale: how cost grows with the number of sessions",
		"Load average (1, 5, 15 min): 1.50 2.00 3.00 at the start",
		"| sessionkit/memory | Go heap growth | 400 B | 380 B | 390 B |",
		"| sessionkit/bolt | file growth | failed | 400 B | 400 B |",
		"| sessionkit/memory | 1,000,000 | 1.20µs | 30.0µs | 2.00µs | 22.0µs | 1.20× | **3.00×** | 1.00× | 1.10× |",
		"- **sessionkit/memory** is not flat (up to 3.00×). What grows is the working set",
		"- Flat (every ratio at most 1.2×): sessionkit/bolt.",
		"| sessionkit/bolt | 1,000 | failed: fill: disk full |",
		"| 25.0µs | **2.50×** | 5,000 |",
		"2.50× (too few requests)",
		"10 of 14 judged ratios meet their goal.",
		"not judged: the sweep took 100ms, long enough for 50 requests only (200 needed)",
		"![p99 latency ratio against the number of sessions](charts/scale-latency.svg)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the scale section lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "Not run here") {
		t.Error("the section says counts were not run, but the fixture ran every default count")
	}
	rep := scaleFixture()
	rep.Counts = []int{1000, 100_000}
	b.Reset()
	rep.WriteMarkdown(&b, func(name string) string { return name })
	if !strings.Contains(b.String(), "**Not run here: 1,000,000 sessions**") {
		t.Errorf("a run without 1,000,000 does not say so:\n%s", b.String())
	}
}

// results.md is rewritten from the JSON files of both modes, so a scale
// report read back from its JSON must render exactly as the one written.
func TestScaleReportSurvivesItsJSON(t *testing.T) {
	rep := scaleFixture()
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back ScaleReport
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	rep.WriteMarkdown(&a, func(s string) string { return s })
	back.WriteMarkdown(&b, func(s string) string { return s })
	if a.String() != b.String() {
		t.Errorf("the report read back from JSON renders differently:\n%s\n---\n%s", a.String(), b.String())
	}
}

func TestScaleChartsAreWellFormedAndComplete(t *testing.T) {
	rep := scaleFixture()
	for _, tc := range []struct {
		name  string
		write func(io.Writer) error
		class string
		want  int
	}{
		// Two panels, each with a point per result that has latencies
		// (3 memory, 2 bolt).
		{"latency", rep.WriteLatencySVG, `class="point"`, 2 * 5},
		// A bar per count and backend with a footprint (bolt's 1,000
		// failed).
		{"bytes", rep.WriteBytesSVG, `class="bar"`, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			d := xml.NewDecoder(bytes.NewReader(b.Bytes()))
			for {
				if _, err := d.Token(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("not well-formed: %v\n%s", err, b.String())
				}
			}
			if got := strings.Count(b.String(), tc.class); got != tc.want {
				t.Errorf("%d elements %s, want %d", got, tc.class, tc.want)
			}
		})
	}
}
