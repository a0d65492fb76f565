package storagetest

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// conditional returns st's ConditionalWriter, or skips the subtest when it
// has none.
func conditional(t *testing.T, st sessions.Storage) sessions.ConditionalWriter {
	t.Helper()
	cw, ok := st.(sessions.ConditionalWriter)
	if !ok {
		t.Skip("the storage does not implement sessions.ConditionalWriter")
	}
	return cw
}

func (s *suite) conditionalCases() []testCase {
	return []testCase{
		{"CreateAbsent", s.testCreateAbsent},
		{"CreateNeverOverwritesLive", s.testCreateLive},
		{"CreateReusesExpired", s.testCreateExpired},
		{"CreateAfterInvalidate", s.testCreateAfterInvalidate},
		{"ReplaceLive", s.testReplaceLive},
		{"ReplaceSetsExpiry", s.testReplaceSetsExpiry},
		{"ReplaceNeverCreates", s.testReplaceNeverCreates},
		{"ReplaceExpired", s.testReplaceExpired},
		{"FailedWriteKeepsOld", s.testConditionalFailedWrite},
		{"ConcurrentCreatesOneWins", s.testConcurrentCreates},
		{"ReplaceRacingInvalidate", s.testReplaceRacingInvalidate},
		{"ReplaceWithPastExpiryEndsOnce", s.testReplacePastEndsOnce},
		{"Canceled", s.testConditionalCanceled},
	}
}

// create and replace write data in chunks, as put does.
func create(t *testing.T, cw sessions.ConditionalWriter, id string, expires time.Time, data []byte) error {
	return cw.Create(t.Context(), id, expires, writeChunks(data))
}

func replace(t *testing.T, cw sessions.ConditionalWriter, id string, expires time.Time, data []byte) error {
	return cw.Replace(t.Context(), id, expires, writeChunks(data))
}

// testCreateAbsent: Create stores a new id, with its expiry.
func (s *suite) testCreateAbsent(t *testing.T) {
	st := s.newStorage(t)
	cw := conditional(t, st)
	v := value(1, 100)
	if err := create(t, cw, "new", later(), v); err != nil {
		t.Fatalf("Create of an id never written returned %v, want nil", err)
	}
	wantContent(t, st, "new", v, "Read after Create of a new id")
	exp := s.soon()
	if err := create(t, cw, "short", exp, v); err != nil {
		t.Fatalf("Create of an id never written returned %v, want nil", err)
	}
	if err := create(t, cw, "never", time.Time{}, v); err != nil {
		t.Fatalf("Create of an id never written with no expiry returned %v, want nil", err)
	}
	s.waitPast(exp)
	wantNotFound(t, st, "short", "Read after the expiry given to Create passed")
	wantContent(t, st, "never", v, "Read of an entry created with the zero expiry (never)")
	wantListed(t, st, []string{"new", "never"}, "after three Creates, one expired")
}

// testCreateLive: Create of a live id reports ErrExists and changes neither
// content nor expiry.
func (s *suite) testCreateLive(t *testing.T) {
	st := s.newStorage(t)
	cw := conditional(t, st)
	v := value(1, 100)
	exp := s.soon()
	mustPut(t, st, "taken", exp, v)
	mustPut(t, st, "taken-never", time.Time{}, v)
	for _, id := range []string{"taken-never", "taken"} {
		err := create(t, cw, id, later(), value(2, 50))
		if err == nil && id == "taken" && !s.stillLive(exp) {
			t.Skip("the machine was too slow to call Create before the entry expired; an expired entry may be reused")
		}
		if !errors.Is(err, sessions.ErrExists) {
			t.Errorf("Create of a live id returned %v, want an error wrapping sessions.ErrExists", err)
		}
	}
	s.wantLiveBefore(t, st, "taken", exp, v, "Read after a refused Create")
	wantContent(t, st, "taken-never", v, "Read after a refused Create (the live content must stay)")
	s.waitPast(exp)
	wantNotFound(t, st, "taken", "Read after the first expiry passed, the entry having been given a later one by a Create that must have been refused")
}

