package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/boj/redistore"
	fiberredis "github.com/gofiber/storage/redis/v3"
	"github.com/gomodule/redigo/redis"
	"github.com/gorilla/securecookie"
	gsessions "github.com/gorilla/sessions"
	"github.com/jackc/pgx/v5"
)

// peerHashKey signs the cookies of the gorilla-based peers. A fixed key
// keeps runs comparable; nothing here is secret.
var peerHashKey = []byte("sessionbench-peer-hash-key-32-by")

func peerSubjects() []Subject {
	return []Subject{
		{
			Name: "scs/memstore", Kind: KindMemory, Role: Peer,
			Note: "Commit keeps the caller's slice and Find returns the stored one: no copy either way",
			Open: func(context.Context, Env) (Store, error) {
				// No cleanup goroutine: nothing expires within a run.
				return &scsStore{s: memstore.NewWithCleanupInterval(0)}, nil
			},
		},
		{
			Name: "gorilla/filesystem", Kind: KindDirectory, Role: Peer,
			Note: "FilesystemStore through New/Save: gob + HMAC of the values, os.WriteFile in place under a process-wide lock, a signed cookie per Save; no server-side expiry",
			Open: func(_ context.Context, env Env) (Store, error) {
				st := gsessions.NewFilesystemStore(env.Dir, peerHashKey)
				st.MaxLength(0) // the default 4096 refuses the larger payloads
				return newGorillaStore(st, st.Codecs, nil), nil
			},
		},
		{
			Name: "scs/goredisstore", Kind: KindRedis, Role: Peer, Needs: RedisServer,
			Note: "go-redis GET, SET PX (copies the value into a string)",
			Open: func(ctx context.Context, env Env) (Store, error) {
				const prefix = "sessionbench:scs:"
				client, err := openRedis(ctx, env)
				if err != nil {
					return nil, err
				}
				return &scsStore{
					s:     goredisstore.NewWithPrefix(client, prefix),
					close: func() error { return closeRedis(client, prefix) },
				}, nil
			},
		},
		{
			Name: "gofiber/redis", Kind: KindRedis, Role: Peer, Needs: RedisServer,
			Note: "storage/redis/v3 over the same go-redis client: GET, SET PX",
			Open: func(ctx context.Context, env Env) (Store, error) {
				const prefix = "sessionbench:fiber:"
				client, err := openRedis(ctx, env)
				if err != nil {
					return nil, err
				}
				return &fiberStore{s: fiberredis.NewFromConnection(client), prefix: prefix,
					close: func() error { return closeRedis(client, prefix) }}, nil
			},
		},
		{
			Name: "gorilla/redistore", Kind: KindRedis, Role: Peer, Needs: RedisServer,
			Note: "boj/redistore through New/Save (redigo, gob of the values, a signed cookie per Save); its pool without the PING on every borrow that NewRediStore adds",
			Open: openRediStore,
		},
		{
			Name: "scs/pgxstore", Kind: KindPostgres, Role: Peer, Needs: PostgresServer,
			Note: "pgx pool: SELECT ... current_timestamp < expiry, INSERT ... ON CONFLICT DO UPDATE; no context (context.Background)",
			Open: openPgxStore,
		},
	}
}

// scsAPI is the store interface of scs v2 (scs.Store), plus the context
// variant the go-redis store has.
type scsAPI interface {
	Find(token string) ([]byte, bool, error)
	Commit(token string, b []byte, expiry time.Time) error
}

type scsCtxAPI interface {
	FindCtx(ctx context.Context, token string) ([]byte, bool, error)
	CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error
}

// scsStore drives an scs store through its own API, with the context
// methods when the store has them.
type scsStore struct {
	s     scsAPI
	close func() error
}

func (s *scsStore) Close() error {
	if s.close == nil {
		return nil
	}
	return s.close()
}

func (s *scsStore) NewWorker() Worker { return s }

func (s *scsStore) Read(ctx context.Context, id string) (int, error) {
	var (
		b     []byte
		found bool
		err   error
	)
	if c, ok := s.s.(scsCtxAPI); ok {
		b, found, err = c.FindCtx(ctx, id)
	} else {
		b, found, err = s.s.Find(id)
	}
	if err != nil {
		return 0, err
	}
	if !found {
		return 0, errNotFound
	}
	return len(b), nil
}

func (s *scsStore) Write(ctx context.Context, id string, payload []byte, expires time.Time) error {
	if c, ok := s.s.(scsCtxAPI); ok {
		return c.CommitCtx(ctx, id, payload, expires)
	}
	return s.s.Commit(id, payload, expires)
}

// fiberStore drives a gofiber storage through its own API.
type fiberStore struct {
	s      *fiberredis.Storage
	prefix string
	close  func() error
}

func (s *fiberStore) Close() error      { return s.close() }
func (s *fiberStore) NewWorker() Worker { return s }

func (s *fiberStore) Read(ctx context.Context, id string) (int, error) {
	b, err := s.s.GetWithContext(ctx, s.prefix+id)
	if err != nil {
		return 0, err
	}
	if b == nil {
		return 0, errNotFound
	}
	return len(b), nil
}

func (s *fiberStore) Write(ctx context.Context, id string, payload []byte, expires time.Time) error {
	return s.s.SetWithContext(ctx, s.prefix+id, payload, time.Until(expires))
}

