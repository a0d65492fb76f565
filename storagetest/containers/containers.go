package containers

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Environment variables read by the helpers. Each is read on every call, so
// a test may set them with t.Setenv.
const (
	// EnvRedisAddr names an existing Redis server as host:port. When set,
	// Redis returns it and starts nothing.
	EnvRedisAddr = "SESSIONKIT_REDIS_ADDR"
	// EnvRedisClusterAddrs names the seed addresses of an existing Redis
	// Cluster, comma-separated. When set, RedisCluster returns them and starts
	// nothing.
	EnvRedisClusterAddrs = "SESSIONKIT_REDIS_CLUSTER_ADDRS"
	// EnvPostgresDSN names an existing PostgreSQL database as a DSN. When
	// set, Postgres returns it and starts nothing.
	EnvPostgresDSN = "SESSIONKIT_POSTGRES_DSN"
	// EnvRedisImage is the image Redis containers run; [DefaultRedisImage]
	// when unset.
	EnvRedisImage = "SESSIONKIT_REDIS_IMAGE"
	// EnvPostgresImage is the image PostgreSQL containers run;
	// [DefaultPostgresImage] when unset.
	EnvPostgresImage = "SESSIONKIT_POSTGRES_IMAGE"
	// EnvRequireServers, when true ("1", "true"; anything strconv.ParseBool
	// accepts), turns every skip for a missing server into a test failure.
	EnvRequireServers = "SESSIONKIT_REQUIRE_SERVERS"
)

// Default images, used when EnvRedisImage or EnvPostgresImage is unset. Both
// are the official images; the images scripts/test-images.sh builds offline
// behave the same way for these helpers.
const (
	DefaultRedisImage    = "redis:7"
	DefaultPostgresImage = "postgres:16"
)

// Timeouts that keep a broken engine or image from hanging a test run.
const (
	// startTimeout bounds creating, starting and waiting for one container.
	startTimeout = 60 * time.Second
	// engineTimeout bounds the engine health check.
	engineTimeout = 15 * time.Second
	// stopTimeout is how long a server gets to exit after its stop signal
	// before it is killed, in Stop and at cleanup.
	stopTimeout = 10 * time.Second
)

// labelTest marks every container with the name of the test that started
// it, so leftovers (there should be none) can be found with
// docker ps -a --filter label=dev.sessionkit.test.
const labelTest = "dev.sessionkit.test"

const hint = "To run these tests, either point them at existing servers (" +
	EnvRedisAddr + ", " + EnvRedisClusterAddrs + ", " + EnvPostgresDSN + "), " +
	"or start a container engine (scripts/ensure-docker.sh) and build the offline images " +
	"(scripts/test-images.sh), then export " +
	EnvRedisImage + "=sessionkit/redis:bookworm " +
	EnvPostgresImage + "=sessionkit/postgres:15-bookworm " +
	"TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1."

// Require reports that the server what (for example "Redis") is unavailable
// for the reason given by format and args, and ends the test: with t.Skip
// normally, or with t.Fatal when EnvRequireServers is true, so that a CI run
// which promised servers cannot pass by skipping. The message names the
// environment variables and scripts that provide servers. Require never
// returns; like t.Skip and t.Fatal it must be called from the goroutine
// running the test.
func Require(t testing.TB, what, format string, args ...any) {
	t.Helper()
	msg := what + " unavailable: " + fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("%s\n%s is set, so a missing server is a failure, not a skip. %s",
			msg, EnvRequireServers, hint)
	}
	t.Skipf("%s\n%s (Set %s=1 to make this a failure.)", msg, hint, EnvRequireServers)
}

// Required reports whether EnvRequireServers is set to a true value, that
// is, whether Require fails tests instead of skipping them. An unparsable
// value counts as true: whoever set the variable meant to require servers.
func Required() bool {
	v := strings.TrimSpace(os.Getenv(EnvRequireServers))
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	return err != nil || b
}

// engine checks that a container engine answers, as
// testcontainers.SkipIfProviderIsNotHealthy does, and returns the host on
// which it publishes ports (TESTCONTAINERS_HOST_OVERRIDE when set).
func engine(ctx context.Context, logger tclog.Logger) (host string, err error) {
	// The docker client has panicked on unusable configurations in some
	// testcontainers versions; SkipIfProviderIsNotHealthy recovers too.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("docker client panicked: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, engineTimeout)
	defer cancel()
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		// testcontainers falls back to the default socket when DOCKER_HOST
		// does not answer. An engine the user named explicitly and that is
		// down is reported instead of silently replaced by another one.
		cli, err := client.New(client.FromEnv)
		if err != nil {
			return "", fmt.Errorf("DOCKER_HOST=%s: %w", h, err)
		}
		_, err = cli.Ping(ctx, client.PingOptions{})
		cli.Close()
		if err != nil {
			return "", fmt.Errorf("DOCKER_HOST=%s: %w", h, err)
		}
	}
	p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(logger))
	if err != nil {
		return "", err
	}
	defer p.Close()
	if err := p.Health(ctx); err != nil {
		return "", err
	}
	return p.DaemonHost(ctx)
}

