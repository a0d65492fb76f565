// Package soak runs sessionkit's soak: a long mixed load over real HTTP
// through sessions.Manager and a server-side provider over one backend,
// checked against a model of what must hold whatever the load and the
// faults:
//
//   - no logged-out, renewed-away or expired id is ever accepted again
//     (every ended id goes into a ring that probes replay);
//   - no acknowledged write is lost: a cart write answered 200 is what the
//     next request of that session reads, unless the session ended;
//   - no live session is lost: a session neither ended nor due to expire is
//     never answered "no session";
//   - no request hangs: each one ends within its deadline (the request
//     context and WithCommitTimeout), far before the hang bound;
//   - heap and goroutines are flat: after a GC, the end of the load is
//     within a generous relative bound of the end of warm-up, and the
//     goroutines return to their count before the run once it is torn down;
//   - the store recovers by itself: after the load (and any fault) every
//     worker's session reads back as the model expects.
//
// Run reports p99 per interval (a minute in the long mode, a second in the
// short mode the tests use). A fault function, run once in the middle of
// the load, restarts or kills a server; the model then still holds for
// acknowledged writes, except where the medium loses them by design (Redis
// replication, see the failover test).
//
// The short mode is this package's tests, a few seconds per backend
// (memory, bolt, directory; Redis and PostgreSQL in containers, which fail
// rather than skip with SESSIONKIT_REQUIRE_SERVERS=1), with a Postgres
// restart and a Redis Sentinel failover in the middle of a soak, and
// broken storages that prove each check can fire. The long mode is
// `go test -run TestSoakModelHolds -soak.long -timeout 2h` here, or the
// sessionsoak command (benchmarks/cmd/sessionsoak), 10 minutes per backend
// with p99 per minute.
package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// NotRecovered: after the load, a worker's session could not be read back,
// so the store did not recover by itself.
const NotRecovered = "store not recovered"

// Login is the soak's session: a user and a cart counter the workers
// advance.
type Login struct {
	User string
	Cart int
}

// Config is one soak run.
type Config struct {
	// Backend names the storage in the report.
	Backend string
	// Storage is the backend under test. Run does not close it.
	Storage sessions.Storage
	// NoIndex registers the provider without WithIndex, for a storage
	// without Indexer (the model's own test breaks ConditionalWriter so).
	NoIndex bool
	// Workers is the number of load goroutines; 64 when zero.
	Workers int
	// Duration is how long the load runs; Interval the reporting interval.
	Duration, Interval time.Duration
	// ShortLifetime is the lifetime of the 10% of sessions that expire
	// during the run; Duration/4 when zero. The middleware counts in whole
	// seconds (the minimum lifetime is one second), so such a session may
	// end up to a second early: the model only requires it to live for
	// ShortLifetime minus a second.
	ShortLifetime time.Duration
	// Deadline bounds every request's context and commit; 2 s when zero.
	Deadline time.Duration
	// HangAfter is the client timeout beyond which a request counts as hung;
	// 30 s when zero.
	HangAfter time.Duration
	// Fault, when set, runs once after half the load and reports what it
	// did; its error is reported, not fatal.
	Fault func(ctx context.Context) (string, error)
	// Logf, when set, receives one line per interval as it ends.
	Logf func(format string, args ...any)
}

const (
	cookieLong  = "SOAK"
	cookieShort = "SOAKSHORT"
)

