package containers

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

// fakeServer accepts one connection on a loopback port, reads until it has
// received want bytes (or the client stops), writes reply and closes. It
// returns the address and a function returning what the client sent.
func fakeServer(t *testing.T, want int, reply []byte) (string, func() []byte) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg  sync.WaitGroup
		got []byte
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, want)
		n, _ := io.ReadFull(c, buf)
		got = buf[:n]
		_, _ = c.Write(reply)
	}()
	t.Cleanup(func() { l.Close(); wg.Wait() })
	return l.Addr().String(), func() []byte { l.Close(); wg.Wait(); return got }
}

// pgMsg frames a backend message.
func pgMsg(typ byte, body ...byte) []byte {
	m := []byte{typ}
	m = binary.BigEndian.AppendUint32(m, uint32(len(body)+4))
	return append(m, body...)
}

func pgInt(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func TestPgHandshakeIsReadyOnlyAtReadyForQuery(t *testing.T) {
	var (
		authOK   = pgMsg('R', pgInt(0)...)
		param    = pgMsg('S', []byte("server_version\x0015\x00")...)
		keyData  = pgMsg('K', make([]byte, 8)...)
		ready    = pgMsg('Z', 'I')
		starting = pgMsg('E', []byte("SFATAL\x00C57P03\x00Mthe database system is starting up\x00\x00")...)
	)
	cases := []struct {
		name    string
		reply   []byte
		wantErr string // "" means ready
	}{
		{"trust then ready", slices.Concat(authOK, param, keyData, ready), ""},
		{"still starting", starting, "starting up (SQLSTATE 57P03)"},
		{"asks for a password", pgMsg('R', pgInt(3)...), "asks for authentication"},
		{"closes before ready", slices.Concat(authOK, param), "EOF"},
		{"absurd length", []byte{'S', 0x7f, 0xff, 0xff, 0xff}, "bad message length"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// user=postgres database=postgres startup message: 41 bytes.
			addr, sent := fakeServer(t, 41, c.reply)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := pgHandshake(ctx, addr, "postgres", "postgres")
			if c.wantErr == "" && err != nil {
				t.Fatalf("pgHandshake = %v; want ready", err)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("pgHandshake = %v; want an error containing %q", err, c.wantErr)
			}
			msg := sent()
			if len(msg) != 41 || binary.BigEndian.Uint32(msg) != 41 || binary.BigEndian.Uint32(msg[4:]) != 3<<16 ||
				string(msg[8:]) != "user\x00postgres\x00database\x00postgres\x00\x00" {
				t.Fatalf("startup message = %q; want protocol 3.0 for user and database postgres", msg)
			}
		})
	}
}

func TestRedisCommandReadsEachReplyType(t *testing.T) {
	cases := []struct {
		name, reply, want, wantErr string
	}{
		{"simple string", "+PONG\r\n", "PONG", ""},
		{"integer", ":3\r\n", "3", ""},
		{"bulk string", "$12\r\nhello\r\nworld\r\n", "hello\r\nworld", ""},
		{"nil bulk", "$-1\r\n", "", ""},
		{"error reply", "-LOADING Redis is loading the dataset in memory\r\n", "", "LOADING"},
		{"unknown type", "*1\r\n", "", "unexpected reply"},
		{"bad bulk length", "$x\r\n", "", "bad bulk length"},
		{"short bulk", "$10\r\nabc", "", "EOF"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const ping = "*1\r\n$4\r\nPING\r\n"
			addr, sent := fakeServer(t, len(ping), []byte(c.reply))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			got, err := redisCommand(ctx, addr, "PING")
			if c.wantErr == "" && (err != nil || got != c.want) {
				t.Fatalf("reply %q: got %q, %v; want %q", c.reply, got, err, c.want)
			}
			if c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("reply %q: got %q, %v; want an error containing %q", c.reply, got, err, c.wantErr)
			}
			if s := string(sent()); s != ping {
				t.Fatalf("sent %q; want %q", s, ping)
			}
		})
	}
}

func TestPingRedisIsNotReadyWhileLoading(t *testing.T) {
	addr, _ := fakeServer(t, 14, []byte("-LOADING Redis is loading the dataset in memory\r\n"))
	if err := pingRedis(context.Background(), addr); err == nil {
		t.Fatal("pingRedis accepted a LOADING error as ready")
	}
}

// fakeTarget is a container as a wait strategy sees it. Methods the
// strategy must not need are left to the nil embedded interface (a call
// panics and fails the test).
type fakeTarget struct {
	wait.StrategyTarget
	state container.State
	log   string
}

func (f *fakeTarget) Logs(context.Context) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(f.log)), nil
}

func (f *fakeTarget) Host(context.Context) (string, error) { return "127.0.0.1", nil }
func (f *fakeTarget) MappedPort(context.Context, string) (network.Port, error) {
	p, _ := network.PortFrom(1, network.TCP)
	return p, nil
}
func (f *fakeTarget) State(context.Context) (*container.State, error) { return &f.state, nil }

func TestProbeStrategyWaitsForTheProbe(t *testing.T) {
	calls := 0
	s := &probeStrategy{port: "6379/tcp", timeout: 10 * time.Second, probe: func(_ context.Context, addr string) error {
		if addr != "127.0.0.1:1" {
			t.Errorf("probed %q; want the mapped address 127.0.0.1:1", addr)
		}
		if calls++; calls < 3 {
			return errors.New("not yet")
		}
		return nil
	}}
	if err := s.WaitUntilReady(context.Background(), &fakeTarget{state: container.State{Running: true}}); err != nil {
		t.Fatalf("WaitUntilReady = %v; want ready on the third probe", err)
	}
	if calls != 3 {
		t.Fatalf("probe called %d times; want 3", calls)
	}
}

func TestProbeStrategyGivesUpWhenTheContainerExits(t *testing.T) {
	s := &probeStrategy{port: "6379/tcp", timeout: time.Minute, probe: func(context.Context, string) error {
		return errors.New("connection refused")
	}}
	target := &fakeTarget{
		state: container.State{Status: container.StateExited, ExitCode: 1},
		log:   strings.Repeat("noise\n", 1000) + "bind: Address already in use\n",
	}
	begin := time.Now()
	err := s.WaitUntilReady(context.Background(), target)
	if !errors.Is(err, errStopped) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("WaitUntilReady = %v; want errStopped with the last probe error", err)
	}
	// The log's end says why the server exited; a port conflict found
	// there is what makes RedisCluster retry.
	if !isPortConflict(err) || len(err.Error()) > 2500 {
		t.Fatalf("WaitUntilReady = %v; want the end of the container log, and only the end", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Fatalf("WaitUntilReady took %v for an exited container; want an immediate error", d)
	}
}

func TestProbeStrategyHonoursItsTimeout(t *testing.T) {
	s := &probeStrategy{addr: "127.0.0.1:1", timeout: 300 * time.Millisecond, probe: func(context.Context, string) error {
		return errors.New("not yet")
	}}
	err := s.WaitUntilReady(context.Background(), &fakeTarget{state: container.State{Running: true}})
	if err == nil || !strings.Contains(err.Error(), "not ready within") {
		t.Fatalf("WaitUntilReady = %v; want a timeout", err)
	}
}
