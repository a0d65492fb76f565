package soak

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"time"
)

// Violation kinds: what the model says must never happen. Each is counted
// separately so that a test can require zero of one kind while a fault run
// (a failover, which may lose what was not yet replicated) only reports it.
const (
	// EndedAccepted: a logged-out, renewed-away or expired id was accepted
	// by a later request, so an ended session came back.
	EndedAccepted = "ended id accepted"
	// WriteLost: a cart write answered 200 is not what the next request of
	// the same session, which still lives, reads.
	WriteLost = "acknowledged write lost"
	// SessionLost: a session that was neither ended nor due to expire was
	// answered "no session".
	SessionLost = "live session lost"
	// Hung: a request outlived the hang bound, far beyond its deadline.
	Hung = "request hung"
	// Leak: heap or goroutines grew between warm-up and the end beyond
	// the generous relative bound.
	Leak = "not flat"
)

// model is the shared part of the checks: the ring of ended ids that
// probes replay, and the violation counters. Per-session expectations live
// in each worker, which owns its session alone.
type model struct {
	mu         sync.Mutex
	ended      []string // cookie values of ended sessions, a ring
	next       int
	filled     bool
	violations map[string]int
	examples   map[string]string
}

func newModel(ring int) *model {
	return &model{ended: make([]string, ring), violations: map[string]int{}, examples: map[string]string{}}
}

// end records a cookie value whose session ended: it must never be
// accepted again.
func (m *model) end(cookie string) {
	if cookie == "" {
		return
	}
	m.mu.Lock()
	m.ended[m.next] = cookie
	m.next++
	if m.next == len(m.ended) {
		m.next, m.filled = 0, true
	}
	m.mu.Unlock()
}

// pick returns an ended cookie value to probe, "" when none is known yet.
func (m *model) pick(r uint64) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.next
	if m.filled {
		n = len(m.ended)
	}
	if n == 0 {
		return ""
	}
	return m.ended[r%uint64(n)]
}

func (m *model) violate(kind, format string, args ...any) {
	m.mu.Lock()
	m.violations[kind]++
	if _, ok := m.examples[kind]; !ok {
		m.examples[kind] = fmt.Sprintf(format, args...)
	}
	m.mu.Unlock()
}

// histogram is a fixed-size log-bucketed latency histogram (2% buckets
// from 1 µs), so that recording costs no allocation and the model's own
// memory stays flat however long the run.
type histogram struct {
	counts [1200]uint64
	n      uint64
	max    time.Duration
}

const bucketBase = 1.02

func (h *histogram) record(d time.Duration) {
	us := float64(d) / float64(time.Microsecond)
	i := 0
	if us > 1 {
		i = int(math.Log(us) / math.Log(bucketBase))
	}
	if i >= len(h.counts) {
		i = len(h.counts) - 1
	}
	h.counts[i]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	target := uint64(math.Ceil(q * float64(h.n)))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= target {
			return time.Duration(math.Pow(bucketBase, float64(i+1)) * float64(time.Microsecond))
		}
	}
	return h.max
}

// Interval is one reporting interval of a run.
type Interval struct {
	// Start is the interval's start, from the beginning of the run.
	Start time.Duration
	// Requests counts the timed requests that ended in it (all but the
	// racing writes the load holds on purpose, whose latency is the hold),
	// Failures every failed one; a failure is a transport error or a 5xx
	// answer.
	Requests, Failures uint64
	// P50, P99 and Max are the latencies of its timed requests, failed or
	// not.
	P50, P99, Max time.Duration
}

// Result is what Run measured and what the model found.
type Result struct {
	Backend   string
	Duration  time.Duration
	Intervals []Interval
	// Violations counts the model's violations by kind (the constants of
	// this package); Examples holds the first of each, without ids.
	Violations map[string]int
	Examples   map[string]string
	// Requests, Failures, Logins, Logouts, Renews, Expired, Probes and
	// CartWrites count what the load did.
	Requests, Failures, Logins, Logouts, Renews, Expired, Probes, CartWrites uint64
	// HeapWarm, HeapEnd, GoroutinesWarm and GoroutinesEnd are sampled
	// after a GC at the end of warm-up and at the end of the load.
	HeapWarm, HeapEnd             uint64
	GoroutinesWarm, GoroutinesEnd int
	// MaxFailedLatency is the longest a failed request took: with a fault,
	// it says whether requests failed within their deadline.
	MaxFailedLatency time.Duration
	// Fault is what the fault function reported, "" without one.
	Fault string
	// FaultStart and FaultEnd are when the fault function was called and
	// returned; FirstFailure and LastFailure when the first and the last
	// failed request of the run ended (zero without failures). All are
	// from the start of the run. LastFailure-FaultEnd is the time the store
	// took to recover once the server was back.
	FaultStart, FaultEnd, FirstFailure, LastFailure time.Duration
}

// Kinds returns the violation kinds found, sorted.
func (r *Result) Kinds() []string {
	var ks []string
	for k, n := range r.Violations {
		if n > 0 {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// String renders the result as a small text report: one line per interval
// with its p99, then the counts and the violations.
func (r *Result) String() string {
	s := fmt.Sprintf("soak %s, %s: %d requests, %d failed, %d logins, %d renews, %d logouts, %d expired, %d cart writes, %d probes of ended ids\n",
		r.Backend, r.Duration.Round(time.Millisecond), r.Requests, r.Failures, r.Logins, r.Renews, r.Logouts, r.Expired, r.CartWrites, r.Probes)
	for _, iv := range r.Intervals {
		s += fmt.Sprintf("  %8s  %7d req  %5d failed  p50 %9s  p99 %9s  max %9s\n",
			iv.Start.Round(time.Second), iv.Requests, iv.Failures, iv.P50.Round(time.Microsecond), iv.P99.Round(time.Microsecond), iv.Max.Round(time.Microsecond))
	}
	s += fmt.Sprintf("  heap %d -> %d bytes, goroutines %d -> %d (after warm-up -> end); longest failed request %s\n",
		r.HeapWarm, r.HeapEnd, r.GoroutinesWarm, r.GoroutinesEnd, r.MaxFailedLatency.Round(time.Millisecond))
	if r.Fault != "" {
		s += fmt.Sprintf("  fault: %s, from %s to %s; failures from %s to %s; recovered %s after the fault ended\n",
			r.Fault, r.FaultStart.Round(time.Millisecond), r.FaultEnd.Round(time.Millisecond),
			r.FirstFailure.Round(time.Millisecond), r.LastFailure.Round(time.Millisecond), r.Recovery().Round(time.Millisecond))
	}
	for _, k := range r.Kinds() {
		s += fmt.Sprintf("  VIOLATION %s: %d (first: %s)\n", k, r.Violations[k], r.Examples[k])
	}
	return s
}

// Recovery is how long requests kept failing after the fault function
// returned (the server was back): zero when none failed after it.
func (r *Result) Recovery() time.Duration {
	return max(r.LastFailure-r.FaultEnd, 0)
}
