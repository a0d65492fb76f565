package memory_test

import (
	"context"
	"io"
	"testing"

	"github.com/sessionkit/sessionkit/sessions"
	"github.com/sessionkit/sessionkit/storage/memory"
)

// The error prefix rule of docs/storage-authors.md: errors that come from
// sessions go back as they are, with no backend prefix stacked on them.
func TestSessionsErrorsCarryNoStackedPrefix(t *testing.T) {
	s := memory.New(memory.WithSweepInterval(0))
	read := func(ctx context.Context, id string) error {
		return s.Read(ctx, id, func(io.Reader) error { return nil })
	}
	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"NotFound", func() error { return read(t.Context(), "absent") }, sessions.ErrNotFound},
		{"InvalidID", func() error { return read(t.Context(), "../x") }, sessions.CheckID("../x")},
		{"Closed", func() error { s.Close(); return read(t.Context(), "absent") }, sessions.ErrClosed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil || err.Error() != tc.want.Error() {
				t.Errorf("error %q, want %q", err, tc.want)
			}
		})
	}
}
