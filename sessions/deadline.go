package sessions

import (
	"context"
	"sync"
	"time"
)

// commitDeadline is the context of one provider's storage calls during a
// commit: the request's context without its cancellation, done at a
// deadline. It is context.WithTimeout without its cost on the common path:
// no timer runs until someone waits on Done (a storage that only checks
// Err, as FromBytes does, never starts one), and it lives inside the
// request's state rather than in allocations of its own.
//
// It keeps the Context contract: Err is nil until Done is closed (Err
// closes Done itself when it finds the deadline passed), and contexts
// derived from it are cancelled through AfterFunc, without a goroutine
// each. release ends it as a cancel function would.
type commitDeadline struct {
	parent   context.Context // never done
	deadline time.Time

	mu    sync.Mutex
	done  chan struct{} // made on the first Done
	timer *time.Timer
	err   error
	after map[*afterFunc]struct{}
}

type afterFunc struct{ f func() }

var _ context.Context = (*commitDeadline)(nil)

func (c *commitDeadline) start(parent context.Context, d time.Duration) {
	c.parent, c.deadline = parent, time.Now().Add(d)
}

func (c *commitDeadline) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *commitDeadline) Value(key any) any           { return c.parent.Value(key) }

func (c *commitDeadline) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && !time.Now().Before(c.deadline) {
		c.endLocked(context.DeadlineExceeded)
	}
	return c.err
}

func (c *commitDeadline) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		} else {
			c.timer = time.AfterFunc(time.Until(c.deadline), func() { c.end(context.DeadlineExceeded) })
		}
	}
	return c.done
}

// AfterFunc runs f in its own goroutine once c is done; stop unregisters
// it and reports whether it did so before f started. The context package
// uses it for the contexts derived from c.
func (c *commitDeadline) AfterFunc(f func()) (stop func() bool) {
	c.Done() // the deadline must now be watched
	c.mu.Lock()
	defer c.mu.Unlock()
	a := &afterFunc{f}
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	if c.after == nil {
		c.after = map[*afterFunc]struct{}{}
	}
	c.after[a] = struct{}{}
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, ok := c.after[a]
		delete(c.after, a)
		return ok
	}
}

func (c *commitDeadline) end(err error) {
	c.mu.Lock()
	c.endLocked(err)
	c.mu.Unlock()
}

func (c *commitDeadline) endLocked(err error) {
	if c.err != nil {
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	for a := range c.after {
		go a.f()
	}
	c.after = nil
}

// release ends c once the commit's calls returned, as the cancel function
// of context.WithTimeout would: a storage that kept c sees it cancelled.
func (c *commitDeadline) release() {
	if c.parent != nil {
		c.end(context.Canceled)
	}
}
