package sessions_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// capStub implements every optional capability and records which of its
// methods was called, so that a test can tell which value Compose forwards
// a call to.
type capStub struct {
	sessions.Storage
	name  string
	calls *[]string
}

func (c capStub) rec(m string) { *c.calls = append(*c.calls, c.name+"."+m) }
func (c capStub) Touch(context.Context, string, time.Time) error {
	c.rec("Touch")
	return nil
}
func (c capStub) List(context.Context) iter.Seq2[string, error] {
	c.rec("List")
	return func(func(string, error) bool) {}
}
func (c capStub) DeleteExpired(context.Context) (int, error) { c.rec("DeleteExpired"); return 0, nil }
func (c capStub) Close() error                               { c.rec("Close"); return nil }
func (c capStub) Create(context.Context, string, time.Time, func(io.Writer) error) error {
	c.rec("Create")
	return nil
}
func (c capStub) Replace(context.Context, string, time.Time, func(io.Writer) error) error {
	c.rec("Replace")
	return nil
}
func (c capStub) ReadWithExpiry(context.Context, string, func(io.Reader, time.Time) error) error {
	c.rec("ReadWithExpiry")
	return nil
}
func (c capStub) CreateIndexed(context.Context, string, string, time.Time, func(io.Writer) error) error {
	c.rec("CreateIndexed")
	return nil
}
func (c capStub) ReplaceIndexed(context.Context, string, string, time.Time, func(io.Writer) error) error {
	c.rec("ReplaceIndexed")
	return nil
}
func (c capStub) ReadIndex(context.Context, string, func(string, time.Time, io.Reader) error) error {
	c.rec("ReadIndex")
	return nil
}

// TestComposeExposesExactlyItsCapabilities builds every one of the 128
// combinations and checks that the result implements exactly the given
// capabilities, each forwarded to the value given for it, even when the
// base storage itself has them all.
func TestComposeExposesExactlyItsCapabilities(t *testing.T) {
	names := []string{"Toucher", "Lister", "Sweeper", "Closer", "ConditionalWriter", "ExpiryReader", "Indexer"}
	for mask := range 1 << len(names) {
		var calls []string
		base := capStub{Storage: sessions.FromBytes(newCondBytes()), name: "base", calls: &calls}
		var c sessions.Capabilities
		want := make(map[string]bool)
		for i, n := range names {
			if mask&(1<<i) == 0 {
				continue
			}
			want[n] = true
			st := capStub{name: n, calls: &calls}
			switch n {
			case "Toucher":
				c.Toucher = st
			case "Lister":
				c.Lister = st
			case "Sweeper":
				c.Sweeper = st
			case "Closer":
				c.Closer = st
			case "ConditionalWriter":
				c.ConditionalWriter = st
			case "ExpiryReader":
				c.ExpiryReader = st
			case "Indexer":
				c.Indexer = st
			}
		}
		s := sessions.Compose(base, c)
		ctx := t.Context()
		var wantCalls []string
		check := func(n string, ok bool, call func(), methods ...string) {
			t.Helper()
			if ok != want[n] {
				t.Errorf("mask %07b: the composed storage is %s: %v, want %v", mask, n, ok, want[n])
			}
			if ok {
				call()
				for _, m := range methods {
					wantCalls = append(wantCalls, n+"."+m)
				}
			}
		}
		to, ok := s.(sessions.Toucher)
		check("Toucher", ok, func() { to.Touch(ctx, "a", time.Time{}) }, "Touch")
		l, ok := s.(sessions.Lister)
		check("Lister", ok, func() { l.List(ctx) }, "List")
		sw, ok := s.(sessions.Sweeper)
		check("Sweeper", ok, func() { sw.DeleteExpired(ctx) }, "DeleteExpired")
		cl, ok := s.(io.Closer)
		check("Closer", ok, func() { cl.Close() }, "Close")
		cw, ok := s.(sessions.ConditionalWriter)
		check("ConditionalWriter", ok, func() { cw.Create(ctx, "a", time.Time{}, nil); cw.Replace(ctx, "a", time.Time{}, nil) }, "Create", "Replace")
		er, ok := s.(sessions.ExpiryReader)
		check("ExpiryReader", ok, func() { er.ReadWithExpiry(ctx, "a", nil) }, "ReadWithExpiry")
		ix, ok := s.(sessions.Indexer)
		check("Indexer", ok, func() {
			ix.CreateIndexed(ctx, "a", "i", time.Time{}, nil)
			ix.ReplaceIndexed(ctx, "a", "i", time.Time{}, nil)
			ix.ReadIndex(ctx, "i", nil)
		}, "CreateIndexed", "ReplaceIndexed", "ReadIndex")
		if fmt.Sprint(calls) != fmt.Sprint(wantCalls) {
			t.Errorf("mask %07b: calls went to %v, want %v", mask, calls, wantCalls)
		}
		if u, ok := s.(interface{ Unwrap() sessions.Storage }); !ok || u.Unwrap() != sessions.Storage(base) {
			t.Errorf("mask %07b: Unwrap of the composed storage does not return its base", mask)
		}
		// Write, Read and Invalidate are the base's.
		if err := s.Write(ctx, "x", time.Time{}, func(w io.Writer) error { _, err := io.WriteString(w, "v"); return err }); err != nil {
			t.Fatalf("mask %07b: Write through the composed storage: %v", mask, err)
		}
		if err := base.Read(ctx, "x", func(io.Reader) error { return nil }); err != nil {
			t.Errorf("mask %07b: the base did not get the Write: %v", mask, err)
		}
	}
}

