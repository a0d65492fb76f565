package sessions_test

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/sessions"
)

// loginApp is a small app with a server-side Login session over store.
func loginApp(t testing.TB, store sessions.Storage, opts ...sessions.Option) http.Handler {
	m := mustNew(t, sessions.Cookie[Login]("LOGIN", append([]sessions.Option{sessions.WithStorage(store)}, opts...)...))
	return routes(m, map[string]func(http.ResponseWriter, *http.Request) error{
		"/login": func(w http.ResponseWriter, r *http.Request) error {
			return sessions.Set(r.Context(), Login{User: r.URL.Query().Get("user")})
		},
		"/me": func(w http.ResponseWriter, r *http.Request) error {
			l, err := sessions.Get[Login](r.Context())
			if err != nil {
				return err
			}
			w.Write([]byte(l.User))
			return nil
		},
		"/logout": func(w http.ResponseWriter, r *http.Request) error {
			return sessions.Clear[Login](r.Context())
		},
		"/renew": func(w http.ResponseWriter, r *http.Request) error {
			return sessions.Renew[Login](r.Context())
		},
		"/id": func(w http.ResponseWriter, r *http.Request) error {
			id, err := sessions.ID[Login](r.Context())
			if err != nil {
				return err
			}
			w.Write([]byte(id))
			return nil
		},
		"/kill": func(w http.ResponseWriter, r *http.Request) error {
			return sessions.Invalidate[Login](r.Context(), r.URL.Query().Get("id"))
		},
		"/nothing": func(w http.ResponseWriter, r *http.Request) error { return nil },
	})
}

func TestGetWithoutSessionIsErrNoSession(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []sessions.Option
	}{
		{"by value", []sessions.Option{sessions.WithUnsigned()}},
		{"by id", []sessions.Option{sessions.WithStorage(sessions.FromBytes(newMapStore()))}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			m := mustNew(t, sessions.Cookie[Login]("S", mode.opts...))
			var err error
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, err = sessions.Get[Login](r.Context())
			}))
			rec := newClient(t, h).get("/")
			if !errors.Is(err, sessions.ErrNoSession) {
				t.Fatalf("Get = %v; want ErrNoSession", err)
			}
			if len(rec.Header()["Set-Cookie"]) != 0 {
				t.Fatalf("a request without a session got Set-Cookie %q", rec.Header()["Set-Cookie"])
			}
		})
	}
}

func TestSetThenGetAcrossRequests(t *testing.T) {
	store := newMapStore()
	c := newClient(t, loginApp(t, sessions.FromBytes(store)))
	c.get("/login?user=ann")
	if rec := c.get("/me"); rec.Body.String() != "ann" {
		t.Fatalf("/me after login = %q (%s); want ann", rec.Body.String(), bodyErr(rec))
	}
	if n := len(store.ids()); n != 1 {
		t.Fatalf("storage holds %d entries after one login; want 1", n)
	}
}

func TestSetKeepsTheKnownIDAcrossSets(t *testing.T) {
	store := newMapStore()
	c := newClient(t, loginApp(t, sessions.FromBytes(store)))
	c.get("/login?user=ann")
	first := c.get("/id").Body.String()
	c.get("/login?user=bob")
	if second := c.get("/id").Body.String(); second != first {
		t.Fatalf("id changed from %q to %q on a second Set; want it kept", first, second)
	}
	if got := c.get("/me").Body.String(); got != "bob" {
		t.Fatalf("/me = %q; want bob", got)
	}
}

func TestIDsAre64LowercaseHex(t *testing.T) {
	store := newMapStore()
	c := newClient(t, loginApp(t, sessions.FromBytes(store)))
	c.get("/login?user=ann")
	id := c.get("/id").Body.String()
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(id) {
		t.Fatalf("id %q is not 64 lowercase hex characters", id)
	}
	if c.cookies["LOGIN"] != id {
		t.Fatalf("cookie value %q; want the id %q (no transformers)", c.cookies["LOGIN"], id)
	}
}

func TestClientChosenIDIsNeverAdopted(t *testing.T) {
	store := newMapStore()
	c := newClient(t, loginApp(t, sessions.FromBytes(store)))
	const planted = "attacker-chosen-id"
	c.cookies["LOGIN"] = planted
	rec := c.get("/login?user=victim")
	if store.has(planted) || store.has(loginKey(planted)) {
		t.Fatal("the storage holds the id the client chose")
	}
	if got := setCookies(rec)["LOGIN"]; got == nil || got.Value == planted {
		t.Fatalf("Set-Cookie %v; want a new id", got)
	}
	if ids := store.ids(); len(ids) != 1 || ids[0] == loginKey(planted) {
		t.Fatalf("storage ids = %v; want one fresh id", ids)
	}
}

