package sessions_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ now time.Time }

func newFakeClock(m *sessions.Manager) *fakeClock {
	c := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	sessions.SetClock(m, func() time.Time { return c.now })
	return c
}

func (c *fakeClock) advance(d time.Duration) { c.now = c.now.Add(d) }

// lifetimeModes are the three ways a session is kept, each with the
// options under test appended.
func lifetimeModes(t *testing.T) []struct {
	name  string
	store *mapStore
	opts  func(extra ...sessions.Option) []sessions.Option
} {
	type mode = struct {
		name  string
		store *mapStore
		opts  func(extra ...sessions.Option) []sessions.Option
	}
	mac := mustMAC(t)
	touch, plain := newMapStore(), newMapStore()
	return []mode{
		{"client-side", nil, func(extra ...sessions.Option) []sessions.Option {
			return append([]sessions.Option{sessions.WithTransformers(mac)}, extra...)
		}},
		{"server-side with Toucher", touch, func(extra ...sessions.Option) []sessions.Option {
			return append([]sessions.Option{sessions.WithStorage(sessions.FromBytes(touchStore{touch}))}, extra...)
		}},
		{"server-side without Toucher", plain, func(extra ...sessions.Option) []sessions.Option {
			return append([]sessions.Option{sessions.WithStorage(sessions.FromBytes(plain))}, extra...)
		}},
	}
}

// sessionApp serves /set (Set), /get (Get), /renew and /nothing for a
// Login session made with opts, on a fake clock.
func sessionApp(t *testing.T, opts ...sessions.Option) (*client, *fakeClock) {
	t.Helper()
	m := mustNew(t, sessions.Cookie[Login]("S", opts...))
	clock := newFakeClock(m)
	return newClient(t, routes(m, map[string]func(http.ResponseWriter, *http.Request) error{
		"/set": func(w http.ResponseWriter, r *http.Request) error {
			return sessions.Set(r.Context(), Login{User: "ann"})
		},
		"/get": func(w http.ResponseWriter, r *http.Request) error {
			_, err := sessions.Get[Login](r.Context())
			return err
		},
		"/renew":   func(w http.ResponseWriter, r *http.Request) error { return sessions.Renew[Login](r.Context()) },
		"/nothing": func(w http.ResponseWriter, r *http.Request) error { return nil },
	})), clock
}

// TestLifetimeIsAbsolute: activity never extends a session past its
// lifetime, and the cookie's Max-Age is the lifetime that remains.
func TestLifetimeIsAbsolute(t *testing.T) {
	for _, mode := range lifetimeModes(t) {
		t.Run(mode.name, func(t *testing.T) {
			c, clock := sessionApp(t, mode.opts(sessions.WithLifetime(time.Hour), sessions.WithIdleTimeout(10*time.Minute))...)
			start := clock.now
			rec := c.get("/set")
			if ck := setCookies(rec)["S"]; ck == nil || ck.MaxAge != 600 {
				t.Fatalf("Set-Cookie %v; want Max-Age 600, the idle timeout", ck)
			}
			for range 14 { // 56 minutes of activity, 4 minutes apart
				clock.advance(4 * time.Minute)
				rec := c.get("/get")
				if err := bodyErr(rec); err != "" {
					t.Fatalf("at %v an active session ended: %s", clock.now.Sub(start), err)
				}
				if ck := setCookies(rec)["S"]; ck != nil {
					remaining := start.Add(time.Hour).Sub(clock.now)
					if time.Duration(ck.MaxAge)*time.Second > remaining {
						t.Fatalf("at %v: Max-Age %ds, past the lifetime's remaining %v", clock.now.Sub(start), ck.MaxAge, remaining)
					}
				}
			}
			if mode.store != nil {
				for id, exp := range mode.store.expires {
					if exp.After(start.Add(time.Hour)) {
						t.Fatalf("entry %s expires %v, after the lifetime's end %v", id, exp, start.Add(time.Hour))
					}
				}
			}
			clock.advance(5 * time.Minute) // 61 minutes after creation
			if err := errFrom(c.get("/get")); !errors.Is(err, sessions.ErrNoSession) {
				t.Fatalf("a session past its lifetime: Get = %v; want ErrNoSession", err)
			}
		})
	}
}

