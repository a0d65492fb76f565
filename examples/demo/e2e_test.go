package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

func TestLoginShowsTheUserAndRenewsTheID(t *testing.T) {
	a, srv := startApp(t, config{})
	b := newBrowser(t, srv, "browser-one")

	if got := whoami(t, b.mustGet("/")); got != "" {
		t.Fatalf("fresh browser: page says %q is signed in", got)
	}
	page := b.login("ann")
	if got := whoami(t, page); got != "ann" {
		t.Fatalf("after login the page says %q is signed in, want ann", got)
	}
	for _, path := range []string{"/", "/cart", "/prefs", "/sessions"} {
		if got := whoami(t, b.mustGet(path)); got != "ann" {
			t.Errorf("GET %s says %q is signed in, want ann", path, got)
		}
	}
	first := b.cookie(loginCookie)
	if !isSessionID(first) {
		t.Fatalf("LOGIN cookie %q does not carry a session id", first)
	}
	l, ok := storedLogin(t, a, first)
	if !ok || l.User != "ann" || l.Agent != "browser-one" || l.Since.IsZero() {
		t.Fatalf("store holds %+v (found %v) for the LOGIN id, want ann from browser-one", l, ok)
	}

	// Logging in again, even as the same user, must move the session to a
	// new id and remove the old one: an id known before a login is
	// worthless after it.
	b.login("ann")
	second := b.cookie(loginCookie)
	if second == "" || second == first {
		t.Fatalf("logging in again kept the LOGIN cookie value; Renew was not applied")
	}
	if _, ok := storedLogin(t, a, first); ok {
		t.Errorf("the id from before the second login is still in the store")
	}
	if l, ok := storedLogin(t, a, second); !ok || l.User != "ann" {
		t.Errorf("store holds %+v (found %v) for the new id, want ann", l, ok)
	}
}

// A planted id (session fixation) must not survive a login: the attacker
// who set it must not be logged in as the victim afterwards.
func TestLoginDoesNotAdoptAPlantedID(t *testing.T) {
	a, srv := startApp(t, config{})
	attacker := newBrowser(t, srv, "attacker")
	attacker.login("mallory")
	planted := attacker.cookie(loginCookie)

	victim := newBrowser(t, srv, "victim")
	victim.setCookie(loginCookie, planted)
	victim.login("ann")
	if victim.cookie(loginCookie) == planted {
		t.Fatal("the victim's session kept the planted id")
	}
	if got := whoami(t, attacker.mustGet("/")); got == "ann" {
		t.Fatal("the attacker's browser is logged in as the victim")
	}
	if _, ok := storedLogin(t, a, planted); ok {
		t.Error("the planted id is still in the store after the victim's login")
	}
}

func TestLoginRefusesBadUserNames(t *testing.T) {
	for _, name := range []string{"", "   ", "ann smith", "<script>", "a/b", strings.Repeat("x", maxUserLen+1), "\xff"} {
		t.Run(name, func(t *testing.T) {
			a, srv := startApp(t, config{})
			b := newBrowser(t, srv, "b")
			status, page := b.post("/login", url.Values{"user": {name}})
			if status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", status)
			}
			if !strings.Contains(page, `id="error"`) {
				t.Errorf("the answer does not explain the error:\n%s", page)
			}
			if b.cookie(loginCookie) != "" {
				t.Error("a LOGIN cookie was set")
			}
			if ids := storedIDs(t, a); len(ids) != 0 {
				t.Errorf("the store holds %d entries, want none", len(ids))
			}
		})
	}
}

