package sessions_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// TestDisconnectDoesNotCancelTheCommit: a client that goes away after the
// handler changed its session (a logout, a login) does not cancel the
// storage work of the commit, and a hung storage is bounded by
// WithCommitTimeout instead.
func TestDisconnectDoesNotCancelTheCommit(t *testing.T) {
	for _, path := range []string{"/logout", "/login"} {
		t.Run(path, func(t *testing.T) {
			store := newMapStore()
			c := newClient(t, loginApp(t, sessions.FromBytes(store)))
			if path == "/logout" {
				c.get("/login?user=ann")
			}
			id := c.cookies["LOGIN"]
			ctx, disconnect := context.WithCancel(context.Background())
			m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store))))
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if path == "/logout" {
					sessions.Clear[Login](r.Context())
				} else {
					sessions.Set(r.Context(), Login{User: "bob"})
				}
				disconnect() // the client goes away before the response starts
			}))
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
			if id != "" {
				req.AddCookie(&http.Cookie{Name: "LOGIN", Value: id})
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			switch ids := store.ids(); {
			case rec.Code != http.StatusOK:
				t.Fatalf("status %d; want the commit to succeed", rec.Code)
			case path == "/logout" && len(ids) != 0:
				t.Fatalf("after a logout whose client went away the storage still holds %v", ids)
			case path == "/login" && len(ids) != 1:
				t.Fatalf("after a login whose client went away the storage holds %v; want the new session", ids)
			}
		})
	}
	t.Run("WithCommitTimeout bounds a hung storage", func(t *testing.T) {
		var got error
		m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(hungStore{}), sessions.WithCommitTimeout(time.Millisecond),
			sessions.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) { got = err })))
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sessions.Set(r.Context(), Login{User: "ann"})
		})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
		if !errors.Is(got, context.DeadlineExceeded) {
			t.Fatalf("commit against a hung store = %v; want the commit timeout", got)
		}
	})
}

// hungStore is a Storage that never answers until its context is done, or,
// when the middleware passed a context that never ends, for 10 seconds.
type hungStore struct{}

var errHung = errors.New("hung store: the context never ended")

func (hungStore) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Second):
		return errHung
	}
}
func (s hungStore) Write(ctx context.Context, id string, _ time.Time, _ func(io.Writer) error) error {
	return s.wait(ctx)
}
func (s hungStore) Read(ctx context.Context, id string, _ func(io.Reader) error) error {
	return s.wait(ctx)
}
func (s hungStore) Invalidate(ctx context.Context, id string) error { return s.wait(ctx) }

// TestAccessUsesTheGivenContext: Get, Set, ID, Renew and Invalidate make
// their storage calls with the ctx they are given, so a handler's deadline
// or cancellation bounds them.
func TestAccessUsesTheGivenContext(t *testing.T) {
	cases := map[string]func(ctx context.Context) error{
		"Get":        func(ctx context.Context) error { _, err := sessions.Get[Login](ctx); return err },
		"Set":        func(ctx context.Context) error { return sessions.Set(ctx, Login{User: "bob"}) },
		"ID":         func(ctx context.Context) error { _, err := sessions.ID[Login](ctx); return err },
		"Renew":      func(ctx context.Context) error { return sessions.Renew[Login](ctx) },
		"Invalidate": func(ctx context.Context) error { return sessions.Invalidate[Login](ctx, "some-other-id") },
		"GetOrSet": func(ctx context.Context) error {
			_, err := sessions.GetOrSet(ctx, func() Login { return Login{} })
			return err
		},
	}
	for name, call := range cases {
		t.Run(name, func(t *testing.T) {
			store := newMapStore()
			c := newClient(t, loginApp(t, sessions.FromBytes(store)))
			c.get("/login?user=ann")
			var got error
			m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store))))
			c.h = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx, cancel := context.WithCancel(r.Context())
				cancel() // the handler's deadline has passed
				got = call(ctx)
			}))
			c.get("/")
			if !errors.Is(got, context.Canceled) {
				t.Fatalf("%s with a cancelled ctx = %v; want context.Canceled from the storage call", name, got)
			}
		})
	}
	t.Run("a hung storage returns at the handler's deadline", func(t *testing.T) {
		m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(hungStore{})))
		var got error
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), 10*time.Millisecond)
			defer cancel()
			_, got = sessions.Get[Login](ctx)
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(&http.Cookie{Name: "LOGIN", Value: "an-id"})
		h.ServeHTTP(httptest.NewRecorder(), req)
		if !errors.Is(got, context.DeadlineExceeded) {
			t.Fatalf("Get against a hung store = %v; want the handler's deadline", got)
		}
	})
}

