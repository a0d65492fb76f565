//go:build windows || plan9 || solaris || aix || android

package bolt

import (
	"os"
	"time"
)

// prepareFile does nothing where bbolt locks otherwise than with flock:
// checking the file before bbolt locks it could read a writer's half-done
// commit. A damaged freelist page then makes bbolt.Open panic, which openDB
// recovers.
func prepareFile(*os.File, time.Duration) error { return nil }

// unlockFile does nothing: bbolt's locks here end when the file is closed.
func unlockFile(*os.File) error { return nil }
