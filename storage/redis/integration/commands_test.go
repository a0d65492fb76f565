package integration

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/redis"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

func TestEachOperationIsOneCommand(t *testing.T) {
	client := newClient(t, containers.Redis(t))
	log := forbidKeysAndFlush(t, client)
	prefix := uniquePrefix()
	t.Cleanup(func() { deleteKeys(t, client, prefix) })
	s := mustNew(t, client, redis.WithPrefix(prefix))
	ctx := t.Context()

	// Load the Touch script once, so that the steps below see the steady
	// state (EVALSHA) rather than the first call's NOSCRIPT fallback.
	if err := s.Write(ctx, "warm", time.Time{}, writeString("x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, "warm", time.Time{}); err != nil {
		t.Fatal(err)
	}
	log.take()

	steps := []struct {
		name string
		call func() error
		want string
	}{
		{"WriteWithExpiry", func() error {
			return s.Write(ctx, "id1", time.Now().Add(time.Hour), writeString("v"))
		}, "set"},
		{"WriteWithoutExpiry", func() error { return s.Write(ctx, "id2", time.Time{}, writeString("v")) }, "set"},
		{"WriteAlreadyExpired", func() error {
			return s.Write(ctx, "id3", time.Now().Add(-time.Second), writeString("v"))
		}, "del"},
		{"Read", func() error { _, err := readString(ctx, s, "id1"); return err }, "get"},
		{"ReadMissing", func() error {
			if _, err := readString(ctx, s, "nope"); !errors.Is(err, sessions.ErrNotFound) {
				return err
			}
			return nil
		}, "get"},
		// Touch runs a script that reads the frame and, for an entry filed
		// under no index key, moves the expiry.
		{"TouchWithExpiry", func() error { return s.Touch(ctx, "id1", time.Now().Add(2*time.Hour)) }, "evalsha"},
		{"TouchWithoutExpiry", func() error { return s.Touch(ctx, "id1", time.Time{}) }, "evalsha"},
		{"TouchAlreadyExpired", func() error { return s.Touch(ctx, "id2", time.Now().Add(-time.Second)) }, "del"},
		{"Invalidate", func() error { return s.Invalidate(ctx, "id1") }, "del"},
	}
	for _, st := range steps {
		if err := st.call(); err != nil {
			t.Errorf("%s: %v", st.name, err)
			continue
		}
		if got := log.take(); !slices.Equal(got, []string{st.want}) {
			t.Errorf("%s sent %q, want exactly one %s", st.name, got, st.want)
		}
	}
	for _, err := range s.List(ctx) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range log.take() {
		if name != "scan" {
			t.Errorf("List sent %s, want only SCAN", name)
		}
	}
}

func TestTouchWithoutExpiryTellsMissingFromPersistent(t *testing.T) {
	client := newClient(t, containers.Redis(t))
	prefix := uniquePrefix()
	t.Cleanup(func() { deleteKeys(t, client, prefix) })
	s := mustNew(t, client, redis.WithPrefix(prefix))
	ctx := t.Context()
	if err := s.Write(ctx, "persistent", time.Time{}, writeString("v")); err != nil {
		t.Fatal(err)
	}
	// PERSIST answers 0 for both keys below; the Store must not.
	if err := s.Touch(ctx, "persistent", time.Time{}); err != nil {
		t.Errorf("Touch(zero) of a key without expiry = %v, want nil", err)
	}
	if err := s.Touch(ctx, "missing", time.Time{}); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Touch(zero) of a missing key = %v, want ErrNotFound", err)
	}
	if n, err := client.Exists(ctx, prefix+"missing").Result(); err != nil || n != 0 {
		t.Errorf("Touch(zero) of a missing key left EXISTS = %d, %v; want 0", n, err)
	}
	// The script must also survive a SCRIPT FLUSH (a restarted or failed
	// over server): go-redis falls back to EVAL.
	if err := client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, "ttl", time.Now().Add(time.Hour), writeString("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Touch(ctx, "ttl", time.Time{}); err != nil {
		t.Errorf("Touch(zero) after SCRIPT FLUSH = %v, want nil", err)
	}
	if ttl, err := client.PTTL(ctx, prefix+"ttl").Result(); err != nil || ttl != -1 {
		t.Errorf("after Touch(zero) PTTL = %v, %v; want -1 (no expiry)", ttl, err)
	}
}

