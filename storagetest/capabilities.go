package storagetest

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// toucher returns st's Toucher, or skips the subtest when it has none.
func toucher(t *testing.T, st sessions.Storage) sessions.Toucher {
	t.Helper()
	to, ok := st.(sessions.Toucher)
	if !ok {
		t.Skip("the storage does not implement sessions.Toucher")
	}
	return to
}

func (s *suite) toucherCases() []testCase {
	return []testCase{
		{"Later", s.testTouchLater},
		{"Earlier", s.testTouchEarlier},
		{"Zero", s.testTouchZero},
		{"Past", s.testTouchPast},
		{"UnknownID", s.testTouchUnknown},
		{"Expired", s.testTouchExpired},
		{"Invalidated", s.testTouchInvalidated},
	}
}

// touchBefore calls Touch on a live entry and stops the subtest if it fails:
// the rule under test is about what follows. exp is the earliest time the
// entry may expire (its expiry, or the new one); on a machine too slow to
// touch it before exp, touchBefore skips the subtest rather than fail a
// correct storage.
func (s *suite) touchBefore(t *testing.T, to sessions.Toucher, id string, exp, expires time.Time, what string) {
	t.Helper()
	err := to.Touch(t.Context(), id, expires)
	if err != nil && errors.Is(err, sessions.ErrNotFound) && !s.stillLive(exp) {
		t.Skipf("the machine was too slow to touch the entry before it expired; not checking Touch %s", what)
	}
	if err != nil {
		t.Fatalf("Touch of a live entry %s returned %v, want nil", what, err)
	}
}

// testTouchLater: Touch moves a short expiry later; the content stays.
func (s *suite) testTouchLater(t *testing.T) {
	st := s.newStorage(t)
	to := toucher(t, st)
	v := value(1, 100)
	exp := s.soon()
	mustPut(t, st, "slide", exp, v)
	s.touchBefore(t, to, "slide", exp, later(), "to an hour ahead")
	s.waitPast(exp)
	wantContent(t, st, "slide", v, "Read after Touch moved the expiry an hour ahead, once the first expiry passed")
}

// testTouchEarlier: Touch moves an expiry earlier, too.
func (s *suite) testTouchEarlier(t *testing.T) {
	st := s.newStorage(t)
	to := toucher(t, st)
	v := value(1, 100)
	mustPut(t, st, "shorten", later(), v)
	mustPut(t, st, "shorten-never", time.Time{}, v)
	exp := s.soon()
	s.touchBefore(t, to, "shorten", exp, exp, "from an hour ahead to a short expiry")
	s.touchBefore(t, to, "shorten-never", exp, exp, "from no expiry to a short one")
	s.wantLiveBefore(t, st, "shorten", exp, v, "Read after Touch to a short expiry")
	s.waitPast(exp)
	wantNotFound(t, st, "shorten", "Read after Touch moved the expiry from an hour ahead to one that has passed")
	wantNotFound(t, st, "shorten-never", "Read after Touch gave an entry with no expiry one that has passed")
}

// testTouchZero: Touch with the zero Time removes the expiry.
func (s *suite) testTouchZero(t *testing.T) {
	st := s.newStorage(t)
	to := toucher(t, st)
	v := value(1, 100)
	exp := s.soon()
	mustPut(t, st, "forever", exp, v)
	s.touchBefore(t, to, "forever", exp, time.Time{}, "to the zero Time (never)")
	s.waitPast(exp)
	wantContent(t, st, "forever", v, "Read after Touch to the zero Time (never), once the first expiry passed")
}

// testTouchPast: Touch to a time already past expires the entry, as Write
// with such a time stores nothing readable.
func (s *suite) testTouchPast(t *testing.T) {
	st := s.newStorage(t)
	to := toucher(t, st)
	mustPut(t, st, "end", later(), value(1, 100))
	if err := to.Touch(t.Context(), "end", past()); err != nil && !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Touch of a live entry to an hour in the past returned %v, want nil (or ErrNotFound)", err)
	}
	wantNotFound(t, st, "end", "Read after Touch to an hour in the past")
}

