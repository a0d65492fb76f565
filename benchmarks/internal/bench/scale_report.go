package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// The charts of a scale report, written beside results.md.
const (
	ScaleLatencyChart = "scale-latency.svg"
	ScaleBytesChart   = "scale-bytes.svg"
)

// LatencyRatios are the read and write p50 and p99 at one count divided
// by the same percentiles at the base count (the smallest count of the
// subject that has latencies) in the same run.
type LatencyRatios struct {
	Base                                 int
	ReadP50, ReadP99, WriteP50, WriteP99 float64
}

// within reports whether ratio, to the two decimals the report shows,
// is at most limit: the percentiles are only good to about 1.6 %, so a
// ratio shown as 1.20× meets a goal of 1.2×.
func within(ratio, limit float64) bool { return math.Round(ratio*100) <= math.Round(limit*100) }

// Max returns the largest of the four ratios.
func (l LatencyRatios) Max() float64 {
	return max(l.ReadP50, l.ReadP99, l.WriteP50, l.WriteP99)
}

// Flat reports whether every ratio is at most FlatLatencyGoal (see
// within).
func (l LatencyRatios) Flat() bool { return within(l.Max(), FlatLatencyGoal) }

// hasLatency reports whether r measured both read and write latencies.
func (r ScaleResult) hasLatency() bool {
	return r.Read.Ops > 0 && r.Write.Ops > 0 && r.Read.P50 > 0 && r.Write.P50 > 0
}

// base returns the result of subject at the smallest count that has
// latencies.
func (s *ScaleReport) base(subject string) (ScaleResult, bool) {
	var best ScaleResult
	found := false
	for _, r := range s.Results {
		if r.Subject == subject && r.hasLatency() && (!found || r.N < best.N) {
			best, found = r, true
		}
	}
	return best, found
}

// Ratios returns r's LatencyRatios against its subject's base, and false
// when r or the base has no latencies.
func (s *ScaleReport) Ratios(r ScaleResult) (LatencyRatios, bool) {
	b, ok := s.base(r.Subject)
	if !ok || !r.hasLatency() {
		return LatencyRatios{}, false
	}
	ratio := func(v, base time.Duration) float64 {
		x, _ := Ratio(float64(v), float64(base))
		return x
	}
	return LatencyRatios{
		Base:     b.N,
		ReadP50:  ratio(r.Read.P50, b.Read.P50),
		ReadP99:  ratio(r.Read.P99, b.Read.P99),
		WriteP50: ratio(r.Write.P50, b.Write.P50),
		WriteP99: ratio(r.Write.P99, b.Write.P99),
	}, true
}

// results returns the results of subject, in increasing count.
func (s *ScaleReport) results(subject string) []ScaleResult {
	var out []ScaleResult
	for _, r := range s.Results {
		if r.Subject == subject {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b ScaleResult) int { return a.N - b.N })
	return out
}

// NotRun returns the counts of DefaultScaleCounts the run did not measure.
func (s *ScaleReport) NotRun() []int {
	var out []int
	for _, n := range DefaultScaleCounts {
		if !slices.Contains(s.Counts, n) {
			out = append(out, n)
		}
	}
	return out
}

// Goal is one ratio of a scale run beside its goal.
type Goal struct {
	What    string // "read p99", "requests' p99 during a sweep"
	Subject string
	N       int
	Ratio   float64
	Limit   float64
	// Judged is false when the ratio cannot be judged (a sweep too short
	// for a p99); Met is then false too.
	Judged, Met bool
	Why         string `json:",omitempty"` // why it is not judged
}