func TestWriteSetsTheExpiryToTheMillisecond(t *testing.T) {
	client := newClient(t, containers.Redis(t))
	prefix := uniquePrefix()
	t.Cleanup(func() { deleteKeys(t, client, prefix) })
	s := mustNew(t, client, redis.WithPrefix(prefix))
	ctx := t.Context()
	at := time.Now().Add(time.Hour).Truncate(time.Millisecond).Add(999 * time.Microsecond)
	if err := s.Write(ctx, "id", at, writeString("v")); err != nil {
		t.Fatal(err)
	}
	got, err := client.PExpireTime(ctx, prefix+"id").Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Duration(at.UnixMilli()) * time.Millisecond; got != want {
		t.Errorf("PEXPIRETIME = %v, want %v (expires truncated to the millisecond)", got, want)
	}
}

func TestPrefixesIsolateStores(t *testing.T) {
	client := newClient(t, containers.Redis(t))
	forbidKeysAndFlush(t, client)
	ctx := t.Context()
	base := uniquePrefix()
	// The second prefix holds glob characters: unescaped, "[1]" would
	// match the foreign key base+"1:x" below.
	pa, pb := base+"a:", base+"[1]:"
	t.Cleanup(func() { deleteKeys(t, client, base) })
	a := mustNew(t, client, redis.WithPrefix(pa))
	b := mustNew(t, client, redis.WithPrefix(pb))

	for _, id := range []string{"shared", "only-a"} {
		if err := a.Write(ctx, id, time.Now().Add(time.Hour), writeString("a")); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Write(ctx, "shared", time.Time{}, writeString("b")); err != nil {
		t.Fatal(err)
	}
	// Foreign keys: next to the prefixes, and under a prefix but not a
	// session id.
	for _, k := range []string{base + "1:x", base + "ab:x", base + "a", pa + "not/an/id", pa, base + "[1]:" + "bad id"} {
		if err := client.Set(ctx, k, "foreign", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}

	if got, want := listIDs(t, a), []string{"only-a", "shared"}; !slices.Equal(got, want) {
		t.Errorf("List of store a = %q, want %q", got, want)
	}
	if got, want := listIDs(t, b), []string{"shared"}; !slices.Equal(got, want) {
		t.Errorf("List of store b = %q, want %q", got, want)
	}
	if v, err := readString(ctx, b, "shared"); err != nil || v != "b" {
		t.Errorf("store b read %q, %v for the id both wrote; want its own \"b\"", v, err)
	}
	if _, err := readString(ctx, b, "only-a"); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("store b read store a's id: %v, want ErrNotFound", err)
	}
	if err := b.Invalidate(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	if v, err := readString(ctx, a, "shared"); err != nil || v != "a" {
		t.Errorf("after store b invalidated its id, store a read %q, %v; want \"a\"", v, err)
	}
	// Nothing of the foreign keys was touched.
	if n, err := client.Exists(ctx, base+"1:x", base+"ab:x", base+"a", pa+"not/an/id", pa).Result(); err != nil || n != 5 {
		t.Errorf("EXISTS of the foreign keys = %d, %v; want 5", n, err)
	}
}

func TestListScansEveryMasterOfACluster(t *testing.T) {
	client := newClusterClient(t, containers.RedisCluster(t))
	forbidKeysAndFlush(t, client)
	prefix := uniquePrefix()
	t.Cleanup(func() { deleteKeys(t, client, prefix) })
	s := mustNew(t, client, redis.WithPrefix(prefix), redis.WithScanCount(10))
	ctx := t.Context()
	var want []string
	for range 300 {
		id := sessions.NewID()
		want = append(want, id)
		if err := s.Write(ctx, id, time.Now().Add(time.Hour), writeString("v")); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	// The ids must actually be spread: a List that scanned one master only
	// would pass on a cluster where one master holds them all.
	var (
		mu      sync.Mutex
		masters int
	)
	err := client.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
		keys, _, err := c.Scan(ctx, 0, prefix+"*", 1000).Result()
		if len(keys) > 0 {
			mu.Lock()
			masters++
			mu.Unlock()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if masters < 2 {
		t.Fatalf("the ids landed on %d master(s); the test needs them spread over several", masters)
	}
	if got := listIDs(t, s); !slices.Equal(got, want) {
		t.Errorf("List yielded %d ids, want the %d written, each once", len(got), len(want))
	}
}