// testTouchUnknown: Touch of an id never written reports ErrNotFound and
// creates nothing.
func (s *suite) testTouchUnknown(t *testing.T) {
	st := s.newStorage(t)
	to := toucher(t, st)
	for _, exp := range []time.Time{later(), {}} {
		if err := to.Touch(t.Context(), "unknown", exp); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("Touch of an id never written returned %v, want an error wrapping sessions.ErrNotFound", err)
		}
	}
	wantNotFound(t, st, "unknown", "Read after Touch of an id never written (Touch must not create)")
	wantListed(t, st, nil, "after Touch of an id never written")
}

// testTouchExpired: an expired entry is absent; Touch does not bring it
// back.
func (s *suite) testTouchExpired(t *testing.T) {
	st := s.newStorage(t)
	to := toucher(t, st)
	exp := s.soon()
	mustPut(t, st, "lapsed", exp, value(1, 100))
	s.waitPast(exp)
	if err := to.Touch(t.Context(), "lapsed", later()); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Touch of an expired entry returned %v, want an error wrapping sessions.ErrNotFound", err)
	}
	wantNotFound(t, st, "lapsed", "Read after Touch of an expired entry (Touch must not revive it)")
	wantListed(t, st, nil, "after Touch of an expired entry")
}

// testTouchInvalidated: an invalidated entry is absent; Touch does not bring
// it back.
func (s *suite) testTouchInvalidated(t *testing.T) {
	st := s.newStorage(t)
	to := toucher(t, st)
	mustPut(t, st, "removed", later(), value(1, 100))
	if err := st.Invalidate(t.Context(), "removed"); err != nil {
		t.Fatalf("Invalidate returned %v, want nil", err)
	}
	if err := to.Touch(t.Context(), "removed", later()); !errors.Is(err, sessions.ErrNotFound) {
		t.Errorf("Touch of an invalidated entry returned %v, want an error wrapping sessions.ErrNotFound", err)
	}
	wantNotFound(t, st, "removed", "Read after Touch of an invalidated entry")
}

// lister returns st's Lister, or skips the subtest when it has none.
func lister(t *testing.T, st sessions.Storage) sessions.Lister {
	t.Helper()
	l, ok := st.(sessions.Lister)
	if !ok {
		t.Skip("the storage does not implement sessions.Lister")
	}
	return l
}

func (s *suite) listerCases() []testCase {
	return []testCase{
		{"Empty", s.testListEmpty},
		{"ExactlyLiveIDs", s.testListExactlyLive},
		{"NoExpiredIDs", s.testListNoExpired},
		{"BreakStopsIteration", s.testListBreak},
	}
}

// testListEmpty: a new storage lists nothing.
func (s *suite) testListEmpty(t *testing.T) {
	st := s.newStorage(t)
	lister(t, st)
	wantListed(t, st, nil, "on a new storage")
}

// testListExactlyLive: List yields every live id once, and no removed one.
func (s *suite) testListExactlyLive(t *testing.T) {
	st := s.newStorage(t)
	lister(t, st)
	var live []string
	for i := range 30 {
		id := fmt.Sprintf("live-%02d", i)
		exp := later()
		if i%3 == 0 {
			exp = time.Time{}
		}
		mustPut(t, st, id, exp, value(i, 16))
		if i%5 == 0 {
			if err := st.Invalidate(t.Context(), id); err != nil {
				t.Fatalf("Invalidate returned %v, want nil", err)
			}
			continue
		}
		live = append(live, id)
	}
	// Overwriting an entry does not make it two.
	mustPut(t, st, live[0], later(), value(99, 16))
	wantListed(t, st, live, "after 30 Writes and 6 Invalidates")
}

// testListNoExpired: List never yields an expired id, whether it expired
// while stored or was written with an expiry in the past.
func (s *suite) testListNoExpired(t *testing.T) {
	st := s.newStorage(t)
	lister(t, st)
	exp := s.soon()
	live := []string{"live-a", "live-b", "live-c"}
	for i, id := range live {
		mustPut(t, st, id, later(), value(i, 16))
	}
	for i := range 3 {
		mustPut(t, st, fmt.Sprintf("expiring-%d", i), exp, value(i, 16))
		_ = put(t.Context(), st, fmt.Sprintf("stale-%d", i), past(), value(i, 16))
	}
	s.waitPast(exp)
	wantListed(t, st, live, "after 3 entries expired and 3 were written already expired")
}

