package containers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
)

// rawPing sends PING to the Redis server at addr as raw RESP bytes, without
// the package's client, and returns the first reply line.
func rawPing(addr string, timeout time.Duration) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(conn, "*1\r\n$4\r\nPING\r\n"); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSuffix(line, "\r\n"), err
}

// hostPort returns the host:port of a Server's address, which is a DSN for
// PostgreSQL.
func hostPort(t *testing.T, addr string) string {
	t.Helper()
	if !strings.Contains(addr, "://") {
		return addr
	}
	u, err := url.Parse(addr)
	if err != nil {
		t.Fatalf("Addr %q is not a URL: %v", addr, err)
	}
	return u.Host
}

// psql runs a statement with psql inside the server's container and returns
// its unaligned output.
func psql(t *testing.T, s *Server, sql string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code, out, err := s.c.Exec(ctx, []string{"psql", "-U", postgresUser, "-d", postgresDB, "-v", "ON_ERROR_STOP=1", "-tAc", sql}, tcexec.Multiplexed())
	if err != nil {
		return "", err
	}
	b, _ := io.ReadAll(out)
	if code != 0 {
		return "", fmt.Errorf("psql exited with %d: %s", code, b)
	}
	return strings.TrimSpace(string(b)), nil
}

// kinds lists the two servers a fault test runs against, each with a
// request that succeeds only when the server answers.
var kinds = []struct {
	name    string
	start   func(testing.TB) *Server
	request func(ctx context.Context, addr string) error
}{
	{"Redis", RedisServer, pingRedis},
	{"Postgres", PostgresServer, pgReady},
}

func TestRedisAnswersPingOverRawTCP(t *testing.T) {
	t.Parallel()
	addr := Redis(t)
	got, err := rawPing(addr, 5*time.Second)
	if err != nil || got != "+PONG" {
		t.Fatalf("PING to %s = %q, %v; want +PONG", addr, got, err)
	}
}

func TestPostgresDSNCompletesStartupHandshake(t *testing.T) {
	t.Parallel()
	dsn := Postgres(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("DSN %q does not parse: %v", dsn, err)
	}
	if u.Scheme != "postgres" || u.Query().Get("sslmode") != "disable" || u.User.Username() == "" || u.Path == "" {
		t.Fatalf("DSN %q: want postgres://user@host:port/db?sslmode=disable", dsn)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := pgHandshake(ctx, u.Host, u.User.Username(), strings.TrimPrefix(u.Path, "/")); err != nil {
		t.Fatalf("startup handshake with %s: %v", u.Host, err)
	}
}

func TestPostgresServerRunsQueries(t *testing.T) {
	t.Parallel()
	s := PostgresServer(t)
	got, err := psql(t, s, "select 1")
	if err != nil || got != "1" {
		t.Fatalf("psql select 1 = %q, %v; want 1", got, err)
	}
}

func TestStopRefusesConnectionsAndStartRestoresThemOnTheSameAddr(t *testing.T) {
	t.Parallel()
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			s := k.start(t)
			addr := s.Addr()
			hp := hostPort(t, addr)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := s.Start(ctx); err != nil {
				t.Fatalf("Start on a running server: %v; want a no-op", err)
			}
			if k.name == "Postgres" {
				if _, err := psql(t, s, "create table survives (x int); insert into survives values (42)"); err != nil {
					t.Fatal(err)
				}
			}

			if err := s.Stop(ctx); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if c, err := net.DialTimeout("tcp", hp, 2*time.Second); err == nil {
				c.Close()
				t.Fatalf("dial %s succeeded after Stop; want refused", hp)
			}
			if err := s.Stop(ctx); err != nil {
				t.Fatalf("second Stop: %v; want no-op", err)
			}

			if err := s.Start(ctx); err != nil {
				t.Fatalf("Start: %v", err)
			}
			if got := s.Addr(); got != addr {
				t.Fatalf("Addr after Start = %q; want unchanged %q", got, addr)
			}
			rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
			defer rcancel()
			if err := k.request(rctx, hp); err != nil {
				t.Fatalf("request to %s right after Start: %v", hp, err)
			}
			if k.name == "Postgres" {
				if got, err := psql(t, s, "select x from survives"); err != nil || got != "42" {
					t.Fatalf("after restart, select = %q, %v; want the row written before Stop", got, err)
				}
			}
		})
	}
}