func openRediStore(ctx context.Context, env Env) (Store, error) {
	const prefix = "sessionbench:redistore:"
	// A go-redis client of its own removes the keys at the end, and checks
	// the server is there before redigo's pool is made.
	cleanup, err := openRedis(ctx, env)
	if err != nil {
		return nil, err
	}
	n := RedisPoolSize()
	pool := &redis.Pool{
		MaxIdle:     n,
		MaxActive:   n,
		Wait:        true,
		IdleTimeout: 240 * time.Second,
		DialContext: func(ctx context.Context) (redis.Conn, error) {
			return redis.DialContext(ctx, "tcp", env.RedisAddr)
		},
	}
	st, err := redistore.NewRediStoreWithPool(pool, peerHashKey)
	if err != nil {
		pool.Close()
		cleanup.Close()
		return nil, err
	}
	st.SetMaxLength(0) // the default 4096 refuses the larger payloads
	st.SetKeyPrefix(prefix)
	return newGorillaStore(st, st.Codecs, func() error {
		return errors.Join(st.Close(), closeRedis(cleanup, prefix))
	}), nil
}

func openPgxStore(ctx context.Context, env Env) (Store, error) {
	// pgxstore's table name is fixed; the pool's search_path puts it in
	// benchSchema. The statements are those of scs's README.
	const table = "sessions"
	pool, err := openPostgres(ctx, env)
	if err != nil {
		return nil, err
	}
	t := pgx.Identifier{benchSchema, table}.Sanitize()
	_, err = pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+t+` (
		token TEXT PRIMARY KEY,
		data BYTEA NOT NULL,
		expiry TIMESTAMPTZ NOT NULL);
		CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON `+t+` (expiry)`)
	if err != nil {
		closePostgres(pool, table)
		return nil, fmt.Errorf("benchmarks: Postgres: create table: %w", err)
	}
	return &scsStore{
		// No cleanup goroutine: nothing expires within a run, and
		// StopCleanup races with the goroutine's start in this version.
		s:     pgxstore.NewWithCleanupInterval(pool, 0),
		close: func() error { return closePostgres(pool, table) },
	}, nil
}

// gorillaAPI is the part of gorilla/sessions' Store that loads a session
// without the per-request registry, and saves one.
type gorillaAPI interface {
	gsessions.Store
	New(r *http.Request, name string) (*gsessions.Session, error)
	Save(r *http.Request, w http.ResponseWriter, s *gsessions.Session) error
}

// gorillaCookie is the name of the gorilla peers' session cookie.
const gorillaCookie = "gsession"

// gorillaStore drives a gorilla/sessions server-side store. Its API is
// request-based: a read is New on a request whose cookie carries the
// signed id, a write is Save of a session holding the payload as its one
// value. The signed cookie of each id is made once and reused.
type gorillaStore struct {
	st       gorillaAPI
	codecs   []securecookie.Codec
	close    func() error
	requests sync.Map // id -> *http.Request carrying its cookie
}

func newGorillaStore(st gorillaAPI, codecs []securecookie.Codec, closeFn func() error) *gorillaStore {
	return &gorillaStore{st: st, codecs: codecs, close: closeFn}
}

func (s *gorillaStore) Close() error {
	if s.close == nil {
		return nil
	}
	return s.close()
}

func (s *gorillaStore) NewWorker() Worker {
	return &gorillaWorker{s: s, w: newDiscardWriter(), r: &http.Request{Header: http.Header{}}}
}

func (s *gorillaStore) request(id string) (*http.Request, error) {
	if r, ok := s.requests.Load(id); ok {
		return r.(*http.Request), nil
	}
	v, err := securecookie.EncodeMulti(gorillaCookie, id, s.codecs...)
	if err != nil {
		return nil, err
	}
	r := &http.Request{Header: http.Header{"Cookie": {gorillaCookie + "=" + v}}}
	s.requests.Store(id, r)
	return r, nil
}

type gorillaWorker struct {
	s *gorillaStore
	w *discardWriter
	r *http.Request // for Save, which needs one but reads nothing from it
}

func (w *gorillaWorker) Read(_ context.Context, id string) (int, error) {
	r, err := w.s.request(id)
	if err != nil {
		return 0, err
	}
	sess, err := w.s.st.New(r, gorillaCookie)
	if err != nil {
		return 0, err
	}
	if sess.IsNew {
		return 0, errNotFound
	}
	b, _ := sess.Values["d"].([]byte)
	return len(b), nil
}

func (w *gorillaWorker) Write(_ context.Context, id string, payload []byte, expires time.Time) error {
	sess := gsessions.NewSession(w.s.st, gorillaCookie)
	sess.ID = id
	sess.IsNew = false
	sess.Options = &gsessions.Options{Path: "/", MaxAge: int(time.Until(expires) / time.Second), HttpOnly: true}
	sess.Values["d"] = payload
	w.w.reset()
	return w.s.st.Save(w.r, w.w, sess)
}

// discardWriter is an http.ResponseWriter that keeps the headers, to be
// reset between requests, and discards the body.
type discardWriter struct {
	h      http.Header
	status int
}

func newDiscardWriter() *discardWriter { return &discardWriter{h: make(http.Header)} }

func (d *discardWriter) Header() http.Header { return d.h }

func (d *discardWriter) Write(p []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	return len(p), nil
}

func (d *discardWriter) WriteHeader(status int) {
	if d.status == 0 {
		d.status = status
	}
}

// reset empties the headers, keeping the map's memory, as a server does
// between requests on one connection.
func (d *discardWriter) reset() {
	clear(d.h)
	d.status = 0
}
