package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// The JSON API carries its session in the X-Session header instead of a
// cookie, as API clients do: POST /api/login answers with the header, the
// client sends it back on every call, and POST /api/logout answers with it
// empty. There is no ambient credential a browser would attach on its own,
// so the API needs no CSRF defence of its own.

// apiLoginRequest is the body of POST /api/login.
type apiLoginRequest struct {
	User string `json:"user"`
}

// apiMeResponse is the body of GET /api/me.
type apiMeResponse struct {
	User  string    `json:"user"`
	Calls int       `json:"calls"`
	Since time.Time `json:"since"`
}

type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiFail answers 500 with a JSON body and logs err.
func (a *app) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("demo: API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, apiError{"internal server error"})
}

// apiLogin starts an API session for the user named in the JSON body,
// {"user": "ann"}. The session id comes back in the X-Session header.
func (a *app) apiLogin(w http.ResponseWriter, r *http.Request) {
	var req apiLoginRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		writeJSON(w, http.StatusBadRequest, apiError{`the body must be JSON: {"user": "NAME"}`})
		return
	}
	req.User = strings.TrimSpace(req.User)
	if !validUser(req.User) {
		writeJSON(w, http.StatusBadRequest, apiError{fmt.Sprintf("a user name is 1 to %d letters, digits, dots, dashes or underscores", maxUserLen)})
		return
	}
	ctx := r.Context()
	if err := sessions.Set(ctx, APISession{User: req.User, Since: time.Now().UTC().Truncate(time.Second)}); err != nil {
		a.apiFail(w, r, err)
		return
	}
	// As for the browser login: a session the client already had moves to
	// a fresh id.
	if err := sessions.Renew[APISession](ctx); err != nil {
		a.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		User string `json:"user"`
	}{req.User})
}

// apiMe returns the session's user and counts the call in the session.
// Two concurrent calls with one session may count once: the last write
// wins, as with every session store.
func (a *app) apiMe(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	s, err := sessions.Get[APISession](ctx)
	switch {
	case errors.Is(err, sessions.ErrNoSession):
		writeJSON(w, http.StatusUnauthorized, apiError{"no session: POST /api/login first and send the X-Session header it returns"})
		return
	case err != nil:
		a.apiFail(w, r, err)
		return
	}
	s.Calls++
	if err := sessions.Set(ctx, s); err != nil {
		a.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiMeResponse(s))
}

// apiLogout ends the API session: its entry leaves the store, and the
// response carries an empty X-Session header.
func (a *app) apiLogout(w http.ResponseWriter, r *http.Request) {
	if err := sessions.Clear[APISession](r.Context()); err != nil {
		a.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
