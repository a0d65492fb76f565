package sessions_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

func TestSlidingExpiryMovesTheLifetime(t *testing.T) {
	t.Run("storage with Toucher", func(t *testing.T) {
		store := touchStore{newMapStore()}
		m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store)), sessions.WithSlidingExpiry()))
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		sessions.SetClock(m, func() time.Time { return now })
		c := newClient(t, routes(m, map[string]func(http.ResponseWriter, *http.Request) error{
			"/login": func(w http.ResponseWriter, r *http.Request) error {
				return sessions.Set(r.Context(), Login{User: "ann"})
			},
			"/nothing": func(w http.ResponseWriter, r *http.Request) error { return nil },
		}))
		c.get("/login")
		_, saves0, _, _ := store.counts()
		now = now.Add(time.Hour)
		rec := c.get("/nothing")
		ck := setCookies(rec)["LOGIN"]
		if ck == nil || ck.MaxAge != int(sessions.DefaultMaxAge/time.Second) {
			t.Fatalf("Set-Cookie %v; want the cookie sent again with a full Max-Age", ck)
		}
		_, saves, _, touches := store.counts()
		if touches != 1 || saves != saves0 {
			t.Fatalf("touches %d, new writes %d; want one Touch and no rewrite", touches, saves-saves0)
		}
		for _, exp := range store.expires {
			if !exp.Equal(now.Add(sessions.DefaultMaxAge)) {
				t.Fatalf("entry expires %v; want %v", exp, now.Add(sessions.DefaultMaxAge))
			}
		}
		c.cookies["LOGIN"] = "unknown-id"
		if ck := setCookies(c.get("/nothing"))["LOGIN"]; ck == nil || ck.MaxAge >= 0 {
			t.Fatalf("sliding an unknown id: Set-Cookie %v; want the cookie cleared", ck)
		}
	})
	t.Run("storage without Toucher", func(t *testing.T) {
		store := newMapStore()
		m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store)), sessions.WithSlidingExpiry()))
		c := newClient(t, routes(m, map[string]func(http.ResponseWriter, *http.Request) error{
			"/login": func(w http.ResponseWriter, r *http.Request) error {
				return sessions.Set(r.Context(), Login{User: "ann"})
			},
			"/nothing": func(w http.ResponseWriter, r *http.Request) error { return nil },
		}))
		c.get("/login")
		id := c.cookies["LOGIN"]
		before := string(store.data[id])
		_, saves0, _, _ := store.counts()
		rec := c.get("/nothing")
		if setCookies(rec)["LOGIN"] == nil {
			t.Fatal("no Set-Cookie; want the cookie sent again")
		}
		if _, saves, _, _ := store.counts(); saves != saves0+1 || string(store.data[id]) != before {
			t.Fatalf("%d rewrites, data %q; want one rewrite of the same data %q", saves-saves0, store.data[id], before)
		}
	})
	t.Run("client-side value", func(t *testing.T) {
		m := mustNew(t, sessions.Cookie[Prefs]("P", sessions.WithTransformers(mustMAC(t)), sessions.WithSlidingExpiry(),
			sessions.WithCookie(func(c *http.Cookie) { c.MaxAge = 60 })))
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		sessions.SetClock(m, func() time.Time { return now })
		c := newClient(t, routes(m, map[string]func(http.ResponseWriter, *http.Request) error{
			"/set": func(w http.ResponseWriter, r *http.Request) error {
				return sessions.Set(r.Context(), Prefs{Theme: "dark"})
			},
			"/nothing": func(w http.ResponseWriter, r *http.Request) error { return nil },
			"/get": func(w http.ResponseWriter, r *http.Request) error {
				_, err := sessions.Get[Prefs](r.Context())
				return err
			},
		}))
		c.get("/set")
		for i := 0; i < 3; i++ { // three minutes of activity, 50 s apart
			now = now.Add(50 * time.Second)
			c.get("/nothing")
		}
		if rec := c.get("/get"); bodyErr(rec) != "" {
			t.Fatalf("an active session expired: %s", bodyErr(rec))
		}
	})
	t.Run("off by default", func(t *testing.T) {
		store := touchStore{newMapStore()}
		c := newClient(t, loginApp(t, sessions.FromBytes(store)))
		c.get("/login?user=ann")
		if rec := c.get("/nothing"); len(rec.Header()["Set-Cookie"]) != 0 {
			t.Fatalf("Set-Cookie %q without sliding expiry", rec.Header()["Set-Cookie"])
		}
		if _, _, _, touches := store.counts(); touches != 0 {
			t.Fatalf("%d touches without sliding expiry", touches)
		}
	})
}