func TestPauseStallsRequestsAndUnpauseAnswersThem(t *testing.T) {
	t.Parallel()
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			s := k.start(t)
			hp := hostPort(t, s.Addr())
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()

			if err := s.Pause(ctx); err != nil {
				t.Fatalf("Pause: %v", err)
			}
			const stall = 700 * time.Millisecond
			rctx, rcancel := context.WithTimeout(ctx, stall)
			begin := time.Now()
			err := k.request(rctx, hp)
			rcancel()
			// A stall, not a refusal: the request fails only when its
			// deadline passes.
			if err == nil || time.Since(begin) < stall-50*time.Millisecond {
				t.Fatalf("request while paused: %v after %v; want a timeout after %v", err, time.Since(begin), stall)
			}
			if k.name == "Redis" {
				if got, err := rawPing(hp, stall); err == nil {
					t.Fatalf("raw PING while paused = %q; want a timeout", got)
				} else if ne := net.Error(nil); !errors.As(err, &ne) || !ne.Timeout() {
					t.Fatalf("raw PING while paused: %v; want a timeout error", err)
				}
			}

			if err := s.Unpause(ctx); err != nil {
				t.Fatalf("Unpause: %v", err)
			}
			rctx, rcancel = context.WithTimeout(ctx, 5*time.Second)
			defer rcancel()
			if err := k.request(rctx, hp); err != nil {
				t.Fatalf("request after Unpause: %v", err)
			}
		})
	}
}

func TestStopWorksWhilePaused(t *testing.T) {
	t.Parallel()
	s := RedisServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Pause(ctx); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	begin := time.Now()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop while paused: %v", err)
	}
	// A frozen process cannot handle SIGTERM: without the thaw, Stop would
	// wait out the ten-second grace period and kill it.
	if d := time.Since(begin); d > 8*time.Second {
		t.Errorf("Stop while paused took %v; want a prompt clean shutdown", d)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatalf("Start after Stop while paused: %v", err)
	}
	if got, err := rawPing(s.Addr(), 5*time.Second); err != nil || got != "+PONG" {
		t.Fatalf("PING after restart = %q, %v; want +PONG", got, err)
	}
}

func TestRedisClusterHasThreeMastersAndStateOK(t *testing.T) {
	t.Parallel()
	if os.Getenv(EnvRedisClusterAddrs) != "" {
		t.Skipf("%s is set: the cluster is not one RedisCluster made", EnvRedisClusterAddrs)
	}
	addrs := RedisCluster(t)
	if len(addrs) != 3 {
		t.Fatalf("RedisCluster returned %d seeds %v; want 3", len(addrs), addrs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, a := range addrs {
		info, err := redisCommand(ctx, a, "CLUSTER", "INFO")
		if err != nil {
			t.Fatalf("CLUSTER INFO on %s: %v", a, err)
		}
		for _, want := range []string{"cluster_state:ok", "cluster_known_nodes:3", "cluster_size:3", "cluster_slots_assigned:16384"} {
			if !strings.Contains(info, want+"\r\n") {
				t.Errorf("CLUSTER INFO on %s lacks %s:\n%s", a, want, info)
			}
		}
	}
	nodes, err := redisCommand(ctx, addrs[0], "CLUSTER", "NODES")
	if err != nil {
		t.Fatalf("CLUSTER NODES: %v", err)
	}
	masters := 0
	for line := range strings.Lines(strings.TrimSpace(nodes)) {
		f := strings.Fields(line)
		if len(f) < 3 || !strings.Contains(f[2], "master") {
			continue
		}
		masters++
		// Clients follow the announced addresses; they must be reachable
		// from the host.
		announced, _, _ := strings.Cut(f[1], "@")
		if got, err := rawPing(announced, 5*time.Second); err != nil || got != "+PONG" {
			t.Errorf("announced node address %s: PING = %q, %v", announced, got, err)
		}
	}
	if masters != 3 {
		t.Fatalf("CLUSTER NODES lists %d masters; want 3:\n%s", masters, nodes)
	}
}

func TestEnvVarsAreReturnedWithoutStartingAnything(t *testing.T) {
	// With no engine reachable and servers required, starting a container
	// would fail the test: only the variables can satisfy the helpers.
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	t.Setenv(EnvRequireServers, "1")
	cases := []struct {
		name, env, value string
		call             func(testing.TB) any
		want             any
	}{
		{"Redis", EnvRedisAddr, "redis.example:6380", func(t testing.TB) any { return Redis(t) }, "redis.example:6380"},
		{"Postgres", EnvPostgresDSN, "postgres://u@db.example:5433/x?sslmode=disable", func(t testing.TB) any { return Postgres(t) }, "postgres://u@db.example:5433/x?sslmode=disable"},
		{"RedisCluster", EnvRedisClusterAddrs, " a.example:7000, b.example:7001 ,,c.example:7002", func(t testing.TB) any { return RedisCluster(t) }, []string{"a.example:7000", "b.example:7001", "c.example:7002"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(c.env, c.value)
			if got := c.call(t); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("%s with %s=%q = %#v; want %#v", c.name, c.env, c.value, got, c.want)
			}
		})
	}
}

func TestRequiredParsesTheVariable(t *testing.T) {
	for _, c := range []struct {
		value string
		want  bool
	}{
		{"", false}, {"0", false}, {"false", false}, {" ", false},
		{"1", true}, {"true", true}, {"TRUE", true},
		{"yes", true}, // unparsable: whoever set it meant to require servers
	} {
		t.Setenv(EnvRequireServers, c.value)
		if got := Required(); got != c.want {
			t.Errorf("Required() with %s=%q = %v; want %v", EnvRequireServers, c.value, got, c.want)
		}
	}
}

// helperEnv marks a run of the test binary as a helper process.
const helperEnv = "SESSIONKIT_CONTAINERS_HELPER"

// TestHelperProcess is not a real test: the tests below run the test binary
// again with helperEnv set, to observe how a whole test ends.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process for other tests")
	}
	switch mode {
	case "Redis":
		Redis(t)
	case "Postgres":
		Postgres(t)
	case "RedisCluster":
		RedisCluster(t)
	case "RedisServer":
		RedisServer(t)
	case "PostgresServer":
		PostgresServer(t)
	case "RedisSentinel":
		RedisSentinel(t)
	case "fail-while-paused":
		s := RedisServer(t)
		fmt.Printf("CONTAINER_ID=%s\n", s.containerID())
		if err := s.Pause(context.Background()); err != nil {
			t.Fatalf("Pause: %v", err)
		}
		t.Fatal("deliberate failure with a paused container")
	default:
		t.Fatalf("unknown helper mode %q", mode)
	}
	t.Log("HELPER RETURNED")
}

