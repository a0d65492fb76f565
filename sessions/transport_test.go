package sessions_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

func TestCookieDefaults(t *testing.T) {
	m := mustNew(t, sessions.Cookie[Prefs]("P", sessions.WithUnsigned()))
	rec := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Set(r.Context(), Prefs{Theme: "dark"})
	}))).get("/")
	line := rec.Header().Get("Set-Cookie")
	for _, want := range []string{"Path=/", "Max-Age=604800", "HttpOnly", "SameSite=Lax"} {
		if !strings.Contains(line, want) {
			t.Errorf("Set-Cookie %q lacks %s", line, want)
		}
	}
	for _, unwanted := range []string{"Secure", "Domain", "Partitioned"} {
		if strings.Contains(line, unwanted) {
			t.Errorf("Set-Cookie %q has %s by default", line, unwanted)
		}
	}
}

func TestClearRepeatsTheCookieAttributes(t *testing.T) {
	m := mustNew(t, sessions.Cookie[Prefs]("__Secure-P", sessions.WithUnsigned(), sessions.WithCookie(func(c *http.Cookie) {
		c.Domain, c.Path, c.Secure, c.SameSite, c.Partitioned = "example.com", "/app", true, http.SameSiteNoneMode, true
	})))
	c := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/app/out" {
			sessions.Clear[Prefs](r.Context())
			return
		}
		sessions.Set(r.Context(), Prefs{Theme: "dark"})
	})))
	set := c.get("/app/in").Header().Get("Set-Cookie")
	cleared := c.get("/app/out").Header().Get("Set-Cookie")
	for _, attr := range []string{"Domain=example.com", "Path=/app", "Secure", "SameSite=None", "Partitioned", "HttpOnly"} {
		if !strings.Contains(set, attr) || !strings.Contains(cleared, attr) {
			t.Errorf("attribute %s: set %q, cleared %q; want it in both", attr, set, cleared)
		}
	}
	if !strings.Contains(cleared, "Max-Age=0") || !strings.HasPrefix(cleared, "__Secure-P=;") {
		t.Errorf("clearing line %q; want an empty value and Max-Age=0", cleared)
	}
}

func TestBrowserSessionCookieHasNoMaxAgeAndTheStorageTTL(t *testing.T) {
	store := newMapStore()
	m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store)),
		sessions.WithCookie(func(c *http.Cookie) { c.MaxAge = 0 }),
		sessions.WithLifetime(2*time.Hour)))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sessions.SetClock(m, func() time.Time { return now })
	rec := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Set(r.Context(), Login{User: "ann"})
	}))).get("/")
	if line := rec.Header().Get("Set-Cookie"); strings.Contains(line, "Max-Age") || strings.Contains(line, "Expires") {
		t.Fatalf("Set-Cookie %q; want a browser-session cookie (no Max-Age, no Expires)", line)
	}
	for id, exp := range store.expires {
		if !exp.Equal(now.Add(2 * time.Hour)) {
			t.Fatalf("entry %s expires %v; want now + the storage TTL, %v", id, exp, now.Add(2*time.Hour))
		}
	}
}

func TestStorageEntryExpiresWithTheCookie(t *testing.T) {
	store := newMapStore()
	m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store)),
		sessions.WithLifetime(time.Hour)))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sessions.SetClock(m, func() time.Time { return now })
	newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Set(r.Context(), Login{User: "ann"})
	}))).get("/")
	if len(store.expires) != 1 {
		t.Fatalf("%d entries; want 1", len(store.expires))
	}
	for _, exp := range store.expires {
		if !exp.Equal(now.Add(time.Hour)) {
			t.Fatalf("entry expires %v; want now + Max-Age, %v", exp, now.Add(time.Hour))
		}
	}
}

func TestTooLargeCookieIsRefusedNotTruncated(t *testing.T) {
	m := mustNew(t, sessions.Cookie[Login]("BIG", sessions.WithTransformers(mustMAC(t))))
	var setErr error
	rec := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setErr = sessions.Set(r.Context(), Login{User: strings.Repeat("x", 5000)})
	}))).get("/")
	if !errors.Is(setErr, sessions.ErrTooLarge) {
		t.Fatalf("Set of a 5000-byte value = %v; want ErrTooLarge", setErr)
	}
	if len(rec.Header()["Set-Cookie"]) != 0 {
		t.Fatal("a refused value was still sent")
	}
	// The limit is on name plus value: the largest fitting value is sent whole.
	var fits string
	var fitErr error
	rec = newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for n := 3200; n > 0; n-- {
			if fitErr = sessions.Set(r.Context(), Login{User: strings.Repeat("y", n)}); fitErr == nil {
				fits = strings.Repeat("y", n)
				return
			}
		}
	}))).get("/")
	ck := setCookies(rec)["BIG"]
	if fitErr != nil || ck == nil || len("BIG")+len(ck.Value) > sessions.MaxCookieSize || len("BIG")+len(ck.Value) < sessions.MaxCookieSize-8 {
		t.Fatalf("largest fitting cookie: err %v, %d bytes; want just under %d", fitErr, len(ck.Value)+3, sessions.MaxCookieSize)
	}
	_ = fits
}

