package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Result is the measurement of one subject on one cell, or the reason it
// has none.
type Result struct {
	Subject string
	Kind    string
	Role    Role
	Cell    Cell
	Measurement
	// Err is the failure of the cell, "" when it succeeded. A failed cell
	// has a zero Measurement and is shown as failed, never dropped.
	Err string `json:",omitempty"`
}

// Failed reports whether the cell failed.
func (r Result) Failed() bool { return r.Err != "" }

// Skipped is a subject that did not run at all, with the reason.
type Skipped struct {
	Subject string
	Kind    string
	Reason  string
}

// SubjectInfo describes a subject in a Report.
type SubjectInfo struct {
	Name  string
	Kind  string
	Role  Role
	Note  string
	Needs Server
}

// Info returns the description of s for a Report.
func (s Subject) Info() SubjectInfo {
	return SubjectInfo{Name: s.Name, Kind: s.Kind, Role: s.Role, Note: s.Note, Needs: s.Needs}
}

// Machine describes the hardware and software a run measured.
type Machine struct {
	CPUs       int    // logical CPUs the operating system offers (nproc)
	GOMAXPROCS int    // the Go scheduler's processors during the run
	CPUModel   string // "model name" of /proc/cpuinfo, "" when unknown
	MemoryMiB  int64  // MemTotal of /proc/meminfo, 0 when unknown
	GoVersion  string
	OS, Arch   string
}

// Report is everything a run produced: what ran, where, and the numbers.
type Report struct {
	Date    time.Time
	Command string // the command line that produced the report
	Machine Machine
	// Duration, Warmup and MinOps are the RunOptions of every cell.
	Duration, Warmup time.Duration
	MinOps           int
	// ClockCost is what one clock read costs here; every measured
	// operation includes one.
	ClockCost     time.Duration
	Workloads     []Workload
	Sizes         []Size
	Concurrencies []int
	Subjects      []SubjectInfo // the subjects that ran, in order
	Results       []Result
	Skipped       []Skipped
	Unavailable   []Unavailable
	HTTP          *HTTPReport `json:",omitempty"`
	// Elapsed is the wall time of the whole run.
	Elapsed time.Duration
	// Scale, when not nil, is the latest scale run (sessionbench scale),
	// which WriteMarkdown shows after the summary. It is kept in a JSON
	// file of its own, since the two modes run separately.
	Scale *ScaleReport `json:"-"`
}

// BaselineKey identifies the baselines of a cell on a store kind.
type BaselineKey struct {
	Kind string
	Cell Cell
}

// Baselines are the throughputs a result is compared with: the raw driver
// of its kind on the same cell, and the fastest peer of its kind on the
// same cell. A zero throughput means there is none (no such subject, or it
// failed or was skipped).
type Baselines struct {
	Raw      float64
	BestPeer float64
	PeerName string
}

// ComputeBaselines returns the baselines of every (kind, cell) in results.
// Failed results are ignored.
func ComputeBaselines(results []Result) map[BaselineKey]Baselines {
	out := make(map[BaselineKey]Baselines)
	for _, r := range results {
		if r.Failed() || r.OpsPerSec <= 0 {
			continue
		}
		k := BaselineKey{Kind: r.Kind, Cell: r.Cell}
		b := out[k]
		switch r.Role {
		case Raw:
			b.Raw = max(b.Raw, r.OpsPerSec)
		case Peer:
			if r.OpsPerSec > b.BestPeer {
				b.BestPeer, b.PeerName = r.OpsPerSec, r.Subject
			}
		}
		out[k] = b
	}
	return out
}

// Ratio returns ops divided by base: how many times the throughput of
// base ops is, above 1 faster. It reports false when either is missing (not
// positive, or not a number), so that a missing baseline never shows as
// infinitely fast or as zero.
func Ratio(ops, base float64) (float64, bool) {
	if !(ops > 0) || !(base > 0) || math.IsInf(ops, 0) || math.IsInf(base, 0) {
		return 0, false
	}
	return ops / base, true
}

