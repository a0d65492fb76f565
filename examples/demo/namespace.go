package main

import (
	"context"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// namespace keeps the entries of one kind of session apart in a store the
// app shares between kinds: every key gets prefix, and so does every index
// key (sessions.Indexer), so that the namespaces' indexes are apart too;
// List and ReadIndex yield only the keys of this namespace, without it. The
// store's keys are already per-provider hashes (the middleware never stores
// a raw id, and index keys hash the provider too), so this only keeps each
// kind's entries recognisable in a dump of the store. It offers exactly the
// store's capabilities, through sessions.Compose, except Close and
// DeleteExpired, which belong to the shared store.
func namespace(s sessions.Storage, prefix string) sessions.Storage {
	n := namespaced{s: s, prefix: prefix}
	has := sessions.CapabilitiesOf(s)
	var c sessions.Capabilities
	if has.Toucher != nil {
		c.Toucher = nsToucher{n, has.Toucher}
	}
	if has.ConditionalWriter != nil {
		c.ConditionalWriter = nsConditional{n, has.ConditionalWriter}
	}
	if has.ExpiryReader != nil {
		c.ExpiryReader = nsExpiry{n, has.ExpiryReader}
	}
	if has.Lister != nil {
		c.Lister = nsLister{n, has.Lister}
	}
	if has.Indexer != nil {
		c.Indexer = nsIndexer{n, has.Indexer}
	}
	return sessions.Compose(n, c)
}

type namespaced struct {
	s      sessions.Storage
	prefix string
}

func (n namespaced) Write(ctx context.Context, key string, exp time.Time, w func(io.Writer) error) error {
	return n.s.Write(ctx, n.prefix+key, exp, w)
}

func (n namespaced) Read(ctx context.Context, key string, r func(io.Reader) error) error {
	return n.s.Read(ctx, n.prefix+key, r)
}

func (n namespaced) Invalidate(ctx context.Context, key string) error {
	return n.s.Invalidate(ctx, n.prefix+key)
}

type nsToucher struct {
	n namespaced
	t sessions.Toucher
}

func (n nsToucher) Touch(ctx context.Context, key string, exp time.Time) error {
	return n.t.Touch(ctx, n.n.prefix+key, exp)
}

type nsConditional struct {
	n namespaced
	c sessions.ConditionalWriter
}

func (n nsConditional) Create(ctx context.Context, key string, exp time.Time, w func(io.Writer) error) error {
	return n.c.Create(ctx, n.n.prefix+key, exp, w)
}

func (n nsConditional) Replace(ctx context.Context, key string, exp time.Time, w func(io.Writer) error) error {
	return n.c.Replace(ctx, n.n.prefix+key, exp, w)
}

type nsExpiry struct {
	n namespaced
	e sessions.ExpiryReader
}

func (n nsExpiry) ReadWithExpiry(ctx context.Context, key string, r func(io.Reader, time.Time) error) error {
	return n.e.ReadWithExpiry(ctx, n.n.prefix+key, r)
}

type nsLister struct {
	n namespaced
	l sessions.Lister
}

func (n nsLister) List(ctx context.Context) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for key, err := range n.l.List(ctx) {
			if err != nil {
				yield("", err)
				return
			}
			if rest, ok := strings.CutPrefix(key, n.n.prefix); ok && !yield(rest, nil) {
				return
			}
		}
	}
}

type nsIndexer struct {
	n namespaced
	i sessions.Indexer
}

// index returns the store's index key for the namespace's index key; ""
// (filed under no index key) stays "".
func (n nsIndexer) index(index string) string {
	if index == "" {
		return ""
	}
	return n.n.prefix + index
}

func (n nsIndexer) CreateIndexed(ctx context.Context, key, index string, exp time.Time, w func(io.Writer) error) error {
	return n.i.CreateIndexed(ctx, n.n.prefix+key, n.index(index), exp, w)
}

func (n nsIndexer) ReplaceIndexed(ctx context.Context, key, index string, exp time.Time, w func(io.Writer) error) error {
	return n.i.ReplaceIndexed(ctx, n.n.prefix+key, n.index(index), exp, w)
}

// ReadIndex reads the namespace's index key of the store. Every key filed
// there is one of the namespace's, written through it; a key without the
// prefix could only come from a writer that bypassed the namespace, and is
// skipped.
func (n nsIndexer) ReadIndex(ctx context.Context, index string, read func(key string, exp time.Time, r io.Reader) error) error {
	return n.i.ReadIndex(ctx, n.index(index), func(key string, exp time.Time, r io.Reader) error {
		rest, ok := strings.CutPrefix(key, n.n.prefix)
		if !ok {
			return nil
		}
		return read(rest, exp, r)
	})
}
