package bench

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// The scale mode measures how a backend's cost grows with the number of
// live sessions it holds: its footprint (heap, files, file size, table and
// index size, Redis memory), the latency of reads and writes, the cost of a
// List and of a sweep, the latency of requests while a sweep runs, and
// what is left behind by a churn of as many creates and deletes as there
// are live sessions. RunScale measures every ScaleSubject at every count of
// ScaleOptions.Counts, each count in a fresh store.

// DefaultScaleCounts are the live-session counts of a full scale run.
var DefaultScaleCounts = []int{1_000, 100_000, 1_000_000}

// ShortScaleCounts are the counts of a short scale run (-short): enough to
// see the shape of the growth in well under a minute per backend.
var ShortScaleCounts = []int{1_000, 10_000}

// ScalePayloadBytes is the length of every session value the scale mode
// writes: a typical small server-side session (a user id, a few flags, a
// CSRF token).
const ScalePayloadBytes = 200

// The goals the report judges the measurements against.
const (
	// FlatLatencyGoal is the largest ratio of a p50 or p99 at some count to
	// the same percentile at the smallest count that still counts as flat.
	FlatLatencyGoal = 1.2
	// SweepP99Goal is the largest ratio of the requests' p99 during a sweep
	// to their p99 just before it.
	SweepP99Goal = 2.0
	// minJudgedOps is the number of requests the during-sweep sample needs
	// before its p99 is judged: fewer make the p99 the maximum of a
	// handful.
	minJudgedOps = 200
)

// ScaleOptions configures RunScale.
type ScaleOptions struct {
	// Counts are the numbers of live sessions, measured in this order,
	// each in a fresh store. The smallest is the base of the latency
	// ratios.
	Counts []int
	// PayloadBytes is the length of every value; 0 means
	// ScalePayloadBytes.
	PayloadBytes int
	// Concurrency is the number of goroutines of the latency loops and of
	// the requests during a sweep; 0 means 4.
	Concurrency int
	// Rounds is the number of rounds of each latency measurement, of which
	// the report keeps the lowest percentiles; 0 means 3.
	Rounds int
	// Run sets the duration of one latency round (Duration, Warmup,
	// MinOps). The requests before a sweep are sampled for Run.Duration.
	Run RunOptions
	// ExpireAfter is how long after its write a churn entry expires; 0
	// means one second. The churn waits for it before it sweeps.
	ExpireAfter time.Duration
	// TempDir is where each store's folder is made (and removed after
	// it); "" means os.TempDir().
	TempDir string
	// RedisAddr and PostgresDSN are the servers, "" for none; the
	// reasons say why one is missing.
	RedisAddr, PostgresDSN      string
	RedisReason, PostgresReason string
	// Progress, when not nil, receives a line after every step.
	Progress func(string)
}

func (o ScaleOptions) withDefaults() ScaleOptions {
	if o.PayloadBytes <= 0 {
		o.PayloadBytes = ScalePayloadBytes
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.ExpireAfter <= 0 {
		o.ExpireAfter = time.Second
	}
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	o.Counts = slices.Sorted(slices.Values(o.Counts))
	return o
}

// LoadAverage is the system's load average (/proc/loadavg): the number of
// runnable and uninterruptible tasks, averaged over 1, 5 and 15 minutes.
// The scale mode records it because on a shared machine it says how much
// the latencies can be trusted.
type LoadAverage struct {
	One, Five, Fifteen float64
}

// String returns "1.23 4.56 7.89", or "unknown" for the zero value.
func (l LoadAverage) String() string {
	if l == (LoadAverage{}) {
		return "unknown"
	}
	return fmt.Sprintf("%.2f %.2f %.2f", l.One, l.Five, l.Fifteen)
}

// ReadLoadAverage returns the load average of /proc/loadavg, or the zero
// LoadAverage where there is none.
func ReadLoadAverage() LoadAverage {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return LoadAverage{}
	}
	l, _ := parseLoadAverage(string(b))
	return l
}

func parseLoadAverage(s string) (LoadAverage, error) {
	f := strings.Fields(s)
	if len(f) < 3 {
		return LoadAverage{}, errors.New("benchmarks: load average: too few fields")
	}
	var v [3]float64
	for i := range v {
		x, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return LoadAverage{}, fmt.Errorf("benchmarks: load average: %w", err)
		}
		v[i] = x
	}
	return LoadAverage{One: v[0], Five: v[1], Fifteen: v[2]}, nil
}

