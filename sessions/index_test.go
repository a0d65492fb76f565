package sessions_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// indexApp serves a Login session "S" kept in an indexStore and indexed by
// user, on a fake clock the store shares:
//
//	/login?user=U  Set(Login{U}) then Renew, as a login handler does
//	/set?user=U    Set(Login{U}) alone: the same id, perhaps another user
//	/get, /clear, /renew
//	/wait          reads the session, tells read, waits for release, then
//	               with ?set=1 changes it, with ?renew=1 renews it
//	/run           runs the test's func (one at a time)
type indexApp struct {
	t       *testing.T
	m       *sessions.Manager
	store   *indexStore
	clock   *fakeClock
	h       http.Handler
	fn      func(r *http.Request) error
	read    chan struct{}
	release chan struct{}
}

func byUser(l Login) string { return l.User }

// newIndexApp registers the session over store (a new one when nil) with
// WithIndex(byUser) and opts.
func newIndexApp(t *testing.T, store *indexStore, opts ...sessions.Option) *indexApp {
	t.Helper()
	if store == nil {
		store = newIndexStore()
	}
	opts = append([]sessions.Option{sessions.WithStorage(store), sessions.WithIndex(byUser), sessions.WithLogger(discardLogger())}, opts...)
	a := &indexApp{t: t, m: mustNew(t, sessions.Cookie[Login]("S", opts...)), store: store,
		read: make(chan struct{}, 1), release: make(chan struct{})}
	a.clock = newFakeClock(a.m)
	store.mu.Lock()
	store.now = func() time.Time { return a.clock.now }
	store.mu.Unlock()
	a.h = routes(a.m, map[string]func(http.ResponseWriter, *http.Request) error{
		"/login": func(w http.ResponseWriter, r *http.Request) error {
			if err := sessions.Set(r.Context(), Login{User: r.URL.Query().Get("user")}); err != nil {
				return err
			}
			return sessions.Renew[Login](r.Context())
		},
		"/set": func(w http.ResponseWriter, r *http.Request) error {
			return sessions.Set(r.Context(), Login{User: r.URL.Query().Get("user")})
		},
		"/get": func(w http.ResponseWriter, r *http.Request) error {
			_, err := sessions.Get[Login](r.Context())
			return err
		},
		"/clear": func(w http.ResponseWriter, r *http.Request) error { return sessions.Clear[Login](r.Context()) },
		"/renew": func(w http.ResponseWriter, r *http.Request) error { return sessions.Renew[Login](r.Context()) },
		"/wait": func(w http.ResponseWriter, r *http.Request) error {
			l, err := sessions.Get[Login](r.Context())
			a.read <- struct{}{}
			if err != nil {
				return err
			}
			<-a.release
			switch {
			case r.URL.Query().Get("set") != "":
				l.Roles = append(l.Roles, "changed")
				return sessions.Set(r.Context(), l)
			case r.URL.Query().Get("renew") != "":
				return sessions.Renew[Login](r.Context())
			}
			return nil
		},
		"/run": func(w http.ResponseWriter, r *http.Request) error { return a.fn(r) },
	})
	return a
}

func (a *indexApp) browser() *client { return newClient(a.t, a.h) }

// login logs a new browser in as user and returns it.
func (a *indexApp) login(user string) *client {
	a.t.Helper()
	c := a.browser()
	if err := bodyErr(c.get("/login?user=" + user)); err != "" {
		a.t.Fatalf("login %s: %s", user, err)
	}
	return c
}

// run runs f in a request of c and returns its error and the response.
func (a *indexApp) run(c *client, f func(ctx context.Context) error) (*httptest.ResponseRecorder, error) {
	a.t.Helper()
	var err error
	a.fn = func(r *http.Request) error { err = f(r.Context()); return nil }
	rec := c.get("/run")
	return rec, err
}

// list returns List[Login](user) as a request of c sees it.
func (a *indexApp) list(c *client, user string) []sessions.Listed[Login] {
	a.t.Helper()
	var out []sessions.Listed[Login]
	_, err := a.run(c, func(ctx context.Context) error {
		var err error
		out, err = sessions.List[Login](ctx, user)
		return err
	})
	if err != nil {
		a.t.Fatalf("List(%q): %v", user, err)
	}
	return out
}

