package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

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