// testListBreak: a loop over List may stop early. An iterator that calls
// yield again after it returned false makes the Go runtime panic.
func (s *suite) testListBreak(t *testing.T) {
	st := s.newStorage(t)
	l := lister(t, st)
	for i := range 10 {
		mustPut(t, st, fmt.Sprintf("id-%d", i), later(), value(i, 16))
	}
	n := 0
	err := catch(func() {
		for _, err := range l.List(t.Context()) {
			if err != nil {
				t.Errorf("List yielded the error %v, want 10 ids", err)
			}
			n++
			break
		}
	})
	if err != nil {
		t.Errorf("a loop that breaks after the first id of List panicked: %v; List must stop when yield returns false", err)
	}
	if n != 1 {
		t.Errorf("a loop over List that breaks at once ran %d times, want 1", n)
	}
}

// catch runs f and returns what it panicked with, as an error.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	f()
	return nil
}

// sweeper returns st's Sweeper, or skips the subtest when it has none.
func sweeper(t *testing.T, st sessions.Storage) sessions.Sweeper {
	t.Helper()
	sw, ok := st.(sessions.Sweeper)
	if !ok {
		t.Skip("the storage does not implement sessions.Sweeper")
	}
	return sw
}

func (s *suite) sweeperCases() []testCase {
	return []testCase{
		{"RemovesExpiredKeepsLive", s.testSweep},
		{"NothingExpired", s.testSweepNothing},
	}
}

// testSweep: DeleteExpired removes the expired entries, counts them, and
// keeps every live one; a second sweep finds nothing.
func (s *suite) testSweep(t *testing.T) {
	st := s.newStorage(t)
	sw := sweeper(t, st)
	exp := s.soon()
	var live []string
	for i := range 12 {
		id := fmt.Sprintf("id-%02d", i)
		switch i % 3 {
		case 0:
			mustPut(t, st, id, exp, value(i, 16))
			continue
		case 1:
			mustPut(t, st, id, later(), value(i, 16))
		case 2:
			mustPut(t, st, id, time.Time{}, value(i, 16))
		}
		live = append(live, id)
	}
	s.waitPast(exp)
	n, err := sw.DeleteExpired(t.Context())
	if err != nil || n != 4 {
		t.Errorf("DeleteExpired with 4 expired and 8 live entries returned (%d, %v), want (4, nil)", n, err)
	}
	for i := range 12 {
		id := fmt.Sprintf("id-%02d", i)
		if i%3 == 0 {
			wantNotFound(t, st, id, "Read of an expired entry after DeleteExpired")
		} else {
			wantContent(t, st, id, value(i, 16), "Read of a live entry after DeleteExpired")
		}
	}
	wantListed(t, st, live, "after DeleteExpired")
	if n, err := sw.DeleteExpired(t.Context()); err != nil || n != 0 {
		t.Errorf("a second DeleteExpired with nothing expired returned (%d, %v), want (0, nil)", n, err)
	}
}

// testSweepNothing: a sweep of live entries removes nothing.
func (s *suite) testSweepNothing(t *testing.T) {
	st := s.newStorage(t)
	sw := sweeper(t, st)
	if n, err := sw.DeleteExpired(t.Context()); err != nil || n != 0 {
		t.Errorf("DeleteExpired on an empty storage returned (%d, %v), want (0, nil)", n, err)
	}
	v := value(1, 16)
	mustPut(t, st, "live", later(), v)
	mustPut(t, st, "never", time.Time{}, v)
	if n, err := sw.DeleteExpired(t.Context()); err != nil || n != 0 {
		t.Errorf("DeleteExpired with only live entries returned (%d, %v), want (0, nil)", n, err)
	}
	wantContent(t, st, "live", v, "Read after DeleteExpired")
	wantContent(t, st, "never", v, "Read after DeleteExpired")
}

// closer returns st's io.Closer, or skips the subtest when it has none.
func closer(t *testing.T, st sessions.Storage) io.Closer {
	t.Helper()
	c, ok := st.(io.Closer)
	if !ok {
		t.Skip("the storage does not implement io.Closer")
	}
	return c
}

