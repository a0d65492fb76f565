package benchmarks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/boj/redistore"
	"github.com/gomodule/redigo/redis"
	gsessions "github.com/gorilla/sessions"
	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/directory"
	"github.com/sessionkit/sessionkit/storage/memory"
	skredis "github.com/sessionkit/sessionkit/storage/redis"
)

// The HTTP scenarios, by name.
const (
	ScenarioSignedCookie = "signed cookie"
	ScenarioMemory       = "server-side, memory"
	ScenarioDirectory    = "server-side, directory"
	ScenarioRedis        = "server-side, Redis"
)

// HTTPTargets are the goals sessionkit's middleware is held to: on the
// scenario, what sessionkit adds to a request must be at most MaxFraction of
// what the peer adds.
var HTTPTargets = []HTTPTarget{
	{Scenario: ScenarioSignedCookie, Peer: "gorilla/sessions CookieStore", MaxFraction: 1.0 / 5},
	{Scenario: ScenarioMemory, Peer: "scs", MaxFraction: 1.0 / 3},
	{Scenario: ScenarioRedis, Peer: "scs", MaxFraction: 1.0 / 3},
}

// HTTPOptions sets how the HTTP comparison measures.
type HTTPOptions struct {
	// Rounds is how many times every contender and its bare baseline are
	// measured, in turn; the fastest round of each is reported. At least
	// 1.
	Rounds int
	// Duration is how long each measurement of a round runs.
	Duration time.Duration
	// RedisReason says why Env.RedisAddr is empty, for the report of the
	// skipped Redis scenario; "" gives a generic reason.
	RedisReason string `json:",omitempty"`
}

// HTTPResult is what one library adds to the request of a scenario.
type HTTPResult struct {
	Scenario string
	Library  string
	Note     string
	// NsPerOp is the time of a request through the library in its
	// fastest round, AllocsPerOp its allocations (the median over the
	// rounds); BareNsPerOp and BareAllocsPerOp are the same for the bare
	// handler given the same requests.
	NsPerOp, AllocsPerOp         float64
	BareNsPerOp, BareAllocsPerOp float64
	// OverheadNs and OverheadAllocs are the library's figures minus the
	// bare handler's: what the library adds to a request.
	OverheadNs, OverheadAllocs float64
	// ServerCommands lists the commands a request sends to the server, on
	// the Redis scenario ("GET 1, SET 1"), from the server's command
	// statistics; "" elsewhere or when they could not be read.
	ServerCommands string `json:",omitempty"`
	// Err is why the contender has no numbers, "" when it has them.
	Err string `json:",omitempty"`
}

// HTTPTarget is a goal of the comparison and, in an HTTPReport, whether
// the run met it.
type HTTPTarget struct {
	Scenario    string
	Peer        string  // the library of the scenario compared with
	MaxFraction float64 // sessionkit's overhead / the peer's, at most
	// Filled in by RunHTTP:
	Sessionkit, PeerOverhead float64 // overheads in ns per request
	Fraction                 float64 // Sessionkit / PeerOverhead
	Met                      bool
	// Err says why the target could not be judged (a contender failed or
	// was skipped), "" when it was.
	Err string `json:",omitempty"`
	// Floor is what the scenario's FloorLibrary contender adds, when the
	// scenario has one (the store round trips no library avoids), and
	// FractionBeyondFloor the fraction of the overheads above it: for
	// information, the target is judged on Fraction.
	Floor, FractionBeyondFloor float64 `json:",omitempty"`
}

// HTTPReport is the outcome of RunHTTP.
type HTTPReport struct {
	Options HTTPOptions
	Results []HTTPResult
	Targets []HTTPTarget
	Skipped []Skipped
}

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

// FloorLibrary is the Library of the contender that does a scenario's
// store round trips with the bare driver and no session library: what no
// library can avoid.
const FloorLibrary = "floor: go-redis GET + SET"

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

