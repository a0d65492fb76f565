// Package integration holds the tests of the sessionkit PostgreSQL storage
// that need a real server: the storagetest conformance suite, table and
// sweeper checks, the index (sessions.Indexer: one statement per indexed
// write, the plan of ReadIndex, the upgrade of tables made before the
// index_key column), fault tests that stop and pause the server, and
// benchmarks against raw pgx and of ReadIndex as the table grows.
//
// It is a module of its own so that testcontainers-go, which the tests use
// through storagetest/containers, never enters the module graph of
// github.com/sessionkit/sessionkit/storage/postgres. The package has no API;
// run it with go test. The server comes from storagetest/containers: set
// SESSIONKIT_POSTGRES_DSN to use an existing database, or let it start a
// container.
package integration