// TestSwitchingProtocolsCommits: WriteHeader(101) is the last response on
// its connection and commits like a final status, as coder/websocket's
// Accept does it (WriteHeader(101), then Hijack): a Renew before an upgrade
// sends the new id in the 101, and a Set after it is too late.
func TestSwitchingProtocolsCommits(t *testing.T) {
	store := newMapStore()
	c := newClient(t, loginApp(t, sessions.FromBytes(store)))
	c.get("/login?user=ann")
	old := c.cookies["LOGIN"]
	m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store))))
	lateErr := make(chan error, 1)
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Renew[Login](r.Context()); err != nil {
			t.Error(err)
		}
		w.Header().Set("Upgrade", "websocket")
		w.Header().Set("Connection", "Upgrade")
		w.WriteHeader(http.StatusSwitchingProtocols)
		lateErr <- sessions.Set(r.Context(), Login{User: "late"})
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	})))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nCookie: LOGIN="+old+"\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d; want 101", res.StatusCode)
	}
	var renewed string
	for _, ck := range res.Cookies() {
		if ck.Name == "LOGIN" {
			renewed = ck.Value
		}
	}
	if renewed == "" || renewed == old || !store.has(loginKey(renewed)) {
		t.Fatalf("the 101 carried LOGIN=%q (stored %v); want the renewed id", renewed, store.has(loginKey(renewed)))
	}
	if err := <-lateErr; !errors.Is(err, sessions.ErrTooLate) {
		t.Fatalf("Set after the 101 = %v; want ErrTooLate", err)
	}
}

// TestFailedCommitKeepsEveryProvidersSessions: no old id is invalidated
// before every provider's writes succeeded, so when a later provider's
// write fails, an earlier provider's Renew has not logged the user out.
func TestFailedCommitKeepsEveryProvidersSessions(t *testing.T) {
	logins, apis := newMapStore(), newMapStore()
	m := mustNew(t,
		sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(logins))),
		sessions.Cookie[API]("API", sessions.WithStorage(sessions.FromBytes(apis)), sessions.WithLogger(discardLogger())),
	)
	c := newClient(t, routes(m, map[string]func(http.ResponseWriter, *http.Request) error{
		"/login": func(w http.ResponseWriter, r *http.Request) error {
			return sessions.Set(r.Context(), Login{User: "ann"})
		},
		"/elevate": func(w http.ResponseWriter, r *http.Request) error {
			if err := sessions.Renew[Login](r.Context()); err != nil {
				return err
			}
			return sessions.Set(r.Context(), API{Token: "t"})
		},
		"/me": func(w http.ResponseWriter, r *http.Request) error {
			_, err := sessions.Get[Login](r.Context())
			return err
		},
	}))
	c.get("/login")
	old := c.cookies["LOGIN"]
	apis.failSave = errStoreDown
	if rec := c.get("/elevate"); rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d; want the failed commit's 500", rec.Code)
	}
	if c.cookies["LOGIN"] != old || !logins.has(loginKey(old)) {
		t.Fatalf("after a failed commit the client has LOGIN %q and the storage has the old id: %v; want the old session intact", c.cookies["LOGIN"], logins.has(loginKey(old)))
	}
	if err := bodyErr(c.get("/me")); err != "" {
		t.Fatalf("the user was logged out by another provider's failure: %s", err)
	}
}

