package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
	"go.etcd.io/bbolt"

	"github.com/sessionkit/sessionkit/storage/postgres"
)

// errNotFound is returned by the raw drivers for an absent or expired id.
var errNotFound = errors.New("benchmarks: not found")

// The raw drivers do what a backend does, with nothing else: each keeps an
// expiry with the entry and checks it on read, as every backend must, but
// validates no id, wraps no error and offers no streaming.
func rawSubjects() []Subject {
	return []Subject{
		{
			Name: "raw/map+RWMutex", Kind: KindMemory, Role: Raw,
			Note: "map[string][]byte under one sync.RWMutex; copies in on write and out on read",
			Open: func(context.Context, Env) (Store, error) { return &rawMap{m: make(map[string]rawEntry)}, nil },
		},
		{
			Name: "raw/os-files", Kind: KindDirectory, Role: Raw,
			Note: "one file per id in one folder: os.CreateTemp, write, close, os.Rename; no fsync",
			Open: func(_ context.Context, env Env) (Store, error) { return &rawFiles{dir: env.Dir}, nil },
		},
		{
			Name: "raw/bbolt", Kind: KindBolt, Role: Raw,
			Note: "bbolt db.Update with Put, db.View with Get (copied out); default options (fsync on commit)",
			Open: func(_ context.Context, env Env) (Store, error) { return openRawBolt(filepath.Join(env.Dir, "raw.db")) },
		},
		{
			Name: "raw/go-redis", Kind: KindRedis, Role: Raw, Needs: RedisServer,
			Note: "go-redis v9 GET, SET PX",
			Open: func(ctx context.Context, env Env) (Store, error) {
				client, err := openRedis(ctx, env)
				if err != nil {
					return nil, err
				}
				return &rawRedis{client: client, prefix: "sessionbench:raw:"}, nil
			},
		},
		{
			Name: "raw/pgx", Kind: KindPostgres, Role: Raw, Needs: PostgresServer,
			Note: "pgx v5 pool: SELECT data, INSERT ... ON CONFLICT DO UPDATE, same table shape as sessionkit/postgres",
			Open: openRawPgx,
		},
	}
}

// expired reports whether an entry expiring at exp (Unix nanoseconds, 0:
// never) has expired.
func expired(exp int64) bool { return exp != 0 && time.Now().UnixNano() >= exp }

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// rawMap is a map under one RWMutex. Entries are never modified once
// stored, so a reader copies out after releasing the lock.
type rawMap struct {
	mu sync.RWMutex
	m  map[string]rawEntry
}

type rawEntry struct {
	data []byte
	exp  int64
}

func (s *rawMap) Close() error      { return nil }
func (s *rawMap) NewWorker() Worker { return &rawMapWorker{s: s} }

type rawMapWorker struct {
	s   *rawMap
	buf []byte
}

func (w *rawMapWorker) Read(_ context.Context, id string) (int, error) {
	w.s.mu.RLock()
	e, ok := w.s.m[id]
	w.s.mu.RUnlock()
	if !ok || expired(e.exp) {
		return 0, errNotFound
	}
	w.buf = append(w.buf[:0], e.data...)
	return len(w.buf), nil
}

func (w *rawMapWorker) Write(_ context.Context, id string, payload []byte, expires time.Time) error {
	e := rawEntry{data: bytes.Clone(payload), exp: nanos(expires)}
	w.s.mu.Lock()
	w.s.m[id] = e
	w.s.mu.Unlock()
	return nil
}

// rawFiles keeps one file per id in dir: 8 bytes of expiry, then the
// content.
type rawFiles struct{ dir string }

func (s *rawFiles) Close() error      { return nil }
func (s *rawFiles) NewWorker() Worker { return &rawFilesWorker{dir: s.dir} }

type rawFilesWorker struct {
	dir string
	buf bytes.Buffer
	hdr [8]byte
}

func (w *rawFilesWorker) Read(_ context.Context, id string) (int, error) {
	f, err := os.Open(filepath.Join(w.dir, id))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := io.ReadFull(f, w.hdr[:]); err != nil {
		return 0, err
	}
	if expired(int64(binary.LittleEndian.Uint64(w.hdr[:]))) {
		return 0, errNotFound
	}
	w.buf.Reset()
	if _, err := w.buf.ReadFrom(f); err != nil {
		return 0, err
	}
	return w.buf.Len(), nil
}

