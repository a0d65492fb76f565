package redis_test

// These tests need no Redis server: a go-redis hook records every command
// and, where a test needs answers, plays the server. Tests against real
// servers live in the integration module.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/redis"
)

// fakeServer is a go-redis hook that counts dials and round trips (a
// command or a pipeline) and records commands. With answer set, commands
// never reach the network: answer fills in the reply.
type fakeServer struct {
	answer func(cmd goredis.Cmder) error

	mu    sync.Mutex
	dials int
	trips int
	cmds  [][]any
}

func (f *fakeServer) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		f.mu.Lock()
		f.dials++
		f.mu.Unlock()
		return next(ctx, network, addr)
	}
}

func (f *fakeServer) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		f.mu.Lock()
		f.trips++
		f.cmds = append(f.cmds, slices.Clone(cmd.Args()))
		f.mu.Unlock()
		if f.answer != nil {
			return f.answer(cmd)
		}
		return next(ctx, cmd)
	}
}

func (f *fakeServer) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		f.mu.Lock()
		f.trips++
		for _, cmd := range cmds {
			f.cmds = append(f.cmds, slices.Clone(cmd.Args()))
		}
		f.mu.Unlock()
		if f.answer != nil {
			// A pipeline (ReadWithExpiry's MULTI ... EXEC) is answered
			// command by command; its error is the first command's.
			var first error
			for _, cmd := range cmds {
				if err := f.answer(cmd); err != nil && first == nil {
					first = err
				}
			}
			return first
		}
		return next(ctx, cmds)
	}
}

// sent returns the recorded commands as strings, e.g. "get p:id". The
// parts that vary from run to run or are long are replaced by
// placeholders: the script (body or SHA-1) of EVAL and EVALSHA and their
// _RO forms by <script>, the score of ZADD (a random stamp) by <stamp>.
func (f *fakeServer) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.cmds))
	for i, args := range f.cmds {
		parts := make([]string, len(args))
		for j, a := range args {
			if b, ok := a.([]byte); ok {
				a = string(b)
			}
			parts[j] = fmt.Sprint(a)
		}
		switch {
		case strings.HasPrefix(parts[0], "eval") && len(parts) > 1:
			parts[1] = "<script>"
		case parts[0] == "zadd" && len(parts) > 2:
			parts[2] = "<stamp>"
		}
		out[i] = strings.Join(parts, " ")
	}
	return out
}

// roundTrips returns how many commands and pipelines were recorded.
func (f *fakeServer) roundTrips() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.trips
}

func (f *fakeServer) dialCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dials
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// newClient returns a client for a port nothing listens on, with f hooked in.
func newClient(t *testing.T, f *fakeServer) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{
		Addr:                  closedPort(t),
		ContextTimeoutEnabled: true,
		MaxRetries:            -1,
		DialTimeout:           time.Second,
	})
	c.AddHook(f)
	t.Cleanup(func() { c.Close() })
	return c
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func discard(io.Reader) error { return nil }

// op is one Store call on an id, for tests that hold for every operation.
type op struct {
	name string
	call func(ctx context.Context, s *redis.Store, id string) error
}

var idOps = []op{
	{"Write", func(ctx context.Context, s *redis.Store, id string) error {
		return s.Write(ctx, id, time.Now().Add(time.Hour), writeString("v"))
	}},
	{"Read", func(ctx context.Context, s *redis.Store, id string) error { return s.Read(ctx, id, discard) }},
	{"Invalidate", func(ctx context.Context, s *redis.Store, id string) error { return s.Invalidate(ctx, id) }},
	{"Touch", func(ctx context.Context, s *redis.Store, id string) error {
		return s.Touch(ctx, id, time.Now().Add(time.Hour))
	}},
	{"TouchPersist", func(ctx context.Context, s *redis.Store, id string) error {
		return s.Touch(ctx, id, time.Time{})
	}},
	{"Create", func(ctx context.Context, s *redis.Store, id string) error {
		return s.Create(ctx, id, time.Now().Add(time.Hour), writeString("v"))
	}},
	{"Replace", func(ctx context.Context, s *redis.Store, id string) error {
		return s.Replace(ctx, id, time.Time{}, writeString("v"))
	}},
	{"ReadWithExpiry", func(ctx context.Context, s *redis.Store, id string) error {
		return s.ReadWithExpiry(ctx, id, func(io.Reader, time.Time) error { return nil })
	}},
	{"CreateIndexed", func(ctx context.Context, s *redis.Store, id string) error {
		return s.CreateIndexed(ctx, id, "ix", time.Now().Add(time.Hour), writeString("v"))
	}},
	{"ReplaceIndexed", func(ctx context.Context, s *redis.Store, id string) error {
		return s.ReplaceIndexed(ctx, id, "ix", time.Time{}, writeString("v"))
	}},
	// ReadIndex takes an index key where the others take an id: the same
	// checks apply to it.
	{"ReadIndex", func(ctx context.Context, s *redis.Store, index string) error {
		return s.ReadIndex(ctx, index, func(string, time.Time, io.Reader) error { return nil })
	}},
}

