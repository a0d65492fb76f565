package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/bolt"
	"github.com/sessionkit/sessionkit/storage/cache"
	"github.com/sessionkit/sessionkit/storage/directory"
	"github.com/sessionkit/sessionkit/storage/memory"
	"github.com/sessionkit/sessionkit/storage/postgres"
	"github.com/sessionkit/sessionkit/storage/redis"
)

// cacheMaxBytes is the WithMaxBytes of the cache backends: large enough
// that the working set of every payload size (1,000 entries of up to
// 64 KiB, plus the smaller sizes still cached) fits. With the default of
// 64 MiB, the 64 KiB workloads would walk an LRU cache slightly smaller
// than their ids and measure its pathological case instead of the cache.
const cacheMaxBytes = 256 << 20

func sessionkitSubjects() []Subject {
	return []Subject{
		{
			Name: "sessionkit/memory", Kind: KindMemory, Role: Sessionkit,
			Note: "memory.New() with default options",
			Open: func(context.Context, Env) (Store, error) {
				st := memory.New()
				return storageStore(st, st.Close), nil
			},
		},
		{
			Name: "sessionkit/directory", Kind: KindDirectory, Role: Sessionkit,
			Note: "directory.New(dir): temp file + rename, no fsync (WithSync(false), the default)",
			Open: func(_ context.Context, env Env) (Store, error) {
				st, err := directory.New(env.Dir)
				if err != nil {
					return nil, err
				}
				return storageStore(st, st.Close), nil
			},
		},
		{
			Name: "sessionkit/cache+directory", Kind: KindDirectory, Role: Sessionkit,
			Note: "cache.New(directory.New(dir), cache.WithMaxBytes(256 MiB)): entries written through the cache are read from memory",
			Open: func(_ context.Context, env Env) (Store, error) {
				dir, err := directory.New(env.Dir)
				if err != nil {
					return nil, err
				}
				c := cache.New(dir, cache.WithMaxBytes(cacheMaxBytes))
				return storageStore(c, func() error { return errors.Join(c.Close(), dir.Close()) }), nil
			},
		},
		{
			Name: "sessionkit/bolt", Kind: KindBolt, Role: Sessionkit,
			Note: "bolt.Open(file) with default options: fsync on every commit, concurrent writes share commits",
			Open: func(_ context.Context, env Env) (Store, error) {
				st, err := bolt.Open(filepath.Join(env.Dir, "sessions.db"))
				if err != nil {
					return nil, err
				}
				return storageStore(st, st.Close), nil
			},
		},
		{
			Name: "sessionkit/redis", Kind: KindRedis, Role: Sessionkit, Needs: RedisServer,
			Note: "redis.New(client): GET, SET PXAT",
			Open: func(ctx context.Context, env Env) (Store, error) {
				const prefix = "sessionbench:sessionkit:"
				client, err := openRedis(ctx, env)
				if err != nil {
					return nil, err
				}
				st, err := redis.New(client, redis.WithPrefix(prefix))
				if err != nil {
					return nil, errors.Join(err, client.Close())
				}
				return storageStore(st, func() error {
					return errors.Join(st.Close(), closeRedis(client, prefix))
				}), nil
			},
		},
		{
			Name: "sessionkit/cache+redis", Kind: KindRedis, Role: Sessionkit, Needs: RedisServer,
			Note: "cache.New(redis.New(client), cache.WithMaxBytes(256 MiB))",
			Open: func(ctx context.Context, env Env) (Store, error) {
				const prefix = "sessionbench:cache:"
				client, err := openRedis(ctx, env)
				if err != nil {
					return nil, err
				}
				st, err := redis.New(client, redis.WithPrefix(prefix))
				if err != nil {
					return nil, errors.Join(err, client.Close())
				}
				c := cache.New(st, cache.WithMaxBytes(cacheMaxBytes))
				return storageStore(c, func() error {
					return errors.Join(c.Close(), st.Close(), closeRedis(client, prefix))
				}), nil
			},
		},
		{
			Name: "sessionkit/postgres", Kind: KindPostgres, Role: Sessionkit, Needs: PostgresServer,
			Note: "postgres.New(ctx, pool): SELECT, INSERT ... ON CONFLICT DO UPDATE",
			Open: func(ctx context.Context, env Env) (Store, error) {
				const table = "sessionkit_sessions"
				pool, err := openPostgres(ctx, env)
				if err != nil {
					return nil, err
				}
				st, err := postgres.New(ctx, pool, postgres.WithTable(benchSchema+"."+table))
				if err != nil {
					closePostgres(pool, table)
					return nil, err
				}
				return storageStore(st, func() error {
					return errors.Join(st.Close(), closePostgres(pool, table))
				}), nil
			},
		},
	}
}

// storageStore adapts a sessions.Storage to Store; closeFn releases it.
func storageStore(st sessions.Storage, closeFn func() error) Store {
	return &sessionsStore{st: st, close: closeFn}
}

type sessionsStore struct {
	st    sessions.Storage
	close func() error
}

func (s *sessionsStore) Close() error { return s.close() }

func (s *sessionsStore) NewWorker() Worker {
	w := &sessionsWorker{st: s.st}
	// The callbacks are made once per worker, as in storagetest.Benchmark,
	// so that their allocation is not counted against the storage.
	w.read = func(r io.Reader) error {
		w.buf.Reset()
		_, err := w.buf.ReadFrom(r)
		return err
	}
	w.write = func(wr io.Writer) error {
		_, err := wr.Write(w.payload)
		return err
	}
	return w
}

type sessionsWorker struct {
	st      sessions.Storage
	buf     bytes.Buffer
	payload []byte
	read    func(io.Reader) error
	write   func(io.Writer) error
}

func (w *sessionsWorker) Read(ctx context.Context, id string) (int, error) {
	if err := w.st.Read(ctx, id, w.read); err != nil {
		return 0, err
	}
	return w.buf.Len(), nil
}

func (w *sessionsWorker) Write(ctx context.Context, id string, payload []byte, expires time.Time) error {
	w.payload = payload
	return w.st.Write(ctx, id, expires, w.write)
}
