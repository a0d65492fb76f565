package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// newApp opens the store cfg names, sets up the four kinds of session and
// the routes. Missing keys are replaced by throwaway ones, with a warning.
// ctx bounds the opening of a network store only. On error nothing is left
// open.
func newApp(ctx context.Context, cfg config) (*app, error) {
	a := &app{log: cfg.Logger, secure: cfg.Secure}
	if a.log == nil {
		a.log = slog.Default()
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	a.pages = pages

	encKeys, macKeys := cfg.EncKeys, cfg.MACKeys
	if len(encKeys) == 0 {
		encKeys = [][]byte{throwawayKey()}
		a.log.Warn("no cart encryption key: using a throwaway key; carts will not survive a restart of the demo",
			"set", "-enc-key or $"+envEncKey+" (hex, 32 bytes)")
	}
	if len(macKeys) == 0 {
		macKeys = [][]byte{throwawayKey()}
		a.log.Warn("no preferences signing key: using a throwaway key; preferences will not survive a restart of the demo",
			"set", "-mac-key or $"+envMACKey+" (hex, 32 bytes)")
	}
	enc, err := sessions.Encrypt(encKeys[0], encKeys[1:]...)
	if err != nil {
		return nil, fmt.Errorf("-enc-key: %w", err)
	}
	mac, err := sessions.MessageAuthentication(macKeys[0], macKeys[1:]...)
	if err != nil {
		return nil, fmt.Errorf("-mac-key: %w", err)
	}

	spec := cfg.Store
	if spec == "" {
		spec = defaultStoreSpec()
	}
	open := cfg.open
	if open == nil {
		open = openStore
	}
	a.store, a.storeDesc, err = open(ctx, spec)
	if err != nil {
		return nil, err
	}

	// Every cookie keeps the library defaults (HttpOnly, Path=/,
	// SameSite=Lax); -secure adds Secure. SameSite=Lax is what protects the
	// forms below: a browser does not send these cookies with a POST that
	// another site starts, so a forged form acts as a logged-out visitor.
	// http.CrossOriginProtection, around everything, also refuses such
	// POSTs outright, which covers "login CSRF" (a forged login into the
	// attacker's account) that SameSite alone does not.
	secure := sessions.WithCookie(func(c *http.Cookie) { c.Secure = cfg.Secure })
	// A session that cannot be committed (the store failed as the response
	// started) is answered in the format of its pages: an error page for
	// the browser sessions, the JSON error body for the API.
	a.logins = namespace(a.store, loginKeyPrefix)
	pageCommitFailed := sessions.WithErrorHandler(a.commitFailed)
	apiCommitFailed := sessions.WithErrorHandler(a.apiCommitFailed)
	m, err := sessions.New(
		sessions.Cookie[Login](loginCookie,
			sessions.WithStorage(a.logins), sessions.WithIndex(userIndex),
			secure, sessions.WithLogger(a.log), pageCommitFailed),
		sessions.Cookie[Cart](cartCookie,
			sessions.WithTransformers(enc), secure, sessions.WithLogger(a.log), pageCommitFailed),
		sessions.Cookie[Prefs](prefsCookie,
			sessions.WithTransformers(mac), secure, sessions.WithLogger(a.log), pageCommitFailed,
			sessions.WithLifetime(prefsMaxAge)),
		sessions.Header[APISession](apiHeader,
			sessions.WithStorage(namespace(a.store, apiKeyPrefix)), sessions.WithLogger(a.log), apiCommitFailed),
	)
	if err != nil {
		_ = a.store.Close()
		return nil, err
	}
	a.sessions = m

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("GET /sessions", a.sessionsPage)
	mux.HandleFunc("POST /sessions/end", a.endSession)
	mux.HandleFunc("POST /sessions/end-others", a.endOtherSessions)
	mux.HandleFunc("GET /cart", a.cartPage)
	mux.HandleFunc("POST /cart/add", a.cartAdd)
	mux.HandleFunc("POST /cart/remove", a.cartRemove)
	mux.HandleFunc("GET /prefs", a.prefsPage)
	mux.HandleFunc("POST /prefs", a.prefsSave)
	mux.HandleFunc("POST /api/login", a.apiLogin)
	mux.HandleFunc("GET /api/me", a.apiMe)
	mux.HandleFunc("POST /api/logout", a.apiLogout)
	mux.HandleFunc("GET /static/style.css", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, assets, "static/style.css")
	})
	a.handler = securityHeaders(http.NewCrossOriginProtection().Handler(m.Handler(limitBody(a.styledNotFound(mux)))))
	return a, nil
}

// Handler returns the demo's HTTP handler. It is safe for concurrent use.
func (a *app) Handler() http.Handler { return a.handler }

// StoreDescription says which store the app uses, for the log. It never
// contains a password.
func (a *app) StoreDescription() string { return a.storeDesc }

// Close closes the store (and the client of a network store). Call it after
// the server has stopped; later calls return the first call's result.
func (a *app) Close() error {
	a.closeOnce.Do(func() { a.closeErr = a.store.Close() })
	return a.closeErr
}