// testCreateExpired: an expired entry the storage may still hold does not
// stop a Create.
func (s *suite) testCreateExpired(t *testing.T) {
	st := s.newStorage(t)
	cw := conditional(t, st)
	exp := s.soon()
	mustPut(t, st, "lapsed", exp, value(1, 100))
	_ = put(t.Context(), st, "stale", past(), value(1, 100))
	s.waitPast(exp)
	v := value(2, 40)
	for _, id := range []string{"lapsed", "stale"} {
		if err := create(t, cw, id, later(), v); err != nil {
			t.Errorf("Create over an expired entry returned %v, want nil (an expired entry is absent)", err)
			continue
		}
		wantContent(t, st, id, v, "Read after Create over an expired entry")
	}
}

// testCreateAfterInvalidate: an invalidated id can be created again.
func (s *suite) testCreateAfterInvalidate(t *testing.T) {
	st := s.newStorage(t)
	cw := conditional(t, st)
	mustPut(t, st, "gone", later(), value(1, 100))
	if err := st.Invalidate(t.Context(), "gone"); err != nil {
		t.Fatalf("Invalidate returned %v, want nil", err)
	}
	v := value(2, 40)
	if err := create(t, cw, "gone", later(), v); err != nil {
		t.Fatalf("Create of an invalidated id returned %v, want nil", err)
	}
	wantContent(t, st, "gone", v, "Read after Create of an invalidated id")
}

// testReplaceLive: Replace of a live entry replaces the whole content.
func (s *suite) testReplaceLive(t *testing.T) {
	st := s.newStorage(t)
	cw := conditional(t, st)
	mustPut(t, st, "live", later(), value(1, 1000))
	v := value(2, 10)
	if err := replace(t, cw, "live", later(), v); err != nil {
		t.Fatalf("Replace of a live entry returned %v, want nil", err)
	}
	wantContent(t, st, "live", v, "Read after Replace of a live entry with a shorter value")
	created := value(3, 20)
	if err := create(t, cw, "created", time.Time{}, value(4, 20)); err != nil {
		t.Fatalf("Create of a new id returned %v, want nil", err)
	}
	if err := replace(t, cw, "created", time.Time{}, created); err != nil {
		t.Fatalf("Replace of an entry made by Create returned %v, want nil", err)
	}
	wantContent(t, st, "created", created, "Read after Replace of an entry made by Create")
}

// testReplaceSetsExpiry: Replace sets the expiry with the content, as Write
// does.
func (s *suite) testReplaceSetsExpiry(t *testing.T) {
	st := s.newStorage(t)
	cw := conditional(t, st)
	v := value(2, 100)
	exp := s.soon()
	mustPut(t, st, "to-short", time.Time{}, value(1, 100))
	mustPut(t, st, "to-never", exp, value(1, 100))
	if err := replace(t, cw, "to-short", exp, v); err != nil {
		t.Fatalf("Replace of a live entry returned %v, want nil", err)
	}
	err := replace(t, cw, "to-never", time.Time{}, v)
	if err != nil && errors.Is(err, sessions.ErrNotFound) && !s.stillLive(exp) {
		t.Skip("the machine was too slow to replace the entry before it expired")
	}
	if err != nil {
		t.Fatalf("Replace of a live entry returned %v, want nil", err)
	}
	s.waitPast(exp)
	wantNotFound(t, st, "to-short", "Read after the expiry given to Replace passed (the entry had none)")
	wantContent(t, st, "to-never", v, "Read of an entry replaced with the zero expiry, after its first expiry passed")
}

