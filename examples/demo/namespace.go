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
// app shares between kinds: every key gets prefix, and List yields only the
// keys of this namespace, without it. The store's keys are already
// per-provider hashes (the middleware never stores a raw id), so this only
// lets the sessions page list Login sessions without reading API ones. It
// offers exactly the store's capabilities, through sessions.Compose, except
// Close and DeleteExpired, which belong to the shared store.
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