// RunHTTP measures what sessionkit's middleware, gorilla/sessions and scs
// each add to a request that reads and writes a session, on a signed
// client-side cookie and on server-side sessions in memory, in a directory
// under env.Dir and (when env.RedisAddr is set) in Redis; see the package
// documentation for the method. progress, when not nil, is called with a
// line after each contender is measured.
//
// A contender that fails its checks (the request must answer 200, find the
// session it carries, store the incremented count and set a cookie) is
// reported with Err and no numbers, and the targets that need it say so.
func RunHTTP(ctx context.Context, env Env, opts HTTPOptions, progress func(string)) (*HTTPReport, error) {
	if opts.Rounds < 1 || opts.Duration <= 0 {
		return nil, errors.New("benchmarks: RunHTTP needs at least one round and a positive duration")
	}
	cs, skipped, err := httpContenders(ctx, env, opts.RedisReason)
	if err != nil {
		return nil, err
	}
	defer closeContenders(cs)

	rep := &HTTPReport{Options: opts, Skipped: skipped}
	type samples struct{ lib, bare, libAllocs, bareAllocs []float64 }
	var (
		live     []*httpContender
		all      []samples
		commands = make(map[*httpContender]string)
	)
	var probe *goredis.Client
	if env.RedisAddr != "" {
		if probe, err = openRedis(ctx, env); err != nil {
			return nil, err
		}
		defer probe.Close()
	}
	for _, c := range cs {
		if err := c.verify(); err != nil {
			rep.Results = append(rep.Results, HTTPResult{Scenario: c.Scenario, Library: c.Library, Note: c.Note, Err: err.Error()})
			continue
		}
		if probe != nil && c.Scenario == ScenarioRedis {
			commands[c] = commandsPerRequest(ctx, probe, c)
		}
		live = append(live, c)
		all = append(all, samples{})
	}
	// Rounds go over every contender in turn, so that a burst of load on
	// a shared machine hits one round of each rather than every round of
	// one; within a round, the bare handler runs right before the library.
	for round := range opts.Rounds {
		for i, c := range live {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			bNs, bAllocs := measureHandler(ctx, bareHandler, c.request, opts.Duration)
			lNs, lAllocs := measureHandler(ctx, c.handler, c.request, opts.Duration)
			s := &all[i]
			s.lib, s.bare = append(s.lib, lNs), append(s.bare, bNs)
			s.libAllocs, s.bareAllocs = append(s.libAllocs, lAllocs), append(s.bareAllocs, bAllocs)
			if progress != nil && round == opts.Rounds-1 {
				progress(fmt.Sprintf("HTTP %s, %s: %s per request, bare handler %s (fastest of %d rounds)",
					c.Scenario, c.Library, FormatDuration(time.Duration(slices.Min(s.lib))),
					FormatDuration(time.Duration(slices.Min(s.bare))), opts.Rounds))
			}
		}
	}
	for i, c := range live {
		res := HTTPResult{Scenario: c.Scenario, Library: c.Library, Note: c.Note, ServerCommands: commands[c]}
		if c.misses.Load() > 0 || c.failures.Load() > 0 {
			res.Err = fmt.Sprintf("%d requests found no session and %d could not save it", c.misses.Load(), c.failures.Load())
			rep.Results = append(rep.Results, res)
			continue
		}
		s := all[i]
		// Noise on a shared machine only ever adds time, so the fastest
		// round is the best estimate of each; allocations do not vary
		// with load, and their median is reported.
		res.NsPerOp, res.BareNsPerOp = slices.Min(s.lib), slices.Min(s.bare)
		res.AllocsPerOp, res.BareAllocsPerOp = median(s.libAllocs), median(s.bareAllocs)
		res.OverheadNs, res.OverheadAllocs = res.NsPerOp-res.BareNsPerOp, res.AllocsPerOp-res.BareAllocsPerOp
		rep.Results = append(rep.Results, res)
	}
	rep.Targets = judgeTargets(rep.Results, rep.Skipped)
	return rep, nil
}

