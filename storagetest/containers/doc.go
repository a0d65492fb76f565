// Package containers gives sessionkit's integration tests a real Redis or
// PostgreSQL server: an existing one named by an environment variable, or a
// throwaway container started with testcontainers-go and removed when the
// test ends.
//
// Every helper takes a testing.TB and follows one rule for absent servers:
// when neither an environment variable names a server nor a container engine
// can start one, the test is skipped with a message saying what to set; when
// SESSIONKIT_REQUIRE_SERVERS=1, the same situation fails the test instead, so
// a CI run cannot pass by skipping. Require applies that rule for callers.
//
// Which helper to use:
//
//   - Redis and Postgres give an address or DSN for ordinary tests. They
//     honour SESSIONKIT_REDIS_ADDR and SESSIONKIT_POSTGRES_DSN, so a test
//     run can be pointed at servers the developer already has.
//   - RedisCluster gives the seed addresses of a three-master Redis Cluster
//     (or SESSIONKIT_REDIS_CLUSTER_ADDRS).
//   - RedisServer and PostgresServer always start a container and return a
//     Server that a fault-injection test can Stop, Start, Pause and Unpause
//     while its address stays the same.
//   - RedisSentinel always starts a primary, a replica and three sentinels,
//     for failover tests through go-redis's FailoverClient; KillPrimary
//     crashes the primary.
//
// Images come from SESSIONKIT_REDIS_IMAGE and SESSIONKIT_POSTGRES_IMAGE
// (defaults "redis:7" and "postgres:16", the official images). Machines
// without a registry build sessionkit/redis:bookworm and
// sessionkit/postgres:15-bookworm offline with scripts/test-images.sh.
// Containers are removed by t.Cleanup whether the test passes or fails, so
// the testcontainers reaper (Ryuk) can be disabled with
// TESTCONTAINERS_RYUK_DISABLED=true where its image cannot be pulled.
//
// The helpers are safe to call from parallel tests: each call starts its own
// containers. A container costs about a second to start; share one per
// top-level test rather than starting one per subtest.
package containers
