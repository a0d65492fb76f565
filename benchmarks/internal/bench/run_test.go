package bench

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// fakeStore counts operations, and can be told to misbehave.
type fakeStore struct {
	reads, writes atomic.Int64
	populated     atomic.Bool
	readLen       func(payload int) int // nil: the payload's length
	err           error                 // returned by every operation
	delay         time.Duration
	payload       int
}

func (s *fakeStore) NewWorker() Worker { return s }
func (s *fakeStore) Close() error      { return nil }

func (s *fakeStore) Read(context.Context, string) (int, error) {
	s.reads.Add(1)
	time.Sleep(s.delay)
	if s.err != nil {
		return 0, s.err
	}
	if s.readLen != nil {
		return s.readLen(s.payload), nil
	}
	return s.payload, nil
}

func (s *fakeStore) Write(context.Context, string, []byte, time.Time) error {
	s.writes.Add(1)
	time.Sleep(s.delay)
	return s.err
}

type populatingStore struct{ fakeStore }

func (s *populatingStore) Populate(context.Context, []string, []byte, time.Time) error {
	s.populated.Store(true)
	return nil
}

func TestRunMeasuresWhatTheStoreDid(t *testing.T) {
	st := &fakeStore{payload: 128}
	cell := Cell{Workload: Workloads[2], Size: Sizes[0], Concurrency: 3}
	m, err := Run(t.Context(), st, cell, IDs(Sizes[0]), Payload(128), RunOptions{Duration: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	total := uint64(st.reads.Load() + st.writes.Load())
	if m.Ops == 0 || m.Ops != total {
		t.Fatalf("Ops = %d, but the store saw %d operations", m.Ops, total)
	}
	if m.Elapsed < 30*time.Millisecond || m.OpsPerSec <= 0 {
		t.Errorf("Elapsed %v, OpsPerSec %v: want at least the duration and a positive rate", m.Elapsed, m.OpsPerSec)
	}
	if got := float64(m.Ops) / m.Elapsed.Seconds(); got != m.OpsPerSec {
		t.Errorf("OpsPerSec = %v, want Ops/Elapsed = %v", m.OpsPerSec, got)
	}
	if !(m.P50 > 0 && m.P99 >= m.P50 && m.Max >= m.P99) {
		t.Errorf("latencies p50 %v, p99 %v, max %v are not ordered and positive", m.P50, m.P99, m.Max)
	}
}

func TestRunFollowsTheWorkloadMix(t *testing.T) {
	for _, wl := range Workloads {
		t.Run(wl.Name, func(t *testing.T) {
			st := &fakeStore{payload: 128}
			cell := Cell{Workload: wl, Size: Sizes[0], Concurrency: 1}
			if _, err := Run(t.Context(), st, cell, IDs(Sizes[0]), Payload(128), RunOptions{Duration: 10 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
			reads, writes := st.reads.Load(), st.writes.Load()
			// One goroutine starting at n = 0 writes exactly when
			// n%10 < WriteEvery: the count is exact up to the last
			// unfinished run of ten.
			n := reads + writes
			want := n/10*int64(wl.WriteEvery) + min(n%10, int64(wl.WriteEvery))
			if writes != want {
				t.Errorf("%d operations: %d writes, want %d", n, writes, want)
			}
		})
	}
}

func TestRunCatchesAWrongReadLength(t *testing.T) {
	st := &fakeStore{payload: 128, readLen: func(n int) int { return n - 1 }}
	cell := Cell{Workload: Workloads[0], Size: Sizes[0], Concurrency: 2}
	_, err := Run(t.Context(), st, cell, IDs(Sizes[0]), Payload(128), RunOptions{Duration: 10 * time.Millisecond})
	if !errors.Is(err, errShortRead) {
		t.Errorf("Run over a store that reads one byte short returned %v, want an error wrapping errShortRead", err)
	}
}

func TestRunReturnsTheStoresError(t *testing.T) {
	boom := errors.New("boom")
	st := &fakeStore{payload: 128, err: boom}
	cell := Cell{Workload: Workloads[1], Size: Sizes[0], Concurrency: 4}
	m, err := Run(t.Context(), st, cell, IDs(Sizes[0]), Payload(128), RunOptions{Duration: time.Second})
	if !errors.Is(err, boom) {
		t.Errorf("Run returned %v, want the store's error", err)
	}
	if m.Ops != 0 {
		t.Errorf("a failed Run reported %d operations", m.Ops)
	}
	// Every goroutine stops at its first error rather than running on
	// for the whole second.
	if n := st.writes.Load(); n > 4 {
		t.Errorf("the store saw %d writes after every one failed; want one per goroutine", n)
	}
}

func TestRunExtendsASlowCellToMinOps(t *testing.T) {
	st := &fakeStore{payload: 128, delay: 2 * time.Millisecond}
	cell := Cell{Workload: Workloads[0], Size: Sizes[0], Concurrency: 1}
	opts := RunOptions{Duration: 10 * time.Millisecond, MinOps: 12}
	m, err := Run(t.Context(), st, cell, IDs(Sizes[0]), Payload(128), opts)
	if err != nil {
		t.Fatal(err)
	}
	// Ten milliseconds hold about 5 operations of 2ms; the cell must go
	// on to 12 (24ms or so), within its limit of four durations (40ms),
	// and not past the limit by more than an operation or so.
	if m.Ops < 10 || m.Elapsed > 80*time.Millisecond {
		t.Errorf("Ops %d in %v: want the cell extended toward 12 operations and stopped by 40ms", m.Ops, m.Elapsed)
	}
	st = &fakeStore{payload: 128, delay: 2 * time.Millisecond}
	opts.MinOps = 1000
	m, err = Run(t.Context(), st, cell, IDs(Sizes[0]), Payload(128), opts)
	if err != nil {
		t.Fatal(err)
	}
	if m.Elapsed > 80*time.Millisecond {
		t.Errorf("a cell that cannot reach MinOps ran %v, want it stopped at four durations (40ms)", m.Elapsed)
	}
}

func TestRunStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	st := &fakeStore{payload: 128}
	cell := Cell{Workload: Workloads[0], Size: Sizes[0], Concurrency: 2}
	_, err := Run(ctx, st, cell, IDs(Sizes[0]), Payload(128), RunOptions{Duration: time.Minute})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context returned %v, want context.Canceled", err)
	}
}

func TestPopulate(t *testing.T) {
	ids := IDs(Sizes[0])
	st := &fakeStore{payload: 128}
	if err := Populate(t.Context(), st, ids, Payload(128), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := st.writes.Load(); n != int64(len(ids)) {
		t.Errorf("Populate wrote %d entries, want one per id: %d", n, len(ids))
	}
	ps := &populatingStore{fakeStore{payload: 128}}
	if err := Populate(t.Context(), ps, ids, Payload(128), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !ps.populated.Load() || ps.writes.Load() != 0 {
		t.Errorf("Populate did not use the store's Populator (populated %v, %d single writes)", ps.populated.Load(), ps.writes.Load())
	}
	bad := &fakeStore{err: errors.New("disk full")}
	if err := Populate(t.Context(), bad, ids, Payload(128), time.Now()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Populate over a failing store returned %v, want its error", err)
	}
}

func TestIDsAndPayloads(t *testing.T) {
	for _, sz := range Sizes {
		ids := IDs(sz)
		if len(ids) != IDsPerSize {
			t.Fatalf("IDs(%s) has %d ids, want %d", sz.Name, len(ids), IDsPerSize)
		}
		seen := make(map[string]bool)
		for _, id := range ids {
			if err := sessions.CheckID(id); err != nil {
				t.Fatalf("IDs(%s) made %q, which backends refuse: %v", sz.Name, id, err)
			}
			if seen[id] {
				t.Fatalf("IDs(%s) repeats %q", sz.Name, id)
			}
			seen[id] = true
		}
		p := Payload(sz.Bytes)
		if len(p) != sz.Bytes || !bytes.Equal(p, Payload(sz.Bytes)) {
			t.Errorf("Payload(%d) has length %d or differs between calls", sz.Bytes, len(p))
		}
	}
	// Not one byte repeated: a store that compresses must not get it for
	// free.
	if p := Payload(4096); bytes.Count(p, p[:1]) == len(p) {
		t.Error("Payload is one repeated byte")
	}
}

func TestParseLists(t *testing.T) {
	wl, err := ParseWorkloads("mix90, READ")
	if err != nil || len(wl) != 2 || wl[0].Name != "Read" || wl[1].Name != "Mix90" {
		t.Errorf("ParseWorkloads(\"mix90, READ\") = %v, %v; want Read, Mix90 in the standard order", wl, err)
	}
	if all, _ := ParseSizes(""); len(all) != len(Sizes) {
		t.Errorf("ParseSizes(\"\") selected %d sizes, want all %d", len(all), len(Sizes))
	}
	if _, err := ParseSizes("4KiB,1MiB"); err == nil || !strings.Contains(err.Error(), "1mib") {
		t.Errorf("ParseSizes with an unknown size returned %v, want an error naming it", err)
	}
	cs, err := ParseConcurrencies("64, 1,8,8")
	if err != nil || !slices.Equal(cs, []int{1, 8, 64}) {
		t.Errorf("ParseConcurrencies = %v, %v; want [1 8 64]", cs, err)
	}
	for _, bad := range []string{"0", "-1", "x", "1.5", "8x", "100000"} {
		if _, err := ParseConcurrencies(bad); err == nil {
			t.Errorf("ParseConcurrencies(%q) succeeded", bad)
		}
	}
}

func TestSelectSubjects(t *testing.T) {
	all := Subjects()
	names := func(ss []Subject) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Name)
		}
		return out
	}
	tests := []struct {
		filter string
		want   []string
	}{
		{"scs/memstore", []string{"scs/memstore"}},
		{"bolt", []string{"sessionkit/bolt", "raw/bbolt"}},
		{"cache", []string{"sessionkit/cache+directory", "sessionkit/cache+redis"}},
		{"postgres,memory", []string{"sessionkit/memory", "raw/map+RWMutex", "scs/memstore",
			"sessionkit/postgres", "raw/pgx", "scs/pgxstore"}},
	}
	for _, tt := range tests {
		got, err := SelectSubjects(all, tt.filter)
		if err != nil || !slices.Equal(names(got), tt.want) {
			t.Errorf("SelectSubjects(%q) = %v, %v; want %v", tt.filter, names(got), err, tt.want)
		}
	}
	if got, _ := SelectSubjects(all, "all"); len(got) != len(all) {
		t.Errorf("\"all\" selected %d of %d subjects", len(got), len(all))
	}
	if _, err := SelectSubjects(all, "memory,nosuch"); err == nil {
		t.Error("a filter term that matches nothing was accepted")
	}
}

func TestSubjectsCoverEveryKindWithARawDriver(t *testing.T) {
	seen := make(map[string]map[Role]int)
	for _, s := range Subjects() {
		if s.Note == "" || s.Open == nil {
			t.Errorf("subject %s has no note or no Open", s.Name)
		}
		if seen[s.Kind] == nil {
			seen[s.Kind] = make(map[Role]int)
		}
		seen[s.Kind][s.Role]++
	}
	for _, k := range Kinds {
		if seen[k][Raw] != 1 || seen[k][Sessionkit] < 1 {
			t.Errorf("kind %s has %d raw drivers and %d sessionkit backends; want exactly 1 and at least 1",
				k, seen[k][Raw], seen[k][Sessionkit])
		}
	}
}

// TestLocalSubjectsRoundTrip opens every subject that needs no server and
// checks that what it writes it reads back whole: a subject that lost data
// would otherwise only show as a failed cell in a long run.
func TestLocalSubjectsRoundTrip(t *testing.T) {
	payload := Payload(4096)
	for _, s := range Subjects() {
		if s.Needs != NoServer {
			continue
		}
		t.Run(s.Slug(), func(t *testing.T) {
			st, err := s.Open(t.Context(), Env{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := st.Close(); err != nil {
					t.Error(err)
				}
			}()
			w := st.NewWorker()
			if err := w.Write(t.Context(), "bench-test-1", payload, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if n, err := w.Read(t.Context(), "bench-test-1"); err != nil || n != len(payload) {
				t.Errorf("Read after Write = %d, %v; want %d bytes", n, err, len(payload))
			}
			if _, err := w.Read(t.Context(), "bench-test-absent"); err == nil {
				t.Error("Read of an id never written succeeded")
			}
		})
	}
}

func TestRunMatrixReportsSkippedAndFailedSubjects(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	good := Subject{Name: "raw/map+RWMutex", Kind: KindMemory, Role: Raw,
		Open: func(context.Context, Env) (Store, error) { return &rawMap{m: make(map[string]rawEntry)}, nil }}
	broken := Subject{Name: "broken", Kind: KindMemory, Role: Peer,
		Open: func(context.Context, Env) (Store, error) { return nil, errors.New("cannot open") }}
	needy := Subject{Name: "needs-redis", Kind: KindRedis, Role: Peer, Needs: RedisServer,
		Open: func(context.Context, Env) (Store, error) {
			t.Error("opened a subject whose server is missing")
			return nil, nil
		}}
	opts := MatrixOptions{
		Workloads: Workloads[:2], Sizes: Sizes[:1], Concurrencies: []int{1, 2},
		Run:         RunOptions{Duration: 2 * time.Millisecond},
		TempDir:     t.TempDir(),
		RedisReason: "no engine",
		Progress:    func(l string) { mu.Lock(); lines = append(lines, l); mu.Unlock() },
	}
	results, skipped, err := RunMatrix(t.Context(), []Subject{good, broken, needy}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0].Subject != "needs-redis" || skipped[0].Reason != "no engine" {
		t.Errorf("skipped = %+v, want needs-redis with the reason given", skipped)
	}
	var ok, failed int
	for _, r := range results {
		switch {
		case r.Subject == "raw/map+RWMutex" && !r.Failed() && r.Ops > 0:
			ok++
		case r.Subject == "broken" && strings.Contains(r.Err, "cannot open"):
			failed++
		default:
			t.Errorf("unexpected result %+v", r)
		}
	}
	if cells := opts.CellsPerSubject(); ok != cells || failed != cells {
		t.Errorf("%d measured and %d failed cells, want %d of each: a failing subject must show in every cell", ok, failed, cells)
	}
	// One line per measured cell, one for the failed subject, one for the
	// skipped one.
	if want := opts.CellsPerSubject() + 2; len(lines) != want {
		t.Errorf("%d progress lines, want %d:\n%s", len(lines), want, strings.Join(lines, "\n"))
	}
}