// testReplaceNeverCreates: Replace of an id never written reports
// ErrNotFound and creates nothing.
func (s *suite) testReplaceNeverCreates(t *testing.T) {
	st := s.newStorage(t)
	cw := conditional(t, st)
	for _, exp := range []time.Time{later(), {}} {
		if err := replace(t, cw, "unknown", exp, value(1, 100)); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("Replace of an id never written returned %v, want an error wrapping sessions.ErrNotFound", err)
		}
	}
	wantNotFound(t, st, "unknown", "Read after Replace of an id never written (Replace must not create)")
	wantListed(t, st, nil, "after Replace of an id never written")
}

// testReplaceExpired: Replace does not bring back an expired or invalidated
// entry.
func (s *suite) testReplaceExpired(t *testing.T) {
	st := s.newStorage(t)
	cw := conditional(t, st)
	exp := s.soon()
	mustPut(t, st, "lapsed", exp, value(1, 100))
	mustPut(t, st, "removed", later(), value(1, 100))
	if err := st.Invalidate(t.Context(), "removed"); err != nil {
		t.Fatalf("Invalidate returned %v, want nil", err)
	}
	s.waitPast(exp)
	for _, c := range []struct{ id, what string }{{"lapsed", "an expired"}, {"removed", "an invalidated"}} {
		if err := replace(t, cw, c.id, later(), value(2, 100)); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("Replace of %s entry returned %v, want an error wrapping sessions.ErrNotFound", c.what, err)
		}
		wantNotFound(t, st, c.id, fmt.Sprintf("Read after Replace of %s entry (Replace must not revive it)", c.what))
	}
	wantListed(t, st, nil, "after Replace of an expired and an invalidated entry")
}

// testConditionalFailedWrite: a Create or Replace whose write func fails
// returns its error and changes nothing.
func (s *suite) testConditionalFailedWrite(t *testing.T) {
	st := s.newStorage(t)
	cw := conditional(t, st)
	old := value(1, 100)
	mustPut(t, st, "kept", later(), old)
	for _, f := range []failure{failAtOnce, failHalfway} {
		if err := cw.Replace(t.Context(), "kept", later(), f.write); !errors.Is(err, errWriteFunc) {
			t.Errorf("Replace with %s returned %v, want its error (errors.Is)", f.name, err)
		}
		wantContent(t, st, "kept", old, "Read after a Replace whose write func failed")
		if err := cw.Create(t.Context(), "fresh", later(), f.write); !errors.Is(err, errWriteFunc) {
			t.Errorf("Create with %s returned %v, want its error (errors.Is)", f.name, err)
		}
		wantNotFound(t, st, "fresh", "Read after a Create whose write func failed")
	}
	wantListed(t, st, []string{"kept"}, "after conditional writes whose write funcs failed")
}

const (
	// creators Create one id together, createRounds times.
	creators     = 8
	createRounds = 30
	// rendezvous bounds how long a write func waits for the other calls of
	// its round to reach their write funcs. A correct storage passes however
	// short it is; the wait only widens the window in which a storage that
	// checks its condition before running the write func goes wrong, and it
	// ends early in the usual case, where every call gets there.
	rendezvous = 20 * time.Millisecond
)

// barrier lets n goroutines wait for each other, up to a bound.
type barrier struct {
	left atomic.Int64
	all  chan struct{}
}

func newBarrier(n int) *barrier {
	b := &barrier{all: make(chan struct{})}
	b.left.Store(int64(n))
	return b
}

// arrive counts the caller in and waits until all have arrived or d has
// passed.
func (b *barrier) arrive(d time.Duration) {
	if b.left.Add(-1) == 0 {
		close(b.all)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-b.all:
	case <-t.C:
	}
}