// TestTransformersBindTheTransport: under the same key, a value written
// for cookie "Token" is refused by header session "Token".
func TestTransformersBindTheTransport(t *testing.T) {
	mac := mustMAC(t)
	for _, storage := range []bool{false, true} {
		var opts []sessions.Option
		opts = append(opts, sessions.WithTransformers(mac))
		if storage {
			opts = append(opts, sessions.WithStorage(sessions.FromBytes(newMapStore())))
		}
		name := map[bool]string{false: "client-side", true: "server-side"}[storage]
		t.Run(name, func(t *testing.T) {
			cm := mustNew(t, sessions.Cookie[API]("Token", opts...))
			hm := mustNew(t, sessions.Header[API]("Token", opts...))
			rec := newClient(t, cm.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sessions.Set(r.Context(), API{Token: "admin"})
			}))).get("/")
			value := setCookies(rec)["Token"].Value
			var got error
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Token", value)
			hm.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, got = sessions.Get[API](r.Context())
			})).ServeHTTP(httptest.NewRecorder(), req)
			if !errors.Is(got, sessions.ErrNoSession) {
				t.Fatalf("the cookie's value in the header session: Get = %v; want ErrNoSession", got)
			}
		})
	}
}

// TestIdentityGeneratorRunsOutsideTheLock: a WithIdentity generator that
// reads another session of the same request does not deadlock Set or
// Renew.
func TestIdentityGeneratorRunsOutsideTheLock(t *testing.T) {
	for _, name := range []string{"Set", "Renew"} {
		t.Run(name, func(t *testing.T) {
			store := newMapStore()
			gen := func(r *http.Request) string {
				p, _ := sessions.Get[Prefs](r.Context())
				return "u-" + p.Theme + "-" + sessions.NewID()[:16]
			}
			m := mustNew(t,
				sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store)), sessions.WithIdentity(gen)),
				sessions.Cookie[Prefs]("P", sessions.WithUnsigned()))
			done := make(chan error, 1)
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sessions.Set(r.Context(), Prefs{Theme: "dark"})
				err := sessions.Set(r.Context(), Login{User: "ann"})
				if err == nil && name == "Renew" {
					err = sessions.Renew[Login](r.Context())
				}
				done <- err
			}))
			go h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s deadlocked on a generator that reads another session", name)
			}
		})
	}
}

// TestGetOrSetIsAtomicWithinARequest: two goroutines of one request that
// both find no session return the same value, the one that is stored.
func TestGetOrSetIsAtomicWithinARequest(t *testing.T) {
	store := newMapStore()
	m := mustNew(t, sessions.Cookie[API]("CSRF", sessions.WithStorage(sessions.FromBytes(store))))
	var a, b API
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		aLooked, bDone := make(chan struct{}), make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, _ = sessions.GetOrSet(ctx, func() API {
				close(aLooked) // a found no session
				<-bDone        // and b, finding none too, stores its value first
				return API{Token: "a"}
			})
		}()
		<-aLooked
		b, _ = sessions.GetOrSet(ctx, func() API { return API{Token: "b"} })
		close(bDone)
		wg.Wait()
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if a != b {
		t.Fatalf("GetOrSet returned %q to one goroutine and %q to the other; want the same session", a.Token, b.Token)
	}
	ids := store.ids()
	if len(ids) != 1 {
		t.Fatalf("stored %v", ids)
	}
	e, _ := sessions.DecodeEntry(string(store.data[ids[0]]))
	if stored, _ := sessions.Compact[API]().Deserialize(e.Value); stored != b {
		t.Fatalf("stored %q, returned %q", stored.Token, b.Token)
	}
}