func TestHeaderTransport(t *testing.T) {
	store := newMapStore()
	m := mustNew(t, sessions.Header[API]("X-Session", sessions.WithStorage(sessions.FromBytes(store))))
	c := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			sessions.Set(r.Context(), API{Token: "t1"})
		case "/me":
			a, err := sessions.Get[API](r.Context())
			if err != nil {
				w.Write([]byte(err.Error()))
				return
			}
			w.Write([]byte(a.Token))
		case "/logout":
			sessions.Clear[API](r.Context())
		}
	})))
	rec := c.get("/login")
	id := rec.Header().Get("X-Session")
	if id == "" || !store.has(sessions.StorageKey("header", "X-Session", id)) {
		t.Fatalf("login sent X-Session %q; want the stored id", id)
	}
	if len(rec.Header()["Set-Cookie"]) != 0 {
		t.Fatal("a header session sent a cookie")
	}
	c.header.Set("x-session", id)
	if got := c.get("/me").Body.String(); got != "t1" {
		t.Fatalf("/me = %q; want t1", got)
	}
	rec = c.get("/logout")
	if v, ok := rec.Header()["X-Session"]; !ok || len(v) != 1 || v[0] != "" {
		t.Fatalf("logout X-Session = %q (present %v); want present and empty", v, ok)
	}
	if store.has(sessions.StorageKey("header", "X-Session", id)) {
		t.Fatal("logout left the entry in the storage")
	}
}

// TestClientSideValuesRoundTripInEveryTransport: a client-side value sent
// by a cookie or a header, signed, encrypted, or through a chain of
// transformers, of any length (the sealing transformers' text is written
// into the line piecewise), reads back whole, and its cookie carries the
// attributes and Max-Age that net/http parses.
func TestClientSideValuesRoundTripInEveryTransport(t *testing.T) {
	enc, err := sessions.Encrypt([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	chains := map[string][]sessions.Transformer{
		"MessageAuthentication": {mustMAC(t)},
		"Encrypt":               {enc},
		"Digest then Encrypt":   {sessions.Digest("salt"), enc},
	}
	for chain, trs := range chains {
		for _, header := range []bool{false, true} {
			p := sessions.Cookie[Login]("S", sessions.WithTransformers(trs...), sessions.WithLifetime(time.Hour))
			if header {
				p = sessions.Header[Login]("X-S", sessions.WithTransformers(trs...), sessions.WithLifetime(time.Hour))
			}
			m := mustNew(t, p)
			for n := range 160 {
				want := Login{User: strings.Repeat("u", n), Roles: []string{"r"}}
				rec := httptest.NewRecorder()
				m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if err := sessions.Set(r.Context(), want); err != nil {
						t.Fatal(err)
					}
				})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
				req := httptest.NewRequest(http.MethodGet, "/", nil)
				if header {
					req.Header.Set("X-S", rec.Header().Get("X-S"))
				} else {
					ck, err := http.ParseSetCookie(rec.Header().Get("Set-Cookie"))
					if err != nil {
						t.Fatal(err)
					}
					if ck.Name != "S" || ck.Path != "/" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.MaxAge != 3600 {
						t.Fatalf("%s, %d bytes: cookie %+v; want S, Path /, HttpOnly, SameSite Lax, Max-Age 3600", chain, n, ck)
					}
					req.AddCookie(&http.Cookie{Name: "S", Value: ck.Value})
				}
				var got Login
				m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if got, err = sessions.Get[Login](r.Context()); err != nil {
						t.Fatalf("%s, header %v, %d bytes: Get: %v", chain, header, n, err)
					}
				})).ServeHTTP(httptest.NewRecorder(), req)
				if got.User != want.User || len(got.Roles) != 1 || got.Roles[0] != "r" {
					t.Fatalf("%s, header %v, %d bytes: read back %+v; want %+v", chain, header, n, got, want)
				}
			}
		}
	}
}