// runHelper runs TestHelperProcess in mode with env added to (and
// overriding) this process's environment, and returns its output and
// whether it exited successfully.
func runHelper(t *testing.T, mode string, env ...string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.v", "-test.count=1")
	override := map[string]bool{}
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		override[k] = true
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !override[k] {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, helperEnv+"="+mode)
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil && !errors.As(err, new(*exec.ExitError)) {
		t.Fatalf("running the test binary: %v", err)
	}
	return string(out), err == nil
}

func TestRequireServersTurnsSkipIntoFailure(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"Redis", "Postgres", "RedisCluster", "RedisServer", "PostgresServer", "RedisSentinel"} {
		for _, c := range []struct {
			require  string
			wantFail bool
		}{{"", false}, {"0", false}, {"1", true}} {
			t.Run(fmt.Sprintf("%s/require=%q", mode, c.require), func(t *testing.T) {
				t.Parallel()
				out, ok := runHelper(t, mode,
					"DOCKER_HOST=unix:///nonexistent/docker.sock",
					EnvRedisAddr+"=", EnvPostgresDSN+"=", EnvRedisClusterAddrs+"=",
					EnvRequireServers+"="+c.require)
				if strings.Contains(out, "HELPER RETURNED") {
					t.Fatalf("%s returned without a server:\n%s", mode, out)
				}
				if !strings.Contains(out, "no container engine answers") || !strings.Contains(out, "scripts/test-images.sh") {
					t.Errorf("message does not say why or what to do:\n%s", out)
				}
				if c.wantFail {
					if ok || !strings.Contains(out, "--- FAIL: TestHelperProcess") {
						t.Fatalf("with %s=%q the test did not fail:\n%s", EnvRequireServers, c.require, out)
					}
					return
				}
				if !ok || !strings.Contains(out, "--- SKIP: TestHelperProcess") {
					t.Fatalf("with %s=%q the test did not skip:\n%s", EnvRequireServers, c.require, out)
				}
			})
		}
	}
}

// labelled returns the ids of the containers, running or not, that were
// started for the test named name.
func labelled(t *testing.T, name string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	defer cli.Close()
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", labelTest+"="+name),
	})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	var ids []string
	for _, c := range res.Items {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestNoContainerOutlivesItsTest(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		env   string // a variable that makes the helper start nothing
		start func(testing.TB)
		want  int
	}{
		{"Redis", EnvRedisAddr, func(t testing.TB) { Redis(t) }, 1},
		{"Postgres", EnvPostgresDSN, func(t testing.TB) { Postgres(t) }, 1},
		{"RedisCluster", EnvRedisClusterAddrs, func(t testing.TB) { RedisCluster(t) }, 3},
		{"PausedRedisServer", "", func(t testing.TB) {
			if err := RedisServer(t).Pause(context.Background()); err != nil {
				t.Fatal(err)
			}
		}, 1},
		{"StoppedPostgresServer", "", func(t testing.TB) {
			if err := PostgresServer(t).Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
		}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.env != "" && os.Getenv(c.env) != "" {
				t.Skipf("%s is set: %s starts no container", c.env, c.name)
			}
			var name string
			started := false
			t.Run("inner", func(t *testing.T) {
				name = t.Name()
				c.start(t)
				started = true
				if got := len(labelled(t, name)); got != c.want {
					t.Fatalf("%d containers labelled for %s while it runs; want %d", got, name, c.want)
				}
			})
			if !started {
				return // inner skipped (no engine) or failed and said why
			}
			if ids := labelled(t, name); len(ids) != 0 {
				t.Fatalf("containers %v outlived %s", ids, name)
			}
		})
	}
}

