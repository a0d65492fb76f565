package redis

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessionkit/sessions"
)

// Store is a [sessions.Storage] that keeps each session as one Redis string
// key, prefix + id, with a native Redis expiry; the value is a small frame
// recording the index key the entry is filed under, then the content. It
// also implements [sessions.Toucher], [sessions.ConditionalWriter],
// [sessions.ExpiryReader], [sessions.Indexer], [sessions.Lister] and
// [io.Closer]. It needs no Sweeper: Redis removes expired keys itself, and
// the sets that file entries by index key expire with their last entry.
//
// Every write of an entry is a single command on its key, so a Store is
// safe for concurrent use by multiple goroutines and inherits Redis's
// atomicity: concurrent Writes to one id end with exactly one of the
// written values, and a Read sees either a whole old or a whole new value.
type Store struct {
	client    goredis.UniversalClient
	prefix    string
	pattern   string // SCAN MATCH pattern: the escaped prefix followed by *
	scanCount int64
	// oneNode is true when every key lives on one server (a *goredis.Client:
	// a single server or a Sentinel-managed primary), so that one MULTI can
	// hold an entry and the set of its index key. On a Cluster or a Ring
	// they are in different slots or shards.
	oneNode bool
	closed  atomic.Bool
}

// Errors returned as is, so the hot paths allocate nothing to report them.
var (
	errNotFound = sessions.ErrNotFound // the sentinel itself: a prefix would only stack
	errClosed   = sessions.ErrClosed
)

// check runs the checks every operation on one id starts with, in the order
// the contract sets: the id before anything else, then Close, then the
// context, so that a call that cannot succeed sends nothing.
func (s *Store) check(ctx context.Context, op, id string) error {
	if err := sessions.CheckID(id); err != nil {
		return err // it says all there is: no prefix to stack on it
	}
	return s.ready(ctx, op)
}

// checkIndexed runs the checks of an indexed write: the id, the index key
// (empty or a valid id), then Close and the context.
func (s *Store) checkIndexed(ctx context.Context, op, id, index string) error {
	if err := sessions.CheckID(id); err != nil {
		return err
	}
	if index != "" {
		if err := sessions.CheckID(index); err != nil {
			return err
		}
	}
	return s.ready(ctx, op)
}

// ready reports [sessions.ErrClosed] after Close and the context's error when
// ctx is done.
func (s *Store) ready(ctx context.Context, op string) error {
	if s.closed.Load() {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sessionkit/redis: %s: %w", op, err)
	}
	return nil
}

// wrap turns a driver error into the Store's error. When the context is done
// by the time the command failed, the context's error is wrapped as well:
// go-redis reports an expired deadline as a network timeout, and callers
// should be able to test for context.DeadlineExceeded.
func wrap(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("sessionkit/redis: %s: %w: %w", op, cerr, err)
	}
	return fmt.Errorf("sessionkit/redis: %s: %w", op, err)
}