// key returns the storage key of the session c carries.
func (a *indexApp) key(c *client) string {
	a.t.Helper()
	id, _, _ := strings.Cut(c.cookies["S"], ".") // with an idle timeout: "<id>.<times>"
	k, err := sessions.KeyOf[Login](a.m, id)
	if err != nil {
		a.t.Fatalf("KeyOf the cookie of a browser: %v", err)
	}
	return k
}

// keysOf returns the keys of a listing.
func keysOf(ls []sessions.Listed[Login]) []string {
	var keys []string
	for _, l := range ls {
		keys = append(keys, l.Key)
	}
	return keys
}

// signedIn reports whether c's next request finds its session.
func (a *indexApp) signedIn(c *client) bool {
	a.t.Helper()
	switch err := bodyErr(c.get("/get")); {
	case err == "":
		return true
	case strings.Contains(err, sessions.ErrNoSession.Error()):
		return false
	default:
		a.t.Fatalf("/get: %s", err)
		return false
	}
}

// TestListShowsTheSessionsOfAnIndexKey: List returns the live sessions of
// one user, oldest first, with their values and times, marks the
// request's own, and lists no other user's; the storage holds the index
// key as a hash, never the user id.
func TestListShowsTheSessionsOfAnIndexKey(t *testing.T) {
	a := newIndexApp(t, nil)
	start := a.clock.now
	var anns []*client
	for range 3 {
		anns = append(anns, a.login("ann"))
		a.clock.advance(time.Minute)
	}
	bob := a.login("bob")

	for i, c := range anns {
		got := a.list(c, "ann")
		if want := []string{a.key(anns[0]), a.key(anns[1]), a.key(anns[2])}; !slices.Equal(keysOf(got), want) {
			t.Fatalf("ann's sessions, oldest first = %v; want %v", keysOf(got), want)
		}
		for j, l := range got {
			created := start.Add(time.Duration(j) * time.Minute)
			if l.Value.User != "ann" || !l.Created.Equal(created) || !l.LastSeen.Equal(created) || !l.Expires.Equal(created.Add(sessions.DefaultLifetime)) {
				t.Errorf("session %d = %+v; want ann, created and last seen %v, expiring a lifetime later", j, l, created)
			}
			if l.Current != (i == j) {
				t.Errorf("listed from browser %d, session %d is Current: %v", i, j, l.Current)
			}
		}
	}
	if got := a.list(anns[0], "bob"); !slices.Equal(keysOf(got), []string{a.key(bob)}) || got[0].Current {
		t.Errorf("bob's sessions listed by ann = %+v; want bob's only, not current", got)
	}
	for _, user := range []string{"", "carol"} {
		if got := a.list(bob, user); len(got) != 0 {
			t.Errorf("List(%q) = %v; want nothing", user, keysOf(got))
		}
	}
	ik, err := sessions.IndexKeyOf[Login](a.m, "ann")
	if err != nil || len(ik) != 43 || strings.Contains(ik, "ann") || sessions.CheckID(ik) != nil {
		t.Fatalf("IndexKeyOf = %q, %v; want a 43-character hash in the id alphabet", ik, err)
	}
	if under, live := a.store.filedUnder(a.key(anns[0])); !live || under != ik {
		t.Errorf("ann's session is filed under %q (live %v); want %q", under, live, ik)
	}
	if other, _ := sessions.IndexKeyOf[Login](a.m, "bob"); other == ik {
		t.Error("two users share an index key")
	}
}