func TestClearRemovesTheEntryAndTheCookie(t *testing.T) {
	store := newMapStore()
	c := newClient(t, loginApp(t, sessions.FromBytes(store)))
	c.get("/login?user=ann")
	rec := c.get("/logout")
	if ck := setCookies(rec)["LOGIN"]; ck == nil || ck.MaxAge >= 0 || ck.Value != "" {
		t.Fatalf("logout Set-Cookie = %v; want an empty value with Max-Age=0", ck)
	}
	if ids := store.ids(); len(ids) != 0 {
		t.Fatalf("storage holds %v after logout; want nothing", ids)
	}
	if rec := c.get("/me"); !errors.Is(errFrom(rec), sessions.ErrNoSession) {
		t.Fatalf("/me after logout: %s; want no session", bodyErr(rec))
	}
}

func TestSetAfterClearGetsANewID(t *testing.T) {
	store := newMapStore()
	m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store))))
	c := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/again" {
			sessions.Clear[Login](r.Context())
		}
		sessions.Set(r.Context(), Login{User: "ann"})
	})))
	c.get("/")
	before := c.cookies["LOGIN"]
	c.get("/again")
	after := c.cookies["LOGIN"]
	if after == before || after == "" {
		t.Fatalf("id after Clear+Set = %q, before %q; want a new id", after, before)
	}
	if store.has(loginKey(before)) || !store.has(loginKey(after)) {
		t.Fatalf("storage ids = %v; want only the new id", store.ids())
	}
}

func TestRenewMakesANewIDAndInvalidatesTheOld(t *testing.T) {
	store := newMapStore()
	c := newClient(t, loginApp(t, sessions.FromBytes(store)))
	c.get("/login?user=ann")
	old := c.cookies["LOGIN"]
	if rec := c.get("/renew"); bodyErr(rec) != "" {
		t.Fatalf("/renew: %s", bodyErr(rec))
	}
	renewed := c.cookies["LOGIN"]
	if renewed == old {
		t.Fatal("Renew kept the id")
	}
	if store.has(loginKey(old)) {
		t.Fatal("the old id is still in the storage after Renew")
	}
	if got := c.get("/me").Body.String(); got != "ann" {
		t.Fatalf("/me after Renew = %q; want the same data, ann", got)
	}
	attacker := newClient(t, loginApp(t, sessions.FromBytes(store)))
	attacker.cookies["LOGIN"] = old
	if rec := attacker.get("/me"); !errors.Is(errFrom(rec), sessions.ErrNoSession) {
		t.Fatalf("the old id still opens the session: %q", rec.Body.String())
	}
}

// TestRefusedRenewLeavesTheSessionAsItWas: a Renew whose new id would not
// fit the header bound returns ErrTooLarge and changes nothing: the
// session keeps its id and data, the commit writes and ends nothing (over
// a conditional storage, it would end the renewed-away id, here the
// current one), and the id still opens the session on the next request.
func TestRefusedRenewLeavesTheSessionAsItWas(t *testing.T) {
	store := newMapStore()
	ids := []string{"short", strings.Repeat("L", 100)}
	gen := func(*http.Request) string {
		id := ids[0]
		ids = ids[1:]
		return id
	}
	m := mustNew(t, sessions.Header[Login]("X-S", sessions.WithStorage(sessions.FromBytes(condStore{store})),
		sessions.WithIdentity(gen), sessions.WithHeaderLimit(50)))
	var renewErr error
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			if err := sessions.Set(r.Context(), Login{User: "ann"}); err != nil {
				t.Error(err)
			}
		case "/renew":
			renewErr = sessions.Renew[Login](r.Context())
			if id, err := sessions.ID[Login](r.Context()); err != nil || id != "short" {
				t.Errorf("ID after the refused Renew = %q, %v; want short", id, err)
			}
		case "/me":
			l, err := sessions.Get[Login](r.Context())
			if err != nil {
				t.Error(err)
			}
			w.Write([]byte(l.User))
		}
	}))
	c := newClient(t, h)
	c.header.Set("X-S", c.get("/login").Header().Get("X-S"))
	_, saves, deletes, _ := store.counts()
	rec := c.get("/renew")
	if !errors.Is(renewErr, sessions.ErrTooLarge) {
		t.Fatalf("Renew = %v; want ErrTooLarge", renewErr)
	}
	if _, sent := rec.Header()["X-S"]; sent {
		t.Fatalf("the refused Renew sent X-S %q; want nothing", rec.Header()["X-S"])
	}
	if _, s, d, _ := store.counts(); s != saves || d != deletes {
		t.Fatalf("the refused Renew's commit saved %d and deleted %d; want nothing", s-saves, d-deletes)
	}
	if got := c.get("/me").Body.String(); got != "ann" {
		t.Fatalf("/me after the refused Renew = %q; want ann", got)
	}
}

