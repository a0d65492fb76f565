package storagetest

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

func (s *suite) expiryCases() []testCase {
	return []testCase{
		{"PastExpiryNotFound", s.testPastExpiry},
		{"ZeroNeverExpires", s.testZeroNeverExpires},
		{"PastAtWrite", s.testPastAtWrite},
		{"FarFuture", s.testFarFuture},
		{"TimeZoneIndependent", s.testTimeZoneIndependent},
		{"OverwriteReplacesExpiry", s.testOverwriteReplacesExpiry},
		{"WriteOverExpired", s.testWriteOverExpired},
		{"FailedWriteKeepsExpiry", s.testFailedWriteKeepsExpiry},
		{"InvalidateExpired", s.testInvalidateExpired},
	}
}

// wantLiveBefore checks that id, written to expire at exp, still holds want
// while exp is ahead. On a machine too slow to read before exp it logs and
// skips the check: the rule under test is about what happens after exp.
func (s *suite) wantLiveBefore(t *testing.T, st sessions.Storage, id string, exp time.Time, want []byte, what string) {
	t.Helper()
	got, err := get(t, t.Context(), st, id)
	if !s.stillLive(exp) {
		t.Logf("%s: the machine was too slow to read the entry before it expired; not checking that it was live", what)
		return
	}
	switch {
	case err != nil:
		t.Errorf("%s: Read of %q %v before its expiry returned %v, want the %d bytes written", what, id, time.Until(exp).Round(time.Millisecond), err, len(want))
	case string(got) != string(want):
		t.Errorf("%s: Read of %q before its expiry returned %s, want the %d bytes written", what, id, diff(got, want), len(want))
	}
}

// testPastExpiry: once its expiry has passed, an entry is not found.
func (s *suite) testPastExpiry(t *testing.T) {
	st := s.newStorage(t)
	v := value(1, 100)
	exp := s.soon()
	mustPut(t, st, "short", exp, v)
	s.wantLiveBefore(t, st, "short", exp, v, "Read before expiry")
	s.waitPast(exp)
	wantNotFound(t, st, "short", "Read after the entry's expiry passed")
	wantListed(t, st, nil, "after the only entry expired")
}

// testZeroNeverExpires: the zero Time means no expiry. The entry outlives
// one written beside it with a short expiry.
func (s *suite) testZeroNeverExpires(t *testing.T) {
	st := s.newStorage(t)
	v := value(1, 100)
	exp := s.soon()
	mustPut(t, st, "never", time.Time{}, v)
	mustPut(t, st, "short", exp, v)
	s.waitPast(exp)
	wantContent(t, st, "never", v, "Read of an entry written with the zero expiry (never), after a short expiry passed")
	wantNotFound(t, st, "short", "Read of an entry whose short expiry passed")
	wantListed(t, st, []string{"never"}, "after the short entry expired")
}

// testPastAtWrite: an expiry already in the past at Write stores nothing
// readable, whether the id was absent or held content.
func (s *suite) testPastAtWrite(t *testing.T) {
	st := s.newStorage(t)
	if err := put(t.Context(), st, "stale", past(), value(1, 100)); err != nil {
		t.Logf("Write with an expiry in the past returned %v; the contract allows either outcome", err)
	}
	wantNotFound(t, st, "stale", "Read of an id written with an expiry an hour in the past")

	mustPut(t, st, "replaced", later(), value(2, 100))
	if err := put(t.Context(), st, "replaced", time.Now().Add(-s.resolution-time.Millisecond), value(3, 100)); err != nil {
		t.Logf("Write with an expiry in the past returned %v; the contract allows either outcome", err)
	}
	wantNotFound(t, st, "replaced", "Read of a live id overwritten with an expiry just past")
	wantListed(t, st, nil, "after writing only entries that expired at once")
}

