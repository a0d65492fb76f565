package sessions_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/sessions"
)

func TestNewRejectsInvalidRegistrations(t *testing.T) {
	store := sessions.FromBytes(newMapStore())
	u := sessions.WithUnsigned()
	cases := []struct {
		name      string
		providers []sessions.Provider
		wantErr   string
	}{
		{"duplicate cookie name", []sessions.Provider{sessions.Cookie[Login]("S", u), sessions.Cookie[Prefs]("S", u)}, `cookie "S" is registered twice`},
		{"duplicate type", []sessions.Provider{sessions.Cookie[Login]("A", u), sessions.Header[Login]("B", u)}, "sessions_test.Login is registered twice"},
		{"duplicate header name in other case", []sessions.Provider{sessions.Header[Login]("x-session", u), sessions.Header[Prefs]("X-Session", u)}, "registered twice"},
		{"empty cookie name", []sessions.Provider{sessions.Cookie[Login]("")}, "invalid cookie name"},
		{"cookie name with space", []sessions.Provider{sessions.Cookie[Login]("a b")}, "invalid cookie name"},
		{"cookie name with semicolon", []sessions.Provider{sessions.Cookie[Login]("a;b")}, "invalid cookie name"},
		{"empty header name", []sessions.Provider{sessions.Header[Login]("")}, "invalid header name"},
		{"header name with colon", []sessions.Provider{sessions.Header[Login]("X:Y")}, "invalid header name"},
		{"__Host- without Secure", []sessions.Provider{sessions.Cookie[Login]("__Host-S")}, "__Host-"},
		{"__Host- with Domain", []sessions.Provider{sessions.Cookie[Login]("__Host-S", sessions.WithCookie(func(c *http.Cookie) {
			c.Secure, c.Domain = true, "example.com"
		}))}, "__Host-"},
		{"__Host- with Path", []sessions.Provider{sessions.Cookie[Login]("__Host-S", sessions.WithCookie(func(c *http.Cookie) {
			c.Secure, c.Path = true, "/app"
		}))}, "__Host-"},
		{"__Secure- without Secure", []sessions.Provider{sessions.Cookie[Login]("__Secure-S")}, "__Secure-"},
		{"SameSite None without Secure", []sessions.Provider{sessions.Cookie[Login]("S", sessions.WithCookie(func(c *http.Cookie) {
			c.SameSite = http.SameSiteNoneMode
		}))}, "SameSite=None needs Secure"},
		{"Partitioned without Secure", []sessions.Provider{sessions.Cookie[Login]("S", sessions.WithCookie(func(c *http.Cookie) {
			c.Partitioned = true
		}))}, "artitioned"},
		{"serializer of another type", []sessions.Provider{sessions.Cookie[Login]("S", sessions.WithSerializer(sessions.JSON[Prefs]()))}, "does not serialize"},
		{"nil storage", []sessions.Provider{sessions.Cookie[Login]("S", sessions.WithStorage(nil))}, "nil Storage"},
		{"nil transformer", []sessions.Provider{sessions.Cookie[Login]("S", sessions.WithTransformers(nil))}, "transformer 0 is nil"},
		{"nil provider", []sessions.Provider{nil}, "nil Provider"},
		{"type the default codec cannot encode", []sessions.Provider{sessions.Cookie[struct{ C chan int }]("S")}, "chan"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := sessions.New(tc.providers...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("New() = %v, %v; want an error containing %q", m, err, tc.wantErr)
			}
			if m != nil {
				t.Fatalf("New returned a Manager along with an error")
			}
		})
	}
	t.Run("valid prefixes and distinct names", func(t *testing.T) {
		_, err := sessions.New(
			sessions.Cookie[Login]("__Host-S", sessions.WithStorage(store), sessions.WithCookie(func(c *http.Cookie) { c.Secure = true })),
			sessions.Cookie[Prefs]("__Secure-P", sessions.WithUnsigned(), sessions.WithCookie(func(c *http.Cookie) {
				c.Secure, c.SameSite, c.Partitioned = true, http.SameSiteNoneMode, true
			})),
			sessions.Header[API]("X-Session", sessions.WithUnsigned()),
		)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
	})
}

func TestUnregisteredTypeIsAnErrorNamingTheType(t *testing.T) {
	m := mustNew(t, sessions.Cookie[Login]("S", sessions.WithUnsigned()))
	var got error
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, got = sessions.Get[Prefs](r.Context())
	}))
	newClient(t, h).get("/")
	if !errors.Is(got, sessions.ErrNotRegistered) || !strings.Contains(got.Error(), "sessions_test.Prefs") {
		t.Fatalf("Get[Prefs] = %v; want ErrNotRegistered naming sessions_test.Prefs", got)
	}
	for name, f := range map[string]func() error{
		"Set":        func() error { return sessions.Set(t.Context(), Login{}) },
		"Clear":      func() error { return sessions.Clear[Login](t.Context()) },
		"Renew":      func() error { return sessions.Renew[Login](t.Context()) },
		"Invalidate": func() error { return sessions.Invalidate[Login](t.Context(), "x") },
		"Get":        func() error { _, err := sessions.Get[Login](t.Context()); return err },
		"ID":         func() error { _, err := sessions.ID[Login](t.Context()); return err },
	} {
		if err := f(); !errors.Is(err, sessions.ErrNotRegistered) || !strings.Contains(err.Error(), "Handler") {
			t.Errorf("%s outside a Manager = %v; want ErrNotRegistered saying no Handler was passed", name, err)
		}
	}
}

func TestNestedManagersReachOuterSessions(t *testing.T) {
	outer := mustNew(t, sessions.Cookie[Login]("L", sessions.WithUnsigned()))
	inner := mustNew(t, sessions.Cookie[Prefs]("P", sessions.WithUnsigned()))
	h := outer.Handler(inner.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Set(r.Context(), Login{User: "ann"}); err != nil {
			t.Error(err)
		}
		if err := sessions.Set(r.Context(), Prefs{Theme: "dark"}); err != nil {
			t.Error(err)
		}
	})))
	rec := newClient(t, h).get("/")
	got := setCookies(rec)
	if got["L"] == nil || got["P"] == nil {
		t.Fatalf("Set-Cookie = %v; want both the outer L and the inner P cookies", rec.Header()["Set-Cookie"])
	}
}
