package containers

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
)

const (
	// postgresPort is the port PostgreSQL listens on inside its container.
	postgresPort = "5432/tcp"
	// postgresUser, postgresPassword and postgresDB are the role and
	// database of the DSN. Authentication is trust; the password is set
	// because the official image refuses to start without one unless told
	// to trust, and is harmless otherwise.
	postgresUser     = "postgres"
	postgresPassword = "sessionkit"
	postgresDB       = "postgres"
	// postgresShm is the container's /dev/shm size: Docker's default 64 MiB
	// makes PostgreSQL fail parallel queries with "could not resize shared
	// memory segment".
	postgresShm = 256 << 20
)

// Postgres returns a DSN (postgres://...?sslmode=disable) for a PostgreSQL
// database for t, usable by pgxpool.New.
//
// When EnvPostgresDSN is set, Postgres returns it and starts nothing.
// Otherwise it starts a container from EnvPostgresImage (default
// [DefaultPostgresImage]) with trust authentication, waits until it completes a
// startup handshake from the host, and removes it when t ends, passed or
// failed. When no container engine answers or the container cannot start, t
// is skipped with a message naming the variables, or fails when
// EnvRequireServers is true (see Require). The server is t's alone; the
// caller may create and drop anything in it.
func Postgres(t testing.TB) string {
	t.Helper()
	if dsn := strings.TrimSpace(os.Getenv(EnvPostgresDSN)); dsn != "" {
		return dsn
	}
	return startPostgres(t, false).Addr()
}

// PostgresServer starts a PostgreSQL container for t and returns it for
// fault tests, which stop and pause it; Addr is a DSN. It always starts a
// container, whatever EnvPostgresDSN says, since a test must not stop a
// server it does not own. Data survives Stop and Start. When no engine
// answers or the container cannot start, t is skipped or fails by the
// Require rule. The container is removed when t ends.
func PostgresServer(t testing.TB) *Server {
	t.Helper()
	return startPostgres(t, true)
}

func startPostgres(t testing.TB, fixed bool) *Server {
	t.Helper()
	return startServer(t, postgresSpec(), fixed, postgresDSN)
}

// postgresSpec is the container of Postgres and PostgresServer.
func postgresSpec() spec {
	return spec{
		what:  "Postgres",
		image: imageFrom(EnvPostgresImage, DefaultPostgresImage),
		port:  postgresPort,
		env: map[string]string{
			"POSTGRES_PASSWORD":         postgresPassword,
			"POSTGRES_HOST_AUTH_METHOD": "trust",
		},
		// fsync only protects against an operating system crash, which a
		// throwaway server does not survive anyway; Stop is a clean
		// shutdown, so data still survives Stop and Start. PGDATA (set by
		// both images) locates the data directory.
		cmd:     []string{"postgres", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"},
		shmSize: postgresShm,
		ready:   readyWithin(postgresPort, pgReady),
	}
}

// postgresDSN returns the DSN of the database at hostPort.
func postgresDSN(hostPort string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(postgresUser, postgresPassword),
		Host:     hostPort,
		Path:     "/" + postgresDB,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// pgReady succeeds when the server at addr completes a startup handshake.
func pgReady(ctx context.Context, addr string) error {
	return pgHandshake(ctx, addr, postgresUser, postgresDB)
}
