package sessions

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

// TestCommitDeadlineKeepsTheContextContract: the commit's lazy deadline
// context behaves as context.WithTimeout does: done with DeadlineExceeded
// at its deadline, Err nil before, values from its parent, and contexts
// derived from it cancelled with it.
func TestCommitDeadlineKeepsTheContextContract(t *testing.T) {
	parent := context.WithValue(context.Background(), ctxKey{}, "v")
	t.Run("passed deadline", func(t *testing.T) {
		var c commitDeadline
		c.start(parent, -time.Second)
		if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Err = %v; want DeadlineExceeded", err)
		}
		<-c.Done() // closed, or this blocks until the test times out
		if c.Value(ctxKey{}) != "v" {
			t.Fatal("Value does not reach the parent")
		}
	})
	t.Run("deadline ahead", func(t *testing.T) {
		var c commitDeadline
		c.start(parent, time.Hour)
		if err := c.Err(); err != nil {
			t.Fatalf("Err before the deadline = %v", err)
		}
		if d, ok := c.Deadline(); !ok || time.Until(d) < 59*time.Minute {
			t.Fatalf("Deadline = %v, %v", d, ok)
		}
		child, cancel := context.WithCancel(&c)
		defer cancel()
		grand, cancel2 := context.WithTimeout(child, time.Hour)
		defer cancel2()
		c.release()
		<-grand.Done()
		if !errors.Is(c.Err(), context.Canceled) || !errors.Is(grand.Err(), context.Canceled) {
			t.Fatalf("after release: Err %v, derived %v; want Canceled", c.Err(), grand.Err())
		}
	})
	t.Run("timer", func(t *testing.T) {
		var c commitDeadline
		c.start(parent, time.Millisecond)
		<-c.Done()
		if !errors.Is(c.Err(), context.DeadlineExceeded) {
			t.Fatalf("Err = %v; want DeadlineExceeded", c.Err())
		}
	})
	t.Run("AfterFunc stop", func(t *testing.T) {
		var c commitDeadline
		c.start(parent, time.Hour)
		ran := make(chan struct{})
		stop := context.AfterFunc(&c, func() { close(ran) })
		if !stop() {
			t.Fatal("stop before the end reported false")
		}
		c.release()
		select {
		case <-ran:
			t.Fatal("a stopped AfterFunc ran")
		default:
		}
	})
}
