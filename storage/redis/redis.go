package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
)

// Compile-time checks of the capabilities Store promises.
var (
	_ sessions.Storage = (*Store)(nil)
	_ sessions.Toucher = (*Store)(nil)
	_ sessions.Lister  = (*Store)(nil)
	_ io.Closer        = (*Store)(nil)
)

// New returns a Store that keeps sessions in the Redis deployment client
// talks to: a single server (*goredis.Client), a Sentinel-managed primary
// (goredis.NewFailoverClient), or a Cluster (*goredis.ClusterClient); any
// client made by goredis.NewUniversalClient works.
//
// The Store never closes client: the caller owns it and closes it after the
// Store is no longer used. [Store.Close] only marks the Store closed.
//
// Deadlines: go-redis applies a context's deadline to network reads and
// writes only when the client was created with ContextTimeoutEnabled set to
// true; otherwise its ReadTimeout and WriteTimeout bound each call. Create
// the client with ContextTimeoutEnabled: true so that every Store call
// returns by its context's deadline.
//
// A *goredis.Client (a single server, or Sentinel through
// goredis.NewFailoverClient) holds every key on one server, and an indexed
// write is one MULTI/EXEC; any other client, a Cluster or a Ring, gets the
// three-round-trip order the package documentation describes.
//
// New returns an error if client is nil or an option is invalid (an empty
// prefix, a SCAN count below 1). It sends no command.
func New(client goredis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("sessionkit/redis: New: nil client")
	}
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if o.err != nil {
		return nil, o.err
	}
	_, oneNode := client.(*goredis.Client)
	return &Store{
		client:    client,
		prefix:    o.prefix,
		pattern:   escapeGlob(o.prefix) + "*",
		scanCount: o.scanCount,
		oneNode:   oneNode,
	}, nil
}

// Write implements [sessions.Storage] in one command: SET key value PXAT ms,
// or a plain SET for the zero expires, or DEL when expires is already past
// by the local clock. The value is the frame of no index key (one zero
// byte) and the content: a Write files the entry under no index key, and
// the set it was filed under, if any, keeps a stale member that ReadIndex
// skips and removes. write runs before anything is sent, so a failing
// write sends nothing. Redis keeps the expiry with millisecond resolution
// (expires is truncated, never extended) and judges it by the server's
// clock. Driver errors are wrapped.
func (s *Store) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.check(ctx, "write", id); err != nil {
		return err
	}
	return sessions.WriteBuffered(framed("", write), func(data []byte) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sessionkit/redis: write: %w", err)
		}
		key := s.prefix + id
		var cmd goredis.Cmder
		switch {
		case expires.IsZero():
			cmd = goredis.NewStatusCmd(ctx, "set", key, data)
		case !expires.After(time.Now()):
			cmd = goredis.NewIntCmd(ctx, "del", key)
		default:
			cmd = goredis.NewStatusCmd(ctx, "set", key, data, "pxat", expires.UnixMilli())
		}
		if err := s.client.Process(ctx, cmd); err != nil {
			return wrap(ctx, "write", err)
		}
		return nil
	})
}

// Read implements [sessions.Storage] with one GET; Redis never returns an
// expired key. read gets the content without the frame. A value that does
// not start with a frame (not written by a Store) is an error. Driver
// errors are wrapped.
func (s *Store) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	if err := s.check(ctx, "read", id); err != nil {
		return err
	}
	v, err := s.client.Get(ctx, s.prefix+id).Result()
	if err != nil {
		if errors.Is(err, goredis.Nil) {
			return errNotFound
		}
		return wrap(ctx, "read", err)
	}
	_, content, ok := parseFrame(v)
	if !ok {
		return errMalformed
	}
	return read(strings.NewReader(content))
}

// Invalidate implements [sessions.Storage] with one DEL. Driver errors are
// wrapped.
func (s *Store) Invalidate(ctx context.Context, id string) error {
	if err := s.check(ctx, "invalidate", id); err != nil {
		return err
	}
	if err := s.client.Del(ctx, s.prefix+id).Err(); err != nil {
		return wrap(ctx, "invalidate", err)
	}
	return nil
}

