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

// store is what the demo needs from a backend that it cannot ask for
// through the sessions API: the storage contract and Close. The optional
// capabilities reach the middleware through the store itself: the sessions
// page needs sessions.Indexer, which sessions.New checks for (WithIndex
// refuses a storage without it), and logouts that stick need
// sessions.ConditionalWriter. Every backend of this repository has both,
// and the demo's wrappers (ownedStore, namespace) forward exactly the
// capabilities of what they wrap.
type store interface {
	sessions.Storage
	io.Closer
}

// defaultBoltFile is the name of the bolt file used when -store is not
// given, inside defaultBoltFolder().
const defaultBoltFile = "sessionkit-demo.db"

// defaultBoltFolder is where the default bolt file lives: a folder of the
// user's cache (os.UserCacheDir: $XDG_CACHE_HOME or ~/.cache on Linux,
// ~/Library/Caches on macOS, %LocalAppData% on Windows).
//
// Not the working directory: the README's first command runs the demo from
// the repository root, and a database file there would land in the working
// tree. Not the shared OS temp folder either: there the first user's file
// (mode 0600) makes the demo fail with "permission denied" for every other
// user of the machine. The cache folder keeps sessions across restarts of
// the demo, which is what lets the README show that server-side sessions
// survive a restart. Without a home folder, the demo falls back to a
// per-user folder in the temp folder.
func defaultBoltFolder() string {
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "sessionkit-demo")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("sessionkit-demo-%d", os.Getuid()))
}

// defaultStoreSpec returns the -store value used when none is given.
func defaultStoreSpec() string {
	return "bolt:" + filepath.Join(defaultBoltFolder(), defaultBoltFile)
}

// storeKinds are the -store forms openStore accepts, for messages and for
// the test that the README lists them all.
var storeKinds = []string{"bolt:PATH", "memory:", "dir:PATH", "redis://HOST:PORT/DB", "postgres://USER@HOST/DB"}

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
			return nil, "", errors.New("store: bolt needs a path, as in bolt:PATH")
		}
		if spec == defaultStoreSpec() {
			// The fallback folder sits in the temp folder; refuse to follow
			// a link someone else planted there.
			if err := checkPlainFile(rest); err != nil {
				return nil, "", err
			}
		}
		// Like dir:PATH, bolt:PATH makes the folders it needs, readable by
		// this user only: the file holds sessions.
		if err := os.MkdirAll(filepath.Dir(rest), 0o700); err != nil {
			return nil, "", fmt.Errorf("store: bolt: %w", err)
		}
		s, err := bolt.Open(rest)
		if err != nil {
			return nil, "", fmt.Errorf("store: %w", err)
		}
		return s, "bolt file " + rest, nil
	case "memory":
		if rest != "" {
			return nil, "", errors.New(`store: memory takes no argument (write "memory:")`)
		}
		return memory.New(), "memory (sessions are lost when the demo stops)", nil
	case "dir":
		if rest == "" {
			return nil, "", errors.New("store: dir needs a path, as in dir:PATH")
		}
		s, err := directory.New(rest)
		if err != nil {
			return nil, "", fmt.Errorf("store: %w", err)
		}
		return s, "directory " + s.Root(), nil
	case "redis", "rediss", "postgres", "postgresql":
		// Without "//" the URL parsers read HOST:PORT as an opaque path and
		// quietly connect to localhost on the default port instead.
		if !strings.HasPrefix(rest, "//") {
			return nil, "", fmt.Errorf("store: %s needs a URL, as in %s://HOST:PORT/...; got %s:%s", kind, kind, kind, redactBare(rest))
		}
		if kind == "redis" || kind == "rediss" {
			return openRedis(ctx, spec)
		}
		return openPostgres(ctx, spec)
	}
	return nil, "", fmt.Errorf("store: unknown kind %q: want one of %s", kind, strings.Join(storeKinds, ", "))
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
		// The parse error quotes the URL, password and all: keep only a
		// redacted copy of its text.
		return nil, "", fmt.Errorf("store: redis URL %s: %s", redact(spec), scrub(err.Error(), spec))
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
	return owned(s, client), "redis " + redact(spec), nil
}

func openPostgres(ctx context.Context, spec string) (store, string, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	pool, err := pgxpool.New(ctx, spec)
	if err != nil {
		// pgx's parse errors do not repeat the password today; scrub them
		// anyway, as the redis path must.
		return nil, "", fmt.Errorf("store: postgres URL %s: %s", redact(spec), scrub(err.Error(), spec))
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
	return owned(s, closerFunc(func() error { pool.Close(); return nil })), "postgres " + redact(spec), nil
}

// redact returns the URL spec with any password replaced by "xxxxx", for
// logs. A URL that does not parse still has its password replaced.
func redact(spec string) string {
	u, err := url.Parse(spec)
	if err != nil {
		return scrub(spec, spec)
	}
	return u.Redacted()
}

// redactBare is redact for what follows "kind:" when it lacks the "//".
func redactBare(rest string) string {
	return strings.TrimPrefix(redact("x://"+rest), "x://")
}

// password returns the password in the user information of the URL spec
// (scheme://user:password@host...), found without a URL parser so that it
// works on URLs that do not parse; "" when there is none.
func password(spec string) string {
	_, rest, ok := strings.Cut(spec, "://")
	if !ok {
		return ""
	}
	// The user information ends at the last "@" before the path.
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(rest[:at], ":")
	return pw
}

// scrub replaces every occurrence of the password of spec in msg, as
// written and as URL-decoded, by "xxxxx".
func scrub(msg, spec string) string {
	pw := password(spec)
	if pw == "" {
		return msg
	}
	msg = strings.ReplaceAll(msg, pw, "xxxxx")
	if dec, err := url.PathUnescape(pw); err == nil && dec != "" {
		msg = strings.ReplaceAll(msg, dec, "xxxxx")
	}
	return msg
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

// owned returns s as a store whose Close also closes client. It has
// exactly the capabilities of s (sessions.Compose): an ownedStore alone
// would have only the methods of the store interface, and hide the
// Indexer, ConditionalWriter and Toucher of the backend from the
// middleware.
func owned(s store, client io.Closer) store {
	o := &ownedStore{store: s, client: client}
	c := sessions.CapabilitiesOf(s)
	c.Closer = o
	return sessions.Compose(o, c).(store) // Closer is set: the result is a store
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }
