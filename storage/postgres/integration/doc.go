// Package integration holds the tests of the sessionkit PostgreSQL storage
// that need a real server: the storagetest conformance suite, table and
// sweeper checks, fault tests that stop and pause the server, and
// benchmarks against raw pgx.
//
// It is a module of its own so that testcontainers-go, which the tests use
// through storagetest/containers, never enters the module graph of
// github.com/sessionkit/sessionkit/storage/postgres. The package has no API;
// run it with go test. The server comes from storagetest/containers: set
// SESSIONKIT_POSTGRES_DSN to use an existing database, or let it start a
// container.
package integration