// TestNewRefusesReservedHeaderNames: a header session may not be carried
// by a header that HTTP or the middleware gives its own meaning, in any
// case; the error names the header.
func TestNewRefusesReservedHeaderNames(t *testing.T) {
	u := sessions.WithUnsigned()
	for _, name := range []string{"Set-Cookie", "set-cookie", "COOKIE", "Content-Length", "transfer-encoding", "Host", "Location",
		"Connection", "Upgrade", "Te", "Trailer", "Keep-Alive", "Proxy-Authorization", "Vary", "cache-control", "Content-Type"} {
		_, err := sessions.New(sessions.Header[API](name, u))
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), `"`+strings.ToLower(name)+`" is reserved`) {
			t.Errorf("Header(%q): New = %v; want an error naming the reserved header", name, err)
		}
	}
	if _, err := sessions.New(sessions.Header[API]("X-Session", u)); err != nil {
		t.Fatalf("Header(X-Session): %v", err)
	}
}

// TestNewRefusesUnprotectedClientSideSessions: a client-side session
// without MessageAuthentication or Encrypt is refused (Digest alone is no
// protection: its salt is no secret), with an error that says how to fix
// it, unless the provider says WithUnsigned.
func TestNewRefusesUnprotectedClientSideSessions(t *testing.T) {
	mac := mustMAC(t)
	enc, err := sessions.Encrypt([]byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts []sessions.Option
		ok   bool
	}{
		{"no transformers", nil, false},
		{"Digest alone", []sessions.Option{sessions.WithTransformers(sessions.Digest("salt"))}, false},
		{"a header without transformers", nil, false},
		{"MessageAuthentication", []sessions.Option{sessions.WithTransformers(mac)}, true},
		{"Digest then Encrypt", []sessions.Option{sessions.WithTransformers(sessions.Digest("s"), enc)}, true},
		{"WithUnsigned", []sessions.Option{sessions.WithUnsigned()}, true},
		{"server-side", []sessions.Option{sessions.WithStorage(sessions.FromBytes(newMapStore()))}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := sessions.Cookie[Login]("S", tc.opts...)
			if strings.HasPrefix(tc.name, "a header") {
				p = sessions.Header[Login]("X-S", tc.opts...)
			}
			_, err := sessions.New(p)
			switch {
			case tc.ok && err != nil:
				t.Fatalf("New: %v", err)
			case !tc.ok && (err == nil || !strings.Contains(err.Error(), "WithUnsigned()") || !strings.Contains(err.Error(), "MessageAuthentication")):
				t.Fatalf("New = %v; want an error naming MessageAuthentication and WithUnsigned()", err)
			}
		})
	}
}

