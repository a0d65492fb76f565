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

	// checkID and checkCtx are the checks every method starts with, and
	// checkKey the check of index keys; broken storages replace them.
	checkID  func(id string) error
	checkKey func(index string) error
	checkCtx func(ctx context.Context) error
}

type refData struct {
	mu      sync.Mutex
	entries map[string]refEntry
	// filed is the index: the ids filed under each index key. Unless lazy
	// is set, put and del keep it exact, in the same step as the entry
	// changes; an expired entry stays filed until it is swept or
	// overwritten, and ReadIndex skips it.
	filed map[string]map[string]bool
	// lazy makes the index the "lazy filtering" of docs/storage-authors.md:
	// writes only add filings, each entry records its index key, and
	// ReadIndex yields a filed id only if its entry is live and records
	// that index key, removing the filings that fail the check.
	lazy bool
}

type refEntry struct {
	data    []byte
	expires time.Time // zero: never
	index   string    // the index key the entry is filed under; "": none
}

// put stores e as the entry of id and moves its filing to e.index. The
// caller holds d.mu.
func (d *refData) put(id string, e refEntry) {
	if old, ok := d.entries[id]; ok && !d.lazy {
		d.unfile(id, old.index)
	}
	d.entries[id] = e
	d.file(id, e.index)
}

// del removes the entry of id and its filing. The caller holds d.mu.
func (d *refData) del(id string) {
	if old, ok := d.entries[id]; ok && !d.lazy {
		d.unfile(id, old.index)
	}
	delete(d.entries, id)
}

// file and unfile add id to and remove it from the filing set of index.
// The caller holds d.mu.
func (d *refData) file(id, index string) {
	if index == "" {
		return
	}
	ids := d.filed[index]
	if ids == nil {
		ids = make(map[string]bool)
		d.filed[index] = ids
	}
	ids[id] = true
}

func (d *refData) unfile(id, index string) {
	if ids := d.filed[index]; ids != nil {
		delete(ids, id)
		if len(ids) == 0 {
			delete(d.filed, index)
		}
	}
}

func (e refEntry) live(now time.Time) bool {
	return e.expires.IsZero() || now.Before(e.expires)
}

func newRefStore() *refStore {
	return openRefStore(&refData{entries: make(map[string]refEntry), filed: make(map[string]map[string]bool)})
}

func openRefStore(d *refData) *refStore {
	return &refStore{
		d:        d,
		checkID:  sessions.CheckID,
		checkKey: sessions.CheckID,
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
	_ sessions.Indexer           = (*refStore)(nil)
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
	s.d.put(id, refEntry{data: buf.Bytes(), expires: expires})
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
	s.d.del(id)
	return nil
}

// Create and Replace buffer the write func's output first and check their
// condition under the lock, when the entry is stored: checking before the
// write func runs would let a concurrent Invalidate or Create slip between.
func (s *refStore) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.CreateIndexed(ctx, id, "", expires, write)
}

func (s *refStore) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.ReplaceIndexed(ctx, id, "", expires, write)
}

// CreateIndexed and ReplaceIndexed are Create and Replace that file the
// entry under index in the same step, under the lock.
func (s *refStore) CreateIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, id, index, expires, write, func(e refEntry, ok bool) error {
		if ok && e.live(time.Now()) {
			return fmt.Errorf("ref: %w", sessions.ErrExists)
		}
		return nil
	})
}

func (s *refStore) ReplaceIndexed(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error) error {
	return s.writeIf(ctx, id, index, expires, write, func(e refEntry, ok bool) error {
		if !ok || !e.live(time.Now()) {
			return fmt.Errorf("ref: %w", sessions.ErrNotFound)
		}
		return nil
	})
}

func (s *refStore) writeIf(ctx context.Context, id, index string, expires time.Time, write func(io.Writer) error, cond func(refEntry, bool) error) error {
	if err := s.begin(ctx, id); err != nil {
		return err
	}
	if err := s.checkIndex(index); err != nil {
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
	s.d.put(id, refEntry{data: buf.Bytes(), expires: expires, index: index})
	return nil
}

// checkIndex checks an index key given to CreateIndexed or ReplaceIndexed:
// "" (filed under none) or a valid id.
func (s *refStore) checkIndex(index string) error {
	if index == "" {
		return nil
	}
	return s.checkKey(index)
}

// beginIndex runs the checks ReadIndex starts with.
func (s *refStore) beginIndex(ctx context.Context, index string) error {
	if s.closed.Load() {
		return fmt.Errorf("ref: %w", sessions.ErrClosed)
	}
	if err := s.checkKey(index); err != nil {
		return err
	}
	return s.checkCtx(ctx)
}

// ReadIndex collects the live entries filed under index under the lock and
// calls read for each after releasing it, so that read may call the store.
// The exact index is trusted; the lazy one is checked against each entry,
// and the filings that fail the check are removed.
func (s *refStore) ReadIndex(ctx context.Context, index string, read func(id string, expires time.Time, r io.Reader) error) error {
	if err := s.beginIndex(ctx, index); err != nil {
		return err
	}
	now := time.Now()
	return s.yieldIndexed(s.collect(index, func(_ string, e refEntry, ok bool) bool {
		return ok && e.live(now) && (!s.d.lazy || e.index == index)
	}), read)
}

// indexed is one entry ReadIndex yields.
type indexed struct {
	id string
	e  refEntry
}

// collect returns, under the lock, the entries filed under index that keep
// says to yield; e is the zero refEntry and ok false for a filed id with no
// entry. With a lazy index, it removes the filings keep rejects.
func (s *refStore) collect(index string, keep func(id string, e refEntry, ok bool) bool) []indexed {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	var out []indexed
	for id := range s.d.filed[index] {
		e, ok := s.d.entries[id]
		switch {
		case keep(id, e, ok):
			out = append(out, indexed{id, e})
		case s.d.lazy:
			s.d.unfile(id, index)
		}
	}
	return out
}

// yieldIndexed calls read for each entry, stopping at its first error.
func (s *refStore) yieldIndexed(entries []indexed, read func(id string, expires time.Time, r io.Reader) error) error {
	for _, x := range entries {
		if err := read(x.id, x.e.expires, bytes.NewReader(x.e.data)); err != nil {
			return err
		}
	}
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
			s.d.del(id)
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