func TestLogoutClearsTheCookieAndTheStoreEntry(t *testing.T) {
	a, srv := startApp(t, config{})
	b := newBrowser(t, srv, "b")
	b.login("ann")
	id := b.cookie(loginCookie)
	if _, ok := storedLogin(t, a, id); !ok {
		t.Fatal("login stored nothing")
	}

	page := b.mustPost("/logout", nil)
	if got := whoami(t, page); got != "" {
		t.Errorf("after logout the page says %q is signed in", got)
	}
	if v := b.cookie(loginCookie); v != "" {
		t.Errorf("the browser still has a LOGIN cookie after logout")
	}
	if _, ok := storedLogin(t, a, id); ok {
		t.Error("the session is still in the store after logout")
	}
	if ids := storedIDs(t, a); len(ids) != 0 {
		t.Errorf("the store holds %d entries after logout, want none", len(ids))
	}

	// The old id, replayed, is no session.
	b.setCookie(loginCookie, id)
	if got := whoami(t, b.mustGet("/")); got != "" {
		t.Errorf("the replayed id after logout logs in as %q", got)
	}
}

func TestCartSurvivesReloadsAndLogout(t *testing.T) {
	_, srv := startApp(t, config{})
	b := newBrowser(t, srv, "b")
	b.login("ann")

	b.mustPost("/cart/add", url.Values{"product": {"apple"}})
	b.mustPost("/cart/add", url.Values{"product": {"apple"}})
	page := b.mustPost("/cart/add", url.Values{"product": {"bread"}})
	want := map[string]string{"apple": "2", "bread": "1"}
	if got := cartOf(t, page); !maps.Equal(got, want) {
		t.Fatalf("cart after adding: %v, want %v", got, want)
	}
	for range 2 { // reloads
		if got := cartOf(t, b.mustGet("/cart")); !maps.Equal(got, want) {
			t.Fatalf("cart after a reload: %v, want %v", got, want)
		}
	}
	if !strings.Contains(b.mustGet("/"), `id="cart-count">3<`) {
		t.Error("the home page does not count 3 items in the cart")
	}

	// Encrypted: the cookie does not show what is in the cart, neither as
	// it is nor decoded from base64.
	v := b.cookie(cartCookie)
	decoded, _ := base64.RawURLEncoding.DecodeString(v)
	for _, s := range []string{v, string(decoded)} {
		if v == "" || strings.Contains(s, "apple") || strings.Contains(s, "bread") {
			t.Errorf("the CART cookie is missing or readable: %q", s)
		}
	}

	// The cart belongs to the browser and survives logout.
	b.mustPost("/logout", nil)
	if got := cartOf(t, b.mustGet("/cart")); !maps.Equal(got, want) {
		t.Fatalf("cart after logout: %v, want %v", got, want)
	}

	b.mustPost("/cart/remove", url.Values{"product": {"apple"}})
	want = map[string]string{"apple": "1", "bread": "1"}
	if got := cartOf(t, b.mustGet("/cart")); !maps.Equal(got, want) {
		t.Fatalf("cart after removing one apple: %v, want %v", got, want)
	}
	b.mustPost("/cart/remove", url.Values{"product": {"apple"}})
	b.mustPost("/cart/remove", url.Values{"product": {"bread"}})
	if got := cartOf(t, b.mustGet("/cart")); len(got) != 0 {
		t.Fatalf("cart after removing everything: %v, want empty", got)
	}
	if b.cookie(cartCookie) != "" {
		t.Error("an empty cart still has a CART cookie")
	}
}

func TestCartRefusesUnknownProducts(t *testing.T) {
	_, srv := startApp(t, config{})
	b := newBrowser(t, srv, "b")
	for _, path := range []string{"/cart/add", "/cart/remove"} {
		if status, _ := b.post(path, url.Values{"product": {"caviar"}}); status != http.StatusBadRequest {
			t.Errorf("POST %s of an unknown product: status %d, want 400", path, status)
		}
	}
	if b.cookie(cartCookie) != "" {
		t.Error("a refused product set a CART cookie")
	}
}

