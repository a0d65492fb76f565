package integration

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/redis"
	"github.com/sessionkit/sessionkit/storagetest/containers"
)

// costStep is one Store call and the round trips it may take.
type costStep struct {
	name  string
	call  func(ctx context.Context, s *redis.Store) error
	err   error
	trips int
}

// indexedWriteSteps are the writes of an indexed session's life: the
// plain conditional writes next to the indexed ones they compare with.
func indexedWriteSteps(trips int) []costStep {
	exp := time.Now().Add(time.Hour)
	return []costStep{
		{"Create", func(ctx context.Context, s *redis.Store) error {
			return s.Create(ctx, "plain", exp, writeString("v"))
		}, nil, 1},
		{"CreateIndexed", func(ctx context.Context, s *redis.Store) error {
			return s.CreateIndexed(ctx, "s1", "alice", exp, writeString("v"))
		}, nil, trips},
		{"ReplaceIndexed", func(ctx context.Context, s *redis.Store) error {
			return s.ReplaceIndexed(ctx, "s1", "alice", exp.Add(time.Minute), writeString("v2"))
		}, nil, trips},
		{"ReplaceIndexedMovingIt", func(ctx context.Context, s *redis.Store) error {
			return s.ReplaceIndexed(ctx, "s1", "bob", exp, writeString("v3"))
		}, nil, trips},
		{"CreateIndexedLive", func(ctx context.Context, s *redis.Store) error {
			return s.CreateIndexed(ctx, "s1", "alice", exp, writeString("v"))
		}, sessions.ErrExists, min(trips, 2)},
		{"ReplaceIndexedMissing", func(ctx context.Context, s *redis.Store) error {
			return s.ReplaceIndexed(ctx, "gone", "alice", exp, writeString("v"))
		}, sessions.ErrNotFound, min(trips, 2)},
		{"ReplaceIndexedUnderNone", func(ctx context.Context, s *redis.Store) error {
			return s.ReplaceIndexed(ctx, "s1", "", exp, writeString("v4"))
		}, nil, 1},
		{"Replace", func(ctx context.Context, s *redis.Store) error {
			return s.Replace(ctx, "plain", exp, writeString("v"))
		}, nil, 1},
	}
}

// TestAnIndexedWriteIsOneRoundTripLikeCreate: the filing travels with the
// write. On a single server an indexed write is one MULTI/EXEC, one round
// trip, as Create's SET is; on a Cluster, where the entry and its set are
// in different slots, the documented three (filing, SET, filing again;
// two when the condition fails).
func TestAnIndexedWriteIsOneRoundTripLikeCreate(t *testing.T) {
	for _, d := range []struct {
		deployment
		trips int
	}{{deployments[0], 1}, {deployments[1], 3}} {
		t.Run(d.name, func(t *testing.T) {
			client := d.client(t)
			log := &argsLog{}
			client.AddHook(log)
			prefix := uniquePrefix()
			t.Cleanup(func() { deleteKeys(t, client, prefix) })
			s := mustNew(t, client, redis.WithPrefix(prefix))
			for _, st := range indexedWriteSteps(d.trips) {
				log.take()
				err := st.call(t.Context(), s)
				if st.err == nil && err != nil || st.err != nil && !errors.Is(err, st.err) {
					t.Errorf("%s = %v, want %v", st.name, err, st.err)
				}
				trips, cmds := log.take()
				var names []string
				for _, c := range cmds {
					names = append(names, c[0])
				}
				t.Logf("%s: %d round trip(s): %s", st.name, trips, strings.Join(names, " "))
				if trips != st.trips {
					t.Errorf("%s took %d round trips (%s), want %d", st.name, trips, strings.Join(names, " "), st.trips)
				}
			}
		})
	}
}

// TestTheCommandsOfAnIndexedWrite counts, with the server's INFO
// commandstats, what n indexed writes and n reads of a listing cost: each
// write is MULTI, SET, ZADD, PEXPIREAT (NX), PEXPIREAT (GT), ZCARD, EXEC
// and nothing else; a ReadIndex of k live entries is one ZRANGE and k
// EVALSHA_RO (each running a GET and a PEXPIRETIME inside).
func TestTheCommandsOfAnIndexedWrite(t *testing.T) {
	client := newClient(t, containers.RedisServer(t).Addr())
	ctx := t.Context()
	s := mustNew(t, client, redis.WithPrefix(uniquePrefix()))
	exp := time.Now().Add(time.Hour)
	const n, k = 20, 3
	for i := range k {
		mustCreate(t, s, string(rune('a'+i)), "alice", exp, "v")
	}
	// Load the read script, so that the counts are the steady state's.
	readIndex(t, s, "alice")

	count := func(what string, do func()) map[string]int {
		t.Helper()
		if err := client.ConfigResetStat(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		do()
		info, err := client.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		calls := commandCalls(t, info)
		delete(calls, "info")
		delete(calls, "config|resetstat")
		t.Logf("%s: %v", what, calls)
		return calls
	}
	perWrite := map[string]int{"multi": 1, "set": 1, "zadd": 1, "pexpireat": 2, "zcard": 1, "exec": 1}
	times := func(m map[string]int, n int) map[string]int {
		out := map[string]int{}
		for k, v := range m {
			out[k] = v * n
		}
		return out
	}
	got := count("ReplaceIndexed ×20", func() {
		for i := range n {
			mustReplace(t, s, "a", "alice", exp.Add(time.Duration(i)*time.Second), "v")
		}
	})
	if want := times(perWrite, n); !maps.Equal(got, want) {
		t.Errorf("%d ReplaceIndexed sent %v, want %v", n, got, want)
	}
	got = count("CreateIndexed ×20", func() {
		for i := range n {
			mustCreate(t, s, "new"+string(rune('a'+i)), "bob", exp, "v")
		}
	})
	if want := times(perWrite, n); !maps.Equal(got, want) {
		t.Errorf("%d CreateIndexed sent %v, want %v", n, got, want)
	}
	got = count("ReadIndex of 3 entries ×20", func() {
		for range n {
			if m := readIndex(t, s, "alice"); len(m) != k {
				t.Fatalf("ReadIndex(alice) yielded %d entries, want %d", len(m), k)
			}
		}
	})
	// Commands a script runs count too, next to the EVALSHA_RO itself.
	want := map[string]int{"zrange": n, "evalsha_ro": n * k, "get": n * k, "pexpiretime": n * k}
	if !maps.Equal(got, want) {
		t.Errorf("%d ReadIndex of %d entries sent %v, want %v", n, k, got, want)
	}
	if names := slices.Sorted(maps.Keys(got)); slices.Contains(names, "keys") || slices.Contains(names, "scan") {
		t.Errorf("ReadIndex scanned the store: %v", names)
	}
}
