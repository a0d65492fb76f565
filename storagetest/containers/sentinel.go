package containers

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
)

// SentinelMaster is the name under which RedisSentinel's sentinels monitor
// the primary, the MasterName of a go-redis FailoverClient.
const SentinelMaster = "sessionkit"

// Sentinel is a Redis primary, one replica and three sentinels monitoring
// them, for failover tests. Its methods may be called from several
// goroutines.
type Sentinel struct {
	// SentinelAddrs are the sentinels' addresses (host:port), the
	// SentinelAddrs of a go-redis FailoverClient.
	SentinelAddrs []string
	// PrimaryAddr and ReplicaAddr are where the primary and the replica
	// listened when the setup started; after a failover the replica is the
	// primary.
	PrimaryAddr, ReplicaAddr string

	primary *testcontainers.DockerContainer
}

// RedisSentinel starts a Redis primary, a replica of it and three sentinels
// (quorum two, a primary down after one second) for t, all from
// EnvRedisImage (default [DefaultRedisImage]) with host networking on free
// loopback ports, so that the addresses the sentinels hand out are usable
// from the host, as with RedisCluster. It returns once the replica is in
// sync and the sentinels see each other (SENTINEL CKQUORUM), and removes
// every container when t ends. It always starts containers. When no engine
// answers or the setup cannot be formed, t is skipped or fails by the
// Require rule.
func RedisSentinel(t testing.TB) *Sentinel {
	t.Helper()
	const what = "Redis Sentinel"
	requireEngine(t, what)
	image := imageFrom(EnvRedisImage, DefaultRedisImage)
	var (
		s   *Sentinel
		err error
	)
	// Host networking binds the servers to ports that were free a moment
	// ago; another process may have taken one since, so try fresh ones.
	for range 3 {
		if s, err = startSentinel(t, image); err == nil || !isPortConflict(err) {
			break
		}
	}
	if err != nil {
		Require(t, what, "%v", err)
	}
	return s
}

func startSentinel(t testing.TB, image string) (*Sentinel, error) {
	t.Helper()
	ports, err := pickPorts("127.0.0.1", 5)
	if err != nil {
		return nil, err
	}
	addr := func(p string) string { return net.JoinHostPort("127.0.0.1", p) }
	s := &Sentinel{PrimaryAddr: addr(ports[0]), ReplicaAddr: addr(ports[1])}
	server := func(name, port string, extra ...string) (*testcontainers.DockerContainer, error) {
		return run(t, spec{
			what: "Redis Sentinel " + name, image: image, hostNet: true,
			cmd:   append(append([]string{"redis-server", "--bind", "127.0.0.1", "--port", port}, redisArgs...), extra...),
			ready: &probeStrategy{addr: addr(port), probe: pingRedis, timeout: startTimeout},
		})
	}
	if s.primary, err = server("primary", ports[0]); err != nil {
		return nil, err
	}
	if _, err = server("replica", ports[1], "--replicaof", "127.0.0.1", ports[0]); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := waitFor(ctx, s.PrimaryAddr, "INFO", "connected_slaves:1"); err != nil {
		return nil, err
	}
	for i, port := range ports[2:] {
		// Sentinel rewrites its configuration file, so it gets one of its
		// own inside the container.
		conf := fmt.Sprintf("port %s\nbind 127.0.0.1\nprotected-mode no\n"+
			"sentinel monitor %s 127.0.0.1 %s 2\n"+
			"sentinel down-after-milliseconds %s 1000\n"+
			"sentinel failover-timeout %s 5000\n"+
			"sentinel parallel-syncs %s 1\n", port, SentinelMaster, ports[0], SentinelMaster, SentinelMaster, SentinelMaster)
		_, err := run(t, spec{
			what: fmt.Sprintf("Redis sentinel %d", i+1), image: image, hostNet: true,
			cmd:   []string{"sh", "-c", "printf '%s' \"$CONF\" > /tmp/sentinel.conf && exec redis-server /tmp/sentinel.conf --sentinel"},
			env:   map[string]string{"CONF": conf},
			ready: &probeStrategy{addr: addr(port), probe: pingRedis, timeout: startTimeout},
		})
		if err != nil {
			return nil, err
		}
		s.SentinelAddrs = append(s.SentinelAddrs, addr(port))
	}
	for _, a := range s.SentinelAddrs {
		if err := waitFor(ctx, a, "SENTINEL", "OK 3 usable", "CKQUORUM", SentinelMaster); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// waitFor polls the command cmd (then args) at addr until its reply
// contains want, or ctx ends.
func waitFor(ctx context.Context, addr, cmd, want string, args ...string) error {
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		got, err := redisCommand(pctx, addr, append([]string{cmd}, args...)...)
		cancel()
		if err == nil {
			if strings.Contains(got, want) {
				return nil
			}
			err = fmt.Errorf("reply lacks %q yet", want)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("containers: %s at %s: %w", cmd, addr, last)
		case <-time.After(probeInterval):
		}
	}
}

// KillPrimary kills the first primary's container at once (no graceful
// shutdown), as a crash would, and returns when it has stopped. The
// sentinels then promote the replica after about a second. ctx bounds the
// call.
func (s *Sentinel) KillPrimary(ctx context.Context) error {
	zero := time.Duration(0)
	if err := s.primary.Stop(ctx, &zero); err != nil {
		return fmt.Errorf("containers: kill the Redis primary: %w", err)
	}
	return nil
}
