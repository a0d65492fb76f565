package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/boj/redistore"
	"github.com/gomodule/redigo/redis"
	gsessions "github.com/gorilla/sessions"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/directory"
	"github.com/sessionkit/sessionkit/storage/memory"
	skredis "github.com/sessionkit/sessionkit/storage/redis"
)

// httpSession is the session of the comparison, the same data for every
// library: a user and a counter that every request increments.
type httpSession struct {
	User  string
	Count int
}

const httpUser = "ann@example.com"

// httpSignKey signs the cookies of every library; fixed so that runs
// compare, and secret to nobody.
var httpSignKey = []byte("sessionbench-http-signing-key-32")

// httpContender is one library on one scenario, ready to serve requests.
type httpContender struct {
	Scenario, Library, Note string
	handler                 http.Handler
	request                 *http.Request // a template: copied for every request
	// serverSide says that every request's write is read back by the
	// next one, so the count it sees must grow by one per request.
	serverSide bool
	// floor marks the driver-only contender of a scenario: no session
	// library, just the store's round trips, so it sets no cookie.
	floor    bool
	seen     atomic.Int64 // the Count the handler last read
	misses   atomic.Int64 // requests that found no session
	failures atomic.Int64 // requests whose session could not be saved
	close    func() error
}

// bareHandler is what every library's overhead is measured from: it
// answers the same way as the handlers with sessions, and does nothing
// else.
var bareHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Write(okBody)
})

var okBody = []byte("ok")

// serve runs one request through h, with a fresh copy of the template
// request as a server makes a fresh request for each, and resets w first.
func serve(h http.Handler, tmpl *http.Request, w *discardWriter) {
	w.reset()
	r := *tmpl
	h.ServeHTTP(w, &r)
}

// verify runs two requests and checks what a request through c must do:
// answer 200, read the session, and write it (a Set-Cookie, and for a
// server-side session a stored count that the next request reads).
func (c *httpContender) verify() error {
	w := newDiscardWriter()
	serve(c.handler, c.request, w)
	first := c.seen.Load()
	serve(c.handler, c.request, w)
	switch {
	case w.status != http.StatusOK:
		return fmt.Errorf("answered %d", w.status)
	case c.misses.Load() > 0:
		return errors.New("the handler found no session in a request that carried one")
	case c.failures.Load() > 0:
		return errors.New("the handler could not save the session")
	case !c.floor && len(w.h.Values("Set-Cookie")) == 0:
		return errors.New("the response sets no cookie: the session was not written")
	case c.serverSide && c.seen.Load() != first+1:
		return fmt.Errorf("a request read count %d after the one before read %d and stored one more: the write was not stored",
			c.seen.Load(), first)
	}
	return nil
}

// login runs a request without cookies through login (the handler that
// creates the session) and returns a template request carrying the
// resulting cookie named name, as a browser would send it.
func login(h http.Handler, name string) (*http.Request, error) {
	w := newDiscardWriter()
	serve(h, httptest.NewRequest(http.MethodGet, "/", nil), w)
	for _, line := range w.h.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == name && c.Value != "" {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Cookie", (&http.Cookie{Name: c.Name, Value: c.Value}).String())
			return r, nil
		}
	}
	return nil, fmt.Errorf("logging in set no %q cookie (status %d)", name, w.status)
}

// sessionkitContender makes the contender of sessionkit's middleware with
// one provider built from opts.
func sessionkitContender(scenario, note string, serverSide bool, opts ...sessions.Option) (*httpContender, error) {
	const name = "sk"
	m, err := sessions.New(sessions.Cookie[httpSession](name, opts...))
	if err != nil {
		return nil, fmt.Errorf("sessionkit, %s: %w", scenario, err)
	}
	c := &httpContender{Scenario: scenario, Library: "sessionkit", Note: note, serverSide: serverSide}
	c.handler = m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sessions.Get[httpSession](r.Context())
		if err != nil {
			c.misses.Add(1)
		}
		c.seen.Store(int64(s.Count))
		s.Count++
		if err := sessions.Set(r.Context(), s); err != nil {
			c.failures.Add(1)
		}
		w.Write(okBody)
	}))
	loginH := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Set(r.Context(), httpSession{User: httpUser}); err != nil {
			c.failures.Add(1)
		}
	}))
	if c.request, err = login(loginH, name); err != nil {
		err = fmt.Errorf("sessionkit, %s: %w", scenario, err)
	}
	return c, err
}

