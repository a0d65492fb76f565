package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
	"go.etcd.io/bbolt"

	"github.com/sessionkit/sessionkit/storage/bolt"
	"github.com/sessionkit/sessionkit/storage/directory"
	"github.com/sessionkit/sessionkit/storage/memory"
	"github.com/sessionkit/sessionkit/storage/postgres"
	"github.com/sessionkit/sessionkit/storage/redis"
)

// Every scale subject turns its background sweeper off: the run calls
// DeleteExpired itself, at known moments, so that no sweep lands in a
// latency measurement by chance.

// ScaleSubjects returns the backends of the scale mode, in the order of
// Kinds. The cache backend is not among them: it holds a bounded subset of
// its delegate, so its growth is the delegate's.
func ScaleSubjects() []ScaleSubject {
	return []ScaleSubject{
		{
			Name: "sessionkit/memory", Kind: KindMemory,
			Note: "memory.New(memory.WithSweepInterval(0)); filled by Writes from 8 goroutines per core",
			open: openScaleMemory,
		},
		{
			Name: "sessionkit/directory", Kind: KindDirectory,
			Note: "directory.New(dir, directory.WithSweepInterval(0)): no fsync (the default); filled by Writes from 8 goroutines per core",
			open: openScaleDirectory,
		},
		{
			Name: "sessionkit/bolt", Kind: KindBolt,
			Note: "bbolt.Open(file) with the options bolt.Open uses, then bolt.New(db, bolt.WithSweepInterval(0)), " +
				"so the run can read bbolt's statistics; fsync on every commit, except during the fills (db.NoSync, same file format)",
			open: openScaleBolt,
		},
		{
			Name: "sessionkit/postgres", Kind: KindPostgres, Needs: PostgresServer,
			Note: "postgres.New(ctx, pool, postgres.WithSweepInterval(0)), a pool of concurrency + 2 connections; " +
				"filled by COPY of the rows Write makes",
			open: openScalePostgres,
		},
		{
			Name: "sessionkit/redis", Kind: KindRedis, Needs: RedisServer,
			Note: "redis.New(client); filled by pipelines of the SET PXAT that Write sends. Native expiry: no sweeper, no churn",
			open: openScaleRedis,
		},
	}
}

func openScaleMemory(context.Context, Env, ScaleOptions) (*scaleStore, error) {
	st := memory.New(memory.WithSweepInterval(0))
	return &scaleStore{
		st:  st,
		how: fmt.Sprintf("Write from %d goroutines", fillGoroutines()),
		fill: func(ctx context.Context, ids []string, payload []byte, expires func() time.Time) error {
			return fillWrites(ctx, st, ids, payload, expires, fillGoroutines())
		},
		footprint: func(context.Context) (Footprint, error) { return Footprint{HeapBytes: heapInUse()}, nil },
		close:     st.Close,
	}, nil
}

// heapInUse returns the heap in use after two collections: the second
// frees what the finalizers of the first let go.
func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

func openScaleDirectory(_ context.Context, env Env, _ ScaleOptions) (*scaleStore, error) {
	root := filepath.Join(env.Dir, "sessions")
	st, err := directory.New(root, directory.WithSweepInterval(0))
	if err != nil {
		return nil, err
	}
	return &scaleStore{
		st:  st,
		how: fmt.Sprintf("Write from %d goroutines", fillGoroutines()),
		fill: func(ctx context.Context, ids []string, payload []byte, expires func() time.Time) error {
			return fillWrites(ctx, st, ids, payload, expires, fillGoroutines())
		},
		footprint: func(context.Context) (Footprint, error) { return diskUsage(root) },
		close:     st.Close,
	}, nil
}

func openScaleBolt(_ context.Context, env Env, _ ScaleOptions) (*scaleStore, error) {
	path := filepath.Join(env.Dir, "sessions.db")
	// The options bolt.Open passes with its defaults (a lock timeout of a
	// second, fsync on).
	db, err := bbolt.Open(path, bolt.DefaultFileMode, &bbolt.Options{Timeout: bolt.DefaultLockTimeout})
	if err != nil {
		return nil, err
	}
	st, err := bolt.New(db, bolt.WithSweepInterval(0))
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return &scaleStore{
		st:  st,
		how: fmt.Sprintf("Write from %d goroutines, without fsync", fillGoroutines()),
		fill: func(ctx context.Context, ids []string, payload []byte, expires func() time.Time) error {
			// Nothing else uses db while a fill runs: the goroutines
			// that commit start after this write and end before the
			// next.
			db.NoSync = true
			err := fillWrites(ctx, st, ids, payload, expires, fillGoroutines())
			db.NoSync = false
			return errors.Join(err, db.Sync())
		},
		footprint: func(context.Context) (Footprint, error) { return boltFootprint(db, path) },
		close:     func() error { return errors.Join(st.Close(), db.Close()) },
	}, nil
}