// testFarFuture: an expiry years ahead is an expiry, not a past date.
// Memcached reads a TTL over 30 days as a Unix time; a storage that passes
// such a TTL through expires at once.
func (s *suite) testFarFuture(t *testing.T) {
	st := s.newStorage(t)
	v := value(1, 100)
	for _, c := range []struct {
		id    string
		ahead time.Duration
	}{
		{"month", 31 * 24 * time.Hour},
		{"decade", 10 * 365 * 24 * time.Hour},
	} {
		mustPut(t, st, c.id, time.Now().Add(c.ahead), v)
		wantContent(t, st, c.id, v, "Read of an entry expiring "+c.ahead.String()+" ahead")
	}
}

// testTimeZoneIndependent: an expiry is an instant; its Location does not
// matter. A storage that keeps wall-clock time without the zone (a
// Postgres timestamp rather than timestamptz) fails here.
func (s *suite) testTimeZoneIndependent(t *testing.T) {
	st := s.newStorage(t)
	east := time.FixedZone("UTC+14", 14*60*60)
	west := time.FixedZone("UTC-12", -12*60*60)
	v := value(1, 100)
	mustPut(t, st, "east-past", time.Now().Add(-10*time.Minute).In(east), v)
	wantNotFound(t, st, "east-past", "Read of an entry written with an expiry 10 minutes past, given in UTC+14")
	mustPut(t, st, "west-future", time.Now().Add(10*time.Minute).In(west), v)
	wantContent(t, st, "west-future", v, "Read of an entry written with an expiry 10 minutes ahead, given in UTC-12")
}

// testOverwriteReplacesExpiry: Write sets the expiry along with the
// content; it neither keeps the old expiry nor the old "never".
func (s *suite) testOverwriteReplacesExpiry(t *testing.T) {
	st := s.newStorage(t)
	v1, v2 := value(1, 100), value(2, 100)
	exp := s.soon()
	mustPut(t, st, "to-never", exp, v1)
	mustPut(t, st, "to-never", time.Time{}, v2)
	mustPut(t, st, "to-short", time.Time{}, v1)
	mustPut(t, st, "to-short", exp, v2)
	s.waitPast(exp)
	wantContent(t, st, "to-never", v2, "Read of an entry rewritten with no expiry, after its first expiry passed")
	wantNotFound(t, st, "to-short", "Read of an entry rewritten with a short expiry (it had none), after that expiry passed")
}

// testWriteOverExpired: an expired entry that the storage still holds does
// not get in the way of writing its id again.
func (s *suite) testWriteOverExpired(t *testing.T) {
	st := s.newStorage(t)
	exp := s.soon()
	mustPut(t, st, "reborn", exp, value(1, 100))
	s.waitPast(exp)
	v := value(2, 40)
	mustPut(t, st, "reborn", later(), v)
	wantContent(t, st, "reborn", v, "Read of an id written again after its entry expired")
}

// testFailedWriteKeepsExpiry: a Write whose write func fails leaves the
// previous entry untouched, its expiry included.
func (s *suite) testFailedWriteKeepsExpiry(t *testing.T) {
	st := s.newStorage(t)
	exp := s.soon()
	mustPut(t, st, "kept", exp, value(1, 100))
	err := st.Write(t.Context(), "kept", time.Time{}, func(w io.Writer) error { return errWriteFunc })
	if !errors.Is(err, errWriteFunc) {
		t.Errorf("Write with a failing write func returned %v, want its error (errors.Is)", err)
	}
	s.waitPast(exp)
	wantNotFound(t, st, "kept", "Read after the first expiry passed, the entry having been given no expiry by a Write whose write func failed")
}

// testInvalidateExpired: removing an expired id is not an error.
func (s *suite) testInvalidateExpired(t *testing.T) {
	st := s.newStorage(t)
	exp := s.soon()
	mustPut(t, st, "expired", exp, value(1, 100))
	s.waitPast(exp)
	if err := st.Invalidate(t.Context(), "expired"); err != nil {
		t.Errorf("Invalidate of an expired id returned %v, want nil", err)
	}
	wantNotFound(t, st, "expired", "Read after Invalidate of an expired id")
}
