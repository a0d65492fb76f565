package containers

import (
	"os"
	"strings"
	"testing"
)

// redisPort is the port Redis listens on inside its container.
const redisPort = "6379/tcp"

// redisArgs make any Redis image a throwaway test server: reachable through
// the port mapping (Debian builds Redis with protected mode on, which drops
// such connections) and without persistence.
var redisArgs = []string{"--protected-mode", "no", "--save", "", "--appendonly", "no"}

// Redis returns the address (host:port) of a Redis server for t.
//
// When EnvRedisAddr is set, Redis returns it and starts nothing. Otherwise it
// starts a container from EnvRedisImage (default [DefaultRedisImage]), waits
// until it answers PING, and removes it when t ends, passed or failed. When
// no container engine answers or the container cannot start, t is skipped
// with a message naming the variables, or fails when EnvRequireServers is
// true (see Require). The server is t's alone; the caller may flush it.
func Redis(t testing.TB) string {
	t.Helper()
	if addr := strings.TrimSpace(os.Getenv(EnvRedisAddr)); addr != "" {
		return addr
	}
	return startRedis(t, false).Addr()
}

// RedisServer starts a Redis container for t and returns it for fault
// tests, which stop and pause it. It always starts a container, whatever
// EnvRedisAddr says, since a test must not stop a server it does not own.
// The container runs EnvRedisImage (default [DefaultRedisImage]) without
// persistence, so data does not survive Stop. When no engine answers or the
// container cannot start, t is skipped or fails by the Require rule. The
// container is removed when t ends.
func RedisServer(t testing.TB) *Server {
	t.Helper()
	return startRedis(t, true)
}

func startRedis(t testing.TB, fixed bool) *Server {
	t.Helper()
	return startServer(t, redisSpec(), fixed, func(hostPort string) string { return hostPort })
}

// redisSpec is the container of Redis and RedisServer.
func redisSpec() spec {
	return spec{
		what:  "Redis",
		image: imageFrom(EnvRedisImage, DefaultRedisImage),
		port:  redisPort,
		cmd:   append([]string{"redis-server", "--bind", "0.0.0.0"}, redisArgs...),
		ready: readyWithin(redisPort, pingRedis),
	}
}