// maxBody bounds request bodies: the forms and the API take a few bytes.
const maxBody = 16 << 10

func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets headers that hold for every response. The pages
// need no script at all, so the policy allows none; forms post only to this
// origin, and the pages cannot be framed (clickjacking).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// styledNotFound serves mux, except that a path no route knows gets the
// styled 404 page (the JSON error under /api/) instead of the mux's plain
// text. A catch-all route would do that too, but it would also turn every
// 405 (a known path, another method) into a 404.
func (a *app) styledNotFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			h.ServeHTTP(w, r)
			return
		}
		// No route: the mux answers 404, or 405 with an Allow header.
		rec := &recorder{header: http.Header{}}
		h.ServeHTTP(rec, r)
		if rec.status == http.StatusNotFound {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				writeJSON(w, http.StatusNotFound, apiError{"not found"})
				return
			}
			a.renderError(w, r, http.StatusNotFound, "There is no page here.")
			return
		}
		maps.Copy(w.Header(), rec.header)
		w.WriteHeader(rec.status)
		_, _ = rec.body.WriteTo(w)
	})
}

// recorder keeps what the mux's own 404 and 405 handlers write.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}

// commitFailed answers a request whose browser session could not be
// committed. w is the middleware's underlying writer: the handler's
// headers may still be set on it, and a redirect's Location would send the
// browser on as if the change had been saved.
//
// A change dropped because the session ended meanwhile (logged out in
// another tab, or from another device) is no failure: the cookie is being
// cleared, and the browser goes back to the home page, logged out.
func (a *app) commitFailed(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Del("Location")
	if errors.Is(err, sessions.ErrSessionEnded) {
		seeOther(w, r, "/")
		return
	}
	a.fail(w, r, err)
}

// apiCommitFailed is commitFailed for the JSON API: the client gets the
// API's JSON error body, not an HTML page or text/plain.
func (a *app) apiCommitFailed(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Del("Location")
	if errors.Is(err, sessions.ErrSessionEnded) {
		writeJSON(w, http.StatusUnauthorized, apiError{"the session ended; log in again"})
		return
	}
	a.apiFail(w, r, err)
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	p, err := a.newPage(r, "Home")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// The API examples on the page use the address the browser used.
	origin := "http://" + r.Host
	if r.TLS != nil || a.secure {
		origin = "https://" + r.Host
	}
	p.Body = struct{ Store, Origin string }{a.storeDesc, origin}
	a.render(w, r, http.StatusOK, "home", p)
}

// login signs the browser in as the posted user name. There are no
// passwords: this demo is about sessions, not authentication.
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	user := strings.TrimSpace(r.PostFormValue("user"))
	if !validUser(user) {
		a.renderError(w, r, http.StatusBadRequest, fmt.Sprintf("A user name is 1 to %d letters, digits, dots, dashes or underscores.", maxUserLen))
		return
	}
	ctx := r.Context()
	l := Login{User: user, Since: time.Now().UTC().Truncate(time.Second), Agent: shortAgent(r.UserAgent())}
	if err := sessions.Set(ctx, l); err != nil {
		a.fail(w, r, err)
		return
	}
	// If the browser arrived with a valid session (its own from an earlier
	// login, or one an attacker planted in it), Set kept that id. Renew
	// moves the session to a fresh id and removes the old one, so an id
	// known before the login is worthless after it: the defence against
	// session fixation.
	if err := sessions.Renew[Login](ctx); err != nil {
		a.fail(w, r, err)
		return
	}
	seeOther(w, r, "/")
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	if err := sessions.Clear[Login](r.Context()); err != nil {
		a.fail(w, r, err)
		return
	}
	seeOther(w, r, "/")
}

// ---- the sessions page ----

// The Login sessions are filed under their user (sessions.WithIndex), so
// the page lists a user's sessions with sessions.List, which reads that
// user's index key in the store and nothing else, and ends them with
// sessions.End and sessions.EndOthers.

// sessionRow is what the sessions page shows of a session.
type sessionRow struct {
	Fingerprint string
	Created     time.Time // when this browser logged in (the login's Renew)
	LastSeen    time.Time // when a request last wrote the session
	Agent       string
	Current     bool
}

// fingerprint names a session on the page and in forms: the first 12 hex
// characters (48 bits) of the SHA-256 of its storage key. The key itself
// could be shown (it does not work as a cookie, and sessions.End checks
// that a posted key is the user's), but the short form is easier to read
// and tells a visitor nothing about the store.
func fingerprint(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:6])
}