// TestListTrustsNoEntryOfAnotherValue: entries filed under a user's index
// key that are not that user's sessions (malformed, undecodable, or a
// value of another user, which a broken storage would file there) are not
// listed, and End refuses the last.
func TestListTrustsNoEntryOfAnotherValue(t *testing.T) {
	a := newIndexApp(t, nil)
	ann := a.login("ann")
	ik, _ := sessions.IndexKeyOf[Login](a.m, "ann")
	bobValue, _ := sessions.Compact[Login]().Serialize(Login{User: "bob"})
	ctx := t.Context()
	exp := a.clock.now.Add(time.Hour)
	now := strconv.FormatInt(a.clock.now.Unix(), 36)
	times := now + "." + now + "."
	for key, content := range map[string]string{
		"malformed":   "no times here",
		"undecodable": times + "\x00not compact",
		"bobs":        times + bobValue,
	} {
		if err := a.store.CreateIndexed(ctx, key, ik, exp, func(w io.Writer) error { _, err := io.WriteString(w, content); return err }); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.list(ann, "ann"); !slices.Equal(keysOf(got), []string{a.key(ann)}) {
		t.Errorf("ann's sessions = %v; want only her own session", keysOf(got))
	}
	_, err := a.run(ann, func(ctx context.Context) error { return sessions.End[Login](ctx, "ann", "bobs") })
	if !errors.Is(err, sessions.ErrNoSession) {
		t.Errorf("End of an entry holding bob's value filed under ann = %v; want ErrNoSession", err)
	}
	if _, live := a.store.filedUnder("bobs"); !live {
		t.Error("End removed an entry that holds another user's value")
	}
}

// TestAChangeOfUserMovesTheSession: a Set that changes the user of a
// stored session (same id, no Renew) moves it from the old user's index
// key to the new one's (Spring Session #343 left it under the old one).
func TestAChangeOfUserMovesTheSession(t *testing.T) {
	a := newIndexApp(t, nil)
	c := a.login("ann")
	key := a.key(c)
	created := a.clock.now
	a.clock.advance(time.Minute)
	if err := bodyErr(c.get("/set?user=bob")); err != "" {
		t.Fatal(err)
	}
	if a.key(c) != key {
		t.Fatal("Set changed the session's id")
	}
	if got := a.list(c, "ann"); len(got) != 0 {
		t.Errorf("after the switch to bob ann's sessions are %v; want none", keysOf(got))
	}
	got := a.list(c, "bob")
	if !slices.Equal(keysOf(got), []string{key}) || !got[0].Created.Equal(created) || !got[0].LastSeen.Equal(a.clock.now) {
		t.Fatalf("bob's sessions = %+v; want the switched session, created %v, last seen %v", got, created, a.clock.now)
	}
}

// TestRenewLeavesOnlyTheSuccessorListed: after a Renew the listing holds
// the new id's session and not the renewed-away one (Spring Session
// #1972/#1987 kept the old id).
func TestRenewLeavesOnlyTheSuccessorListed(t *testing.T) {
	a := newIndexApp(t, nil)
	c := a.login("ann")
	old := a.key(c)
	a.clock.advance(time.Minute)
	if err := bodyErr(c.get("/renew")); err != "" {
		t.Fatal(err)
	}
	successor := a.key(c)
	if successor == old {
		t.Fatal("Renew kept the id")
	}
	got := a.list(c, "ann")
	if !slices.Equal(keysOf(got), []string{successor}) || !got[0].Current || !got[0].Created.Equal(a.clock.now) {
		t.Fatalf("after a Renew ann's sessions = %+v; want only the successor, current, created now", got)
	}
	if _, live := a.store.filedUnder(old); live {
		t.Error("the renewed-away entry is still live")
	}
}

// TestEndedSessionsLeaveTheListing: a session that is cleared, idles out,
// outlives its lifetime, or outlives a lifetime shortened since it was
// written, is no longer listed (Spring Session #2614 kept expired ones).
func TestEndedSessionsLeaveTheListing(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []sessions.Option
		// end ends the session of c and returns the app that lists
		end  func(a *indexApp, c *client) *indexApp
		kept bool // the other browser's session is still listed
	}{
		{"Clear", nil, func(a *indexApp, c *client) *indexApp { c.get("/clear"); return a }, true},
		{"idle timeout", []sessions.Option{sessions.WithIdleTimeout(10 * time.Minute)}, func(a *indexApp, c *client) *indexApp {
			a.clock.advance(11 * time.Minute)
			return a
		}, false},
		{"lifetime", []sessions.Option{sessions.WithLifetime(time.Hour)}, func(a *indexApp, c *client) *indexApp {
			a.clock.advance(time.Hour)
			return a
		}, false},
		{"lifetime shortened since", nil, func(a *indexApp, c *client) *indexApp {
			// The storage entries expire in a week; the lifetime is now an hour.
			shorter := newIndexApp(a.t, a.store, sessions.WithLifetime(time.Hour))
			shorter.clock.now = a.clock.now.Add(2 * time.Hour)
			return shorter
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newIndexApp(t, nil, tc.opts...)
			c, other := a.login("ann"), a.login("ann")
			lister := tc.end(a, c)
			var want []string
			if tc.kept {
				want = []string{a.key(other)}
			}
			if got := lister.list(lister.browser(), "ann"); !slices.Equal(keysOf(got), want) {
				t.Fatalf("after the session ended ann's sessions = %v; want %v", keysOf(got), want)
			}
		})
	}
}

