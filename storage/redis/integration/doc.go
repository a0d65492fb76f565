// Package integration holds the tests of the sessionkit Redis storage that
// need real servers: the storagetest conformance suite against a single
// server and a three-master Cluster, the rules of the Store's index
// (sessions.Indexer) on both, with the races of its cleaning and of the
// Cluster's three steps played by a hook, the round trips and INFO
// commandstats of an indexed write, fault tests that stop and pause the
// server, key-namespace checks, and benchmarks against raw go-redis and of
// ReadIndex as the store grows to a million sessions.
//
// It is a module of its own so that testcontainers-go, which the tests use
// through storagetest/containers, never enters the module graph of
// github.com/sessionkit/sessionkit/storage/redis. The package has no API;
// run it with go test. Servers come from storagetest/containers: set
// SESSIONKIT_REDIS_ADDR and SESSIONKIT_REDIS_CLUSTER_ADDRS to use existing
// ones, or let it start containers.
package integration
