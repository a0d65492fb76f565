package bolt_test

import (
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/sessions"
)

// TestKeptWriterIsDetached: a write func that keeps its writer cannot write
// into the pooled buffer of a later call; the kept writer reports
// sessions.ErrWriterDone, and what the later call stored is intact.
func TestKeptWriterIsDetached(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "sessions.db"))
	ctx := t.Context()
	for _, call := range []struct {
		name  string
		write func(id string, write func(io.Writer) error) error
	}{
		{"Write", func(id string, w func(io.Writer) error) error { return s.Write(ctx, id, time.Time{}, w) }},
		{"Create", func(id string, w func(io.Writer) error) error { return s.Create(ctx, id, time.Time{}, w) }},
	} {
		var kept io.Writer
		if err := call.write(call.name+"-kept", func(w io.Writer) error { kept = w; _, err := io.WriteString(w, "first"); return err }); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(ctx, call.name+"-next", time.Time{}, func(w io.Writer) error {
			_, err := io.WriteString(w, "second")
			if _, lateErr := io.WriteString(kept, "LATE"); !errors.Is(lateErr, sessions.ErrWriterDone) {
				t.Errorf("%s: a writer used after its write func returned gave %v, want sessions.ErrWriterDone", call.name, lateErr)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var got []byte
		if err := s.Read(ctx, call.name+"-next", func(r io.Reader) error { var err error; got, err = io.ReadAll(r); return err }); err != nil || string(got) != "second" {
			t.Errorf("%s: Read = %q, %v; want %q", call.name, got, err, "second")
		}
	}
}
