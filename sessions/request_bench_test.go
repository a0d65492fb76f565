package sessions_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// benchSession is the session of the request benchmarks.
type benchSession struct {
	User    string
	ID      int64
	Roles   []string
	Expires time.Time
}

var benchValue = benchSession{User: "ann@example.com", ID: 42, Roles: []string{"admin", "editor"}, Expires: time.Unix(1_900_000_000, 0)}

// BenchmarkRequest measures a whole request that reads and writes a session
// (read, verify, decode, encode, sign, Set-Cookie) against a bare handler
// given the same request: same construction, same Cookie header. The
// sub-benchmarks run in one process, so their ratio is the layer's cost:
//
//	go test -run '^$' -bench 'Request/' -benchmem ./sessions
func BenchmarkRequest(b *testing.B) {
	for _, tc := range requestCases(b) {
		b.Run(tc.name+"/Bare", func(b *testing.B) { runRequests(b, bareHandler, tc.cookie) })
		b.Run(tc.name+"/Sessions", func(b *testing.B) { runRequests(b, tc.h, tc.cookie) })
	}
}

// BenchmarkRequestOverhead checks the speed target as a ratio measured in
// one run: the bare handler and the sessions handler take turns on the same
// request, in batches, so that a noisy machine slows both alike. It reports
// sessions-ns / bare-ns per case and fails when a request of any case
// costs more than twice the bare one.
func BenchmarkRequestOverhead(b *testing.B) {
	const batch = 32
	for _, tc := range requestCases(b) {
		b.Run(tc.name, func(b *testing.B) {
			// Untimed warm-up, so the first case measured in a fresh
			// process does not also pay for heap growth and cold caches.
			for range 20 * batch {
				serveOnce(bareHandler, tc.cookie)
				serveOnce(tc.h, tc.cookie)
			}
			var bare, withSessions time.Duration
			for b.Loop() {
				t0 := time.Now()
				for range batch {
					serveOnce(bareHandler, tc.cookie)
				}
				t1 := time.Now()
				for range batch {
					serveOnce(tc.h, tc.cookie)
				}
				bare += t1.Sub(t0)
				withSessions += time.Since(t1)
			}
			n := float64(b.N * batch)
			ratio := float64(withSessions) / float64(bare)
			b.ReportMetric(float64(bare.Nanoseconds())/n, "bare-ns")
			b.ReportMetric(float64(withSessions.Nanoseconds())/n, "sessions-ns")
			b.ReportMetric(ratio, "x-bare")
			if b.N >= 100 && ratio > 2 {
				b.Errorf("a %s request costs %.2fx a bare one; want at most 2x", tc.name, ratio)
			}
		})
	}
}

var bareHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

func serveOnce(h http.Handler, cookie string) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", cookie)
	h.ServeHTTP(httptest.NewRecorder(), req)
}

func runRequests(b *testing.B, h http.Handler, cookie string) {
	b.ReportAllocs()
	for b.Loop() {
		serveOnce(h, cookie)
	}
}

type requestCase struct {
	name   string
	h      http.Handler
	cookie string
}

// requestCases builds, per kind of session, a handler that reads and writes
// it and the Cookie header that every timed request carries.
func requestCases(b *testing.B) []requestCase {
	mac, _ := sessions.MessageAuthentication([]byte("0123456789abcdef0123456789abcdef"))
	enc, _ := sessions.Encrypt([]byte("0123456789abcdef0123456789abcdef"))
	cases := []struct {
		name string
		opts []sessions.Option
	}{
		{"ValueMAC", []sessions.Option{sessions.WithTransformers(mac)}},
		{"ValueEncrypt", []sessions.Option{sessions.WithTransformers(enc)}},
		{"ByIDBytes", []sessions.Option{sessions.WithStorage(sessions.FromBytes(newMapStore()))}},
	}
	var out []requestCase
	for _, tc := range cases {
		m, err := sessions.New(sessions.Cookie[benchSession]("S", tc.opts...))
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
		// A first request makes the cookie every timed request carries.
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		cookie := "S=" + rec.Result().Cookies()[0].Value + "; other=1"
		out = append(out, requestCase{tc.name, h, cookie})
	}
	return out
}