// testConcurrentCreates: of concurrent Creates of one absent id exactly one
// succeeds, the others report ErrExists, and the id holds the winner's
// value. Every round the Creates start together, and each write func waits
// for the others to reach theirs, so a storage that checks for the entry
// before it runs the write func lets them all through.
func (s *suite) testConcurrentCreates(t *testing.T) {
	st := s.newStorage(t)
	cw := conditional(t, st)
	p := newPayloads(creators)
	for round := range createRounds {
		id := fmt.Sprintf("contended-%02d", round)
		start := make(chan struct{})
		inside := newBarrier(creators)
		var wg sync.WaitGroup
		errs := make([]error, creators)
		for k := range creators {
			spawn(&wg, func() {
				<-start
				errs[k] = cw.Create(t.Context(), id, later(), func(w io.Writer) error {
					if round%2 == 0 {
						inside.arrive(rendezvous)
					}
					return writeChunks(p[k], payloadChunk)(w)
				})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for k, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: %d concurrent Creates of one absent id: Creates %d and %d both returned nil, want exactly one to succeed", round+1, creators, winner, k)
			case err == nil:
				winner = k
			case !errors.Is(err, sessions.ErrExists):
				t.Fatalf("round %d: a Create that lost to a concurrent Create of the same id returned %v, want an error wrapping sessions.ErrExists", round+1, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: %d concurrent Creates of one absent id all returned ErrExists, want exactly one to succeed", round+1, creators)
		}
		got, err := get(t, t.Context(), st, id)
		if err != nil {
			t.Fatalf("round %d: Read after concurrent Creates returned %v, want the winner's value", round+1, err)
		}
		if k, what := p.which(got); k != winner {
			if k < 0 {
				t.Fatalf("round %d: Read after concurrent Creates returned %s, want the winner's value", round+1, what)
			}
			t.Fatalf("round %d: Read after concurrent Creates returned the value of Create %d, which reported ErrExists; want that of Create %d, which succeeded", round+1, k, winner)
		}
	}
}

// replaceRounds is how many times testReplaceRacingInvalidate races the
// two calls.
const replaceRounds = 60

// testReplaceRacingInvalidate: when a Replace and an Invalidate of one id
// run concurrently, the entry is gone after both return, whichever went
// first. In half of the rounds the Invalidate runs while the Replace's write
// func waits for it (bounded by rendezvous), which a storage that checks the
// entry before it runs the write func gets wrong every time; in the other
// half the two calls just start together.
func (s *suite) testReplaceRacingInvalidate(t *testing.T) {
	st := s.newStorage(t)
	cw := conditional(t, st)
	for round := range replaceRounds {
		id := fmt.Sprintf("race-%02d", round)
		mustPut(t, st, id, later(), value(1, 200))
		start := make(chan struct{})
		invalidated := make(chan struct{})
		var wg sync.WaitGroup
		var replaceErr, invalidateErr error
		inFunc := round%2 == 0
		ran := false
		spawn(&wg, func() {
			<-start
			replaceErr = cw.Replace(t.Context(), id, later(), func(w io.Writer) error {
				if inFunc && !ran {
					ran = true
					go func() {
						defer close(invalidated)
						invalidateErr = st.Invalidate(t.Context(), id)
					}()
					timer := time.NewTimer(rendezvous)
					defer timer.Stop()
					select {
					case <-invalidated:
					case <-timer.C:
					}
				}
				return writeChunks(value(2, 200))(w)
			})
		})
		if !inFunc {
			spawn(&wg, func() {
				defer close(invalidated)
				<-start
				invalidateErr = st.Invalidate(t.Context(), id)
			})
		}
		close(start)
		wg.Wait()
		if inFunc && !ran {
			// The storage refused without running the write func; the
			// Invalidate still has to happen for the round to mean anything.
			invalidateErr = st.Invalidate(t.Context(), id)
			close(invalidated)
		}
		<-invalidated
		if invalidateErr != nil {
			t.Fatalf("Invalidate concurrent with a Replace returned %v, want nil", invalidateErr)
		}
		if replaceErr != nil && !errors.Is(replaceErr, sessions.ErrNotFound) {
			t.Fatalf("Replace concurrent with an Invalidate returned %v, want nil or an error wrapping sessions.ErrNotFound", replaceErr)
		}
		got, err := get(t, t.Context(), st, id)
		if err == nil {
			how := "started together with"
			if inFunc {
				how = "that ran while its write func was running, and returned before it,"
			}
			t.Fatalf("round %d: Read after a Replace (which returned %v) and an Invalidate %s returned %d bytes; want the entry gone, as a logout must not be undone by a request in flight", round+1, replaceErr, how, len(got))
		}
		if !errors.Is(err, sessions.ErrNotFound) {
			t.Fatalf("Read after a Replace raced an Invalidate returned %v, want an error wrapping sessions.ErrNotFound", err)
		}
	}
}

// testConditionalCanceled: Create and Replace under a canceled context fail
// and change nothing.
func (s *suite) testConditionalCanceled(t *testing.T) {
	st := s.newStorage(t)
	cw := conditional(t, st)
	old := value(1, 100)
	mustPut(t, st, "target", later(), old)
	wantCanceled(t, cw.Replace(canceledContext(t), "target", later(), writeChunks(value(2, 100))), "Replace")
	wantContent(t, st, "target", old, "Read after a Replace under a canceled context")
	wantCanceled(t, cw.Create(canceledContext(t), "fresh", later(), writeChunks(value(2, 100))), "Create")
	wantNotFound(t, st, "fresh", "Read after a Create under a canceled context")
	wantListed(t, st, []string{"target"}, "after conditional writes under a canceled context")
}

// expiryReader returns st's ExpiryReader, or skips the subtest when it has
// none.
func expiryReader(t *testing.T, st sessions.Storage) sessions.ExpiryReader {
	t.Helper()
	er, ok := st.(sessions.ExpiryReader)
	if !ok {
		t.Skip("the storage does not implement sessions.ExpiryReader")
	}
	return er
}

func (s *suite) expiryReaderCases() []testCase {
	return []testCase{
		{"ReportsWrittenExpiry", s.testReadWithExpiryWritten},
		{"ReportsTouchedExpiry", s.testReadWithExpiryTouched},
		{"ReportsReplacedExpiry", s.testReadWithExpiryReplaced},
		{"NotFound", s.testReadWithExpiryNotFound},
		{"ReadError", s.testReadWithExpiryReadError},
		{"Canceled", s.testReadWithExpiryCanceled},
	}
}

// readWithExpiry reads id with its expiry, and reports a storage that calls
// the read func more than once or calls it and then reports not found.
func readWithExpiry(t *testing.T, er sessions.ExpiryReader, id string) ([]byte, time.Time, error) {
	t.Helper()
	var data []byte
	var exp time.Time
	calls := 0
	err := er.ReadWithExpiry(t.Context(), id, func(r io.Reader, expires time.Time) error {
		calls++
		exp = expires
		var err error
		data, err = io.ReadAll(r)
		return err
	})
	switch {
	case calls > 1:
		t.Errorf("ReadWithExpiry of %q called the read func %d times, want once", id, calls)
	case calls == 1 && errors.Is(err, sessions.ErrNotFound):
		t.Errorf("ReadWithExpiry of %q called the read func and then returned %v", id, err)
	case calls == 0 && err == nil:
		t.Errorf("ReadWithExpiry of %q returned nil without calling the read func", id)
	}
	return data, exp, err
}

// wantExpiry checks that id holds want and reports the expiry exp, within
// the storage's resolution (and at least a millisecond, what most stores
// keep).
func (s *suite) wantExpiry(t *testing.T, er sessions.ExpiryReader, id string, want []byte, exp time.Time, what string) {
	t.Helper()
	got, gotExp, err := readWithExpiry(t, er, id)
	if err != nil {
		t.Errorf("%s: ReadWithExpiry of %q returned %v, want the %d bytes written", what, id, err, len(want))
		return
	}
	if string(got) != string(want) {
		t.Errorf("%s: ReadWithExpiry of %q passed %s, want the %d bytes written", what, id, diff(got, want), len(want))
	}
	tolerance := max(s.resolution, time.Millisecond)
	switch {
	case exp.IsZero() && !gotExp.IsZero():
		t.Errorf("%s: ReadWithExpiry of %q reported the expiry %v, want the zero Time (never)", what, id, gotExp)
	case !exp.IsZero() && gotExp.IsZero():
		t.Errorf("%s: ReadWithExpiry of %q reported the zero Time (never), want %v", what, id, exp)
	case !exp.IsZero() && (gotExp.Sub(exp) > tolerance || exp.Sub(gotExp) > tolerance):
		t.Errorf("%s: ReadWithExpiry of %q reported the expiry %v, %v off the %v written; want it within %v", what, id, gotExp, gotExp.Sub(exp), exp, tolerance)
	}
}

// testReadWithExpiryWritten: ReadWithExpiry passes the content and the
// expiry the last Write gave it.
func (s *suite) testReadWithExpiryWritten(t *testing.T) {
	st := s.newStorage(t)
	er := expiryReader(t, st)
	v := value(1, 100)
	hour := later()
	mustPut(t, st, "hour", hour, v)
	s.wantExpiry(t, er, "hour", v, hour, "after Write with an expiry an hour ahead")
	mustPut(t, st, "never", time.Time{}, v)
	s.wantExpiry(t, er, "never", v, time.Time{}, "after Write with the zero expiry")
	v2, decade := value(2, 30), time.Now().Add(10*365*24*time.Hour).In(time.FixedZone("UTC-12", -12*60*60))
	mustPut(t, st, "hour", decade, v2)
	s.wantExpiry(t, er, "hour", v2, decade, "after a Write replaced the entry with one expiring a decade ahead")
	mustPut(t, st, "never", hour, v2)
	s.wantExpiry(t, er, "never", v2, hour, "after a Write gave an entry with no expiry one an hour ahead")
}

// testReadWithExpiryTouched: ReadWithExpiry reports the expiry Touch set.
func (s *suite) testReadWithExpiryTouched(t *testing.T) {
	st := s.newStorage(t)
	er := expiryReader(t, st)
	to := toucher(t, st)
	v := value(1, 100)
	mustPut(t, st, "slid", time.Now().Add(time.Minute), v)
	exp := later()
	if err := to.Touch(t.Context(), "slid", exp); err != nil {
		t.Fatalf("Touch of a live entry returned %v, want nil", err)
	}
	s.wantExpiry(t, er, "slid", v, exp, "after Touch moved the expiry")
	if err := to.Touch(t.Context(), "slid", time.Time{}); err != nil {
		t.Fatalf("Touch of a live entry returned %v, want nil", err)
	}
	s.wantExpiry(t, er, "slid", v, time.Time{}, "after Touch to the zero Time")
}

// testReadWithExpiryReplaced: ReadWithExpiry reports the expiry Create or
// Replace wrote.
func (s *suite) testReadWithExpiryReplaced(t *testing.T) {
	st := s.newStorage(t)
	er := expiryReader(t, st)
	cw := conditional(t, st)
	v, v2 := value(1, 100), value(2, 50)
	exp := later()
	if err := create(t, cw, "c", exp, v); err != nil {
		t.Fatalf("Create of a new id returned %v, want nil", err)
	}
	s.wantExpiry(t, er, "c", v, exp, "after Create")
	exp2 := exp.Add(time.Hour)
	if err := replace(t, cw, "c", exp2, v2); err != nil {
		t.Fatalf("Replace of a live entry returned %v, want nil", err)
	}
	s.wantExpiry(t, er, "c", v2, exp2, "after Replace")
	if err := replace(t, cw, "c", time.Time{}, v); err != nil {
		t.Fatalf("Replace of a live entry returned %v, want nil", err)
	}
	s.wantExpiry(t, er, "c", v, time.Time{}, "after Replace with the zero expiry")
}

// testReadWithExpiryNotFound: absent, expired and invalidated entries are
// not found, and the read func is not called.
func (s *suite) testReadWithExpiryNotFound(t *testing.T) {
	st := s.newStorage(t)
	er := expiryReader(t, st)
	exp := s.soon()
	mustPut(t, st, "lapsed", exp, value(1, 100))
	mustPut(t, st, "removed", later(), value(1, 100))
	if err := st.Invalidate(t.Context(), "removed"); err != nil {
		t.Fatalf("Invalidate returned %v, want nil", err)
	}
	_ = put(t.Context(), st, "stale", past(), value(1, 100))
	s.waitPast(exp)
	for _, id := range []string{"unknown", "lapsed", "removed", "stale"} {
		if _, _, err := readWithExpiry(t, er, id); !errors.Is(err, sessions.ErrNotFound) {
			t.Errorf("ReadWithExpiry of %s id returned %v, want an error wrapping sessions.ErrNotFound", map[string]string{"unknown": "an unknown", "lapsed": "an expired", "removed": "an invalidated", "stale": "a written-already-expired"}[id], err)
		}
	}
	wantListed(t, st, nil, "after ReadWithExpiry of absent ids (it must not create)")
}

// testReadWithExpiryReadError: the read func's error is returned and the
// entry stays.
func (s *suite) testReadWithExpiryReadError(t *testing.T) {
	st := s.newStorage(t)
	er := expiryReader(t, st)
	v := value(1, 100)
	mustPut(t, st, "target", later(), v)
	err := er.ReadWithExpiry(t.Context(), "target", func(io.Reader, time.Time) error { return errReadFunc })
	if !errors.Is(err, errReadFunc) {
		t.Errorf("ReadWithExpiry with a failing read func returned %v, want its error (errors.Is)", err)
	}
	wantContent(t, st, "target", v, "Read after a ReadWithExpiry whose read func failed")
}

// testReadWithExpiryCanceled: under a canceled context the read func is not
// called.
func (s *suite) testReadWithExpiryCanceled(t *testing.T) {
	st := s.newStorage(t)
	er := expiryReader(t, st)
	mustPut(t, st, "target", later(), value(1, 100))
	called := false
	err := er.ReadWithExpiry(canceledContext(t), "target", func(io.Reader, time.Time) error { called = true; return nil })
	wantCanceled(t, err, "ReadWithExpiry")
	if called {
		t.Errorf("ReadWithExpiry under a canceled context called the read func; want no effect")
	}
}

// testReplacePastEndsOnce: a Replace whose expiry has already passed ends
// a live entry, and of several concurrent ones exactly one succeeds; the
// others, like one on an absent id, report ErrNotFound. The middleware
// ends a renewed-away id this way, so that of two concurrent Renews of one
// session only one keeps its successor.
func (s *suite) testReplacePastEndsOnce(t *testing.T) {
	st := s.newStorage(t)
	cw := conditional(t, st)
	if err := replace(t, cw, "absent", past(), value(1, 10)); !errors.Is(err, sessions.ErrNotFound) {
		t.Fatalf("Replace of an absent id with a past expiry returned %v, want an error wrapping sessions.ErrNotFound", err)
	}
	for round := range createRounds {
		id := fmt.Sprintf("ended-%02d", round)
		mustPut(t, st, id, later(), value(2, 100))
		start := make(chan struct{})
		inside := newBarrier(creators)
		var wg sync.WaitGroup
		errs := make([]error, creators)
		for k := range creators {
			spawn(&wg, func() {
				<-start
				errs[k] = cw.Replace(t.Context(), id, past(), func(w io.Writer) error {
					if round%2 == 0 {
						inside.arrive(rendezvous)
					}
					return nil
				})
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, sessions.ErrNotFound):
				t.Fatalf("round %d: a Replace with a past expiry that lost to a concurrent one returned %v, want an error wrapping sessions.ErrNotFound", round+1, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d of %d concurrent Replaces of one live id with a past expiry succeeded, want exactly one", round+1, won, creators)
		}
		wantNotFound(t, st, id, "Read after a Replace with a past expiry")
	}
}
