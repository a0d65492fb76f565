package integration

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// One server per top-level test; every subtest of the suite gets its own
// prefix on it, so they run in parallel without seeing each other.

func TestConformance(t *testing.T) {
	client := newClient(t, containers.Redis(t))
	forbidKeysAndFlush(t, client)
	runSuite(t, client)
}

func TestConformanceCluster(t *testing.T) {
	client := newClusterClient(t, containers.RedisCluster(t))
	forbidKeysAndFlush(t, client)
	runSuite(t, client)
}

// TestConformanceUniversalCluster checks the client most applications build:
// NewUniversalClient with several addresses makes a Cluster client.
func TestConformanceUniversalCluster(t *testing.T) {
	client := goredis.NewUniversalClient(&goredis.UniversalOptions{
		Addrs:                 containers.RedisCluster(t),
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { client.Close() })
	if _, ok := client.(*goredis.ClusterClient); !ok {
		t.Fatalf("NewUniversalClient with several addresses made a %T, want *goredis.ClusterClient", client)
	}
	forbidKeysAndFlush(t, client)
	runSuite(t, client)
}
