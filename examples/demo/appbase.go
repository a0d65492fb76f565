package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// app is the demo web application: its store, its session manager and its
// routes. newApp builds it, Handler serves it, Close releases the store.
type app struct {
	log       *slog.Logger
	store     store
	logins    sessions.Storage // the store, as the Login sessions' namespace
	sessions  *sessions.Manager
	storeDesc string
	handler   http.Handler
	pages     map[string]*template.Template
	secure    bool

	closeOnce sync.Once
	closeErr  error
}

// ---- HTML pages ----

//go:embed templates static
var assets embed.FS

// parsePages parses each page template together with the shared layout.
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"money": func(cents int) string { return fmt.Sprintf("€%d.%02d", cents/100, cents%100) },
		"when":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	}
	pages := make(map[string]*template.Template)
	for _, name := range []string{"home", "sessions", "cart", "prefs", "error"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		pages[name] = t
	}
	return pages, nil
}

// page is what every HTML page shows: the layout reads the user, theme
// and cart size; Body is the page's own data.
type page struct {
	Title     string
	User      string // "" when logged out
	Theme     string
	CartCount int
	Body      any
}

// newPage reads the three browser sessions for the layout. It fails only
// when the store fails: a missing or untrusted cookie is an empty session.
func (a *app) newPage(r *http.Request, title string) (page, error) {
	p := page{Title: title}
	login, err := sessions.Get[Login](r.Context())
	switch {
	case err == nil:
		p.User = login.User
	case !errors.Is(err, sessions.ErrNoSession):
		return p, err
	}
	p.Theme = readPrefs(r.Context()).theme()
	p.CartCount = readCart(r.Context()).count()
	return p, nil
}

// readPrefs returns the preferences; anything the browser sends that does
// not verify is the default. Prefs are client-side, so Get fails only with
// ErrNoSession.
func readPrefs(ctx context.Context) Prefs {
	p, _ := sessions.Get[Prefs](ctx)
	return p
}

// readCart returns the cart; anything the browser sends that does not
// decrypt is an empty cart.
func readCart(ctx context.Context) Cart {
	c, _ := sessions.Get[Cart](ctx)
	return c
}

// render writes the page name with status. The page is rendered to memory
// first, so a template error is a clean 500, not half a page.
func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	var buf bytes.Buffer
	if err := a.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		a.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // pages show session data
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// renderError answers with an error page that explains msg to the visitor.
func (a *app) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p, err := a.newPage(r, http.StatusText(status))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	p.Body = msg
	a.render(w, r, status, "error", p)
}

// fail answers 500 with the styled error page and logs err. The errors
// reaching here come from the store, the sessions package or a template;
// none contains an id or a session value.
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("demo: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	a.plainError(w, http.StatusInternalServerError, "Something went wrong on our side; the log says what. Try again in a moment.")
}

// plainError writes the error page without reading any session: it serves
// the cases where the store or a template has just failed, so it shows
// the page as a logged-out visitor sees it, and falls back to plain text
// if even that template fails.
func (a *app) plainError(w http.ResponseWriter, status int, msg string) {
	var buf bytes.Buffer
	p := page{Title: http.StatusText(status), Body: msg}
	if err := a.pages["error"].ExecuteTemplate(&buf, "layout", p); err != nil {
		http.Error(w, strings.ToLower(http.StatusText(status)), status)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func seeOther(w http.ResponseWriter, r *http.Request, path string) {
	http.Redirect(w, r, path, http.StatusSeeOther)
}
