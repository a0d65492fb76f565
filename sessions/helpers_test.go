package sessions_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

type Login struct {
	User  string
	Roles []string
}

type Prefs struct {
	Theme string
}

type API struct {
	Token string
}

// mapStore is a ByteStorage for tests: it counts calls, records expiries
// and fails on demand.
type mapStore struct {
	mu       sync.Mutex
	data     map[string][]byte
	expires  map[string]time.Time
	loads    int
	saves    int
	deletes  int
	touches  int
	failLoad error
	failSave error
	failDel  error
}

func newMapStore() *mapStore {
	return &mapStore{data: map[string][]byte{}, expires: map[string]time.Time{}}
}

func (s *mapStore) Load(ctx context.Context, id string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	if s.failLoad != nil {
		return nil, s.failLoad
	}
	b, ok := s.data[id]
	if !ok {
		return nil, sessions.ErrNotFound
	}
	return bytes.Clone(b), nil
}

func (s *mapStore) Save(ctx context.Context, id string, data []byte, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves++
	if s.failSave != nil {
		return s.failSave
	}
	s.data[id] = bytes.Clone(data)
	s.expires[id] = expires
	return nil
}

func (s *mapStore) Delete(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deletes++
	if s.failDel != nil {
		return s.failDel
	}
	delete(s.data, id)
	delete(s.expires, id)
	return nil
}

func (s *mapStore) ids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.data))
}

func (s *mapStore) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.data[id]
	return ok
}

func (s *mapStore) counts() (loads, saves, deletes, touches int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loads, s.saves, s.deletes, s.touches
}

// touchStore adds Toucher to mapStore.
type touchStore struct{ *mapStore }

func (s touchStore) Touch(ctx context.Context, id string, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touches++
	if _, ok := s.data[id]; !ok {
		return sessions.ErrNotFound
	}
	s.expires[id] = expires
	return nil
}

var errStoreDown = errors.New("store down")

func mustNew(t testing.TB, providers ...sessions.Provider) *sessions.Manager {
	t.Helper()
	m, err := sessions.New(providers...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

func mustMAC(t testing.TB) sessions.Transformer {
	t.Helper()
	tr, err := sessions.MessageAuthentication([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// client carries cookies between requests like a browser would, for one
// host, ignoring paths.
type client struct {
	t       testing.TB
	h       http.Handler
	cookies map[string]string
	header  http.Header // request headers to send
}

func newClient(t testing.TB, h http.Handler) *client {
	return &client{t: t, h: h, cookies: map[string]string{}, header: http.Header{}}
}

func (c *client) do(method, target string) *httptest.ResponseRecorder {
	c.t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for name, v := range c.header {
		req.Header[name] = v
	}
	for name, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" {
			delete(c.cookies, ck.Name)
			continue
		}
		c.cookies[ck.Name] = ck.Value
	}
	return rec
}

func (c *client) get(target string) *httptest.ResponseRecorder { return c.do(http.MethodGet, target) }

// setCookies returns the Set-Cookie lines of rec by cookie name.
func setCookies(rec *httptest.ResponseRecorder) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, ck := range rec.Result().Cookies() {
		out[ck.Name] = ck
	}
	return out
}

// routes builds a mux whose handlers run f with the request's context and
// write its error, if any, as the body.
func routes(m *sessions.Manager, fs map[string]func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	mux := http.NewServeMux()
	for path, f := range fs {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if err := f(w, r); err != nil {
				w.Header().Set("X-Err", err.Error())
				w.WriteHeader(299)
			}
		})
	}
	return m.Handler(mux)
}

func bodyErr(rec *httptest.ResponseRecorder) string {
	if rec.Code == 299 {
		return rec.Header().Get("X-Err")
	}
	return ""
}

// loginKey is the storage key of the LOGIN cookie session id.
func loginKey(id string) string { return sessions.StorageKey("cookie", "LOGIN", id) }
