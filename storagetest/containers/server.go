package containers

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// Server is a Redis or PostgreSQL server in a container that a test or a
// program controls: it can stop, start, pause and unpause the server
// process to check how a client behaves when the server fails. One from
// RedisServer or PostgresServer is removed when the test that created it
// ends; one from StartRedis or StartPostgres when its Close is called.
//
// Its address does not change across Stop and Start: the server is published
// on a host port chosen when the Server was created. The methods may be
// called from several goroutines; Stop, Start, Pause and Unpause are
// serialised.
type Server struct {
	what string // "Redis" or "Postgres", for messages
	c    *testcontainers.DockerContainer
	addr string // what Addr returns

	mu     sync.Mutex
	paused bool
	closed bool
}

// Addr returns where clients reach the server: host:port for Redis, a DSN
// (postgres://...?sslmode=disable, usable by pgxpool.New) for PostgreSQL. It
// is the same for the whole life of the Server, whatever its state.
func (s *Server) Addr() string { return s.addr }

// Stop stops the server process (its stop signal, then a kill after ten
// seconds) and returns once the container has stopped: from then on,
// connections to Addr are refused and open connections are closed. Stopping
// a stopped server does nothing. ctx bounds the wait.
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused {
		// A frozen process cannot handle its stop signal; thaw it first so
		// Stop means the same thing in every state.
		if err := s.unpause(ctx); err != nil {
			return err
		}
	}
	timeout := stopTimeout
	if err := s.c.Stop(ctx, &timeout); err != nil {
		return fmt.Errorf("containers: stop %s: %w", s.what, err)
	}
	return nil
}

// Start starts a stopped server again on the same address and returns once
// it answers its protocol there (PING for Redis, a completed startup
// handshake for PostgreSQL), or with an error after ctx ends or a minute
// passes. Data written before Stop survives (the container is kept), except
// for Redis, which runs without persistence. Starting a running server only
// waits until it answers.
//
// The host port was free when the Server was created, but nothing holds it
// while the server is stopped; if another process binds it meanwhile, Start
// fails with the engine's "port is already allocated" error.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// DockerContainer.Start runs the wait strategy again after the engine
	// starts the container.
	if err := s.c.Start(ctx); err != nil {
		return fmt.Errorf("containers: start %s: %w", s.what, err)
	}
	return nil
}

// Pause freezes every process of the container (docker pause): the kernel
// still accepts connections to Addr, but nothing answers, as in a network
// stall or a server stuck in a long pause. Pausing a paused server is an
// error from the engine. ctx bounds the call.
func (s *Server) Pause(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("containers: pause %s: %w", s.what, err)
	}
	defer cli.Close()
	if _, err := cli.ContainerPause(ctx, s.c.GetContainerID(), client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("containers: pause %s: %w", s.what, err)
	}
	s.paused = true
	return nil
}

// Unpause thaws a paused server; requests that hung while it was paused are
// then answered. Unpausing a server that is not paused is an error from the
// engine. ctx bounds the call.
func (s *Server) Unpause(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unpause(ctx)
}

func (s *Server) unpause(ctx context.Context) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("containers: unpause %s: %w", s.what, err)
	}
	defer cli.Close()
	if _, err := cli.ContainerUnpause(ctx, s.c.GetContainerID(), client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("containers: unpause %s: %w", s.what, err)
	}
	s.paused = false
	return nil
}

// containerID returns the engine's id of the container, for tests.
func (s *Server) containerID() string { return s.c.GetContainerID() }

// startServer starts the container described by base for t and returns it
// as a Server, removed when t ends (see newServer). Failures end the test by
// the Require rule.
func startServer(t testing.TB, base spec, fixed bool, addr func(hostPort string) string) *Server {
	t.Helper()
	srv, err := newServer(context.Background(), base, fixed, addr, t.Name(), tclog.TestLogger(t))
	if err != nil {
		Require(t, base.what, "%v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*stopTimeout)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Errorf("containers: cleanup: %v", err)
		}
	})
	return srv
}

// newServer starts the container described by base, labelled label, and
// returns it as a Server; it needs no test, and the caller removes the
// container with Close. With fixed set, the server is published on a host
// port picked here, so that its address survives a stop and start;
// otherwise the engine picks one. addr turns the published host:port into
// what Addr returns. On error nothing is left running.
func newServer(ctx context.Context, base spec, fixed bool, addr func(hostPort string) string, label string, logger tclog.Logger) (*Server, error) {
	host, err := engine(ctx, logger)
	if err != nil {
		return nil, fmt.Errorf("no container engine answers: %w", err)
	}
	if isLoopback(host) {
		// Keep test servers (trust authentication, no password) off the
		// network when the engine is local.
		base.bindIP = netip.MustParseAddr("127.0.0.1")
	}
	terminate := func(c *testcontainers.DockerContainer) {
		_ = testcontainers.TerminateContainer(c, testcontainers.StopTimeout(stopTimeout))
	}

	const attempts = 3
	var c *testcontainers.DockerContainer
	for range attempts {
		s := base
		if fixed {
			// A port free on this machine is only meaningful when the
			// engine publishes here too; elsewhere it is merely likely
			// free, and the retry below covers a conflict.
			ports, perr := pickPorts(listenHost(s.bindIP), 1)
			if perr != nil {
				return nil, perr
			}
			s.hostPort = ports[0]
		}
		c, err = start(ctx, s, label, logger)
		if err == nil {
			break
		}
		// A container that was created but did not become ready goes at
		// once. If another process took the port between pickPorts and the
		// engine binding it, pick again.
		terminate(c)
		if !fixed || !isPortConflict(err) {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}

	pctx, cancel := context.WithTimeout(ctx, engineTimeout)
	defer cancel()
	p, err := c.MappedPort(pctx, base.port)
	if err != nil {
		terminate(c)
		return nil, fmt.Errorf("containers: published port of %s: %w", base.what, err)
	}
	return &Server{what: base.what, c: c, addr: addr(net.JoinHostPort(host, p.Port()))}, nil
}

// Close removes the server's container, thawing it first if it is paused
// (a frozen process cannot handle its stop signal; ctx bounds the thaw),
// and waits for the removal. Servers a test got are removed when the test ends;
// Close is for those from StartRedis and StartPostgres. Closing a removed
// server does nothing.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if s.paused {
		if err := s.unpause(ctx); err != nil {
			return err
		}
	}
	if err := testcontainers.TerminateContainer(s.c, testcontainers.StopTimeout(stopTimeout)); err != nil {
		return fmt.Errorf("containers: remove %s: %w", s.what, err)
	}
	s.closed = true
	return nil
}

// listenHost is the address pickPorts listens on to find a port free for
// a binding on ip.
func listenHost(ip netip.Addr) string {
	if ip.IsValid() {
		return ip.String()
	}
	return ""
}

// readyWithin builds the wait strategy for a container port.
func readyWithin(port string, probe func(ctx context.Context, addr string) error) *probeStrategy {
	return &probeStrategy{port: port, probe: probe, timeout: startTimeout}
}