// Goals returns every ratio of the run beside its goal: the four latency
// ratios at each count above the base, and the requests' p99 during each
// sweep against before it.
func (s *ScaleReport) Goals() []Goal {
	var goals []Goal
	for _, subj := range s.Subjects {
		for _, r := range s.results(subj.Name) {
			if lr, ok := s.Ratios(r); ok && r.N != lr.Base {
				for _, g := range []struct {
					what string
					v    float64
				}{{"read p50", lr.ReadP50}, {"read p99", lr.ReadP99}, {"write p50", lr.WriteP50}, {"write p99", lr.WriteP99}} {
					goals = append(goals, Goal{What: g.what + " vs " + FormatCount(lr.Base), Subject: r.Subject, N: r.N,
						Ratio: g.v, Limit: FlatLatencyGoal, Judged: true, Met: within(g.v, FlatLatencyGoal)})
				}
			}
			if r.Sweep != nil && r.Sweep.Before.Ops > 0 {
				ratio, judged := r.Sweep.P99Ratio()
				g := Goal{What: "requests' p99 during a sweep vs before", Subject: r.Subject, N: r.N,
					Ratio: ratio, Limit: SweepP99Goal, Judged: judged, Met: judged && within(ratio, SweepP99Goal)}
				if !judged {
					g.Why = fmt.Sprintf("the sweep took %s, long enough for %d requests only (%d needed)",
						FormatDuration(r.Sweep.Sweep.Elapsed), r.Sweep.During.Ops, minJudgedOps)
				}
				goals = append(goals, g)
			}
		}
	}
	return goals
}

// WriteMarkdown writes the scale section of the report, its headings at
// level two and three, with charts named by chartPath.
func (s *ScaleReport) WriteMarkdown(w io.Writer, chartPath func(name string) string) error {
	p := &mdWriter{w: w}
	p.f("## Scale: how cost grows with the number of sessions\n\n")
	s.writeContext(p)
	p.f("### Bytes per session\n\n")
	s.writeBytes(p)
	p.f("### Latency as the store grows\n\n")
	s.writeLatency(p)
	p.f("### Sweeps and listings\n\n")
	s.writeSweeps(p)
	p.f("### Every ratio beside its goal\n\n")
	s.writeGoals(p)
	p.f("### Scale: charts\n\n")
	p.f("![p99 latency ratio against the number of sessions](%s)\n\n", chartPath(ScaleLatencyChart))
	p.f("![bytes per session](%s)\n\n", chartPath(ScaleBytesChart))
	return p.err
}

func (s *ScaleReport) writeContext(p *mdWriter) {
	m := s.Machine
	p.f("- Date: %s\n", s.Date.UTC().Format("2006-01-02 15:04 UTC"))
	p.f("- Command: `%s`\n", s.Command)
	cpu := m.CPUModel
	if cpu == "" {
		cpu = "unknown CPU"
	}
	p.f("- Machine: %d CPUs (nproc), %s, %s memory, %s/%s, %s, GOMAXPROCS %d\n",
		m.CPUs, cpu, formatMiB(m.MemoryMiB), m.OS, m.Arch, m.GoVersion, m.GOMAXPROCS)
	p.f("- Load average (1, 5, 15 min): %s at the start, %s at the end; each step's is in the latency table. "+
		"Above the number of CPUs, other processes wait for them too: latencies then include queueing for a core.\n",
		s.LoadStart, s.LoadEnd)
	p.f("- Sessions: %s live, of %d bytes each, with ids like the middleware's storage keys (43 characters of base64url); "+
		"each count in a fresh store.\n", joinNames(s.Counts, FormatCount), s.PayloadBytes)
	if nr := s.NotRun(); len(nr) > 0 {
		p.f("- **Not run here: %s sessions** (the full run is `sessionbench scale`, whose counts are %s).\n",
			joinNames(nr, FormatCount), joinNames(DefaultScaleCounts, FormatCount))
	}
	if s.Note != "" {
		p.f("- Note: %s\n", mdEscape(s.Note))
	}
	p.f("- Latency: %d goroutines issue single Reads, then single Writes (a whole 200-byte value, expiring in an hour), "+
		"of live sessions spread over the whole store, in %d rounds of %s after a %s warm-up each; every percentile is the "+
		"lowest of its rounds (load from other processes only adds time). Ratios divide by the same percentile at the "+
		"smallest count, in the same run; the goal is at most %.1f×.\n",
		s.Concurrency, s.Rounds, s.Duration, s.Warmup, FlatLatencyGoal)
	p.f("- Churn: after the latencies and a List, one DeleteExpired with nothing expired (the periodic sweep's cost), "+
		"then N sessions written to expire %s after their write, in two halves of N/2: once the first half has expired, "+
		"%d goroutines of requests (Mix90: nine reads of live sessions per write) run for %s and go on during one "+
		"DeleteExpired; the second half is removed by another. The footprint after the churn is measured with the N live "+
		"sessions still there. Background sweepers are off: the run calls DeleteExpired itself.\n",
		s.ExpireAfter, s.Concurrency, s.Duration)
	if s.Elapsed > 0 {
		p.f("- The run took %s.\n", s.Elapsed.Round(time.Second))
	}
	for _, sk := range s.Skipped {
		p.f("- Skipped **%s**: %s\n", sk.Subject, mdEscape(firstLine(sk.Reason)))
	}
	p.f("\n| backend | how it is opened and filled |\n|---|---|\n")
	for _, subj := range s.Subjects {
		settings := ""
		for _, r := range s.results(subj.Name) {
			if r.Settings != "" {
				settings = "; " + r.Settings
			}
		}
		p.f("| %s | %s%s |\n", subj.Name, mdEscape(subj.Note), mdEscape(settings))
	}
	p.f("\n")
}

