package containers

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go/wait"
)

// probeInterval is the pause between readiness attempts.
const probeInterval = 50 * time.Millisecond

// errStopped is wrapped by probe errors when the container exited before
// its server became ready.
var errStopped = errors.New("container is not running")

// probeStrategy is a wait.Strategy that is satisfied once probe succeeds
// against the server's address as seen from the host. It checks the path a
// client uses: a log line can be stale (logs survive a restart, and the
// official Postgres image logs "ready" once for its socket-only init server
// too), and a docker-proxy port accepts connections even while nothing
// listens behind it. A container that stops running fails the wait at once.
type probeStrategy struct {
	// port is the container port whose published address is probed; addr,
	// when set, is probed instead (host networking publishes nothing).
	port    string
	addr    string
	probe   func(ctx context.Context, addr string) error
	timeout time.Duration
}

var (
	_ wait.Strategy        = (*probeStrategy)(nil)
	_ wait.StrategyTimeout = (*probeStrategy)(nil)
)

// String describes the strategy in testcontainers' log lines.
func (s *probeStrategy) String() string {
	if s.addr != "" {
		return "server answering on " + s.addr
	}
	return "server answering on the published port of " + s.port
}

// Timeout implements wait.StrategyTimeout.
func (s *probeStrategy) Timeout() *time.Duration { return &s.timeout }

// WaitUntilReady implements wait.Strategy.
func (s *probeStrategy) WaitUntilReady(ctx context.Context, target wait.StrategyTarget) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var last error
	for {
		addr, err := s.target(ctx, target)
		if err == nil {
			pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
			err = s.probe(pctx, addr)
			pcancel()
			if err == nil {
				return nil
			}
		}
		last = err
		if st, serr := target.State(ctx); serr == nil && !st.Running {
			return fmt.Errorf("%w (status %s, exit code %d); last probe: %w; container log: %s",
				errStopped, st.Status, st.ExitCode, last, logTail(ctx, target))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("server not ready within %v: %w", s.timeout, last)
		case <-time.After(probeInterval):
		}
	}
}

// logTail returns the end of the container's log, which says why a server
// exited (for example "Address already in use").
func logTail(ctx context.Context, target wait.StrategyTarget) string {
	const max = 1500
	rc, err := target.Logs(ctx)
	if err != nil {
		return "(unavailable: " + err.Error() + ")"
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil && len(b) == 0 {
		return "(unavailable: " + err.Error() + ")"
	}
	return strings.TrimSpace(tail(string(b), max))
}

// tail returns at most the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func (s *probeStrategy) target(ctx context.Context, target wait.StrategyTarget) (string, error) {
	if s.addr != "" {
		return s.addr, nil
	}
	host, err := target.Host(ctx)
	if err != nil {
		return "", err
	}
	p, err := target.MappedPort(ctx, s.port)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, p.Port()), nil
}

// dial connects to addr with ctx's deadline applied to the whole exchange.
func dial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Closing on cancellation unblocks reads and writes at once.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	return &stopConn{Conn: conn, stop: stop}, nil
}

type stopConn struct {
	net.Conn
	stop func() bool
}

func (c *stopConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// redisCommand sends one command to the Redis server at addr on a new
// connection and returns its reply: the text of a simple string, integer or
// bulk string, or an error for an error reply. ctx bounds the exchange.
func redisCommand(ctx context.Context, addr string, args ...string) (string, error) {
	conn, err := dial(ctx, addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return "", err
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("redis: empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", fmt.Errorf("redis: %s", line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < -1 || n > 1<<20 {
			return "", fmt.Errorf("redis: bad bulk length %q", line)
		}
		if n == -1 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	default:
		return "", fmt.Errorf("redis: unexpected reply %q", line)
	}
}

// pingRedis succeeds when the server at addr answers PING with PONG.
func pingRedis(ctx context.Context, addr string) error {
	got, err := redisCommand(ctx, addr, "PING")
	if err != nil {
		return err
	}
	if got != "PONG" {
		return fmt.Errorf("redis: PING answered %q", got)
	}
	return nil
}

// pgHandshake opens a connection to the PostgreSQL server at addr and runs
// the startup exchange for user and database until the server reports
// ReadyForQuery, then ends the session. It fails while the server is still
// starting ("the database system is starting up" arrives as an error), and
// when the server asks for a password: these helpers set up trust
// authentication, so a request for one means the wrong server answered.
func pgHandshake(ctx context.Context, addr, user, database string) error {
	conn, err := dial(ctx, addr)
	if err != nil {
		return err
	}
	defer conn.Close()

	var body []byte
	body = binary.BigEndian.AppendUint32(body, 3<<16) // protocol 3.0
	for _, kv := range []string{"user", user, "database", database} {
		body = append(body, kv...)
		body = append(body, 0)
	}
	body = append(body, 0)
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
	if _, err := conn.Write(append(msg, body...)); err != nil {
		return err
	}

	r := bufio.NewReader(conn)
	for {
		var hdr [5]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return fmt.Errorf("postgres: startup: %w", err)
		}
		n := int(binary.BigEndian.Uint32(hdr[1:])) - 4
		if n < 0 || n > 1<<16 {
			return fmt.Errorf("postgres: startup: bad message length %d", n+4)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			return fmt.Errorf("postgres: startup: %w", err)
		}
		switch hdr[0] {
		case 'R': // authentication request; 0 is AuthenticationOk
			if n < 4 {
				return errors.New("postgres: startup: short authentication message")
			}
			if code := binary.BigEndian.Uint32(payload); code != 0 {
				return fmt.Errorf("postgres: startup: server asks for authentication (method %d); expected trust", code)
			}
		case 'E':
			return fmt.Errorf("postgres: startup: %s", pgErrorText(payload))
		case 'Z': // ReadyForQuery
			// Terminate, so the server does not log an unexpected EOF.
			_, _ = conn.Write([]byte{'X', 0, 0, 0, 4})
			return nil
		default: // ParameterStatus, BackendKeyData, NoticeResponse: skip
		}
	}
}

// pgErrorText extracts the SQLSTATE and message fields of an ErrorResponse.
func pgErrorText(payload []byte) string {
	var code, text string
	for len(payload) > 1 {
		field := payload[0]
		end := 1
		for end < len(payload) && payload[end] != 0 {
			end++
		}
		value := string(payload[1:end])
		switch field {
		case 'C':
			code = value
		case 'M':
			text = value
		}
		if end >= len(payload) {
			break
		}
		payload = payload[end+1:]
	}
	return fmt.Sprintf("%s (SQLSTATE %s)", text, code)
}
