package integration

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/redis"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// TestAnIndexedRequestIsOneRoundTripPerWrite: through the middleware with
// WithIndex, the commands per request, from INFO commandstats, and the
// round trips, from a hook.
func TestAnIndexedRequestIsOneRoundTripPerWrite(t *testing.T) {
	client := newClient(t, containers.RedisServer(t).Addr())
	log := &argsLog{}
	client.AddHook(log)
	ctx := t.Context()
	type login struct {
		User string
		N    int
	}
	for _, idle := range []bool{false, true} {
		opts := []sessions.Option{sessions.WithStorage(mustNew(t, client, redis.WithPrefix(uniquePrefix()))),
			sessions.WithIndex(func(l login) string { return l.User })}
		if idle {
			opts = append(opts, sessions.WithIdleTimeout(time.Hour))
		}
		m, err := sessions.New(sessions.Cookie[login]("L", opts...))
		if err != nil {
			t.Fatal(err)
		}
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v, err := sessions.Get[login](r.Context())
			if err != nil && !errors.Is(err, sessions.ErrNoSession) {
				http.Error(w, err.Error(), 500)
				return
			}
			if r.URL.Query().Get("read") == "" {
				v.User, v.N = "ann", v.N+1
				if err := sessions.Set(r.Context(), v); err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
			}
		}))
		get := func(target, cookie string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, target, nil)
			if cookie != "" {
				req.AddCookie(&http.Cookie{Name: "L", Value: cookie})
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
			}
			return rec
		}
		var cookie string
		client.ConfigResetStat(ctx)
		log.take()
		for _, c := range get("/", "").Result().Cookies() {
			cookie = c.Value
		}
		trips, _ := log.take()
		info, _ := client.Info(ctx, "commandstats").Result()
		calls := commandCalls(t, info)
		delete(calls, "config|resetstat")
		t.Logf("idle=%v: a login (new session): %d round trips, %v", idle, trips, calls)
		if trips != 1 || calls["multi"] != 1 || calls["exec"] != 1 || calls["set"] != 1 || calls["zadd"] != 1 {
			t.Errorf("idle=%v: a login cost %d round trips and %v, want one MULTI/EXEC (SET and its filing) in one round trip", idle, trips, calls)
		}
		for _, target := range []string{"/", "/?read=1"} {
			client.ConfigResetStat(ctx)
			log.take()
			const n = 10
			for range n {
				get(target, cookie)
			}
			trips, _ := log.take()
			info, _ := client.Info(ctx, "commandstats").Result()
			calls := commandCalls(t, info)
			delete(calls, "config|resetstat")
			t.Logf("idle=%v: %d requests of %s: %d round trips, %v", idle, n, target, trips, calls)
			want := map[string]int{"get": n}
			wantTrips := n
			if target == "/" {
				// GET, then one MULTI/EXEC that writes and files: the
				// round trips of the same request without an index.
				want = map[string]int{"get": n, "multi": n, "exec": n, "set": n, "zadd": n, "zcard": n, "pexpireat": 2 * n}
				wantTrips = 2 * n
			}
			if trips != wantTrips || fmt.Sprint(calls) != fmt.Sprint(want) {
				t.Errorf("idle=%v: %d requests of %s cost %d round trips and %v, want %d and %v", idle, n, target, trips, calls, wantTrips, want)
			}
		}
	}
}
