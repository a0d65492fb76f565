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
)

// Server is a Redis or PostgreSQL server in a container that a test
// controls: it can stop, start, pause and unpause the server process to
// check how a client behaves when the server fails. It is removed when the
// test that created it ends.
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

// startServer starts the container described by base and returns it as a
// Server. With fixed set, the server is published on a host port picked
// here, so that its address survives a stop and start; otherwise the engine
// picks one. addr turns the published host:port into what Addr returns.
// Failures end the test by the Require rule.
func startServer(t testing.TB, base spec, fixed bool, addr func(hostPort string) string) *Server {
	t.Helper()
	host := requireEngine(t, base.what)
	if isLoopback(host) {
		// Keep test servers (trust authentication, no password) off the
		// network when the engine is local.
		base.bindIP = netip.MustParseAddr("127.0.0.1")
	}

	const attempts = 3
	var (
		c   *testcontainers.DockerContainer
		err error
	)
	for range attempts {
		s := base
		if fixed {
			// A port free on this machine is only meaningful when the
			// engine publishes here too; elsewhere it is merely likely
			// free, and the retry below covers a conflict.
			ports, perr := pickPorts(listenHost(s.bindIP), 1)
			if perr != nil {
				Require(t, s.what, "%v", perr)
			}
			s.hostPort = ports[0]
		}
		c, err = run(t, s)
		if err == nil || !fixed || !isPortConflict(err) {
			break
		}
		// Another process took the port between pickPorts and the engine
		// binding it: free the failed container now and pick again.
		_ = testcontainers.TerminateContainer(c, testcontainers.StopTimeout(stopTimeout))
	}
	if err != nil {
		Require(t, base.what, "%v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
	defer cancel()
	p, err := c.MappedPort(ctx, base.port)
	if err != nil {
		Require(t, base.what, "containers: published port of %s: %v", base.what, err)
	}
	srv := &Server{what: base.what, c: c, addr: addr(net.JoinHostPort(host, p.Port()))}
	// Runs before the removal registered by run (cleanups run last in,
	// first out): a paused container must be thawed to stop promptly.
	t.Cleanup(func() {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		if srv.paused {
			ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
			defer cancel()
			if err := srv.unpause(ctx); err != nil {
				t.Logf("containers: cleanup: %v", err)
			}
		}
	})
	return srv
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
