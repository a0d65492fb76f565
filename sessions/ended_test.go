package sessions_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// condStore adds the conditional saves of sessions.ConditionalByteStorage
// to mapStore, under its lock; live means present (mapStore keeps no
// expiry of its own).
type condStore struct{ *mapStore }

func (s condStore) SaveIfAbsent(ctx context.Context, id string, data []byte, expires time.Time) error {
	s.mu.Lock()
	_, ok := s.data[id]
	s.mu.Unlock()
	if ok {
		return sessions.ErrExists
	}
	return s.Save(ctx, id, data, expires)
}

func (s condStore) SaveIfLive(ctx context.Context, id string, data []byte, expires time.Time) error {
	s.mu.Lock()
	_, ok := s.data[id]
	s.mu.Unlock()
	if !ok {
		return sessions.ErrNotFound
	}
	return s.Save(ctx, id, data, expires)
}

// condTouchStore is condStore with Toucher.
type condTouchStore struct {
	condStore
	touchStore
}

func (s condTouchStore) Load(ctx context.Context, id string) ([]byte, error) {
	return s.condStore.Load(ctx, id)
}
func (s condTouchStore) Save(ctx context.Context, id string, d []byte, e time.Time) error {
	return s.condStore.Save(ctx, id, d, e)
}
func (s condTouchStore) Delete(ctx context.Context, id string) error {
	return s.condStore.Delete(ctx, id)
}

// endedApp serves a Login session "S" kept in store with opts: /set, /get,
// /clear, and /wait, which reads the session, tells read, waits for
// release and then does nothing or, with ?set=1, changes the session.
type endedApp struct {
	m       *sessions.Manager
	h       http.Handler
	read    chan struct{}
	release chan struct{}
	once    sync.Once
}

// letGo releases the waiting handler, once; it is also a cleanup, so that
// none waits forever after a failure.
func (a *endedApp) letGo() { a.once.Do(func() { close(a.release) }) }

func newEndedApp(t *testing.T, opts ...sessions.Option) *endedApp {
	t.Helper()
	a := &endedApp{
		m:       mustNew(t, sessions.Cookie[Login]("S", opts...)),
		read:    make(chan struct{}, 1),
		release: make(chan struct{}),
	}
	t.Cleanup(a.letGo)
	a.h = routes(a.m, map[string]func(http.ResponseWriter, *http.Request) error{
		"/set": func(w http.ResponseWriter, r *http.Request) error {
			return sessions.Set(r.Context(), Login{User: r.URL.Query().Get("user")})
		},
		"/get": func(w http.ResponseWriter, r *http.Request) error {
			l, err := sessions.Get[Login](r.Context())
			w.Write([]byte(l.User))
			return err
		},
		"/clear": func(w http.ResponseWriter, r *http.Request) error { return sessions.Clear[Login](r.Context()) },
		"/wait": func(w http.ResponseWriter, r *http.Request) error {
			l, err := sessions.Get[Login](r.Context())
			a.read <- struct{}{}
			if err != nil {
				return err
			}
			<-a.release
			if r.URL.Query().Get("set") != "" {
				l.User += "!"
				return sessions.Set(r.Context(), l)
			}
			return nil
		},
	})
	return a
}

func (a *endedApp) do(target, cookie string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "S", Value: cookie})
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, req)
	return rec
}

// inFlightOverClear runs target with cookie until it has read the
// session, clears the session with another request, lets target finish
// and returns its response.
func (a *endedApp) inFlightOverClear(t *testing.T, target, cookie string) *httptest.ResponseRecorder {
	t.Helper()
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() { done <- a.do(target, cookie) }()
	<-a.read
	if rec := a.do("/clear", cookie); rec.Code != http.StatusOK {
		t.Fatalf("/clear: status %d", rec.Code)
	}
	a.letGo()
	return <-done
}

func wantCleared(t *testing.T, rec *httptest.ResponseRecorder, what string) {
	t.Helper()
	if ck := setCookies(rec)["S"]; ck == nil || ck.MaxAge >= 0 {
		t.Errorf("%s: Set-Cookie %v, want S cleared", what, ck)
	}
}

// TestSlideInFlightOverClearDoesNotReviveTheSession: an idle timeout that
// comes due in a request that read the session before a logout does not
// write the session back, with a storage that moves the expiry (Touch) and
// with one that rewrites the entry (a conditional Replace).
func TestSlideInFlightOverClearDoesNotReviveTheSession(t *testing.T) {
	for _, tt := range []struct {
		name  string
		store func(*mapStore) sessions.ByteStorage
	}{
		{"Touch", func(m *mapStore) sessions.ByteStorage { return condTouchStore{condStore{m}, touchStore{m}} }},
		{"rewrite", func(m *mapStore) sessions.ByteStorage { return condStore{m} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			store := newMapStore()
			a := newEndedApp(t, sessions.WithStorage(sessions.FromBytes(tt.store(store))), sessions.WithIdleTimeout(30*time.Minute))
			clock := newFakeClock(a.m)
			cookie := setCookies(a.do("/set?user=ann", ""))["S"].Value
			clock.advance(20 * time.Minute) // less than half of the idle window remains: due
			rec := a.inFlightOverClear(t, "/wait", cookie)
			if rec.Code != http.StatusOK {
				t.Fatalf("the sliding request: status %d, want 200", rec.Code)
			}
			wantCleared(t, rec, "a slide in flight over a logout")
			if ids := store.ids(); len(ids) != 0 {
				t.Fatalf("after a logout and a slide that was in flight the storage holds %v, want nothing", ids)
			}
			if rec := a.do("/get", cookie); !errors.Is(errFrom(rec), sessions.ErrNoSession) {
				t.Errorf("the logged-out cookie reads %q (%v), want ErrNoSession", rec.Body.String(), errFrom(rec))
			}
		})
	}
}

