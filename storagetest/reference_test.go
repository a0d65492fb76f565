package storagetest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// refStore is the reference storage: the simplest correct implementation of
// sessions.Storage with every optional capability. It must pass Run; the
// broken storages of broken_test.go each change one thing about it and
// must fail.
//
// Several refStores can share one refData: that is how reopening is
// modelled, the data standing for what a durable storage keeps on disk.
type refStore struct {
	d      *refData
	closed atomic.Bool

	// checkID and checkCtx are the checks every method starts with; broken
	// storages replace them.
	checkID  func(id string) error
	checkCtx func(ctx context.Context) error
}

type refData struct {
	mu      sync.Mutex
	entries map[string]refEntry
}

type refEntry struct {
	data    []byte
	expires time.Time // zero: never
}

func (e refEntry) live(now time.Time) bool {
	return e.expires.IsZero() || now.Before(e.expires)
}

func newRefStore() *refStore {
	return openRefStore(&refData{entries: make(map[string]refEntry)})
}

func openRefStore(d *refData) *refStore {
	return &refStore{
		d:        d,
		checkID:  sessions.CheckID,
		checkCtx: func(ctx context.Context) error { return ctx.Err() },
	}
}

var (
	_ sessions.Storage           = (*refStore)(nil)
	_ sessions.Toucher           = (*refStore)(nil)
	_ sessions.Lister            = (*refStore)(nil)
	_ sessions.Sweeper           = (*refStore)(nil)
	_ sessions.ConditionalWriter = (*refStore)(nil)
	_ sessions.ExpiryReader      = (*refStore)(nil)
	_ io.Closer                  = (*refStore)(nil)
)

// begin runs the checks every method starts with.
func (s *refStore) begin(ctx context.Context, id string) error {
	if s.closed.Load() {
		return fmt.Errorf("ref: %w", sessions.ErrClosed)
	}
	if err := s.checkID(id); err != nil {
		return err
	}
	return s.checkCtx(ctx)
}

func (s *refStore) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	// The write func may have been slow; the context may have ended since.
	if err := s.checkCtx(ctx); err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	s.d.entries[id] = refEntry{data: buf.Bytes(), expires: expires}
	return nil
}

func (s *refStore) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	s.d.mu.Lock()
	e, ok := s.d.entries[id]
	s.d.mu.Unlock()
	if !ok || !e.live(time.Now()) {
		return fmt.Errorf("ref: %w", sessions.ErrNotFound)
	}
	// Entries are never modified in place, only replaced, so reading e.data
	// outside the lock is safe.
	return read(bytes.NewReader(e.data))
}

func (s *refStore) Invalidate(ctx context.Context, id string) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	delete(s.d.entries, id)
	return nil
}

// Create and Replace buffer the write func's output first and check their
// condition under the lock, when the entry is stored: checking before the
// write func runs would let a concurrent Invalidate or Create slip between.
func (s *refStore) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, id, expires, write, func(e refEntry, ok bool) error {
		if ok && e.live(time.Now()) {
			return fmt.Errorf("ref: %w", sessions.ErrExists)
		}
		return nil
	})
}

func (s *refStore) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, id, expires, write, func(e refEntry, ok bool) error {
		if !ok || !e.live(time.Now()) {
			return fmt.Errorf("ref: %w", sessions.ErrNotFound)
		}
		return nil
	})
}

func (s *refStore) writeIf(ctx context.Context, id string, expires time.Time, write func(io.Writer) error, cond func(refEntry, bool) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	if err := s.checkCtx(ctx); err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	e, ok := s.d.entries[id]
	if err := cond(e, ok); err != nil {
		return err
	}
	s.d.entries[id] = refEntry{data: buf.Bytes(), expires: expires}
	return nil
}

func (s *refStore) ReadWithExpiry(ctx context.Context, id string, read func(io.Reader, time.Time) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	s.d.mu.Lock()
	e, ok := s.d.entries[id]
	s.d.mu.Unlock()
	if !ok || !e.live(time.Now()) {
		return fmt.Errorf("ref: %w", sessions.ErrNotFound)
	}
	return read(bytes.NewReader(e.data), e.expires)
}

func (s *refStore) Touch(ctx context.Context, id string, expires time.Time) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	e, ok := s.d.entries[id]
	if !ok || !e.live(time.Now()) {
		return fmt.Errorf("ref: %w", sessions.ErrNotFound)
	}
	e.expires = expires
	s.d.entries[id] = e
	return nil
}

func (s *refStore) List(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := s.begin(ctx, "list"); err != nil {
			yield("", err)
			return
		}
		now := time.Now()
		s.d.mu.Lock()
		var ids []string
		for id, e := range s.d.entries {
			if e.live(now) {
				ids = append(ids, id)
			}
		}
		s.d.mu.Unlock()
		for _, id := range ids {
			if !yield(id, nil) {
				return
			}
		}
	}
}

func (s *refStore) DeleteExpired(ctx context.Context) (int, error) {
	if err := s.begin(ctx, "sweep"); err != nil {
		return 0, err
	}
	now := time.Now()
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	n := 0
	for id, e := range s.d.entries {
		if !e.live(now) {
			delete(s.d.entries, id)
			n++
		}
	}
	return n, nil
}

// Close makes every later call return ErrClosed. Closing twice is allowed.
func (s *refStore) Close() error {
	s.closed.Store(true)
	return nil
}