// requireEngine returns the engine's port host, or ends the test by the
// Require rule when no engine answers.
func requireEngine(t testing.TB, what string) string {
	t.Helper()
	host, err := engine(context.Background(), tclog.TestLogger(t))
	if err != nil {
		Require(t, what, "no container engine answers: %v", err)
	}
	return host
}

// spec describes one container to start.
type spec struct {
	what  string // "Redis", for messages
	image string
	port  string // container port, "6379/tcp"; "" with host networking
	// hostPort is the host port to publish port on: "" for one the engine
	// picks, which may change across a stop and start.
	hostPort string
	// bindIP is the host address port is published on; the zero Addr
	// publishes on every interface.
	bindIP  netip.Addr
	hostNet bool
	cmd     []string
	env     map[string]string
	shmSize int64
	ready   *probeStrategy
}

// run starts the container described by s, registers its removal with
// t.Cleanup (also when starting fails half way), and waits until s.ready
// says the server answers. On error, the container is returned too when one
// was created, so that a caller retrying can remove it at once.
func run(t testing.TB, s spec) (*testcontainers.DockerContainer, error) {
	t.Helper()
	c, err := start(context.Background(), s, t.Name(), tclog.TestLogger(t))
	// Registered before the error check: a container that was created but
	// failed to become ready must be removed too.
	testcontainers.CleanupContainer(t, c, testcontainers.StopTimeout(stopTimeout))
	return c, err
}

// start starts the container described by s, labelled label, and waits
// until s.ready says the server answers; ctx and startTimeout bound it. It
// needs no test: removing the container is the caller's job, also on error,
// when the container is returned too if one was created.
func start(ctx context.Context, s spec, label string, logger tclog.Logger) (*testcontainers.DockerContainer, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()

	var port network.Port
	if !s.hostNet {
		var err error
		if port, err = network.ParsePort(s.port); err != nil {
			return nil, fmt.Errorf("containers: bad port %q: %w", s.port, err)
		}
	}
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithLogger(logger),
		testcontainers.WithLabels(map[string]string{labelTest: label}),
		testcontainers.WithWaitStrategyAndDeadline(startTimeout, s.ready),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			if s.shmSize > 0 {
				hc.ShmSize = s.shmSize
			}
			if s.hostNet {
				hc.NetworkMode = "host"
				return
			}
			hc.PortBindings = network.PortMap{port: {{HostIP: s.bindIP, HostPort: s.hostPort}}}
		}),
	}
	if !s.hostNet {
		opts = append(opts, testcontainers.WithExposedPorts(s.port))
	}
	if len(s.cmd) > 0 {
		opts = append(opts, testcontainers.WithCmd(s.cmd...))
	}
	if len(s.env) > 0 {
		opts = append(opts, testcontainers.WithEnv(s.env))
	}

	c, err := testcontainers.Run(ctx, s.image, opts...)
	if err != nil {
		return c, fmt.Errorf("containers: start %s from image %q: %w", s.what, s.image, err)
	}
	return c, nil
}

// isPortConflict reports whether err says the chosen host port was taken
// between freePorts closing it and the engine (or, with host networking,
// the server) binding it.
func isPortConflict(err error) bool {
	if err == nil {
		return false
	}
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "port is already allocated") ||
		strings.Contains(m, "address already in use")
}

// pickPorts is freePorts; tests replace it to provoke a port conflict.
var pickPorts = freePorts

// freePorts returns n distinct TCP ports on host that were free a moment
// ago. They are released before returning, so another process may take one
// before the container binds it: callers retry on isPortConflict. Holding
// all listeners until the last is picked keeps the ports distinct.
func freePorts(host string, n int) ([]string, error) {
	ports := make([]string, 0, n)
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("containers: pick a free port: %w", err)
		}
		defer l.Close()
		_, p, err := net.SplitHostPort(l.Addr().String())
		if err != nil {
			return nil, fmt.Errorf("containers: pick a free port: %w", err)
		}
		ports = append(ports, p)
	}
	return ports, nil
}

// isLoopback reports whether host names this machine's loopback interface.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// imageFrom returns the image named by the environment variable env, or def.
func imageFrom(env, def string) string {
	if v := strings.TrimSpace(os.Getenv(env)); v != "" {
		return v
	}
	return def
}
