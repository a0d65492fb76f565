package directory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/sessionkit/sessionkit/sessions"
)

// Errors from the os package carry paths, and an entry's path spells its
// id (reversibly encoded). Every such error leaves this package through
// osError, which replaces the entry's name with "<id>" and keeps the rest:
// the root and folder still show where the problem is, errors.Is still finds
// fs.ErrPermission, fs.ErrNotExist and the like, and errors.As still finds
// the *fs.PathError or *os.LinkError.

// redactedName replaces an entry's file name in the paths of errors.
const redactedName = "<id>"

// osError wraps err, an error from the os package about the entry whose
// file name is name (empty when the error is not about an entry), as
// "sessionkit/directory: op: ..." with the name redacted.
func osError(op string, err error, name string) error {
	return fmt.Errorf("sessionkit/directory: %s: %w", op, redact(err, name))
}

func redact(err error, name string) error {
	if name == "" {
		return err
	}
	switch e := err.(type) {
	case *fs.PathError:
		return &fs.PathError{Op: e.Op, Path: hide(e.Path, name), Err: e.Err}
	case *os.LinkError:
		return &os.LinkError{Op: e.Op, Old: hide(e.Old, name), New: hide(e.New, name), Err: e.Err}
	}
	return err
}

func hide(path, name string) string { return strings.ReplaceAll(path, name, redactedName) }

// absent reports whether err from opening or removing an entry means the
// entry does not exist: the file is missing, or its folder is.
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// The common outcomes are preallocated: a miss is the hot path of a
// storage that random cookies reach.
var (
	// A plain miss is the sentinel itself, with no prefix to stack on it.
	errReadNotFound   = sessions.ErrNotFound
	errTouchNotFound  = sessions.ErrNotFound
	errReadBadHeader  = fmt.Errorf("sessionkit/directory: read: unreadable entry header: %w", sessions.ErrNotFound)
	errTouchBadHeader = fmt.Errorf("sessionkit/directory: touch: unreadable entry header: %w", sessions.ErrNotFound)

	// errStaleWriter is returned by the writer passed to a write function
	// when it is used after that function returned.
	errStaleWriter = fmt.Errorf("sessionkit/directory: write: %w", sessions.ErrWriterDone)
	// errStaleReader is the same for the reader passed to a read function.
	errStaleReader = errors.New("sessionkit/directory: read: reader used after the read function returned")
)

var (
	errCreateExists    = sessions.ErrExists // the sentinels themselves: a prefix would only stack
	errReplaceNotFound = sessions.ErrNotFound
)