// perSessionWhat says what PerSession measures for each kind.
var perSessionWhat = map[string]string{
	KindMemory:    "Go heap growth",
	KindDirectory: "disk space allocated (st_blocks)",
	KindBolt:      "file growth",
	KindPostgres:  "table + indexes growth",
	KindRedis:     "used_memory growth",
}

func (s *ScaleReport) writeBytes(p *mdWriter) {
	p.f("Each store's growth from empty to N live sessions of %d bytes, divided by N.\n\n", s.PayloadBytes)
	p.f("| backend | measure |")
	for _, n := range s.Counts {
		p.f(" %s |", FormatCount(n))
	}
	p.f("\n|---|---|%s\n", strings.Repeat("--:|", len(s.Counts)))
	for _, subj := range s.Subjects {
		p.f("| %s | %s |", subj.Name, perSessionWhat[subj.Kind])
		for _, n := range s.Counts {
			r, ok := s.find(subj.Name, n)
			v, okv := PerSession(subj.Kind, r.Empty, r.Live, n)
			switch {
			case !ok:
				p.f(" — |")
			case !okv || (r.Failed() && r.Fill == 0):
				p.f(" failed |")
			default:
				p.f(" %s |", formatBytesPer(v))
			}
		}
		p.f("\n")
	}
	p.f("\n")
	for _, subj := range s.Subjects {
		rs := s.results(subj.Name)
		if len(rs) == 0 {
			continue
		}
		p.f("**%s**\n\n", subj.Name)
		switch subj.Kind {
		case KindMemory:
			p.f("| sessions | fill | heap growth | per session | after the churn | per session |\n|--:|--:|--:|--:|--:|--:|\n")
			for _, r := range rs {
				p.f("| %s | %s | %s | %s |", FormatCount(r.N), formatFill(r), formatBytes(r.Live.HeapBytes-r.Empty.HeapBytes),
					perSessionCell(r.Kind, r.Empty, r.Live, r.N))
				if a := r.AfterChurn; a != nil {
					p.f(" %s | %s |\n", formatBytes(a.HeapBytes-r.Empty.HeapBytes), perSessionCell(r.Kind, r.Empty, *a, r.N))
				} else {
					p.f(" — | — |\n")
				}
			}
		case KindDirectory:
			p.f("| sessions | fill | entry files | other files | folders | inodes used (statfs growth) | disk allocated | per session | " +
				"apparent size per session | after the churn: entry files | disk per session |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
			for _, r := range rs {
				l := r.Live
				p.f("| %s | %s | %s | %s | %s | %s | %s | %s | %s |", FormatCount(r.N), formatFill(r), FormatCount(int(l.EntryFiles)),
					FormatCount(int(l.OtherFiles)), FormatCount(int(l.Dirs)), FormatCount(int(l.InodesUsed-r.Empty.InodesUsed)),
					formatBytes(l.DiskBytes), perSessionCell(r.Kind, r.Empty, l, r.N), formatBytesPer(float64(l.ApparentBytes)/float64(max(r.N, 1))))
				if a := r.AfterChurn; a != nil {
					p.f(" %s | %s |\n", FormatCount(int(a.EntryFiles)), perSessionCell(r.Kind, r.Empty, *a, r.N))
				} else {
					p.f(" — | — |\n")
				}
			}
		case KindBolt:
			p.f("| sessions | fill | file | per session | tree depth | free pages | before the churn: file | free pages | " +
				"after the churn: file | per session | free pages |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
			for _, r := range rs {
				l := r.Live
				p.f("| %s | %s | %s | %s | %d | %s |", FormatCount(r.N), formatFill(r), formatBytes(l.FileBytes),
					perSessionCell(r.Kind, r.Empty, l, r.N), l.TreeDepth, formatPages(l))
				if b := r.BeforeChurn; b != nil {
					p.f(" %s | %s |", formatBytes(b.FileBytes), formatPages(*b))
				} else {
					p.f(" — | — |")
				}
				if a := r.AfterChurn; a != nil {
					p.f(" %s | %s | %s |\n", formatBytes(a.FileBytes), perSessionCell(r.Kind, r.Empty, *a, r.N), formatPages(*a))
				} else {
					p.f(" — | — | — |\n")
				}
			}
		case KindPostgres:
			p.f("| sessions | fill | table | indexes | per session | live tuples | before the churn: dead tuples | " +
				"after the churn: table | indexes | per session | dead tuples | autovacuums |\n" +
				"|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
			for _, r := range rs {
				l := r.Live
				p.f("| %s | %s | %s | %s | %s | %s |", FormatCount(r.N), formatFill(r), formatBytes(l.TableBytes), formatBytes(l.IndexBytes),
					perSessionCell(r.Kind, r.Empty, l, r.N), FormatCount(int(l.LiveTuples)))
				if b := r.BeforeChurn; b != nil {
					p.f(" %s |", FormatCount(int(b.DeadTuples)))
				} else {
					p.f(" — |")
				}
				if a := r.AfterChurn; a != nil {
					p.f(" %s | %s | %s | %s | %d |\n", formatBytes(a.TableBytes), formatBytes(a.IndexBytes),
						perSessionCell(r.Kind, r.Empty, *a, r.N), FormatCount(int(a.DeadTuples)), a.Autovacuums)
				} else {
					p.f(" — | — | — | — | — |\n")
				}
			}
		case KindRedis:
			p.f("| sessions | fill | used_memory growth | per session |\n|--:|--:|--:|--:|\n")
			for _, r := range rs {
				p.f("| %s | %s | %s | %s |\n", FormatCount(r.N), formatFill(r), formatBytes(r.Live.UsedMemory-r.Empty.UsedMemory),
					perSessionCell(r.Kind, r.Empty, r.Live, r.N))
			}
		}
		for _, r := range rs {
			if r.Failed() {
				p.f("\n- %s sessions failed: %s", FormatCount(r.N), mdEscape(r.Err))
			}
		}
		p.f("\n\n")
	}
}

func (s *ScaleReport) writeLatency(p *mdWriter) {
	p.f("Single operations on live sessions picked over the whole store, %d goroutines. × is the ratio to the same "+
		"percentile at the smallest count; **bold** when above %.1f×. \"harness\" is the same read loop over a store "+
		"that only reads the id it is given: what picking one of N ids costs the loop itself (every operation above "+
		"includes it). The load is the 1-minute load average at the start and the end of the step.\n\n", s.Concurrency, FlatLatencyGoal)
	p.f("| backend | sessions | read p50 | read p99 | write p50 | write p99 | read p50 × | read p99 × | write p50 × | write p99 × | " +
		"harness p50 | harness p99 | load (1 min) |\n")
	p.f("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, subj := range s.Subjects {
		for _, r := range s.results(subj.Name) {
			if !r.hasLatency() {
				p.f("| %s | %s | failed: %s | | | | | | | | | | %.1f |\n", subj.Name, FormatCount(r.N), mdEscape(r.Err), r.LoadStart.One)
				continue
			}
			lr, _ := s.Ratios(r)
			p.f("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f–%.1f |\n", subj.Name, FormatCount(r.N),
				FormatDuration(r.Read.P50), FormatDuration(r.Read.P99), FormatDuration(r.Write.P50), FormatDuration(r.Write.P99),
				goalRatio(lr.ReadP50, FlatLatencyGoal), goalRatio(lr.ReadP99, FlatLatencyGoal),
				goalRatio(lr.WriteP50, FlatLatencyGoal), goalRatio(lr.WriteP99, FlatLatencyGoal),
				formatOptional(r.Harness.P50), formatOptional(r.Harness.P99), r.LoadStart.One, r.LoadEnd.One)
		}
	}
	p.f("\n")
	var flat, grows []string
	for _, subj := range s.Subjects {
		worst, measured := 0.0, false
		for _, r := range s.results(subj.Name) {
			if lr, ok := s.Ratios(r); ok && r.N != lr.Base {
				worst, measured = max(worst, lr.Max()), true
			}
		}
		switch {
		case !measured:
		case within(worst, FlatLatencyGoal):
			flat = append(flat, subj.Name)
		default:
			grows = append(grows, subj.Name)
			p.f("- **%s** is not flat (up to %.2f×). %s\n", subj.Name, worst, s.growthReason(subj))
		}
	}
	if len(flat) > 0 {
		p.f("- Flat (every ratio at most %.1f×): %s.\n", FlatLatencyGoal, strings.Join(flat, ", "))
	}
	if len(grows) > 0 || len(flat) > 0 {
		p.f("- On a loaded machine a p99 moves by more than %.1f× from one round to the next, in either direction: "+
			"a single ratio above the goal is a measurement, a ratio that rises with every count is a trend.\n", FlatLatencyGoal)
	}
	p.f("\n")
}

// growthReason says what in the medium of subj grows with the number of
// sessions, with what the run measured of it.
func (s *ScaleReport) growthReason(subj SubjectInfo) string {
	rs := s.results(subj.Name)
	last := rs[len(rs)-1]
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].hasLatency() {
			last = rs[i]
			break
		}
	}
	first := rs[0]
	switch subj.Kind {
	case KindMemory:
		harness := ""
		if first.Harness.P50 > 0 && last.Harness.P50 > 0 {
			harness = fmt.Sprintf(" The harness alone, which only reads the id it picks out of N, goes from %s to %s at p50 "+
				"for the same reason: that much of each operation's growth is the measuring loop's, not the store's.",
				FormatDuration(first.Harness.P50), FormatDuration(last.Harness.P50))
		}
		return fmt.Sprintf("What grows is the working set: a read hashes the id, looks it up in a shard's map and copies the "+
			"value out, which at %s sessions is %s of heap instead of %s at %s; every step of a lookup (the map's bucket, "+
			"the entry, its id, its value) is then a random access that misses the CPU's caches and its address "+
			"translation cache at the large count and hits them at the small one. Writes also pay the garbage "+
			"collector, whose mark phase walks the whole heap.%s",
			FormatCount(last.N), formatBytes(last.Live.HeapBytes-last.Empty.HeapBytes), formatBytes(first.Live.HeapBytes-first.Empty.HeapBytes),
			FormatCount(first.N), harness)
	case KindDirectory:
		return fmt.Sprintf("What grows is each fan-out folder: 256 folders hold %s entries each at %s sessions (%s at %s). "+
			"Opening, creating and renaming a file looks its name up in the kernel's dentry cache and the file system's "+
			"hashed folder index, both larger and colder at the large count; the store occupies %s on disk there, "+
			"and every write also allocates and frees an inode and a block.",
			FormatCount(last.N/256), FormatCount(last.N), FormatCount(max(first.N/256, 1)), FormatCount(first.N), formatBytes(last.Live.DiskBytes))
	case KindBolt:
		return fmt.Sprintf("What grows is the B+tree: its depth is %d at %s sessions and %d at %s, and the file %s (mapped "+
			"into memory). A read walks one page per level; a write copies every page on its path, writes them and the "+
			"freelist, and waits for an fsync, whose time the disk, shared with the other processes here, decides.",
			first.Live.TreeDepth, FormatCount(first.N), last.Live.TreeDepth, FormatCount(last.N), formatBytes(last.Live.FileBytes))
	case KindPostgres:
		settings := ""
		if last.Settings != "" {
			settings = " (" + last.Settings + ")"
		}
		return fmt.Sprintf("What grows is the table and its two indexes: %s and %s at %s sessions%s. A read descends the "+
			"primary key's B-tree and fetches a heap page, a write also updates the expiry index; once they outgrow "+
			"shared_buffers, pages come from the operating system's cache by a copy, and the trees gain a level.",
			formatBytes(last.Live.TableBytes), formatBytes(last.Live.IndexBytes), FormatCount(last.N), settings)
	case KindRedis:
		return fmt.Sprintf("A GET or SET is a hash-table lookup in the server, behind a network round trip that dominates "+
			"it; what grows is the server's memory (%s at %s sessions), beyond the CPU's caches, and the rehashing when "+
			"the table doubles.", formatBytes(last.Live.UsedMemory-last.Empty.UsedMemory), FormatCount(last.N))
	}
	return ""
}

func (s *ScaleReport) writeSweeps(p *mdWriter) {
	p.f("A full List over the N live sessions; a DeleteExpired with nothing expired; a DeleteExpired of N/2 expired "+
		"sessions while %d goroutines of requests run, with the requests' p99 before and during it (goal: at most %.0f×); "+
		"the second half of the churn's sweep.\n\n", s.Concurrency, SweepP99Goal)
	p.f("| backend | sessions | List | per entry | sweep, none expired | per live session | sweep of N/2 expired | per removed | " +
		"requests' p99 before | during | × | requests during | second sweep |\n")
	p.f("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, subj := range s.Subjects {
		for _, r := range s.results(subj.Name) {
			list := "—"
			perList := "—"
			if r.List.Count > 0 {
				list, perList = FormatDuration(r.List.Elapsed), formatNs(r.List.PerEntry())
			}
			p.f("| %s | %s | %s | %s |", subj.Name, FormatCount(r.N), list, perList)
			if r.IdleSweep == nil {
				why := "no sweeper"
				if subj.Kind == KindRedis {
					why = "no sweeper: Redis expires keys itself"
				}
				if r.Failed() && subj.Kind != KindRedis {
					why = "failed: " + mdEscape(r.Err)
				}
				p.f(" %s | | | | | | | | |\n", why)
				continue
			}
			perLive := formatNs(perEntry(r.IdleSweep.Elapsed, r.N))
			p.f(" %s | %s |", FormatDuration(r.IdleSweep.Elapsed), perLive)
			if sw := r.Sweep; sw != nil {
				ratio, judged := sw.P99Ratio()
				cell := "—"
				switch {
				case judged:
					cell = goalRatio(ratio, SweepP99Goal)
				case sw.Before.Ops > 0 && sw.During.Ops > 0:
					cell = fmt.Sprintf("%.2f× (too few requests)", ratio)
				}
				p.f(" %s | %s | %s | %s | %s | %s |", FormatDuration(sw.Sweep.Elapsed), formatNs(sw.Sweep.PerEntry()),
					FormatDuration(sw.Before.P99), FormatDuration(sw.During.P99), cell, FormatCount(int(sw.During.Ops)))
			} else {
				p.f(" | | | | | |")
			}
			if c := r.ChurnSweep; c != nil {
				p.f(" %s |\n", FormatDuration(c.Elapsed))
			} else {
				p.f(" |\n")
			}
			if r.Sweep != nil && r.Sweep.Sweep.Count != r.Sweep.Expired {
				p.f("| | | ⚠ removed %s of %s expired | | | | | | | | | | |\n", FormatCount(r.Sweep.Sweep.Count), FormatCount(r.Sweep.Expired))
			}
		}
	}
	p.f("\n")
	for _, subj := range s.Subjects {
		worst, at := 0.0, 0
		for _, r := range s.results(subj.Name) {
			if r.Sweep == nil {
				continue
			}
			if ratio, judged := r.Sweep.P99Ratio(); judged && ratio > worst {
				worst, at = ratio, r.N
			}
		}
		if !within(worst, SweepP99Goal) {
			r, _ := s.find(subj.Name, at)
			p.f("- **%s**: requests' p99 during a sweep is up to %.1f× what it is before (%s sessions). %s\n",
				subj.Name, worst, FormatCount(at), sweepReason(subj.Kind, r))
		}
	}
	for _, subj := range s.Subjects {
		if why := listReason(subj.Kind, s.results(subj.Name)); why != "" {
			p.f("- List on **%s**: %s\n", subj.Name, why)
		}
	}
	p.f("\n")
}

// listReason says what a List of kind does per entry, with what the run
// measured of it; "" when there is nothing to say.
func listReason(kind string, rs []ScaleResult) string {
	var measured []ScaleResult
	for _, r := range rs {
		if r.List.Count > 0 {
			measured = append(measured, r)
		}
	}
	if len(measured) == 0 {
		return ""
	}
	last := measured[len(measured)-1]
	switch kind {
	case KindMemory:
		return "collects each shard's live ids under its read lock, then yields them: a walk of the maps."
	case KindDirectory:
		return fmt.Sprintf("opens every file to read its expiry (%s per entry at %s): a tool for administration, as its documentation says.",
			formatNs(last.List.PerEntry()), FormatCount(last.N))
	case KindBolt:
		return "walks the bucket's leaves in order, a few hundred keys per read transaction."
	case KindPostgres:
		return fmt.Sprintf("pages through the primary key (WHERE id > $1 AND live ORDER BY id LIMIT 1000), which INCLUDEs "+
			"expires_at, so the liveness test is answered by the index (an index-only scan). It still visits a row's heap "+
			"page when the visibility map does not mark that page all-visible, which is every page of a table freshly "+
			"filled or written until VACUUM (autovacuum) has passed: ids are hashes, so those pages come in random "+
			"order, and once the table outgrows shared_buffers (%s at %s sessions) each is a read from the operating "+
			"system's cache: %s per entry there (29.6µs before the INCLUDE).",
			formatBytes(last.Live.TableBytes), FormatCount(last.N), formatNs(last.List.PerEntry()))
	case KindRedis:
		return fmt.Sprintf("SCAN with a COUNT of 100 keys per round trip: %s per entry at %s, the round trips' cost.",
			formatNs(last.List.PerEntry()), FormatCount(last.N))
	}
	return ""
}

// sweepReason says what a sweep of kind makes requests wait for, with
// what the run measured of it in r.
func sweepReason(kind string, r ScaleResult) string {
	sw := r.Sweep
	if sw == nil {
		return ""
	}
	batches := max(1, (sw.Sweep.Count+999)/1000)
	perBatch := FormatDuration(sw.Sweep.Elapsed / time.Duration(batches))
	switch kind {
	case KindMemory:
		return fmt.Sprintf("DeleteExpired removes at most 128 entries per hold of a shard's lock and rests three times as "+
			"long as each batch took; the requests' p99 during it was %s here. A row measured before the rests (see the "+
			"note above) shows a sweep that ran without pause for a scheduler time slice while the requests queued on "+
			"its processor waited.", FormatDuration(sw.During.P99))
	case KindDirectory:
		return fmt.Sprintf("DeleteExpired opens every file to read its expiry and removes the expired ones under their folder's "+
			"lock, which a write's rename into that folder also takes (%s per removal here); it competes with the "+
			"requests for the two cores and the disk. It rests three times as long as each chunk of 256 files took; "+
			"a row measured before the rests (see the note above) shows the sweep back to back.", formatNs(sw.Sweep.PerEntry()))
	case KindBolt:
		return fmt.Sprintf("bbolt has a single writer: each batch of DeleteExpired (WithSweepBatch, 100 entries) is a write "+
			"transaction with its commit and fsync, after which the sweep rests three times as long; a request's write "+
			"that arrives during a batch waits for it before its own commit (p99 during: %s).", FormatDuration(sw.During.P99))
	case KindPostgres:
		return fmt.Sprintf("DeleteExpired deletes in batches of 1,000 rows (%s per batch here, rests included), each a "+
			"statement that finds expired rows through the expiry index, locks them (FOR UPDATE SKIP LOCKED), looks each "+
			"up again by its primary key and deletes it, writing WAL, then rests three times as long as the statement "+
			"took; requests wait for the server's two shared cores and its disk while a statement runs.", perBatch)
	}
	return ""
}

func (s *ScaleReport) writeGoals(p *mdWriter) {
	goals := s.Goals()
	if len(goals) == 0 {
		p.f("No ratio to judge: every backend ran at one count only, or failed.\n\n")
		return
	}
	met, judged := 0, 0
	for _, g := range goals {
		if g.Judged {
			judged++
			if g.Met {
				met++
			}
		}
	}
	p.f("%d of %d judged ratios meet their goal.\n\n", met, judged)
	p.f("| backend | sessions | ratio | value | goal | met |\n|---|--:|---|--:|--:|---|\n")
	for _, g := range goals {
		verdict := "yes"
		switch {
		case !g.Judged:
			verdict = "not judged: " + mdEscape(g.Why)
		case !g.Met:
			verdict = "**no**"
		}
		p.f("| %s | %s | %s | %.2f× | ≤ %.1f× | %s |\n", g.Subject, FormatCount(g.N), g.What, g.Ratio, g.Limit, verdict)
	}
	p.f("\n")
}

// find returns the result of subject at n.
func (s *ScaleReport) find(subject string, n int) (ScaleResult, bool) {
	for _, r := range s.Results {
		if r.Subject == subject && r.N == n {
			return r, true
		}
	}
	return ScaleResult{}, false
}

func perSessionCell(kind string, empty, f Footprint, n int) string {
	v, ok := PerSession(kind, empty, f, n)
	if !ok {
		return "—"
	}
	return formatBytesPer(v)
}

func formatFill(r ScaleResult) string {
	if r.Fill <= 0 {
		return "—"
	}
	return fmt.Sprintf("%s (%s/s)", FormatDuration(r.Fill), FormatRate(float64(r.N)/r.Fill.Seconds()))
}

func formatPages(f Footprint) string {
	return fmt.Sprintf("%s (%s)", FormatCount(f.FreePages), formatBytes(int64(f.FreePages)*int64(f.PageSize)))
}

// formatOptional formats d, "—" when it was not measured.
func formatOptional(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return FormatDuration(d)
}

// goalRatio formats a ratio, bold when above limit.
func goalRatio(r, limit float64) string {
	s := fmt.Sprintf("%.2f×", r)
	if !within(r, limit) {
		return "**" + s + "**"
	}
	return s
}

// formatBytes formats n bytes with three significant digits in binary
// units: "812 B", "4.00 KiB", "1.23 GiB".
func formatBytes(n int64) string {
	v := float64(n)
	neg := ""
	if v < 0 {
		neg, v = "-", -v
	}
	for _, u := range []struct {
		div  float64
		name string
	}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if v >= u.div*0.9995 {
			return neg + sig3(math.Min(v/u.div, 999)) + " " + u.name
		}
	}
	return fmt.Sprintf("%s%.0f B", neg, v)
}

// formatNs formats a number of nanoseconds that may be a fraction of one:
// "0.65ns", "20.0ns", "1.23µs".
func formatNs(ns float64) string {
	switch {
	case !(ns > 0) || math.IsInf(ns, 0):
		return "—"
	case ns < 999.5:
		return sig3(ns) + "ns"
	}
	return FormatDuration(time.Duration(math.Round(ns)))
}

// formatBytesPer formats a number of bytes per session: "412 B", "4.1 KiB".
func formatBytesPer(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	if math.Abs(v) < 1000 {
		return fmt.Sprintf("%.0f B", v)
	}
	return formatBytes(int64(math.Round(v)))
}
