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
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	run := func(b *testing.B, h http.Handler, cookie string) {
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Cookie", cookie)
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	}
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
		b.Run(tc.name+"/Bare", func(b *testing.B) { run(b, bare, cookie) })
		b.Run(tc.name+"/Sessions", func(b *testing.B) { run(b, h, cookie) })
	}
}