// TestSlidingAnIndexedSessionRewritesIt: with an idle timeout, a request
// that moves the idle end rewrites the entry with ReplaceIndexed, so its
// LastSeen and its expiry move and it stays filed, instead of a Touch that
// moves the expiry alone; a request that finds nothing due writes nothing.
func TestSlidingAnIndexedSessionRewritesIt(t *testing.T) {
	a := newIndexApp(t, nil, sessions.WithIdleTimeout(30*time.Minute))
	c := a.login("ann")
	created := a.clock.now
	a.clock.advance(10 * time.Minute) // more than half the window remains: nothing due
	a.store.resetCounts()
	c.get("/get")
	if n := a.store.count("ReplaceIndexed") + a.store.count("Touch"); n != 0 {
		t.Fatalf("a request with nothing due made %d writes; want none", n)
	}
	a.clock.advance(10 * time.Minute) // 20 minutes idle: due
	c.get("/get")
	if r, to := a.store.count("ReplaceIndexed"), a.store.count("Touch"); r != 1 || to != 0 {
		t.Fatalf("the slide made %d ReplaceIndexed and %d Touch; want one ReplaceIndexed and no Touch", r, to)
	}
	got := a.list(c, "ann")
	if len(got) != 1 || !got[0].Created.Equal(created) || !got[0].LastSeen.Equal(a.clock.now) || !got[0].Expires.Equal(a.clock.now.Add(30*time.Minute)) {
		t.Fatalf("after the slide ann's sessions = %+v; want created %v, last seen %v, expiring 30 minutes later", got, created, a.clock.now)
	}
}

// TestEndOthersKeepsTheCurrentSession: "log out all other devices" ends
// the user's other sessions, whose next requests find none, and keeps this
// one and other users'.
func TestEndOthersKeepsTheCurrentSession(t *testing.T) {
	a := newIndexApp(t, nil)
	one, two, three, bob := a.login("ann"), a.login("ann"), a.login("ann"), a.login("bob")
	var n int
	rec, err := a.run(two, func(ctx context.Context) (err error) {
		n, err = sessions.EndOthers[Login](ctx)
		return err
	})
	if err != nil || n != 2 {
		t.Fatalf("EndOthers = %d, %v; want 2 ended", n, err)
	}
	if ck := setCookies(rec)["S"]; ck != nil {
		t.Errorf("EndOthers sent Set-Cookie %v for the current session; want nothing", ck)
	}
	if got := a.list(two, "ann"); !slices.Equal(keysOf(got), []string{a.key(two)}) {
		t.Errorf("after EndOthers ann's sessions = %v; want only the current one", keysOf(got))
	}
	for name, c := range map[string]*client{"one": one, "three": three} {
		if a.signedIn(c) {
			t.Errorf("ended browser %s is still signed in", name)
		}
		if c.cookies["S"] != "" {
			t.Errorf("ended browser %s kept its cookie", name)
		}
	}
	if !a.signedIn(two) || !a.signedIn(bob) {
		t.Error("EndOthers ended the current session or another user's")
	}
	_, err = a.run(a.browser(), func(ctx context.Context) (err error) {
		n, err = sessions.EndOthers[Login](ctx)
		return err
	})
	if !errors.Is(err, sessions.ErrNoSession) || n != 0 {
		t.Errorf("EndOthers without a session = %d, %v; want ErrNoSession", n, err)
	}
}

