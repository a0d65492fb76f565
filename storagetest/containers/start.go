package containers

import (
	"context"
	"fmt"
	"strings"

	tclog "github.com/testcontainers/testcontainers-go/log"
)

// StartOption configures StartRedis and StartPostgres.
type StartOption func(*startOptions)

type startOptions struct {
	label string
	logf  func(format string, args ...any)
}

// WithLabel sets the value of the dev.sessionkit.test label the container
// carries, by which leftovers are found (docker ps -a --filter
// label=dev.sessionkit.test). The default is "containers".
func WithLabel(label string) StartOption {
	return func(o *startOptions) { o.label = label }
}

// WithLogf sends testcontainers' log lines to logf. The default, and a nil
// logf, discard them.
func WithLogf(logf func(format string, args ...any)) StartOption {
	return func(o *startOptions) { o.logf = logf }
}

func (o startOptions) logger() tclog.Logger {
	if o.logf == nil {
		return logFunc(func(string, ...any) {})
	}
	return logFunc(o.logf)
}

// logFunc adapts a Printf-like function to testcontainers' Logger.
type logFunc func(format string, args ...any)

func (f logFunc) Printf(format string, args ...any) {
	f("%s", strings.TrimSuffix(fmt.Sprintf(format, args...), "\n"))
}

func startOptionsFrom(opts []StartOption) startOptions {
	o := startOptions{label: "containers"}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// StartRedis starts a Redis container outside a test, as Redis does inside
// one: from EnvRedisImage (default [DefaultRedisImage]), published on the
// loopback address when the engine is local, and returned once it answers
// PING. It does not read EnvRedisAddr: it always starts a container. The
// caller removes the container with [Server.Close]. When no container engine
// answers or the container does not start, StartRedis returns the reason as
// an error and leaves nothing running; ctx bounds the start.
//
// This is the core the test helpers are built on, for programs such as
// benchmark commands that need a throwaway server and have no testing.TB.
func StartRedis(ctx context.Context, opts ...StartOption) (*Server, error) {
	o := startOptionsFrom(opts)
	return newServer(ctx, redisSpec(), false, func(hostPort string) string { return hostPort }, o.label, o.logger())
}

// StartPostgres is StartRedis for PostgreSQL: a container from
// EnvPostgresImage (default [DefaultPostgresImage]) with trust
// authentication, returned once it completes a startup handshake. Its Addr
// is a DSN. It does not read EnvPostgresDSN.
func StartPostgres(ctx context.Context, opts ...StartOption) (*Server, error) {
	o := startOptionsFrom(opts)
	return newServer(ctx, postgresSpec(), false, postgresDSN, o.label, o.logger())
}