func TestRenewWithoutSessionIsErrNoSession(t *testing.T) {
	c := newClient(t, loginApp(t, sessions.FromBytes(newMapStore())))
	if err := errFrom(c.get("/renew")); !errors.Is(err, sessions.ErrNoSession) {
		t.Fatalf("Renew without session = %v; want ErrNoSession", err)
	}
}

func TestGetOrSetCreatesOnce(t *testing.T) {
	store := newMapStore()
	calls := 0
	m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store))))
	c := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l, err := sessions.GetOrSet(r.Context(), func() Login { calls++; return Login{User: "guest"} })
		if err != nil {
			t.Error(err)
		}
		w.Write([]byte(l.User))
	})))
	for i := 0; i < 3; i++ {
		if got := c.get("/").Body.String(); got != "guest" {
			t.Fatalf("request %d: %q; want guest", i, got)
		}
	}
	if calls != 1 {
		t.Fatalf("create called %d times over three requests; want 1", calls)
	}
	if _, saves, _, _ := store.counts(); saves != 1 {
		t.Fatalf("%d storage writes; want 1 (only the creating request writes)", saves)
	}
}

func TestInvalidateEndsAnotherSession(t *testing.T) {
	store := newMapStore()
	app := loginApp(t, sessions.FromBytes(store))
	phone, laptop := newClient(t, app), newClient(t, app)
	phone.get("/login?user=ann")
	laptop.get("/login?user=ann")
	phoneID := phone.get("/id").Body.String()
	if rec := laptop.get("/kill?id=" + phoneID); bodyErr(rec) != "" {
		t.Fatalf("/kill: %s", bodyErr(rec))
	}
	if rec := phone.get("/me"); !errors.Is(errFrom(rec), sessions.ErrNoSession) {
		t.Fatalf("the phone is still logged in: %q", rec.Body.String())
	}
	if got := laptop.get("/me").Body.String(); got != "ann" {
		t.Fatalf("the laptop lost its session: %q", got)
	}
	if err := errFrom(laptop.get("/kill?id=../etc")); !errors.Is(err, sessions.ErrInvalidID) {
		t.Fatalf("Invalidate(../etc) = %v; want ErrInvalidID", err)
	}
}

func TestInvalidateOwnIDClearsTheCurrentSession(t *testing.T) {
	store := newMapStore()
	c := newClient(t, loginApp(t, sessions.FromBytes(store)))
	c.get("/login?user=ann")
	id := c.get("/id").Body.String()
	rec := c.get("/kill?id=" + id)
	if ck := setCookies(rec)["LOGIN"]; ck == nil || ck.MaxAge >= 0 {
		t.Fatalf("Set-Cookie = %v; want the cookie cleared", ck)
	}
}

func TestIDAndInvalidateRefuseClientSideSessions(t *testing.T) {
	m := mustNew(t, sessions.Cookie[Prefs]("P", sessions.WithUnsigned()))
	var idErr, invErr error
	newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Set(r.Context(), Prefs{Theme: "dark"})
		_, idErr = sessions.ID[Prefs](r.Context())
		invErr = sessions.Invalidate[Prefs](r.Context(), "abc")
	}))).get("/")
	if idErr == nil || invErr == nil {
		t.Fatalf("ID = %v, Invalidate = %v; want errors for a client-side session", idErr, invErr)
	}
}

func TestWithIdentityMakesTheIDs(t *testing.T) {
	store := newMapStore()
	n := 0
	c := newClient(t, loginApp(t, sessions.FromBytes(store), sessions.WithIdentity(func(*http.Request) string {
		n++
		return "custom-" + string(rune('a'+n))
	})))
	c.get("/login?user=ann")
	if ids := store.ids(); !slices.Equal(ids, []string{loginKey("custom-b")}) {
		t.Fatalf("storage keys = %v; want the key of custom-b", ids)
	}
	bad := newClient(t, loginApp(t, sessions.FromBytes(newMapStore()), sessions.WithIdentity(func(*http.Request) string { return "no/slash" })))
	if err := errFrom(bad.get("/login?user=ann")); !errors.Is(err, sessions.ErrInvalidID) {
		t.Fatalf("Set with an invalid generated id = %v; want ErrInvalidID", err)
	}
}

// errFrom maps the error text a test route reported back to its sentinel.
func errFrom(rec interface{ Header() http.Header }) error {
	msg := rec.Header().Get("X-Err")
	for _, e := range []error{sessions.ErrNoSession, sessions.ErrInvalidID, sessions.ErrTooLarge, sessions.ErrTooLate, sessions.ErrNotRegistered} {
		if msg != "" && (msg == e.Error() || regexp.MustCompile(regexp.QuoteMeta(e.Error())).MatchString(msg)) {
			return e
		}
	}
	if msg == "" {
		return nil
	}
	return errors.New(msg)
}
