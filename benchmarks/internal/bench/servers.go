package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
)

// ErrNoServer is wrapped by the error Open returns when the Env lacks the
// server the subject needs.
var ErrNoServer = errors.New("benchmarks: no server")

// benchSchema is the PostgreSQL schema every Postgres subject keeps its
// table in, so that a DSN naming a database with other tables (scs's
// "sessions", say) is never touched. It is dropped when it is left empty.
const benchSchema = "sessionbench"

// setupTimeout bounds connecting to a server and preparing or removing a
// subject's keys or table.
const setupTimeout = 30 * time.Second

// RedisPoolSize is the connection pool size of every Redis subject: go-redis's
// default (ten per GOMAXPROCS), set explicitly so that redigo's pool, which
// has no such default, gets the same.
func RedisPoolSize() int { return 10 * runtime.GOMAXPROCS(0) }

// openRedis connects a go-redis client of its own to env's server.
func openRedis(ctx context.Context, env Env) (*goredis.Client, error) {
	if env.RedisAddr == "" {
		return nil, fmt.Errorf("%w: Redis", ErrNoServer)
	}
	client := goredis.NewClient(&goredis.Options{Addr: env.RedisAddr, PoolSize: RedisPoolSize()})
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, fmt.Errorf("benchmarks: Redis at %s: %w", env.RedisAddr, err)
	}
	return client, nil
}

// closeRedis removes every key under prefix and closes client. It removes
// by prefix rather than with FLUSHDB because the server may be one the user
// named, holding other data.
func closeRedis(client goredis.UniversalClient, prefix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	err := deletePrefix(ctx, client, prefix)
	return errors.Join(err, client.Close())
}

func deletePrefix(ctx context.Context, client goredis.UniversalClient, prefix string) error {
	var cursor uint64
	for {
		keys, next, err := client.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			return fmt.Errorf("benchmarks: remove the keys of the run: %w", err)
		}
		if len(keys) > 0 {
			if err := client.Unlink(ctx, keys...).Err(); err != nil {
				return fmt.Errorf("benchmarks: remove the keys of the run: %w", err)
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// openPostgres connects a pool of its own to env's database, with
// benchSchema first on the search path, and creates benchSchema.
func openPostgres(ctx context.Context, env Env) (*pgxpool.Pool, error) {
	if env.PostgresDSN == "" {
		return nil, fmt.Errorf("%w: Postgres", ErrNoServer)
	}
	cfg, err := pgxpool.ParseConfig(env.PostgresDSN)
	if err != nil {
		// The DSN may hold a password: the parse error does not repeat it.
		return nil, fmt.Errorf("benchmarks: Postgres DSN: %w", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = benchSchema
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("benchmarks: Postgres: %w", err)
	}
	if _, err := pool.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+benchSchema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("benchmarks: Postgres: create schema %s: %w", benchSchema, err)
	}
	return pool, nil
}

// closePostgres drops table from benchSchema, drops the schema if nothing
// else is left in it, and closes pool.
func closePostgres(pool *pgxpool.Pool, table string) error {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	_, err := pool.Exec(ctx, `DROP TABLE IF EXISTS `+pgx.Identifier{benchSchema, table}.Sanitize())
	if err != nil {
		err = fmt.Errorf("benchmarks: Postgres: drop table %s: %w", table, err)
	}
	// RESTRICT (the default) refuses while another subject's table is
	// still there; that subject drops the schema when it closes.
	_, _ = pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+benchSchema)
	pool.Close()
	return err
}