// VsRaw returns r's throughput divided by the raw driver's (see Ratio):
// false when there is no raw driver's.
func (b Baselines) VsRaw(r Result) (float64, bool) { return Ratio(r.OpsPerSec, b.Raw) }

// VsPeer returns r's throughput divided by the fastest peer's (see
// Ratio): false when no peer has one.
func (b Baselines) VsPeer(r Result) (float64, bool) { return Ratio(r.OpsPerSec, b.BestPeer) }

// find returns the result of subject on cell.
func (rep *Report) find(subject string, cell Cell) (Result, bool) {
	for _, r := range rep.Results {
		if r.Subject == subject && r.Cell == cell {
			return r, true
		}
	}
	return Result{}, false
}

// SummaryCell returns the cell the summary table shows: 4 KiB at
// concurrency 8 when the run has them, else the middle size and
// concurrency of the run.
func (rep *Report) SummaryCell() (Size, int) {
	size := rep.Sizes[len(rep.Sizes)/2]
	for _, s := range rep.Sizes {
		if s.Name == "4KiB" {
			size = s
		}
	}
	c := rep.Concurrencies[len(rep.Concurrencies)/2]
	if slices.Contains(rep.Concurrencies, 8) {
		c = 8
	}
	return size, c
}

// WriteMarkdown writes the whole report as Markdown: the run's context,
// the HTTP comparison, a summary table, the scale section when rep.Scale is
// set, then one table per workload and size with every subject at every
// concurrency.
func (rep *Report) WriteMarkdown(w io.Writer) error {
	p := &mdWriter{w: w}
	p.f("# sessionkit storage benchmarks\n\n")
	rep.writeContext(p)
	if rep.HTTP != nil {
		p.f("## HTTP: what each library adds to a request\n\n")
		rep.HTTP.writeMarkdown(p)
	}
	p.f("## Summary\n\n")
	rep.WriteSummary(p)
	if rep.Scale != nil {
		rep.Scale.WriteMarkdown(p, func(name string) string { return name })
	}
	p.f("## Subjects\n\n")
	rep.writeSubjects(p)
	bases := ComputeBaselines(rep.Results)
	for _, wl := range rep.Workloads {
		for _, sz := range rep.Sizes {
			p.f("## %s, %s\n\n", wl.Name, sz.Name)
			p.f("| backend | role | goroutines | ops/s | p50 | p99 | allocs/op | vs raw | vs best peer | ops measured |\n")
			p.f("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
			for _, s := range rep.Subjects {
				for _, c := range rep.Concurrencies {
					cell := Cell{Workload: wl, Size: sz, Concurrency: c}
					r, ok := rep.find(s.Name, cell)
					if !ok {
						continue
					}
					name := s.Name
					if s.Role == Sessionkit {
						name = "**" + name + "**"
					}
					if r.Failed() {
						p.f("| %s | %s | %d | failed: %s | | | | | | |\n", name, s.Role, c, mdEscape(r.Err))
						continue
					}
					b := bases[BaselineKey{Kind: r.Kind, Cell: cell}]
					p.f("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %d |\n", name, s.Role, c,
						FormatRate(r.OpsPerSec), FormatDuration(r.P50), FormatDuration(r.P99),
						formatAllocs(r.AllocsPerOp), formatRatio(b.VsRaw(r)), formatRatio(b.VsPeer(r)), r.Ops)
				}
			}
			p.f("\n")
		}
	}
	return p.err
}

// WriteSummary writes one table: every subject, each workload at the
// SummaryCell, with ops/s, p99 and the two ratios.
func (rep *Report) WriteSummary(w io.Writer) error {
	p, ok := w.(*mdWriter)
	if !ok {
		p = &mdWriter{w: w}
	}
	size, c := rep.SummaryCell()
	p.f("Every backend at %s, %d goroutines, for each workload. \"vs raw\" is the backend's "+
		"throughput divided by its raw driver's on the same cell, \"vs peer\" divided by the fastest "+
		"peer library of the same store kind (above 1: faster). Latencies are per operation.\n\n", size.Name, c)
	p.f("| backend | kind |")
	for _, wl := range rep.Workloads {
		p.f(" %s ops/s | p99 | vs raw | vs peer |", wl.Name)
	}
	p.f("\n|---|---|%s\n", strings.Repeat("--:|--:|--:|--:|", len(rep.Workloads)))
	bases := ComputeBaselines(rep.Results)
	for _, s := range rep.Subjects {
		name := s.Name
		if s.Role == Sessionkit {
			name = "**" + name + "**"
		}
		p.f("| %s | %s |", name, s.Kind)
		for _, wl := range rep.Workloads {
			cell := Cell{Workload: wl, Size: size, Concurrency: c}
			r, ok := rep.find(s.Name, cell)
			switch {
			case !ok:
				p.f(" — | | | |")
			case r.Failed():
				p.f(" failed | | | |")
			default:
				b := bases[BaselineKey{Kind: r.Kind, Cell: cell}]
				p.f(" %s | %s | %s | %s |", FormatRate(r.OpsPerSec), FormatDuration(r.P99),
					formatRatio(b.VsRaw(r)), formatRatio(b.VsPeer(r)))
			}
		}
		p.f("\n")
	}
	p.f("\n")
	if len(rep.Skipped) > 0 || len(rep.Unavailable) > 0 {
		rep.writeMissing(p)
	}
	return p.err
}

func (rep *Report) writeMissing(p *mdWriter) {
	for _, s := range rep.Skipped {
		p.f("- Skipped **%s** (%s): %s\n", s.Subject, s.Kind, mdEscape(s.Reason))
	}
	for _, u := range rep.Unavailable {
		p.f("- Unavailable peer `%s` (%s): %s\n", u.Module, u.Kind, mdEscape(u.Reason))
	}
	p.f("\n")
}

func (rep *Report) writeContext(p *mdWriter) {
	m := rep.Machine
	p.f("- Date: %s\n", rep.Date.UTC().Format("2006-01-02 15:04 UTC"))
	p.f("- Command: `%s`\n", rep.Command)
	cpu := m.CPUModel
	if cpu == "" {
		cpu = "unknown CPU"
	}
	p.f("- Machine: %d CPUs (nproc), %s, %s memory, %s/%s, %s, GOMAXPROCS %d\n",
		m.CPUs, cpu, formatMiB(m.MemoryMiB), m.OS, m.Arch, m.GoVersion, m.GOMAXPROCS)
	p.f("- Each cell: %s warm-up, then %s measured (longer, up to 4×, for a cell with fewer than %d operations). "+
		"Each operation includes one clock read (%s here). "+
		"Allocations count every heap allocation of the process during the cell, driver goroutines included.\n",
		rep.Warmup, rep.Duration, rep.MinOps, rep.ClockCost)
	p.f("- Workloads: %s; payloads: %s; goroutines: %s; %d ids per payload size, written before the cells.\n",
		joinNames(rep.Workloads, func(w Workload) string { return w.Name }),
		joinNames(rep.Sizes, func(s Size) string { return s.Name }),
		joinNames(rep.Concurrencies, func(c int) string { return fmt.Sprint(c) }), IDsPerSize)
	if rep.Elapsed > 0 {
		p.f("- The run took %s.\n", rep.Elapsed.Round(time.Second))
	}
	p.f("\n")
}

func (rep *Report) writeSubjects(p *mdWriter) {
	p.f("| subject | kind | role | what it does |\n|---|---|---|---|\n")
	for _, s := range rep.Subjects {
		p.f("| %s | %s | %s | %s |\n", s.Name, s.Kind, s.Role, mdEscape(s.Note))
	}
	p.f("\n")
}

// mdWriter writes formatted text and keeps the first error.
type mdWriter struct {
	w   io.Writer
	err error
}

func (p *mdWriter) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *mdWriter) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.w.Write(b)
	p.err = err
	return n, err
}

