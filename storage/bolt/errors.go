package bolt

import (
	"errors"
	"fmt"

	"github.com/sessionkit/sessionkit/sessions"
)

// ErrCorrupt is wrapped by every error that comes from damaged data, which
// errors.Is finds:
//
//   - a value in the Store's bucket that is too short to hold the expiry
//     header, which only happens when something other than a Store wrote
//     into the bucket: only the call that met it fails (Read, ReadWithExpiry,
//     Touch, Create, Replace), and List and DeleteExpired skip such values
//     and leave them in place;
//   - a database file that is damaged: [Open] fails with it when the meta,
//     freelist or bucket-directory pages are damaged, and any call that
//     reaches a damaged page later (a branch or leaf page of the bucket)
//     fails with it and poisons the Store: from then on every call returns
//     an error wrapping ErrCorrupt, until Close, which releases the file.
//     Restore the file from a backup, or salvage what is readable with
//     bbolt's command line tool (bbolt check, bbolt compact), then open it
//     again.
var ErrCorrupt = errors.New("sessionkit/bolt: corrupt data")

// Errors returned as they are, so that a busy store does not allocate one
// per miss. None of them names an id: ids are secrets.
var (
	errNotFound = sessions.ErrNotFound // the sentinel itself: a prefix would only stack
	errClosed   = sessions.ErrClosed
	errCorrupt  = fmt.Errorf("%w: value shorter than its header", ErrCorrupt)
	errNoBucket = errors.New("sessionkit/bolt: the bucket of the store is missing from the database")
	errExists   = fmt.Errorf("sessionkit/bolt: %w", sessions.ErrExists)
)
