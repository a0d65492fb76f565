package directory

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

var (
	_ sessions.ConditionalWriter = (*Store)(nil)
	_ sessions.ExpiryReader      = (*Store)(nil)
)

// Create stores what write produces as the content of id only if id is
// absent or expired, as sessions.ConditionalWriter describes; otherwise it
// returns an error wrapping sessions.ErrExists. An entry whose header is
// unreadable counts as absent, as it does for Read.
//
// The content goes to a temporary file first, as for Write; then, holding
// the lock of the entry's folder (see the package documentation), Create
// reads the entry's header and renames the temporary file over it only if
// the entry is not live. Every Store that shares the root, in this process
// or another, takes the same lock to rename or remove an entry, so none of
// them can change the entry between the check and the rename. The errors
// are Write's.
func (s *Store) Create(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.put(ctx, "create", id, "", expires, write, func(live bool) error {
		if live {
			return errCreateExists
		}
		return nil
	})
}

// Replace stores what write produces as the content of id only if id holds
// a live entry, as sessions.ConditionalWriter describes; otherwise it
// returns an error wrapping sessions.ErrNotFound and creates nothing (not
// even the entry's folder). The check and the rename happen under the
// folder's lock, as for Create, so a Replace racing an Invalidate in any
// process either lands before the removal or finds the entry gone. The
// errors are Write's.
func (s *Store) Replace(ctx context.Context, id string, expires time.Time, write func(io.Writer) error) error {
	return s.put(ctx, "replace", id, "", expires, write, func(live bool) error {
		if !live {
			return errReplaceNotFound
		}
		return nil
	})
}

// ReadWithExpiry is Read that also passes read the expiry of the entry (the
// zero Time: never), at the nanosecond precision of the entry's header. The
// expiry and the content come from the same file, opened once, so they
// belong together even when a Write renames new content into place
// meanwhile. Its errors are Read's.
func (s *Store) ReadWithExpiry(ctx context.Context, id string, read func(r io.Reader, expires time.Time) error) error {
	if err := sessions.CheckID(id); err != nil {
		return fmt.Errorf("sessionkit/directory: read: %w", err)
	}
	if err := s.begin(ctx, "read"); err != nil {
		return err
	}
	e, err := s.locate(id)
	if err != nil {
		return err
	}
	return readLive(e, read)
}