// mdEscape makes s safe inside a Markdown table cell.
func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

func joinNames[T any](xs []T, name func(T) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = name(x)
	}
	return strings.Join(parts, ", ")
}

// FormatRate formats a number of operations per second with three
// significant digits and an SI suffix: "987", "12.3k", "4.56M".
func FormatRate(v float64) string {
	switch {
	case !(v >= 0) || math.IsInf(v, 0):
		return "—"
	case v >= 999.5e6:
		return sig3(v/1e9) + "G"
	case v >= 999.5e3:
		return sig3(v/1e6) + "M"
	case v >= 999.5:
		return sig3(v/1e3) + "k"
	}
	return sig3(v)
}

// FormatDuration formats d with three significant digits in the largest
// unit that keeps it at least 1: "850ns", "12.3µs", "4.56ms", "1.20s".
func FormatDuration(d time.Duration) string {
	v := float64(d)
	switch {
	case d <= 0:
		return "0"
	case v >= 999.5e6:
		return sig3(v/1e9) + "s"
	case v >= 999.5e3:
		return sig3(v/1e6) + "ms"
	case v >= 999.5:
		return sig3(v/1e3) + "µs"
	}
	return sig3(v) + "ns"
}

// sig3 formats v (at least 0, below 999.5) with three significant digits.
func sig3(v float64) string {
	switch {
	case v >= 99.95:
		return fmt.Sprintf("%.0f", v)
	case v >= 9.995:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func formatRatio(r float64, ok bool) string {
	if !ok {
		return "—"
	}
	if r >= 9.995 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

func formatAllocs(a float64) string {
	if a >= 9.95 {
		return fmt.Sprintf("%.0f", a)
	}
	return fmt.Sprintf("%.1f", a)
}

func formatMiB(mib int64) string {
	if mib <= 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", float64(mib)/1024)
}

// The markers between which WriteReadme replaces a README's results.
const (
	ReadmeBegin = "<!-- sessionbench:begin -->"
	ReadmeEnd   = "<!-- sessionbench:end -->"
)

// WriteReadmeBlock writes what a README shows of the run: its context, the
// HTTP comparison, the summary table and the charts, which chartPath
// names relative to the README.
func (rep *Report) WriteReadmeBlock(w io.Writer, chartPath func(Workload) string) error {
	p := &mdWriter{w: w}
	rep.writeContext(p)
	if rep.HTTP != nil {
		p.f("### HTTP: what each library adds to a request\n\n")
		rep.HTTP.writeMarkdown(p)
	}
	p.f("### Storage: summary\n\n")
	rep.WriteSummary(p)
	p.f("### Storage: charts\n\n")
	for _, wl := range rep.Workloads {
		p.f("![%s](%s)\n\n", wl.Name, chartPath(wl))
	}
	return p.err
}

// ReplaceBlock returns doc with the text between the first ReadmeBegin
// and the next ReadmeEnd replaced by block (markers kept), or an error if
// doc lacks either marker.
func ReplaceBlock(doc, block []byte) ([]byte, error) {
	s := string(doc)
	i := strings.Index(s, ReadmeBegin)
	if i < 0 {
		return nil, fmt.Errorf("benchmarks: no %s marker", ReadmeBegin)
	}
	i += len(ReadmeBegin)
	j := strings.Index(s[i:], ReadmeEnd)
	if j < 0 {
		return nil, fmt.Errorf("benchmarks: no %s marker after %s", ReadmeEnd, ReadmeBegin)
	}
	return []byte(s[:i] + "\n" + strings.TrimSpace(string(block)) + "\n" + s[i+j:]), nil
}
