package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// What a newcomer met in their first hour with the demo (issue 14), one
// rule a test.

// A failed start never prints the password of a store URL: not in the
// error that main logs, not on stderr.
func TestFailedStartNeverShowsThePassword(t *testing.T) {
	for _, spec := range []string{
		"redis://user:hunter2@127.0.0.1:notaport/0", // does not parse
		"redis://:hunter2@127.0.0.1:1/0",            // parses, nothing listens
		"redis://user:hunter2@127.0.0.1:1/notadb",   // a bad database number
		"rediss://user:hunter%32@127.0.0.1:notaport/0",
		"redis:user:hunter2@127.0.0.1:6379", // no "//"
		"postgres://u:hunter2@127.0.0.1:notaport/db",
		"postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=5",
	} {
		t.Run(spec, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			var stderr bytes.Buffer
			getenv := func(string) string { return "" }
			err := run(ctx, []string{"-addr", "127.0.0.1:0", "-store", spec}, getenv, &stderr, nil)
			if err == nil {
				t.Fatal("the demo started")
			}
			out := err.Error() + stderr.String()
			if strings.Contains(out, "hunter") {
				t.Errorf("a failed start shows the password:\n%s", out)
			}
		})
	}
}

// "-store redis:HOST:PORT" (no "//") is refused, rather than read as an
// opaque URL that connects to localhost:6379.
func TestStoreURLWithoutSlashesIsRefused(t *testing.T) {
	for _, spec := range []string{"redis:10.0.0.1:6379", "rediss:10.0.0.1:6380/0", "postgres:10.0.0.1:5432/db", "postgresql:db"} {
		t.Run(spec, func(t *testing.T) {
			s, _, err := openStore(t.Context(), spec)
			if err == nil {
				s.Close()
				t.Fatal("openStore accepted it")
			}
			if !strings.Contains(err.Error(), "needs a URL") || !strings.Contains(err.Error(), "://HOST:PORT") {
				t.Errorf("error %q does not show the URL form", err)
			}
		})
	}
}

// failingStore is a store whose writes (and index reads) fail once failing
// is set, as a store that went down between requests. It offers the
// Indexer the sessions page needs, and no ConditionalWriter, so that every
// write of an unindexed session goes through its failing Write.
type failingStore struct {
	store
	ix      sessions.Indexer // the store's
	failing atomic.Bool
}

var errStoreDown = errors.New("store down")

func (s *failingStore) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if s.failing.Load() {
		return errStoreDown
	}
	return s.store.Write(ctx, id, expires, write)
}

func (s *failingStore) indexer() (sessions.Indexer, error) {
	switch {
	case s.failing.Load():
		return nil, errStoreDown
	case s.ix == nil:
		return nil, fmt.Errorf("the store %T is no sessions.Indexer", s.store)
	}
	return s.ix, nil
}

func (s *failingStore) CreateIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	ix, err := s.indexer()
	if err != nil {
		return err
	}
	return ix.CreateIndexed(ctx, id, index, expires, write)
}

func (s *failingStore) ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	ix, err := s.indexer()
	if err != nil {
		return err
	}
	return ix.ReplaceIndexed(ctx, id, index, expires, write)
}

func (s *failingStore) ReadIndex(ctx context.Context, index string, read func(string, time.Time, io.Reader) error) error {
	ix, err := s.indexer()
	if err != nil {
		return err
	}
	return ix.ReadIndex(ctx, index, read)
}

func startFailingApp(t *testing.T) (*failingStore, *httptest.Server) {
	t.Helper()
	fs := &failingStore{}
	cfg := config{open: func(ctx context.Context, spec string) (store, string, error) {
		s, desc, err := openStore(ctx, "memory:")
		if err != nil {
			return nil, "", err
		}
		fs.store, fs.ix = s, sessions.CapabilitiesOf(s).Indexer
		return sessions.Compose(fs, sessions.Capabilities{Closer: s, Indexer: fs}).(store), desc, nil
	}}
	_, srv := startApp(t, cfg)
	return fs, srv
}

