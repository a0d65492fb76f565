package sessions_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

func TestLoadingIsLazyAndCached(t *testing.T) {
	store := newMapStore()
	c := newClient(t, loginApp(t, sessions.FromBytes(store)))
	c.get("/login?user=ann")
	loads0, _, _, _ := store.counts()
	c.get("/nothing")
	if loads, _, _, _ := store.counts(); loads != loads0 {
		t.Fatalf("a handler that never asked for the session caused %d storage reads", loads-loads0)
	}
	m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store))))
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 3; i++ {
			if _, err := sessions.Get[Login](r.Context()); err != nil {
				t.Error(err)
			}
		}
	}))
	c2 := newClient(t, h)
	c2.cookies = c.cookies
	c2.get("/")
	if loads, _, _, _ := store.counts(); loads != loads0+1 {
		t.Fatalf("three Gets in one request caused %d storage reads; want 1", loads-loads0)
	}
}

func TestOnlyChangesAreWritten(t *testing.T) {
	store := newMapStore()
	c := newClient(t, loginApp(t, sessions.FromBytes(store)))
	c.get("/login?user=ann")
	_, saves0, deletes0, _ := store.counts()
	rec := c.get("/me")
	if _, saves, deletes, _ := store.counts(); saves != saves0 || deletes != deletes0 {
		t.Fatalf("a Get-only request wrote %d and deleted %d entries", saves-saves0, deletes-deletes0)
	}
	if sc := rec.Header()["Set-Cookie"]; len(sc) != 0 {
		t.Fatalf("a Get-only request sent Set-Cookie %q", sc)
	}
}

func TestChangesAreCommittedBeforeTheFirstByte(t *testing.T) {
	cases := []struct {
		name  string
		start func(w http.ResponseWriter)
	}{
		{"WriteHeader", func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) }},
		{"Write", func(w http.ResponseWriter) { w.Write([]byte("hi")) }},
		{"Flush", func(w http.ResponseWriter) { w.(http.Flusher).Flush() }},
		{"ReadFrom", func(w http.ResponseWriter) { w.(io.ReaderFrom).ReadFrom(strings.NewReader("hi")) }},
		{"ResponseController.Flush", func(w http.ResponseWriter) { http.NewResponseController(w).Flush() }},
		{"return", func(w http.ResponseWriter) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			store := newMapStore()
			m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store))))
			var savesAtStart int
			var lateErr error
			// A flushed response reaches the client before the handler
			// returns: wait for the handler before reading what it saw.
			done := make(chan struct{})
			srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				if err := sessions.Set(r.Context(), Login{User: "ann"}); err != nil {
					t.Error(err)
				}
				tc.start(w)
				_, savesAtStart, _, _ = store.counts()
				lateErr = sessions.Set(r.Context(), Login{User: "late"})
			})))
			defer srv.Close()
			res, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			<-done
			if tc.name != "return" && savesAtStart != 1 {
				t.Fatalf("storage writes when the response started: %d; want 1", savesAtStart)
			}
			if tc.name != "return" && !errors.Is(lateErr, sessions.ErrTooLate) {
				t.Fatalf("Set after the response started = %v; want ErrTooLate", lateErr)
			}
			if len(res.Cookies()) != 1 || res.Cookies()[0].Name != "LOGIN" {
				t.Fatalf("response cookies = %v; want the LOGIN cookie", res.Cookies())
			}
		})
	}
}

func TestInformationalStatusDoesNotCommit(t *testing.T) {
	m := mustNew(t, sessions.Cookie[Prefs]("P", sessions.WithUnsigned()))
	var err error
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		err = sessions.Set(r.Context(), Prefs{Theme: "dark"})
	})))
	defer srv.Close()
	res, getErr := srv.Client().Get(srv.URL)
	if getErr != nil {
		t.Fatal(getErr)
	}
	res.Body.Close()
	if err != nil {
		t.Fatalf("Set after 103 Early Hints = %v; want nil", err)
	}
	if len(res.Cookies()) != 1 || res.Cookies()[0].Name != "P" {
		t.Fatalf("cookies %v; want the session set after 103 Early Hints", res.Cookies())
	}
}