// TestResponsesCarryCachingHeaders: a response that sets or clears a
// session carries Vary on its cookie or header and a Cache-Control that
// keeps shared caches from storing it, without weakening a stricter one
// the handler set; a response that only read a session carries the Vary.
func TestResponsesCarryCachingHeaders(t *testing.T) {
	cases := []struct {
		name      string
		header    bool // a header session
		before    http.Header
		do        string // set, clear, get, nothing
		wantVary  []string
		wantCache string
	}{
		{"set", false, nil, "set", []string{"Cookie"}, "private"},
		{"clear", false, nil, "clear", []string{"Cookie"}, "private"},
		{"read only", false, nil, "get", []string{"Cookie"}, ""},
		{"untouched", false, nil, "nothing", nil, ""},
		{"header session", true, nil, "set", []string{"X-Session"}, "private"},
		{"handler's no-store is kept", false, http.Header{"Cache-Control": {"no-store"}}, "set", []string{"Cookie"}, "no-store"},
		{"handler's private is kept", false, http.Header{"Cache-Control": {"private, max-age=60"}}, "set", []string{"Cookie"}, "private, max-age=60"},
		{"handler's public is made private", false, http.Header{"Cache-Control": {"public, max-age=60, s-maxage=600"}}, "set", []string{"Cookie"}, "max-age=60, private"},
		{"handler's Vary is kept", false, http.Header{"Vary": {"Accept-Encoding"}}, "get", []string{"Accept-Encoding", "Cookie"}, ""},
		{"no duplicate Vary", false, http.Header{"Vary": {"accept, cookie"}}, "set", []string{"accept, cookie"}, "private"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := sessions.Cookie[Login]("S", sessions.WithStorage(sessions.FromBytes(newMapStore())))
			if tc.header {
				p = sessions.Header[Login]("X-Session", sessions.WithStorage(sessions.FromBytes(newMapStore())))
			}
			m := mustNew(t, p)
			c := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.before {
					w.Header()[k] = v
				}
				switch r.URL.Path {
				case "/login", "/set":
					sessions.Set(r.Context(), Login{User: "ann"})
				case "/clear":
					sessions.Clear[Login](r.Context())
				case "/get":
					sessions.Get[Login](r.Context())
				}
			})))
			login := c.get("/login")
			if tc.header {
				c.header.Set("X-Session", login.Header().Get("X-Session"))
			}
			rec := c.get("/" + tc.do)
			if got := rec.Header()["Vary"]; strings.Join(got, "|") != strings.Join(tc.wantVary, "|") {
				t.Errorf("Vary %q; want %q", got, tc.wantVary)
			}
			if got := rec.Header().Get("Cache-Control"); got != tc.wantCache {
				t.Errorf("Cache-Control %q; want %q", got, tc.wantCache)
			}
		})
	}
}

// countingTransformer counts its reads, to show what reaches it.
type countingTransformer struct {
	sessions.Transformer
	mu    sync.Mutex
	reads int
}

func (c *countingTransformer) TransformRead(name, v string) (string, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.Transformer.TransformRead(name, v)
}

// TestIncomingValuesAreBoundedBeforeDecoding: a value over its transport's
// bound (4096 bytes for a cookie, name included; WithHeaderLimit for a
// header, the same by default) is "no session" before any transformer or
// decoder sees it.
func TestIncomingValuesAreBoundedBeforeDecoding(t *testing.T) {
	cases := []struct {
		name   string
		header bool
		opts   []sessions.Option
		size   int
		reads  int // transformer reads expected
	}{
		{"cookie over 4096", false, nil, 4096, 0},
		{"cookie at 4096", false, nil, 4096 - len("S"), 1},
		{"header of 1 MiB", true, nil, 1 << 20, 0},
		{"header over the default bound", true, nil, 4097, 0},
		{"header under a raised bound", true, []sessions.Option{sessions.WithHeaderLimit(8192)}, 5000, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := &countingTransformer{Transformer: mustMAC(t)}
			// A transformer of the test's own is not recognised as
			// protection: WithUnsigned takes responsibility for it.
			opts := append([]sessions.Option{sessions.WithTransformers(tr), sessions.WithUnsigned()}, tc.opts...)
			p := sessions.Cookie[Login]("S", opts...)
			if tc.header {
				p = sessions.Header[Login]("X-S", opts...)
			}
			m := mustNew(t, p)
			var got error
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, got = sessions.Get[Login](r.Context())
			}))
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			value := strings.Repeat("A", tc.size)
			if tc.header {
				req.Header.Set("X-S", value)
			} else {
				req.Header.Set("Cookie", "S="+value)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			if !errors.Is(got, sessions.ErrNoSession) {
				t.Fatalf("Get = %v; want ErrNoSession", got)
			}
			if tr.reads != tc.reads {
				t.Fatalf("the transformer read %d values; want %d", tr.reads, tc.reads)
			}
		})
	}
	t.Run("Set refuses a header value over the bound", func(t *testing.T) {
		m := mustNew(t, sessions.Header[Login]("X-S", sessions.WithUnsigned(), sessions.WithHeaderLimit(100)))
		var err error
		m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err = sessions.Set(r.Context(), Login{User: strings.Repeat("x", 200)})
		})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
		if !errors.Is(err, sessions.ErrTooLarge) {
			t.Fatalf("Set = %v; want ErrTooLarge", err)
		}
		if _, err := sessions.New(sessions.Cookie[Login]("S", sessions.WithUnsigned(), sessions.WithHeaderLimit(100))); err == nil {
			t.Fatal("WithHeaderLimit accepted on a cookie session")
		}
	})
}

