package sessions_test

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// countingStorage is a third-party wrapper that counts the calls to the
// storage it wraps. It forwards Write, Read and Invalidate itself; the
// optional capabilities it forwards are given to Compose only when the
// wrapped storage has them.
type countingStorage struct {
	next  sessions.Storage
	calls atomic.Int64
}

func (c *countingStorage) Write(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	c.calls.Add(1)
	return c.next.Write(ctx, id, expires, write)
}

func (c *countingStorage) Read(ctx context.Context, id string, read func(io.Reader) error) error {
	c.calls.Add(1)
	return c.next.Read(ctx, id, read)
}

func (c *countingStorage) Invalidate(ctx context.Context, id string) error {
	c.calls.Add(1)
	return c.next.Invalidate(ctx, id)
}

// countingToucher counts Touch calls and forwards them.
type countingToucher struct {
	c *countingStorage
	t sessions.Toucher
}

func (t countingToucher) Touch(ctx context.Context, id string, expires time.Time) error {
	t.c.calls.Add(1)
	return t.t.Touch(ctx, id, expires)
}

// withCounting wraps next. Capabilities it does not count (here all but
// Touch) are passed through as next has them; Touch is counted when next can
// touch, and absent when it cannot.
func withCounting(next sessions.Storage) (sessions.Storage, *countingStorage) {
	c := &countingStorage{next: next}
	caps := sessions.CapabilitiesOf(next)
	if caps.Toucher != nil {
		caps.Toucher = countingToucher{c, caps.Toucher}
	}
	return sessions.Compose(c, caps), c
}

// A metrics or tracing wrapper uses Compose so that it has exactly the
// capabilities of the storage it wraps: the middleware picks how it slides
// and creates sessions by type assertion.
func ExampleCompose() {
	inner := sessions.FromBytes(newCondBytes()) // a ConditionalWriter, no Toucher
	s, counter := withCounting(inner)
	_, touches := s.(sessions.Toucher)
	cw, conditional := s.(sessions.ConditionalWriter)
	fmt.Println("Toucher:", touches, "ConditionalWriter:", conditional)

	ctx := context.Background()
	_ = s.Write(ctx, "id", time.Time{}, func(w io.Writer) error { _, err := io.WriteString(w, "v"); return err })
	_ = cw.Replace(ctx, "id", time.Time{}, func(w io.Writer) error { _, err := io.WriteString(w, "w"); return err })
	fmt.Println("counted calls:", counter.calls.Load())
	// Output:
	// Toucher: false ConditionalWriter: true
	// counted calls: 1
}