func TestResponseWriterKeepsHijackerAndUnwrap(t *testing.T) {
	store := newMapStore()
	m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store))))
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the wrapper: %v", err)
		}
		sessions.Set(r.Context(), Login{User: "ann"})
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
		buf.Flush()
	})))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d; want the hijacked 204", res.StatusCode)
	}
	if len(store.ids()) != 1 {
		t.Fatal("Hijack did not commit the session to the storage")
	}
}

func TestCommitFailureGoesToTheErrorHandler(t *testing.T) {
	store := newMapStore()
	store.failSave = errStoreDown
	var got error
	m := mustNew(t,
		sessions.Cookie[Prefs]("P", sessions.WithUnsigned()),
		sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store)),
			sessions.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
				got = err
				w.WriteHeader(http.StatusServiceUnavailable)
			})))
	var writeErr error
	rec := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Set(r.Context(), Prefs{Theme: "dark"})
		sessions.Set(r.Context(), Login{User: "ann"})
		w.Header().Set("X-App", "kept")
		_, writeErr = w.Write([]byte("secret page"))
	}))).get("/")
	if !errors.Is(got, errStoreDown) {
		t.Fatalf("error handler got %v; want the storage error", got)
	}
	if rec.Code != http.StatusServiceUnavailable || rec.Body.Len() != 0 {
		t.Fatalf("response %d %q; want the error handler's 503 and none of the page", rec.Code, rec.Body.String())
	}
	if !errors.Is(writeErr, sessions.ErrCommitFailed) {
		t.Fatalf("handler's Write = %v; want ErrCommitFailed", writeErr)
	}
	if sc := rec.Header()["Set-Cookie"]; len(sc) != 0 {
		t.Fatalf("Set-Cookie %q sent after a failed commit; want none (nothing half-sent)", sc)
	}
}

func TestErrorHandlerMayUseTheSessions(t *testing.T) {
	store := newMapStore()
	store.failSave = errStoreDown
	var clearErr error
	m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store)),
		sessions.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			// A deadlock here would hang the test until its timeout.
			clearErr = sessions.Clear[Login](r.Context())
			w.WriteHeader(http.StatusServiceUnavailable)
		})))
	rec := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Set(r.Context(), Login{User: "ann"})
	}))).get("/")
	if rec.Code != http.StatusServiceUnavailable || !errors.Is(clearErr, sessions.ErrTooLate) {
		t.Fatalf("status %d, Clear in the error handler = %v; want 503 and ErrTooLate", rec.Code, clearErr)
	}
}

func TestDefaultErrorHandlerIs500AndALogRecord(t *testing.T) {
	store := newMapStore()
	store.failSave = errStoreDown
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store)), sessions.WithLogger(logger)))
	rec := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Set(r.Context(), Login{User: "ann"})
	}))).get("/")
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d; want 500", rec.Code)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "store down") {
		t.Fatalf("log = %q; want an error record with the storage error", logs.String())
	}
}

func TestGetReturnsStorageErrorsWrapped(t *testing.T) {
	store := newMapStore()
	c := newClient(t, loginApp(t, sessions.FromBytes(store)))
	c.get("/login?user=ann")
	store.failLoad = errStoreDown
	var got error
	m := mustNew(t, sessions.Cookie[Login]("LOGIN", sessions.WithStorage(sessions.FromBytes(store))))
	c2 := newClient(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, got = sessions.Get[Login](r.Context())
	})))
	c2.cookies = c.cookies
	rec := c2.get("/")
	if !errors.Is(got, errStoreDown) || errors.Is(got, sessions.ErrNoSession) {
		t.Fatalf("Get with the store down = %v; want the storage error, not ErrNoSession", got)
	}
	if len(rec.Header()["Set-Cookie"]) != 0 {
		t.Fatal("a storage failure cleared the cookie; only a refused value may")
	}
}