func TestCartQuantityIsCapped(t *testing.T) {
	_, srv := startApp(t, config{})
	b := newBrowser(t, srv, "b")
	var page string
	for range maxQuantity + 2 {
		page = b.mustPost("/cart/add", url.Values{"product": {"tea"}})
	}
	if got := cartOf(t, page)["tea"]; got != "99" {
		t.Errorf("tea quantity after %d adds: %s, want %d", maxQuantity+2, got, maxQuantity)
	}
}

func TestPreferencesChangeTheTheme(t *testing.T) {
	_, srv := startApp(t, config{})
	b := newBrowser(t, srv, "b")
	if got := pageTheme(t, b.mustGet("/")); got != "light" {
		t.Fatalf("default theme %q, want light", got)
	}
	b.mustPost("/prefs", url.Values{"theme": {"dark"}})
	for _, path := range []string{"/", "/cart", "/prefs"} {
		if got := pageTheme(t, b.mustGet(path)); got != "dark" {
			t.Errorf("GET %s applies theme %q after choosing dark", path, got)
		}
	}
	if !strings.Contains(b.mustGet("/prefs"), `id="theme-dark" value="dark" checked`) {
		t.Error("the preferences page does not check the chosen theme")
	}
	if status, _ := b.post("/prefs", url.Values{"theme": {"neon"}}); status != http.StatusBadRequest {
		t.Errorf("an unknown theme: status %d, want 400", status)
	}
	if got := pageTheme(t, b.mustGet("/")); got != "dark" {
		t.Errorf("a refused theme changed the theme to %q", got)
	}
	b.mustPost("/prefs", url.Values{"theme": {"light"}})
	if got := pageTheme(t, b.mustGet("/")); got != "light" {
		t.Errorf("theme %q after choosing light", got)
	}
}

// Two browsers log in as one user; the sessions page of each lists both,
// and ending one from the other logs that browser out.
func TestSessionsPageListsAndEndsAUsersSessions(t *testing.T) {
	a, srv := startApp(t, config{})
	one := newBrowser(t, srv, "browser-one")
	two := newBrowser(t, srv, "browser-two")
	other := newBrowser(t, srv, "someone-else")
	one.login("ann")
	two.login("ann")
	other.login("bob")
	fp := func(b *browser) string { return sessionFingerprint(t, a, b.cookie(loginCookie)) }
	fpOne, fpTwo, fpOther := fp(one), fp(two), fp(other)

	page := one.mustGet("/sessions")
	fps, current := sessionRows(t, page)
	slices.Sort(fps)
	want := []string{fpOne, fpTwo}
	slices.Sort(want)
	if !slices.Equal(fps, want) {
		t.Fatalf("ann's sessions page lists %v, want %v (bob's is %s)", fps, want, fpOther)
	}
	if current != fpOne {
		t.Errorf("the page marks %q current, want %q", current, fpOne)
	}
	if !strings.Contains(page, "browser-one") || !strings.Contains(page, "browser-two") {
		t.Error("the sessions page does not show the browsers")
	}
	times := sessionTimes(t, page)
	for _, fp := range want {
		tm, ok := times[fp]
		if !ok {
			t.Fatalf("the row of %s shows no login and last-seen times:\n%s", fp, page)
		}
		for _, s := range tm {
			if at, err := time.Parse("2006-01-02 15:04 UTC", s); err != nil || time.Since(at) > time.Hour || time.Until(at) > time.Minute {
				t.Errorf("the row of %s shows the time %q; want about now", fp, s)
			}
		}
	}
	for _, b := range []*browser{one, two, other} {
		id := b.cookie(loginCookie)
		key, err := sessions.KeyOf[Login](a.sessions, id)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(page, id) || strings.Contains(page, key) {
			t.Fatal("the sessions page contains a session id or storage key")
		}
	}
	if _, current := sessionRows(t, two.mustGet("/sessions")); current != fpTwo {
		t.Errorf("the second browser's page marks %q current, want %q", current, fpTwo)
	}

	// bob cannot end ann's sessions, even knowing a fingerprint.
	if status, _ := other.post("/sessions/end", url.Values{"session": {fpTwo}}); status != http.StatusNotFound {
		t.Errorf("bob ending ann's session: status %d, want 404", status)
	}
	if got := whoami(t, two.mustGet("/")); got != "ann" {
		t.Fatalf("after bob's attempt the second browser is %q, want ann", got)
	}

	// The first browser ends the second.
	idTwo := two.cookie(loginCookie)
	page = one.mustPost("/sessions/end", url.Values{"session": {fpTwo}})
	if fps, _ := sessionRows(t, page); !slices.Equal(fps, []string{fpOne}) {
		t.Errorf("after ending the second session the page lists %v, want [%s]", fps, fpOne)
	}
	if _, ok := storedLogin(t, a, idTwo); ok {
		t.Error("the ended session is still in the store")
	}
	if got := whoami(t, two.mustGet("/")); got != "" {
		t.Errorf("the ended browser is still signed in as %q", got)
	}
	if two.cookie(loginCookie) != "" {
		t.Error("the ended browser's LOGIN cookie was not cleared")
	}
	if got := whoami(t, one.mustGet("/")); got != "ann" {
		t.Errorf("the first browser is %q after ending the other, want ann", got)
	}

	// Ending the current session is a logout.
	page = one.mustPost("/sessions/end", url.Values{"session": {fpOne}})
	if got := whoami(t, page); got != "" {
		t.Errorf("after ending its own session the browser is %q", got)
	}
	if one.cookie(loginCookie) != "" {
		t.Error("ending the current session left its LOGIN cookie")
	}
	if got := whoami(t, other.mustGet("/")); got != "bob" {
		t.Errorf("bob's browser is %q, want bob", got)
	}
}