func TestInvalidIDsAreRefusedBeforeAnyDial(t *testing.T) {
	ids := []string{"", "../x", "a/b", `a\b`, ".", "..", "a\x00b", "a b", "%2e%2e", "é", strings.Repeat("a", sessions.MaxIDLength+1), "a*", "a:b"}
	f := &fakeServer{}
	s := mustNew(t, newClient(t, f))
	for _, o := range idOps {
		for _, id := range ids {
			err := o.call(t.Context(), s, id)
			if !errors.Is(err, sessions.ErrInvalidID) {
				t.Errorf("%s(%q) = %v, want an error wrapping ErrInvalidID", o.name, id, err)
			}
			if err != nil && len(id) >= 3 && strings.Contains(err.Error(), id) {
				t.Errorf("%s(%q): the error %q repeats the id", o.name, id, err)
			}
		}
	}
	if n := f.dialCount(); n != 0 {
		t.Errorf("invalid ids caused %d dials, want none", n)
	}
	if sent := f.sent(); len(sent) != 0 {
		t.Errorf("invalid ids sent %q, want no command", sent)
	}
}

func TestFailingWriterSendsNothing(t *testing.T) {
	boom := errors.New("boom")
	f := &fakeServer{}
	s := mustNew(t, newClient(t, f))
	for _, expires := range []time.Time{{}, time.Now().Add(time.Hour), time.Now().Add(-time.Hour)} {
		err := s.Write(t.Context(), "id", expires, func(w io.Writer) error {
			io.WriteString(w, "half")
			return boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("Write with a failing writer (expires %v) = %v, want the writer's error", expires, err)
		}
	}
	if sent := f.sent(); len(sent) != 0 || f.dialCount() != 0 {
		t.Errorf("a failing writer sent %q (%d dials), want nothing", sent, f.dialCount())
	}
}

func TestCancelledContextSendsNothing(t *testing.T) {
	f := &fakeServer{}
	s := mustNew(t, newClient(t, f))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, o := range idOps {
		if err := o.call(ctx, s, "id"); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context = %v, want an error wrapping context.Canceled", o.name, err)
		}
	}
	for _, err := range s.List(ctx) {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("List with a cancelled context yielded %v, want an error wrapping context.Canceled", err)
		}
	}
	if sent := f.sent(); len(sent) != 0 || f.dialCount() != 0 {
		t.Errorf("a cancelled context sent %q (%d dials), want nothing", sent, f.dialCount())
	}
}

func TestCallsAfterCloseFailWithErrClosedAndSendNothing(t *testing.T) {
	f := &fakeServer{}
	client := newClient(t, f)
	s := mustNew(t, client)
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	for _, o := range idOps {
		if err := o.call(t.Context(), s, "id"); !errors.Is(err, sessions.ErrClosed) {
			t.Errorf("%s after Close = %v, want an error wrapping ErrClosed", o.name, err)
		}
	}
	n := 0
	for id, err := range s.List(t.Context()) {
		n++
		if id != "" || !errors.Is(err, sessions.ErrClosed) {
			t.Errorf("List after Close yielded (%q, %v), want (\"\", ErrClosed)", id, err)
		}
	}
	if n != 1 {
		t.Errorf("List after Close yielded %d times, want once", n)
	}
	if sent := f.sent(); len(sent) != 0 {
		t.Errorf("calls after Close sent %q, want nothing", sent)
	}
	// The client belongs to the caller: closing the Store must leave it usable.
	if err := client.Ping(t.Context()).Err(); errors.Is(err, goredis.ErrClosed) {
		t.Errorf("Store.Close closed the caller's client: Ping = %v", err)
	}
}

