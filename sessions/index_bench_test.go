package sessions_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// BenchmarkIndexOverhead measures what WithIndex adds to a request that
// reads a server-side session and sets a changed value (a ReplaceIndexed
// instead of a Replace, the index func and the index key's hash), over
// the same Indexer-capable test storage, in one run: the two handlers take
// turns in batches, as in BenchmarkRequestOverhead, so that a noisy
// machine slows both alike. It reports both costs per request (ns, allocs
// and bytes) and their ratio, x-plain:
//
//	go test -run '^$' -bench IndexOverhead -benchmem ./sessions
func BenchmarkIndexOverhead(b *testing.B) {
	const batch = 32
	build := func(opts ...sessions.Option) (http.Handler, string) {
		opts = append([]sessions.Option{sessions.WithStorage(newIndexStore())}, opts...)
		m, err := sessions.New(sessions.Cookie[benchSession]("S", opts...))
		if err != nil {
			b.Fatal(err)
		}
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, err := sessions.Get[benchSession](r.Context())
			if err != nil && err != sessions.ErrNoSession {
				b.Fatal(err)
			}
			v = benchValue
			v.ID++
			if err := sessions.Set(r.Context(), v); err != nil {
				b.Fatal(err)
			}
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		return h, "S=" + rec.Result().Cookies()[0].Value + "; other=1"
	}
	plain, plainCookie := build()
	indexed, indexedCookie := build(sessions.WithIndex(func(s benchSession) string { return s.User }))

	// Allocations and bytes per request, each handler on its own.
	perRequest := func(h http.Handler, cookie string) (allocs, bytes float64) {
		const n = 2000
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for range n {
			serveOnce(h, cookie)
		}
		runtime.ReadMemStats(&after)
		return float64(after.Mallocs-before.Mallocs) / n, float64(after.TotalAlloc-before.TotalAlloc) / n
	}
	for range 20 * batch { // untimed warm-up
		serveOnce(plain, plainCookie)
		serveOnce(indexed, indexedCookie)
	}
	plainAllocs, plainBytes := perRequest(plain, plainCookie)
	indexedAllocs, indexedBytes := perRequest(indexed, indexedCookie)

	var tPlain, tIndexed time.Duration
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			serveOnce(plain, plainCookie)
		}
		t1 := time.Now()
		for range batch {
			serveOnce(indexed, indexedCookie)
		}
		tPlain += t1.Sub(t0)
		tIndexed += time.Since(t1)
	}
	n := float64(b.N * batch)
	b.ReportMetric(float64(tPlain.Nanoseconds())/n, "plain-ns")
	b.ReportMetric(float64(tIndexed.Nanoseconds())/n, "indexed-ns")
	b.ReportMetric(float64(tIndexed)/float64(tPlain), "x-plain")
	b.ReportMetric(plainAllocs, "plain-allocs")
	b.ReportMetric(indexedAllocs, "indexed-allocs")
	b.ReportMetric(plainBytes, "plain-B")
	b.ReportMetric(indexedBytes, "indexed-B")
}