// TestSameNameCookiesTryEachCandidate: with several cookies of the
// session's name (one tossed from a sibling subdomain or a deeper path
// comes first), each is tried in order until one verifies, and the cookie
// is cleared only when none does.
func TestSameNameCookiesTryEachCandidate(t *testing.T) {
	for _, mode := range lifetimeModes(t)[:2] {
		t.Run(mode.name, func(t *testing.T) {
			m := mustNew(t, sessions.Cookie[Login]("S", mode.opts()...))
			c := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/set" {
					sessions.Set(r.Context(), Login{User: "ann"})
					return
				}
				l, err := sessions.Get[Login](r.Context())
				if err != nil {
					w.Write([]byte(err.Error()))
					return
				}
				w.Write([]byte(l.User))
			})))
			c.get("/set")
			good := c.cookies["S"]
			for _, tc := range []struct {
				name, cookie, want string
				cleared            bool
			}{
				{"tossed first", "S=tossed-value; S=" + good, "ann", false},
				{"tossed last", "S=" + good + "; S=tossed-value", "ann", false},
				{"in separate lines", "S=x\x00S=" + good, "ann", false},
				{"none verifies", "S=tossed-1; S=tossed-2", sessions.ErrNoSession.Error(), true},
			} {
				req := httptest.NewRequest(http.MethodGet, "/get", nil)
				for _, line := range strings.Split(tc.cookie, "\x00") {
					req.Header.Add("Cookie", line)
				}
				rec := httptest.NewRecorder()
				c.h.ServeHTTP(rec, req)
				if rec.Body.String() != tc.want {
					t.Errorf("%s: Get = %q; want %q", tc.name, rec.Body.String(), tc.want)
				}
				ck := setCookies(rec)["S"]
				if cleared := ck != nil && ck.MaxAge < 0; cleared != tc.cleared {
					t.Errorf("%s: Set-Cookie %v; want cleared %v", tc.name, ck, tc.cleared)
				}
			}
		})
	}
}

// TestDefaultErrorResponseDropsMisleadingHeaders: when a commit fails, the
// default 500 does not keep the headers the handler set for the response it
// meant to send that would make the 500 a redirect, describe another body
// or let a cache keep it; other headers stay.
func TestDefaultErrorResponseDropsMisleadingHeaders(t *testing.T) {
	store := newMapStore()
	store.failSave = errStoreDown
	m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store)),
		sessions.WithLogger(discardLogger())))
	rec := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Set(r.Context(), Login{User: "ann"})
		h := w.Header()
		h.Set("Location", "/dashboard")
		h.Set("Refresh", "0; url=/dashboard")
		h.Set("Content-Type", "application/pdf")
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Disposition", `attachment; filename="report.pdf"`)
		h.Set("Content-Length", "12345")
		h.Set("ETag", `"v1"`)
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("X-Frame-Options", "DENY")
		w.WriteHeader(http.StatusSeeOther)
	}))).get("/login")
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d; want 500", rec.Code)
	}
	h := rec.Header()
	for _, gone := range []string{"Location", "Refresh", "Content-Encoding", "Content-Disposition", "Etag"} {
		if v := h.Get(gone); v != "" {
			t.Errorf("the 500 keeps %s: %q", gone, v)
		}
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q; want text/plain", ct)
	}
	if cc := h.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q; want no-store", cc)
	}
	if h.Get("X-Frame-Options") != "DENY" {
		t.Error("the 500 lost the handler's X-Frame-Options; only misleading headers go")
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