// Touch implements [sessions.Toucher] and keeps the entry's filing: the set
// of the index key the entry is filed under must outlive it, so Touch moves
// the set's expiry too, before the entry's.
//
// For a future or zero expires, Touch runs a small Lua script on the key
// (EVALSHA, falling back to EVAL once per server) that reads the frame
// (GETRANGE key 0 128) and, for an entry filed under no index key, moves
// the expiry (PEXPIREAT, or PERSIST for the zero Time, with EXISTS to tell
// a missing key from one without expiry): one round trip. For an entry
// filed under an index key the script changes nothing and names the key;
// Touch then re-files the entry in that set (ZADD, PEXPIREAT NX and GT to
// the new expiry) and runs the script again expecting that index key: one
// MULTI/EXEC more on a single server, two round trips more on a Cluster,
// the set first. An entry that moves to another index key meanwhile is
// followed, a few times at most.
//
// For an expires already past by the local clock, Touch sends DEL: the
// entry ends, and its filing is stale.
func (s *Store) Touch(ctx context.Context, id string, expires time.Time) error {
	if err := s.check(ctx, "touch", id); err != nil {
		return err
	}
	if expires.IsZero() || expires.After(time.Now()) {
		return s.touchIndexed(ctx, id, expires)
	}
	n, err := s.client.Del(ctx, s.prefix+id).Result()
	if err != nil {
		return wrap(ctx, "touch", err)
	}
	if n == 0 {
		return errNotFound
	}
	return nil
}

// List yields the id of every live session under the Store's prefix, each
// once, using SCAN MATCH prefix* COUNT n: on a Cluster it scans every master
// in turn, on a Ring every live shard. It never runs KEYS, so it does not
// block the server, and it never yields keys outside the prefix or keys whose
// remainder is not a valid session id, such as the sets that file entries
// by index key (prefix + "idx:" + index key). Redis does not return
// expired keys.
//
// SCAN may report a key more than once while the server resizes its tables,
// so List remembers the ids it has yielded for the length of one iteration;
// its memory grows with the number of sessions. List is meant for
// administrative tools, not for request paths.
//
// Sessions written or removed while the iteration runs may or may not be
// yielded. A failure, including [sessions.ErrClosed] after Close and the
// context's error, is yielded as ("", err) and ends the iteration. No
// connection is held while the loop body runs.
func (s *Store) List(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := s.ready(ctx, "list"); err != nil {
			yield("", err)
			return
		}
		nodes, err := s.scanners(ctx)
		if err != nil {
			yield("", wrap(ctx, "list", err))
			return
		}
		seen := make(map[string]struct{})
		for _, node := range nodes {
			var cursor uint64
			for {
				if err := s.ready(ctx, "list"); err != nil {
					yield("", err)
					return
				}
				keys, next, err := node.Scan(ctx, cursor, s.pattern, s.scanCount).Result()
				if err != nil {
					yield("", wrap(ctx, "list", err))
					return
				}
				for _, key := range keys {
					id, ok := strings.CutPrefix(key, s.prefix)
					if !ok || sessions.CheckID(id) != nil {
						continue
					}
					if _, dup := seen[id]; dup {
						continue
					}
					seen[id] = struct{}{}
					if !yield(id, nil) {
						return
					}
				}
				if next == 0 {
					break
				}
				cursor = next
			}
		}
	}
}

// Close marks the Store closed: every later call returns an error wrapping
// [sessions.ErrClosed], and an iteration of List in progress ends with it
// before its next SCAN. Close does not close the go-redis client, which
// belongs to the caller. Calls already in flight finish normally. Close is
// safe to call more than once and always returns nil.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}

// scanner is the part of a go-redis client List needs.
type scanner interface {
	Scan(ctx context.Context, cursor uint64, match string, count int64) *goredis.ScanCmd
}

// scanners returns the nodes List must scan: every master of a Cluster, every
// live shard of a Ring, or the client itself. The node clients are collected
// first and scanned one after the other, because ForEachMaster and
// ForEachShard call their function concurrently and an iterator's yield must
// not be.
func (s *Store) scanners(ctx context.Context) ([]scanner, error) {
	var (
		mu    sync.Mutex
		nodes []scanner
	)
	collect := func(_ context.Context, c *goredis.Client) error {
		mu.Lock()
		nodes = append(nodes, c)
		mu.Unlock()
		return nil
	}
	switch c := s.client.(type) {
	case *goredis.ClusterClient:
		if err := c.ForEachMaster(ctx, collect); err != nil {
			return nil, err
		}
	case *goredis.Ring:
		if err := c.ForEachShard(ctx, collect); err != nil {
			return nil, err
		}
	default:
		nodes = append(nodes, s.client)
	}
	return nodes, nil
}

// escapeGlob escapes the characters SCAN MATCH treats specially, so that a
// prefix matches only itself.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\^`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\', '^':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