// "Log out all other devices" ends the user's other sessions, at once and
// in the store, and keeps this browser's and other users' sessions. With
// one session left the page offers it no more.
func TestLogOutAllOtherDevices(t *testing.T) {
	a, srv := startApp(t, config{})
	one, two, three := newBrowser(t, srv, "one"), newBrowser(t, srv, "two"), newBrowser(t, srv, "three")
	bob := newBrowser(t, srv, "bob")
	for _, b := range []*browser{one, two, three} {
		b.login("ann")
	}
	bob.login("bob")
	ended := []string{two.cookie(loginCookie), three.cookie(loginCookie)}
	if page := one.mustGet("/sessions"); !strings.Contains(page, `id="end-others"`) {
		t.Fatalf("the sessions page of a user with three sessions offers no \"log out all other devices\":\n%s", page)
	}
	page := one.mustPost("/sessions/end-others", nil)
	fps, current := sessionRows(t, page)
	if fpOne := sessionFingerprint(t, a, one.cookie(loginCookie)); !slices.Equal(fps, []string{fpOne}) || current != fpOne {
		t.Errorf("after logging out the other devices the page lists %v (current %s); want only this browser's, %s", fps, current, fpOne)
	}
	if strings.Contains(page, `id="end-others"`) {
		t.Error("with one session left the page still offers to log out the other devices")
	}
	for _, id := range ended {
		if _, ok := storedLogin(t, a, id); ok {
			t.Error("an ended session is still in the store")
		}
	}
	for _, b := range []*browser{two, three} {
		if got := whoami(t, b.mustGet("/")); got != "" || b.cookie(loginCookie) != "" {
			t.Errorf("an ended browser is signed in as %q, or kept its cookie", got)
		}
	}
	if got := whoami(t, one.mustGet("/")); got != "ann" {
		t.Errorf("the browser that logged out the others is %q, want ann", got)
	}
	if got := whoami(t, bob.mustGet("/")); got != "bob" {
		t.Errorf("bob's browser is %q, want bob", got)
	}
}