// answerOK plays a server that accepts every command of the tests below.
func answerOK(cmd goredis.Cmder) error {
	switch c := cmd.(type) {
	case *goredis.StatusCmd:
		c.SetVal("OK")
	case *goredis.IntCmd:
		c.SetVal(1)
	case *goredis.BoolCmd:
		c.SetVal(true)
	case *goredis.StringCmd:
		c.SetVal("\x00content") // the frame of no index key, then the content
	case *goredis.Cmd:
		c.SetVal(int64(1))
	}
	return nil
}

func TestEachOperationSendsOneCommandOfTheDocumentedShape(t *testing.T) {
	at := time.UnixMilli(4102444800123).Add(456 * time.Microsecond) // 2100-01-01, with sub-millisecond part
	cases := []struct {
		name string
		call func(ctx context.Context, s *redis.Store) error
		want string
	}{
		{"WriteWithExpiry", func(ctx context.Context, s *redis.Store) error {
			return s.Write(ctx, "id1", at, writeString("value"))
		}, "set p:id1 \x00value pxat 4102444800123"},
		{"WriteWithoutExpiry", func(ctx context.Context, s *redis.Store) error {
			return s.Write(ctx, "id1", time.Time{}, writeString("value"))
		}, "set p:id1 \x00value"},
		{"WriteAlreadyExpiredDeletes", func(ctx context.Context, s *redis.Store) error {
			return s.Write(ctx, "id1", time.Now().Add(-time.Millisecond), writeString("value"))
		}, "del p:id1"},
		{"Read", func(ctx context.Context, s *redis.Store) error { return s.Read(ctx, "id1", discard) }, "get p:id1"},
		{"Invalidate", func(ctx context.Context, s *redis.Store) error { return s.Invalidate(ctx, "id1") }, "del p:id1"},
		// Touch asks the script to move the expiry of an entry filed
		// under no index key (the last, empty argument): the entry of the
		// fake server is one.
		{"TouchWithExpiry", func(ctx context.Context, s *redis.Store) error {
			return s.Touch(ctx, "id1", at)
		}, "evalsha <script> 1 p:id1 at 4102444800123 "},
		{"TouchWithoutExpiry", func(ctx context.Context, s *redis.Store) error {
			return s.Touch(ctx, "id1", time.Time{})
		}, "evalsha <script> 1 p:id1 persist 0 "},
		{"CreateWithoutExpiry", func(ctx context.Context, s *redis.Store) error {
			return s.Create(ctx, "id1", time.Time{}, writeString("value"))
		}, "set p:id1 \x00value nx"},
		{"ReplaceWithExpiry", func(ctx context.Context, s *redis.Store) error {
			return s.Replace(ctx, "id1", at, writeString("value"))
		}, "set p:id1 \x00value xx pxat 4102444800123"},
		// The empty index key files under none: a plain conditional SET.
		{"CreateIndexedUnderNone", func(ctx context.Context, s *redis.Store) error {
			return s.CreateIndexed(ctx, "id1", "", at, writeString("value"))
		}, "set p:id1 \x00value nx pxat 4102444800123"},
		{"TouchAlreadyExpiredDeletes", func(ctx context.Context, s *redis.Store) error {
			return s.Touch(ctx, "id1", time.Now().Add(-time.Millisecond))
		}, "del p:id1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeServer{answer: answerOK}
			s := mustNew(t, newClient(t, f), redis.WithPrefix("p:"))
			if err := tc.call(t.Context(), s); err != nil {
				t.Fatalf("call = %v", err)
			}
			if sent := f.sent(); len(sent) != 1 || sent[0] != tc.want || f.roundTrips() != 1 {
				t.Errorf("sent %q in %d round trips, want exactly [%q] in one", sent, f.roundTrips(), tc.want)
			}
		})
	}
}

