package memory_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/memory"
)

// login is the session value of BenchmarkIndexedRequest: a user and some
// state that changes with every request.
type login struct {
	User  string
	Cart  []string
	Count int
}

// BenchmarkIndexedRequest is issue 13's cost of the index on memory: the
// same HTTP request (read the session, change it, write it back) through
// the middleware over a memory store, with and without WithIndex. The two
// handlers run in alternating batches in one loop, so that the machine's
// load moves both alike, and x-plain is the ratio of their times (the goal
// is at most 1.1).
func BenchmarkIndexedRequest(b *testing.B) {
	const batch = 32
	build := func(opts ...sessions.Option) (http.Handler, string) {
		store := memory.New()
		b.Cleanup(func() { store.Close() })
		opts = append([]sessions.Option{sessions.WithStorage(store)}, opts...)
		m, err := sessions.New(sessions.Cookie[login]("S", opts...))
		if err != nil {
			b.Fatal(err)
		}
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, err := sessions.Get[login](r.Context())
			if err != nil && !errors.Is(err, sessions.ErrNoSession) {
				b.Error(err)
				return
			}
			v.User, v.Cart, v.Count = "user-42", []string{"a", "b"}, v.Count+1
			if err := sessions.Set(r.Context(), v); err != nil {
				b.Error(err)
			}
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		return h, "S=" + rec.Result().Cookies()[0].Value
	}
	plain, plainCookie := build()
	indexed, indexedCookie := build(sessions.WithIndex(func(l login) string { return l.User }))
	serve := func(h http.Handler, cookie string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Cookie", cookie)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	for range 20 * batch { // untimed warm-up
		serve(plain, plainCookie)
		serve(indexed, indexedCookie)
	}
	var tPlain, tIndexed time.Duration
	for b.Loop() {
		t0 := time.Now()
		for range batch {
			serve(plain, plainCookie)
		}
		t1 := time.Now()
		for range batch {
			serve(indexed, indexedCookie)
		}
		tPlain += t1.Sub(t0)
		tIndexed += time.Since(t1)
	}
	n := float64(b.N * batch)
	b.ReportMetric(float64(tPlain.Nanoseconds())/n, "plain-ns")
	b.ReportMetric(float64(tIndexed.Nanoseconds())/n, "indexed-ns")
	b.ReportMetric(float64(tIndexed)/float64(tPlain), "x-plain")
}