func TestSessionsPageNeedsALogin(t *testing.T) {
	_, srv := startApp(t, config{})
	b := newBrowser(t, srv, "b")
	page := b.mustGet("/sessions") // redirected home
	if whoami(t, page) != "" || !strings.Contains(page, `action="/login"`) {
		t.Errorf("a logged-out GET /sessions did not land on the login page")
	}
	if status, _ := b.post("/sessions/end", url.Values{"session": {"0123456789ab"}}); status != http.StatusUnauthorized {
		t.Errorf("a logged-out end: status %d, want 401", status)
	}
	if status, _ := b.post("/sessions/end-others", nil); status != http.StatusUnauthorized {
		t.Errorf("a logged-out end of the other sessions: status %d, want 401", status)
	}
	b.login("ann")
	for _, fp := range []string{"", "xyz", "0123456789AB", "0123456789abc", "login-0123456"} {
		if status, _ := b.post("/sessions/end", url.Values{"session": {fp}}); status != http.StatusBadRequest {
			t.Errorf("end %q: status %d, want 400", fp, status)
		}
	}
}

// apiCall sends an API request with the given session header ("" for
// none) and returns the response, its body decoded into out when out is
// not nil.
func apiCall(t *testing.T, srv string, method, path, session, body string, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, srv+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if session != "" {
		req.Header.Set(apiHeader, session)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: status %d, decoding body: %v", method, path, resp.StatusCode, err)
		}
	}
	return resp
}

func TestAPISessionTravelsInAHeader(t *testing.T) {
	a, srv := startApp(t, config{})

	var login struct{ User string }
	resp := apiCall(t, srv.URL, http.MethodPost, "/api/login", "", `{"user":"ann"}`, &login)
	session := resp.Header.Get(apiHeader)
	if resp.StatusCode != http.StatusOK || login.User != "ann" || session == "" {
		t.Fatalf("login: status %d, user %q, header set %v; want 200, ann, true", resp.StatusCode, login.User, session != "")
	}
	if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("the API login set cookies: %q", c)
	}
	if !isSessionID(session) {
		t.Errorf("the header does not carry an API session id")
	}

	for want := 1; want <= 3; want++ {
		var me apiMeResponse
		resp := apiCall(t, srv.URL, http.MethodGet, "/api/me", session, "", &me)
		if resp.StatusCode != http.StatusOK || me.User != "ann" || me.Calls != want || me.Since.IsZero() {
			t.Fatalf("me #%d: status %d, %+v; want 200, ann, calls %d", want, resp.StatusCode, me, want)
		}
	}

	// An API session is not a browser login: ann's sessions page does not
	// list it.
	b := newBrowser(t, srv, "b")
	b.login("ann")
	if fps, _ := sessionRows(t, b.mustGet("/sessions")); len(fps) != 1 {
		t.Errorf("ann's sessions page lists %d sessions, want only the browser's", len(fps))
	}

	resp = apiCall(t, srv.URL, http.MethodPost, "/api/logout", session, "", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: status %d, want 204", resp.StatusCode)
	}
	if v, ok := resp.Header[http.CanonicalHeaderKey(apiHeader)]; !ok || len(v) != 1 || v[0] != "" {
		t.Errorf("logout answered X-Session %q, want one empty value", v)
	}
	var e apiError
	if resp := apiCall(t, srv.URL, http.MethodGet, "/api/me", session, "", &e); resp.StatusCode != http.StatusUnauthorized || e.Error == "" {
		t.Errorf("me after logout: status %d, error %q; want 401 with a message", resp.StatusCode, e.Error)
	}
	for _, id := range storedIDs(t, a) {
		if strings.HasPrefix(id, apiKeyPrefix) {
			t.Error("the API session is still in the store after logout")
		}
	}
}

