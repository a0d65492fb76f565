package storagetest

import (
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

func (s *suite) reopenCases() []testCase {
	return []testCase{
		{"KeepsData", s.testReopenKeepsData},
		{"InvalidatedStayGone", s.testReopenInvalidated},
		{"KeepsExpiry", s.testReopenKeepsExpiry},
		{"KeepsTouchedExpiry", s.testReopenKeepsTouchedExpiry},
		{"ReadWithExpiry", s.testReopenReadWithExpiry},
	}
}

// needReopen skips the subtest without [WithReopen].
func (s *suite) needReopen(t *testing.T) {
	t.Helper()
	if s.reopen == nil {
		t.Skip("no WithReopen option: the durability rules are not checked")
	}
}

// reopened closes st and returns a storage over its data.
func (s *suite) reopened(t *testing.T, st sessions.Storage) sessions.Storage {
	t.Helper()
	re := s.reopen(t, st)
	if re == nil {
		t.Fatal("the reopen func of WithReopen returned a nil storage")
	}
	return re
}

// testReopenKeepsData: entries written before a close are there after it,
// with or without an expiry.
func (s *suite) testReopenKeepsData(t *testing.T) {
	s.needReopen(t)
	st := s.newStorage(t)
	big := value(3, 200_000)
	mustPut(t, st, "never", time.Time{}, value(1, 100))
	mustPut(t, st, "later", later(), value(2, 100))
	mustPut(t, st, "big", later(), big)
	mustPut(t, st, "overwritten", later(), value(4, 5000))
	mustPut(t, st, "overwritten", later(), value(5, 10))
	st = s.reopened(t, st)
	wantContent(t, st, "never", value(1, 100), "Read after reopening of an entry with no expiry")
	wantContent(t, st, "later", value(2, 100), "Read after reopening of an entry expiring in an hour")
	wantContent(t, st, "big", big, "Read after reopening of a 200000-byte entry")
	wantContent(t, st, "overwritten", value(5, 10), "Read after reopening of an entry overwritten with a shorter value")
	wantListed(t, st, []string{"never", "later", "big", "overwritten"}, "after reopening")
}

// testReopenInvalidated: an entry removed before a close stays removed.
func (s *suite) testReopenInvalidated(t *testing.T) {
	s.needReopen(t)
	st := s.newStorage(t)
	mustPut(t, st, "removed", later(), value(1, 100))
	mustPut(t, st, "kept", later(), value(2, 100))
	if err := st.Invalidate(t.Context(), "removed"); err != nil {
		t.Fatalf("Invalidate returned %v, want nil", err)
	}
	st = s.reopened(t, st)
	wantNotFound(t, st, "removed", "Read after reopening of an entry invalidated before")
	wantContent(t, st, "kept", value(2, 100), "Read after reopening")
	wantListed(t, st, []string{"kept"}, "after reopening")
}

// testReopenKeepsExpiry: an entry's expiry survives a close: it does not
// become immortal, and an entry already expired does not come back.
func (s *suite) testReopenKeepsExpiry(t *testing.T) {
	s.needReopen(t)
	st := s.newStorage(t)
	v := value(1, 100)
	first := s.soon()
	mustPut(t, st, "expired", first, v)
	s.waitPast(first)
	exp := s.soon()
	mustPut(t, st, "expiring", exp, v)
	st = s.reopened(t, st)
	wantNotFound(t, st, "expired", "Read after reopening of an entry that expired before")
	s.wantLiveBefore(t, st, "expiring", exp, v, "Read after reopening")
	s.waitPast(exp)
	wantNotFound(t, st, "expiring", "Read after reopening of an entry whose expiry has since passed")
	wantListed(t, st, nil, "after reopening, with every entry expired")
}

// testReopenKeepsTouchedExpiry: an expiry moved by Touch survives a close.
func (s *suite) testReopenKeepsTouchedExpiry(t *testing.T) {
	s.needReopen(t)
	st := s.newStorage(t)
	to := toucher(t, st)
	v := value(1, 100)
	exp := s.soon()
	mustPut(t, st, "slid", exp, v)
	s.touchBefore(t, to, "slid", exp, time.Time{}, "to the zero Time (never)")
	mustPut(t, st, "cut", time.Time{}, v)
	s.touchBefore(t, to, "cut", exp, exp, "from no expiry to a short one")
	st = s.reopened(t, st)
	s.waitPast(exp)
	wantContent(t, st, "slid", v, "Read after reopening of an entry touched to no expiry, once its first expiry passed")
	wantNotFound(t, st, "cut", "Read after reopening of an entry touched to a short expiry, once it passed")
}

// testReopenReadWithExpiry: after a reopen, ReadWithExpiry reports the
// expiries written and touched before it, which is what lets a cache in
// front of a restarted storage keep what it loads.
func (s *suite) testReopenReadWithExpiry(t *testing.T) {
	s.needReopen(t)
	st := s.newStorage(t)
	expiryReader(t, st)
	v := value(1, 100)
	hour, day := later(), time.Now().Add(24*time.Hour)
	mustPut(t, st, "hour", hour, v)
	mustPut(t, st, "never", time.Time{}, v)
	mustPut(t, st, "touched", hour, v)
	touchedTo := hour
	if to, ok := st.(sessions.Toucher); ok {
		if err := to.Touch(t.Context(), "touched", day); err != nil {
			t.Fatalf("Touch of a live entry returned %v, want nil", err)
		}
		touchedTo = day
	}
	st = s.reopened(t, st)
	er := expiryReader(t, st)
	s.wantExpiry(t, er, "hour", v, hour, "after reopening, of an entry expiring in an hour")
	s.wantExpiry(t, er, "never", v, time.Time{}, "after reopening, of an entry with no expiry")
	s.wantExpiry(t, er, "touched", v, touchedTo, "after reopening, of an entry whose expiry Touch moved")
}
