package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/sessions"
)

// testKeys are fixed keys for tests that do not test key handling, so the
// throwaway-key warnings stay out of their logs.
var (
	testEncKey = bytes.Repeat([]byte{0x11}, 32)
	testMACKey = bytes.Repeat([]byte{0x22}, 32)
)

// testLogger returns a logger that writes to the test's output, so that
// records show with a failing test.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startApp builds the app from cfg, with a bolt file in t.TempDir(), fixed
// keys and the test logger unless cfg says otherwise, and serves it. Both
// are closed when t ends.
func startApp(t testing.TB, cfg config) (*app, *httptest.Server) {
	t.Helper()
	if cfg.Store == "" {
		cfg.Store = "bolt:" + filepath.Join(t.TempDir(), "sessions.db")
	}
	if cfg.EncKeys == nil {
		cfg.EncKeys = [][]byte{testEncKey}
	}
	if cfg.MACKeys == nil {
		cfg.MACKeys = [][]byte{testMACKey}
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	a, err := newApp(t.Context(), cfg)
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := a.Close(); err != nil {
			t.Errorf("app.Close: %v", err)
		}
	})
	return a, srv
}

// browser is an HTTP client with a cookie jar, standing in for one browser.
// It follows redirects, as a browser does after a form post.
type browser struct {
	t     testing.TB
	base  *url.URL
	jar   *cookiejar.Jar
	c     *http.Client
	agent string
}

func newBrowser(t testing.TB, srv *httptest.Server, agent string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, base: base, jar: jar, c: &http.Client{Jar: jar}, agent: agent}
}

