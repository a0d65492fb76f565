// Package integration holds the tests of the sessionkit Redis storage that
// need real servers: the storagetest conformance suite against a single
// server and a three-master Cluster, fault tests that stop and pause the
// server, key-namespace checks, and benchmarks against raw go-redis.
//
// It is a module of its own so that testcontainers-go, which the tests use
// through storagetest/containers, never enters the module graph of
// github.com/sessionkit/sessionkit/storage/redis. The package has no API;
// run it with go test. Servers come from storagetest/containers: set
// SESSIONKIT_REDIS_ADDR and SESSIONKIT_REDIS_CLUSTER_ADDRS to use existing
// ones, or let it start containers.
package integration