// validFingerprint reports whether s has the form fingerprint returns.
func validFingerprint(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// userIndex is the index key of a Login: its user. A user's sessions are
// the sessions filed under it.
func userIndex(l Login) string { return l.User }

// currentLogin returns the signed-in user's session. ok is false when the
// browser is not signed in; err is a store failure.
func currentLogin(ctx context.Context) (l Login, ok bool, err error) {
	l, err = sessions.Get[Login](ctx)
	if errors.Is(err, sessions.ErrNoSession) {
		return l, false, nil
	}
	return l, err == nil, err
}

func (a *app) sessionsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	login, ok, err := currentLogin(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !ok {
		seeOther(w, r, "/")
		return
	}
	// Oldest first; Current marks this browser's.
	list, err := sessions.List[Login](ctx, login.User)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	rows := make([]sessionRow, len(list))
	for i, s := range list {
		rows[i] = sessionRow{Fingerprint: fingerprint(s.Key), Created: s.Created, LastSeen: s.LastSeen, Agent: s.Value.Agent, Current: s.Current}
	}
	p, err := a.newPage(r, "Your sessions")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	p.Body = rows
	a.render(w, r, http.StatusOK, "sessions", p)
}

// endSession ends one of the signed-in user's sessions, named by its
// fingerprint. Only the user's own sessions can be found this way, and
// sessions.End checks again that the key is filed under the user.
func (a *app) endSession(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	fp := r.PostFormValue("session")
	if !validFingerprint(fp) {
		a.renderError(w, r, http.StatusBadRequest, "That is not a session fingerprint.")
		return
	}
	login, ok, err := currentLogin(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if !ok {
		a.renderError(w, r, http.StatusUnauthorized, "Log in to manage your sessions.")
		return
	}
	list, err := sessions.List[Login](ctx, login.User)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(list, func(s sessions.Listed[Login]) bool { return fingerprint(s.Key) == fp })
	if i < 0 {
		a.renderError(w, r, http.StatusNotFound, "You have no such session; it may have ended already.")
		return
	}
	// End removes the entry at once; the other browser's next request
	// finds no session and its cookie is cleared, and a request of it that
	// was in flight cannot bring the session back. Ending the current
	// session also clears it, as logout does.
	switch err := sessions.End[Login](ctx, login.User, list[i].Key); {
	case errors.Is(err, sessions.ErrNoSession): // ended since the listing
		a.renderError(w, r, http.StatusNotFound, "You have no such session; it may have ended already.")
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	if list[i].Current {
		seeOther(w, r, "/")
		return
	}
	seeOther(w, r, "/sessions")
}

// endOtherSessions logs the user out of every other browser: what a user
// does after a password change, or on seeing a session they do not know.
func (a *app) endOtherSessions(w http.ResponseWriter, r *http.Request) {
	switch _, err := sessions.EndOthers[Login](r.Context()); {
	case errors.Is(err, sessions.ErrNoSession):
		a.renderError(w, r, http.StatusUnauthorized, "Log in to manage your sessions.")
		return
	case err != nil:
		a.fail(w, r, err)
		return
	}
	seeOther(w, r, "/sessions")
}

// ---- the cart ----

func (a *app) cartPage(w http.ResponseWriter, r *http.Request) {
	p, err := a.newPage(r, "Cart")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	lines := readCart(r.Context()).lines()
	total := 0
	for _, l := range lines {
		total += l.TotalCents
	}
	p.Body = struct {
		Catalog    []product
		Lines      []cartLine
		TotalCents int
	}{catalog, lines, total}
	a.render(w, r, http.StatusOK, "cart", p)
}

// changeCart adds delta (+1 or -1) of the posted product to the cart.
func (a *app) changeCart(w http.ResponseWriter, r *http.Request, delta int) {
	code := r.PostFormValue("product")
	if _, ok := findProduct(code); !ok {
		a.renderError(w, r, http.StatusBadRequest, "There is no such product.")
		return
	}
	ctx := r.Context()
	items := make(map[string]int)
	for _, l := range readCart(ctx).lines() {
		items[l.Product.Code] = l.Quantity
	}
	items[code] = min(items[code]+delta, maxQuantity)
	if items[code] <= 0 {
		delete(items, code)
	}
	var err error
	if len(items) == 0 {
		err = sessions.Clear[Cart](ctx) // no cookie for an empty cart
	} else {
		err = sessions.Set(ctx, Cart{Items: items})
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	seeOther(w, r, "/cart")
}

func (a *app) cartAdd(w http.ResponseWriter, r *http.Request)    { a.changeCart(w, r, +1) }
func (a *app) cartRemove(w http.ResponseWriter, r *http.Request) { a.changeCart(w, r, -1) }

// ---- preferences ----

func (a *app) prefsPage(w http.ResponseWriter, r *http.Request) {
	p, err := a.newPage(r, "Preferences")
	if err != nil {
		a.fail(w, r, err)
		return
	}
	p.Body = themes
	a.render(w, r, http.StatusOK, "prefs", p)
}

func (a *app) prefsSave(w http.ResponseWriter, r *http.Request) {
	theme := r.PostFormValue("theme")
	if !slices.Contains(themes, theme) {
		a.renderError(w, r, http.StatusBadRequest, "There is no such theme.")
		return
	}
	if err := sessions.Set(r.Context(), Prefs{Theme: theme}); err != nil {
		a.fail(w, r, err)
		return
	}
	seeOther(w, r, "/prefs")
}