// Run runs the load of c and returns what it measured and found. It
// returns an error only when the run could not be set up.
func Run(ctx context.Context, c Config) (*Result, error) {
	if c.Workers == 0 {
		c.Workers = 64
	}
	if c.Interval == 0 {
		c.Interval = time.Minute
	}
	if c.ShortLifetime == 0 {
		c.ShortLifetime = c.Duration / 4
	}
	if c.Deadline == 0 {
		c.Deadline = 2 * time.Second
	}
	if c.HangAfter == 0 {
		c.HangAfter = 30 * time.Second
	}
	goroutinesBefore := runtime.NumGoroutine()

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	onErr := func(w http.ResponseWriter, _ *http.Request, err error) {
		if errors.Is(err, sessions.ErrSessionEnded) {
			w.WriteHeader(http.StatusConflict)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	opts := func(name string, lifetime time.Duration) sessions.Provider {
		o := []sessions.Option{
			sessions.WithStorage(c.Storage),
			sessions.WithLifetime(lifetime),
			sessions.WithCommitTimeout(c.Deadline),
			sessions.WithErrorHandler(onErr),
			sessions.WithLogger(quiet),
		}
		if !c.NoIndex {
			o = append(o, sessions.WithIndex(func(l Login) string { return l.User }))
		}
		return sessions.Cookie[Login](name, o...)
	}
	long, err := sessions.New(opts(cookieLong, time.Hour))
	if err != nil {
		return nil, fmt.Errorf("sessionkit/soak: manager: %w", err)
	}
	short, err := sessions.New(opts(cookieShort, c.ShortLifetime))
	if err != nil {
		return nil, fmt.Errorf("sessionkit/soak: manager: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/long/", http.StripPrefix("/long", long.Handler(app())))
	mux.Handle("/short/", http.StripPrefix("/short", short.Handler(app())))
	deadline := c.Deadline
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), deadline)
		defer cancel()
		mux.ServeHTTP(w, r.WithContext(ctx))
	}))
	transport := &http.Transport{MaxIdleConnsPerHost: c.Workers * 2, MaxIdleConns: c.Workers * 2}
	client := &http.Client{Timeout: c.HangAfter, Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	r := &runner{cfg: c, base: srv.URL, client: client, model: newModel(4096), start: time.Now()}
	res := &Result{Backend: c.Backend}

	loadCtx, stop := context.WithTimeout(ctx, c.Duration)
	defer stop()
	var wg sync.WaitGroup
	workers := make([]*worker, c.Workers)
	for i := range workers {
		workers[i] = &worker{r: r, user: "u" + strconv.Itoa(i%16), rng: rand.New(rand.NewPCG(uint64(i), 15))}
		wg.Add(1)
		go func(w *worker) { defer wg.Done(); w.loop(loadCtx) }(workers[i])
	}

	// Intervals, warm-up and end samples, and the fault.
	var faultWG sync.WaitGroup
	if c.Fault != nil {
		faultWG.Add(1)
		go func() {
			defer faultWG.Done()
			select {
			case <-time.After(c.Duration / 2):
			case <-loadCtx.Done():
				return
			}
			began := time.Since(r.start)
			what, err := c.Fault(ctx)
			if err != nil {
				what += fmt.Sprintf(" (fault error: %v)", err)
			}
			r.mu.Lock()
			res.Fault, res.FaultStart, res.FaultEnd = what, began, time.Since(r.start)
			r.mu.Unlock()
		}()
	}
	warm := time.After(c.Duration / 5)
	tick := time.NewTicker(c.Interval)
	sample := func() (uint64, int) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc, runtime.NumGoroutine()
	}