// TestSetKeepsTheCreationTimeAndRenewResetsIt: a Set on an existing session
// is activity, which never extends the lifetime; Renew starts a new one.
func TestSetKeepsTheCreationTimeAndRenewResetsIt(t *testing.T) {
	for _, mode := range lifetimeModes(t) {
		t.Run(mode.name, func(t *testing.T) {
			c, clock := sessionApp(t, mode.opts(sessions.WithLifetime(time.Hour))...)
			c.get("/set")
			clock.advance(50 * time.Minute)
			if ck := setCookies(c.get("/set"))["S"]; ck == nil || ck.MaxAge != 600 {
				t.Fatalf("Set 50 minutes in: Set-Cookie %v; want Max-Age 600, what remains of the lifetime", ck)
			}
			if ck := setCookies(c.get("/renew"))["S"]; ck == nil || ck.MaxAge != 3600 {
				t.Fatalf("Renew: Set-Cookie %v; want Max-Age 3600, a fresh lifetime", ck)
			}
			clock.advance(30 * time.Minute)
			if err := bodyErr(c.get("/get")); err != "" {
				t.Fatalf("30 minutes after Renew: %s; want the session", err)
			}
		})
	}
}

// TestIdleTimeoutEndsAnIdleSession: without a request for the idle
// timeout, the session ends, well before its lifetime.
func TestIdleTimeoutEndsAnIdleSession(t *testing.T) {
	for _, mode := range lifetimeModes(t) {
		t.Run(mode.name, func(t *testing.T) {
			c, clock := sessionApp(t, mode.opts(sessions.WithIdleTimeout(10*time.Minute))...)
			c.get("/set")
			clock.advance(9 * time.Minute)
			if err := bodyErr(c.get("/nothing")); err != "" {
				t.Fatal(err)
			}
			clock.advance(9 * time.Minute) // moved at 9: still alive at 18
			if err := bodyErr(c.get("/get")); err != "" {
				t.Fatalf("a session active 9 minutes ago ended: %s", err)
			}
			clock.advance(11 * time.Minute)
			if mode.store != nil {
				// The storage expires the entry; the mapStore does not, so
				// do what a real one would.
				for id, exp := range mode.store.expires {
					if !clock.now.Before(exp) {
						delete(mode.store.data, id)
					}
				}
			}
			if err := errFrom(c.get("/get")); !errors.Is(err, sessions.ErrNoSession) {
				t.Fatalf("after 11 idle minutes: Get = %v; want ErrNoSession", err)
			}
		})
	}
}

// TestIdleTimeoutCostsOneTouchPerHalfWindow: moving the idle expiry costs
// a storage call only once less than half the window remains, so a burst
// of requests costs one Touch, and a steady stream one per half window.
// Counts of storage calls under a fake clock are deterministic.
func TestIdleTimeoutCostsOneTouchPerHalfWindow(t *testing.T) {
	cases := []struct {
		name     string
		idle     time.Duration // before the first of the 100 requests
		gap      time.Duration // between them
		min, max int
	}{
		// Past half the 30-minute window, a burst moves it once.
		{"a burst, 100 requests in 100 seconds", 16 * time.Minute, time.Second, 1, 1},
		// 100 minutes with a 30-minute window: a move every 15 minutes.
		{"a steady stream, 100 requests a minute apart", 0, time.Minute, 1, 7},
	}
	for _, tc := range cases {
		for _, path := range []string{"/get", "/nothing"} {
			t.Run(tc.name+" "+path, func(t *testing.T) {
				store := newMapStore()
				c, clock := sessionApp(t, sessions.WithStorage(sessions.FromBytes(touchStore{store})), sessions.WithIdleTimeout(30*time.Minute))
				c.get("/set")
				_, saves0, _, _ := store.counts()
				clock.advance(tc.idle)
				for range 100 {
					clock.advance(tc.gap)
					if err := bodyErr(c.get(path)); err != "" {
						t.Fatal(err)
					}
				}
				_, saves, _, touches := store.counts()
				writes := saves - saves0 + touches
				t.Logf("%d storage writes (%d Touch) per 100 requests", writes, touches)
				if writes < tc.min || writes > tc.max || saves != saves0 {
					t.Fatalf("%d Touch and %d rewrites for 100 requests; want %d to %d Touch and no rewrite", touches, saves-saves0, tc.min, tc.max)
				}
				if err := bodyErr(c.get("/get")); err != "" {
					t.Fatalf("an active session ended: %s", err)
				}
			})
		}
	}
}