func (s *suite) closerCases() []testCase {
	return []testCase{
		{"CallsAfterClose", s.testCallsAfterClose},
		{"CloseTwice", s.testCloseTwice},
	}
}

// testCallsAfterClose: after Close, every call returns ErrClosed, whether
// the id is known or not.
func (s *suite) testCallsAfterClose(t *testing.T) {
	st := s.newStorage(t)
	c := closer(t, st)
	mustPut(t, st, "known", later(), value(1, 16))
	if err := c.Close(); err != nil {
		t.Fatalf("Close returned %v, want nil", err)
	}
	want := func(call string, err error) {
		t.Helper()
		if !errors.Is(err, sessions.ErrClosed) {
			t.Errorf("%s after Close returned %v, want an error wrapping sessions.ErrClosed", call, err)
		}
	}
	for _, id := range []string{"known", "unknown"} {
		want(fmt.Sprintf("Write of %q", id), put(t.Context(), st, id, later(), value(2, 16)))
		called := false
		want(fmt.Sprintf("Read of %q", id), st.Read(t.Context(), id, func(io.Reader) error { called = true; return nil }))
		if called {
			t.Errorf("Read of %q after Close called the read func, want ErrClosed without it", id)
		}
		want(fmt.Sprintf("Invalidate of %q", id), st.Invalidate(t.Context(), id))
		if to, ok := st.(sessions.Toucher); ok {
			want(fmt.Sprintf("Touch of %q", id), to.Touch(t.Context(), id, later()))
		}
		if cw, ok := st.(sessions.ConditionalWriter); ok {
			want(fmt.Sprintf("Create of %q", id), cw.Create(t.Context(), id, later(), writeChunks(value(2, 16))))
			want(fmt.Sprintf("Replace of %q", id), cw.Replace(t.Context(), id, later(), writeChunks(value(2, 16))))
		}
		if er, ok := st.(sessions.ExpiryReader); ok {
			called := false
			want(fmt.Sprintf("ReadWithExpiry of %q", id), er.ReadWithExpiry(t.Context(), id, func(io.Reader, time.Time) error { called = true; return nil }))
			if called {
				t.Errorf("ReadWithExpiry of %q after Close called the read func, want ErrClosed without it", id)
			}
		}
		if ix, ok := st.(sessions.Indexer); ok {
			want(fmt.Sprintf("CreateIndexed of %q", id), ix.CreateIndexed(t.Context(), id, "index", later(), writeChunks(value(2, 16))))
			want(fmt.Sprintf("ReplaceIndexed of %q", id), ix.ReplaceIndexed(t.Context(), id, "index", later(), writeChunks(value(2, 16))))
		}
	}
	if ix, ok := st.(sessions.Indexer); ok {
		called := false
		want("ReadIndex", ix.ReadIndex(t.Context(), "index", func(string, time.Time, io.Reader) error { called = true; return nil }))
		if called {
			t.Errorf("ReadIndex after Close called the read func, want ErrClosed without it")
		}
	}
	if l, ok := st.(sessions.Lister); ok {
		ids, err := list(t.Context(), l)
		want("List", err)
		if len(ids) > 0 {
			t.Errorf("List after Close yielded %d ids, want none before ErrClosed", len(ids))
		}
	}
	if sw, ok := st.(sessions.Sweeper); ok {
		_, err := sw.DeleteExpired(t.Context())
		want("DeleteExpired", err)
	}
}

// testCloseTwice: a second Close does not panic; it returns nil or
// ErrClosed (the rule "every call after Close gives ErrClosed" allows both
// readings for Close itself).
func (s *suite) testCloseTwice(t *testing.T) {
	st := s.newStorage(t)
	c := closer(t, st)
	if err := c.Close(); err != nil {
		t.Fatalf("Close returned %v, want nil", err)
	}
	var err2 error
	if p := catch(func() { err2 = c.Close() }); p != nil {
		t.Fatalf("a second Close panicked: %v; want nil or ErrClosed", p)
	}
	if err2 != nil && !errors.Is(err2, sessions.ErrClosed) {
		t.Errorf("a second Close returned %v, want nil or an error wrapping sessions.ErrClosed", err2)
	}
}