// noRedirects is a client that shows each answer as it comes.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// A commit that fails is answered in the format of what was asked: the
// API's JSON error body, the styled error page for a form, and never the
// handler's Location, which would carry on as if the change were saved.
func TestFailedCommitAnswersInTheFormatOfThePage(t *testing.T) {
	fs, srv := startFailingApp(t)
	fs.failing.Store(true)
	cases := []struct {
		name, path, contentType, body string
		wantType, wantBody            string
	}{
		{"API", "/api/login", "application/json", `{"user":"ann"}`, "application/json", `"error"`},
		{"Form", "/login", "application/x-www-form-urlencoded", "user=ann", "text/html", `href="/static/style.css"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := noRedirects.Post(srv.URL+tc.path, tc.contentType, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusInternalServerError {
				t.Errorf("status %d, want 500", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, tc.wantType) {
				t.Errorf("Content-Type %q, want %s", got, tc.wantType)
			}
			if loc := resp.Header.Get("Location"); loc != "" {
				t.Errorf("the failed commit keeps Location %q", loc)
			}
			if !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("body %q lacks %s", body, tc.wantBody)
			}
			if tc.wantType == "application/json" {
				var e apiError
				if err := json.Unmarshal(body, &e); err != nil || e.Error == "" {
					t.Errorf("body %q is not the API's error format: %v", body, err)
				}
			}
		})
	}
}

// The default bolt file is in the user's own cache folder, not in the OS
// temp folder that every user shares (where a second user met "permission
// denied" on the first user's file).
func TestDefaultBoltFileIsPerUser(t *testing.T) {
	cache, tmp := t.TempDir(), t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv("TMPDIR", tmp)
	path := strings.TrimPrefix(defaultStoreSpec(), "bolt:")
	if want := filepath.Join(cache, "sessionkit-demo", defaultBoltFile); path != want {
		t.Errorf("default bolt file %s, want %s", path, want)
	}
	if strings.HasPrefix(path, tmp) {
		t.Errorf("default bolt file %s is in the shared temp folder", path)
	}
}

// bolt:PATH makes the folders it needs, as dir:PATH does; a failure names
// the path once.
func TestBoltPathMakesMissingFoldersAndNamesThePathOnce(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		wantErr    bool
	}{
		{"MissingFolders", filepath.Join(dir, "a", "b", "s.db"), false},
		{"AFolderAsTheFile", dir, true},
		{"UnderAPlainFile", filepath.Join(file, "s.db"), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _, err := openStore(t.Context(), "bolt:"+tc.path)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("openStore: %v", err)
				}
				s.Close()
				fi, err := os.Stat(filepath.Dir(tc.path))
				if err != nil || fi.Mode().Perm() != 0o700 {
					t.Errorf("folder made with %v (%v), want 0700", fi.Mode().Perm(), err)
				}
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("openStore succeeded")
			}
			if n := strings.Count(err.Error(), tc.path); n > 1 {
				t.Errorf("error %q names the path %d times", err, n)
			}
		})
	}
}

// The root README lists every -store kind the demo accepts, and says what
// the first "go run" costs.
func TestRootREADMEListsEveryStoreKind(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range storeKinds {
		prefix, _, _ := strings.Cut(kind, ":")
		if !strings.Contains(string(readme), "`"+prefix+":") {
			t.Errorf("the root README does not list -store %s", kind)
		}
	}
	if !strings.Contains(string(readme), "first `go run`") {
		t.Error("the root README does not say what the first `go run` downloads")
	}
}

// "Your sessions" needs a login: it is not shown, nor linked, to a visitor
// who is logged out.
func TestYourSessionsIsHiddenWhileLoggedOut(t *testing.T) {
	_, srv := startApp(t, config{})
	b := newBrowser(t, srv, "b")
	for _, tc := range []struct {
		name  string
		login bool
	}{{"LoggedOut", false}, {"LoggedIn", true}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.login {
				b.login("ann")
			}
			page := b.mustGet("/")
			shown := strings.Contains(page, "Your sessions") || strings.Contains(page, `href="/sessions"`)
			if shown != tc.login {
				t.Errorf("logged in %v: \"Your sessions\" shown %v", tc.login, shown)
			}
		})
	}
}

// The 404 and error pages are the demo's own pages, with its stylesheet,
// and the API answers its JSON format.
func TestNotFoundAndErrorPagesAreStyled(t *testing.T) {
	fs, srv := startFailingApp(t)
	b := newBrowser(t, srv, "b")
	b.login("ann")
	fs.failing.Store(true)
	cases := []struct {
		name, path string
		status     int
		wantType   string
		wantBody   string
	}{
		{"NotFound", "/no/such/page", http.StatusNotFound, "text/html", `href="/static/style.css"`},
		{"APINotFound", "/api/nosuch", http.StatusNotFound, "application/json", `"error"`},
		{"StoreError", "/sessions", http.StatusInternalServerError, "text/html", `href="/static/style.css"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
			for _, c := range b.jar.Cookies(b.base) {
				req.AddCookie(c)
			}
			resp, err := noRedirects.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.wantType) {
				t.Errorf("status %d, Content-Type %q; want %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, tc.wantType)
			}
			if !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("body lacks %s:\n%s", tc.wantBody, body)
			}
		})
	}
}