func TestAPIRefusesBadRequests(t *testing.T) {
	_, srv := startApp(t, config{})
	tests := []struct {
		name, method, path, session, body string
		want                              int
	}{
		{"me without a session", http.MethodGet, "/api/me", "", "", http.StatusUnauthorized},
		{"me with an unknown id", http.MethodGet, "/api/me", strings.Repeat("0", 64), "", http.StatusUnauthorized},
		{"me with a malformed id", http.MethodGet, "/api/me", "../../etc/passwd", "", http.StatusUnauthorized},
		{"login without a body", http.MethodPost, "/api/login", "", "", http.StatusBadRequest},
		{"login with bad JSON", http.MethodPost, "/api/login", "", `{"user":`, http.StatusBadRequest},
		{"login with an unknown field", http.MethodPost, "/api/login", "", `{"user":"ann","admin":true}`, http.StatusBadRequest},
		{"login with trailing data", http.MethodPost, "/api/login", "", `{"user":"ann"} {}`, http.StatusBadRequest},
		{"login with a bad name", http.MethodPost, "/api/login", "", `{"user":"a b"}`, http.StatusBadRequest},
		{"login with a huge body", http.MethodPost, "/api/login", "", `{"user":"` + strings.Repeat("a", 2*maxBody) + `"}`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			resp := apiCall(t, srv.URL, tt.method, tt.path, tt.session, tt.body, &e)
			if resp.StatusCode != tt.want || e.Error == "" {
				t.Errorf("status %d, error %q; want %d with a message", resp.StatusCode, e.Error, tt.want)
			}
			if resp.Header.Get(apiHeader) != "" {
				t.Error("a refused request got a session")
			}
		})
	}
}

// Anything a browser sends in CART or PREFS that does not decrypt or verify
// is an empty session: the page works (no 500), shows the defaults, and the
// bad cookie is cleared.
func TestTamperedClientCookiesAreIgnored(t *testing.T) {
	tests := []struct {
		name   string
		cookie string
		value  func(cart, prefs string) string
	}{
		{"cart with a changed byte", cartCookie, func(cart, _ string) string { return flipMiddle(cart) }},
		{"cart truncated", cartCookie, func(cart, _ string) string { return cart[:len(cart)-4] }},
		{"cart extended", cartCookie, func(cart, _ string) string { return cart + "AAAA" }},
		{"cart replaced by garbage", cartCookie, func(string, string) string { return "garbage" }},
		{"cart holding the prefs value", cartCookie, func(_, prefs string) string { return prefs }},
		{"prefs with a changed byte", prefsCookie, func(_, prefs string) string { return flipMiddle(prefs) }},
		{"prefs truncated", prefsCookie, func(_, prefs string) string { return prefs[:len(prefs)-4] }},
		{"prefs replaced by garbage", prefsCookie, func(string, string) string { return "%ZZ" }},
		{"prefs holding the cart value", prefsCookie, func(cart, _ string) string { return cart }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := startApp(t, config{})
			b := newBrowser(t, srv, "b")
			b.mustPost("/cart/add", url.Values{"product": {"coffee"}})
			b.mustPost("/prefs", url.Values{"theme": {"dark"}})
			cart, prefs := b.cookie(cartCookie), b.cookie(prefsCookie)
			if cart == "" || prefs == "" {
				t.Fatal("setting up: the cart or prefs cookie is missing")
			}
			b.setCookie(tt.cookie, tt.value(cart, prefs))

			page := b.mustGet("/cart") // 200, not 500
			lines, theme := cartOf(t, page), pageTheme(t, page)
			if tt.cookie == cartCookie {
				if len(lines) != 0 {
					t.Errorf("a tampered cart shows %v", lines)
				}
				if theme != "dark" {
					t.Errorf("tampering with the cart changed the theme to %q", theme)
				}
			} else {
				if theme != "light" {
					t.Errorf("tampered prefs apply theme %q, want the default", theme)
				}
				if lines["coffee"] != "1" {
					t.Errorf("tampering with prefs changed the cart to %v", lines)
				}
			}
			if b.cookie(tt.cookie) != "" {
				t.Errorf("the tampered %s cookie was not cleared", tt.cookie)
			}
		})
	}
}

