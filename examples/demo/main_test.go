package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/memory"
)

// The README's first command is "go run ./examples/demo" on a fresh
// machine with no server: the app must start with no flags and no
// environment, from any working directory.
func TestStartsWithNoFlagsInAFreshDirectory(t *testing.T) {
	cache, work := t.TempDir(), t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache) // os.UserCacheDir on Unix
	t.Setenv(envEncKey, "")
	t.Setenv(envMACKey, "")
	t.Chdir(work)

	addr, cfg, err := parseFlags(nil, os.Getenv, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags with no flags: %v", err)
	}
	if addr != "127.0.0.1:8080" {
		t.Errorf("default address %q, want 127.0.0.1:8080", addr)
	}
	var logs bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	a, err := newApp(t.Context(), cfg)
	if err != nil {
		t.Fatalf("newApp with defaults: %v", err)
	}
	t.Cleanup(func() { a.Close() })

	rec := httptest.NewRecorder()
	a.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="logged-out"`) {
		t.Fatalf("GET /: status %d, want 200 and the logged-out home page", rec.Code)
	}

	db := filepath.Join(cache, "sessionkit-demo", defaultBoltFile)
	if _, err := os.Stat(db); err != nil {
		t.Errorf("the default bolt file is not at %s: %v", db, err)
	}
	if !strings.Contains(a.StoreDescription(), db) {
		t.Errorf("store description %q does not say where the file is", a.StoreDescription())
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Errorf("the demo wrote into the working directory: %v", entries)
	}
	for _, want := range []string{"no cart encryption key", "no preferences signing key", "will not survive a restart"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not warn %q:\n%s", want, logs.String())
		}
	}
}

// Sessions in the default bolt file survive a restart of the demo; with
// configured keys, carts and preferences do too.
func TestSessionsSurviveARestart(t *testing.T) {
	cfg := config{Store: "bolt:" + filepath.Join(t.TempDir(), "s.db"), EncKeys: [][]byte{testEncKey}, MACKeys: [][]byte{testMACKey}, Logger: testLogger(t)}
	a, err := newApp(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	b := newBrowser(t, srv, "b")
	b.login("ann")
	b.mustPost("/cart/add", url.Values{"product": {"tea"}})
	b.mustPost("/prefs", url.Values{"theme": {"dark"}})
	srv.Close()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	// The same browser (cookies do not depend on the port) meets a new
	// process over the same file and keys.
	_, srv2 := startApp(t, cfg)
	b.base.Host = strings.TrimPrefix(srv2.URL, "http://")
	page := b.mustGet("/cart")
	if whoami(t, page) != "ann" || cartOf(t, page)["tea"] != "1" || pageTheme(t, page) != "dark" {
		t.Errorf("after a restart: user %q, cart %v, theme %q; want ann, tea 1, dark", whoami(t, page), cartOf(t, page), pageTheme(t, page))
	}
}

// Without a home folder the default file falls back to the temp folder,
// which anyone can write to; a link planted there must not be followed.
func TestDefaultStoreRefusesALinkInTheTempFolder(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "")
	folder := defaultBoltFolder()
	if !strings.HasPrefix(folder, tmp) {
		t.Fatalf("without a home folder the default folder is %s, want one in %s", folder, tmp)
	}
	if err := os.MkdirAll(folder, 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(folder, defaultBoltFile)); err != nil {
		t.Skipf("cannot make a symbolic link here: %v", err)
	}
	_, err := newApp(t.Context(), config{Logger: testLogger(t), EncKeys: [][]byte{testEncKey}, MACKeys: [][]byte{testMACKey}})
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("newApp over a planted link: %v, want a refusal", err)
	}
	if fi, _ := os.Stat(target); fi.Size() != 0 {
		t.Error("the link's target was written to")
	}
}

func TestParseFlags(t *testing.T) {
	k16, k32, k32b := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantAddr string
		wantEnc  [][]byte
		wantMAC  [][]byte
		wantErr  string
	}{
		{name: "defaults", wantAddr: "127.0.0.1:8080"},
		{name: "keys from the environment", env: map[string]string{envEncKey: hexKey(k32), envMACKey: hexKey(k16)},
			wantAddr: "127.0.0.1:8080", wantEnc: [][]byte{k32}, wantMAC: [][]byte{k16}},
		{name: "flags override the environment", args: []string{"-enc-key", hexKey(k32b), "-mac-key", hexKey(k32)},
			env:      map[string]string{envEncKey: hexKey(k32), envMACKey: hexKey(k16)},
			wantAddr: "127.0.0.1:8080", wantEnc: [][]byte{k32b}, wantMAC: [][]byte{k32}},
		{name: "key rings, newest first", args: []string{"-enc-key", hexKey(k32b) + "," + hexKey(k32), "-addr", ":9000"},
			wantAddr: ":9000", wantEnc: [][]byte{k32b, k32}},
		{name: "a key that is not hex", args: []string{"-enc-key", "secret-key"}, wantErr: "-enc-key: key 0 is not hex"},
		{name: "an empty key in a ring", args: []string{"-mac-key", hexKey(k32) + ","}, wantErr: "-mac-key: key 1 is not hex"},
		{name: "a bad key in the environment", env: map[string]string{envMACKey: "zz"}, wantErr: "-mac-key: key 0 is not hex"},
		{name: "an unknown flag", args: []string{"-port", "80"}, wantErr: "flag provided but not defined"},
		{name: "a stray argument", args: []string{"serve"}, wantErr: `unexpected argument "serve"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, cfg, err := parseFlags(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret-key") {
					t.Errorf("the error repeats the key")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			eq := func(a, b [][]byte) bool { return slices.EqualFunc(a, b, bytes.Equal) }
			if addr != tt.wantAddr || !eq(cfg.EncKeys, tt.wantEnc) || !eq(cfg.MACKeys, tt.wantMAC) {
				t.Errorf("got addr %q, enc %x, mac %x; want %q, %x, %x", addr, cfg.EncKeys, cfg.MACKeys, tt.wantAddr, tt.wantEnc, tt.wantMAC)
			}
		})
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	var out bytes.Buffer
	_, _, err := parseFlags([]string{"-h"}, func(string) string { return "" }, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v, want flag.ErrHelp", err)
	}
	for _, f := range []string{"-addr", "-store", "-enc-key", "-mac-key", "-secure", envEncKey} {
		if !strings.Contains(out.String(), f) {
			t.Errorf("the usage does not mention %s", f)
		}
	}
}

