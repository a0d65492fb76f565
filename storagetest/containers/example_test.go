package containers_test

import (
	"context"
	"net"
	"os"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// testStoreSurvivesRestart shows a fault test: the server goes away and
// comes back on the same address, and the code under test must recover.
// (In a real _test.go file this would be a TestXxx function; here it is
// called by no one, so that the example compiles without running.)
func testStoreSurvivesRestart(t *testing.T) {
	srv := containers.RedisServer(t) // skipped (or failed in CI) without an engine
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// ... connect the code under test to srv.Addr() and use it ...

	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", srv.Addr(), time.Second); err == nil {
		t.Fatal("server still answers after Stop")
	}
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// ... the code under test must work again on the same srv.Addr() ...
}

// testWithServers shows the everyday helpers: one server per top-level
// test, shared by its subtests.
func testWithServers(t *testing.T) {
	addr := containers.Redis(t)   // SESSIONKIT_REDIS_ADDR, or a container
	dsn := containers.Postgres(t) // SESSIONKIT_POSTGRES_DSN, or a container
	seeds := containers.RedisCluster(t)
	_, _, _ = addr, dsn, seeds // e.g. goredis.NewClient, pgxpool.New, goredis.NewClusterClient
}

// testWithOwnServer shows Require: a test that finds its server some other
// way follows the same skip-or-fail rule as the helpers.
func testWithOwnServer(t *testing.T) {
	addr := os.Getenv("MY_SENTINEL_ADDR")
	if addr == "" {
		containers.Require(t, "Redis Sentinel", "MY_SENTINEL_ADDR is not set")
	}
	// ... use addr ...
}

// Example shows how a backend's integration tests get their servers. Each
// helper registers the removal of its containers with t.Cleanup.
func Example() {
	_ = testWithServers
	_ = testStoreSurvivesRestart
	_ = testWithOwnServer
}
