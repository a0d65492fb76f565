package storagetest

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// errWriteFunc and errReadFunc are the errors of the failing callbacks;
// Write and Read must return them so that errors.Is finds them.
var (
	errWriteFunc = errors.New("storagetest: the write func failed on purpose")
	errReadFunc  = errors.New("storagetest: the read func failed on purpose")
)

func (s *suite) writeErrorCases() []testCase {
	return []testCase{
		{"KeepsOldContent", func(t *testing.T) { s.testFailedWrite(t, failAtOnce, true) }},
		{"NewIDNotCreated", func(t *testing.T) { s.testFailedWrite(t, failAtOnce, false) }},
		{"HalfWrittenKeepsOld", func(t *testing.T) { s.testFailedWrite(t, failHalfway, true) }},
		{"HalfWrittenNewIDNotCreated", func(t *testing.T) { s.testFailedWrite(t, failHalfway, false) }},
	}
}

func (s *suite) readErrorCases() []testCase {
	return []testCase{
		{"Returned", s.testReadErrorReturned},
		{"KeepsContent", s.testReadErrorKeepsContent},
	}
}

// failure is a failing write func: how much it writes before it fails.
type failure struct {
	name  string
	write func(io.Writer) error
}

var (
	failAtOnce = failure{"a write func that fails before writing", func(io.Writer) error {
		return errWriteFunc
	}}
	failHalfway = failure{"a write func that writes 3000 bytes and then fails", func(w io.Writer) error {
		if err := writeChunks(value(9, 3000), 1000)(w); err != nil {
			return err
		}
		return errWriteFunc
	}}
)

// testFailedWrite: a Write whose write func fails returns that error and
// leaves the id as it was: the old content when it had one, absent when it
// had none.
func (s *suite) testFailedWrite(t *testing.T, f failure, existing bool) {
	st := s.newStorage(t)
	old := value(1, 5000)
	var live []string
	if existing {
		mustPut(t, st, "target", later(), old)
		live = []string{"target"}
	}
	err := st.Write(t.Context(), "target", later(), f.write)
	if !errors.Is(err, errWriteFunc) {
		t.Errorf("Write with %s returned %v, want the write func's error (errors.Is)", f.name, err)
	}
	if existing {
		wantContent(t, st, "target", old, "Read after a Write with "+f.name+" (the earlier content must be untouched)")
	} else {
		wantNotFound(t, st, "target", "Read of a new id after a Write with "+f.name+" (nothing must be created)")
	}
	wantListed(t, st, live, "after a Write with "+f.name)
}

// testReadErrorReturned: Read returns the read func's error.
func (s *suite) testReadErrorReturned(t *testing.T) {
	st := s.newStorage(t)
	mustPut(t, st, "target", later(), value(1, 5000))
	for _, c := range []struct {
		name string
		read func(io.Reader) error
	}{
		{"fails before reading", func(io.Reader) error { return errReadFunc }},
		{"reads 10 bytes and fails", func(r io.Reader) error {
			if _, err := io.ReadFull(r, make([]byte, 10)); err != nil {
				return err
			}
			return errReadFunc
		}},
		{"reads everything and fails", func(r io.Reader) error {
			if _, err := io.Copy(io.Discard, r); err != nil {
				return err
			}
			return errReadFunc
		}},
	} {
		if err := st.Read(t.Context(), "target", c.read); !errors.Is(err, errReadFunc) {
			t.Errorf("Read with a read func that %s returned %v, want the read func's error (errors.Is)", c.name, err)
		}
	}
}

// testReadErrorKeepsContent: a read func's failure says nothing about the
// content; the storage keeps it (it must not, say, drop an entry it thinks
// corrupt).
func (s *suite) testReadErrorKeepsContent(t *testing.T) {
	st := s.newStorage(t)
	v := value(1, 5000)
	mustPut(t, st, "target", later(), v)
	_ = st.Read(t.Context(), "target", func(io.Reader) error { return errReadFunc })
	wantContent(t, st, "target", v, "Read after a Read whose read func failed")
}

func (s *suite) contextCases() []testCase {
	return []testCase{
		{"CanceledWrite", s.testCanceledWrite},
		{"CanceledWriteNewID", s.testCanceledWriteNewID},
		{"CanceledRead", s.testCanceledRead},
		{"CanceledInvalidate", s.testCanceledInvalidate},
		{"CanceledTouch", s.testCanceledTouch},
		{"CanceledList", s.testCanceledList},
		{"CanceledDeleteExpired", s.testCanceledDeleteExpired},
		{"DeadlineExceeded", s.testDeadlineExceeded},
	}
}

// wantCanceled checks that err wraps context.Canceled.
func wantCanceled(t *testing.T, err error, call string) {
	t.Helper()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%s under a canceled context returned %v, want an error wrapping context.Canceled (errors.Is)", call, err)
	}
}