// Keys of the wrong size are a start-up error that names the flag.
func TestBadKeysStopTheStart(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  config
		want string
	}{
		{"short AES key", config{EncKeys: [][]byte{make([]byte, 20)}, MACKeys: [][]byte{testMACKey}}, "-enc-key"},
		{"short MAC key", config{EncKeys: [][]byte{testEncKey}, MACKeys: [][]byte{make([]byte, 8)}}, "-mac-key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Store = "memory:"
			tt.cfg.Logger = testLogger(t)
			_, err := newApp(t.Context(), tt.cfg)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("newApp: %v, want an error about %s", err, tt.want)
			}
		})
	}
}

func TestOpenStoreSpecs(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		spec    string
		wantErr string
	}{
		{spec: "memory:"},
		{spec: "bolt:" + filepath.Join(dir, "x.db")},
		{spec: "dir:" + filepath.Join(dir, "sessions")},
		{spec: "", wantErr: "unknown kind"},
		{spec: "nosuch:", wantErr: "unknown kind"},
		{spec: "/tmp/file.db", wantErr: "unknown kind"},
		{spec: "bolt:", wantErr: "needs a path"},
		{spec: "dir:", wantErr: "needs a path"},
		{spec: "memory:x", wantErr: "takes no argument"},
		{spec: "bolt:" + filepath.Join(dir, "missing", "x.db")},
		{spec: "redis://:hunter2@127.0.0.1:1/0", wantErr: "redis at redis://:xxxxx@127.0.0.1:1/0"},
		{spec: "redis://127.0.0.1:1/notanumber", wantErr: "redis URL"},
		{spec: "postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=5", wantErr: "postgres"},
	} {
		t.Run(tt.spec, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			s, desc, err := openStore(ctx, tt.spec)
			if tt.wantErr != "" {
				if err == nil {
					s.Close()
					t.Fatalf("openStore succeeded, want an error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("the error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if desc == "" {
				t.Error("no description")
			}
			// Every store must file entries by index key, which the sessions
			// page lists (sessions.New refuses the app without it), and list
			// what it holds, which the tests look at.
			has := sessions.CapabilitiesOf(s)
			if has.Indexer == nil || has.Lister == nil {
				t.Fatalf("the store %T has Indexer %v and Lister %v; want both", s, has.Indexer != nil, has.Lister != nil)
			}
			value := func(w io.Writer) error { _, err := io.WriteString(w, "v"); return err }
			if err := has.Indexer.CreateIndexed(ctx, "login-x", "login-ann", time.Now().Add(time.Hour), value); err != nil {
				t.Fatal(err)
			}
			var filed []string
			err = has.Indexer.ReadIndex(ctx, "login-ann", func(id string, _ time.Time, _ io.Reader) error {
				filed = append(filed, id)
				return nil
			})
			if err != nil || !slices.Equal(filed, []string{"login-x"}) {
				t.Errorf("ReadIndex gives %v, %v; want [login-x]", filed, err)
			}
			var ids []string
			for id, err := range has.Lister.List(ctx) {
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			if !slices.Equal(ids, []string{"login-x"}) {
				t.Errorf("List gives %v, want [login-x]", ids)
			}
		})
	}
}

// run serves until its context is done, then shuts down cleanly: the
// server stops accepting and the store is closed.
func TestRunServesAndShutsDownGracefully(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	args := []string{"-addr", "127.0.0.1:0", "-store", "bolt:" + filepath.Join(t.TempDir(), "s.db"),
		"-enc-key", hexKey(testEncKey), "-mac-key", hexKey(testMACKey)}
	go func() { done <- run(ctx, args, func(string) string { return "" }, io.Discard, ready) }()

	var addr net.Addr
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run returned before serving: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not start serving within 30 s")
	}
	resp, err := http.Get("http://" + addr.String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: status %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30 s of its context ending")
	}
	if c, err := net.DialTimeout("tcp", addr.String(), time.Second); err == nil {
		c.Close()
		t.Error("the server still accepts connections after shutdown")
	}
}

func TestBrowseURL(t *testing.T) {
	for _, tt := range []struct{ addr, want string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080/"},
		{"0.0.0.0:80", "http://localhost:80/"},
		{"[::]:8080", "http://localhost:8080/"},
		{"[::1]:8080", "http://[::1]:8080/"},
	} {
		a, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := browseURL("http", a); got != tt.want {
			t.Errorf("browseURL(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
}

func TestValidUser(t *testing.T) {
	for name, want := range map[string]bool{
		"ann": true, "Ann.Smith_2-b": true, "José": true, "山田": true, strings.Repeat("é", maxUserLen): true,
		"": false, "a b": false, "a\tb": false, "<b>": false, "a/b": false, "a@b": false, "\xff": false,
		strings.Repeat("a", maxUserLen+1): false,
	} {
		if got := validUser(name); got != want {
			t.Errorf("validUser(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestShortAgent(t *testing.T) {
	long := strings.Repeat("a", maxAgentLen-1) + "éé"
	for _, tt := range []struct{ in, want string }{
		{"", "unknown browser"},
		{"  curl/8  ", "curl/8"},
		{"bad\xffbyte", "bad\uFFFDbyte"},
		{long, strings.Repeat("a", maxAgentLen-1) + "…"},
	} {
		if got := shortAgent(tt.in); got != tt.want {
			t.Errorf("shortAgent(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFingerprintIsShortStableAndHidesTheID(t *testing.T) {
	id := sessions.NewID()
	fp := fingerprint(id)
	if !validFingerprint(fp) || fp != fingerprint(id) {
		t.Fatalf("fingerprint %q is not 12 stable lowercase hex characters", fp)
	}
	if strings.Contains(id, fp) {
		t.Error("the fingerprint is a part of the id")
	}
	if fingerprint(sessions.NewID()) == fp {
		t.Error("two ids share a fingerprint")
	}
}

// The store over a network client the demo made keeps every capability of
// the backend: an ownedStore alone has only the methods of the store
// interface, and the middleware would lose the backend's Indexer (the
// sessions page), ConditionalWriter (logouts that stick) and Toucher.
func TestOwnedStoreKeepsTheBackendsCapabilities(t *testing.T) {
	backend := memory.New()
	closed := false
	s := owned(backend, closerFunc(func() error { closed = true; return nil }))
	want, got := sessions.CapabilitiesOf(backend), sessions.CapabilitiesOf(s)
	for _, c := range []struct {
		name      string
		want, got bool
	}{
		{"Toucher", want.Toucher != nil, got.Toucher != nil},
		{"Lister", want.Lister != nil, got.Lister != nil},
		{"Sweeper", want.Sweeper != nil, got.Sweeper != nil},
		{"ConditionalWriter", want.ConditionalWriter != nil, got.ConditionalWriter != nil},
		{"ExpiryReader", want.ExpiryReader != nil, got.ExpiryReader != nil},
		{"Indexer", want.Indexer != nil, got.Indexer != nil},
	} {
		if c.got != c.want {
			t.Errorf("the owned store is %s: %v; the backend: %v", c.name, c.got, c.want)
		}
	}
	if err := s.Close(); err != nil || !closed {
		t.Errorf("Close = %v, client closed %v; want nil, true", err, closed)
	}
	if err := backend.Write(t.Context(), "x", time.Time{}, func(io.Writer) error { return nil }); !errors.Is(err, sessions.ErrClosed) {
		t.Errorf("after Close the backend's Write = %v; want ErrClosed", err)
	}
}