func boltFootprint(db *bbolt.DB, path string) (Footprint, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Footprint{}, err
	}
	stats := db.Stats()
	f := Footprint{FileBytes: fi.Size(), PageSize: db.Info().PageSize, FreePages: stats.FreePageN + stats.PendingPageN}
	err = db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket([]byte(bolt.DefaultBucket)); b != nil {
			f.TreeDepth = b.Stats().Depth
		}
		return nil
	})
	return f, err
}

const (
	scaleTable       = "scale_sessions"
	scaleRedisPrefix = "sessionbench:scale:"
)

func openScalePostgres(ctx context.Context, env Env, o ScaleOptions) (*scaleStore, error) {
	if env.PostgresDSN == "" {
		return nil, fmt.Errorf("%w: Postgres", ErrNoServer)
	}
	cfg, err := pgxpool.ParseConfig(env.PostgresDSN)
	if err != nil {
		return nil, fmt.Errorf("benchmarks: Postgres DSN: %w", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = benchSchema
	// The requests during a sweep and the sweep itself each get a
	// connection: a pool smaller than that would measure waiting for the
	// pool, not the sweep.
	cfg.MaxConns = int32(o.withDefaults().Concurrency + 2)
	sctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(sctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("benchmarks: Postgres: %w", err)
	}
	if _, err := pool.Exec(sctx, `CREATE SCHEMA IF NOT EXISTS `+benchSchema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("benchmarks: Postgres: create schema %s: %w", benchSchema, err)
	}
	// A table left by an interrupted run would be measured with its rows.
	if _, err := pool.Exec(sctx, `DROP TABLE IF EXISTS `+pgx.Identifier{benchSchema, scaleTable}.Sanitize()); err != nil {
		pool.Close()
		return nil, fmt.Errorf("benchmarks: Postgres: drop table %s: %w", scaleTable, err)
	}
	st, err := postgres.New(sctx, pool, postgres.WithTable(benchSchema+"."+scaleTable), postgres.WithSweepInterval(0))
	if err != nil {
		return nil, errors.Join(err, closePostgres(pool, scaleTable))
	}
	ident := pgx.Identifier{benchSchema, scaleTable}
	return &scaleStore{
		st:  st,
		how: "COPY in chunks of 10,000 rows",
		fill: func(ctx context.Context, ids []string, payload []byte, expires func() time.Time) error {
			return copyRows(ctx, pool, ident, ids, payload, expires)
		},
		footprint: func(ctx context.Context) (Footprint, error) { return postgresFootprint(ctx, pool, ident) },
		close:     func() error { return errors.Join(st.Close(), closePostgres(pool, scaleTable)) },
		info: func(ctx context.Context) string {
			var version, buffers, autovacuum, fsync, syncCommit string
			err := pool.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('shared_buffers'), `+
				`current_setting('autovacuum'), current_setting('fsync'), current_setting('synchronous_commit')`).
				Scan(&version, &buffers, &autovacuum, &fsync, &syncCommit)
			if err != nil {
				return ""
			}
			return fmt.Sprintf("PostgreSQL %s, shared_buffers %s, autovacuum %s, fsync %s, synchronous_commit %s",
				version, buffers, autovacuum, fsync, syncCommit)
		},
	}, nil
}

// copyRows inserts the rows a postgres Store's Write makes (id, the bytes
// as written, the expiry) with COPY, in chunks from two connections.
func copyRows(ctx context.Context, pool *pgxpool.Pool, table pgx.Identifier, ids []string, payload []byte, expires func() time.Time) error {
	const chunk = 10_000
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs [2]error
	)
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(chunk)) - chunk
				if i >= len(ids) || ctx.Err() != nil {
					return
				}
				part := ids[i:min(i+chunk, len(ids))]
				exp := expires()
				rows := pgx.CopyFromSlice(len(part), func(j int) ([]any, error) {
					return []any{part[j], payload, exp}, nil
				})
				if _, err := pool.CopyFrom(ctx, table, []string{"id", "data", "expires_at"}, rows); err != nil {
					errs[g] = err
					next.Store(int64(len(ids)))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return err
	}
	return ctx.Err()
}

// postgresFootprint measures table's sizes, and its statistics once they
// have settled. A backend keeps the counts of its transactions until it
// is idle long enough or exits, so the pool's connections are closed
// first (an exiting backend reports everything), and the statistics are
// read until two readings a second apart agree (for at most 15 s).
func postgresFootprint(ctx context.Context, pool *pgxpool.Pool, table pgx.Identifier) (Footprint, error) {
	pool.Reset()
	name := table.Sanitize()
	read := func() (Footprint, error) {
		var f Footprint
		err := pool.QueryRow(ctx, `SELECT pg_table_size($1::regclass), pg_indexes_size($1::regclass), `+
			`coalesce(s.n_live_tup, 0), coalesce(s.n_dead_tup, 0), coalesce(s.autovacuum_count, 0) `+
			`FROM (SELECT 1) one LEFT JOIN pg_stat_user_tables s ON s.relid = $1::regclass`, name).
			Scan(&f.TableBytes, &f.IndexBytes, &f.LiveTuples, &f.DeadTuples, &f.Autovacuums)
		return f, err
	}
	prev, err := read()
	if err != nil {
		return Footprint{}, err
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return prev, ctx.Err()
		}
		f, err := read()
		if err != nil {
			return Footprint{}, err
		}
		if f == prev {
			break
		}
		prev = f
	}
	return prev, nil
}

func openScaleRedis(ctx context.Context, env Env, _ ScaleOptions) (*scaleStore, error) {
	client, err := openRedis(ctx, env)
	if err != nil {
		return nil, err
	}
	// A run interrupted before it cleaned up leaves keys that would count
	// as this store's memory.
	if err := deletePrefix(ctx, client, scaleRedisPrefix); err != nil {
		return nil, errors.Join(err, client.Close())
	}
	st, err := redis.New(client, redis.WithPrefix(scaleRedisPrefix))
	if err != nil {
		return nil, errors.Join(err, client.Close())
	}
	return &scaleStore{
		st:  st,
		how: "pipelines of 1,000 SET PXAT from 4 goroutines",
		fill: func(ctx context.Context, ids []string, payload []byte, expires func() time.Time) error {
			return pipelineSets(ctx, client, ids, payload, expires)
		},
		footprint: func(ctx context.Context) (Footprint, error) { return redisFootprint(ctx, client) },
		close:     func() error { return errors.Join(st.Close(), closeRedis(client, scaleRedisPrefix)) },
		info: func(ctx context.Context) string {
			info, err := client.Info(ctx, "server", "memory").Result()
			if err != nil {
				return ""
			}
			return fmt.Sprintf("Redis %s, maxmemory %s, allocator %s", infoField(info, "redis_version"),
				infoField(info, "maxmemory_human"), infoField(info, "mem_allocator"))
		},
	}, nil
}

// pipelineSets sends what a redis Store's Write sends for each id (SET
// prefix+id value PXAT ms) in pipelines of 1,000 from 4 goroutines.
func pipelineSets(ctx context.Context, client *goredis.Client, ids []string, payload []byte, expires func() time.Time) error {
	const chunk = 1000
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs [4]error
	)
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(chunk)) - chunk
				if i >= len(ids) || ctx.Err() != nil {
					return
				}
				exp := expires().UnixMilli()
				_, err := client.Pipelined(ctx, func(p goredis.Pipeliner) error {
					for _, id := range ids[i:min(i+chunk, len(ids))] {
						p.Do(ctx, "set", scaleRedisPrefix+id, payload, "pxat", exp)
					}
					return nil
				})
				if err != nil {
					errs[g] = err
					next.Store(int64(len(ids)))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return err
	}
	return ctx.Err()
}

// redisFootprint returns used_memory once Redis has freed what earlier
// UNLINKs handed to its background thread (lazyfree_pending_objects 0),
// for at most 30 s.
func redisFootprint(ctx context.Context, client *goredis.Client) (Footprint, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := client.Info(ctx, "memory").Result()
		if err != nil {
			return Footprint{}, err
		}
		used, err := strconv.ParseInt(infoField(info, "used_memory"), 10, 64)
		if err != nil {
			return Footprint{}, fmt.Errorf("benchmarks: Redis INFO memory: used_memory: %w", err)
		}
		if p := infoField(info, "lazyfree_pending_objects"); p == "0" || p == "" || time.Now().After(deadline) {
			return Footprint{UsedMemory: used}, nil
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return Footprint{}, ctx.Err()
		}
	}
}

// infoField returns the value of field in the text of a Redis INFO reply,
// "" when it is absent.
func infoField(info, field string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}
