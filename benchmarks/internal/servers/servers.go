// Package servers gives the sessionbench command its Redis and PostgreSQL
// servers: the ones that containers.EnvRedisAddr and
// containers.EnvPostgresDSN name, or throwaway containers started with
// storagetest/containers' StartRedis and StartPostgres, which need no
// testing.TB.
package servers

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// Servers are the addresses the command runs against.
type Servers struct {
	RedisAddr, PostgresDSN string
	// RedisReason and PostgresReason say why a server is unavailable, ""
	// when it is available or was not asked for.
	RedisReason, PostgresReason string
	// Required is set when a server asked for is missing and
	// containers.EnvRequireServers is set: the command must fail rather
	// than report without it.
	Required bool

	started []*containers.Server
}

// Start gets the servers asked for: the addresses of containers.EnvRedisAddr
// and containers.EnvPostgresDSN when set, else containers it starts,
// labelled name, whose log lines go to logf (nil discards them). A server
// that cannot be had is not an error: its reason is set instead. Call
// Close to remove the containers, also after an interrupt.
func Start(ctx context.Context, name string, redis, postgres bool, logf func(format string, args ...any)) *Servers {
	s := &Servers{}
	opts := []containers.StartOption{containers.WithLabel(name), containers.WithLogf(logf)}
	get := func(env string, start func(context.Context, ...containers.StartOption) (*containers.Server, error)) (addr, reason string) {
		if v := strings.TrimSpace(os.Getenv(env)); v != "" {
			return v, ""
		}
		srv, err := start(ctx, opts...)
		if err != nil {
			s.Required = s.Required || containers.Required()
			return "", err.Error()
		}
		s.started = append(s.started, srv)
		return srv.Addr(), ""
	}
	if redis {
		s.RedisAddr, s.RedisReason = get(containers.EnvRedisAddr, containers.StartRedis)
	}
	if postgres {
		s.PostgresDSN, s.PostgresReason = get(containers.EnvPostgresDSN, containers.StartPostgres)
	}
	return s
}

// Close removes the containers Start started. It may be called more than
// once; later calls do nothing.
func (s *Servers) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var errs []error
	for _, srv := range s.started {
		errs = append(errs, srv.Close(ctx))
	}
	s.started = nil
	return errors.Join(errs...)
}
