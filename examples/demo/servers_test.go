package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// The -store URLs for Redis and Postgres, end to end: the demo opens the
// store from the URL alone, and the flows that need more than the storage
// contract (the sessions page lists the store) work on it.
//
// The servers come from storagetest/containers: SESSIONKIT_REDIS_ADDR and
// SESSIONKIT_POSTGRES_DSN, else containers; without either the subtests
// skip, unless SESSIONKIT_REQUIRE_SERVERS=1.
func TestStoreURLsForServers(t *testing.T) {
	for _, tt := range []struct {
		name string
		spec func(t *testing.T) string
	}{
		{"redis", func(t *testing.T) string { return "redis://" + containers.Redis(t) + "/0" }},
		{"postgres", func(t *testing.T) string { return containers.Postgres(t) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec(t)
			a, srv := startApp(t, config{Store: spec})
			if desc := a.StoreDescription(); !strings.HasPrefix(desc, tt.name+" ") {
				t.Errorf("store description %q does not name %s", desc, tt.name)
			}
			if u, _ := url.Parse(spec); u != nil {
				if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(a.StoreDescription(), pw) {
					t.Errorf("the store description shows the password")
				}
			}
			// A server may be shared (the environment variables): a user
			// of this run only, and checks on this run's ids only.
			user := "ann-" + sessions.NewID()[:12]
			one, two := newBrowser(t, srv, "one"), newBrowser(t, srv, "two")
			one.login(user)
			two.login(user)
			idOne, idTwo := one.cookie(loginCookie), two.cookie(loginCookie)

			fps, current := sessionRows(t, one.mustGet("/sessions"))
			slices.Sort(fps)
			fpOne, fpTwo := sessionFingerprint(t, a, idOne), sessionFingerprint(t, a, idTwo)
			want := []string{fpOne, fpTwo}
			slices.Sort(want)
			if !slices.Equal(fps, want) || current != fpOne {
				t.Fatalf("sessions page lists %v (current %s), want %v (current %s)", fps, current, want, fpOne)
			}
			one.mustPost("/sessions/end", url.Values{"session": {fpTwo}})
			if got := whoami(t, two.mustGet("/")); got != "" {
				t.Errorf("the ended browser is still %q", got)
			}
			one.mustPost("/logout", nil)
			for _, id := range []string{idOne, idTwo} {
				if _, ok := storedLogin(t, a, id); ok {
					t.Error("a session is still in the store after it ended")
				}
			}

			var me apiMeResponse
			resp := apiCall(t, srv.URL, http.MethodPost, "/api/login", "", `{"user":"`+user+`"}`, nil)
			session := resp.Header.Get(apiHeader)
			for range 2 {
				apiCall(t, srv.URL, http.MethodGet, "/api/me", session, "", &me)
			}
			if me.User != user || me.Calls != 2 {
				t.Errorf("API: %+v, want %s with 2 calls", me, user)
			}
			apiCall(t, srv.URL, http.MethodPost, "/api/logout", session, "", nil)
			if resp := apiCall(t, srv.URL, http.MethodGet, "/api/me", session, "", nil); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("API me after logout: status %d, want 401", resp.StatusCode)
			}
		})
	}
}