// forgeCookie returns the value a Cookie[T](name) provider with the given
// transformers sends for v: a well-formed cookie made without the demo's
// keys (or with the wrong kind of protection).
func forgeCookie[T any](t *testing.T, name string, v T, tf ...sessions.Transformer) string {
	t.Helper()
	opts := []sessions.Option{sessions.WithTransformers(tf...)}
	if len(tf) == 0 {
		opts = append(opts, sessions.WithUnsigned()) // the forgery under test
	}
	m, err := sessions.New(sessions.Cookie[T](name, opts...))
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Set(r.Context(), v); err != nil {
			t.Errorf("forging %s: %v", name, err)
		}
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	t.Fatalf("forging %s: no cookie set", name)
	return ""
}

// Well-formed CART and PREFS values that the demo did not make are refused:
// unprotected, protected with another key, or signed where encryption is
// expected. Only the demo's own keys make a value the demo accepts.
func TestForgedClientCookiesAreRefused(t *testing.T) {
	otherKey := bytes.Repeat([]byte{0x33}, 32)
	otherEnc, err := sessions.Encrypt(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	otherMAC, err := sessions.MessageAuthentication(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	demoMAC, err := sessions.MessageAuthentication(testMACKey)
	if err != nil {
		t.Fatal(err)
	}
	demoEnc, err := sessions.Encrypt(testEncKey)
	if err != nil {
		t.Fatal(err)
	}
	cart := Cart{Items: map[string]int{"tea": 7}}
	prefs := Prefs{Theme: "dark"}
	tests := []struct {
		name, cookie, value string
		accepted            bool // the control cases: made with the demo's own key
	}{
		{"cart without protection", cartCookie, forgeCookie(t, cartCookie, cart), false},
		{"cart encrypted with another key", cartCookie, forgeCookie(t, cartCookie, cart, otherEnc), false},
		{"cart signed with the demo's MAC key", cartCookie, forgeCookie(t, cartCookie, cart, demoMAC), false},
		{"cart encrypted with the demo's key", cartCookie, forgeCookie(t, cartCookie, cart, demoEnc), true},
		{"prefs without protection", prefsCookie, forgeCookie(t, prefsCookie, prefs), false},
		{"prefs signed with another key", prefsCookie, forgeCookie(t, prefsCookie, prefs, otherMAC), false},
		{"prefs encrypted with the demo's cart key", prefsCookie, forgeCookie(t, prefsCookie, prefs, demoEnc), false},
		{"prefs signed with the demo's key", prefsCookie, forgeCookie(t, prefsCookie, prefs, demoMAC), true},
	}
	_, srv := startApp(t, config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, srv, "b")
			b.setCookie(tt.cookie, tt.value)
			page := b.mustGet("/cart")
			var took bool
			if tt.cookie == cartCookie {
				took = cartOf(t, page)["tea"] == "7"
			} else {
				took = pageTheme(t, page) == "dark"
			}
			if took != tt.accepted {
				t.Fatalf("the demo took the value: %v, want %v", took, tt.accepted)
			}
			if cleared := b.cookie(tt.cookie) == ""; cleared == tt.accepted {
				t.Errorf("cookie cleared: %v, want %v", cleared, !tt.accepted)
			}
		})
	}
}

// A client-side value moved into the LOGIN cookie, or any other string, is
// no login and no error.
func TestForgedLoginCookiesAreNoSession(t *testing.T) {
	a, srv := startApp(t, config{})
	for _, v := range []string{"admin", strings.Repeat("a", 64), "..%2F..%2Fetc", strings.Repeat("x", 200)} {
		b := newBrowser(t, srv, "b")
		b.setCookie(loginCookie, v)
		if got := whoami(t, b.mustGet("/")); got != "" {
			t.Errorf("a forged LOGIN cookie logs in as %q", got)
		}
	}
	if ids := storedIDs(t, a); len(ids) != 0 {
		t.Errorf("forged cookies created %d store entries", len(ids))
	}
}

