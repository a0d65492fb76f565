package sessions_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// indexStore is a Storage with ConditionalWriter, Toucher and Indexer over
// a map, for the tests, benchmarks and examples of the index: each entry
// records the index key it is filed under, written with it under one lock,
// so the index is exact. Its clock is now (time.Now unless a test shares
// its fake clock), and it counts calls by method name.
type indexStore struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]indexEntry
	calls   map[string]int
	writes  int // entries written so far, for indexEntry.seq

	failReadIndex  error // returned by ReadIndex when set
	failInvalidate error // returned by Invalidate when set
}

type indexEntry struct {
	data    []byte
	expires time.Time
	index   string
	seq     int // the order of the write that stored it
}

func newIndexStore() *indexStore {
	return &indexStore{now: time.Now, entries: map[string]indexEntry{}, calls: map[string]int{}}
}

// live reports whether e is an entry that has not expired; the caller
// holds the lock.
func (s *indexStore) live(e indexEntry, ok bool) bool {
	return ok && (e.expires.IsZero() || s.now().Before(e.expires))
}

// begin checks what every method checks, counts the call and takes the
// lock; the caller unlocks.
func (s *indexStore) begin(ctx context.Context, method, id string) error {
	if err := sessions.CheckID(id); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.calls[method]++
	return nil
}

func (s *indexStore) count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

func (s *indexStore) resetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.calls)
}

// put stores what write produces under id, filed under index, if cond
// allows it given whether id is live; the caller holds the lock.
func (s *indexStore) put(id, index string, expires time.Time, write func(io.Writer) error, cond func(live bool) error) error {
	if index != "" {
		if err := sessions.CheckID(index); err != nil {
			return err
		}
	}
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	e, ok := s.entries[id]
	if err := cond(s.live(e, ok)); err != nil {
		return err
	}
	s.writes++
	s.entries[id] = indexEntry{data: b.Bytes(), expires: expires, index: index, seq: s.writes}
	return nil
}

func always(bool) error { return nil }

func ifAbsent(live bool) error {
	if live {
		return fmt.Errorf("indexStore: %w", sessions.ErrExists)
	}
	return nil
}

func ifLive(live bool) error {
	if !live {
		return fmt.Errorf("indexStore: %w", sessions.ErrNotFound)
	}
	return nil
}

func (s *indexStore) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, "Write", id); err != nil {
		return err
	}
	defer s.mu.Unlock()
	return s.put(id, "", expires, write, always)
}

func (s *indexStore) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	if err := s.begin(ctx, "Read", id); err != nil {
		return err
	}
	e, ok := s.entries[id]
	live := s.live(e, ok)
	s.mu.Unlock()
	if !live {
		return fmt.Errorf("indexStore: %w", sessions.ErrNotFound)
	}
	return read(bytes.NewReader(e.data))
}

func (s *indexStore) Invalidate(ctx context.Context, id string) error {
	if err := s.begin(ctx, "Invalidate", id); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.failInvalidate != nil {
		return s.failInvalidate
	}
	delete(s.entries, id)
	return nil
}

func (s *indexStore) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, "Create", id); err != nil {
		return err
	}
	defer s.mu.Unlock()
	return s.put(id, "", expires, write, ifAbsent)
}

func (s *indexStore) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, "Replace", id); err != nil {
		return err
	}
	defer s.mu.Unlock()
	return s.put(id, "", expires, write, ifLive)
}

func (s *indexStore) Touch(ctx context.Context, id string, expires time.Time) error {
	if err := s.begin(ctx, "Touch", id); err != nil {
		return err
	}
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	if !s.live(e, ok) {
		return fmt.Errorf("indexStore: %w", sessions.ErrNotFound)
	}
	e.expires = expires
	s.entries[id] = e
	return nil
}

func (s *indexStore) CreateIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, "CreateIndexed", id); err != nil {
		return err
	}
	defer s.mu.Unlock()
	return s.put(id, index, expires, write, ifAbsent)
}

func (s *indexStore) ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	if err := s.begin(ctx, "ReplaceIndexed", id); err != nil {
		return err
	}
	defer s.mu.Unlock()
	return s.put(id, index, expires, write, ifLive)
}

// ReadIndex yields the live entries filed under index, outside the lock,
// the last written first: the reverse of the order List promises, so that
// a List that did not sort would show it.
func (s *indexStore) ReadIndex(ctx context.Context, index string, read func(id string, expires time.Time, r io.Reader) error) error {
	if err := s.begin(ctx, "ReadIndex", index); err != nil {
		return err
	}
	if s.failReadIndex != nil {
		s.mu.Unlock()
		return s.failReadIndex
	}
	type hit struct {
		id string
		e  indexEntry
	}
	var hits []hit
	for id, e := range s.entries {
		if e.index == index && s.live(e, true) {
			hits = append(hits, hit{id, e})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(hits, func(a, b hit) int { return b.e.seq - a.e.seq })
	for _, h := range hits {
		if err := read(h.id, h.e.expires, bytes.NewReader(h.e.data)); err != nil {
			return err
		}
	}
	return nil
}

// filedUnder returns the index key id is filed under and whether id holds
// a live entry.
func (s *indexStore) filedUnder(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[id]
	return e.index, s.live(e, ok)
}

var (
	_ sessions.Indexer           = (*indexStore)(nil)
	_ sessions.ConditionalWriter = (*indexStore)(nil)
	_ sessions.Toucher           = (*indexStore)(nil)
)
