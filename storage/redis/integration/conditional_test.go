package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/cache"
	"github.com/sessionkit/sessionkit/storage/redis"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// argsLog records the arguments of every command, and how many round trips
// (single commands or pipelines) carried them.
type argsLog struct {
	mu    sync.Mutex
	trips int
	cmds  [][]string
}

func (l *argsLog) add(cmds ...goredis.Cmder) {
	l.mu.Lock()
	defer l.mu.Unlock()
	counted := false
	for _, c := range cmds {
		switch strings.ToLower(c.Name()) {
		case "hello", "client", "auth", "select":
			continue // a new connection's handshake, not the Store's
		}
		if !counted {
			l.trips++
			counted = true
		}
		var args []string
		for _, a := range c.Args() {
			if b, ok := a.([]byte); ok {
				a = string(b)
			}
			args = append(args, strings.ToLower(fmt.Sprint(a)))
		}
		l.cmds = append(l.cmds, args)
	}
}

func (l *argsLog) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (l *argsLog) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error { l.add(cmd); return next(ctx, cmd) }
}
func (l *argsLog) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error { l.add(cmds...); return next(ctx, cmds) }
}

func (l *argsLog) take() (int, [][]string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, c := l.trips, l.cmds
	l.trips, l.cmds = 0, nil
	return t, c
}

// TestConditionalWritesAreOneSet: Create and Replace are one SET each, the
// condition riding on it (NX or XX, with PXAT when there is an expiry, and
// never KEEPTTL), and ReadWithExpiry is one round trip. The value is the
// frame of no index key (a zero byte), then the content.
func TestConditionalWritesAreOneSet(t *testing.T) {
	client := newClient(t, containers.Redis(t))
	forbidKeysAndFlush(t, client)
	log := &argsLog{}
	client.AddHook(log)
	prefix := uniquePrefix()
	t.Cleanup(func() { deleteKeys(t, client, prefix) })
	s := mustNew(t, client, redis.WithPrefix(prefix))
	ctx := t.Context()
	key := prefix + "id"
	exp := time.Now().Add(time.Hour)
	ms := fmt.Sprint(exp.UnixMilli())

	steps := []struct {
		name string
		call func() error
		want []string
		err  error
	}{
		{"Create", func() error { return s.Create(ctx, "id", exp, writeString("v1")) }, []string{"set", key, "\x00v1", "nx", "pxat", ms}, nil},
		{"CreateLive", func() error { return s.Create(ctx, "id", exp, writeString("v2")) }, []string{"set", key, "\x00v2", "nx", "pxat", ms}, sessions.ErrExists},
		{"ReplaceWithoutExpiry", func() error { return s.Replace(ctx, "id", time.Time{}, writeString("v3")) }, []string{"set", key, "\x00v3", "xx"}, nil},
		{"ReplaceWithExpiry", func() error { return s.Replace(ctx, "id", exp, writeString("v4")) }, []string{"set", key, "\x00v4", "xx", "pxat", ms}, nil},
		{"ReplaceMissing", func() error { return s.Replace(ctx, "gone", exp, writeString("v5")) }, []string{"set", prefix + "gone", "\x00v5", "xx", "pxat", ms}, sessions.ErrNotFound},
		{"CreateWithoutExpiry", func() error { return s.Create(ctx, "new", time.Time{}, writeString("v6")) }, []string{"set", prefix + "new", "\x00v6", "nx"}, nil},
	}
	for _, st := range steps {
		err := st.call()
		if st.err == nil && err != nil || st.err != nil && !errors.Is(err, st.err) {
			t.Errorf("%s returned %v, want %v", st.name, err, st.err)
		}
		trips, cmds := log.take()
		if trips != 1 || len(cmds) != 1 || !slices.Equal(cmds[0], st.want) {
			t.Errorf("%s sent %q in %d round trips, want exactly %q", st.name, cmds, trips, st.want)
		}
	}
	// A Replace with the zero expiry leaves the key with none: XX without
	// KEEPTTL drops the old TTL.
	if err := s.Write(ctx, "ttl", exp, writeString("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Replace(ctx, "ttl", time.Time{}, writeString("y")); err != nil {
		t.Fatal(err)
	}
	if pttl, err := client.PTTL(ctx, prefix+"ttl").Result(); err != nil || pttl != -1 {
		t.Errorf("PTTL after Replace with the zero expiry = %v, %v; want -1 (no expiry)", pttl, err)
	}
	log.take()
	var gotExp time.Time
	if err := s.ReadWithExpiry(ctx, "id", func(r io.Reader, e time.Time) error { gotExp = e; return nil }); err != nil {
		t.Fatal(err)
	}
	if !gotExp.Equal(time.UnixMilli(exp.UnixMilli())) {
		t.Errorf("ReadWithExpiry reported %v, want %v to the millisecond", gotExp, exp)
	}
	trips, cmds := log.take()
	var names []string
	for _, c := range cmds {
		names = append(names, c[0])
	}
	if trips != 1 || !slices.Equal(names, []string{"multi", "get", "pexpiretime", "exec"}) {
		t.Errorf("ReadWithExpiry sent %q in %d round trips, want MULTI GET PEXPIRETIME EXEC in one", names, trips)
	}
}

// TestCacheKeepsLoadedValuesAfterReopen: a cache in front of a new Store,
// as after a restart, caches what it loads, because the Store reports
// expiries (ReadWithExpiry). n sessions, each read ten times: the first
// read of each misses and loads, the other nine hit.
func TestCacheKeepsLoadedValuesAfterReopen(t *testing.T) {
	client := newClient(t, containers.Redis(t))
	forbidKeysAndFlush(t, client)
	prefix := uniquePrefix()
	t.Cleanup(func() { deleteKeys(t, client, prefix) })
	const n, reads = 100, 10
	ctx := t.Context()
	before := mustNew(t, client, redis.WithPrefix(prefix))
	for i := range n {
		if err := before.Write(ctx, fmt.Sprintf("s-%03d", i), time.Now().Add(time.Hour), writeString(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	before.Close()

	c := cache.New(mustNew(t, client, redis.WithPrefix(prefix)))
	defer c.Close()
	for range reads {
		for i := range n {
			if got, err := readString(ctx, c, fmt.Sprintf("s-%03d", i)); err != nil || got != fmt.Sprint(i) {
				t.Fatalf("Read through the cache = %q, %v; want %q", got, err, fmt.Sprint(i))
			}
		}
	}
	st, _ := cache.StatsOf(c)
	ratio := float64(st.Hits) / float64(st.Hits+st.Misses)
	t.Logf("cache over redis after a reopen: %d hits, %d misses, %d loads: hit ratio %.2f", st.Hits, st.Misses, st.Loads, ratio)
	if st.Hits != n*(reads-1) || st.Misses != n {
		t.Errorf("cache over redis after a reopen: %d hits and %d misses for %d reads of %d sessions; want %d hits and %d misses (every value loaded once is kept)", st.Hits, st.Misses, n*reads, n, n*(reads-1), n)
	}
}