// A store that fails is a server error, not a logout: the user must not be
// told they are signed out when the store is down.
func TestStoreFailureIsAnErrorNotALogout(t *testing.T) {
	a, srv := startApp(t, config{})
	b := newBrowser(t, srv, "b")
	b.login("ann")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	status, body := b.get("/")
	if status != http.StatusInternalServerError {
		t.Fatalf("GET / with the store closed: status %d, want 500", status)
	}
	if strings.Contains(body, b.cookie(loginCookie)) {
		t.Error("the error page shows the session id")
	}
	if b.cookie(loginCookie) == "" {
		t.Error("a store failure cleared the LOGIN cookie")
	}
}

// Cross-site form posts are refused: a forged login or cart change from
// another site does nothing.
func TestCrossSitePostsAreRefused(t *testing.T) {
	_, srv := startApp(t, config{})
	for _, h := range []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {"https://evil.example"}},
	} {
		b := newBrowser(t, srv, "b")
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader("user=mallory"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range h {
			req.Header[k] = v
		}
		if status, _ := b.do(req); status != http.StatusForbidden {
			t.Errorf("cross-site POST with %v: status %d, want 403", h, status)
		}
		if b.cookie(loginCookie) != "" {
			t.Errorf("cross-site POST with %v logged the browser in", h)
		}
	}
	// A same-origin post from a browser still works.
	b := newBrowser(t, srv, "b")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader("user=ann"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if status, page := b.do(req); status != http.StatusOK || whoami(t, page) != "ann" {
		t.Errorf("same-origin login: status %d", status)
	}
}

func TestCookiesHaveSafeAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		_, srv := startApp(t, config{Secure: secure})
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		var lines []string
		for _, step := range []struct{ path, form string }{
			{"/login", "user=ann"},
			{"/cart/add", "product=tea"},
			{"/prefs", "theme=dark"},
		} {
			resp, err := c.Post(srv.URL+step.path, "application/x-www-form-urlencoded", strings.NewReader(step.form))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("POST %s: status %d, want 303", step.path, resp.StatusCode)
			}
			lines = append(lines, resp.Header.Values("Set-Cookie")...)
		}
		if len(lines) != 3 {
			t.Fatalf("got %d Set-Cookie lines, want 3: %q", len(lines), lines)
		}
		for _, line := range lines {
			name, _, _ := strings.Cut(line, "=")
			for _, attr := range []string{"; Path=/", "; HttpOnly", "; SameSite=Lax"} {
				if !strings.Contains(line, attr) {
					t.Errorf("cookie %s lacks %q", name, attr)
				}
			}
			if strings.Contains(line, "; Secure") != secure {
				t.Errorf("cookie %s: Secure is %v, want %v", name, !secure, secure)
			}
		}
	}
}

func TestPagesSendSecurityHeaders(t *testing.T) {
	_, srv := startApp(t, config{})
	for _, path := range []string{"/", "/cart", "/prefs", "/static/style.css", "/no-such-page"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
			t.Errorf("GET %s: Content-Security-Policy %q allows scripts", path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", path)
		}
	}
	resp, err := http.Get(srv.URL + "/static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("style sheet: status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestPagesRefuseOtherMethods(t *testing.T) {
	_, srv := startApp(t, config{})
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "/login"},
		{http.MethodGet, "/logout"},
		{http.MethodGet, "/cart/add"},
		{http.MethodGet, "/sessions/end"},
		{http.MethodGet, "/sessions/end-others"},
		{http.MethodGet, "/api/login"},
		{http.MethodPost, "/api/me"},
	} {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("%s %s: status %d, want 405", tt.method, tt.path, resp.StatusCode)
		}
	}
}