// commandsPerRequest serves requests through c and returns the Redis
// commands each sent, from the difference of the server's command
// statistics, as "GET 1, SET 1"; "" when the statistics cannot be read.
// Other clients of the server would be counted too: the harness's server
// is the benchmark's alone.
func commandsPerRequest(ctx context.Context, probe *goredis.Client, c *httpContender) string {
	const requests = 20
	before, err := commandCounts(ctx, probe)
	if err != nil {
		return ""
	}
	w := newDiscardWriter()
	for range requests {
		serve(c.handler, c.request, w)
	}
	after, err := commandCounts(ctx, probe)
	if err != nil {
		return ""
	}
	var parts []string
	for name, n := range after {
		if name == "info" {
			continue
		}
		if d := float64(n-before[name]) / requests; d > 0 {
			parts = append(parts, fmt.Sprintf("%s %g", strings.ToUpper(name), d))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// commandCounts parses INFO commandstats into calls by command name.
func commandCounts(ctx context.Context, client *goredis.Client) (map[string]int64, error) {
	info, err := client.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	return parseCommandStats(info), nil
}

// parseCommandStats returns the calls by command name of the text of
// INFO commandstats ("cmdstat_get:calls=100,usec=88,...").
func parseCommandStats(info string) map[string]int64 {
	out := make(map[string]int64)
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		for _, field := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(field, "calls="); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err == nil {
					out[strings.TrimPrefix(name, "cmdstat_")] = n
				}
			}
		}
	}
	return out
}

// judgeTargets fills in HTTPTargets from results.
func judgeTargets(results []HTTPResult, skipped []Skipped) []HTTPTarget {
	find := func(scenario, library string) (HTTPResult, bool) {
		for _, r := range results {
			if r.Scenario == scenario && r.Library == library {
				return r, true
			}
		}
		return HTTPResult{}, false
	}
	var out []HTTPTarget
	for _, t := range HTTPTargets {
		sk, okSK := find(t.Scenario, "sessionkit")
		peer, okPeer := find(t.Scenario, t.Peer)
		switch {
		case !okSK || !okPeer:
			t.Err = "not run"
			for _, s := range skipped {
				if strings.HasSuffix(s.Subject, t.Scenario) {
					t.Err = "skipped: " + firstLine(s.Reason)
				}
			}
		case sk.Err != "":
			t.Err = "sessionkit failed: " + sk.Err
		case peer.Err != "":
			t.Err = t.Peer + " failed: " + peer.Err
		default:
			t.Sessionkit, t.PeerOverhead = sk.OverheadNs, peer.OverheadNs
			f, ok := Ratio(max(sk.OverheadNs, 0), peer.OverheadNs)
			if !ok && sk.OverheadNs <= 0 && peer.OverheadNs > 0 {
				// sessionkit added nothing measurable.
				f, ok = 0, true
			}
			if !ok {
				t.Err = "the peer added nothing measurable"
				break
			}
			t.Fraction, t.Met = f, f <= t.MaxFraction
			if fl, ok := find(t.Scenario, FloorLibrary); ok && fl.Err == "" {
				t.Floor = fl.OverheadNs
				if r, ok := Ratio(max(sk.OverheadNs-fl.OverheadNs, 0), peer.OverheadNs-fl.OverheadNs); ok {
					t.FractionBeyondFloor = r
				}
			}
		}
		out = append(out, t)
	}
	return out
}

