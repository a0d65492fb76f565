package sessions_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// FuzzCookieRead feeds arbitrary Cookie headers to every kind of session:
// whatever a client sends is a session or "no session", never a panic or a
// server error.
func FuzzCookieRead(f *testing.F) {
	mac, err := sessions.MessageAuthentication([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		f.Fatal(err)
	}
	enc, err := sessions.Encrypt([]byte("0123456789abcdef"))
	if err != nil {
		f.Fatal(err)
	}
	store := newMapStore()
	m, err := sessions.New(
		sessions.Cookie[Login]("L", sessions.WithUnsigned()),
		sessions.Cookie[Prefs]("P", sessions.WithTransformers(mac)),
		sessions.Cookie[API]("A", sessions.WithTransformers(enc)),
		sessions.Cookie[struct{ N int }]("I", sessions.WithStorage(sessions.FromBytes(store))),
		sessions.Cookie[struct{ S []string }]("J", sessions.WithSerializer(sessions.JSON[struct{ S []string }]()), sessions.WithUnsigned()),
		// An idle timeout: the id travels with the session's times.
		sessions.Cookie[struct{ B bool }]("K", sessions.WithStorage(sessions.FromBytes(store)), sessions.WithIdleTimeout(time.Hour)),
	)
	if err != nil {
		f.Fatal(err)
	}
	// Seeds: real values of each session, so the fuzzer starts from inputs
	// that pass the outer checks.
	seed := newClient(f, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		sessions.Set(ctx, Login{User: "ann", Roles: []string{"a", "b"}})
		sessions.Set(ctx, Prefs{Theme: "dark"})
		sessions.Set(ctx, API{Token: "t"})
		sessions.Set(ctx, struct{ N int }{7})
		sessions.Set(ctx, struct{ S []string }{[]string{"x y", "\"q\""}})
		sessions.Set(ctx, struct{ B bool }{true})
	})))
	rec := seed.get("/")
	for _, line := range rec.Header()["Set-Cookie"] {
		c, _ := http.ParseSetCookie(line)
		f.Add(c.Name + "=" + c.Value)
	}
	f.Add("L=")
	f.Add("L=%ZZ; P=\"\"; A=%")
	f.Add("I=../../etc/passwd")
	f.Fuzz(func(t *testing.T, cookie string) {
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			for _, err := range []error{
				second(sessions.Get[Login](ctx)),
				second(sessions.Get[Prefs](ctx)),
				second(sessions.Get[API](ctx)),
				second(sessions.Get[struct{ N int }](ctx)),
				second(sessions.Get[struct{ S []string }](ctx)),
				second(sessions.Get[struct{ B bool }](ctx)),
			} {
				if err != nil && !errors.Is(err, sessions.ErrNoSession) {
					t.Errorf("Get = %v; want a session or ErrNoSession", err)
				}
			}
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d for Cookie %q", rec.Code, cookie)
		}
	})
}

func second[T any](_ T, err error) error { return err }