// gorillaContender makes the contender of a gorilla/sessions store.
func gorillaContender(scenario, library, note string, serverSide bool, store gsessions.Store) (*httpContender, error) {
	c := &httpContender{Scenario: scenario, Library: library, Note: note, serverSide: serverSide}
	c.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, gorillaCookie)
		if err != nil || s.IsNew {
			c.misses.Add(1)
		}
		n, _ := s.Values["count"].(int)
		c.seen.Store(int64(n))
		s.Values["count"] = n + 1
		if err := s.Save(r, w); err != nil {
			c.failures.Add(1)
		}
		w.Write(okBody)
	})
	loginH := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := store.Get(r, gorillaCookie)
		s.Values["user"] = httpUser
		s.Values["count"] = 0
		if err := s.Save(r, w); err != nil {
			c.failures.Add(1)
		}
	})
	var err error
	if c.request, err = login(loginH, gorillaCookie); err != nil {
		err = fmt.Errorf("%s, %s: %w", library, scenario, err)
	}
	return c, err
}

// scsContender makes the contender of scs's middleware over store.
func scsContender(scenario, note string, store scs.Store) (*httpContender, error) {
	sm := scs.New()
	sm.Store = store
	c := &httpContender{Scenario: scenario, Library: "scs", Note: note, serverSide: true}
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		c.failures.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}
	c.handler = sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sm.GetString(r.Context(), "user") == "" {
			c.misses.Add(1)
		}
		n := sm.GetInt(r.Context(), "count")
		c.seen.Store(int64(n))
		sm.Put(r.Context(), "count", n+1)
		w.Write(okBody)
	}))
	loginH := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sm.Put(r.Context(), "user", httpUser)
		sm.Put(r.Context(), "count", 0)
	}))
	var err error
	if c.request, err = login(loginH, sm.Cookie.Name); err != nil {
		err = fmt.Errorf("scs, %s: %w", scenario, err)
	}
	return c, err
}

// httpContenders builds every contender that env allows, in the order of
// the report, and the scenarios skipped for a missing server. The caller
// closes the contenders.
func httpContenders(ctx context.Context, env Env, redisReason string) ([]*httpContender, []Skipped, error) {
	var (
		out     []*httpContender
		skipped []Skipped
	)
	add := func(c *httpContender, err error) error {
		if c != nil {
			out = append(out, c)
		}
		if err != nil {
			return fmt.Errorf("benchmarks: HTTP comparison: %w", err)
		}
		return nil
	}
	fail := func(err error) ([]*httpContender, []Skipped, error) {
		closeContenders(out)
		return nil, nil, err
	}

	// A signed client-side cookie.
	mac, err := sessions.MessageAuthentication(httpSignKey)
	if err != nil {
		return fail(err)
	}
	if err := add(sessionkitContender(ScenarioSignedCookie, "Cookie[T] with MessageAuthentication (HMAC-SHA256), Compact codec", false,
		sessions.WithTransformers(mac))); err != nil {
		return fail(err)
	}
	if err := add(gorillaContender(ScenarioSignedCookie, "gorilla/sessions CookieStore", "NewCookieStore(hashKey): gob + HMAC-SHA256 (securecookie)", false,
		gsessions.NewCookieStore(httpSignKey))); err != nil {
		return fail(err)
	}

	// Server-side on memory.
	mem := memory.New()
	c, err := sessionkitContender(ScenarioMemory, "WithStorage(memory.New())", true, sessions.WithStorage(mem))
	if c != nil {
		c.close = mem.Close
	} else {
		mem.Close()
	}
	if err := add(c, err); err != nil {
		return fail(err)
	}
	if err := add(scsContender(ScenarioMemory, "scs.New() with memstore", memstore.NewWithCleanupInterval(0))); err != nil {
		return fail(err)
	}

	// Server-side on a directory.
	for _, sub := range []string{"sessionkit", "gorilla"} {
		if err := os.MkdirAll(filepath.Join(env.Dir, sub), 0o700); err != nil {
			return fail(err)
		}
	}
	dir, err := directory.New(filepath.Join(env.Dir, "sessionkit"))
	if err != nil {
		return fail(err)
	}
	c, err = sessionkitContender(ScenarioDirectory, "WithStorage(directory.New(dir))", true, sessions.WithStorage(dir))
	if c != nil {
		c.close = dir.Close
	} else {
		dir.Close()
	}
	if err := add(c, err); err != nil {
		return fail(err)
	}
	fs := gsessions.NewFilesystemStore(filepath.Join(env.Dir, "gorilla"), httpSignKey)
	if err := add(gorillaContender(ScenarioDirectory, "gorilla/sessions FilesystemStore", "NewFilesystemStore(dir, hashKey)", true, fs)); err != nil {
		return fail(err)
	}

	// Server-side on Redis.
	if env.RedisAddr == "" {
		skipped = append(skipped, Skipped{Subject: "HTTP " + ScenarioRedis, Kind: KindRedis, Reason: nonEmpty(redisReason, "no Redis server")})
		return out, skipped, nil
	}
	cs, err := redisContenders(ctx, env)
	out = append(out, cs...)
	if err != nil {
		return fail(err)
	}
	return out, skipped, nil
}