// recordLog keeps the records of a slog handler.
type recordLog struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *recordLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.records = append(l.records, r)
	l.mu.Unlock()
	return nil
}
func (l *recordLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *recordLog) WithGroup(string) slog.Handler      { return l }

// TestEndedSessionIsReportedNotFailed: a change dropped because the session
// ended meanwhile reaches a provider's error handler as ErrSessionEnded;
// without one it is an info record, and the response goes on.
func TestEndedSessionIsReportedNotFailed(t *testing.T) {
	t.Run("default", func(t *testing.T) {
		logs := &recordLog{}
		a := newEndedApp(t, sessions.WithStorage(sessions.FromBytes(condStore{newMapStore()})), sessions.WithLogger(slog.New(logs)))
		cookie := setCookies(a.do("/set?user=ann", ""))["S"].Value
		rec := a.inFlightOverClear(t, "/wait?set=1", cookie)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d, want 200: a dropped change is not a server error", rec.Code)
		}
		wantCleared(t, rec, "a Set in flight over a logout")
		logs.mu.Lock()
		defer logs.mu.Unlock()
		i := slices.IndexFunc(logs.records, func(r slog.Record) bool { return r.Level == slog.LevelInfo })
		if i < 0 {
			t.Fatalf("no info record of the dropped change; records: %v", logs.records)
		}
	})
	t.Run("WithErrorHandler", func(t *testing.T) {
		var got error
		a := newEndedApp(t, sessions.WithStorage(sessions.FromBytes(condStore{newMapStore()})),
			sessions.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
				got = err
				http.Error(w, "signed out elsewhere", http.StatusConflict)
			}))
		cookie := setCookies(a.do("/set?user=ann", ""))["S"].Value
		rec := a.inFlightOverClear(t, "/wait?set=1", cookie)
		if !errors.Is(got, sessions.ErrSessionEnded) {
			t.Fatalf("the error handler got %v, want an error wrapping ErrSessionEnded", got)
		}
		if rec.Code != http.StatusConflict {
			t.Errorf("status %d, want the error handler's 409", rec.Code)
		}
		wantCleared(t, rec, "a Set in flight over a logout, answered by the error handler")
	})
}

// TestRepeatedIdentityNeverOverwritesAnotherSession: a WithIdentity
// generator that repeats an id fails the second login instead of taking
// over the first user's session.
func TestRepeatedIdentityNeverOverwritesAnotherSession(t *testing.T) {
	store := newMapStore()
	a := newEndedApp(t, sessions.WithStorage(sessions.FromBytes(condStore{store})),
		sessions.WithIdentity(func(*http.Request) string { return "always-the-same" }))
	ann := setCookies(a.do("/set?user=ann", ""))["S"].Value
	if rec := a.do("/set?user=bob", ""); rec.Code != http.StatusInternalServerError || setCookies(rec)["S"] != nil {
		t.Fatalf("a login under a repeated id: status %d, S %v; want the failed commit's 500 and no cookie", rec.Code, setCookies(rec)["S"])
	}
	if rec := a.do("/get", ann); rec.Body.String() != "ann" {
		t.Errorf("the first session now reads %q (%v), want \"ann\"", rec.Body.String(), errFrom(rec))
	}
}

// TestProvidersSharingAStorageNeverShareKeys: an id of one provider, sent
// in the cookie of another that keeps its sessions in the same storage, is
// no session.
func TestProvidersSharingAStorageNeverShareKeys(t *testing.T) {
	type Cart struct{ Items []string }
	store := sessions.FromBytes(condStore{newMapStore()})
	m := mustNew(t,
		sessions.Cookie[Login]("LOGIN", sessions.WithStorage(store)),
		sessions.Cookie[Cart]("CART", sessions.WithStorage(store), sessions.WithIdleTimeout(time.Hour)))
	c := newClient(t, routes(m, map[string]func(http.ResponseWriter, *http.Request) error{
		"/login": func(w http.ResponseWriter, r *http.Request) error {
			return sessions.Set(r.Context(), Login{User: "ann"})
		},
		"/cart": func(w http.ResponseWriter, r *http.Request) error {
			_, err := sessions.Get[Cart](r.Context())
			return err
		},
	}))
	c.get("/login")
	c.cookies["CART"] = c.cookies["LOGIN"]
	if err := errFrom(c.get("/cart")); !errors.Is(err, sessions.ErrNoSession) {
		t.Errorf("CART carrying LOGIN's id: Get = %v, want ErrNoSession", err)
	}
}
