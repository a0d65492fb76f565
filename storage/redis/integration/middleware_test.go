package integration

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/redis"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// commandCalls reads INFO commandstats: calls per command since the last
// CONFIG RESETSTAT.
func commandCalls(t *testing.T, info string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^cmdstat_([a-z_|]+):calls=(\d+)`).FindAllStringSubmatch(info, -1) {
		n, err := strconv.Atoi(m[2])
		if err != nil {
			t.Fatal(err)
		}
		out[m[1]] = n
	}
	return out
}

// TestARequestIsOneGetAndOneSet: through the middleware, a request that
// reads its session and changes it costs Redis one GET and one SET (the
// conditional XX and the expiry ride on the SET), and a request that only
// reads it one GET, as counted by the server's INFO commandstats.
func TestARequestIsOneGetAndOneSet(t *testing.T) {
	client := newClient(t, containers.RedisServer(t).Addr())
	ctx := t.Context()
	type visit struct{ N int }
	m, err := sessions.New(sessions.Cookie[visit]("V", sessions.WithStorage(mustNew(t, client, redis.WithPrefix(uniquePrefix())))))
	if err != nil {
		t.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := sessions.Get[visit](r.Context())
		if err != nil && !errors.Is(err, sessions.ErrNoSession) {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if r.URL.Query().Get("read") == "" {
			v.N++
			if err := sessions.Set(r.Context(), v); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
	}))
	get := func(target, cookie string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "V", Value: cookie})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d (%s)", target, rec.Code, rec.Body.String())
		}
		return rec
	}
	var cookie string
	for _, c := range get("/", "").Result().Cookies() {
		cookie = c.Value
	}
	const changes, reads = 20, 10
	for _, tt := range []struct {
		name      string
		target    string
		n         int
		get, set  int
		wantTotal int
	}{
		{"a change", "/", changes, changes, changes, 2 * changes},
		{"a read", "/?read=1", reads, reads, 0, reads},
	} {
		if err := client.ConfigResetStat(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		for range tt.n {
			get(tt.target, cookie)
		}
		info, err := client.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		calls := commandCalls(t, info)
		total := 0
		for cmd, n := range calls {
			if cmd != "info" && cmd != "config|resetstat" {
				total += n
			}
		}
		t.Logf("%d requests of %s: %v", tt.n, tt.name, calls)
		if calls["get"] != tt.get || calls["set"] != tt.set || total != tt.wantTotal {
			t.Errorf("%d requests of %s sent %v, want %d GET and %d SET and nothing else", tt.n, tt.name, calls, tt.get, tt.set)
		}
	}
}