func redisContenders(ctx context.Context, env Env) ([]*httpContender, error) {
	var out []*httpContender
	const skPrefix, scsPrefix, gPrefix = "sessionbench:http:sk:", "sessionbench:http:scs:", "sessionbench:http:redistore:"

	client, err := openRedis(ctx, env)
	if err != nil {
		return nil, err
	}
	st, err := skredis.New(client, skredis.WithPrefix(skPrefix))
	if err != nil {
		return nil, errors.Join(err, client.Close())
	}
	c, err := sessionkitContender(ScenarioRedis, "WithStorage(redis.New(client))", true, sessions.WithStorage(st))
	closeSK := func() error { return errors.Join(st.Close(), closeRedis(client, skPrefix)) }
	if c == nil {
		return out, errors.Join(err, closeSK())
	}
	c.close = closeSK
	out = append(out, c)
	if err != nil {
		return out, err
	}

	client2, err := openRedis(ctx, env)
	if err != nil {
		return out, err
	}
	c, err = scsContender(ScenarioRedis, "scs.New() with goredisstore", goredisstore.NewWithPrefix(client2, scsPrefix))
	closeSCS := func() error { return closeRedis(client2, scsPrefix) }
	if c == nil {
		return out, errors.Join(err, closeSCS())
	}
	c.close = closeSCS
	out = append(out, c)
	if err != nil {
		return out, err
	}

	cleanup, err := openRedis(ctx, env)
	if err != nil {
		return out, err
	}
	n := RedisPoolSize()
	rs, err := redistore.NewRediStoreWithPool(&redis.Pool{
		MaxIdle: n, MaxActive: n, Wait: true, IdleTimeout: 240 * time.Second,
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			return redis.DialContext(ctx, "tcp", env.RedisAddr)
		},
	}, httpSignKey)
	if err != nil {
		return out, errors.Join(err, cleanup.Close())
	}
	rs.SetKeyPrefix(gPrefix)
	c, err = gorillaContender(ScenarioRedis, "gorilla/sessions + boj/redistore", "redistore over a redigo pool (no PING on borrow)", true, rs)
	closeRS := func() error { return errors.Join(rs.Close(), closeRedis(cleanup, gPrefix)) }
	if c == nil {
		return out, errors.Join(err, closeRS())
	}
	c.close = closeRS
	out = append(out, c)
	if err != nil {
		return out, err
	}

	c, err = redisFloorContender(ctx, env)
	if c != nil {
		out = append(out, c)
	}
	return out, err
}

// redisFloorContender makes the floor of the Redis scenario: a handler
// that takes the id from the cookie, GETs the value and SETs it back with
// an expiry, with go-redis and nothing else.
func redisFloorContender(ctx context.Context, env Env) (*httpContender, error) {
	const prefix, name = "sessionbench:http:floor:", "sid"
	client, err := openRedis(ctx, env)
	if err != nil {
		return nil, err
	}
	id := sessions.NewID()
	// About the size of what the libraries store for the session.
	if err := client.Set(ctx, prefix+id, strings.Repeat("v", 48), time.Hour).Err(); err != nil {
		return nil, errors.Join(err, closeRedis(client, prefix))
	}
	c := &httpContender{Scenario: ScenarioRedis, Library: FloorLibrary, floor: true,
		Note:  "no session library: the id from the cookie, go-redis GET, then SET with PX",
		close: func() error { return closeRedis(client, prefix) }}
	c.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(name)
		if err != nil {
			c.misses.Add(1)
			w.Write(okBody)
			return
		}
		b, err := client.Get(r.Context(), prefix+ck.Value).Bytes()
		if err != nil {
			c.misses.Add(1)
		}
		if err := client.Set(r.Context(), prefix+ck.Value, b, time.Hour).Err(); err != nil {
			c.failures.Add(1)
		}
		w.Write(okBody)
	})
	c.request = httptest.NewRequest(http.MethodGet, "/", nil)
	c.request.Header.Set("Cookie", name+"="+id)
	return c, nil
}

func closeContenders(cs []*httpContender) error {
	var errs []error
	for _, c := range cs {
		if c.close != nil {
			errs = append(errs, c.close())
		}
	}
	return errors.Join(errs...)
}
