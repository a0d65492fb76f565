package bolt

import (
	"os"
	"testing"
	"time"
)

// SkipFileCheckForTest makes Open hand the file to bbolt unchecked (the
// lock is still taken, by bbolt) until the test ends, so that a test can
// make bbolt.Open itself panic.
func SkipFileCheckForTest(t *testing.T) {
	old := prepare
	prepare = func(*os.File, time.Duration) error { return nil }
	t.Cleanup(func() { prepare = old })
}
