package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/redis"
	"github.com/sessionkit/sessionkit/storagetest"
)

// runID keeps the keys of concurrent test runs against one shared server
// apart.
var runID = func() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}()

var prefixSeq atomic.Int64

// uniquePrefix returns a key prefix no other store of this run uses and that
// is not a prefix of any other one (it ends with a separator).
func uniquePrefix() string {
	return fmt.Sprintf("sktest:%s:%d:", runID, prefixSeq.Add(1))
}

// newClient returns a client for addr that honours context deadlines, closed
// when t ends.
func newClient(t testing.TB, addr string) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// newClusterClient returns a Cluster client for the seed addresses, closed
// when t ends.
func newClusterClient(t testing.TB, addrs []string) *goredis.ClusterClient {
	t.Helper()
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// mustNew is redis.New for options the test knows to be valid.
func mustNew(t testing.TB, client goredis.UniversalClient, opts ...redis.Option) *redis.Store {
	t.Helper()
	s, err := redis.New(client, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runSuite runs storagetest.Run on client: each store gets its own prefix
// on the shared client, and its keys are deleted when its test ends. A
// reopened store is a new Store over the same prefix, as a restarted
// process would make.
func runSuite(t *testing.T, client goredis.UniversalClient) {
	var prefixes sync.Map // *redis.Store -> its prefix
	open := func(t *testing.T, prefix string) sessions.Storage {
		s := mustNew(t, client, redis.WithPrefix(prefix))
		prefixes.Store(s, prefix)
		t.Cleanup(func() { s.Close() })
		return s
	}
	newStorage := func(t *testing.T) sessions.Storage {
		prefix := uniquePrefix()
		t.Cleanup(func() { deleteKeys(t, client, prefix) })
		return open(t, prefix)
	}
	reopen := func(t *testing.T, old sessions.Storage) sessions.Storage {
		prefix, ok := prefixes.Load(old)
		if !ok {
			t.Fatalf("reopen of a storage the suite did not get from newStorage")
		}
		old.(*redis.Store).Close()
		return open(t, prefix.(string))
	}
	storagetest.Run(t, newStorage, storagetest.WithReopen(reopen))
}

// deleteKeys removes every key under prefix with SCAN and DEL, on every
// master of a Cluster. Tests share servers, so they never flush them.
func deleteKeys(t testing.TB, client goredis.UniversalClient, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clean := func(ctx context.Context, c *goredis.Client) error {
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			if err := c.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	var err error
	switch c := client.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, clean)
	case *goredis.Client:
		err = clean(ctx, c)
	default:
		err = fmt.Errorf("unexpected client type %T", client)
	}
	if err != nil {
		t.Errorf("deleting the test's keys: %v", err)
	}
}

// commandLog is a go-redis hook that records the name of every command a
// client sends and reports commands that must never be sent by a Store.
type commandLog struct {
	forbidden func(name string)

	mu    sync.Mutex
	names []string
}

func (l *commandLog) record(cmd goredis.Cmder) {
	name := strings.ToLower(cmd.Name())
	switch name {
	case "keys", "flushdb", "flushall":
		if l.forbidden != nil {
			l.forbidden(name)
		}
	}
	l.mu.Lock()
	l.names = append(l.names, name)
	l.mu.Unlock()
}

func (l *commandLog) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (l *commandLog) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		l.record(cmd)
		return next(ctx, cmd)
	}
}

func (l *commandLog) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, cmd := range cmds {
			l.record(cmd)
		}
		return next(ctx, cmds)
	}
}

// take returns the names recorded since the last call and forgets them.
func (l *commandLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := l.names
	l.names = nil
	return names
}

// forbidKeysAndFlush fails t if the client ever sends KEYS, FLUSHDB or
// FLUSHALL: a Store must work next to other data in a shared database.
func forbidKeysAndFlush(t *testing.T, client goredis.UniversalClient) *commandLog {
	l := &commandLog{forbidden: func(name string) {
		t.Errorf("a client used by a Store sent %s; a Store must never run KEYS, FLUSHDB or FLUSHALL", strings.ToUpper(name))
	}}
	client.AddHook(l)
	return l
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func readString(ctx context.Context, s sessions.Storage, id string) (string, error) {
	var got []byte
	err := s.Read(ctx, id, func(r io.Reader) (err error) {
		got, err = io.ReadAll(r)
		return err
	})
	return string(got), err
}

// listIDs collects what List yields, sorted.
func listIDs(t testing.TB, l sessions.Lister) []string {
	t.Helper()
	var ids []string
	for id, err := range l.List(context.Background()) {
		if err != nil {
			t.Fatalf("List yielded %v", err)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// driverGoroutines returns the stacks of goroutines that run code of
// go-redis or of the Store. Goroutines of the test harness (the container
// engine's HTTP client, say) do not count.
func driverGoroutines() []string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/redis/go-redis/") || strings.Contains(g, "sessionkit/storage/redis.") {
			if !strings.Contains(g, "driverGoroutines") {
				out = append(out, g)
			}
		}
	}
	return out
}

// checkNoLeak fails t unless the driver goroutines fall back to at most
// baseline within 30 seconds (closed connections take a moment to wind
// down).
func checkNoLeak(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		gs := driverGoroutines()
		if len(gs) <= baseline {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d go-redis goroutines still run after the client was closed (%d before it was made):\n%s",
				len(gs), baseline, strings.Join(gs, "\n\n"))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// isServerDown reports whether err says the server could not be reached in
// time: a context deadline, or a network error.
func isServerDown(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr)
}