// TestEndOthersAfterRenewKeepsTheSession: EndOthers in the request that
// renewed the session does not end the renewed-away id, whose end the
// commit would otherwise take for a concurrent logout of this browser.
func TestEndOthersAfterRenewKeepsTheSession(t *testing.T) {
	a := newIndexApp(t, nil)
	one, two := a.login("ann"), a.login("ann")
	var n int
	rec, err := a.run(one, func(ctx context.Context) (err error) {
		if err := sessions.Renew[Login](ctx); err != nil {
			return err
		}
		n, err = sessions.EndOthers[Login](ctx)
		return err
	})
	if err != nil || n != 1 || rec.Code != http.StatusOK {
		t.Fatalf("Renew then EndOthers = %d, %v, status %d; want 1 ended", n, err, rec.Code)
	}
	if !a.signedIn(one) || a.signedIn(two) {
		t.Errorf("after Renew and EndOthers: this browser signed in %v, the other %v; want true, false", a.signedIn(one), a.signedIn(two))
	}
}

// TestEndRefusesAKeyOfAnotherIndex: End ends a session of the given user
// by its listed key, and a key of another user's session (a forged form)
// ends nothing and says ErrNoSession; ending the current session clears it.
func TestEndRefusesAKeyOfAnotherIndex(t *testing.T) {
	a := newIndexApp(t, nil)
	one, two, bob := a.login("ann"), a.login("ann"), a.login("bob")
	end := func(c *client, user, key string) (*httptest.ResponseRecorder, error) {
		return a.run(c, func(ctx context.Context) error { return sessions.End[Login](ctx, user, key) })
	}
	if _, err := end(one, "ann", a.key(bob)); !errors.Is(err, sessions.ErrNoSession) {
		t.Errorf("End of bob's key under ann = %v; want ErrNoSession", err)
	}
	if !a.signedIn(bob) {
		t.Fatal("End of bob's key under ann ended bob's session")
	}
	if _, err := end(one, "ann", "not a key"); !errors.Is(err, sessions.ErrInvalidID) {
		t.Errorf("End of a malformed key = %v; want ErrInvalidID", err)
	}
	keyTwo := a.key(two)
	if _, err := end(one, "ann", keyTwo); err != nil {
		t.Fatalf("End of ann's other session = %v", err)
	}
	if a.signedIn(two) {
		t.Error("the ended browser is still signed in")
	}
	if _, err := end(one, "ann", keyTwo); !errors.Is(err, sessions.ErrNoSession) {
		t.Errorf("End of an ended session = %v; want ErrNoSession", err)
	}
	rec, err := end(one, "ann", a.key(one))
	if err != nil {
		t.Fatalf("End of the current session = %v", err)
	}
	wantCleared(t, rec, "End of the current session")
	if a.signedIn(one) {
		t.Error("the browser that ended its own session is still signed in")
	}
}

// TestEndAllEndsEverySessionOfTheIndex: EndAll ends every session of the
// user, the current one included (cleared in the response), and no other
// user's.
func TestEndAllEndsEverySessionOfTheIndex(t *testing.T) {
	a := newIndexApp(t, nil)
	one, two, bob := a.login("ann"), a.login("ann"), a.login("bob")
	var n int
	rec, err := a.run(one, func(ctx context.Context) (err error) {
		n, err = sessions.EndAll[Login](ctx, "ann")
		return err
	})
	if err != nil || n != 2 {
		t.Fatalf("EndAll = %d, %v; want 2", n, err)
	}
	wantCleared(t, rec, "EndAll from one of the sessions")
	if a.signedIn(one) || a.signedIn(two) || !a.signedIn(bob) {
		t.Error("after EndAll(ann) an ann session is signed in, or bob's is not")
	}
	if got := a.list(bob, "ann"); len(got) != 0 {
		t.Errorf("after EndAll ann's sessions = %v; want none", keysOf(got))
	}
}

