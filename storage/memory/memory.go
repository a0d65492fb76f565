package memory

import (
	"context"
	"fmt"
	"hash/maphash"
	"io"
	"iter"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// New returns an empty Store configured by opts.
//
// Unless WithSweepInterval(0) is given, New starts a background goroutine
// that removes expired entries; call Close to stop it when the Store is no
// longer needed.
func New(opts ...Option) *Store {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	s := &Store{seed: maphash.MakeSeed(), opts: o}
	for i := range s.shards {
		s.shards[i].init()
		s.index[i].m = make(map[string]map[string]struct{})
	}
	if o.sweepInterval > 0 {
		// The stop and done are made here, not in the goroutine: a Close that
		// runs before the goroutine is scheduled must still find them (the
		// race alexedwards/scs had).
		ctx, stop := context.WithCancel(context.Background())
		s.stop = stop
		s.done = make(chan struct{})
		go s.sweepLoop(ctx, o.sweepInterval)
	}
	return s
}

// Write implements [sessions.Storage]. What is particular to this Store:
// write runs against an in-memory buffer, whose bytes are copied in whole
// at the end, so nothing the caller does with its buffers later changes the
// entry. With [WithMaxBytes], a value longer than the bound fails with an
// error wrapping [sessions.ErrTooLarge]; with either bound, storing may
// evict other entries (see the package documentation for the order).
func (s *Store) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	if err := s.checkCall(ctx, "write", id); err != nil {
		return err
	}
	// The store keeps an exact-size copy: callers may reuse whatever
	// buffers they passed to the writer.
	var data []byte
	if err := sessions.WriteBuffered(write, func(b []byte) error {
		data = append(make([]byte, 0, len(b)), b...)
		return nil
	}); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessionkit/memory: write: %w", err)
	}
	if s.opts.maxBytes > 0 && int64(len(data)) > s.opts.maxBytes {
		return fmt.Errorf("sessionkit/memory: write: value of %d bytes exceeds the bound of %d bytes: %w",
			len(data), s.opts.maxBytes, sessions.ErrTooLarge)
	}
	exp := expiresNanos(expires)
	home := s.shardIndex(id)
	sh := &s.shards[home]
	sh.mu.Lock()
	if s.closed.Load() {
		sh.mu.Unlock()
		return errClosed
	}
	if exp != 0 && exp <= s.now() {
		s.removeLocked(sh, id)
		sh.mu.Unlock()
		return nil
	}
	e, dEntries, dBytes := sh.put(id, data, exp)
	s.refileLocked(e, "") // a Write files under no index key
	if s.bounded() {
		s.entries.Add(dEntries)
		s.bytes.Add(dBytes)
	}
	sh.mu.Unlock()
	if s.bounded() {
		s.evict(home, e)
	}
	return nil
}

// Read implements [sessions.Storage]. What is particular to this Store:
// the reader yields a copy of the stored bytes, so a Write or Invalidate
// that runs concurrently does not change what it yields.
func (s *Store) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	data, _, err := s.lookup(ctx, "read", id)
	if err != nil {
		return err
	}
	return read(&reader{data: data})
}

// ReadWithExpiry is Read that also passes read the expiry of the entry (the
// zero Time if it never expires). It has the same errors as Read.
//
// It lets a cache in front of the Store (package
// github.com/sessionkit/sessionkit/storage/cache) keep values it loads
// without serving them past their expiry.
func (s *Store) ReadWithExpiry(ctx context.Context, id string, read func(r io.Reader, expires time.Time) error) error {
	data, exp, err := s.lookup(ctx, "read", id)
	if err != nil {
		return err
	}
	var t time.Time
	if exp != 0 {
		t = time.Unix(0, exp)
	}
	return read(&reader{data: data}, t)
}

// lookup returns the live value and expiry of id. The slice is immutable,
// so it is handed out after the lock is released.
func (s *Store) lookup(ctx context.Context, op, id string) ([]byte, int64, error) {
	if err := s.checkCall(ctx, op, id); err != nil {
		return nil, 0, err
	}
	sh := s.shard(id)
	sh.mu.RLock()
	e := sh.m[id]
	var (
		data []byte
		exp  int64
	)
	if e != nil {
		data, exp = e.data, e.expires
	}
	sh.mu.RUnlock()
	// The clock is read only for entries that can expire: it is the most
	// expensive step of a Read.
	if e == nil || exp != 0 && exp <= s.now() {
		return nil, 0, errNotFound
	}
	return data, exp, nil
}

// Invalidate implements [sessions.Storage]. It frees the entry's memory at
// once.
func (s *Store) Invalidate(ctx context.Context, id string) error {
	if err := s.checkCall(ctx, "invalidate", id); err != nil {
		return err
	}
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.closed.Load() {
		return errClosed
	}
	s.removeLocked(sh, id)
	return nil
}

// Touch implements [sessions.Toucher]: it moves the expiry under the
// shard's lock, without copying the content.
func (s *Store) Touch(ctx context.Context, id string, expires time.Time) error {
	if err := s.checkCall(ctx, "touch", id); err != nil {
		return err
	}
	exp := expiresNanos(expires)
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.closed.Load() {
		return errClosed
	}
	now := s.now()
	e := sh.m[id]
	if e == nil {
		return errNotFound
	}
	if !e.liveAt(now) {
		s.removeLocked(sh, id) // it is garbage; we hold the lock anyway
		return errNotFound
	}
	if exp != 0 && exp <= now {
		s.removeLocked(sh, id)
		return nil
	}
	e.expires = exp
	sh.fix(e)
	return nil
}

// List yields the id of every live entry, each once, with a nil error; it
// never yields an expired id. An entry written or removed while the
// iteration runs may or may not be yielded.
//
// The iteration holds no lock while it yields, so the loop body may call
// the Store. It yields ("", err) and stops if ctx is done (err wraps
// ctx.Err()) or the Store is closed (err wraps [sessions.ErrClosed]).
func (s *Store) List(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		var ids []string
		for i := range s.shards {
			if s.closed.Load() {
				yield("", errClosed)
				return
			}
			if err := ctx.Err(); err != nil {
				yield("", fmt.Errorf("sessionkit/memory: list: %w", err))
				return
			}
			sh := &s.shards[i]
			now := s.now()
			ids = ids[:0]
			sh.mu.RLock()
			for id, e := range sh.m {
				if e.liveAt(now) {
					ids = append(ids, id)
				}
			}
			sh.mu.RUnlock()
			for _, id := range ids {
				if !yield(id, nil) {
					return
				}
			}
		}
	}
}

// Close stops the background sweeper, waiting for it to finish, and drops
// every entry. After Close every method returns an error wrapping
// [sessions.ErrClosed], including Close itself; calls that run concurrently
// with Close may see the Store open or closed.
func (s *Store) Close() error {
	first := false
	s.once.Do(func() {
		first = true
		s.closed.Store(true)
		if s.stop != nil {
			s.stop()
			<-s.done
		}
		for i := range s.shards {
			sh := &s.shards[i]
			sh.mu.Lock()
			sh.m, sh.heap, sh.bytes = nil, nil, 0
			sh.publish()
			sh.mu.Unlock()
		}
		// No write can file anything now: each one that took its shard's
		// lock before the loop above has finished, and later ones see
		// closed under that lock.
		for i := range s.index {
			is := &s.index[i]
			is.mu.Lock()
			is.m = make(map[string]map[string]struct{})
			is.mu.Unlock()
		}
		s.entries.Store(0)
		s.bytes.Store(0)
	})
	if !first {
		return errClosed
	}
	return nil
}