// TestServerSideEntryKeepsTheCreationAndLastSeenTimes: what the middleware
// writes to the storage carries the creation time and the time of the
// write before the serialized value, and DecodeEntry gives all three back;
// a later write keeps the creation time and moves the other.
func TestServerSideEntryKeepsTheCreationAndLastSeenTimes(t *testing.T) {
	store := newMapStore()
	c, clock := sessionApp(t, sessions.WithStorage(sessions.FromBytes(store)))
	c.get("/set")
	created := clock.now
	ids := store.ids()
	if len(ids) != 1 {
		t.Fatalf("%d entries; want 1", len(ids))
	}
	decode := func() sessions.Entry {
		t.Helper()
		store.mu.Lock()
		data := string(store.data[ids[0]])
		store.mu.Unlock()
		e, err := sessions.DecodeEntry(data)
		if err != nil {
			t.Fatalf("DecodeEntry: %v", err)
		}
		return e
	}
	e := decode()
	if !e.Created.Equal(created) || !e.LastSeen.Equal(created) {
		t.Fatalf("DecodeEntry = created %v, last seen %v; want both %v", e.Created, e.LastSeen, created)
	}
	if l, err := sessions.Compact[Login]().Deserialize(e.Value); err != nil || l.User != "ann" {
		t.Fatalf("the entry's value decodes to %+v, %v; want ann", l, err)
	}
	clock.advance(time.Hour)
	c.get("/set")
	if e := decode(); !e.Created.Equal(created) || !e.LastSeen.Equal(clock.now) {
		t.Fatalf("after a second Set DecodeEntry = created %v, last seen %v; want %v and %v", e.Created, e.LastSeen, created, clock.now)
	}
	for _, bad := range []string{"not an entry", "1a2b.value", "1a2b..value", ".1a2b.value"} {
		if _, err := sessions.DecodeEntry(bad); err == nil {
			t.Errorf("DecodeEntry(%q) accepted content without both times", bad)
		}
	}
}

// TestWithCookieRefusesExpiresAndMaxAge: the cookie's expiry follows the
// session's lifetime, so an Expires fixed at registration (every cookie
// born expired after that date) and a MaxAge of its own are refused, with
// an error that points to WithLifetime. MaxAge 0, a browser-session
// cookie, is allowed.
func TestWithCookieRefusesExpiresAndMaxAge(t *testing.T) {
	u := sessions.WithUnsigned()
	cases := []struct {
		name string
		edit func(*http.Cookie)
		ok   bool
	}{
		{"Expires", func(c *http.Cookie) { c.Expires = time.Now().Add(24 * time.Hour) }, false},
		{"MaxAge", func(c *http.Cookie) { c.MaxAge = 3600 }, false},
		{"negative MaxAge", func(c *http.Cookie) { c.MaxAge = -1 }, false},
		{"browser-session cookie", func(c *http.Cookie) { c.MaxAge = 0 }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sessions.New(sessions.Cookie[Login]("S", u, sessions.WithCookie(tc.edit)))
			switch {
			case tc.ok && err != nil:
				t.Fatalf("New: %v", err)
			case !tc.ok && (err == nil || !strings.Contains(err.Error(), "WithLifetime")):
				t.Fatalf("New = %v; want an error pointing to WithLifetime", err)
			}
		})
	}
	for _, bad := range []sessions.Option{sessions.WithLifetime(0), sessions.WithLifetime(time.Millisecond), sessions.WithIdleTimeout(-time.Second), sessions.WithCommitTimeout(0)} {
		if _, err := sessions.New(sessions.Cookie[Login]("S", u, bad)); err == nil {
			t.Errorf("New accepted an out-of-range duration option")
		}
	}
}

func ExampleWithLifetime() {
	type Login struct{ User string }
	store := sessions.FromBytes(&memoryBytes{data: map[string][]byte{}})
	m, err := sessions.New(sessions.Cookie[Login]("LOGIN",
		sessions.WithStorage(store),
		sessions.WithLifetime(12*time.Hour), // sign in again twice a day, however active
	))
	if err != nil {
		panic(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Set(r.Context(), Login{User: "ann"})
	}))
	_, cookies := exampleRequest(h, "/", nil)
	fmt.Println(cookies[0].MaxAge)
	// Output: 43200
}

func ExampleWithIdleTimeout() {
	type Login struct{ User string }
	store := sessions.FromBytes(&memoryBytes{data: map[string][]byte{}})
	m, err := sessions.New(sessions.Cookie[Login]("LOGIN",
		sessions.WithStorage(store),
		sessions.WithLifetime(24*time.Hour),
		sessions.WithIdleTimeout(30*time.Minute), // and after half an hour away
	))
	if err != nil {
		panic(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			sessions.Set(r.Context(), Login{User: "ann"})
			return
		}
		l, err := sessions.Get[Login](r.Context())
		fmt.Fprint(w, l.User, err)
	}))
	_, cookies := exampleRequest(h, "/login", nil)
	body, again := exampleRequest(h, "/me", cookies)
	// The cookie is sent again only once less than half the idle window
	// remains, so a request right after the login sets nothing.
	fmt.Println(cookies[0].MaxAge, body, len(again))
	// Output: 1800 ann<nil> 0
}

func ExampleWithUnsigned() {
	type Theme struct{ Dark bool }
	// A display preference the application would accept from any client:
	// the client may read and change it, which WithUnsigned accepts.
	m, err := sessions.New(sessions.Cookie[Theme]("THEME", sessions.WithUnsigned()))
	if err != nil {
		panic(err)
	}
	_, err = sessions.New(sessions.Cookie[Theme]("THEME2"))
	fmt.Println(m != nil, err != nil)
	// Output: true true
}