// TestMaxSessionsEndsTheOldest: with WithMaxSessions(2) a third login of a
// user ends the oldest of the user's sessions; a session that moves into
// the user's index key counts as joining and is kept even when it is the
// oldest; a Set that keeps the user, or a slide, reads no index.
func TestMaxSessionsEndsTheOldest(t *testing.T) {
	a := newIndexApp(t, nil, sessions.WithMaxSessions(2), sessions.WithIdleTimeout(time.Hour))
	early := a.login("bob") // created first; joins ann's later
	a.clock.advance(time.Minute)
	one := a.login("ann")
	a.clock.advance(time.Minute)
	two := a.login("ann")
	a.clock.advance(time.Minute)
	three := a.login("ann")
	if a.signedIn(one) || !a.signedIn(two) || !a.signedIn(three) || !a.signedIn(early) {
		t.Fatalf("after a third login with a cap of 2: signed in one %v, two %v, three %v, bob %v; want false, true, true, true",
			a.signedIn(one), a.signedIn(two), a.signedIn(three), a.signedIn(early))
	}

	a.store.resetCounts()
	if err := bodyErr(three.get("/set?user=ann")); err != "" {
		t.Fatal(err)
	}
	a.clock.advance(40 * time.Minute) // due: a slide
	three.get("/get")
	if n := a.store.count("ReadIndex"); n != 0 {
		t.Errorf("a Set that keeps the user and a slide read the index %d times; want none", n)
	}

	if err := bodyErr(early.get("/set?user=ann")); err != "" { // moves into ann's index key
		t.Fatal(err)
	}
	if got := a.list(early, "ann"); !slices.Equal(keysOf(got), []string{a.key(early), a.key(three)}) {
		t.Errorf("after bob's session moved to ann, ann's sessions = %v; want it and the newest", keysOf(got))
	}
	if a.signedIn(two) {
		t.Error("the oldest of the others was not ended when a session moved in")
	}
}

// TestMaxSessionsFailureIsLoggedNotFailed: when the index cannot be read
// to enforce the cap, the login still succeeds and the failure is an
// error record.
func TestMaxSessionsFailureIsLoggedNotFailed(t *testing.T) {
	logs := &recordLog{}
	a := newIndexApp(t, nil, sessions.WithMaxSessions(1), sessions.WithLogger(slog.New(logs)))
	a.login("ann")
	a.store.mu.Lock()
	a.store.failReadIndex = errors.New("index down")
	a.store.mu.Unlock()
	c := a.login("ann")
	if !a.signedIn(c) {
		t.Fatal("the login whose cap could not be enforced has no session")
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	i := slices.IndexFunc(logs.records, func(r slog.Record) bool {
		return r.Level == slog.LevelError && strings.Contains(r.Message, "WithMaxSessions")
	})
	if i < 0 {
		t.Fatalf("no error record about the cap; records: %v", logs.records)
	}
}

// TestAnEndedSessionInFlightStaysUnlisted: a request that read a session
// before another device ended it, and then changes or renews it, does not
// bring it back into the listing, nor into the storage.
func TestAnEndedSessionInFlightStaysUnlisted(t *testing.T) {
	for _, target := range []string{"/wait?set=1", "/wait?renew=1"} {
		t.Run(target, func(t *testing.T) {
			a := newIndexApp(t, nil)
			one, two := a.login("ann"), a.login("ann")
			done := make(chan *httptest.ResponseRecorder, 1)
			inFlight := newClient(t, a.h)
			inFlight.cookies["S"] = one.cookies["S"]
			go func() { done <- inFlight.do(http.MethodGet, target) }()
			select {
			case <-a.read:
			case <-time.After(30 * time.Second):
				t.Fatal("the request in flight did not read its session within 30 s")
			}
			var n int
			_, err := a.run(two, func(ctx context.Context) (err error) {
				n, err = sessions.EndOthers[Login](ctx)
				return err
			})
			close(a.release)
			if err != nil || n != 1 {
				t.Fatalf("EndOthers = %d, %v; want 1", n, err)
			}
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the request in flight did not finish within 30 s")
			}
			if got := a.list(two, "ann"); !slices.Equal(keysOf(got), []string{a.key(two)}) {
				t.Errorf("after the ended session's request in flight committed, ann's sessions = %v; want only the other", keysOf(got))
			}
			a.store.mu.Lock()
			n = len(a.store.entries)
			a.store.mu.Unlock()
			if n != 1 {
				t.Errorf("the storage holds %d entries; want only the other browser's", n)
			}
		})
	}
}