func (w *rawFilesWorker) Write(_ context.Context, id string, payload []byte, expires time.Time) error {
	f, err := os.CreateTemp(w.dir, ".tmp-*")
	if err != nil {
		return err
	}
	binary.LittleEndian.PutUint64(w.hdr[:], uint64(nanos(expires)))
	_, err = f.Write(w.hdr[:])
	if err == nil {
		_, err = f.Write(payload)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(w.dir, id))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// rawBolt keeps entries in one bucket: 8 bytes of expiry, then the content.
type rawBolt struct{ db *bbolt.DB }

var rawBucket = []byte("raw")

func openRawBolt(path string) (Store, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(rawBucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &rawBolt{db: db}, nil
}

func (s *rawBolt) Close() error { return s.db.Close() }

// Populate writes every id in one transaction: population is not
// measured, and one commit per id at a few milliseconds of fsync each
// would make it the slowest part of the run.
func (s *rawBolt) Populate(_ context.Context, ids []string, payload []byte, expires time.Time) error {
	return s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(rawBucket)
		for _, id := range ids {
			v := binary.LittleEndian.AppendUint64(nil, uint64(nanos(expires)))
			if err := b.Put([]byte(id), append(v, payload...)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *rawBolt) NewWorker() Worker {
	w := &rawBoltWorker{db: s.db}
	// The transaction functions are made once per worker so that each
	// operation costs what bbolt costs, not a closure allocation.
	w.view = func(tx *bbolt.Tx) error {
		v := tx.Bucket(rawBucket).Get(w.key)
		if len(v) < 8 || expired(int64(binary.LittleEndian.Uint64(v))) {
			return errNotFound
		}
		w.buf = append(w.buf[:0], v[8:]...)
		return nil
	}
	w.update = func(tx *bbolt.Tx) error {
		return tx.Bucket(rawBucket).Put(w.key, w.val)
	}
	return w
}

type rawBoltWorker struct {
	db           *bbolt.DB
	key          []byte
	buf, val     []byte
	view, update func(*bbolt.Tx) error
}

func (w *rawBoltWorker) Read(_ context.Context, id string) (int, error) {
	w.key = append(w.key[:0], id...)
	if err := w.db.View(w.view); err != nil {
		return 0, err
	}
	return len(w.buf), nil
}

func (w *rawBoltWorker) Write(_ context.Context, id string, payload []byte, expires time.Time) error {
	w.key = append(w.key[:0], id...)
	// bbolt keeps the value slice until the commit, which Update waits
	// for, so the worker may reuse it afterwards.
	w.val = binary.LittleEndian.AppendUint64(w.val[:0], uint64(nanos(expires)))
	w.val = append(w.val, payload...)
	return w.db.Update(w.update)
}

// rawRedis uses go-redis directly: GET, and SET with PX.
type rawRedis struct {
	client *goredis.Client
	prefix string
}

func (s *rawRedis) Close() error      { return closeRedis(s.client, s.prefix) }
func (s *rawRedis) NewWorker() Worker { return s }

func (s *rawRedis) Read(ctx context.Context, id string) (int, error) {
	b, err := s.client.Get(ctx, s.prefix+id).Bytes()
	if err != nil {
		return 0, err
	}
	return len(b), nil
}

func (s *rawRedis) Write(ctx context.Context, id string, payload []byte, expires time.Time) error {
	return s.client.Set(ctx, s.prefix+id, payload, time.Until(expires)).Err()
}

// rawPgx uses a pgx pool directly, on a table shaped like sessionkit's.
type rawPgx struct {
	pool               *pgxpool.Pool
	sqlRead, sqlUpsert string
}

const rawPgxTable = "raw_sessions"

func openRawPgx(ctx context.Context, env Env) (Store, error) {
	pool, err := openPostgres(ctx, env)
	if err != nil {
		return nil, err
	}
	t := pgx.Identifier{benchSchema, rawPgxTable}.Sanitize()
	// The table sessionkit/postgres makes, indexes and all: a table with
	// only a primary key lets its updates be HOT, which the Store's
	// expiry index rules out, and a floor on another shape measures the
	// shapes' difference rather than the Store's.
	ddl, err := postgres.TableSQL(benchSchema + "." + rawPgxTable)
	if err == nil {
		_, err = pool.Exec(ctx, ddl)
	}
	if err != nil {
		closePostgres(pool, rawPgxTable)
		return nil, fmt.Errorf("benchmarks: Postgres: create table: %w", err)
	}
	return &rawPgx{
		pool:    pool,
		sqlRead: `SELECT data FROM ` + t + ` WHERE id = $1 AND (expires_at IS NULL OR expires_at > now())`,
		sqlUpsert: `INSERT INTO ` + t + ` (id, data, expires_at) VALUES ($1, $2, $3) ` +
			`ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`,
	}, nil
}

func (s *rawPgx) Close() error { return closePostgres(s.pool, rawPgxTable) }

func (s *rawPgx) NewWorker() Worker { return &rawPgxWorker{s: s} }

type rawPgxWorker struct {
	s   *rawPgx
	buf []byte
}

func (w *rawPgxWorker) Read(ctx context.Context, id string) (int, error) {
	if err := w.s.pool.QueryRow(ctx, w.s.sqlRead, id).Scan(&w.buf); err != nil {
		return 0, err
	}
	return len(w.buf), nil
}

func (w *rawPgxWorker) Write(ctx context.Context, id string, payload []byte, expires time.Time) error {
	_, err := w.s.pool.Exec(ctx, w.s.sqlUpsert, id, payload, expires)
	return err
}