loop:
	for {
		select {
		case <-warm:
			res.HeapWarm, res.GoroutinesWarm = sample()
		case <-tick.C:
			iv := r.cut()
			res.Intervals = append(res.Intervals, iv)
			if c.Logf != nil {
				c.Logf("soak %s %s: %d req, %d failed, p99 %s", c.Backend, iv.Start.Round(time.Second), iv.Requests, iv.Failures, iv.P99.Round(time.Microsecond))
			}
			if time.Since(r.start) > c.Duration-c.Interval/2 {
				// The last interval: sample the end while the load still runs,
				// as warm-up was sampled.
				res.HeapEnd, res.GoroutinesEnd = sample()
			}
		case <-loadCtx.Done():
			break loop
		}
	}
	tick.Stop()
	if res.HeapEnd == 0 {
		res.HeapEnd, res.GoroutinesEnd = sample()
	}
	wg.Wait()
	faultWG.Wait()
	if iv := r.cut(); iv.Requests > 0 {
		res.Intervals = append(res.Intervals, iv)
	}

	// The store recovers by itself: every session a worker still holds reads
	// back as the model expects, with a few tries a recovering store is
	// allowed.
	for _, w := range workers {
		w.verify(ctx)
	}

	// Flat: generous relative bounds, never absolute counts. The model's own
	// state is fixed-size, so growth here is the library's or the store's.
	if res.HeapWarm > 0 && res.HeapEnd > 2*res.HeapWarm+16<<20 {
		r.model.violate(Leak, "heap grew from %d to %d bytes", res.HeapWarm, res.HeapEnd)
	}
	if res.GoroutinesWarm > 0 && res.GoroutinesEnd > 2*res.GoroutinesWarm+32 {
		r.model.violate(Leak, "goroutines grew from %d to %d", res.GoroutinesWarm, res.GoroutinesEnd)
	}
	srv.Close()
	transport.CloseIdleConnections()
	// Goroutines return to their count before the run once it is torn down
	// (the storage, which the caller closes, may keep its own).
	settled := false
	for range 100 {
		if runtime.NumGoroutine() <= goroutinesBefore+8 {
			settled = true
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !settled {
		r.model.violate(Leak, "goroutines %d after the run, %d before", runtime.NumGoroutine(), goroutinesBefore)
	}

	r.mu.Lock()
	res.FirstFailure, res.LastFailure = r.firstFail, r.lastFail
	r.mu.Unlock()
	r.model.mu.Lock()
	res.Violations, res.Examples = r.model.violations, r.model.examples
	r.model.mu.Unlock()
	res.Duration = time.Since(r.start)
	res.Requests, res.Failures = r.requests.Load(), r.failures.Load()
	res.Logins, res.Logouts, res.Renews = r.logins.Load(), r.logouts.Load(), r.renews.Load()
	res.Expired, res.Probes, res.CartWrites = r.expired.Load(), r.probes.Load(), r.carts.Load()
	res.MaxFailedLatency = time.Duration(r.maxFailed.Load())
	return res, nil
}

// app is the application behind both providers.
func app() http.Handler {
	mux := http.NewServeMux()
	fail := func(w http.ResponseWriter, err error) {
		if errors.Is(err, sessions.ErrNoSession) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		// Renew on login, against fixation: an existing session's id is
		// renewed away.
		if err := sessions.Renew[Login](ctx); err != nil && !errors.Is(err, sessions.ErrNoSession) {
			fail(w, err)
			return
		}
		if err := sessions.Set(ctx, Login{User: r.URL.Query().Get("user")}); err != nil {
			fail(w, err)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		l, err := sessions.Get[Login](r.Context())
		if err != nil {
			fail(w, err)
			return
		}
		fmt.Fprintf(w, "%d", l.Cart)
	})
	mux.HandleFunc("POST /cart", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		l, err := sessions.Get[Login](ctx)
		if err != nil {
			fail(w, err)
			return
		}
		if hold, err := time.ParseDuration(r.URL.Query().Get("hold")); err == nil {
			// A slow handler: the write that races a logout or a renew reads
			// the session, then holds it while the other request ends it.
			select {
			case <-time.After(min(hold, 100*time.Millisecond)):
			case <-ctx.Done():
			}
		}
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		l.Cart = n
		if err := sessions.Set(ctx, l); err != nil {
			fail(w, err)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := sessions.Clear[Login](r.Context()); err != nil && !errors.Is(err, sessions.ErrNoSession) {
			fail(w, err)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return mux
}

type runner struct {
	cfg    Config
	base   string
	client *http.Client
	model  *model
	start  time.Time

	mu        sync.Mutex
	hist      histogram
	ivFails   uint64
	ivStart   time.Duration
	firstFail time.Duration
	lastFail  time.Duration
	requests  atomic.Uint64
	failures  atomic.Uint64
	maxFailed atomic.Int64

	logins, logouts, renews, expired, probes, carts atomic.Uint64
}

// cut ends the current interval and returns it.
func (r *runner) cut() Interval {
	now := time.Since(r.start)
	r.mu.Lock()
	defer r.mu.Unlock()
	iv := Interval{Start: r.ivStart, Requests: r.hist.n, Failures: r.ivFails,
		P50: r.hist.quantile(0.5), P99: r.hist.quantile(0.99), Max: r.hist.max}
	r.hist = histogram{}
	r.ivFails = 0
	r.ivStart = now
	return iv
}

// answer is one response: status 0 for a transport error.
type answer struct {
	status int
	body   string
	cookie *http.Cookie // the session cookie the response set, nil if none
	sent   time.Time
	recv   time.Time
}

func (a answer) failed() bool { return a.status == 0 || a.status >= 500 }

// do sends one request with the session cookie (name=value) and records it.
func (r *runner) do(method, path, cookieName, cookieValue string) answer {
	return r.send(method, path, cookieName, cookieValue, true)
}

// send is do; timed false leaves the request out of the latency
// histogram (the deliberately held racing write, whose latency is the
// hold), though it still counts and may still hang.
func (r *runner) send(method, path, cookieName, cookieValue string, timed bool) answer {
	a := answer{sent: time.Now()}
	req, err := http.NewRequest(method, r.base+path, nil)
	if err == nil {
		if cookieValue != "" {
			req.AddCookie(&http.Cookie{Name: cookieName, Value: cookieValue})
		}
		var resp *http.Response
		resp, err = r.client.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			a.status, a.body = resp.StatusCode, string(b)
			for _, ck := range resp.Cookies() {
				if ck.Name == cookieName {
					a.cookie = ck
				}
			}
		}
	}
	a.recv = time.Now()
	d := a.recv.Sub(a.sent)
	r.requests.Add(1)
	r.mu.Lock()
	if timed {
		r.hist.record(d)
	}
	if a.failed() {
		r.ivFails++
		at := a.recv.Sub(r.start)
		if r.firstFail == 0 {
			r.firstFail = at
		}
		r.lastFail = max(r.lastFail, at)
	}
	r.mu.Unlock()
	if a.failed() {
		r.failures.Add(1)
		for {
			old := r.maxFailed.Load()
			if int64(d) <= old || r.maxFailed.CompareAndSwap(old, int64(d)) {
				break
			}
		}
	}
	if d >= r.cfg.HangAfter {
		r.model.violate(Hung, "%s %s took %s", method, strings.SplitN(path, "?", 2)[0], d.Round(time.Millisecond))
	}
	return a
}

// worker owns at most one session at a time, so that it alone knows what
// the next read of that session must show.
type worker struct {
	r    *runner
	user string
	rng  *rand.Rand

	cookie  string // the session's cookie value, "" without a session
	short   bool
	created time.Time // when the login that made the session was sent
	madeBy  time.Time // when its answer arrived
	cart    int       // the last acknowledged cart value
	pending *int      // a cart write whose outcome is unknown (it failed)
	// parked are the short sessions this worker's user walked away from:
	// each must stay live with its cart until its lifetime (less a second)
	// has passed, and is ended for good once the lifetime has.
	parked []parked
	origin string // what made the session: "login" or "renew"
}

func (w *worker) prefix() (string, string) {
	if w.short {
		return "/short", cookieShort
	}
	return "/long", cookieLong
}

// drop forgets the session without ending it in the model: its state is
// unknown after a failed logout or renew.
func (w *worker) drop() { w.cookie, w.pending = "", nil }

func (w *worker) loop(ctx context.Context) {
	for ctx.Err() == nil {
		if w.cookie == "" {
			w.login()
			continue
		}
		w.expire()
		p := w.rng.IntN(100)
		switch {
		case p < 45:
			w.read()
		case p < 75:
			w.write()
		case p < 82:
			w.renew()
		case p < 88:
			w.logout()
		case p < 94:
			w.probe()
		default:
			w.revisit()
		}
	}
}

func (w *worker) login() {
	w.short = w.rng.IntN(10) == 0
	pre, name := w.prefix()
	a := w.r.do("POST", pre+"/login?user="+w.user, name, "")
	if a.status != http.StatusOK || a.cookie == nil || a.cookie.Value == "" {
		return
	}
	w.r.logins.Add(1)
	w.cookie, w.created, w.madeBy, w.cart, w.pending = a.cookie.Value, a.sent, a.recv, 0, nil
	w.origin = "login"
	if w.short {
		// One of the 10% of sessions that expire during the run: fill the
		// cart, then walk away from it, so that it neither skews the mix
		// nor ends any other way than by expiring.
		w.write()
		if w.cookie != "" && w.pending == nil {
			w.parked = append(w.parked, parked{cookie: w.cookie, created: w.created, madeBy: w.madeBy, cart: w.cart})
		}
		w.drop()
		w.short = false
	}
}

// parked is a short session left alone until it expires.
type parked struct {
	cookie          string
	created, madeBy time.Time
	cart            int
}

// expire ends, in the model, the parked sessions whose lifetime has
// passed (by a margin): from then on they must never be accepted.
func (w *worker) expire() {
	keep := w.parked[:0]
	for _, p := range w.parked {
		if time.Since(p.madeBy) > w.r.cfg.ShortLifetime+100*time.Millisecond {
			w.r.model.end(cookieShort + "=" + p.cookie)
			w.r.expired.Add(1)
			continue
		}
		keep = append(keep, p)
	}
	clear(w.parked[len(keep):])
	w.parked = keep
}

// revisit reads a parked session that must still be live: the middleware
// keeps whole seconds, so a session lives at least its lifetime less a
// second.
func (w *worker) revisit() {
	if len(w.parked) == 0 {
		return
	}
	p := w.parked[w.rng.IntN(len(w.parked))]
	if time.Since(p.created) >= w.r.cfg.ShortLifetime-time.Second {
		return
	}
	a := w.r.do("GET", "/short/me", cookieShort, p.cookie)
	switch {
	case a.failed():
	case a.status == http.StatusUnauthorized:
		if a.recv.Before(p.created.Add(w.r.cfg.ShortLifetime - time.Second)) {
			w.r.model.violate(SessionLost, "a parked short session answered no session at age %s", a.recv.Sub(p.created))
		}
	case a.status == http.StatusOK:
		if got, _ := strconv.Atoi(a.body); got != p.cart {
			w.r.model.violate(WriteLost, "a parked session read cart %d, acknowledged %d", got, p.cart)
		}
	}
}

// check handles an answer that should carry the session: it reports
// whether the session is still usable.
func (w *worker) check(a answer, what string) bool {
	switch {
	case a.failed():
		return true // unknown; try again later
	case a.status == http.StatusUnauthorized:
		// The middleware keeps times in whole seconds, so a session may end
		// up to a second before its lifetime has passed, never after.
		if !w.short || a.recv.Before(w.created.Add(w.r.cfg.ShortLifetime-time.Second)) {
			w.r.model.violate(SessionLost, "%s answered no session for a live session (made by %s, short %v, age %s)", what, w.origin, w.short, a.recv.Sub(w.created))
		}
		w.r.model.end(w.cookieName() + "=" + w.cookie)
		w.drop()
		return false
	case a.status == http.StatusConflict:
		if !w.short || a.recv.Before(w.created.Add(w.r.cfg.ShortLifetime-time.Second)) {
			w.r.model.violate(SessionLost, "%s found its live session ended (made by %s, short %v, age %s)", what, w.origin, w.short, a.recv.Sub(w.created))
		}
		w.r.model.end(w.cookieName() + "=" + w.cookie)
		w.drop()
		return false
	}
	return true
}

func (w *worker) cookieName() string { _, n := w.prefix(); return n }

func (w *worker) read() {
	pre, name := w.prefix()
	a := w.r.do("GET", pre+"/me", name, w.cookie)
	if !w.check(a, "a read") || a.failed() {
		return
	}
	got, _ := strconv.Atoi(a.body)
	switch {
	case got == w.cart:
		w.pending = nil
	case w.pending != nil && got == *w.pending:
		w.cart, w.pending = got, nil
	default:
		w.r.model.violate(WriteLost, "read cart %d, acknowledged %d", got, w.cart)
		w.cart, w.pending = got, nil
	}
}

func (w *worker) write() {
	pre, name := w.prefix()
	n := w.cart + 1
	if w.pending != nil {
		n = max(n, *w.pending+1)
	}
	a := w.r.do("POST", pre+"/cart?n="+strconv.Itoa(n), name, w.cookie)
	if !w.check(a, "a cart write") {
		return
	}
	w.r.carts.Add(1)
	if a.failed() {
		w.pending = &n
		return
	}
	w.cart, w.pending = n, nil
}

// concurrently runs main while a cart write on the same session is in
// flight: the race an ended session must survive without coming back.
func (w *worker) concurrently(main func() answer) answer {
	pre, name := w.prefix()
	cookie := w.cookie
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.r.send("POST", pre+"/cart?n=-1&hold=30ms", name, cookie, false)
	}()
	// Let the racing write read the session first, so that it is in flight
	// when main ends the session.
	time.Sleep(10 * time.Millisecond)
	a := main()
	<-done
	return a
}

func (w *worker) renew() {
	pre, name := w.prefix()
	old := w.cookie
	a := w.concurrently(func() answer { return w.r.do("POST", pre+"/login?user="+w.user, name, old) })
	if a.status != http.StatusOK || a.cookie == nil || a.cookie.Value == "" || a.cookie.Value == old {
		// Unknown: the old id may or may not have ended.
		w.drop()
		return
	}
	w.r.renews.Add(1)
	w.r.model.end(name + "=" + old)
	// The login resets the cart, and Renew gives a fresh lifetime, so the
	// clock of a short session starts again.
	w.cookie, w.created, w.madeBy, w.cart, w.pending = a.cookie.Value, a.sent, a.recv, 0, nil
	w.origin = "renew"
}

func (w *worker) logout() {
	pre, name := w.prefix()
	old := w.cookie
	a := w.concurrently(func() answer { return w.r.do("POST", pre+"/logout", name, old) })
	if a.status != http.StatusOK {
		w.drop()
		return
	}
	w.r.logouts.Add(1)
	w.r.model.end(name + "=" + old)
	w.drop()
}

func (w *worker) probe() {
	nv := w.r.model.pick(w.rng.Uint64())
	if nv == "" {
		return
	}
	name, value, _ := strings.Cut(nv, "=")
	pre := "/long"
	if name == cookieShort {
		pre = "/short"
	}
	w.r.probes.Add(1)
	a := w.r.do("GET", pre+"/me", name, value)
	if a.status == http.StatusOK {
		w.r.model.violate(EndedAccepted, "an ended %s session was accepted", name)
	}
}

// verify reads the worker's session once the load has stopped, trying for
// a while so a store that is still recovering gets its chance.
func (w *worker) verify(ctx context.Context) {
	if w.cookie == "" || w.short {
		return
	}
	pre, name := w.prefix()
	until := time.Now().Add(w.r.cfg.HangAfter)
	for {
		a := w.r.do("GET", pre+"/me", name, w.cookie)
		if !a.failed() {
			if w.check(a, "the final read") {
				w.read()
			}
			return
		}
		if time.Now().After(until) || ctx.Err() != nil {
			w.r.model.violate(NotRecovered, "the final read kept failing (status %d)", a.status)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