func TestMissingKeysAreErrNotFound(t *testing.T) {
	f := &fakeServer{answer: func(cmd goredis.Cmder) error {
		switch c := cmd.(type) {
		case *goredis.StringCmd:
			c.SetErr(goredis.Nil)
			return goredis.Nil
		case *goredis.BoolCmd:
			c.SetVal(false) // PEXPIREAT on a missing key
		case *goredis.IntCmd:
			c.SetVal(0) // DEL of a missing key
		case *goredis.Cmd:
			c.SetVal(int64(0)) // the persist script on a missing key
		}
		return nil
	}}
	s := mustNew(t, newClient(t, f))
	cases := []struct {
		name string
		call func() error
	}{
		{"Read", func() error { return s.Read(t.Context(), "id", discard) }},
		{"Touch", func() error { return s.Touch(t.Context(), "id", time.Now().Add(time.Hour)) }},
		{"TouchWithoutExpiry", func() error { return s.Touch(t.Context(), "id", time.Time{}) }},
		{"TouchAlreadyExpired", func() error { return s.Touch(t.Context(), "id", time.Now().Add(-time.Hour)) }},
	}
	for _, tc := range cases {
		if err := tc.call(); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("%s of a missing key = %v, want an error wrapping ErrNotFound", tc.name, err)
		}
	}
	if err := s.Invalidate(t.Context(), "id"); err != nil {
		t.Errorf("Invalidate of a missing key = %v, want nil", err)
	}
}

func TestDriverErrorsAreWrapped(t *testing.T) {
	serverErr := errors.New("LOADING Redis is loading the dataset in memory")
	f := &fakeServer{answer: func(cmd goredis.Cmder) error {
		cmd.SetErr(serverErr)
		return serverErr
	}}
	s := mustNew(t, newClient(t, f))
	for _, o := range idOps {
		err := o.call(t.Context(), s, "id")
		if !errors.Is(err, serverErr) || !strings.HasPrefix(err.Error(), "sessionkit/redis: ") {
			t.Errorf("%s = %v, want the driver's error wrapped with the package prefix", o.name, err)
		}
	}
}

func TestReadPassesTheContentAndReturnsTheReadersError(t *testing.T) {
	f := &fakeServer{answer: answerOK}
	s := mustNew(t, newClient(t, f))
	var got []byte
	if err := s.Read(t.Context(), "id", func(r io.Reader) (err error) {
		got, err = io.ReadAll(r)
		return err
	}); err != nil || string(got) != "content" {
		t.Errorf("Read = %q, %v; want \"content\", nil", got, err)
	}
	boom := errors.New("boom")
	if err := s.Read(t.Context(), "id", func(io.Reader) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Read with a failing reader = %v, want the reader's error", err)
	}
}

// scanAnswer plays SCAN over pages of keys, one page per cursor value.
func scanAnswer(pages [][]string) func(goredis.Cmder) error {
	return func(cmd goredis.Cmder) error {
		c, ok := cmd.(*goredis.ScanCmd)
		if !ok {
			return fmt.Errorf("unexpected command %v", cmd.Args())
		}
		cursor := int(c.Args()[1].(uint64))
		next := uint64(cursor + 1)
		if cursor+1 == len(pages) {
			next = 0
		}
		c.SetVal(pages[cursor], next)
		return nil
	}
}