// do sends req and returns the final status and body.
func (b *browser) do(req *http.Request) (int, string) {
	b.t.Helper()
	req.Header.Set("User-Agent", b.agent)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, string(body)
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base.JoinPath(path).String(), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base.JoinPath(path).String(), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// mustGet gets path and fails the test unless the answer is 200.
func (b *browser) mustGet(path string) string {
	b.t.Helper()
	status, body := b.get(path)
	if status != http.StatusOK {
		b.t.Fatalf("GET %s: status %d, want 200; body:\n%s", path, status, body)
	}
	return body
}

// mustPost posts form to path and fails the test unless the page it ends
// on answers 200.
func (b *browser) mustPost(path string, form url.Values) string {
	b.t.Helper()
	status, body := b.post(path, form)
	if status != http.StatusOK {
		b.t.Fatalf("POST %s: status %d, want 200; body:\n%s", path, status, body)
	}
	return body
}

func (b *browser) login(user string) string {
	b.t.Helper()
	return b.mustPost("/login", url.Values{"user": {user}})
}

// cookie returns the value of the jar's cookie name, "" when absent.
func (b *browser) cookie(name string) string {
	for _, c := range b.jar.Cookies(b.base) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// setCookie replaces the jar's cookie name, as a user editing cookies would.
func (b *browser) setCookie(name, value string) {
	b.jar.SetCookies(b.base, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

var whoamiRE = regexp.MustCompile(`id="whoami">([^<]*)<`)

// whoami returns the user the page says is signed in, "" when it says no
// one is.
func whoami(t testing.TB, page string) string {
	t.Helper()
	if m := whoamiRE.FindStringSubmatch(page); m != nil {
		return m[1]
	}
	if !strings.Contains(page, `id="logged-out"`) {
		t.Fatalf("page says neither who is signed in nor that no one is:\n%s", page)
	}
	return ""
}

var themeRE = regexp.MustCompile(`<body class="theme-([a-z]+)">`)

// pageTheme returns the theme the page applies.
func pageTheme(t testing.TB, page string) string {
	t.Helper()
	m := themeRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page has no theme class:\n%s", page)
	}
	return m[1]
}

var cartLineRE = regexp.MustCompile(`data-product="([a-z]+)">.*?class="qty">× ([0-9]+)<`)

// cartOf returns the product code → quantity lines the cart page shows.
func cartOf(t testing.TB, page string) map[string]string {
	t.Helper()
	got := make(map[string]string)
	for _, m := range cartLineRE.FindAllStringSubmatch(page, -1) {
		got[m[1]] = m[2]
	}
	if len(got) == 0 && !strings.Contains(page, `id="empty-cart"`) {
		t.Fatalf("cart page shows neither lines nor an empty cart:\n%s", page)
	}
	return got
}

var sessionRowRE = regexp.MustCompile(`<tr class="session( current)?" data-fingerprint="([0-9a-f]{12})">`)

// sessionRows returns the fingerprints the sessions page lists and which
// one it marks current.
func sessionRows(t testing.TB, page string) (fps []string, current string) {
	t.Helper()
	for _, m := range sessionRowRE.FindAllStringSubmatch(page, -1) {
		fps = append(fps, m[2])
		if m[1] != "" {
			if current != "" {
				t.Fatalf("two sessions are marked current:\n%s", page)
			}
			current = m[2]
		}
	}
	return fps, current
}

var sessionTimesRE = regexp.MustCompile(`(?s)data-fingerprint="([0-9a-f]{12})">.*?class="created">([^<]*)<.*?class="last-seen">([^<]*)<`)

// sessionTimes returns the login and last-seen times the sessions page
// shows, by fingerprint.
func sessionTimes(t testing.TB, page string) map[string][2]string {
	t.Helper()
	out := make(map[string][2]string)
	for _, m := range sessionTimesRE.FindAllStringSubmatch(page, -1) {
		out[m[1]] = [2]string{m[2], m[3]}
	}
	return out
}

// storedLogin reads id from the app's store and decodes it as a Login. ok
// is false when the store has no such entry.
func storedLogin(t testing.TB, a *app, id string) (l Login, ok bool) {
	t.Helper()
	key, err := sessions.KeyOf[Login](a.sessions, id)
	if err != nil {
		t.Fatalf("KeyOf: %v", err)
	}
	var data []byte
	err = a.logins.Read(context.Background(), key, func(r io.Reader) error {
		var err error
		data, err = io.ReadAll(r)
		return err
	})
	if errors.Is(err, sessions.ErrNotFound) {
		return Login{}, false
	}
	if err != nil {
		t.Fatalf("store.Read: %v", err)
	}
	e, err := sessions.DecodeEntry(string(data))
	if err != nil {
		t.Fatalf("stored entry is not a session entry: %v", err)
	}
	l, err = sessions.Compact[Login]().Deserialize(e.Value)
	if err != nil {
		t.Fatalf("stored entry is not a Login: %v", err)
	}
	return l, true
}

// storedIDs lists every key in the app's store, of every namespace. Every
// backend of this repository is a sessions.Lister.
func storedIDs(t testing.TB, a *app) []string {
	t.Helper()
	l, ok := a.store.(sessions.Lister)
	if !ok {
		t.Fatalf("the store %T cannot list its keys", a.store)
	}
	var ids []string
	for id, err := range l.List(context.Background()) {
		if err != nil {
			t.Fatalf("store.List: %v", err)
		}
		ids = append(ids, id)
	}
	return ids
}

// flipMiddle returns s with its middle character changed to another
// base64url character: the encoding stays valid, the content does not.
func flipMiddle(s string) string {
	if s == "" {
		return "A"
	}
	i := len(s) / 2
	repl := byte('A')
	if s[i] == 'A' {
		repl = 'B'
	}
	return s[:i] + string(repl) + s[i+1:]
}

// hexKey formats a key as the flags take it.
func hexKey(k []byte) string { return hex.EncodeToString(k) }

// isSessionID reports whether s has the form of sessions.NewID's ids.
func isSessionID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// sessionFingerprint is what the sessions page shows for the Login session
// whose cookie carries id: the fingerprint of its storage key.
func sessionFingerprint(t testing.TB, a *app, id string) string {
	t.Helper()
	key, err := sessions.KeyOf[Login](a.sessions, id)
	if err != nil {
		t.Fatal(err)
	}
	return fingerprint(key)
}
