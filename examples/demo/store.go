package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/bolt"
	"github.com/sessionkit/sessionkit/storage/directory"
	"github.com/sessionkit/sessionkit/storage/memory"
	"github.com/sessionkit/sessionkit/storage/postgres"
	"github.com/sessionkit/sessionkit/storage/redis"
)

// store is what the demo needs from a backend: the storage contract, the
// Lister capability (the sessions page enumerates entries) and Close. Every
// backend of this repository provides all three.
type store interface {
	sessions.Storage
	sessions.Lister
	io.Closer
}

// defaultBoltFile is the name of the bolt file used when -store is not
// given, inside os.TempDir().
//
// The OS temp folder rather than the working directory: the README's first
// command runs the demo from the repository root, and a database file there
// would land in the working tree. The temp folder keeps sessions across
// restarts of the demo (until the OS cleans it), which is what lets the
// README show that server-side sessions survive a restart.
const defaultBoltFile = "sessionkit-demo.db"

// defaultStoreSpec returns the -store value used when none is given.
func defaultStoreSpec() string {
	return "bolt:" + filepath.Join(os.TempDir(), defaultBoltFile)
}

// connectTimeout bounds how long opening a network store may take, so a
// wrong address fails the start instead of hanging it.
const connectTimeout = 10 * time.Second

// openStore opens the backend that spec names:
//
//	bolt:PATH                      a bbolt file (created if missing)
//	memory:                        in process; everything is lost on exit
//	dir:PATH                       one file per session under PATH
//	redis://[:PASSWORD@]HOST:PORT/DB  (and rediss:// for TLS)
//	postgres://USER@HOST/DB?...    (and postgresql://), table created if missing
//
// It returns the store and a description for the log that never includes a
// password. The store's Close also closes the network client the demo made.
func openStore(ctx context.Context, spec string) (store, string, error) {
	kind, rest, _ := strings.Cut(spec, ":")
	switch kind {
	case "bolt":
		if rest == "" {
			return nil, "", errors.New("store: bolt needs a path: bolt:PATH")
		}
		if spec == defaultStoreSpec() {
			// The default path sits in a folder every user can write to;
			// refuse to follow a link someone else planted there.
			if err := checkPlainFile(rest); err != nil {
				return nil, "", err
			}
		}
		s, err := bolt.Open(rest)
		if err != nil {
			return nil, "", fmt.Errorf("store: %w", err)
		}
		return s, "bolt file " + rest, nil
	case "memory":
		if rest != "" {
			return nil, "", errors.New("store: memory takes no argument: memory:")
		}
		return memory.New(), "memory (sessions are lost when the demo stops)", nil
	case "dir":
		if rest == "" {
			return nil, "", errors.New("store: dir needs a path: dir:PATH")
		}
		s, err := directory.New(rest)
		if err != nil {
			return nil, "", fmt.Errorf("store: %w", err)
		}
		return s, "directory " + s.Root(), nil
	case "redis", "rediss":
		return openRedis(ctx, spec)
	case "postgres", "postgresql":
		return openPostgres(ctx, spec)
	}
	return nil, "", fmt.Errorf("store: unknown kind %q: want bolt:PATH, memory:, dir:PATH, redis://HOST:PORT/DB or postgres://...", kind)
}

// checkPlainFile returns an error if path exists and is not a regular file
// (a symbolic link, a folder, a device).
func checkPlainFile(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("store: %w", err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("store: %s exists and is not a regular file; pass -store bolt:PATH to use another file", path)
	}
	return nil
}

func openRedis(ctx context.Context, spec string) (store, string, error) {
	opts, err := goredis.ParseURL(spec)
	if err != nil {
		return nil, "", fmt.Errorf("store: redis URL: %w", err)
	}
	// Without this, go-redis ignores context deadlines and only its own
	// timeouts bound a call (see redis.New).
	opts.ContextTimeoutEnabled = true
	client := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, "", fmt.Errorf("store: redis at %s: %w", redact(spec), err)
	}
	s, err := redis.New(client)
	if err != nil {
		_ = client.Close()
		return nil, "", fmt.Errorf("store: %w", err)
	}
	return &ownedStore{store: s, client: client}, "redis " + redact(spec), nil
}

func openPostgres(ctx context.Context, spec string) (store, string, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	pool, err := pgxpool.New(ctx, spec)
	if err != nil {
		// pgx's parse errors do not repeat the password.
		return nil, "", fmt.Errorf("store: postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, "", fmt.Errorf("store: postgres at %s: %w", redact(spec), err)
	}
	s, err := postgres.New(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, "", fmt.Errorf("store: %w", err)
	}
	return &ownedStore{store: s, client: closerFunc(func() error { pool.Close(); return nil })}, "postgres " + redact(spec), nil
}

// redact returns the URL spec with any password replaced by "xxxxx", for logs.
func redact(spec string) string {
	u, err := url.Parse(spec)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// ownedStore is a store over a client the demo created: the redis and
// postgres stores leave their client to the caller, so Close closes both,
// the store first.
type ownedStore struct {
	store
	client io.Closer
}

func (s *ownedStore) Close() error {
	return errors.Join(s.store.Close(), s.client.Close())
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