// TestEverySessionSetInOneResponseGetsItsOwnLine sets a header session and
// two cookie sessions in one request, with and without a line of the
// handler's own: each session's value must arrive whole and apart, and the
// handler's line must stay. The commit builds these header values without
// allocating a []string for the first line; one array shared by two of
// them would hand one session's value to another.
func TestEverySessionSetInOneResponseGetsItsOwnLine(t *testing.T) {
	m := mustNew(t,
		sessions.Header[API]("X-Session", sessions.WithStorage(sessions.FromBytes(newMapStore()))),
		sessions.Cookie[Login]("L", sessions.WithTransformers(mustMAC(t))),
		sessions.Cookie[Prefs]("P", sessions.WithTransformers(mustMAC(t))),
	)
	for _, own := range []bool{false, true} {
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if own {
				w.Header().Add("Set-Cookie", "own=1")
			}
			for _, err := range []error{
				sessions.Set(r.Context(), API{Token: "t"}),
				sessions.Set(r.Context(), Login{User: "ann"}),
				sessions.Set(r.Context(), Prefs{Theme: "dark"}),
			} {
				if err != nil {
					t.Error(err)
				}
			}
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		ids := rec.Header()["X-Session"]
		if len(ids) != 1 || sessions.CheckID(ids[0]) != nil {
			t.Fatalf("own line %v: X-Session is %q; want one id", own, ids)
		}
		var names []string
		for _, line := range rec.Header()["Set-Cookie"] {
			name, _, _ := strings.Cut(line, "=")
			names = append(names, name)
		}
		want := "L P"
		if own {
			want = "own L P"
		}
		if got := strings.Join(names, " "); got != want {
			t.Fatalf("own line %v: Set-Cookie lines are for %q; want %q", own, got, want)
		}
	}
}

// TestHeaderLinesAreTheRequestsOwn: the header values a commit adds
// (Set-Cookie, Cache-Control, Vary) belong to the response they are in. A
// handler, or a middleware outside, that edits one in place after the
// commit changes that response only: the next response still says
// "private" and "Cookie".
func TestHeaderLinesAreTheRequestsOwn(t *testing.T) {
	for _, mode := range []struct {
		name string
		opts []sessions.Option
	}{
		{"by value", []sessions.Option{sessions.WithTransformers(mustMAC(t))}},
		{"by id", []sessions.Option{sessions.WithStorage(sessions.FromBytes(newMapStore()))}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			m := mustNew(t, sessions.Cookie[Login]("S", mode.opts...))
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if err := sessions.Set(r.Context(), Login{User: "ann"}); err != nil {
					t.Error(err)
				}
				w.WriteHeader(http.StatusOK)
				for _, name := range []string{"Set-Cookie", "Cache-Control", "Vary"} {
					if v := w.Header()[name]; len(v) > 0 {
						v[0] = "edited"
					}
				}
			}))
			for i := range 2 {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
				got := rec.Result().Header
				if cc, vary := got.Get("Cache-Control"), got.Get("Vary"); cc != "private" || vary != "Cookie" {
					t.Fatalf("response %d: Cache-Control %q, Vary %q; want private, Cookie", i, cc, vary)
				}
				if sc := got.Get("Set-Cookie"); !strings.HasPrefix(sc, "S=") {
					t.Fatalf("response %d: Set-Cookie %q; want the session's cookie", i, sc)
				}
			}
		})
	}
}

// TestARefusedValueLeavesNothingInTheNextOne: of two same-name cookies,
// the first verifies but does not decode (after some of its fields did),
// the second is good: the session is the second value, with no field of
// the first.
func TestARefusedValueLeavesNothingInTheNextOne(t *testing.T) {
	m := mustNew(t, sessions.Cookie[Login]("S", sessions.WithUnsigned()))
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Set(r.Context(), Login{User: "ann"}); err != nil {
			t.Fatal(err)
		}
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	good := setCookies(rec)["S"].Value
	i := strings.LastIndex(good, ".")
	bad := good[:i+1] + "2(Roles[1|:leak|x)"
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", "S="+bad+"; S="+good)
	var got Login
	var err error
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err = sessions.Get[Login](r.Context())
	})).ServeHTTP(httptest.NewRecorder(), req)
	if err != nil || got.User != "ann" || got.Roles != nil {
		t.Fatalf("Get = %+v, %v; want ann and no roles", got, err)
	}
}

func TestTransformersRunInOrderOnWriteAndReverseOnRead(t *testing.T) {
	var order []string
	a, b := &tagger{tag: "a", log: &order}, &tagger{tag: "b", log: &order}
	m := mustNew(t, sessions.Cookie[Prefs]("P", sessions.WithTransformers(a, b), sessions.WithUnsigned()))
	c := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			sessions.Set(r.Context(), Prefs{Theme: "dark"})
			return
		}
		p, _ := sessions.Get[Prefs](r.Context())
		w.Write([]byte(p.Theme))
	})))
	c.get("/set")
	if !strings.HasPrefix(c.cookies["P"], "b!a!") {
		t.Fatalf("cookie %q; want b applied after a", c.cookies["P"])
	}
	if got := c.get("/get").Body.String(); got != "dark" {
		t.Fatalf("read back %q; want dark", got)
	}
	if want := "write a,write b,read b,read a"; strings.Join(order, ",") != want {
		t.Fatalf("order %v; want %s", order, want)
	}
}