// ParseCounts parses a comma-separated list of session counts, each a
// whole number with an optional k (thousand) or M (million) suffix: "1k,
// 100k,1M" or "1000,100000,1000000". They are returned ascending without
// duplicates. An empty s selects DefaultScaleCounts.
func ParseCounts(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return slices.Clone(DefaultScaleCounts), nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		mult, num := 1, f
		switch {
		case strings.HasSuffix(f, "k"), strings.HasSuffix(f, "K"):
			mult, num = 1_000, f[:len(f)-1]
		case strings.HasSuffix(f, "M"), strings.HasSuffix(f, "m"):
			mult, num = 1_000_000, f[:len(f)-1]
		}
		n, err := strconv.Atoi(strings.ReplaceAll(num, "_", ""))
		const most = 100_000_000
		if err != nil || n < 1 || n > most/mult {
			return nil, fmt.Errorf("benchmarks: session count %q is not a whole number from 1 to 100M (suffixes k and M allowed)", f)
		}
		out = append(out, n*mult)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// FormatCount writes n with thousands separators: "1,000,000".
func FormatCount(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// ScaleID returns the id of session i of a scale run: like the storage
// keys the middleware makes (a SHA-256 in unpadded base64url, 43 characters
// of the id alphabet), so that ids spread over a tree, a hash table or the
// directory's folders as real keys do rather than in sequence.
func ScaleID(i int) string {
	sum := sha256.Sum256([]byte("sessionbench/scale\x00" + strconv.Itoa(i)))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// scaleIDs returns ScaleID(i) for i in [from, to).
func scaleIDs(from, to int) []string {
	ids := make([]string, to-from)
	for i := range ids {
		ids[i] = ScaleID(from + i)
	}
	return ids
}

// Footprint is what a store occupies at one moment. Each backend fills
// the fields of its medium; the others stay zero. Values are absolute:
// ScaleResult keeps the empty store's too, and the per-session figures are
// differences.
type Footprint struct {
	// HeapBytes is the Go heap in use after two collections
	// (runtime.MemStats.HeapAlloc): the process's, so only its growth
	// over the empty store's is the store's.
	HeapBytes int64 `json:",omitempty"`

	// EntryFiles, OtherFiles and Dirs count what is under a directory
	// store's root: entry files, other files (folder locks, temporary
	// files) and folders.
	EntryFiles, OtherFiles, Dirs int64 `json:",omitempty"`
	// DiskBytes is the space allocated to everything under the root,
	// folders included (the sum of st_blocks × 512).
	DiskBytes int64 `json:",omitempty"`
	// ApparentBytes is the sum of the entry files' lengths (st_size).
	ApparentBytes int64 `json:",omitempty"`
	// InodesUsed is the file system's used inodes (statfs files − free
	// files): the whole file system's, so only its growth counts, and
	// other processes writing there blur it.
	InodesUsed int64 `json:",omitempty"`

	// FileBytes is the length of a bolt database file.
	FileBytes int64 `json:",omitempty"`
	// PageSize, FreePages (bbolt's free and pending pages) and TreeDepth
	// (the depth of the sessions bucket's B+tree) describe a bolt file.
	PageSize, FreePages, TreeDepth int `json:",omitempty"`

	// TableBytes and IndexBytes are pg_table_size and pg_indexes_size of
	// a Postgres table; LiveTuples, DeadTuples and Autovacuums come from
	// pg_stat_user_tables (n_live_tup, n_dead_tup, autovacuum_count).
	TableBytes, IndexBytes              int64 `json:",omitempty"`
	LiveTuples, DeadTuples, Autovacuums int64 `json:",omitempty"`

	// UsedMemory is Redis's used_memory (INFO memory): the server's, so
	// only its growth over the empty store's is the store's.
	UsedMemory int64 `json:",omitempty"`
}

// PerSession returns the headline footprint of a store of kind that holds
// n sessions at f and held none at empty, in bytes per session: the heap
// growth (memory), the disk space allocated (directory), the file's growth
// (bolt), the table and index growth (postgres), the used_memory growth
// (redis). It reports false when n is not positive or the kind measures
// nothing.
func PerSession(kind string, empty, f Footprint, n int) (float64, bool) {
	if n <= 0 {
		return 0, false
	}
	var d int64
	switch kind {
	case KindMemory:
		d = f.HeapBytes - empty.HeapBytes
	case KindDirectory:
		d = f.DiskBytes - empty.DiskBytes
	case KindBolt:
		d = f.FileBytes - empty.FileBytes
	case KindPostgres:
		d = f.TableBytes + f.IndexBytes - empty.TableBytes - empty.IndexBytes
	case KindRedis:
		d = f.UsedMemory - empty.UsedMemory
	default:
		return 0, false
	}
	return float64(d) / float64(n), true
}

// Percentiles are the p50 and p99 of a latency sample and its size.
type Percentiles struct {
	P50, P99 time.Duration
	Ops      uint64
}

func percentilesOf(h *Histogram) Percentiles {
	return Percentiles{P50: h.Percentile(0.50), P99: h.Percentile(0.99), Ops: h.Count()}
}

// Timed is one timed call over a store: how long it took and how many
// entries it yielded or removed.
type Timed struct {
	Elapsed time.Duration
	Count   int
}

// PerEntry returns Elapsed divided by Count in nanoseconds (a fraction of
// one for the cheapest), 0 when Count is 0.
func (t Timed) PerEntry() float64 { return perEntry(t.Elapsed, t.Count) }

func perEntry(d time.Duration, n int) float64 {
	if n <= 0 {
		return 0
	}
	return float64(d) / float64(n)
}

// SweepUnderLoad is one DeleteExpired of an expired population while
// requests run, with the requests' latency just before it and during it.
type SweepUnderLoad struct {
	// Expired is the number of entries made to expire; Sweep.Count is how
	// many DeleteExpired removed.
	Expired int
	Sweep   Timed
	// Before and During are the requests' latencies (Mix90: nine reads of
	// live sessions per write of one), for Run.Duration before the sweep
	// and for the whole sweep.
	Before, During Percentiles
}

// P99Ratio returns During.P99 divided by Before.P99, and whether both are
// there and the during-sweep sample has enough requests to be judged.
func (s SweepUnderLoad) P99Ratio() (float64, bool) {
	r, ok := Ratio(float64(s.During.P99), float64(s.Before.P99))
	return r, ok && s.During.Ops >= minJudgedOps
}

// ScaleResult is the measurement of one subject at one count of live
// sessions, in a store of its own.
type ScaleResult struct {
	Subject string
	Kind    string
	N       int
	// Err is the first failure, "" when every step succeeded. What was
	// measured before it is kept.
	Err string `json:",omitempty"`
	// LoadStart and LoadEnd are the load average when the step began and
	// ended.
	LoadStart, LoadEnd LoadAverage
	// Fill is the time to write the N live sessions, by the bulk path
	// (FillHow says which).
	Fill    time.Duration
	FillHow string
	// Empty and Live are the footprints of the empty store and of the
	// store just filled with N live sessions. BeforeChurn is measured
	// after the latencies (whose writes rewrite live sessions) and the
	// List, AfterChurn after the churn (N creates of expiring sessions and
	// their removal by DeleteExpired, in two halves), with the N live
	// sessions still there. Both are nil for a backend without a sweeper.
	Empty, Live             Footprint
	BeforeChurn, AfterChurn *Footprint `json:",omitempty"`
	// Read and Write are the latencies of single operations on random
	// live sessions at ScaleOptions.Concurrency: each percentile the
	// lowest of the rounds. Harness is the same read loop over a store
	// that only reads the id it is given: what picking a random id out of
	// N costs the loop itself, which grows with N as the table of ids
	// outgrows the CPU's caches.
	Read, Write, Harness Percentiles
	// List is one full List over the N live sessions.
	List Timed
	// IdleSweep is a DeleteExpired with nothing expired: what the
	// periodic sweeper costs over N live sessions. Nil without a sweeper.
	IdleSweep *Timed `json:",omitempty"`
	// Sweep is the first half of the churn, N/2 expired entries, removed
	// while requests run; ChurnSweep removes the second half. Nil
	// without a sweeper.
	Sweep      *SweepUnderLoad `json:",omitempty"`
	ChurnSweep *Timed          `json:",omitempty"`
	// Settings describes the server the step ran against (the Postgres
	// or Redis settings that bear on the numbers), "" for none.
	Settings string `json:",omitempty"`
	// Elapsed is the wall time of the whole step, filling and cleaning
	// up included.
	Elapsed time.Duration
}

// Failed reports whether the step failed.
func (r ScaleResult) Failed() bool { return r.Err != "" }

// ScaleReport is everything a scale run produced.
type ScaleReport struct {
	Date    time.Time
	Command string
	Machine Machine
	// Note is the operator's remark (-note), shown in the report's
	// context: a size left pending, say.
	Note string `json:",omitempty"`
	// Counts, PayloadBytes, Concurrency, Rounds, Duration, Warmup and
	// ExpireAfter are the options of the run.
	Counts              []int
	PayloadBytes        int
	Concurrency, Rounds int
	Duration, Warmup    time.Duration
	ExpireAfter         time.Duration
	LoadStart, LoadEnd  LoadAverage
	Subjects            []SubjectInfo
	Results             []ScaleResult
	Skipped             []Skipped
	Elapsed             time.Duration
}

// ScaleSubject is one backend of the scale mode.
type ScaleSubject struct {
	Name, Kind, Note string
	Needs            Server
	// open makes an empty store of the backend in env.
	open func(ctx context.Context, env Env, o ScaleOptions) (*scaleStore, error)
}

// Info returns the description of s for a ScaleReport.
func (s ScaleSubject) Info() SubjectInfo {
	return SubjectInfo{Name: s.Name, Kind: s.Kind, Role: Sessionkit, Note: s.Note, Needs: s.Needs}
}

// scaleStore is an open store of a ScaleSubject.
type scaleStore struct {
	st sessions.Storage
	// fill writes payload under every id, to expire at expires() (called
	// per write or per batch), by the backend's fastest path; how names
	// it.
	fill func(ctx context.Context, ids []string, payload []byte, expires func() time.Time) error
	how  string
	// footprint measures the store now.
	footprint func(ctx context.Context) (Footprint, error)
	close     func() error
	// info, when not nil, returns a line of context for the report (the
	// server's settings).
	info func(ctx context.Context) string
}

// SelectScaleSubjects returns the subjects of all named in the
// comma-separated filter by kind or full name; "" and "all" select every
// one. A term that matches nothing is an error.
func SelectScaleSubjects(all []ScaleSubject, filter string) ([]ScaleSubject, error) {
	filter = strings.TrimSpace(filter)
	if filter == "" || strings.EqualFold(filter, "all") {
		return slices.Clone(all), nil
	}
	selected := make([]bool, len(all))
	for _, term := range strings.Split(filter, ",") {
		term = strings.ToLower(strings.TrimSpace(term))
		if term == "" {
			continue
		}
		found := false
		for i, s := range all {
			if term == s.Kind || term == strings.ToLower(s.Name) {
				selected[i], found = true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("benchmarks: no scale backend matches %q (known: memory, directory, bolt, postgres, redis)", term)
		}
	}
	var out []ScaleSubject
	for i, s := range all {
		if selected[i] {
			out = append(out, s)
		}
	}
	return out, nil
}

// RunScale measures every subject at every count of opts, one step (one
// subject at one count, in a fresh store) at a time. A subject whose server
// is missing is skipped with the reason; a step that fails keeps what it
// measured and its error, and the run goes on. RunScale returns early, with
// what it has, only when ctx ends; the error is then ctx's.
func RunScale(ctx context.Context, subjects []ScaleSubject, opts ScaleOptions) ([]ScaleResult, []Skipped, error) {
	opts = opts.withDefaults()
	missing := MatrixOptions{RedisAddr: opts.RedisAddr, PostgresDSN: opts.PostgresDSN,
		RedisReason: opts.RedisReason, PostgresReason: opts.PostgresReason}
	var (
		results []ScaleResult
		skipped []Skipped
	)
	for _, s := range subjects {
		if reason := missing.missing(s.Needs); reason != "" {
			skipped = append(skipped, Skipped{Subject: s.Name, Kind: s.Kind, Reason: reason})
			opts.Progress(fmt.Sprintf("skip %s: %s", s.Name, firstLine(reason)))
			continue
		}
		for _, n := range opts.Counts {
			r := runScaleStep(ctx, s, n, opts)
			results = append(results, r)
			if err := ctx.Err(); err != nil {
				return results, skipped, err
			}
			if r.Failed() {
				opts.Progress(fmt.Sprintf("%s %s: failed: %s", s.Name, FormatCount(n), r.Err))
			}
		}
	}
	return results, skipped, nil
}

// scaleStep runs the steps of one ScaleResult; each stage sets r's fields
// and returns the first error.
type scaleStep struct {
	s       ScaleSubject
	n       int
	opts    ScaleOptions
	r       *ScaleResult
	store   *scaleStore
	live    []string
	payload []byte
	start   time.Time
}

func (st *scaleStep) progress(format string, args ...any) {
	st.opts.Progress(fmt.Sprintf("[%s %s, %s] ", st.s.Name, FormatCount(st.n), time.Since(st.start).Round(time.Second)) +
		fmt.Sprintf(format, args...))
}

func runScaleStep(ctx context.Context, s ScaleSubject, n int, opts ScaleOptions) (r ScaleResult) {
	r = ScaleResult{Subject: s.Name, Kind: s.Kind, N: n, LoadStart: ReadLoadAverage()}
	start := time.Now()
	defer func() {
		r.Elapsed = time.Since(start)
		r.LoadEnd = ReadLoadAverage()
	}()
	dir, err := os.MkdirTemp(opts.TempDir, "sessionbench-scale-")
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer os.RemoveAll(dir)
	env := Env{Dir: dir, RedisAddr: opts.RedisAddr, PostgresDSN: opts.PostgresDSN}
	store, err := s.open(ctx, env, opts)
	if err != nil {
		r.Err = fmt.Sprintf("open: %v", err)
		return r
	}
	if store.info != nil {
		r.Settings = store.info(ctx)
	}
	step := &scaleStep{s: s, n: n, opts: opts, r: &r, store: store, payload: Payload(opts.PayloadBytes), start: start}
	err = step.run(ctx)
	// The ids go before the store closes, so that a memory store's
	// entries and the ids are garbage together.
	step.live = nil
	if cerr := store.close(); cerr != nil && err == nil {
		err = fmt.Errorf("close: %w", cerr)
	}
	if err != nil {
		r.Err = err.Error()
	}
	step.progress("done")
	return r
}

func (st *scaleStep) run(ctx context.Context) error {
	r, store := st.r, st.store
	// The ids exist before the empty store is measured, so that the heap
	// growth measured afterwards is the store's alone (the memory
	// backend keeps copies of the ids it is given).
	st.live = scaleIDs(0, st.n)
	var err error
	if r.Empty, err = store.footprint(ctx); err != nil {
		return fmt.Errorf("footprint of the empty store: %w", err)
	}
	t0 := time.Now()
	if err := store.fill(ctx, st.live, st.payload, func() time.Time { return time.Now().Add(time.Hour) }); err != nil {
		return fmt.Errorf("fill: %w", err)
	}
	r.Fill, r.FillHow = time.Since(t0), store.how
	st.progress("filled in %s (%s/s, %s)", r.Fill.Round(time.Millisecond), FormatRate(float64(st.n)/r.Fill.Seconds()), store.how)
	if err := st.check(ctx); err != nil {
		return err
	}
	if r.Live, err = store.footprint(ctx); err != nil {
		return fmt.Errorf("footprint: %w", err)
	}
	if err := st.latency(ctx); err != nil {
		return err
	}
	if err := st.list(ctx); err != nil {
		return err
	}
	sw, ok := store.st.(sessions.Sweeper)
	if !ok {
		return nil
	}
	before, err := store.footprint(ctx)
	if err != nil {
		return fmt.Errorf("footprint before the churn: %w", err)
	}
	r.BeforeChurn = &before
	if err := st.churn(ctx, sw); err != nil {
		return err
	}
	after, err := store.footprint(ctx)
	if err != nil {
		return fmt.Errorf("footprint after the churn: %w", err)
	}
	r.AfterChurn = &after
	return nil
}

// check reads a sample of the live ids through the store: a bulk path
// that wrote something the store cannot read fails here, not in the
// latency loops.
func (st *scaleStep) check(ctx context.Context) error {
	w := storageStore(st.store.st, nil).NewWorker()
	step := max(1, st.n/100)
	for i := 0; i < st.n; i += step {
		got, err := w.Read(ctx, st.live[i])
		if err == nil && got != len(st.payload) {
			err = fmt.Errorf("%w: %d bytes, want the %d written", errShortRead, got, len(st.payload))
		}
		if err != nil {
			return fmt.Errorf("read back what the fill wrote: %w", err)
		}
	}
	return nil
}

// latency measures Read and Write in alternating rounds and keeps the
// lowest percentiles of each: load from other processes only adds time.
func (st *scaleStep) latency(ctx context.Context) error {
	size := Size{Name: fmt.Sprintf("%dB", len(st.payload)), Bytes: len(st.payload)}
	store := storageStore(st.store.st, nil)
	var best [3]Percentiles
	for round := range st.opts.Rounds {
		for i, wl := range []Workload{Workloads[0], Workloads[1], Workloads[0]} {
			cell := Cell{Workload: wl, Size: size, Concurrency: st.opts.Concurrency}
			on := store
			if i == 2 {
				on = idOnlyStore{payload: len(st.payload)}
			}
			m, err := Run(ctx, on, cell, st.live, st.payload, st.opts.Run)
			if err != nil {
				return fmt.Errorf("%s latency: %w", wl.Name, err)
			}
			p := Percentiles{P50: m.P50, P99: m.P99, Ops: m.Ops}
			if round == 0 {
				best[i] = p
			} else {
				best[i] = Percentiles{P50: min(best[i].P50, p.P50), P99: min(best[i].P99, p.P99), Ops: best[i].Ops + p.Ops}
			}
		}
	}
	st.r.Read, st.r.Write, st.r.Harness = best[0], best[1], best[2]
	st.progress("read p50 %s p99 %s, write p50 %s p99 %s", FormatDuration(best[0].P50), FormatDuration(best[0].P99),
		FormatDuration(best[1].P50), FormatDuration(best[1].P99))
	return nil
}

// idOnlyStore is a Store whose Reads only read the id they are given and
// report the payload read: the loop of Run with nothing behind it.
type idOnlyStore struct{ payload int }

func (s idOnlyStore) NewWorker() Worker { return &idOnlyWorker{payload: s.payload} }
func (idOnlyStore) Close() error        { return nil }

type idOnlyWorker struct {
	payload int
	// sum keeps what Read reads, so that the compiler cannot drop it.
	sum byte
}

func (w *idOnlyWorker) Read(_ context.Context, id string) (int, error) {
	for i := range len(id) {
		w.sum += id[i]
	}
	return w.payload, nil
}

func (w *idOnlyWorker) Write(context.Context, string, []byte, time.Time) error { return nil }

func (st *scaleStep) list(ctx context.Context) error {
	l, ok := st.store.st.(sessions.Lister)
	if !ok {
		return nil
	}
	t0 := time.Now()
	count := 0
	for _, err := range l.List(ctx) {
		if err != nil {
			return fmt.Errorf("list: %w", err)
		}
		count++
	}
	st.r.List = Timed{Elapsed: time.Since(t0), Count: count}
	if count != st.n {
		return fmt.Errorf("list yielded %d ids, want the %d live sessions", count, st.n)
	}
	st.progress("list of %s in %s", FormatCount(count), FormatDuration(st.r.List.Elapsed))
	return nil
}

// churn runs a sweep with nothing expired, then creates N expiring
// sessions and removes them with DeleteExpired in two halves: the first
// half's sweep runs under requests, which are sampled before and during
// it.
func (st *scaleStep) churn(ctx context.Context, sw sessions.Sweeper) error {
	t0 := time.Now()
	removed, err := sw.DeleteExpired(ctx)
	if err != nil {
		return fmt.Errorf("sweep with nothing expired: %w", err)
	}
	st.r.IdleSweep = &Timed{Elapsed: time.Since(t0), Count: removed}
	st.progress("sweep with nothing expired: %s", FormatDuration(st.r.IdleSweep.Elapsed))

	half := st.n / 2
	halves := [][2]int{{st.n, st.n + half}, {st.n + half, 2 * st.n}}
	for i, h := range halves {
		if err := st.expire(ctx, h[0], h[1]); err != nil {
			return err
		}
		if i == 0 {
			res, err := sweepUnderLoad(ctx, storageStore(st.store.st, nil), sw, st.live, st.payload, st.opts)
			res.Expired = h[1] - h[0]
			st.r.Sweep = &res
			if err != nil {
				return fmt.Errorf("sweep under requests: %w", err)
			}
			st.progress("sweep of %s expired in %s; requests' p99 %s before, %s during (%d requests)",
				FormatCount(res.Expired), FormatDuration(res.Sweep.Elapsed), FormatDuration(res.Before.P99),
				FormatDuration(res.During.P99), res.During.Ops)
			continue
		}
		t0 := time.Now()
		removed, err := sw.DeleteExpired(ctx)
		st.r.ChurnSweep = &Timed{Elapsed: time.Since(t0), Count: removed}
		if err != nil {
			return fmt.Errorf("second sweep of the churn: %w", err)
		}
	}
	return nil
}

// expire writes the sessions [from, to), each to expire ExpireAfter after
// its write, and waits until the last has expired.
func (st *scaleStep) expire(ctx context.Context, from, to int) error {
	ids := scaleIDs(from, to)
	var last atomic.Int64
	expires := func() time.Time {
		t := time.Now().Add(st.opts.ExpireAfter)
		for {
			old := last.Load()
			if t.UnixNano() <= old || last.CompareAndSwap(old, t.UnixNano()) {
				return t
			}
		}
	}
	if err := st.store.fill(ctx, ids, st.payload, expires); err != nil {
		return fmt.Errorf("churn: create: %w", err)
	}
	// A margin past the last expiry, for the clocks of servers (Postgres
	// compares with its own now()) and timestamp truncation.
	wait := time.Until(time.Unix(0, last.Load())) + 100*time.Millisecond
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// sweepUnderLoad runs opts.Concurrency goroutines of Mix90 requests over
// live, samples their latency for opts.Run.Duration, then runs one
// DeleteExpired and samples their latency until it returns.
func sweepUnderLoad(ctx context.Context, store Store, sw sessions.Sweeper, live []string, payload []byte,
	opts ScaleOptions) (SweepUnderLoad, error) {
	const (
		before = iota
		during
		stop
	)
	var (
		phase    atomic.Int32
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		hists    = make([][2]*Histogram, opts.Concurrency)
		expires  = time.Now().Add(time.Hour)
	)
	// A Histogram is about 9 KiB, made before the goroutines start.
	for g := range hists {
		hists[g] = [2]*Histogram{new(Histogram), new(Histogram)}
	}
	for g := range opts.Concurrency {
		w := store.NewWorker()
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := loop{w: w, wl: Workloads[2], ids: live, payload: payload, expires: expires, n: g * 101}
			prev := time.Now()
			for {
				p := phase.Load()
				if p == stop {
					return
				}
				err := l.op(ctx)
				now := time.Now()
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					phase.Store(stop)
					return
				}
				hists[g][p].Record(now.Sub(prev))
				prev = now
			}
		}()
	}
	var res SweepUnderLoad
	timer := time.NewTimer(opts.Run.Duration)
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
	timer.Stop()
	var sweepErr error
	if ctx.Err() == nil && phase.CompareAndSwap(before, during) {
		t0 := time.Now()
		var n int
		n, sweepErr = sw.DeleteExpired(ctx)
		res.Sweep = Timed{Elapsed: time.Since(t0), Count: n}
	}
	phase.Store(stop)
	wg.Wait()
	var b, d Histogram
	for _, h := range hists {
		b.Merge(h[before])
		d.Merge(h[during])
	}
	res.Before, res.During = percentilesOf(&b), percentilesOf(&d)
	if err := errors.Join(firstErr, sweepErr); err != nil {
		return res, err
	}
	return res, ctx.Err()
}

// fillWrites writes payload under every id through st's Write from
// goroutines goroutines: the fill of a backend without a bulk path.
func fillWrites(ctx context.Context, st sessions.Storage, ids []string, payload []byte, expires func() time.Time, goroutines int) error {
	var (
		wg       sync.WaitGroup
		next     atomic.Int64
		errOnce  sync.Once
		firstErr error
	)
	const chunk = 64
	write := func(w io.Writer) error { _, err := w.Write(payload); return err }
	for range min(goroutines, len(ids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(chunk)) - chunk
				if i >= len(ids) || ctx.Err() != nil {
					return
				}
				for _, id := range ids[i:min(i+chunk, len(ids))] {
					if err := st.Write(ctx, id, expires(), write); err != nil {
						errOnce.Do(func() { firstErr = err })
						next.Store(int64(len(ids)))
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// fillGoroutines is the number of writers of fillWrites: enough to keep
// both cores busy while the others wait on the disk or the network.
func fillGoroutines() int { return 8 * runtime.GOMAXPROCS(0) }
