package containers

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
)

// clusterNodes is the number of masters RedisCluster starts: the fewest
// redis-cli --cluster create accepts.
const clusterNodes = 3

// RedisCluster returns the seed addresses (host:port) of a Redis Cluster of
// three masters without replicas for t.
//
// When EnvRedisClusterAddrs is set, RedisCluster returns its comma-separated
// addresses (spaces trimmed, empty entries dropped) and starts nothing; a
// value with no address in it ends t by the Require rule. Otherwise it starts three containers from
// EnvRedisImage (default [DefaultRedisImage]) with host networking, each on
// free loopback ports, joins them with redis-cli --cluster create, waits
// until every node reports cluster_state:ok, and removes them when t ends.
//
// Host networking is what makes the cluster usable from the host: nodes
// announce the address they listen on (127.0.0.1 and their own port), which
// clients follow on redirects, whereas behind port mappings they would
// announce container addresses the host cannot reach. It needs an engine on
// this machine running Linux containers natively (not Docker Desktop's VM).
// When no engine answers or the cluster cannot be formed, t is skipped or
// fails by the Require rule.
func RedisCluster(t testing.TB) []string {
	t.Helper()
	const what = "Redis Cluster"
	if v := os.Getenv(EnvRedisClusterAddrs); strings.TrimSpace(v) != "" {
		var addrs []string
		for a := range strings.SplitSeq(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			Require(t, what, "%s=%q names no address", EnvRedisClusterAddrs, v)
		}
		return addrs
	}
	requireEngine(t, what)
	image := imageFrom(EnvRedisImage, DefaultRedisImage)

	const attempts = 3
	var (
		addrs []string
		err   error
	)
	for range attempts {
		addrs, err = startCluster(t, image)
		if err == nil || !isPortConflict(err) {
			break
		}
	}
	if err != nil {
		Require(t, what, "%v", err)
	}
	return addrs
}

// startCluster starts the nodes on fresh ports and forms the cluster. Each
// container's removal is registered with t.Cleanup as it is created.
func startCluster(t testing.TB, image string) (_ []string, err error) {
	t.Helper()
	nodes := make([]*testcontainers.DockerContainer, clusterNodes)
	defer func() {
		if err != nil {
			// Free a failed attempt's nodes now rather than when t ends;
			// the cleanup registered by run then finds nothing to do.
			for _, n := range nodes {
				if n != nil {
					_ = testcontainers.TerminateContainer(n, testcontainers.StopTimeout(stopTimeout))
				}
			}
		}
	}()
	// A client port and a cluster bus port per node; the bus port is set
	// explicitly because the default (port+10000) may be taken.
	ports, err := pickPorts("127.0.0.1", 2*clusterNodes)
	if err != nil {
		return nil, err
	}
	addrs := make([]string, clusterNodes)
	for i := range clusterNodes {
		port, bus := ports[2*i], ports[2*i+1]
		addrs[i] = net.JoinHostPort("127.0.0.1", port)
		s := spec{
			what:    fmt.Sprintf("Redis Cluster node %d", i+1),
			image:   image,
			hostNet: true,
			cmd: append([]string{
				"redis-server", "--bind", "127.0.0.1", "--port", port,
				"--cluster-enabled", "yes", "--cluster-port", bus,
				"--cluster-config-file", "nodes-" + port + ".conf",
				"--cluster-node-timeout", "5000",
			}, redisArgs...),
			ready: &probeStrategy{addr: addrs[i], probe: pingRedis, timeout: startTimeout},
		}
		if nodes[i], err = run(t, s); err != nil {
			return nil, err
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	create := append([]string{"redis-cli", "--cluster", "create"}, addrs...)
	create = append(create, "--cluster-yes")
	code, out, err := nodes[0].Exec(ctx, create, tcexec.Multiplexed())
	if err != nil {
		return nil, fmt.Errorf("containers: redis-cli --cluster create: %w", err)
	}
	if code != 0 {
		text, _ := io.ReadAll(out)
		return nil, fmt.Errorf("containers: redis-cli --cluster create exited with %d: %s", code, tail(string(text), 2000))
	}
	for _, a := range addrs {
		if err := waitClusterOK(ctx, a); err != nil {
			return nil, err
		}
	}
	return addrs, nil
}

// waitClusterOK polls CLUSTER INFO on the node at addr until it reports
// cluster_state:ok or ctx ends.
func waitClusterOK(ctx context.Context, addr string) error {
	var last error
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		info, err := redisCommand(pctx, addr, "CLUSTER", "INFO")
		cancel()
		if err == nil {
			if strings.Contains(info, "cluster_state:ok") {
				return nil
			}
			err = fmt.Errorf("cluster_state is not ok yet")
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("containers: Redis Cluster node %s not ok: %w", addr, last)
		case <-time.After(probeInterval):
		}
	}
}
