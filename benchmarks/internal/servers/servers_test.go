package servers

import (
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/storagetest/containers"
)

func TestStartUsesTheAddressesGiven(t *testing.T) {
	// With the variables set, Start returns them and starts nothing, so
	// this needs no container engine.
	t.Setenv(containers.EnvRedisAddr, "127.0.0.1:1")
	t.Setenv(containers.EnvPostgresDSN, "postgres://x@127.0.0.1:1/db")
	cases := []struct {
		name              string
		redis, postgres   bool
		wantRedis, wantPG string
	}{
		{"RedisOnly", true, false, "127.0.0.1:1", ""},
		{"PostgresOnly", false, true, "", "postgres://x@127.0.0.1:1/db"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Start(t.Context(), "test", tc.redis, tc.postgres, nil)
			defer s.Close()
			if s.RedisAddr != tc.wantRedis || s.PostgresDSN != tc.wantPG || s.RedisReason != "" || s.PostgresReason != "" || s.Required {
				t.Errorf("Start = %+v; want Redis %q, Postgres %q and no reasons", s, tc.wantRedis, tc.wantPG)
			}
		})
	}
}

// Without a container engine a server is not an error but a reason, and
// Required follows containers.EnvRequireServers.
func TestStartWithoutAnEngineGivesAReason(t *testing.T) {
	t.Setenv(containers.EnvRedisAddr, "")
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	for _, tc := range []struct {
		name, require string
		want          bool
	}{{"Skipping", "", false}, {"Required", "1", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(containers.EnvRequireServers, tc.require)
			s := Start(t.Context(), "test", true, false, nil)
			defer s.Close()
			if s.RedisAddr != "" || !strings.Contains(s.RedisReason, "no container engine") || s.Required != tc.want {
				t.Errorf("Start = %+v; want no address, a reason about the engine, Required %v", s, tc.want)
			}
		})
	}
}