func TestContainerIsRemovedWhenTheTestFails(t *testing.T) {
	t.Parallel()
	requireEngine(t, "Redis")
	out, ok := runHelper(t, "fail-while-paused", EnvRequireServers+"=1")
	if strings.Contains(out, "Redis unavailable") {
		Require(t, "Redis", "the helper process could not start a container:\n%s", out)
	}
	if ok || !strings.Contains(out, "deliberate failure") {
		t.Fatalf("helper did not fail as planned:\n%s", out)
	}
	m := regexp.MustCompile(`CONTAINER_ID=([0-9a-f]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("helper printed no container id:\n%s", out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatalf("docker client: %v", err)
	}
	defer cli.Close()
	_, err = cli.ContainerInspect(ctx, m[1], client.ContainerInspectOptions{})
	if !errdefs.IsNotFound(err) {
		t.Fatalf("inspect container %s after its test failed: %v; want not found", m[1], err)
	}
}

// requireContainers ends t by the Require rule unless a container can be
// started here (engine up, image present), and from then on makes any
// failure to start one fail t: what follows must not pass by skipping.
func requireContainers(t *testing.T) {
	t.Helper()
	RedisServer(t)
	t.Setenv(EnvRequireServers, "1")
}

// takeFirstPick makes the next pickPorts call return, in place of its first
// port, one that a listener holds: as if another process bound the port
// between its pick and the container's start. It returns that port. Tests
// using it must not run in parallel (pickPorts is global).
func takeFirstPick(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	_, taken, _ := net.SplitHostPort(l.Addr().String())
	orig, calls := pickPorts, 0
	pickPorts = func(host string, n int) ([]string, error) {
		calls++
		ports, err := orig(host, n)
		if calls == 1 && err == nil {
			ports[0] = taken
		}
		return ports, err
	}
	t.Cleanup(func() { pickPorts = orig })
	return taken
}

func TestServerPicksAnotherPortWhenItsPortIsTaken(t *testing.T) {
	// The engine's docker-proxy reports the conflict; an engine configured
	// without the userland proxy would not, and this test would fail there.
	requireContainers(t)
	taken := takeFirstPick(t)
	s := RedisServer(t)
	_, port, _ := net.SplitHostPort(s.Addr())
	if port == taken {
		t.Fatalf("Addr %s uses the port another process holds", s.Addr())
	}
	if got, err := rawPing(s.Addr(), 5*time.Second); err != nil || got != "+PONG" {
		t.Fatalf("PING = %q, %v; want +PONG", got, err)
	}
}

func TestRedisClusterPicksOtherPortsWhenOneIsTaken(t *testing.T) {
	if os.Getenv(EnvRedisClusterAddrs) != "" {
		t.Skipf("%s is set: RedisCluster starts no container", EnvRedisClusterAddrs)
	}
	requireContainers(t)
	taken := takeFirstPick(t)
	addrs := RedisCluster(t)
	for _, a := range addrs {
		if _, port, _ := net.SplitHostPort(a); port == taken {
			t.Fatalf("cluster seed %s uses the port another process holds", a)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if info, err := redisCommand(ctx, addrs[0], "CLUSTER", "INFO"); err != nil || !strings.Contains(info, "cluster_state:ok") {
		t.Fatalf("CLUSTER INFO = %q, %v; want cluster_state:ok", info, err)
	}
}

func TestIsPortConflictRecognisesEngineAndServerMessages(t *testing.T) {
	for _, c := range []struct {
		msg  string
		want bool
	}{
		{"Error response from daemon: driver failed programming external connectivity on endpoint x: Bind for 127.0.0.1:4000 failed: port is already allocated", true},
		{"listen tcp4 127.0.0.1:4000: bind: address already in use", true},
		{"container log: # Warning: Could not create server TCP listening socket 127.0.0.1:4000: bind: Address already in use", true},
		{"No such image: sessionkit/redis:bookworm", false},
	} {
		if got := isPortConflict(errors.New(c.msg)); got != c.want {
			t.Errorf("isPortConflict(%q) = %v; want %v", c.msg, got, c.want)
		}
	}
	if isPortConflict(nil) {
		t.Error("isPortConflict(nil) = true")
	}
}