// testCanceledWrite: a Write under a canceled context fails and stores
// nothing; the old content stays.
func (s *suite) testCanceledWrite(t *testing.T) {
	st := s.newStorage(t)
	old := value(1, 100)
	mustPut(t, st, "target", later(), old)
	wantCanceled(t, put(canceledContext(t), st, "target", later(), value(2, 100)), "Write")
	wantContent(t, st, "target", old, "Read after a Write under a canceled context (the earlier content must be untouched)")
}

// testCanceledWriteNewID: a Write of a new id under a canceled context
// creates nothing.
func (s *suite) testCanceledWriteNewID(t *testing.T) {
	st := s.newStorage(t)
	wantCanceled(t, put(canceledContext(t), st, "target", later(), value(2, 100)), "Write")
	wantNotFound(t, st, "target", "Read of a new id after a Write under a canceled context")
	wantListed(t, st, nil, "after a Write under a canceled context")
}

// testCanceledRead: a Read under a canceled context fails without calling
// the read func.
func (s *suite) testCanceledRead(t *testing.T) {
	st := s.newStorage(t)
	mustPut(t, st, "target", later(), value(1, 100))
	called := false
	err := st.Read(canceledContext(t), "target", func(r io.Reader) error {
		called = true
		_, err := io.Copy(io.Discard, r)
		return err
	})
	wantCanceled(t, err, "Read")
	if called {
		t.Errorf("Read under a canceled context called the read func; want no effect")
	}
}

// testCanceledInvalidate: an Invalidate under a canceled context fails and
// removes nothing.
func (s *suite) testCanceledInvalidate(t *testing.T) {
	st := s.newStorage(t)
	v := value(1, 100)
	mustPut(t, st, "target", later(), v)
	wantCanceled(t, st.Invalidate(canceledContext(t), "target"), "Invalidate")
	wantContent(t, st, "target", v, "Read after an Invalidate under a canceled context (nothing must be removed)")
}

// testCanceledTouch: a Touch under a canceled context fails and leaves the
// expiry as it was.
func (s *suite) testCanceledTouch(t *testing.T) {
	st := s.newStorage(t)
	to, ok := st.(sessions.Toucher)
	if !ok {
		t.Skip("the storage does not implement sessions.Toucher")
	}
	v := value(1, 100)
	mustPut(t, st, "target", later(), v)
	wantCanceled(t, to.Touch(canceledContext(t), "target", past()), "Touch")
	wantContent(t, st, "target", v, "Read after a Touch to the past under a canceled context (the expiry must be untouched)")
}

// testCanceledList: a List under a canceled context yields the context's
// error and no ids.
func (s *suite) testCanceledList(t *testing.T) {
	st := s.newStorage(t)
	l, ok := st.(sessions.Lister)
	if !ok {
		t.Skip("the storage does not implement sessions.Lister")
	}
	mustPut(t, st, "target", later(), value(1, 100))
	ids, err := list(canceledContext(t), l)
	wantCanceled(t, err, "List")
	if len(ids) > 0 {
		t.Errorf("List under a canceled context yielded %d ids before its error, want none", len(ids))
	}
}

// testCanceledDeleteExpired: a DeleteExpired under a canceled context fails
// and removes nothing: a sweep under a live context still finds the
// expired entry.
func (s *suite) testCanceledDeleteExpired(t *testing.T) {
	st := s.newStorage(t)
	sw, ok := st.(sessions.Sweeper)
	if !ok {
		t.Skip("the storage does not implement sessions.Sweeper")
	}
	exp := s.soon()
	mustPut(t, st, "expiring", exp, value(1, 100))
	s.waitPast(exp)
	n, err := sw.DeleteExpired(canceledContext(t))
	wantCanceled(t, err, "DeleteExpired")
	if n != 0 {
		t.Errorf("DeleteExpired under a canceled context reported %d entries removed, want 0", n)
	}
	if n, err := sw.DeleteExpired(t.Context()); err != nil || n != 1 {
		t.Errorf("DeleteExpired after one under a canceled context returned (%d, %v), want (1, nil): the expired entry must still have been there", n, err)
	}
}

// testDeadlineExceeded: the rule holds for every way a context ends; the
// error wraps ctx.Err(), here context.DeadlineExceeded.
func (s *suite) testDeadlineExceeded(t *testing.T) {
	st := s.newStorage(t)
	v := value(1, 100)
	mustPut(t, st, "target", later(), v)
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	for _, c := range []struct {
		call string
		err  error
	}{
		{"Write", put(ctx, st, "target", later(), value(2, 100))},
		{"Read", st.Read(ctx, "target", func(io.Reader) error { return nil })},
		{"Invalidate", st.Invalidate(ctx, "target")},
	} {
		if !errors.Is(c.err, context.DeadlineExceeded) {
			t.Errorf("%s under a context past its deadline returned %v, want an error wrapping context.DeadlineExceeded (errors.Is)", c.call, c.err)
		}
	}
	wantContent(t, st, "target", v, "Read after Write and Invalidate under a context past its deadline")
}