// TestEmptyIndexKeyFilesUnderNone: a value whose index function returns
// "" is stored unfiled, and nothing lists it.
func TestEmptyIndexKeyFilesUnderNone(t *testing.T) {
	a := newIndexApp(t, nil)
	c := a.browser()
	if err := bodyErr(c.get("/set?user=")); err != "" {
		t.Fatal(err)
	}
	if under, live := a.store.filedUnder(a.key(c)); !live || under != "" {
		t.Fatalf("an anonymous session is filed under %q (live %v); want none", under, live)
	}
	if got := a.list(c, ""); len(got) != 0 {
		t.Errorf("List(\"\") = %v; want nothing", keysOf(got))
	}
	var n int
	_, err := a.run(c, func(ctx context.Context) (err error) { n, err = sessions.EndOthers[Login](ctx); return err })
	if err != nil || n != 0 || !a.signedIn(c) {
		t.Errorf("EndOthers of an unfiled session = %d, %v; want 0 and the session kept", n, err)
	}
}

// TestNewRefusesAnIndexThatCannotWork: WithIndex needs a server-side
// session over an Indexer and a func of the session's type; WithMaxSessions
// needs WithIndex and a cap of 0 or more. Each error says what is wrong.
func TestNewRefusesAnIndexThatCannotWork(t *testing.T) {
	store := newIndexStore()
	withoutIndexer := sessions.Compose(store, sessions.Capabilities{ConditionalWriter: store})
	for _, tc := range []struct {
		name string
		opts []sessions.Option
		want []string // in the error; none: New succeeds
	}{
		{"indexed", []sessions.Option{sessions.WithStorage(store), sessions.WithIndex(byUser), sessions.WithMaxSessions(3)}, nil},
		{"no cap", []sessions.Option{sessions.WithStorage(store), sessions.WithIndex(byUser), sessions.WithMaxSessions(0)}, nil},
		{"client-side", []sessions.Option{sessions.WithTransformers(mustMAC(t)), sessions.WithIndex(byUser)}, []string{"WithIndex", "server-side"}},
		{"another type", []sessions.Option{sessions.WithStorage(store), sessions.WithIndex(func(a API) string { return a.Token })},
			[]string{"func(sessions_test.API)", "sessions_test.Login"}},
		{"nil func", []sessions.Option{sessions.WithStorage(store), sessions.WithIndex[Login](nil)}, []string{"nil"}},
		{"storage without Indexer", []sessions.Option{sessions.WithStorage(sessions.FromBytes(newMapStore())), sessions.WithIndex(byUser)},
			[]string{"lacks sessions.Indexer", "sessions.byteStorage"}},
		{"wrapper without Indexer", []sessions.Option{sessions.WithStorage(withoutIndexer), sessions.WithIndex(byUser)},
			[]string{"lacks sessions.Indexer", "over *sessions_test.indexStore"}},
		{"cap without index", []sessions.Option{sessions.WithStorage(store), sessions.WithMaxSessions(2)}, []string{"WithMaxSessions", "WithIndex"}},
		{"negative cap", []sessions.Option{sessions.WithStorage(store), sessions.WithIndex(byUser), sessions.WithMaxSessions(-1)}, []string{"WithMaxSessions(-1)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sessions.New(sessions.Cookie[Login]("S", tc.opts...))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("New = %v; want success", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New succeeded; want an error with %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New = %q; want it to contain %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), `"S"`) {
				t.Errorf("New = %q; want it to name the session", err)
			}
		})
	}
}

// TestAccessFunctionsNeedAnIndex: List and the End functions on a provider
// without WithIndex say so, and IndexKeyOf too.
func TestAccessFunctionsNeedAnIndex(t *testing.T) {
	m := mustNew(t, sessions.Cookie[Login]("S", sessions.WithStorage(newIndexStore())))
	var errs []error
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		_, err := sessions.List[Login](ctx, "ann")
		errs = append(errs, err, sessions.End[Login](ctx, "ann", "k"))
		_, err = sessions.EndAll[Login](ctx, "ann")
		errs = append(errs, err)
		_, err = sessions.EndOthers[Login](ctx)
		errs = append(errs, err)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	_, err := sessions.IndexKeyOf[Login](m, "ann")
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "WithIndex") {
			t.Errorf("call %d without WithIndex = %v; want an error naming WithIndex", i, err)
		}
	}
	if _, err := sessions.IndexKeyOf[API](m, "ann"); !errors.Is(err, sessions.ErrNotRegistered) {
		t.Errorf("IndexKeyOf of an unregistered type = %v; want ErrNotRegistered", err)
	}
}
