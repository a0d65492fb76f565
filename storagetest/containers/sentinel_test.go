package containers

import (
	"context"
	"testing"
	"time"
)

// TestRedisSentinelPromotesTheReplicaWhenThePrimaryDies checks the setup a
// failover test relies on: the replica follows the primary, three
// sentinels see each other, and killing the primary makes the replica the
// primary by itself.
func TestRedisSentinelPromotesTheReplicaWhenThePrimaryDies(t *testing.T) {
	s := RedisSentinel(t)
	if len(s.SentinelAddrs) != 3 {
		t.Fatalf("RedisSentinel returned %d sentinels; want 3", len(s.SentinelAddrs))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := waitFor(ctx, s.ReplicaAddr, "INFO", "role:slave", "replication"); err != nil {
		t.Fatalf("the replica does not follow the primary: %v", err)
	}
	if err := s.KillPrimary(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pingRedis(ctx, s.PrimaryAddr); err == nil {
		t.Fatalf("the primary still answers after KillPrimary")
	}
	// The hang bound, a minute, is far beyond the second or two a
	// promotion takes.
	if err := waitFor(ctx, s.ReplicaAddr, "INFO", "role:master", "replication"); err != nil {
		t.Fatalf("the sentinels did not promote the replica: %v", err)
	}
}
