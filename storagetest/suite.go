package storagetest

import (
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// suite is one call of Run: the storage factory and the options.
type suite struct {
	newStorage func(t *testing.T) sessions.Storage
	options
}

// group is a named set of subtests.
type group struct {
	name  string
	cases []testCase
}

// testCase is one rule of the contract.
type testCase struct {
	name string
	run  func(t *testing.T)
}

// lead is how far ahead a short expiry is set.
func (s *suite) lead() time.Duration {
	return max(minLead, 3*s.resolution)
}

// soon returns a short expiry: the entry is live for the next few calls and
// expires shortly after.
func (s *suite) soon() time.Time {
	return time.Now().Add(s.lead())
}

// later returns an expiry no subtest waits for.
func later() time.Time {
	return time.Now().Add(time.Hour)
}

// past returns an expiry that has passed by far more than any resolution.
func past() time.Time {
	return time.Now().Add(-time.Hour)
}

// waitPast sleeps until the storage must treat an entry expiring at exp as
// expired.
func (s *suite) waitPast(exp time.Time) {
	time.Sleep(time.Until(exp.Add(s.resolution)))
}

// stillLive reports whether an entry expiring at exp must still be live now:
// when the machine was too slow for Run to read the entry before its
// expiry, a subtest skips its "live before expiry" check rather than fail a
// correct storage.
func (s *suite) stillLive(exp time.Time) bool {
	return time.Now().Add(s.resolution).Before(exp)
}
