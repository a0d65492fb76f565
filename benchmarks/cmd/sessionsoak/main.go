// Command sessionsoak runs the soak of benchmarks/internal/soak per backend:
// 64 goroutines of logins with Renew, reads, cart writes, logouts and
// expiring sessions over HTTP, for a long time, checked against the soak's
// model, with p99 per interval. It is the long mode; the package's tests are
// the short one.
//
// From the repository root:
//
//	go run ./benchmarks/cmd/sessionsoak                        # every backend, 10 minutes each, p99 per minute
//	go run ./benchmarks/cmd/sessionsoak -backends memory -duration 2m -interval 10s
//
// Redis and PostgreSQL come from SESSIONKIT_REDIS_ADDR and
// SESSIONKIT_POSTGRES_DSN, or from containers (SESSIONKIT_REDIS_IMAGE,
// SESSIONKIT_POSTGRES_IMAGE) removed at the end; a backend whose server is
// unavailable is skipped with the reason, or fails the run with
// SESSIONKIT_REQUIRE_SERVERS=1.
//
// The exit status is 1 when the model was violated, a backend could not be
// set up or a required server was missing, and 2 for bad flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/benchmarks/internal/servers"
	"github.com/sessionkit/sessionkit/benchmarks/internal/soak"
	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/bolt"
	"github.com/sessionkit/sessionkit/storage/directory"
	"github.com/sessionkit/sessionkit/storage/memory"
	"github.com/sessionkit/sessionkit/storage/postgres"
	"github.com/sessionkit/sessionkit/storage/redis"
)

func main() {
	backends := flag.String("backends", "memory,bolt,directory,redis,postgres", "comma-separated backends to soak")
	duration := flag.Duration("duration", 10*time.Minute, "how long the load runs per backend")
	interval := flag.Duration("interval", time.Minute, "the reporting interval of p99")
	short := flag.Duration("short-lifetime", 30*time.Second, "the lifetime of the 10% of sessions that expire during the run (at least 2s)")
	flag.Parse()
	if *duration <= 0 || *interval <= 0 || *short < 2*time.Second {
		fmt.Fprintln(os.Stderr, "sessionsoak: -duration and -interval must be positive, -short-lifetime at least 2s")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, strings.Split(*backends, ","), soak.Config{Duration: *duration, Interval: *interval, ShortLifetime: *short}))
}

func run(ctx context.Context, backends []string, base soak.Config) int {
	want := map[string]bool{}
	for _, b := range backends {
		want[strings.TrimSpace(b)] = true
	}
	srv := servers.Start(ctx, "sessionsoak", want["redis"], want["postgres"], nil)
	defer srv.Close()
	if srv.Required {
		fmt.Fprintf(os.Stderr, "sessionsoak: a required server is missing: %s %s\n", srv.RedisReason, srv.PostgresReason)
		return 1
	}
	status := 0
	for _, b := range backends {
		b = strings.TrimSpace(b)
		st, closeStore, err := open(ctx, b, srv)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sessionsoak: %s: %v\n", b, err)
			status = 1
			continue
		}
		if st == nil {
			fmt.Printf("soak %s: skipped\n", b)
			continue
		}
		c := base
		c.Backend, c.Storage = b, st
		c.Logf = func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
		res, err := soak.Run(ctx, c)
		closeStore()
		if err != nil {
			fmt.Fprintf(os.Stderr, "sessionsoak: %s: %v\n", b, err)
			status = 1
			continue
		}
		fmt.Print(res.String())
		if len(res.Kinds()) > 0 {
			status = 1
		}
	}
	return status
}

// open returns the backend b, nil when its server is unavailable, and how
// to close it.
func open(ctx context.Context, b string, srv *servers.Servers) (sessions.Storage, func(), error) {
	switch b {
	case "memory":
		s := memory.New(memory.WithSweepInterval(time.Second))
		return s, func() { s.Close() }, nil
	case "bolt", "directory":
		dir, err := os.MkdirTemp("", "sessionsoak-")
		if err != nil {
			return nil, nil, err
		}
		var s interface {
			sessions.Storage
			Close() error
		}
		if b == "bolt" {
			s, err = bolt.Open(filepath.Join(dir, "soak.db"), bolt.WithSync(false), bolt.WithSweepInterval(time.Second))
		} else {
			s, err = directory.New(dir, directory.WithSweepInterval(time.Second))
		}
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return s, func() { s.Close(); os.RemoveAll(dir) }, nil
	case "redis":
		if srv.RedisAddr == "" {
			fmt.Printf("soak redis: no server: %s\n", srv.RedisReason)
			return nil, nil, nil
		}
		client := goredis.NewClient(&goredis.Options{Addr: srv.RedisAddr})
		s, err := redis.New(client, redis.WithPrefix(fmt.Sprintf("sessionsoak-%d:", time.Now().UnixNano())))
		if err != nil {
			client.Close()
			return nil, nil, err
		}
		return s, func() { s.Close(); client.Close() }, nil
	case "postgres":
		if srv.PostgresDSN == "" {
			fmt.Printf("soak postgres: no server: %s\n", srv.PostgresReason)
			return nil, nil, nil
		}
		pool, err := pgxpool.New(ctx, srv.PostgresDSN)
		if err != nil {
			return nil, nil, err
		}
		s, err := postgres.New(ctx, pool, postgres.WithTable(fmt.Sprintf("sessionsoak_%d", time.Now().UnixNano())), postgres.WithSweepInterval(time.Second))
		if err != nil {
			pool.Close()
			return nil, nil, err
		}
		return s, func() { s.Close(); pool.Close() }, nil
	}
	return nil, nil, fmt.Errorf("unknown backend %q", b)
}