func TestCapabilitiesOf(t *testing.T) {
	var calls []string
	full := capStub{Storage: sessions.FromBytes(newCondBytes()), name: "s", calls: &calls}
	c := sessions.CapabilitiesOf(full)
	if c.Toucher == nil || c.Lister == nil || c.Sweeper == nil || c.Closer == nil || c.ConditionalWriter == nil || c.ExpiryReader == nil || c.Indexer == nil {
		t.Errorf("CapabilitiesOf a storage with every capability = %+v, want every field set", c)
	}
	if c := sessions.CapabilitiesOf(sessions.Compose(full, sessions.Capabilities{})); c != (sessions.Capabilities{}) {
		t.Errorf("CapabilitiesOf a storage with none = %+v, want the zero Capabilities", c)
	}
}

// condBytes is a ConditionalByteStorage over a map.
type condBytes struct {
	mu      sync.Mutex
	data    map[string][]byte
	expires map[string]time.Time
}

func newCondBytes() *condBytes {
	return &condBytes{data: map[string][]byte{}, expires: map[string]time.Time{}}
}

func (s *condBytes) live(id string) bool {
	_, ok := s.data[id]
	e := s.expires[id]
	return ok && (e.IsZero() || time.Now().Before(e))
}

func (s *condBytes) Load(ctx context.Context, id string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.live(id) {
		return nil, sessions.ErrNotFound
	}
	return bytes.Clone(s.data[id]), nil
}

func (s *condBytes) Save(ctx context.Context, id string, data []byte, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data[id], s.expires[id] = bytes.Clone(data), expires
	return nil
}

func (s *condBytes) Delete(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, id)
	delete(s.expires, id)
	return nil
}

func (s *condBytes) SaveIfAbsent(ctx context.Context, id string, data []byte, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live(id) {
		return fmt.Errorf("condBytes: %w", sessions.ErrExists)
	}
	s.data[id], s.expires[id] = bytes.Clone(data), expires
	return nil
}

func (s *condBytes) SaveIfLive(ctx context.Context, id string, data []byte, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.live(id) {
		return fmt.Errorf("condBytes: %w", sessions.ErrNotFound)
	}
	s.data[id], s.expires[id] = bytes.Clone(data), expires
	return nil
}

func TestFromBytesConditional(t *testing.T) {
	ctx := t.Context()
	if _, ok := sessions.FromBytes(newMapStore()).(sessions.ConditionalWriter); ok {
		t.Fatal("FromBytes of a ByteStorage without SaveIfAbsent and SaveIfLive is a ConditionalWriter; want it not to promise conditional writes")
	}
	cw, ok := sessions.FromBytes(newCondBytes()).(sessions.ConditionalWriter)
	if !ok {
		t.Fatal("FromBytes of a ConditionalByteStorage is not a ConditionalWriter")
	}
	val := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if err := cw.Replace(ctx, "a", time.Time{}, val("x")); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Replace of an absent id = %v, want ErrNotFound", err)
	}
	if err := cw.Create(ctx, "a", time.Time{}, val("x")); err != nil {
		t.Errorf("Create of an absent id = %v, want nil", err)
	}
	if err := cw.Create(ctx, "a", time.Time{}, val("y")); !errors.Is(err, sessions.ErrExists) {
		t.Errorf("Create of a live id = %v, want ErrExists", err)
	}
	boom := errors.New("boom")
	if err := cw.Replace(ctx, "a", time.Time{}, func(w io.Writer) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("Replace with a failing write func = %v, want its error", err)
	}
	if err := cw.Replace(ctx, "a", time.Time{}, val("z")); err != nil {
		t.Errorf("Replace of a live id = %v, want nil", err)
	}
	for _, err := range []error{cw.Create(ctx, "../a", time.Time{}, val("x")), cw.Replace(ctx, "", time.Time{}, val("x"))} {
		if !errors.Is(err, sessions.ErrInvalidID) {
			t.Errorf("conditional write of an invalid id = %v, want ErrInvalidID", err)
		}
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := cw.Replace(canceled, "a", time.Time{}, val("w")); !errors.Is(err, context.Canceled) {
		t.Errorf("Replace with a canceled context = %v, want context.Canceled", err)
	}
	var got bytes.Buffer
	if err := cw.(sessions.Storage).Read(ctx, "a", func(r io.Reader) error { _, err := got.ReadFrom(r); return err }); err != nil || got.String() != "z" {
		t.Errorf("Read after the conditional writes = %q, %v; want \"z\"", got.String(), err)
	}
}