func TestListYieldsOnlyValidIDsUnderThePrefixEachOnce(t *testing.T) {
	f := &fakeServer{answer: scanAnswer([][]string{
		{"p:a", "p:b", "other:c"},
		{},
		{"p:b", "p:bad/id", "p:", "p:c", "pp:d"}, // SCAN may repeat a key
	})}
	s := mustNew(t, newClient(t, f), redis.WithPrefix("p:"), redis.WithScanCount(7))
	var ids []string
	for id, err := range s.List(t.Context()) {
		if err != nil {
			t.Fatalf("List yielded %v", err)
		}
		ids = append(ids, id)
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(ids, want) {
		t.Errorf("List yielded %q, want %q", ids, want)
	}
	want := []string{"scan 0 match p:* count 7", "scan 1 match p:* count 7", "scan 2 match p:* count 7"}
	if sent := f.sent(); !slices.Equal(sent, want) {
		t.Errorf("List sent %q, want %q", sent, want)
	}
}

func TestListEscapesGlobCharactersOfThePrefix(t *testing.T) {
	cases := []struct{ prefix, match string }{
		{"sessionkit:", "sessionkit:*"},
		{"a*b?", `a\*b\?*`},
		{`[x]\`, `\[x\]\\*`},
		{"^h", `\^h*`},
	}
	for _, tc := range cases {
		f := &fakeServer{answer: scanAnswer([][]string{{}})}
		s := mustNew(t, newClient(t, f), redis.WithPrefix(tc.prefix))
		for _, err := range s.List(t.Context()) {
			t.Fatalf("List yielded %v", err)
		}
		if sent, want := f.sent(), "scan 0 match "+tc.match+" count 100"; len(sent) != 1 || sent[0] != want {
			t.Errorf("prefix %q: List sent %q, want [%q]", tc.prefix, sent, want)
		}
	}
}

func TestListStopsWhenTheLoopBreaks(t *testing.T) {
	f := &fakeServer{answer: scanAnswer([][]string{{"p:a", "p:b"}, {"p:c"}})}
	s := mustNew(t, newClient(t, f), redis.WithPrefix("p:"))
	for id, err := range s.List(t.Context()) {
		if err != nil || id != "a" {
			t.Fatalf("List yielded (%q, %v) first, want (\"a\", nil)", id, err)
		}
		break
	}
	if sent := f.sent(); len(sent) != 1 {
		t.Errorf("List sent %q after the loop broke on the first id, want one SCAN", sent)
	}
}

// The options policy of docs/storage-authors.md: an invalid option is an
// error from New, never a panic.
func TestNewReturnsAnErrorForInvalidOptions(t *testing.T) {
	client := newClient(t, &fakeServer{})
	cases := []struct {
		name   string
		client goredis.UniversalClient
		opt    redis.Option
	}{
		{"NilClient", nil, redis.WithPrefix("p:")},
		{"EmptyPrefix", client, redis.WithPrefix("")},
		{"ZeroScanCount", client, redis.WithScanCount(0)},
		{"NegativeScanCount", client, redis.WithScanCount(-1)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := redis.New(tc.client, tc.opt)
			if err == nil || s != nil {
				t.Fatalf("New = %v, %v; want an error", s, err)
			}
			if !strings.HasPrefix(err.Error(), "sessionkit/redis: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// mustNew is redis.New for options the test knows to be valid.
func mustNew(t testing.TB, client goredis.UniversalClient, opts ...redis.Option) *redis.Store {
	t.Helper()
	s, err := redis.New(client, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDefaultPrefixIsUsed(t *testing.T) {
	f := &fakeServer{answer: answerOK}
	s := mustNew(t, newClient(t, f))
	if err := s.Invalidate(t.Context(), "id"); err != nil {
		t.Fatal(err)
	}
	if sent, want := f.sent(), "del "+redis.DefaultPrefix+"id"; len(sent) != 1 || sent[0] != want {
		t.Errorf("sent %q, want [%q]", sent, want)
	}
}

// stalledServer accepts connections and never answers, like a server that
// hangs or a network that drops packets. It returns its address.
func stalledServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

func TestCallsReturnByTheDeadlineOfAStalledServer(t *testing.T) {
	client := goredis.NewClient(&goredis.Options{Addr: stalledServer(t), ContextTimeoutEnabled: true})
	t.Cleanup(func() { client.Close() })
	s := mustNew(t, client)
	const timeout = 300 * time.Millisecond
	calls := append(slices.Clone(idOps), op{"List", func(ctx context.Context, s *redis.Store, _ string) error {
		for _, err := range s.List(ctx) {
			return err
		}
		return nil
	}})
	for _, o := range calls {
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		start := time.Now()
		err := o.call(ctx, s, "id")
		took := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s against a stalled server = %v, want an error wrapping context.DeadlineExceeded", o.name, err)
		}
		// Generous: the point is the deadline, not go-redis's 3s-5s
		// read timeout or its retries.
		if took > timeout+time.Second {
			t.Errorf("%s took %v under a %v deadline", o.name, took, timeout)
		}
	}
}