type tagger struct {
	tag string
	log *[]string
}

func (x *tagger) TransformWrite(name, v string) (string, error) {
	*x.log = append(*x.log, "write "+x.tag)
	return x.tag + "!" + v, nil
}

func (x *tagger) TransformRead(name, v string) (string, error) {
	*x.log = append(*x.log, "read "+x.tag)
	rest, ok := strings.CutPrefix(v, x.tag+"!")
	if !ok {
		return "", errors.New("untagged")
	}
	return rest, nil
}

func TestBadInputIsNoSessionAndClearsTheCookie(t *testing.T) {
	store := newMapStore()
	mac := mustMAC(t)
	good := func(t *testing.T, opts ...sessions.Option) (http.Handler, string) {
		m := mustNew(t, sessions.Cookie[Login]("S", opts...))
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/set" {
				sessions.Set(r.Context(), Login{User: "ann"})
				return
			}
			_, err := sessions.Get[Login](r.Context())
			if err != nil {
				w.Header().Set("X-Err", err.Error())
			}
		}))
		c := newClient(t, h)
		c.get("/set")
		return h, c.cookies["S"]
	}
	flip := func(s string) string {
		b := []byte(s)
		i := len(b) / 2
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	cases := []struct {
		name   string
		opts   []sessions.Option
		mangle func(string) string
		reason string
	}{
		{"tampered MAC value", []sessions.Option{sessions.WithTransformers(mac)}, flip, "transformer refused"},
		{"value that does not decode", []sessions.Option{sessions.WithUnsigned()}, func(string) string { return "zz.not-a-value" }, "malformed timestamp"},
		{"malformed escape", []sessions.Option{sessions.WithUnsigned()}, func(s string) string { return s + "%4" }, "malformed value"},
		{"non-canonical escape", []sessions.Option{sessions.WithUnsigned()}, func(s string) string { return s + "%41" }, "malformed value"},
		{"unknown id", []sessions.Option{sessions.WithStorage(sessions.FromBytes(store))}, func(string) string { return "unknown-id" }, "unknown or expired id"},
		{"id outside the alphabet", []sessions.Option{sessions.WithStorage(sessions.FromBytes(store))}, func(string) string { return "..!x" }, "invalid id"},
		{"id that fails the MAC", []sessions.Option{sessions.WithStorage(sessions.FromBytes(store)), sessions.WithTransformers(mac)}, flip, "transformer refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			opts := append(tc.opts, sessions.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			h, value := good(t, opts...)
			c := newClient(t, h)
			c.cookies["S"] = tc.mangle(value)
			rec := c.get("/get")
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d; want 200, bad input is never a server error", rec.Code)
			}
			if got := rec.Header().Get("X-Err"); got != sessions.ErrNoSession.Error() {
				t.Fatalf("Get = %q; want ErrNoSession", got)
			}
			if ck := setCookies(rec)["S"]; ck == nil || ck.MaxAge >= 0 {
				t.Fatalf("Set-Cookie %v; want the stale cookie cleared", ck)
			}
			if !strings.Contains(logs.String(), "level=DEBUG") || !strings.Contains(logs.String(), tc.reason) {
				t.Fatalf("log %q; want a debug record saying %q", logs.String(), tc.reason)
			}
			if strings.Contains(logs.String(), c.cookies["S"]) && c.cookies["S"] != "" {
				t.Fatal("the log record repeats the client's value")
			}
		})
	}
}

func TestClientSideValueExpiresInsideTheSignature(t *testing.T) {
	m := mustNew(t, sessions.Cookie[Prefs]("P", sessions.WithTransformers(mustMAC(t)),
		sessions.WithLifetime(time.Minute)))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sessions.SetClock(m, func() time.Time { return now })
	c := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			sessions.Set(r.Context(), Prefs{Theme: "dark"})
			return
		}
		if _, err := sessions.Get[Prefs](r.Context()); err != nil {
			w.Write([]byte(err.Error()))
		}
	})))
	c.get("/set")
	captured := c.cookies["P"]
	now = now.Add(59 * time.Second)
	if got := c.get("/get").Body.String(); got != "" {
		t.Fatalf("Get within the lifetime: %q; want the session", got)
	}
	now = now.Add(2 * time.Second)
	c.cookies["P"] = captured
	if got := c.get("/get").Body.String(); got != sessions.ErrNoSession.Error() {
		t.Fatalf("Get of a replayed cookie after its lifetime: %q; want ErrNoSession", got)
	}
}