// measureHandler runs requests through h, one at a time, for about d, and
// returns the nanoseconds and allocations per request. The clock is read
// once per batch of requests, so its cost is not in the figure.
func measureHandler(ctx context.Context, h http.Handler, tmpl *http.Request, d time.Duration) (nsPerOp, allocsPerOp float64) {
	w := newDiscardWriter()
	// Warm up: pools, caches, the first allocation of the writer's map.
	for range 64 {
		serve(h, tmpl, w)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const batch = 32
	ops := 0
	start := time.Now()
	deadline := start.Add(d)
	for {
		for range batch {
			serve(h, tmpl, w)
		}
		ops += batch
		if !time.Now().Before(deadline) || ctx.Err() != nil {
			break
		}
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	return float64(elapsed.Nanoseconds()) / float64(ops), float64(after.Mallocs-before.Mallocs) / float64(ops)
}

// median returns the median of xs (the mean of the two middle values for
// an even count), or 0 for none. xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func (h *HTTPReport) writeMarkdown(p *mdWriter) {
	p.f("Each request carries a valid session cookie; the handler reads the session, increments a counter in it and "+
		"saves it, then answers \"ok\". Requests run one at a time, in %d rounds of %s for each library and for a bare "+
		"handler (same answer, no sessions) given the same requests; the rounds visit every library in turn. Times are "+
		"the fastest round (load on a shared machine only adds time); \"adds\" is the library's time minus the bare "+
		"handler's.\n\n", h.Options.Rounds, h.Options.Duration)
	p.f("| scenario | library | per request | bare handler | adds | adds allocs | how |\n|---|---|--:|--:|--:|--:|---|\n")
	note := func(r HTTPResult) string {
		if r.ServerCommands != "" {
			return mdEscape(r.Note) + "; per request: " + r.ServerCommands
		}
		return mdEscape(r.Note)
	}
	for _, r := range h.Results {
		lib := r.Library
		if lib == "sessionkit" {
			lib = "**sessionkit**"
		}
		if r.Err != "" {
			p.f("| %s | %s | failed: %s | | | | %s |\n", r.Scenario, lib, mdEscape(r.Err), note(r))
			continue
		}
		p.f("| %s | %s | %s | %s | %s | %.1f | %s |\n", r.Scenario, lib,
			FormatDuration(time.Duration(r.NsPerOp)), FormatDuration(time.Duration(r.BareNsPerOp)),
			FormatDuration(time.Duration(r.OverheadNs)), r.OverheadAllocs, note(r))
	}
	p.f("\n| target | sessionkit adds | peer adds | fraction | limit | met |\n|---|--:|--:|--:|--:|---|\n")
	for _, t := range h.Targets {
		name := fmt.Sprintf("%s: sessionkit ≤ %s of %s", t.Scenario, fractionName(t.MaxFraction), t.Peer)
		if t.Err != "" {
			p.f("| %s | | | | %.2f | not judged: %s |\n", name, t.MaxFraction, mdEscape(t.Err))
			continue
		}
		met := "**no**"
		if t.Met {
			met = "yes"
		}
		p.f("| %s | %s | %s | %.3f | %.3f | %s |\n", name,
			FormatDuration(time.Duration(t.Sessionkit)), FormatDuration(time.Duration(t.PeerOverhead)),
			t.Fraction, t.MaxFraction, met)
	}
	p.f("\n")
	for _, t := range h.Targets {
		if t.Err == "" && t.Floor > 0 {
			p.f("- %s: the store's round trips alone (%s) add %s. Above that floor, sessionkit adds %s and %s %s: "+
				"a fraction of %.3f. (For information; the target above counts everything.)\n",
				t.Scenario, FloorLibrary, FormatDuration(time.Duration(t.Floor)),
				FormatDuration(time.Duration(max(t.Sessionkit-t.Floor, 0))), t.Peer,
				FormatDuration(time.Duration(t.PeerOverhead-t.Floor)), t.FractionBeyondFloor)
		}
	}
	p.f("\n")
	for _, s := range h.Skipped {
		p.f("- Skipped %s: %s\n", s.Subject, mdEscape(s.Reason))
	}
	if len(h.Skipped) > 0 {
		p.f("\n")
	}
}

func fractionName(f float64) string {
	switch {
	case f > 0.19 && f < 0.21:
		return "1/5"
	case f > 0.33 && f < 0.34:
		return "1/3"
	}
	return fmt.Sprintf("%.2f", f)
}
