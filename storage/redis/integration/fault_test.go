package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/redis"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// Fault tests: the server fails under a Store that keeps being used. Each
// call runs under a 2s deadline and must return by it (with a generous
// margin for a loaded machine), with an error that says "server down" rather
// than "no session"; once the server is back, the same Store works again.

const (
	opTimeout = 2 * time.Second
	opBound   = 3500 * time.Millisecond // opTimeout plus scheduling slack
	recovery  = 30 * time.Second        // how long the Store may take to recover
)

// faultOps are the calls checked while the server is down.
var faultOps = []struct {
	name string
	call func(ctx context.Context, s *redis.Store) error
}{
	{"Write", func(ctx context.Context, s *redis.Store) error {
		return s.Write(ctx, "faulty", time.Now().Add(time.Hour), writeString("v"))
	}},
	{"Read", func(ctx context.Context, s *redis.Store) error { _, err := readString(ctx, s, "faulty"); return err }},
	{"Invalidate", func(ctx context.Context, s *redis.Store) error { return s.Invalidate(ctx, "faulty") }},
	{"Touch", func(ctx context.Context, s *redis.Store) error {
		return s.Touch(ctx, "kept", time.Now().Add(time.Hour))
	}},
	{"List", func(ctx context.Context, s *redis.Store) error {
		for _, err := range s.List(ctx) {
			if err != nil {
				return err
			}
		}
		return nil
	}},
	{"CreateIndexed", func(ctx context.Context, s *redis.Store) error {
		return s.CreateIndexed(ctx, "faulty-new", "ix", time.Now().Add(time.Hour), writeString("v"))
	}},
	{"ReplaceIndexed", func(ctx context.Context, s *redis.Store) error {
		return s.ReplaceIndexed(ctx, "kept", "ix", time.Now().Add(time.Hour), writeString("v"))
	}},
	{"ReadIndex", func(ctx context.Context, s *redis.Store) error {
		return s.ReadIndex(ctx, "ix", func(string, time.Time, io.Reader) error { return nil })
	}},
}

// checkFailsInTime runs every fault op against a server that is down and
// checks how each fails; deadline says whether the failure must be the
// context's deadline (a stalled server) or may be any network error (a
// stopped one, which refuses connections at once).
func checkFailsInTime(t *testing.T, s *redis.Store, deadline bool) {
	t.Helper()
	for _, op := range faultOps {
		ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
		start := time.Now()
		err := op.call(ctx, s)
		took := time.Since(start)
		cancel()
		switch {
		case err == nil:
			t.Errorf("%s succeeded against a server that is down", op.name)
		case errors.Is(err, sessions.ErrNotFound):
			t.Errorf("%s = %v: a server that is down must not look like a missing session", op.name, err)
		case deadline && !errors.Is(err, context.DeadlineExceeded):
			t.Errorf("%s = %v, want an error wrapping context.DeadlineExceeded", op.name, err)
		case !isServerDown(err):
			t.Errorf("%s = %v, want a network error or context.DeadlineExceeded", op.name, err)
		}
		if took > opBound {
			t.Errorf("%s took %v under a %v deadline, want at most %v", op.name, took, opTimeout, opBound)
		}
	}
}

// roundTrip writes and reads back a fresh value through s.
func roundTrip(ctx context.Context, s *redis.Store) error {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	want := fmt.Sprint(time.Now().UnixNano())
	if err := s.Write(ctx, "kept", time.Now().Add(time.Hour), writeString(want)); err != nil {
		return err
	}
	got, err := readString(ctx, s, "kept")
	if err == nil && got != want {
		err = fmt.Errorf("read %q, want %q", got, want)
	}
	return err
}

// checkRecovers retries roundTrip until it succeeds, without rebuilding s.
func checkRecovers(t *testing.T, s *redis.Store) {
	t.Helper()
	deadline := time.Now().Add(recovery)
	for {
		err := roundTrip(t.Context(), s)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Store did not recover within %v after the server came back: %v", recovery, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// faultSetup starts a server of its own for t and a Store on it.
func faultSetup(t *testing.T) (*containers.Server, *redis.Store, *goredis.Client, int) {
	srv := containers.RedisServer(t)
	baseline := len(driverGoroutines())
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
	s := mustNew(t, client)
	if err := roundTrip(t.Context(), s); err != nil {
		t.Fatalf("the Store does not work before the fault: %v", err)
	}
	return srv, s, client, baseline
}

func TestStoppedServerFailsWithinDeadlineAndRecovers(t *testing.T) {
	srv, s, client, baseline := faultSetup(t)
	if err := srv.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkFailsInTime(t, s, false)
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkRecovers(t, s)

	s.Close()
	client.Close()
	checkNoLeak(t, baseline)
}

func TestPausedServerFailsAtTheDeadlineAndRecovers(t *testing.T) {
	srv, s, client, baseline := faultSetup(t)
	if err := srv.Pause(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkFailsInTime(t, s, true)
	if err := srv.Unpause(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkRecovers(t, s)

	s.Close()
	client.Close()
	checkNoLeak(t, baseline)
}

// TestLeakCheckSeesADialingPool proves checkNoLeak has teeth: a pool that
// cannot reach its server starts a goroutine that keeps dialing until the
// client is closed, and the check must see it while it runs.
func TestLeakCheckSeesADialingPool(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	baseline := len(driverGoroutines())
	client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true, PoolSize: 1})
	s := mustNew(t, client)
	seen := false
	for i := 0; i < 50 && !seen; i++ {
		roundTrip(t.Context(), s)
		seen = len(driverGoroutines()) > baseline
	}
	if !seen {
		t.Fatal("a pool failing to dial ran no go-redis goroutine: the leak check cannot see a leak")
	}
	client.Close()
	checkNoLeak(t, baseline)
}
